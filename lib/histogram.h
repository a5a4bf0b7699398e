/*
 * lib/histogram.h - a log-linear latency histogram: one writer, any reader.
 *
 * Values are nanoseconds (the histogram itself does not care about the
 * unit, but every caller in ZeekDB records nanoseconds; convert "le"
 * bounds given in microseconds by multiplying by 1000).
 *
 * Bucket layout (fixed, no allocation). With S = HISTOGRAM_SUB_BITS = 4:
 *
 *   values 0 .. 31               one bucket per value (exact)
 *   values [2^e, 2^(e+1)), e>=5  16 buckets, each 2^(e-4) wide
 *   values >= 2^40 (~18 min)     counted in the last bucket
 *
 * so a bucket never spans more than 1/16 of its lowest value. The index is
 * shift * 16 + (v >> shift), shift = max(0, log2(v) - 4): one clz, one
 * shift, no floating point. HISTOGRAM_BUCKETS = 16 * 37 = 592.
 *
 * Percentiles report the middle of the bucket holding the quantile
 * (clamped to the recorded max; the 100th percentile is the max itself),
 * so for values below 2^40 the answer is within 1/32 (3.125%) of the exact
 * nearest-rank quantile, and exact below 32.
 *
 * Threads: struct histogram is written by ONE owning thread only
 * (histogram_record) with plain relaxed load + store on atomics, never a
 * locked read-modify-write; any thread may histogram_merge() it at any
 * time. A bucket counter is stored with release order after max and sum
 * (a plain store on x86), and merge loads it with acquire, so a snapshot's
 * max and sum cover every value its buckets count. A snapshot's count is
 * the sum of its buckets; its max and sum may also include a record whose
 * bucket it has not seen yet.
 *
 * Memory: struct histogram is (2 + 592) * 8 = 4752 bytes, a snapshot
 * 4760 (it also keeps the count).
 */
#ifndef ZK_LIB_HISTOGRAM_H
#define ZK_LIB_HISTOGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_SUB_BITS 4
#define HISTOGRAM_SUB_COUNT (1u << HISTOGRAM_SUB_BITS)
#define HISTOGRAM_RANGE_BITS 40
/* Largest value with a bucket of its own; larger ones share the last. */
#define HISTOGRAM_MAX_TRACKABLE ((UINT64_C(1) << HISTOGRAM_RANGE_BITS) - 1)
#define HISTOGRAM_BUCKETS                                                     \
    (HISTOGRAM_SUB_COUNT * (HISTOGRAM_RANGE_BITS - HISTOGRAM_SUB_BITS + 1))

/* Owned by one thread, embedded by it (e.g. one per command kind). */
struct histogram {
    _Atomic uint64_t max;
    _Atomic uint64_t sum;
    _Atomic uint64_t buckets[HISTOGRAM_BUCKETS];
};

/* Plain totals of one or more histograms, owned by the reader. */
struct histogram_snapshot {
    uint64_t count;
    uint64_t sum;
    uint64_t max;
    uint64_t buckets[HISTOGRAM_BUCKETS];
};

void histogram_init(struct histogram *h);
/* Owner thread only. */
void histogram_record(struct histogram *h, uint64_t value);
/* n values equal to value at once (a batch of requests timed together). */
void histogram_record_n(struct histogram *h, uint64_t value, uint64_t n);
/* Zero every counter. Safe from any thread, but a record running at the
 * same moment on the owner may put back the old count of its one bucket
 * (as thread_stats_reset may lose a bump); reset from the owner when that
 * matters. */
void histogram_reset(struct histogram *h);

/* Empty snapshot; then merge any number of histograms into it. */
void histogram_snapshot_init(struct histogram_snapshot *s);
void histogram_merge(struct histogram_snapshot *into,
                     const struct histogram *h);

uint64_t histogram_count(const struct histogram_snapshot *s);
uint64_t histogram_sum(const struct histogram_snapshot *s);
uint64_t histogram_max(const struct histogram_snapshot *s);

/* Nearest-rank p-th percentile, p in [0, 100] (99.9 for p99.9): the
 * middle of the bucket holding the ceil(p/100 * count)-th smallest value
 * (at least the first), clamped to the max; when that is the last rank
 * (p >= 100 among others) the max itself. 0 when empty. */
uint64_t histogram_percentile(const struct histogram_snapshot *s, double p);

/* Cumulative counts for Prometheus "le" bounds (same unit as the values),
 * which must ascend. cumulative_out[i] counts the buckets lying wholly at or
 * below bounds[i], or everything once bounds[i] >= max; so it is exact when
 * bounds[i] + 1 is a bucket's lowest value, and otherwise may leave out
 * values in (bounds[i] * 16/17, bounds[i]]. Returns how many entries were
 * filled: n, or fewer if the bounds stop ascending. The "+Inf" bucket is
 * histogram_count(). */
size_t histogram_buckets(const struct histogram_snapshot *s,
                         const uint64_t *bounds, size_t n,
                         uint64_t *cumulative_out);

/* Bucket geometry, for exporters and tests. The last bucket's highest
 * value is UINT64_MAX, since it also counts everything beyond 2^40. */
size_t histogram_bucket_index(uint64_t value);
uint64_t histogram_bucket_lowest(size_t index);
uint64_t histogram_bucket_highest(size_t index);

#endif
