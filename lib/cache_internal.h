/*
 * lib/cache_internal.h - what lib/cache.c shares with the engine files
 * that extend it (lib/cache_meta.c), and with nobody else: the cache
 * struct and the stripe-locked building blocks. The lock rules are those
 * of cache.c's top comment; every *_locked function expects the item's
 * hash stripe to be held by the caller.
 */
#ifndef ZK_LIB_CACHE_INTERNAL_H
#define ZK_LIB_CACHE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cache.h"
#include "lib/size_hist.h"
#include "lib/slabs.h"

#define CACHE_REF_MAX 0xfff0  /* refcount is 16-bit; refuse beyond this */

/* Per slab class; the totals in `stats` are their sums. */
struct class_counters {
    _Atomic uint64_t evictions;
    _Atomic uint64_t evicted_nonzero;   /* evicted with an exptime set */
    _Atomic uint64_t evicted_time;      /* idle seconds of the last one */
    _Atomic uint64_t reclaimed;
    _Atomic uint64_t crawler_reclaimed;
    _Atomic uint64_t expired_unfetched;
    _Atomic uint64_t evicted_unfetched;
    _Atomic uint64_t outofmemory;
    _Atomic uint64_t reflocked;         /* candidates skipped: in use */
    _Atomic uint64_t crawler_items_checked; /* looked at by the reaper */
    _Atomic uint64_t direct_reclaims;   /* make_room() calls that freed */
};

struct cache {
    struct clock *clock;
    struct slabs *slabs;
    struct assoc *assoc;
    const struct policy_ops *pops;
    struct policy *policy;
    bool use_cas;
    bool evict;
    size_t item_max;   /* -I: the largest chunk, fixed at creation */
    _Atomic uint64_t next_cas;
    _Atomic uint32_t oldest_live;   /* flush_all moment (rel time), 0 none */
    _Atomic uint64_t oldest_cas;    /* items with a smaller CAS are flushed */
    _Atomic uint64_t total_items;
    _Atomic uint64_t in_place_changes; /* touches, in-place incr, flush,
                                          meta invalidation (note_change) */
    _Atomic uint64_t bytes;
    _Atomic uint64_t bytes_peak;
    _Atomic uint64_t starving;      /* bit per class that found no memory */
    _Atomic bool automove;          /* starving classes get pages moved */
    _Atomic unsigned lru_hot_pct, lru_warm_pct; /* cache_set_lru_shares */
    _Atomic bool lru_flat;          /* cache_set_lru_flat */
    _Atomic bool temp_on;           /* cache_set_temp_lru */
    _Atomic uint32_t temp_ttl;
    pthread_mutex_t tune_lock;      /* one LRU mode or shares change at once */
    _Atomic uint32_t move_request;  /* src << 8 | dst asked for, 0: none */
    uint32_t move_cursor;           /* next chunk of the moving page */
    unsigned move_src, move_dst;    /* the classes of the moving page */
    _Atomic uint64_t move_evictions; /* live items a page move evicted */
    _Atomic uint64_t move_rescues;  /* live items a page move copied */
    _Atomic uint64_t move_busy;     /* items a page move found in use */
    /* total_items and the pages moved at the last `stats reset`: the
     * counters themselves only grow (cache_changes() derives from
     * total_items), the figures shown are since then */
    _Atomic uint64_t total_items_reset;
    _Atomic uint64_t slabs_moved_reset;
    struct class_counters per_class[SLABS_MAX_CLASSES + 1];
    _Atomic uint64_t temp_items[SLABS_MAX_CLASSES + 1]; /* per class, in
                                                   the TEMP LRU (a gauge) */
    struct size_hist *sizes;        /* `stats sizes` */
    cache_event_fn observer;        /* cache_set_observer() */
    void *observer_arg;
    _Atomic unsigned observed;      /* enum cache_event_kind mask */
    /* The background reaper's place in the hash table; only
     * cache_maintain() (one thread at a time) uses these. */
    uint64_t reap_cursor;
    uint64_t reaped_this_pass;
    uint64_t reaped_last_pass;
    rel_time_t reap_idle_at;        /* second of the last fruitless step */
    /* Automove's age balancing, sampled once a clock second by
     * cache_maintain(); a move it asks for waits in balance_src/dst
     * (0: none) for move_begin(). */
    struct balance *balance;
    rel_time_t balance_at;
    unsigned balance_src, balance_dst;
};

/* The last access time of the item class cls would evict next (COLD's
 * tail in segment terms), 0 when it has none or the policy cannot tell. */
rel_time_t class_victim_atime(struct cache *c, unsigned cls);

/* find_locked() without telling the observer of the lookup. */
struct item *find_locked_quiet(struct cache *c, uint64_t hv,
                               const char *key, size_t nkey,
                               enum cache_miss *why);
