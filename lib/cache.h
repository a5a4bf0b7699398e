/*
 * lib/cache.h - the storage engine's public API.
 *
 * A cache owns a slab arena, a hash table and an eviction policy, and is
 * safe to call from any number of threads at once. Time comes from the
 * clock handle given at creation.
 *
 * Storing is two steps so a value can be read from the network straight
 * into its final place: cache_alloc() hands out an unlinked item with room
 * for the value, the caller fills cache_item_value(), then cache_store()
 * links it according to the mode. Every item handed out (by alloc or get)
 * carries a reference the caller returns with cache_release().
 */
#ifndef ZK_LIB_CACHE_H
#define ZK_LIB_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/items.h"
#include "lib/policy.h"
#include "lib/size_hist.h"

/* Slab class ids run from 1 to cache_nclasses(), which is at most this. */
#define CACHE_CLASSES_MAX SLABS_MAX_CLASSES

struct cache;

enum cache_status {
    CACHE_OK,          /* stored, deleted, touched, found */
    CACHE_NOT_STORED,  /* add on an existing key, replace/append on none */
    CACHE_EXISTS,      /* cas mismatch */
    CACHE_NOT_FOUND,
    CACHE_NON_NUMERIC, /* incr/decr on a value that is not a number */
    CACHE_TOO_LARGE,   /* larger than the biggest chunk */
    CACHE_NO_MEMORY,   /* nothing free and nothing could be evicted */
};

enum cache_store_mode {
    CACHE_SET,
    CACHE_ADD,
    CACHE_REPLACE,
    CACHE_APPEND,
    CACHE_PREPEND,
    CACHE_CAS,
};

/* Why a lookup missed, for the get_expired/get_flushed counters. */
enum cache_miss {
    CACHE_MISS_ABSENT,
    CACHE_MISS_EXPIRED,
    CACHE_MISS_FLUSHED,
};

struct cache_config {
    uint64_t limit;        /* bytes for items and hash buckets */
    uint64_t reserve;      /* address space to reserve, >= limit (0: limit) */
    size_t item_size_max;  /* largest item, header included */
    size_t chunk_min;      /* key + value + flags space of the smallest class */
    double factor;         /* class growth factor */
    const uint32_t *class_sizes; /* or these chunk sizes (lib/slabs.h), */
    unsigned nclass_sizes;       /* read only by cache_create; 0: none */
    bool use_cas;
    bool evict;            /* false: fail with CACHE_NO_MEMORY (like -M) */
    unsigned hashpower;    /* initial log2 buckets, 0 = default */
    uint64_t expect_items; /* or enough buckets for this many (a snapshot
                              about to load), if that is more and the
                              limit has room for them; 0: none */
    unsigned stripe_power; /* log2 stripe locks, 0 = default */
    const char *policy;    /* eviction policy name, NULL = "lru" (the
                              daemon picks its own default) */
    bool track_sizes;      /* the size histogram on from the start */
    /* Automove's age balancing (lib/balance.h): samples in the window,
     * 0 = 30, and the victim-age ratio that moves a page, 0 = 0.8
     * (memcached's slab_automove_window and slab_automove_ratio). */
    unsigned automove_window;
    double automove_ratio;
};

struct cache_stats {
    uint64_t curr_items;
    uint64_t total_items;
    uint64_t bytes;          /* bytes of the linked items */
    uint64_t bytes_peak;     /* the most bytes ever linked at once */
    uint64_t evictions;
    uint64_t reclaimed;
    uint64_t expired_unfetched;
    uint64_t evicted_unfetched;
    uint64_t crawler_reclaimed; /* dead items freed by the reaper */
    /* The per-class figures below summed over the classes. */
    uint64_t crawler_items_checked;
    uint64_t reflocked;
    uint64_t direct_reclaims;
    uint64_t evicted_active;
    uint64_t moves_to_cold;
    uint64_t moves_to_warm;
    uint64_t moves_within_lru;
    uint64_t slabs_moved;       /* pages moved between classes */
    bool move_running;          /* a page move is under way */
    uint64_t move_evictions;    /* live items evicted to empty a page */
    uint64_t move_rescues;      /* live items copied off a page moved */
    uint64_t move_busy;         /* times a page move found an item in use */
    uint64_t limit_maxbytes;
    uint64_t hash_bytes;
    unsigned hash_power;
    bool hash_growing;
};

