/*
 * lib/policy.h - the eviction policy interface.
 *
 * A policy keeps, per slab class, whatever order it needs to pick a victim
 * when the class is out of memory. The cache calls link/unlink as items
 * enter and leave the hash table (holding the item's stripe), hit on every
 * read, and evict when an allocation fails.
 *
 * evict() offers candidates of one class, best victim first, to a callback
 * while holding the class lock; the callback decides (it can see refcounts
 * and expiry) and, to take one, unlinks it with unlink_locked(). evict()
 * stops at the first candidate taken, or after `tries` candidates.
 *
 * maintain() is optional (NULL when a policy keeps its order up to date
 * by itself): the cache's background step calls it once per
 * cache_maintain(), from one thread at a time, to do at most `budget`
 * units of the policy's own background work (for lru, moving items between
 * segments). It returns true while work remains, so the maintainer knows
 * not to back off.
 *
 * class_stats() and seg_of() are optional and describe the policy in
 * memcached's segmented-LRU terms for `stats items`: a policy with
 * segments fills them (lru); for one without (fifo, random, sieve, lfu)
 * the cache reports every item as COLD, since COLD is where memcached's
 * victims come from and what its `age` describes.
 *
 * One const struct policy_ops per policy; policy_find() is the registry.
 */
#ifndef ZK_LIB_POLICY_H
#define ZK_LIB_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/clock.h"
#include "lib/items.h"
#include "lib/slabs.h"

struct policy;

/* memcached's LRU segments, in its order. TEMP (short-TTL items) is never
 * used by zeekdb's policies; it is here so reports keep memcached's
 * shape. */
enum policy_seg {
    POLICY_SEG_HOT,
    POLICY_SEG_WARM,
    POLICY_SEG_COLD,
    POLICY_SEG_TEMP,
    POLICY_NSEGS,
};

/* One class as the policy sees it, read in one go (under the class lock)
 * so the segment counts add up to the class's items. */
struct policy_class_stats {
    uint64_t items[POLICY_NSEGS];
    rel_time_t tail_atime[POLICY_NSEGS]; /* segment's oldest, 0: empty */
    uint64_t moves_to_cold;
    uint64_t moves_to_warm;
    uint64_t moves_within_lru;
    uint64_t evicted_active; /* victims read since their last move */
};

/* Receives one policy counter for `stats`. */
typedef void (*policy_stat_fn)(const char *name, uint64_t value, void *arg);

/* Returns true when it took (unlinked) the item. */
typedef bool (*policy_take_fn)(void *ctx, struct item *it);

struct policy_ops {
    const char *name;
    struct policy *(*create)(struct slabs *slabs);
    void (*destroy)(struct policy *p);
    void (*link)(struct policy *p, struct item *it, rel_time_t now);
    void (*unlink)(struct policy *p, struct item *it);
    void (*unlink_locked)(struct policy *p, struct item *it);
    void (*hit)(struct policy *p, struct item *it, rel_time_t now);
    bool (*evict)(struct policy *p, unsigned cls, unsigned tries,
                  policy_take_fn take, void *ctx);
    uint64_t (*count)(struct policy *p, unsigned cls);
    /* Optional: the last access time of the item the policy would give
     * up first in class cls (its oldest), 0 when it has none or cannot
     * tell. For `stats items` age, when class_stats is NULL. */
    rel_time_t (*oldest)(struct policy *p, unsigned cls);
    /* Optional: the policy's own counters, summed over classes. */
    void (*stats)(struct policy *p, policy_stat_fn emit, void *arg);
    /* Optional: zero those counters and class_stats' moves (`stats
     * reset`); item counts and segments stay. */
    void (*reset_stats)(struct policy *p);
    /* Optional: the shares of a class HOT and WARM may hold, in percent
     * (memcached's hot_lru_pct and warm_lru_pct); a segmented policy
     * only. Takes effect as items next move. */
    void (*set_shares)(struct policy *p, unsigned hot_pct,
                       unsigned warm_pct);
    bool (*maintain)(struct policy *p, rel_time_t now, unsigned budget);
    /* Optional: class cls in segments (see above). */
    void (*class_stats)(struct policy *p, unsigned cls,
                        struct policy_class_stats *out);
    /* Optional: the segment a linked item is in now. Called on every hit
     * the daemon counts, so it must only read the item: no lock, no
     * write. */
    enum policy_seg (*seg_of)(const struct policy *p, const struct item *it);
};

/* The policy called name, or NULL. */
const struct policy_ops *policy_find(const char *name);

extern const struct policy_ops policy_lru;
extern const struct policy_ops policy_fifo, policy_random, policy_sieve,
    policy_lfu;

#endif
