/* Unit tests for lib/size_hist.c: off by default, 32-byte buckets with
 * their upper bounds, items over the limit, off and on again keeping exact
 * figures, and adders racing removers and a switcher (run under TSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include "lib/size_hist.h"

#define MAX_ROWS 64

struct rows {
    size_t n;
    size_t size[MAX_ROWS];
    uint64_t count[MAX_ROWS];
};

static void collect(size_t size, uint64_t count, void *arg)
{
    struct rows *r = arg;
    assert_true(r->n < MAX_ROWS);
    r->size[r->n] = size;
    r->count[r->n] = count;
    r->n++;
}

static struct rows report(const struct size_hist *h)
{
    struct rows r = {0};
    size_hist_report(h, collect, &r);
    return r;
}

static void off_until_enabled(void **state)
{
    (void)state;
    struct size_hist *h = size_hist_create(1024);
    assert_non_null(h);
    assert_false(size_hist_enabled(h));
    assert_false(size_hist_add(h, 100));
    assert_int_equal(report(h).n, 0);
    assert_true(size_hist_enable(h));
    assert_true(size_hist_enabled(h));
    assert_int_equal(report(h).n, 0);
    size_hist_destroy(&h);
    assert_null(h);
    size_hist_destroy(&h);
    size_hist_destroy(NULL);
}

static void buckets_round_up_to_32(void **state)
{
    (void)state;
    struct size_hist *h = size_hist_create(1024);
    assert_true(size_hist_enable(h));
    /* 1..32 -> 32, 33..64 -> 64, 0 -> 0 */
    const size_t sizes[] = {1, 32, 33, 64, 65, 0, 1024};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        assert_true(size_hist_add(h, sizes[i]));
    struct rows r = report(h);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.size[0], 0);
    assert_int_equal(r.count[0], 1);
    assert_int_equal(r.size[1], 32);
    assert_int_equal(r.count[1], 2);
    assert_int_equal(r.size[2], 64);
    assert_int_equal(r.count[2], 2);
    assert_int_equal(r.size[3], 96);
    assert_int_equal(r.count[3], 1);
    assert_int_equal(r.size[4], 1024);
    assert_int_equal(r.count[4], 1);
    size_hist_remove(h, 33);
    size_hist_remove(h, 64);
    r = report(h);
    assert_int_equal(r.n, 4);   /* the 64 bucket is empty and left out */
    assert_int_equal(r.size[2], 96);
    size_hist_destroy(&h);
}

static void larger_than_the_limit_is_not_counted(void **state)
{
    (void)state;
    struct size_hist *h = size_hist_create(1000); /* buckets up to 992 */
    assert_true(size_hist_enable(h));
    assert_true(size_hist_add(h, 992));
    assert_false(size_hist_add(h, 993));
    assert_false(size_hist_add(h, 1 << 20));
    struct rows r = report(h);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.size[0], 992);
    size_hist_destroy(&h);
}

static void off_and_on_again_stays_exact(void **state)
{
    (void)state;
    struct size_hist *h = size_hist_create(4096);
    assert_true(size_hist_enable(h));
    assert_true(size_hist_add(h, 100));    /* 128 */
    assert_true(size_hist_add(h, 200));    /* 224 */
    size_hist_disable(h);
    assert_false(size_hist_enabled(h));
    assert_int_equal(report(h).n, 0);
    assert_false(size_hist_add(h, 300));   /* not counted, not marked */
    size_hist_remove(h, 200);              /* marked: still taken away */
    assert_true(size_hist_enable(h));
    assert_true(size_hist_enable(h));      /* on again while on */
    struct rows r = report(h);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.size[0], 128);
    assert_int_equal(r.count[0], 1);
    size_hist_destroy(&h);
}

#define RACE_ROUNDS 20000

struct racer {
    struct size_hist *h;
    size_t bytes;
    uint64_t kept;      /* counted adds never removed */
};

/* Adds and removes its own marked items, as the cache does. */
static void *add_remove(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        bool a = size_hist_add(r->h, r->bytes);
        bool b = size_hist_add(r->h, r->bytes);
        if (a)
            size_hist_remove(r->h, r->bytes);
        r->kept += b;
    }
    return NULL;
}

static void *switcher(void *arg)
{
    struct size_hist *h = arg;
    for (int i = 0; i < RACE_ROUNDS / 10; i++) {
        size_hist_disable(h);
        assert_true(size_hist_enable(h));
        struct rows r = report(h);
        assert_true(r.n <= 2);
    }
    return NULL;
}

static void adders_race_removers_and_switcher(void **state)
{
    (void)state;
    struct size_hist *h = size_hist_create(1 << 20);
    assert_true(size_hist_enable(h));
    struct racer r[2] = {{h, 100, 0}, {h, 5000, 0}};
    pthread_t t[3];
    assert_int_equal(pthread_create(&t[0], NULL, add_remove, &r[0]), 0);
    assert_int_equal(pthread_create(&t[1], NULL, add_remove, &r[1]), 0);
    assert_int_equal(pthread_create(&t[2], NULL, switcher, h), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_true(size_hist_enable(h));
    struct rows rows = report(h);
    assert_int_equal(rows.n, 2);
    assert_int_equal(rows.size[0], 128);
    assert_int_equal(rows.count[0], r[0].kept);
    assert_int_equal(rows.size[1], 5024);
    assert_int_equal(rows.count[1], r[1].kept);
    size_hist_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_until_enabled),
        cmocka_unit_test(buckets_round_up_to_32),
        cmocka_unit_test(larger_than_the_limit_is_not_counted),
        cmocka_unit_test(off_and_on_again_stays_exact),
        cmocka_unit_test(adders_race_removers_and_switcher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
