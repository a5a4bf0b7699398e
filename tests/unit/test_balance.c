/* Unit tests for lib/balance.c: no decision before the window fills, a
 * page from the oldest victims to the youngest evicting class, the ratio
 * that leaves close ages alone, spare memory given first, a source
 * keeping two pages, pages stopping once the class stops evicting, and
 * a burst left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/balance.h"

#define NCLS 4

/* Figures for NCLS classes, mostly idle: two pages, full, old items. */
struct sample {
    struct balance_class cls[NCLS + 1];
};

static void idle(struct sample *s)
{
    for (unsigned i = 1; i <= NCLS; i++)
        s->cls[i] = (struct balance_class){
            .victim_age = 0, .pages = 2, .per_page = 100};
}

/* Class cls evicts this sample: its counter moves on. */
static void evict(struct sample *s, unsigned cls, uint32_t age)
{
    s->cls[cls].evictions += 10;
    s->cls[cls].victim_age = age;
}

/* A balancer over NCLS idle classes but class 2, which holds `pages`
 * pages of items last read `age` seconds ago. */
static struct balance *with_old_class(struct sample *s, unsigned window,
                                      uint32_t age, uint64_t pages)
{
    struct balance *b = balance_create(NCLS, window, 0.8);
    assert_non_null(b);
    idle(s);
    s->cls[2] = (struct balance_class){.victim_age = age, .pages = pages,
                                       .per_page = 100};
    return b;
}

/* Feed n samples of the same shape (evictor evicting at young_age, the
 * rest as set), returning the last decision. */
static bool feed(struct balance *b, struct sample *s, unsigned n,
                 unsigned evictor, uint32_t young_age, unsigned *src,
                 unsigned *dst)
{
    bool moved = false;
    for (unsigned i = 0; i < n; i++) {
        if (evictor != 0)
            evict(s, evictor, young_age);
        moved = balance_sample(b, s->cls, src, dst);
    }
    return moved;
}

static void refuses_bad_arguments(void **state)
{
    (void)state;
    assert_null(balance_create(0, 30, 0.8));
    assert_null(balance_create(NCLS, 0, 0.8));
    assert_null(balance_create(NCLS, BALANCE_WINDOW_MAX + 1, 0.8));
    assert_null(balance_create(NCLS, 30, 0));
    assert_null(balance_create(NCLS, 30, 1.5));
    struct balance *b = balance_create(NCLS, 30, 1.0);
    assert_non_null(b);
    balance_destroy(&b);
    assert_null(b);
    balance_destroy(&b);
}

/* Class 1 evicts items 5 s old while class 2 keeps 100 s old ones on
 * ten pages: once the window has filled, a page goes from 2 to 1. */
static void oldest_gives_to_youngest_evicting(void **state)
{
    (void)state;
    struct sample s;
    unsigned src = 0, dst = 0;
    struct balance *b = with_old_class(&s, 5, 100, 10);
    /* nothing until the window (5 samples) has filled; the first sample
     * only primes the eviction counters */
    assert_false(feed(b, &s, 4, 1, 5, &src, &dst));
    assert_true(feed(b, &s, 1, 1, 5, &src, &dst));
    assert_int_equal(src, 2);
    assert_int_equal(dst, 1);
    balance_destroy(&b);
}

/* Victims 90 s old against 100 s: within the ratio, nothing moves. */
static void close_ages_move_nothing(void **state)
{
    (void)state;
    struct sample s;
    unsigned src, dst;
    struct balance *b = with_old_class(&s, 5, 100, 10);
    assert_false(feed(b, &s, 20, 1, 90, &src, &dst));
    balance_destroy(&b);
}

/* Two pages' worth of free chunks, no evictions: that class gives, even
 * with younger items than another, and at once, without waiting for the
 * window (the first sample only primes the counters). */
static void spare_memory_gives_first(void **state)
{
    (void)state;
    struct sample s;
    unsigned src = 0, dst = 0;
    struct balance *b = with_old_class(&s, 30, 1000, 10);
    s.cls[3] = (struct balance_class){.victim_age = 10, .pages = 5,
                                      .free_chunks = 250, .per_page = 100};
    assert_false(feed(b, &s, 1, 1, 5, &src, &dst));
    assert_true(feed(b, &s, 1, 1, 5, &src, &dst));
    assert_int_equal(src, 3);
    assert_int_equal(dst, 1);
    /* one page's worth is not spare */
    s.cls[3].free_chunks = 150;
    assert_false(feed(b, &s, 1, 1, 5, &src, &dst));
    balance_destroy(&b);
}

/* A class keeps two pages: with only two, it never gives. */
static void source_keeps_two_pages(void **state)
{
    (void)state;
    struct sample s;
    unsigned src, dst;
    struct balance *b = with_old_class(&s, 4, 1000, 2);
    assert_false(feed(b, &s, 10, 1, 5, &src, &dst));
    balance_destroy(&b);
}

/* Once the class stops evicting, no more pages go to it, although the
 * window still holds its evictions. */
static void pages_stop_with_the_evictions(void **state)
{
    (void)state;
    struct sample s;
    unsigned src, dst;
    struct balance *b = with_old_class(&s, 10, 100, 40);
    assert_true(feed(b, &s, 12, 1, 5, &src, &dst));
    assert_false(feed(b, &s, 1, 0, 0, &src, &dst));
    balance_destroy(&b);
}

/* Evictions in half the window or fewer: a burst, not a trend. */
static void a_burst_moves_nothing(void **state)
{
    (void)state;
    struct sample s;
    unsigned src, dst;
    struct balance *b = with_old_class(&s, 10, 100, 40);
    assert_false(feed(b, &s, 12, 0, 0, &src, &dst));
    assert_false(feed(b, &s, 5, 1, 5, &src, &dst));
    assert_true(feed(b, &s, 1, 1, 5, &src, &dst));
    balance_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_bad_arguments),
        cmocka_unit_test(oldest_gives_to_youngest_evicting),
        cmocka_unit_test(close_ages_move_nothing),
        cmocka_unit_test(spare_memory_gives_first),
        cmocka_unit_test(source_keeps_two_pages),
        cmocka_unit_test(pages_stop_with_the_evictions),
        cmocka_unit_test(a_burst_moves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
