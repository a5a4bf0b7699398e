/* Unit tests for lib/slabs.c */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/slabs.h"

#define MiB (1024 * 1024)

static struct slabs *make(uint64_t limit, size_t item_max)
{
    struct slabs_config cfg = {
        .limit = limit, .item_size_max = item_max, .min_chunk = 90,
        .factor = 1.25,
    };
    struct slabs *s = slabs_create(&cfg);
    assert_non_null(s);
    return s;
}

static void classes_grow_by_factor(void **state)
{
    (void)state;
    struct slabs *s = make(64 * MiB, MiB);
    unsigned n = slabs_nclasses(s);
    assert_true(n > 30 && n <= SLABS_MAX_CLASSES);
    assert_int_equal(slabs_chunk_size(s, 1), 92); /* 90 rounded to 4 */
    for (unsigned i = 2; i <= n; i++) {
        size_t prev = slabs_chunk_size(s, i - 1), cur = slabs_chunk_size(s, i);
        assert_true(cur > prev);
        assert_int_equal(cur % 4, 0);
        if (i < n)
            assert_true(cur <= (size_t)((double)prev * 1.25) + 4);
    }
    assert_int_equal(slabs_chunk_size(s, n), MiB);
    assert_int_equal(slabs_largest_chunk(s), MiB);
    assert_int_equal(slabs_page_size(s), MiB);
    assert_int_equal(slabs_chunk_size(s, 0), 0);
    assert_int_equal(slabs_chunk_size(s, n + 1), 0);
    slabs_destroy(&s);
    assert_null(s);
}

static void explicit_class_sizes(void **state)
{
    (void)state;
    const uint32_t sizes[] = {96, 197, 304};
    struct slabs_config cfg = {
        .limit = 64 * MiB, .item_size_max = MiB, .min_chunk = 90,
        .factor = 1.25, .sizes = sizes, .nsizes = 3,
    };
    struct slabs *s = slabs_create(&cfg);
    assert_non_null(s);
    assert_int_equal(slabs_nclasses(s), 4);
    assert_int_equal(slabs_chunk_size(s, 1), 96);
    assert_int_equal(slabs_chunk_size(s, 2), 200); /* 8-byte aligned */
    assert_int_equal(slabs_chunk_size(s, 3), 304);
    assert_int_equal(slabs_chunk_size(s, 4), MiB); /* then the largest */
    assert_int_equal(slabs_class_for(s, 305), 4);
    void *p = slabs_alloc(s, 2, 150);
    assert_non_null(p);
    slabs_free(s, p, 2, 150);
    slabs_destroy(&s);

    /* sizes that do not rise once aligned, or reach the largest class */
    const uint32_t flat[] = {97, 100};
    cfg.sizes = flat;
    cfg.nsizes = 2;
    assert_null(slabs_create(&cfg));
    const uint32_t huge[] = {96, MiB};
    cfg.sizes = huge;
    assert_null(slabs_create(&cfg));
    uint32_t many[SLABS_MAX_CLASSES];
    for (unsigned i = 0; i < SLABS_MAX_CLASSES; i++)
        many[i] = 96 + 16 * i;
    cfg.sizes = many;
    cfg.nsizes = SLABS_MAX_CLASSES;
    assert_null(slabs_create(&cfg));
    cfg.nsizes = SLABS_MAX_CLASSES - 1;
    s = slabs_create(&cfg);
    assert_non_null(s);
    assert_int_equal(slabs_nclasses(s), SLABS_MAX_CLASSES);
    slabs_destroy(&s);
}

