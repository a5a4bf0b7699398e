/*
 * lib/histogram.c - see histogram.h for the bucket layout, the error bound
 * and the threading rules.
 *
 * Index math, with S = HISTOGRAM_SUB_BITS and shift = max(0, log2(v) - S):
 * m = v >> shift lies in [0, 2^(S+1)) when shift = 0 and in
 * [2^S, 2^(S+1)) otherwise, so index = shift * 2^S + m is contiguous:
 * [0, 2^(S+1)) for the exact values, then 2^S more per power of two.
 * Inverting: shift = index / 2^S - 1 (0 below 2^(S+1)), lowest value
 * (index - shift * 2^S) << shift, width 2^shift.
 */
#include "lib/histogram.h"

#include <string.h>

#define LOAD(p) atomic_load_explicit((p), memory_order_relaxed)
#define STORE(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)

size_t histogram_bucket_index(uint64_t value)
{
    if (value > HISTOGRAM_MAX_TRACKABLE)
        value = HISTOGRAM_MAX_TRACKABLE;
    if (value < (UINT64_C(1) << (HISTOGRAM_SUB_BITS + 1)))
        return (size_t)value;
    unsigned log2 = 63u - (unsigned)__builtin_clzll(value);
    unsigned shift = log2 - HISTOGRAM_SUB_BITS;
    return (size_t)shift * HISTOGRAM_SUB_COUNT + (size_t)(value >> shift);
}

static unsigned bucket_shift(size_t index)
{
    if (index < 2 * HISTOGRAM_SUB_COUNT)
        return 0;
    return (unsigned)(index / HISTOGRAM_SUB_COUNT) - 1;
}

uint64_t histogram_bucket_lowest(size_t index)
{
    unsigned shift = bucket_shift(index);
    return (uint64_t)(index - (size_t)shift * HISTOGRAM_SUB_COUNT) << shift;
}

uint64_t histogram_bucket_highest(size_t index)
{
    if (index >= HISTOGRAM_BUCKETS - 1) /* also holds everything larger */
        return UINT64_MAX;
    return histogram_bucket_lowest(index) +
           ((UINT64_C(1) << bucket_shift(index)) - 1);
}

/* The value a percentile reports for a bucket: its middle, which is within
 * half a width (<= 1/32 of the lowest value) of anything in it. */
static uint64_t bucket_middle(size_t index)
{
    return histogram_bucket_lowest(index) +
           ((UINT64_C(1) << bucket_shift(index)) >> 1);
}

void histogram_init(struct histogram *h)
{
    atomic_init(&h->max, 0);
    atomic_init(&h->sum, 0);
    for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++)
        atomic_init(&h->buckets[i], 0);
}

void histogram_record_n(struct histogram *h, uint64_t value, uint64_t n)
{
    if (n == 0)
        return;
    if (value > LOAD(&h->max))
        STORE(&h->max, value);
    STORE(&h->sum, LOAD(&h->sum) + value * n);
    _Atomic uint64_t *b = &h->buckets[histogram_bucket_index(value)];
    /* release: a reader that sees this count also sees max and sum. */
    atomic_store_explicit(b, LOAD(b) + n, memory_order_release);
}

void histogram_record(struct histogram *h, uint64_t value)
{
    histogram_record_n(h, value, 1);
}

void histogram_reset(struct histogram *h)
{
    for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++)
        STORE(&h->buckets[i], 0);
    STORE(&h->sum, 0);
    STORE(&h->max, 0);
}

void histogram_snapshot_init(struct histogram_snapshot *s)
{
    memset(s, 0, sizeof(*s));
}

void histogram_merge(struct histogram_snapshot *into,
                     const struct histogram *h)
{
    /* Buckets first (acquire), then max and sum: see histogram_record. */
    for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
        uint64_t n = atomic_load_explicit(&h->buckets[i],
                                          memory_order_acquire);
        into->buckets[i] += n;
        into->count += n;
    }
    uint64_t max = LOAD(&h->max);
    if (max > into->max)
        into->max = max;
    into->sum += LOAD(&h->sum);
}

uint64_t histogram_count(const struct histogram_snapshot *s)
{
    return s->count;
}

uint64_t histogram_sum(const struct histogram_snapshot *s)
{
    return s->sum;
}

uint64_t histogram_max(const struct histogram_snapshot *s)
{
    return s->max;
}

/* 1-based nearest rank of the p-th percentile among count values. */
static uint64_t percentile_rank(uint64_t count, double p)
{
    double r = p / 100.0 * (double)count;
    if (!(r > 1.0)) /* also catches NaN */
        return 1;
    if (r >= (double)count)
        return count;
    uint64_t rank = (uint64_t)r;
    return (double)rank < r ? rank + 1 : rank;
}

uint64_t histogram_percentile(const struct histogram_snapshot *s, double p)
{
    if (s->count == 0)
        return 0;
    uint64_t rank = percentile_rank(s->count, p);
    if (rank >= s->count)
        return s->max;
    uint64_t seen = 0;
    for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += s->buckets[i];
        if (seen >= rank) {
            uint64_t v = bucket_middle(i);
            return v < s->max ? v : s->max;
        }
    }
    return s->max; /* unreachable while count is the sum of the buckets */
}

size_t histogram_buckets(const struct histogram_snapshot *s,
                         const uint64_t *bounds, size_t n,
                         uint64_t *cumulative_out)
{
    size_t i = 0; /* next bucket not yet counted */
    uint64_t seen = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && bounds[k] < bounds[k - 1])
            return k;
        if (bounds[k] >= s->max) {
            cumulative_out[k] = s->count;
            continue;
        }
        while (i < HISTOGRAM_BUCKETS &&
               histogram_bucket_highest(i) <= bounds[k])
            seen += s->buckets[i++];
        cumulative_out[k] = seen;
    }
    return n;
}
