/* Unit tests for lib/histogram.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h> /* NAN */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/histogram.h"

#define LAST (HISTOGRAM_BUCKETS - 1)

static const double PERCENTILES[] = {0,  1,  10, 25,   50,    75,
                                     90, 95, 99, 99.9, 99.99, 100};
#define N_PERCENTILES (sizeof(PERCENTILES) / sizeof(PERCENTILES[0]))

/* xorshift64*: fixed seeds make every run the same. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Exact nearest-rank percentile of a sorted array. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    double r = p / 100.0 * (double)n;
    size_t rank = r < 1 ? 1 : r > (double)n ? n : (size_t)r;
    if ((double)rank < r && rank < n)
        rank++; /* ceil */
    return sorted[rank - 1];
}

static void snapshot_of(struct histogram_snapshot *s,
                        const struct histogram *h)
{
    histogram_snapshot_init(s);
    histogram_merge(s, h);
}

/* Feed values to a histogram and check every percentile against the
 * sorted values, within the documented 1/32. */
static void check_percentiles(uint64_t *values, size_t n)
{
    struct histogram h;
    struct histogram_snapshot s;
    histogram_init(&h);
    for (size_t i = 0; i < n; i++)
        histogram_record(&h, values[i]);
    snapshot_of(&s, &h);
    qsort(values, n, sizeof(*values), cmp_u64);
    assert_int_equal(histogram_count(&s), n);
    assert_int_equal(histogram_max(&s), values[n - 1]);
    for (size_t k = 0; k < N_PERCENTILES; k++) {
        uint64_t want = exact_percentile(values, n, PERCENTILES[k]);
        uint64_t got = histogram_percentile(&s, PERCENTILES[k]);
        uint64_t diff = got > want ? got - want : want - got;
        if (diff * 32 > want)
            fail_msg("p%g: got %llu want %llu", PERCENTILES[k],
                     (unsigned long long)got, (unsigned long long)want);
    }
}

static void bucket_index_at_boundaries(void **state)
{
    (void)state;
    assert_int_equal(histogram_bucket_index(0), 0);
    assert_int_equal(histogram_bucket_index(1), 1);
    assert_int_equal(histogram_bucket_index(15), 15);
    assert_int_equal(histogram_bucket_index(16), 16);
    assert_int_equal(histogram_bucket_index(31), 31);
    assert_int_equal(histogram_bucket_index(32), 32); /* first 2-wide */
    assert_int_equal(histogram_bucket_index(33), 32);
    assert_int_equal(histogram_bucket_index(34), 33);
    assert_int_equal(histogram_bucket_index(63), 47);
    assert_int_equal(histogram_bucket_index(64), 48);
    for (unsigned e = 5; e < HISTOGRAM_RANGE_BITS; e++) {
        uint64_t p = UINT64_C(1) << e;
        size_t first = (size_t)(e - 3) * 16; /* (shift + 1) * 16 */
        assert_int_equal(histogram_bucket_index(p), first);
        assert_int_equal(histogram_bucket_index(p - 1), first - 1);
        assert_int_equal(histogram_bucket_lowest(first), p);
    }
    assert_int_equal(HISTOGRAM_BUCKETS, 592);
    assert_int_equal(histogram_bucket_index(HISTOGRAM_MAX_TRACKABLE), LAST);
    assert_int_equal(histogram_bucket_index(HISTOGRAM_MAX_TRACKABLE + 1),
                     LAST);
    assert_int_equal(histogram_bucket_index(UINT64_MAX), LAST);
    assert_int_equal(histogram_bucket_lowest(LAST), UINT64_C(31) << 35);
    assert_true(histogram_bucket_highest(LAST) == UINT64_MAX);
}

static void buckets_tile_the_range(void **state)
{
    (void)state;
    assert_int_equal(histogram_bucket_lowest(0), 0);
    for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
        uint64_t lo = histogram_bucket_lowest(i);
        uint64_t hi = histogram_bucket_highest(i);
        assert_true(lo <= hi);
        assert_int_equal(histogram_bucket_index(lo), i);
        assert_int_equal(histogram_bucket_index(hi), i);
        if (i + 1 < HISTOGRAM_BUCKETS)
            assert_true(histogram_bucket_lowest(i + 1) == hi + 1);
        if (i >= 32 && i < LAST) /* width <= lowest / 16 */
            assert_true((hi - lo + 1) * 16 <= lo);
        else if (i < 32)
            assert_true(lo == hi);
    }
}

