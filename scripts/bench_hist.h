/*
 * bench_hist.h - the log-linear latency histogram of scripts/loadgen.c
 * (header-only, all functions static; include once, after bench_common.h).
 *
 * Values in ns. Below 2^SUB_BITS one bucket per value; above, each power
 * of two is split into 2^SUB_BITS equal buckets, so the relative error is
 * below 1/64 (1.6 %). Bucket index layout:
 *   v < 64:              idx = v
 *   v in [64<<s, 128<<s): idx = (s + 1) * 64 + ((v >> s) & 63)
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_SHIFT 34      /* ~2^40 ns = 18 minutes, then clamped */
#define HIST_BUCKETS ((HIST_MAX_SHIFT + 2) * HIST_SUB)

struct hist {
    uint64_t count, max, sum;
    uint64_t b[HIST_BUCKETS];
};

static inline unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
    if (shift > HIST_MAX_SHIFT)
        return HIST_BUCKETS - 1;
    return ((shift + 1) << HIST_SUB_BITS) | (unsigned)((v >> shift) & (HIST_SUB - 1));
}

/* Midpoint of a bucket. */
static inline uint64_t hist_value(unsigned idx)
{
    if (idx < HIST_SUB)
        return idx;
    unsigned shift = (idx >> HIST_SUB_BITS) - 1;
    uint64_t lo = (uint64_t)(HIST_SUB + (idx & (HIST_SUB - 1))) << shift;
    return lo + (((uint64_t)1 << shift) >> 1);
}

static inline void hist_add(struct hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

static inline void hist_merge(struct hist *into, const struct hist *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
}

/* Value at percentile p (0 < p <= 100), in ns; 0 for an empty histogram. */
static inline uint64_t hist_pct(const struct hist *h, double p)
{
    if (h->count == 0)
        return 0;
    double want = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want || rank == 0)
        rank++;                       /* ceil, at least 1 */
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = hist_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

#endif