/* One slab class: its memory and what eviction did to it. */
struct cache_class_stats {
    size_t chunk_size;
    uint64_t chunks_per_page;
    uint64_t pages;
    uint64_t used_chunks;
    uint64_t free_chunks;
    uint64_t requested;     /* bytes of the items in used chunks */
    uint64_t items;         /* linked items: the sum of seg.items */
    /* The items by LRU segment, each segment's oldest access and the
     * policy's moves (all items COLD for a policy without segments). */
    struct policy_class_stats seg;
    uint64_t evictions;
    uint64_t reclaimed;
    uint64_t expired_unfetched;
    uint64_t evicted_unfetched;
    uint64_t outofmemory;   /* allocations that found no room */
    uint64_t evicted_nonzero;   /* evictions of items with an exptime */
    uint64_t evicted_time;      /* idle seconds of the last evicted item */
    uint64_t crawler_reclaimed; /* freed by the background reaper */
    uint64_t reflocked;         /* eviction candidates skipped as in use */
    uint64_t crawler_items_checked; /* items the reaper looked at */
    uint64_t direct_reclaims;   /* allocations that had to free a chunk */
};

/* What a reply needs from an item. Pointers stay valid while the caller
 * holds its reference. */
struct cache_item_view {
    const char *key;
    size_t nkey;
    const char *value;  /* nbytes bytes, ending in "\r\n" */
    size_t nbytes;
    uint32_t flags;
    uint64_t cas;
    unsigned cls;         /* slab class, for per-class counters */
    enum policy_seg seg;  /* LRU segment when viewed, for hits_to_* */
};

void cache_config_defaults(struct cache_config *cfg);
struct cache *cache_create(const struct cache_config *cfg, struct clock *clk);
void cache_destroy(struct cache **c);

/* A new unlinked item for key with room for nbytes of value (which must
 * include the trailing "\r\n"). exptime as the client sent it. */
enum cache_status cache_alloc(struct cache *c, const char *key, size_t nkey,
                              uint32_t flags, int64_t exptime, size_t nbytes,
                              struct item **out);
char *cache_item_value(struct cache *c, struct item *it);
/* Link an item from cache_alloc. cas_in is the compare value for
 * CACHE_CAS. The caller keeps its reference either way. */
enum cache_status cache_store(struct cache *c, struct item *it,
                              enum cache_store_mode mode, uint64_t cas_in,
                              unsigned *cls);
/* A live item, or NULL with *why set. touch != NULL also sets a new
 * exptime (gat). *first_read (when not NULL) tells whether this was the
 * item's first read since it was stored. */
struct item *cache_get(struct cache *c, const char *key, size_t nkey,
                       const int64_t *touch, enum cache_miss *why,
                       bool *first_read);
void cache_release(struct cache *c, struct item *it);
void cache_item_view(struct cache *c, struct item *it,
                     struct cache_item_view *out);

/* The *cls argument of store, delete, touch and delta, when not NULL,
 * gets the slab class of the item the operation found (for a store, the
 * item it replaced or compared against), or 0 when it found none: the
 * daemon's per-class counters (`stats slabs`) need it. */
enum cache_status cache_delete(struct cache *c, const char *key, size_t nkey,
                               unsigned *cls);
enum cache_status cache_touch(struct cache *c, const char *key, size_t nkey,
                              int64_t exptime, unsigned *cls);
/* References the caller holds itself that are not to count as readers
 * of the item: its client already has what they were taken for (the
 * daemon's reply.h says when). incr and decr keep a value's size,
 * padding with spaces, when nobody reads the item, and otherwise store
 * it at its own size in a new item; with only sent references left, the
 * padded value goes into a new item, as they still point at the old. */
struct cache_sent_refs {
    /* how many of them point at it; asked only of an item others hold
     * whose new value would fit its old size (NULL: none) */
    size_t (*count)(const struct item *it, void *arg);
    void *arg;
};

/* incr (incr = true) or decr by delta; *result gets the new value. */
enum cache_status cache_delta(struct cache *c, const char *key, size_t nkey,
                              bool incr, uint64_t delta, uint64_t *result,
                              unsigned *cls);
/* Make every item stored before now + delay (0 = now) invisible. */
void cache_flush(struct cache *c, int64_t delay);
bool cache_exists(struct cache *c, const char *key, size_t nkey);

/* memcached's "slabs reassign": what became of a request to move one
 * page from class src to class dst. */
enum cache_move_status {
    CACHE_MOVE_OK,       /* the maintainer moves it on its next step */
    CACHE_MOVE_BUSY,     /* a move is under way or already asked for */
    CACHE_MOVE_BADCLASS, /* no such class */
    CACHE_MOVE_NOSPARE,  /* src has fewer than two pages */
    CACHE_MOVE_SAME,     /* src is dst */
};
enum cache_move_status cache_request_move(struct cache *c, unsigned src,
                                          unsigned dst);