static void empty_snapshot_reports_zero(void **state)
{
    (void)state;
    struct histogram h;
    struct histogram_snapshot s;
    uint64_t bounds[] = {0, 1000}, cum[2] = {9, 9};
    histogram_init(&h);
    snapshot_of(&s, &h);
    assert_int_equal(histogram_count(&s), 0);
    assert_int_equal(histogram_sum(&s), 0);
    assert_int_equal(histogram_max(&s), 0);
    assert_int_equal(histogram_percentile(&s, 50), 0);
    assert_int_equal(histogram_percentile(&s, 100), 0);
    assert_int_equal(histogram_buckets(&s, bounds, 2, cum), 2);
    assert_int_equal(cum[0], 0);
    assert_int_equal(cum[1], 0);
}

static void count_sum_max(void **state)
{
    (void)state;
    struct histogram h;
    struct histogram_snapshot s;
    histogram_init(&h);
    histogram_record(&h, 5);
    histogram_record(&h, 1000000);
    histogram_record(&h, 0);
    histogram_record(&h, 123456);
    snapshot_of(&s, &h);
    assert_int_equal(histogram_count(&s), 4);
    assert_int_equal(histogram_sum(&s), 1123461);
    assert_int_equal(histogram_max(&s), 1000000);
    assert_int_equal(s.buckets[histogram_bucket_index(123456)], 1);
    assert_int_equal(s.buckets[0], 1);
    assert_int_equal(s.buckets[5], 1);
}

static void small_values_are_exact(void **state)
{
    (void)state;
    uint64_t values[32 * 7];
    for (size_t i = 0; i < 32 * 7; i++)
        values[i] = (i * 13) % 32;
    check_percentiles(values, 32 * 7); /* 1/32 of < 32 forces exact */
}

static void percentile_extremes(void **state)
{
    (void)state;
    struct histogram h;
    struct histogram_snapshot s;
    histogram_init(&h);
    histogram_record(&h, 1000);  /* bucket [992, 1023], middle 1008 */
    histogram_record(&h, 77777); /* the max, reported exactly */
    snapshot_of(&s, &h);
    assert_int_equal(histogram_percentile(&s, 0), 1008);
    assert_int_equal(histogram_percentile(&s, -5), 1008);
    assert_int_equal(histogram_percentile(&s, NAN), 1008);
    assert_int_equal(histogram_percentile(&s, 50), 1008);
    assert_int_equal(histogram_percentile(&s, 50.1), 77777);
    assert_int_equal(histogram_percentile(&s, 100), 77777);
    assert_int_equal(histogram_percentile(&s, 250), 77777);

    histogram_reset(&h); /* one value: the middle is clamped to it */
    histogram_record(&h, 992);
    histogram_record(&h, 992);
    snapshot_of(&s, &h);
    assert_int_equal(histogram_percentile(&s, 1), 992);
}

static void percentile_uniform_random(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint64_t *v = malloc(N * sizeof(*v)), seed = 0x9e3779b97f4a7c15u;
    assert_non_null(v);
    for (size_t i = 0; i < N; i++)
        v[i] = rng_next(&seed) % 5000000; /* 0 .. 5 ms */
    check_percentiles(v, N);
    for (size_t i = 0; i < N; i++) /* narrow: many values per bucket */
        v[i] = 20000 + rng_next(&seed) % 700;
    check_percentiles(v, N);
    free(v);
}

static void percentile_skewed(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint64_t *v = malloc(N * sizeof(*v)), seed = 12345;
    assert_non_null(v);
    for (size_t i = 0; i < N; i++) { /* log-uniform, 1 ns .. ~17 s */
        uint64_t r = rng_next(&seed);
        unsigned e = (unsigned)(r % 34);
        v[i] = (UINT64_C(1) << e) + ((r >> 8) & ((UINT64_C(1) << e) - 1));
    }
    check_percentiles(v, N);
    for (size_t i = 0; i < N; i++) { /* fast mode, 0.5% slow tail */
        uint64_t r = rng_next(&seed);
        v[i] = r % 200 == 0 ? 40000000 + r % 9000000 : 3000 + r % 400;
    }
    check_percentiles(v, N);
    for (size_t i = 0; i < N; i++) /* all equal */
        v[i] = 123457;
    check_percentiles(v, N);
    free(v);
}