/* A hit on a linked item, told to the policy unless it is in the TEMP
 * LRU, which memcached never bumps. Stripe held. */
void hit_locked(struct cache *c, struct item *it, rel_time_t now);

/* Whether the observer wants events of this kind: check it before
 * calling an observe_*() (lib/cache_observe.c). */
static inline bool cache_observing(struct cache *c,
                                   enum cache_event_kind kind)
{
    return (atomic_load_explicit(&c->observed, memory_order_relaxed) &
            kind) != 0 && c->observer != NULL;
}
/* Stripe held for all but the slab move. A lookup (it: what was found,
 * or NULL); a live item evicted; `it` being deleted, still linked; a
 * store's outcome (`it` the new item, `compare` a CAS store); a page
 * moved between classes. */
void observe_fetch(struct cache *c, const char *key, size_t nkey,
                   const struct item *it);
void observe_evict(struct cache *c, const struct item *it, rel_time_t now);
void observe_delete(struct cache *c, const struct item *it, bool meta);
void observe_store(struct cache *c, const struct item *it, uint64_t hv,
                   enum cache_store_mode mode, bool compare,
                   enum cache_status st);
void observe_slab_move(struct cache *c, unsigned src, unsigned dst);

/* The slab class for an item of this key length, value bytes (with
 * "\r\n") and client flags; 0 when it cannot be stored: a bad key length,
 * no "\r\n", or over -I as memcached counts an item (items.h). Every
 * allocation, a set's or a restore's, goes by this one rule. */
unsigned class_for_item(const struct cache *c, size_t nkey, size_t nbytes,
                        uint32_t flags);
/* Bytes of an item, header included. */
size_t total_of(const struct cache *c, const struct item *it);
/* Link a new item under a fresh CAS; the table takes its own reference. */
void link_locked(struct cache *c, struct item *it, uint64_t hv);
/* Keep fresh CASes above `cas`, one chosen outside the cache. */
void raise_cas(struct cache *c, uint64_t cas);
/* Link a restored item under `cas` (0: a fresh one; else the caller has
 * raised the counter past it), the caller's reference becoming the
 * table's. Returns the item's bytes: the caller adds them, and the item,
 * with count_restored() once for a whole batch. */
size_t link_restored_locked(struct cache *c, struct item *it, uint64_t hv,
                            uint64_t cas, rel_time_t now);
void count_restored(struct cache *c, uint64_t items, uint64_t bytes);
/* Unlink and drop the link reference; policy_locked: the caller holds the
 * policy's class lock (eviction). */
void unlink_locked(struct cache *c, struct item *it, uint64_t hv,
                   bool policy_locked);
void replace_locked(struct cache *c, struct item *old, struct item *it,
                    uint64_t hv);
/* replace_locked() for a copy that stands for memcached's change of `old`
 * in place: it keeps the flags such a change keeps, and it is a change,
 * not one more item in total_items. */
void replace_in_place_locked(struct cache *c, struct item *old,
                             struct item *it, uint64_t hv);
/* A live item for key (no new reference), unlinking a dead one. */
struct item *find_locked(struct cache *c, uint64_t hv, const char *key,
                         size_t nkey, enum cache_miss *why);
/* An unlinked item; nexptime is already a rel_time_t. */
enum cache_status alloc_item(struct cache *c, const char *key, size_t nkey,
                             uint32_t flags, rel_time_t nexptime,
                             size_t nbytes, struct item **out);
uint64_t hash_of(const struct cache *c, const struct item *it);
/* Expired, or hidden by a flush_all. */
bool is_dead(struct cache *c, const struct item *it, rel_time_t now);
/* Set a CAS chosen outside the cache, keeping fresh ones above it. */
void give_cas(struct cache *c, struct item *it, uint64_t cas);
/* Something a snapshot would hold changed in place (cache_changes()). */
void note_change(struct cache *c);
/* cache_store()'s work, stripe held; *cls (if cls) gets the class of the
 * item found under the key. */
enum cache_status store_locked(struct cache *c, struct item *it,
                               enum cache_store_mode mode, uint64_t cas_in,
                               uint64_t hv, unsigned *cls);
/* The counter at the start of a value, as memcached reads it. */
/* The *cls answer of the public calls: the class of the item found. */
static inline void note_cls(unsigned *cls, const struct item *it)
{
    if (cls != NULL)
        *cls = it != NULL ? it->clsid : 0;
}

/* lib/cache_counter.c */
bool parse_counter(const char *p, size_t len, uint64_t *out);
/* True for a value incr/decr cannot be applied to whatever it holds:
 * empty, or too large (as memcached's chunked items are). */
bool counter_unusable(const struct cache *c, const struct item *it);
/* Store a new counter value in place or in a new item. */
enum cache_status delta_store_locked(struct cache *c, struct item *it,
                                     uint64_t value, uint64_t hv,
                                     const struct cache_sent_refs *sent);

#endif
