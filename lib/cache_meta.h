/*
 * lib/cache_meta.h - engine operations behind the memcached meta
 * protocol (mg ms md ma me), on the same cache as lib/cache.h.
 *
 * The engine knows nothing of flags on the wire: each call takes an
 * options struct saying what to do, does all of it under the item's
 * stripe lock (so "look, then create or mark" is one atomic step), and
 * returns the metadata a reply needs. Items keep three meta bits
 * (items.h): stale (set by an invalidation, cleared by a fresh store),
 * token-sent (a client won the right to recache) and binary key.
 *
 * Times are as clients send them (cache_alloc's exptime rules); remaining
 * TTLs come back as seconds from now, -1 for "never expires".
 */
#ifndef ZK_LIB_CACHE_META_H
#define ZK_LIB_CACHE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cache.h"

/* What an item looked like to one request. */
struct cache_meta {
    uint64_t cas;
    uint32_t flags;
    uint32_t nbytes;      /* value bytes without "\r\n" */
    int64_t ttl_before;   /* remaining TTL before this request changed it
                             (an item it created: -1) */
    int64_t ttl;          /* remaining TTL after it */
    uint32_t idle;        /* seconds since the last access, before it */
    bool fetched;         /* fetched before this request */
    bool token_sent;      /* a recache winner was already chosen before */
    bool stale;
    bool won;             /* this request won the recache (or created it) */
    bool created;         /* made by this request (vivify) */
    bool binary_key;
};

struct cache_mget_opts {
    bool no_bump;            /* leave LRU position and "fetched" alone */
    bool touch;              /* set exptime to touch_exptime */
    int64_t touch_exptime;
    bool vivify;             /* on a miss create an empty item ... */
    int64_t vivify_exptime;  /* ... with this exptime, and win it */
    bool binary_key;         /* ... whose key is binary */
    bool recache;            /* win when the TTL is below recache_ttl */
    int64_t recache_ttl;
    bool recache_after_touch; /* the TTL compared is the touched one */
    bool vivify_after_touch; /* N came after T: an item this creates
                                keeps N's TTL (memcached: the later wins) */
    bool set_cas;            /* a created item gets new_cas */
    uint64_t new_cas;
};

/* A live item with a reference the caller returns with cache_release(),
 * or NULL with *why set (a vivified item is never NULL). *out is filled
 * for a non-NULL result. */
struct item *cache_mget(struct cache *c, const char *key, size_t nkey,
                        const struct cache_mget_opts *o,
                        struct cache_meta *out, enum cache_miss *why);

struct cache_mstore_opts {
    enum cache_store_mode mode; /* SET ADD REPLACE APPEND PREPEND */
    bool compare;            /* SET/REPLACE: a CAS store (NOT_FOUND on a
                                miss); APPEND/PREPEND: EXISTS on mismatch;
                                ADD: ignored, as memcached does */
    uint64_t cas;
    bool invalidate;         /* with compare: a CAS older than the item's
                                still stores, and marks the item stale */
    bool set_cas;            /* give the stored item new_cas */
    uint64_t new_cas;
    bool vivify;             /* APPEND/PREPEND on a miss store the data
                                alone, with vivify_exptime */
    int64_t vivify_exptime;
    bool binary_key;
};

/* What is stored under the key after a successful cache_mstore(). */
struct cache_mstore_result {
    uint64_t cas;
    uint32_t size;           /* value bytes without "\r\n" (after an
                                append: the joined value's) */
    unsigned old_cls;        /* class of the item found, 0 if none */
};

/* Link an item from cache_alloc() (the caller keeps its reference). */
enum cache_status cache_mstore(struct cache *c, struct item *it,
                               const struct cache_mstore_opts *o,
                               struct cache_mstore_result *out);

struct cache_mdelete_opts {
    bool compare;            /* EXISTS unless the item's CAS is cas */
    uint64_t cas;
    bool invalidate;         /* keep the item: mark it stale, clear
                                token-sent, give it a new CAS */
    bool touch;              /* with invalidate: new exptime */
    int64_t touch_exptime;
    bool drop_value;         /* keep the item with an empty value */
    bool set_cas;            /* the CAS for invalidate / drop_value */
    uint64_t new_cas;
};

/* CACHE_OK, CACHE_NOT_FOUND or CACHE_EXISTS. *cls (if cls) gets the
 * class of the item found under the key, 0 for none. */
enum cache_status cache_mdelete(struct cache *c, const char *key,
                                size_t nkey,
                                const struct cache_mdelete_opts *o,
                                unsigned *cls);

struct cache_marith_opts {
    bool incr;
    uint64_t delta;
    bool compare;
    uint64_t cas;
    bool touch;              /* on success, new exptime */
    int64_t touch_exptime;
    bool vivify;             /* on a miss create the counter ... */
    int64_t vivify_exptime;  /* ... with this exptime ... */
    uint64_t initial;        /* ... holding this value (no delta applied) */
    bool binary_key;
    bool set_cas;
    uint64_t new_cas;
    struct cache_sent_refs sent; /* see lib/cache.h; empty for none */
};

struct cache_marith_result {
    uint64_t value;
    uint64_t cas;
    int64_t ttl;
    bool created;
    unsigned cls;            /* the counter's slab class (of the item
                                found, also when the answer is not OK) */
};

/* CACHE_OK, CACHE_NOT_FOUND, CACHE_EXISTS, CACHE_NON_NUMERIC or
 * CACHE_NO_MEMORY. */
enum cache_status cache_marith(struct cache *c, const char *key,
                               size_t nkey,
                               const struct cache_marith_opts *o,
                               struct cache_marith_result *out);

/* One item's internals, for me. */
struct cache_mdebug {
    int64_t exp;       /* -1: never; else now - exptime (negative while
                          live, as memcached prints it) */
    uint32_t la;       /* seconds since the last access */
    uint64_t cas;
    bool fetched;
    unsigned cls;
    uint64_t size;     /* whole item, header included */
    bool binary_key;
};

/* Found: true and *out filled. Neither bumps nor counts the item. */
bool cache_mdebug(struct cache *c, const char *key, size_t nkey,
                  struct cache_mdebug *out);

#endif