static void huge_values_share_last_bucket(void **state)
{
    (void)state;
    struct histogram h;
    struct histogram_snapshot s;
    uint64_t big = UINT64_C(1) << 50, bounds[] = {UINT64_C(1) << 45, big};
    uint64_t cum[2];
    histogram_init(&h);
    histogram_record(&h, HISTOGRAM_MAX_TRACKABLE + 1);
    histogram_record(&h, big);
    snapshot_of(&s, &h);
    assert_int_equal(s.buckets[LAST], 2);
    assert_true(histogram_sum(&s) == big + HISTOGRAM_MAX_TRACKABLE + 1);
    assert_true(histogram_max(&s) == big);
    assert_true(histogram_percentile(&s, 100) == big);
    /* below the max, the last bucket may hold larger values: left out */
    assert_int_equal(histogram_buckets(&s, bounds, 2, cum), 2);
    assert_int_equal(cum[0], 0);
    assert_int_equal(cum[1], 2);
}

static void merge_equals_one_histogram(void **state)
{
    (void)state;
    enum { WORKERS = 4, N = 20000 };
    struct histogram *parts = calloc(WORKERS, sizeof(*parts));
    struct histogram *all = calloc(1, sizeof(*all));
    struct histogram_snapshot *merged = calloc(2, sizeof(*merged));
    uint64_t seed = 777;
    assert_non_null(parts);
    assert_non_null(all);
    assert_non_null(merged);
    histogram_init(all);
    for (size_t w = 0; w < WORKERS; w++) {
        histogram_init(&parts[w]);
        for (size_t i = 0; i < N; i++) {
            uint64_t v = rng_next(&seed) % ((UINT64_C(1000) << (w * 4)));
            histogram_record(&parts[w], v);
            histogram_record(all, v);
        }
    }
    histogram_snapshot_init(&merged[0]);
    for (size_t w = 0; w < WORKERS; w++)
        histogram_merge(&merged[0], &parts[w]);
    snapshot_of(&merged[1], all);
    assert_int_equal(histogram_count(&merged[0]), WORKERS * N);
    assert_memory_equal(&merged[0], &merged[1], sizeof(merged[0]));
    free(merged);
    free(all);
    free(parts);
}

static void reset_empties(void **state)
{
    (void)state;
    struct histogram h;
    struct histogram_snapshot s, empty;
    histogram_init(&h);
    for (uint64_t v = 0; v < 100000; v += 7)
        histogram_record(&h, v * v);
    histogram_reset(&h);
    snapshot_of(&s, &h);
    histogram_snapshot_init(&empty);
    assert_memory_equal(&s, &empty, sizeof(s));
    histogram_record(&h, 42);
    snapshot_of(&s, &h);
    assert_int_equal(histogram_count(&s), 1);
    assert_int_equal(histogram_sum(&s), 42);
    assert_int_equal(histogram_max(&s), 42);
}

/* Prometheus-style bounds, 1-2-5 steps from 1 us to 10 s, in ns. */
static size_t one_two_five_bounds(uint64_t *bounds)
{
    size_t n = 0;
    for (uint64_t decade = 1000; decade <= UINT64_C(1000000000); decade *= 10)
        for (unsigned k = 0; k < 3; k++)
            bounds[n++] = decade * (k == 0 ? 1 : k == 1 ? 2 : 5);
    bounds[n++] = UINT64_C(10000000000);
    return n;
}

static void cumulative_buckets(void **state)
{
    (void)state;
    enum { N = 50000 };
    struct histogram h;
    struct histogram_snapshot s;
    uint64_t *v = malloc(N * sizeof(*v)), seed = 4242;
    uint64_t bounds[32], cum[32];
    assert_non_null(v);
    histogram_init(&h);
    for (size_t i = 0; i < N; i++) { /* ~1 us .. ~1 s, log-uniform */
        uint64_t r = rng_next(&seed);
        unsigned e = 10 + (unsigned)(r % 20);
        v[i] = (UINT64_C(1) << e) + ((r >> 8) & ((UINT64_C(1) << e) - 1));
        histogram_record(&h, v[i]);
    }
    snapshot_of(&s, &h);
    qsort(v, N, sizeof(*v), cmp_u64);
    size_t n = one_two_five_bounds(bounds);
    assert_int_equal(histogram_buckets(&s, bounds, n, cum), n);
    for (size_t k = 0; k < n; k++) {
        /* counted: all values <= b, less at most those in (b*16/17, b] */
        size_t at_most = 0, surely = 0;
        while (at_most < N && v[at_most] <= bounds[k])
            at_most++;
        while (surely < N && v[surely] <= bounds[k] * 16 / 17)
            surely++;
        assert_true(cum[k] <= at_most);
        assert_true(cum[k] >= surely);
        if (k > 0)
            assert_true(cum[k] >= cum[k - 1]);
    }
    assert_int_equal(cum[n - 1], histogram_count(&s)); /* 10 s >= max */
    free(v);
}