static void class_lookup(void **state)
{
    (void)state;
    struct slabs *s = make(64 * MiB, MiB);
    assert_int_equal(slabs_class_for(s, 0), 0);
    assert_int_equal(slabs_class_for(s, 1), 1);
    assert_int_equal(slabs_class_for(s, 92), 1);
    assert_int_equal(slabs_class_for(s, 93), 2);
    assert_int_equal(slabs_class_for(s, MiB), slabs_nclasses(s));
    assert_int_equal(slabs_class_for(s, MiB + 1), 0);
    for (size_t sz = 1; sz < 20000; sz += 7) {
        unsigned c = slabs_class_for(s, sz);
        assert_true(slabs_chunk_size(s, c) >= sz);
        assert_true(c == 1 || slabs_chunk_size(s, c - 1) < sz);
    }
    slabs_destroy(&s);
}

static void large_item_size_makes_large_pages(void **state)
{
    (void)state;
    struct slabs *s = make(64 * MiB, 4 * MiB);
    assert_int_equal(slabs_page_size(s), 4 * MiB);
    assert_int_equal(slabs_largest_chunk(s), 4 * MiB);
    slabs_destroy(&s);
}

static void limit_holds_within_a_class(void **state)
{
    (void)state;
    struct slabs *s = make(4 * MiB, MiB);
    unsigned c = slabs_class_for(s, 1000);
    size_t per_page = MiB / slabs_chunk_size(s, c);
    size_t got = 0;
    while (got < 10 * per_page && slabs_alloc(s, c, 1000) != NULL)
        got++;
    assert_int_equal(got, 4 * per_page);
    assert_int_equal(slabs_pages_total(s), 4);
    assert_int_equal(slabs_used(s), 4 * MiB);
    assert_true(slabs_used(s) <= slabs_limit(s));
    struct slabs_class_stats st;
    slabs_class_stats(s, c, &st);
    assert_int_equal(st.pages, 4);
    assert_int_equal(st.used_chunks, got);
    assert_int_equal(st.free_chunks, 0);
    assert_int_equal(st.requested, got * 1000);
    slabs_destroy(&s);
}

/* Resident set size of this process, from /proc. */
static uint64_t rss_bytes(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%llu %llu", &size, &resident), 2);
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Chunks of `size` bytes, each written over, until the limit refuses
 * one (or 100000); how many. */
static size_t fill_writing(struct slabs *s, size_t size)
{
    unsigned c = slabs_class_for(s, size);
    size_t got = 0;
    char *p;
    while (got < 100000 && (p = slabs_alloc(s, c, size)) != NULL) {
        memset(p, 'z', size);
        got++;
    }
    return got;
}

/* Prefaulting makes memory resident without taking pages from anyone:
 * the limit and the accounting are unchanged, and pages handed out after
 * it work as before. Asked for more than the limit, it stops there. */
static void prefault_changes_nothing_but_residency(void **state)
{
    (void)state;
    struct slabs *s = make(16 * MiB, MiB);
    uint64_t before = rss_bytes();
    slabs_prefault(s, 1024 * MiB, NULL);
    uint64_t after = rss_bytes();
    assert_true(after >= before + 12 * MiB);   /* most of the 16 MiB */
    assert_true(after <= before + 24 * MiB);   /* never much past it */
    assert_int_equal(slabs_pages_total(s), 0);
    fill_writing(s, 1000);
    assert_int_equal(slabs_pages_total(s), 16);
    assert_true(slabs_used(s) <= slabs_limit(s));
    slabs_destroy(&s);
}

/* A prefault told to stop makes nothing more resident. */
static void prefault_stops_when_told(void **state)
{
    (void)state;
    struct slabs *s = make(64 * MiB, MiB);
    _Atomic bool stop = true;
    uint64_t before = rss_bytes();
    slabs_prefault(s, 64 * MiB, &stop);
    assert_true(rss_bytes() < before + 4 * MiB);
    atomic_store(&stop, false);
    slabs_prefault(s, 64 * MiB, &stop);
    assert_true(rss_bytes() >= before + 48 * MiB);
    slabs_destroy(&s);
}

/* The way the maintainer uses it, every round: the bytes ahead of the
 * pages handed out so far become resident, calling again before more
 * pages are taken adds nothing, and it follows the pages as they are
 * taken, never past the limit. */
static void prefault_keeps_ahead_of_the_pages_taken(void **state)
{
    (void)state;
    struct slabs *s = make(32 * MiB, MiB);
    uint64_t before = rss_bytes();
    slabs_prefault(s, 8 * MiB, NULL);
    uint64_t first = rss_bytes();
    assert_true(first >= before + 6 * MiB && first <= before + 10 * MiB);
    slabs_prefault(s, 8 * MiB, NULL);
    assert_true(rss_bytes() <= first + MiB);
    unsigned c = slabs_class_for(s, MiB);
    for (int i = 0; i < 8; i++) /* pages inside what is there */
        assert_non_null(slabs_alloc(s, c, MiB));
    slabs_prefault(s, 8 * MiB, NULL);
    assert_true(rss_bytes() >= first + 6 * MiB);
    for (int i = 0; i < 4; i++)
        slabs_prefault(s, 64 * MiB, NULL);
    assert_true(rss_bytes() <= before + 34 * MiB); /* the limit, no more */
    assert_int_equal(slabs_pages_total(s), 8);
    slabs_destroy(&s);
}

struct prefault_arg {
    struct slabs *s;
    uint64_t bytes;
};

static void *prefault_thread(void *arg)
{
    struct prefault_arg *a = arg;
    slabs_prefault(a->s, a->bytes, NULL);
    return NULL;
}

/* The way a snapshot load uses it: pages are taken and written on one
 * thread while another prefaults part of the limit. Every page, inside
 * the prefaulted range and past it, ends up writable and handed out. */
static void prefault_beside_allocation(void **state)
{
    (void)state;
    struct slabs *s = make(64 * MiB, MiB);
    struct prefault_arg a = {s, 24 * MiB};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, prefault_thread, &a), 0);
    size_t got = fill_writing(s, 4000);
    unsigned c = slabs_class_for(s, 4000);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(slabs_pages_total(s), 64);
    assert_int_equal(got, 64 * (MiB / slabs_chunk_size(s, c)));
    slabs_destroy(&s);
}