/* HOT's and WARM's shares of each class for a segmented policy (lru),
 * in percent, hot + warm <= 100; kept for stats with any policy. */
void cache_set_lru_shares(struct cache *c, unsigned hot_pct,
                          unsigned warm_pct);
void cache_lru_shares(struct cache *c, unsigned *hot_pct,
                      unsigned *warm_pct);
/* memcached's `lru mode flat`: HOT and WARM hold nothing, so each class
 * is one list where an item read since it came in gets a second trip
 * (memcached's flat LRU bumps it to the head instead); segmented again
 * brings the shares back. */
void cache_set_lru_flat(struct cache *c, bool flat);
bool cache_lru_flat(struct cache *c);
/* Whether a class that finds no memory gets a page moved to it from the
 * class with the most (on by default; memcached's slab_automove). */
void cache_set_automove(struct cache *c, bool on);
bool cache_automove(struct cache *c);

/* Change the memory limit; false when it cannot be raised that far. */
bool cache_set_limit(struct cache *c, uint64_t limit);
/* Background work, at most budget units of each kind: hash table growth
 * (more when the table is large: a growth takes at most 256 calls); the
 * expiry reaper, which sweeps the table and frees expired and flushed
 * items nobody holds; page moves, which give a class that found no
 * memory a page from the class with the most (evicting what that page
 * holds); and memory made resident ahead of the pages stores will take
 * (up to 16 MiB, within the limit). Returns true while there is more to
 * do soon. Call from one thread at a time. */
bool cache_maintain(struct cache *c, unsigned budget);

uint64_t cache_count(struct cache *c);
/* Grows whenever an item is linked, unlinked or changed in place (a
 * snapshot is due only when it moved). */
uint64_t cache_changes(struct cache *c);
void cache_stats(struct cache *c, struct cache_stats *out);
/* memcached's `stats reset` of the engine: item and eviction counters,
 * per class too, and the policy's, from zero again; what the cache holds
 * (items, bytes, pages) is untouched. */
void cache_stats_reset(struct cache *c);
/* memcached's TEMP LRU (`lru temp_ttl`, -o temporary_ttl): while on, an
 * item linked with at most ttl seconds to live stays out of the eviction
 * policy: it is never evicted and never bumped, and goes when it expires
 * (or is deleted or replaced), whatever the policy. Off by default, with
 * memcached's ttl of 61. Changes apply to items linked from then on. */
#define CACHE_TEMP_TTL_DEFAULT 61
void cache_set_temp_lru(struct cache *c, bool on, uint32_t ttl);
void cache_temp_lru(struct cache *c, bool *on, uint32_t *ttl);

/* An observer of lookups and evictions (the daemon's `watch` logs, as
 * memcached's logger sees them). It runs on the thread that caused the
 * event, with the item's stripe lock held: it must be quick and must not
 * call the cache. Key and item fields are valid only during the call. */
enum cache_event_kind {
    CACHE_EVENT_FETCH = 1u << 0,  /* a key looked up, by any command */
    CACHE_EVENT_EVICT = 1u << 1,  /* a live item evicted for room */
    CACHE_EVENT_STORE = 1u << 2,  /* a store's outcome (cache_store,
                                     cache_mstore) */
    CACHE_EVENT_DELETE = 1u << 3, /* an item deleted by cache_delete, or
                                     (meta set) cache_mdelete */
    CACHE_EVENT_SLAB_MOVE = 1u << 4, /* a page moved from class cls to
                                        class dst (no key, no stripe) */
};
struct cache_event {
    enum cache_event_kind kind;
    const char *key;
    size_t nkey;
    bool found;        /* FETCH: a live item */
    unsigned cls;      /* its slab class; 0 on a miss */
    size_t nvalue;     /* its value bytes; 0 on a miss (STORE: the new
                          item's, class and size) */
    bool fetched;      /* EVICT: read since stored */
    bool meta;         /* DELETE: by cache_mdelete */
    unsigned dst;      /* SLAB_MOVE: the class that got the page */
    int64_t ttl;       /* EVICT: seconds it had left, -1 for no expiry */
    uint32_t idle;     /* EVICT: seconds since last accessed */
    enum cache_status status;     /* STORE */
    enum cache_store_mode mode;   /* STORE: CACHE_CAS for any CAS store */
    int64_t expires_in;           /* STORE: seconds until the new item
                                     expires, 0 for never */
};
typedef void (*cache_event_fn)(const struct cache_event *ev, void *arg);
/* Set once, before requests run. */
void cache_set_observer(struct cache *c, cache_event_fn fn, void *arg);
/* The kinds it is told of from now on (a mask; 0, the default, costs a
 * relaxed load per lookup). Any thread, any time. */
