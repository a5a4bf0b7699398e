/*
 * lib/assoc.h - the hash table: key -> item.
 *
 * Chained buckets of 32-bit slab references (4 bytes a bucket), a power of
 * two of them, indexed by the low bits of the key's XXH3 hash. The same low
 * bits pick one of the stripe mutexes, so a stripe lock covers a key's
 * bucket in the current table and, while growing, in the old one.
 *
 * Growth is incremental: assoc_grow_start() allocates a table twice the
 * size, then each assoc_grow_step() moves a bounded number of old buckets.
 * Lookups stay correct in between: an old bucket not yet moved is searched
 * in the old table, a moved one in the new. No thread ever holds more than
 * one stripe, so growing never stalls every request at once.
 *
 * The buckets are charged against the slab arena's limit.
 *
 * Lock order: growth lock -> stripe -> (policy class lock) -> slab locks.
 * Code that holds a policy lock may only trylock a stripe, and the growth
 * functions (assoc_wants_growth, _grow_*, _power, _is_growing, _bytes,
 * _foreach) must be called with no stripe held.
 */
#ifndef ZK_LIB_ASSOC_H
#define ZK_LIB_ASSOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/items.h"
#include "lib/slabs.h"

#define ASSOC_DEFAULT_POWER 16
#define ASSOC_MAX_POWER 32

struct assoc;

/* power: log2 of the initial bucket count (0 = default); stripe_power:
 * log2 of the number of stripe mutexes (0 = default). NULL when the
 * table cannot be allocated or charged. */
struct assoc *assoc_create(struct slabs *slabs, bool with_cas, unsigned power,
                           unsigned stripe_power);
void assoc_destroy(struct assoc **a);

uint64_t assoc_hash(const char *key, size_t nkey);

void assoc_lock(struct assoc *a, uint64_t hv);
bool assoc_trylock(struct assoc *a, uint64_t hv);
void assoc_unlock(struct assoc *a, uint64_t hv);

/* The caller holds the stripe of hv in all three. */
struct item *assoc_find_locked(struct assoc *a, uint64_t hv, const char *key,
                               size_t nkey);
void assoc_insert_locked(struct assoc *a, uint64_t hv, struct item *it);
/* Removes exactly `it`; false if it was not in the table. */
bool assoc_remove_locked(struct assoc *a, uint64_t hv, struct item *it);

/* Hints before a batch of operations on these hashes (a bulk load), so
 * that the batch's cache misses overlap instead of coming one at a time:
 * _buckets() starts fetching their buckets, and _chains(), called some
 * time later (a caller works on one group of hashes meanwhile), reads
 * them and starts fetching the first item of each chain. They take no
 * stripe; call with none held. */
void assoc_prefetch_buckets(struct assoc *a, const uint64_t *hv, size_t n);
void assoc_prefetch_chains(struct assoc *a, const uint64_t *hv, size_t n);

/* True when the load factor calls for a bigger table. */
bool assoc_wants_growth(struct assoc *a);
/* True when the items are already too many for the table being grown
 * into, or for the table when none is: the growth has fallen behind. */
bool assoc_behind(struct assoc *a);
/* Begin a growth; false if one is running, the table is at its maximum or
 * the new buckets cannot be charged. */
bool assoc_grow_start(struct assoc *a);
/* Grow now, in one go, until n items fit the load factor (or the limit
 * refuses the buckets): before a bulk load, so that it does not run into
 * long chains. Call with no stripe held. */
void assoc_presize(struct assoc *a, uint64_t n);
/* The power of two of buckets that n items fit at the load factor (at
 * most ASSOC_MAX_POWER): for assoc_create(), when the count is known
 * before the table is made. */
unsigned assoc_power_for(uint64_t n);
/* Move up to `budget` old buckets. Returns true while work remains. */
bool assoc_grow_step(struct assoc *a, unsigned budget);

uint64_t assoc_count(const struct assoc *a);
unsigned assoc_power(struct assoc *a);
bool assoc_is_growing(struct assoc *a);
uint64_t assoc_bytes(struct assoc *a);

/* Walk the table a few buckets at a time (the background reaper): visit
 * the items of up to `budget` buckets from *cursor, each bucket under its
 * stripe lock. fn may remove the item it is given (its successor has been
 * read). *cursor advances and wraps to 0 past the last bucket; returns
 * true when it wrapped. While the table grows nothing is visited. */
bool assoc_walk_step(struct assoc *a, uint64_t *cursor, unsigned budget,
                     void (*fn)(struct item *it, uint64_t hv, void *arg),
                     void *arg);

/* A full scan in bounded steps that survives growth (the snapshot writer
 * and lru_crawler metadump). Each step visits the items of up to `budget`
 * buckets, each bucket under its stripe, holding off growth only for the
 * step. Start with *cursor = 0; returns true when the scan is complete.
 * The cursor runs over bucket indexes in reversed-bit order, so when the
 * table doubles between steps the buckets already visited map to exactly
 * the new buckets already passed: an item linked for the whole scan is
 * visited exactly once. fn must not unlink items. */
bool assoc_scan_step(struct assoc *a, uint64_t *cursor, unsigned budget,
                     void (*fn)(struct item *it, void *arg), void *arg);

/* Visit every item, bucket by bucket under each stripe (checks and tests
 * only: the result is exact only when nothing changes meanwhile). */
void assoc_foreach(struct assoc *a, void (*fn)(struct item *, void *),
                   void *arg);

#endif