static void cumulative_buckets_exact_at_bucket_edges(void **state)
{
    (void)state;
    struct histogram h;
    struct histogram_snapshot s;
    uint64_t bounds[30], cum[30];
    histogram_init(&h);
    for (uint64_t v = 0; v < 3000000; v += 3)
        histogram_record(&h, v);
    snapshot_of(&s, &h);
    for (size_t k = 0; k < 30; k++) /* 2^k - 1: highest of a bucket */
        bounds[k] = (UINT64_C(1) << k) - 1;
    assert_int_equal(histogram_buckets(&s, bounds, 30, cum), 30);
    for (size_t k = 0; k < 30; k++) {
        uint64_t want = bounds[k] >= 2999997 ? 1000000 : bounds[k] / 3 + 1;
        assert_int_equal(cum[k], want);
    }
}

static void cumulative_buckets_stop_at_descending_bound(void **state)
{
    (void)state;
    struct histogram h;
    struct histogram_snapshot s;
    uint64_t bounds[] = {10, 100, 50, 1000}, cum[4] = {0, 0, 99, 99};
    histogram_init(&h);
    histogram_record(&h, 5);
    histogram_record(&h, 500);
    snapshot_of(&s, &h);
    assert_int_equal(histogram_buckets(&s, bounds, 4, cum), 2);
    assert_int_equal(cum[0], 1);
    assert_int_equal(cum[1], 1);
    assert_int_equal(cum[2], 99); /* untouched */
}

/* One owner records, the test thread merges meanwhile (run under TSan). */
struct recorder {
    struct histogram h;
    uint64_t n;
    atomic_bool done;
};

static void *record_loop(void *arg)
{
    struct recorder *r = arg;
    for (uint64_t i = 0; i < r->n; i++)
        histogram_record(&r->h, (i * 7919) % 10000000);
    atomic_store_explicit(&r->done, true, memory_order_release);
    return NULL;
}

/* What a merge seen mid-recording must still satisfy. */
static void check_live_snapshot(const struct histogram_snapshot *s,
                                uint64_t *last_count, uint64_t n)
{
    uint64_t low_sum = 0, top = 0;
    assert_true(s->count >= *last_count);
    assert_true(s->count <= n);
    *last_count = s->count;
    for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
        if (s->buckets[i] == 0)
            continue;
        low_sum += s->buckets[i] * histogram_bucket_lowest(i);
        top = histogram_bucket_lowest(i);
    }
    assert_true(s->max >= top);     /* release/acquire ordering */
    assert_true(s->sum >= low_sum); /* ditto */
    histogram_percentile(s, 99.9);
}

static void record_and_merge_from_two_threads(void **state)
{
    (void)state;
    struct recorder *r = calloc(1, sizeof(*r));
    struct histogram_snapshot *s = malloc(sizeof(*s));
    uint64_t last_count = 0, sum = 0, merges = 0;
    pthread_t t;
    assert_non_null(r);
    assert_non_null(s);
    histogram_init(&r->h);
    r->n = 300000;
    atomic_init(&r->done, false);
    assert_int_equal(pthread_create(&t, NULL, record_loop, r), 0);
    do {
        snapshot_of(s, &r->h);
        check_live_snapshot(s, &last_count, r->n);
        merges++;
    } while (!atomic_load_explicit(&r->done, memory_order_acquire));
    assert_int_equal(pthread_join(t, NULL), 0);
    snapshot_of(s, &r->h);
    for (uint64_t i = 0; i < r->n; i++)
        sum += (i * 7919) % 10000000;
    assert_int_equal(histogram_count(s), r->n);
    assert_int_equal(histogram_sum(s), sum);
    assert_true(merges > 0);
    free(s);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_index_at_boundaries),
        cmocka_unit_test(buckets_tile_the_range),
        cmocka_unit_test(empty_snapshot_reports_zero),
        cmocka_unit_test(count_sum_max),
        cmocka_unit_test(small_values_are_exact),
        cmocka_unit_test(percentile_extremes),
        cmocka_unit_test(percentile_uniform_random),
        cmocka_unit_test(percentile_skewed),
        cmocka_unit_test(huge_values_share_last_bucket),
        cmocka_unit_test(merge_equals_one_histogram),
        cmocka_unit_test(reset_empties),
        cmocka_unit_test(cumulative_buckets),
        cmocka_unit_test(cumulative_buckets_exact_at_bucket_edges),
        cmocka_unit_test(cumulative_buckets_stop_at_descending_bound),
        cmocka_unit_test(record_and_merge_from_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