void cache_observe(struct cache *c, unsigned kinds);

/* memcached's item size histogram (`stats sizes`, lib/size_hist.h): on
 * for items linked from now on. Refused without CAS, as memcached, whose
 * histogram tells its items apart by CAS, refuses it. */
enum cache_sizes_status {
    CACHE_SIZES_ON,
    CACHE_SIZES_NO_CAS,
    CACHE_SIZES_NO_MEMORY,
};
enum cache_sizes_status cache_sizes_enable(struct cache *c);
void cache_sizes_disable(struct cache *c);
bool cache_sizes_enabled(struct cache *c);
/* Nothing while off. */
void cache_sizes_report(struct cache *c, size_hist_emit_fn emit, void *arg);
/* The eviction policy's own counters (name, value), if it keeps any. */
void cache_policy_stats(struct cache *c,
                        void (*emit)(const char *name, uint64_t value,
                                     void *arg),
                        void *arg);
/* Class ids run from 1 to cache_nclasses(). */
unsigned cache_nclasses(struct cache *c);
void cache_class_stats(struct cache *c, unsigned cls,
                       struct cache_class_stats *out);

/* One live item as a scan sees it. */
struct cache_item_info {
    struct cache_item_view view;
    unsigned cls;       /* slab class */
    size_t total;       /* bytes of the item, header included */
    time_t expires;     /* unix time, 0 = never */
    time_t atime;       /* unix time of the last access */
    bool fetched;
    bool key_binary;    /* stored under a binary (base64-sent) key */
    unsigned bits;      /* per-item state a snapshot keeps, opaque:
                           give it back in cache_restore_item.bits */
};
/* Called with the item's hash stripe held: copy what is needed, do no
 * I/O and never call back into the cache. */
typedef void (*cache_scan_fn)(const struct cache_item_info *info, void *arg);
/* Visit the live items of up to `budget` hash buckets, continuing from
 * *cursor (start at 0). Returns true when the scan has covered the whole
 * table. Every item that stays linked for the whole scan is visited once,
 * even if the table grows meanwhile. Any thread may scan, several at once;
 * requests keep running between (and, for other stripes, during) steps. */
bool cache_scan_step(struct cache *c, uint64_t *cursor, unsigned budget,
                     cache_scan_fn fn, void *arg);

/* An item coming back from a snapshot. */
struct cache_restore_item {
    const char *key;
    size_t nkey;
    const char *value;  /* without the trailing "\r\n" */
    size_t nvalue;
    uint32_t flags;
    time_t expires;     /* unix time, 0 = never */
    time_t atime;       /* unix time of the last access */
    uint64_t cas;
    unsigned bits;      /* cache_item_info.bits as it was saved */
};
/* Size the hash table for this many items now, before a bulk load. */
void cache_expect(struct cache *c, uint64_t items);
/* Make about `bytes` of item memory resident ahead of a bulk load (run
 * on a thread of its own beside the load); stops early once *stop (if not
 * NULL) is true. */
void cache_prefault(struct cache *c, uint64_t bytes, const _Atomic bool *stop);
/* The slab class an item of this key and value (without "\r\n") and these
 * client flags takes; 0 when it is larger than the item size limit. */
unsigned cache_class_of(struct cache *c, size_t nkey, size_t nvalue,
                        uint32_t flags);
/* Link a restored item with its own CAS, never evicting anything for it:
 * CACHE_NO_MEMORY means that its slab class has no free chunk and the
 * memory limit leaves no page to give it (other classes may still have
 * room), CACHE_TOO_LARGE that it can never fit, CACHE_NOT_STORED that it
 * has expired or the key is already present. Later CAS values start above
 * every restored one. */
enum cache_status cache_restore(struct cache *c,
                                const struct cache_restore_item *r);
/* Unlink every item nobody holds, at once: to undo a load that turned
 * out bad, before requests are served (it walks the whole table). */
void cache_clear(struct cache *c);
/* cache_restore() of each of r[0..n-1] into st[0..n-1], with the cache
 * misses of the batch's hash buckets and new items overlapped: the way
 * to load many items. n is at most CACHE_RESTORE_BATCH. */
#define CACHE_RESTORE_BATCH 64
void cache_restore_batch(struct cache *c, const struct cache_restore_item *r,
                         size_t n, enum cache_status *st);

size_t cache_item_size_max(struct cache *c);
struct slabs *cache_slabs(struct cache *c);

#endif