static void free_and_reuse(void **state)
{
    (void)state;
    struct slabs *s = make(MiB, MiB);
    unsigned c = slabs_class_for(s, 100);
    char *a = slabs_alloc(s, c, 100), *b = slabs_alloc(s, c, 100);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    memset(a, 'x', 100);
    memset(b, 'y', 100);
    assert_true(slabs_owns(s, a));
    slabs_free(s, a, c, 100);
    char *again = slabs_alloc(s, c, 100);
    assert_ptr_equal(again, a);
    struct slabs_class_stats st;
    slabs_class_stats(s, c, &st);
    assert_int_equal(st.used_chunks, 2);
    assert_int_equal(st.used_chunks + st.free_chunks, st.chunks_per_page);
    slabs_destroy(&s);
}

/* slabs_alloc_many() hands out what slabs_alloc() would, under one lock:
 * distinct chunks in address order, stopping where the class runs out. */
static void alloc_many_stops_where_the_class_runs_out(void **state)
{
    (void)state;
    struct slabs *s = make(MiB, MiB); /* one page in all */
    unsigned c = slabs_class_for(s, 100);
    size_t chunk = slabs_chunk_size(s, c), per = MiB / chunk;
    size_t sizes[64];
    void *out[64];
    for (size_t i = 0; i < 64; i++)
        sizes[i] = 100 + i;
    assert_int_equal(slabs_alloc_many(s, c, sizes, 64, out), 64);
    for (size_t i = 1; i < 64; i++)
        assert_ptr_equal((char *)out[i], (char *)out[i - 1] + chunk);
    for (size_t i = 64; i < per - 10; i++)
        assert_non_null(slabs_alloc(s, c, 100));
    memset(out, 0, sizeof(out));
    assert_int_equal(slabs_alloc_many(s, c, sizes, 64, out), 10);
    assert_non_null(out[9]);
    assert_null(out[10]);
    struct slabs_class_stats st;
    slabs_class_stats(s, c, &st);
    assert_int_equal(st.used_chunks, per);
    assert_int_equal(st.free_chunks, 0);
    assert_int_equal(st.requested, 64 * 100 + 63 * 64 / 2 +
                                       (per - 74) * 100 + 10 * 100 + 45);
    assert_int_equal(slabs_alloc_many(s, c, sizes, 1, out), 0);
    assert_int_equal(slabs_alloc_many(s, 0, sizes, 1, out), 0);
    assert_int_equal(slabs_alloc_many(s, slabs_nclasses(s) + 1, sizes, 1, out),
                     0);
    slabs_destroy(&s);
}

