/*
 * lib/topk.h - a bounded-memory sketch of the most accessed keys
 * (Space-Saving, Metwally, Agrawal and El Abbadi, ICDT 2005), for
 * `stats hotkeys [N]`.
 *
 * A sketch tracks at most `capacity` keys, each with a count and an error.
 * Recording a tracked key adds its weight to the count. Recording an
 * untracked key into a full sketch replaces the entry with the smallest
 * count m: the new key inherits error = m and count = m + weight.
 *
 * Guarantees. Let D(x) be the true weight recorded for key x, halved
 * (rounding down) at each topk_decay(), and T = topk_total(), the sum of
 * the reported counts (with no decay, exactly the weight recorded). Then:
 * - every reported entry has count - error <= D(x) <= count;
 * - every key with D(x) > T / capacity is reported (when a snapshot asks
 *   for all entries): an untracked key has D(x) <= the smallest count;
 * - while no more than `capacity` distinct keys were recorded since the
 *   last reset, every count is exact and every error is 0.
 * The daemon samples: it records 1 request in S with weight S, so counts
 * are in requests; the guarantees then hold for the sampled stream.
 *
 * Window. topk_decay() halves every count, rounding down, and every error,
 * rounding up (capped at the count), and drops entries whose count becomes
 * 0. Called by the maintainer every P seconds, a key's count is its
 * accesses weighted 1 in the current period, 1/2 in the one before, 1/4
 * before that, ...: a window of about 2P seconds. topk_reset() empties the
 * sketch.
 *
 * Threads. Each worker owns one sketch and is its only recorder. Every
 * function except create/destroy takes the sketch's mutex, which is thus
 * taken by the owner on each (sampled) record and only contended while a
 * stats reader or the maintainer holds it: O(capacity log capacity) for a
 * snapshot, O(capacity) for a decay. topk_destroy() must not race with
 * anything. topk_record() never allocates.
 *
 * Cost: record is O(1) average to find the key (a linear-probing index at
 * most half full, keyed by XXH3) plus O(log capacity) to restore a min-heap
 * on the counts. Memory: capacity * (a 280-byte slot with the key inline,
 * + 8 bytes of heap and scratch, + 8 to 16 bytes of index) + 96 bytes:
 * 75,872 bytes (74 KiB) for 256 entries.
 */
#ifndef ZK_LIB_TOPK_H
#define ZK_LIB_TOPK_H

#include <stddef.h>
#include <stdint.h>

#define TOPK_KEY_MAX 250        /* memcached's key limit */
#define TOPK_MAX_CAPACITY 65536

struct topk;

/* One reported key. The key is a copy: any bytes, NULs included, not
 * NUL-terminated. */
struct topk_entry {
    uint64_t count;   /* upper bound of the key's (decayed) weight */
    uint64_t error;   /* count - error is a lower bound */
    uint8_t nkey;
    char key[TOPK_KEY_MAX];
};

/* capacity: tracked entries, 1..TOPK_MAX_CAPACITY (64 to 256 is plenty
 * for a top 10). NULL for a capacity out of range or on allocation
 * failure. */
struct topk *topk_create(unsigned capacity);
/* Tolerates NULL and *t == NULL; sets *t to NULL. */
void topk_destroy(struct topk **t);

/* Count `weight` accesses of a key. The key is copied. A key longer than
 * TOPK_KEY_MAX, or a weight of 0, is ignored. */
void topk_record(struct topk *t, const char *key, size_t nkey,
                 uint32_t weight);

/* Age the sketch: see "Window" above. */
void topk_decay(struct topk *t);
/* Forget everything. */
void topk_reset(struct topk *t);

/* Copy up to `max` entries, the highest counts first (ties: lower error
 * first, then by key bytes), into out; returns how many. Consistent: taken
 * under the sketch's mutex. */
size_t topk_snapshot(struct topk *t, struct topk_entry *out, size_t max);
/* The sum of the counts (T above). */
uint64_t topk_total(struct topk *t);

/* Combine snapshots of several sketches (e.g. one per worker) laid end to
 * end in e[0..n): entries with equal keys become one, counts and errors
 * summed; the result is sorted as topk_snapshot() sorts, in e[0..r), with
 * r = min(distinct keys, max), which is returned. Snapshot each sketch in
 * full (max = its capacity) and cut to N here: the lower bound
 * count - error stays valid for the sum over all sketches, but a key
 * missing from one snapshot may have weight up to that sketch's smallest
 * count there, not included in the merged count. */
size_t topk_merge(struct topk_entry *e, size_t n, size_t max);

#endif