/* A new page's chunks are handed out without being chained first; a
 * move of that page still counts the ones never handed out as free, and
 * none of them is handed out once the page has left. */
static void moving_a_page_never_used_in_full(void **state)
{
    (void)state;
    struct slabs *s = make(8 * MiB, MiB);
    unsigned a = slabs_class_for(s, 100), b = slabs_class_for(s, 1000);
    size_t per = MiB / slabs_chunk_size(s, a);
    char *first[3];
    for (size_t i = 0; i < per; i++)
        assert_non_null(slabs_alloc(s, a, 100)); /* page 0, full */
    for (int i = 0; i < 3; i++)
        first[i] = slabs_alloc(s, a, 100);       /* page 1, 3 used */
    struct slabs_class_stats st;
    slabs_class_stats(s, a, &st);
    assert_int_equal(st.pages, 2);
    assert_int_equal(st.free_chunks, per - 3);
    /* the move picks the first page of a; take the second one instead by
     * letting the first move end, then moving again */
    assert_true(slabs_move_start(s, a, b));
    char *page;
    size_t size;
    uint32_t n;
    assert_true(slabs_move_page(s, &page, &size, &n));
    assert_ptr_not_equal(page, first[0]);
    for (uint32_t i = 0; i < n; i++)
        slabs_free(s, page + (size_t)i * size, a, 100);
    assert_true(slabs_move_try_finish(s));
    assert_true(slabs_move_start(s, a, b));
    assert_true(slabs_move_page(s, &page, &size, &n));
    assert_ptr_equal(page, first[0]);
    assert_false(slabs_move_try_finish(s)); /* three still in use */
    for (int i = 0; i < 3; i++)
        slabs_free(s, first[i], a, 100);
    assert_true(slabs_move_try_finish(s));
    slabs_class_stats(s, a, &st);
    assert_int_equal(st.pages, 0);
    assert_int_equal(st.used_chunks, 0);
    assert_int_equal(st.free_chunks, 0);
    slabs_class_stats(s, b, &st);
    assert_int_equal(st.pages, 2);
    /* a takes a page of its own again, not the moved one */
    char *again = slabs_alloc(s, a, 100);
    assert_non_null(again);
    assert_true(again < page || again >= page + MiB);
    slabs_destroy(&s);
}

static void refs_round_trip(void **state)
{
    (void)state;
    struct slabs *s = make(8 * MiB, MiB);
    assert_int_equal(slabs_ref(s, NULL), 0);
    assert_null(slabs_ptr(s, 0));
    unsigned c = slabs_nclasses(s);
    for (int i = 0; i < 8; i++) {
        void *p = slabs_alloc(s, c, MiB);
        assert_non_null(p);
        uint32_t r = slabs_ref(s, p);
        assert_int_not_equal(r, 0);
        assert_ptr_equal(slabs_ptr(s, r), p);
    }
    assert_null(slabs_alloc(s, c, MiB));
    slabs_destroy(&s);
}

/* With the budget spent by one class, a class with no page still gets
 * one (memcached's rule), once: its second page, and a third class's
 * second, are refused. */
static void first_page_past_the_limit(void **state)
{
    (void)state;
    struct slabs *s = make(2 * MiB, MiB);
    unsigned a = slabs_class_for(s, 1000), b = slabs_class_for(s, 5000);
    while (slabs_alloc(s, a, 1000) != NULL)
        ;
    assert_int_equal(slabs_used(s), 2 * MiB);
    size_t per_page = MiB / slabs_chunk_size(s, b), got = 0;
    assert_null(slabs_alloc(s, b, 5000)); /* not for any other use */
    while (got < 3 * per_page && slabs_alloc_store(s, b, 5000) != NULL)
        got++;
    assert_int_equal(got, per_page);
    assert_int_equal(slabs_used(s), 3 * MiB);
    assert_null(slabs_alloc_store(s, a, 1000));
    /* The pages past the limit are bounded by the number of classes. */
    unsigned granted = 0;
    for (unsigned c = 1; c <= slabs_nclasses(s); c++)
        if (c != a && c != b && slabs_alloc_store(s, c, 1) != NULL)
            granted++;
    assert_int_equal(granted, slabs_nclasses(s) - 2);
    assert_true(slabs_used(s) <= 2 * MiB + slabs_nclasses(s) * (uint64_t)MiB);
    assert_false(slabs_charge(s, 1));
    slabs_destroy(&s);
}

static void charges_share_the_budget(void **state)
{
    (void)state;
    struct slabs *s = make(2 * MiB, MiB);
    assert_true(slabs_charge(s, MiB / 2));
    assert_false(slabs_charge(s, 2 * MiB));
    assert_int_equal(slabs_charged(s), MiB / 2);
    unsigned c = slabs_nclasses(s);
    assert_non_null(slabs_alloc(s, c, 10));
    /* 1.5 MiB used: a second page would break the limit. */
    assert_null(slabs_alloc(s, c, 10));
    slabs_uncharge(s, MiB / 2);
    assert_non_null(slabs_alloc(s, c, 10));
    assert_int_equal(slabs_used(s), 2 * MiB);
    assert_false(slabs_charge(s, 1));
    slabs_destroy(&s);
}

static void limit_changes(void **state)
{
    (void)state;
    struct slabs_config cfg = {
        .limit = MiB, .reserve = 4 * MiB, .item_size_max = MiB,
        .min_chunk = 64, .factor = 2.0,
    };
    struct slabs *s = slabs_create(&cfg);
    unsigned c = slabs_nclasses(s);
    assert_non_null(slabs_alloc(s, c, 1));
    assert_null(slabs_alloc(s, c, 1));
    assert_true(slabs_set_limit(s, 2 * MiB));
    assert_int_equal(slabs_limit(s), 2 * MiB);
    assert_non_null(slabs_alloc(s, c, 1));
    assert_false(slabs_set_limit(s, 64 * MiB));
    slabs_destroy(&s);
}

static void bad_configs_are_refused(void **state)
{
    (void)state;
    struct slabs_config cfg = {
        .limit = MiB, .item_size_max = MiB, .min_chunk = 64, .factor = 1.0,
    };
    assert_null(slabs_create(&cfg));
    cfg.factor = 1.25;
    cfg.min_chunk = 0;
    assert_null(slabs_create(&cfg));
    slabs_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classes_grow_by_factor),
        cmocka_unit_test(explicit_class_sizes),
        cmocka_unit_test(class_lookup),
        cmocka_unit_test(large_item_size_makes_large_pages),
        cmocka_unit_test(limit_holds_within_a_class),
        cmocka_unit_test(first_page_past_the_limit),
        cmocka_unit_test(free_and_reuse),
        cmocka_unit_test(alloc_many_stops_where_the_class_runs_out),
        cmocka_unit_test(moving_a_page_never_used_in_full),
        cmocka_unit_test(prefault_changes_nothing_but_residency),
        cmocka_unit_test(prefault_stops_when_told),
        cmocka_unit_test(prefault_keeps_ahead_of_the_pages_taken),
        cmocka_unit_test(prefault_beside_allocation),
        cmocka_unit_test(refs_round_trip),
        cmocka_unit_test(charges_share_the_budget),
        cmocka_unit_test(limit_changes),
        cmocka_unit_test(bad_configs_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
