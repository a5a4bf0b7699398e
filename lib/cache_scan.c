/*
 * lib/cache_scan.c - the cache as a whole: bounded scans of every live
 * item (snapshots, lru_crawler listings, stats cachedump) and bulk
 * restores from a snapshot. See cache.h.
 */
#include "lib/cache.h"

#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include "lib/assoc.h"
#include "lib/cache_internal.h"
#include "lib/slabs.h"

void cache_expect(struct cache *c, uint64_t items)
{
    assoc_presize(c->assoc, items);
}

void cache_prefault(struct cache *c, uint64_t bytes, const _Atomic bool *stop)
{
    slabs_prefault(c->slabs, bytes, stop);
}

/* Item flags that survive a restart (ITEM_LINKED is the cache's own). */
#define SNAPSHOT_BITS                                                         \
    (ITEM_FETCHED | ITEM_STALE | ITEM_TOKEN_SENT | ITEM_KEY_BINARY)

struct scan_ctx {
    struct cache *c;
    rel_time_t now;
    cache_scan_fn fn;
    void *arg;
};

static time_t unix_of(const struct cache *c, rel_time_t t)
{
    return clock_epoch(c->clock) + (time_t)t;
}

static void scan_item(struct item *it, void *arg)
{
    struct scan_ctx *s = arg;
    struct cache *c = s->c;
    if (is_dead(c, it, s->now))
        return;
    struct cache_item_info info = {
        .cls = it->clsid,
        .total = total_of(c, it),
        .expires = it->exptime == 0 ? 0 : unix_of(c, it->exptime),
        .atime = unix_of(c, item_atime(it)),
        .fetched = (item_iflags(it) & ITEM_FETCHED) != 0,
        .key_binary = (item_iflags(it) & ITEM_KEY_BINARY) != 0,
        .bits = item_iflags(it) & SNAPSHOT_BITS,
    };
    cache_item_view(c, it, &info.view);
    s->fn(&info, s->arg);
}

bool cache_scan_step(struct cache *c, uint64_t *cursor, unsigned budget,
                     cache_scan_fn fn, void *arg)
{
    struct scan_ctx s = {c, clock_now(c->clock), fn, arg};
    return assoc_scan_step(c->assoc, cursor, budget, scan_item, &s);
}

/* A unix time from a snapshot as a rel_time_t; 1 (expired) when it is
 * at or before the clock's start. */
static rel_time_t rel_of(const struct cache *c, time_t t)
{
    time_t epoch = clock_epoch(c->clock);
    if (t <= epoch)
        return 1;
    return t - epoch > UINT32_MAX ? UINT32_MAX : (rel_time_t)(t - epoch);
}

/* Fill a chunk from a restore record; no eviction, no borrowing. */
static struct item *restore_alloc(struct cache *c,
                                  const struct cache_restore_item *r,
                                  rel_time_t exptime, enum cache_status *st)
{
    size_t nbytes = r->nvalue + 2;
    size_t total = item_total(r->nkey, nbytes, c->use_cas);
    /* The rule a client's set meets, so a snapshot from a larger -I never
     * brings back what could not be stored now. */
    unsigned cls = class_for_item(c, r->nkey, nbytes, r->flags);
    *st = CACHE_TOO_LARGE;
    if (cls == 0)
        return NULL;
    struct item *it = slabs_alloc(c->slabs, cls, total);
    *st = CACHE_NO_MEMORY;
    if (it == NULL)
        return NULL;
    rel_time_t atime = r->atime > 0 ? rel_of(c, r->atime)
                                    : clock_now(c->clock);
    if (atime > clock_now(c->clock))
        atime = clock_now(c->clock);
    item_init(it, c->use_cas, cls, r->key, r->nkey, r->flags, exptime,
              nbytes, atime);
    char *v = item_value(it, c->use_cas);
    memcpy(v, r->value, r->nvalue);
    memcpy(v + r->nvalue, "\r\n", 2);
    item_flag_set(it, (uint8_t)(r->bits & SNAPSHOT_BITS));
    *st = CACHE_OK;
    return it;
}

static enum cache_status restore_hashed(struct cache *c,
                                        const struct cache_restore_item *r,
                                        uint64_t hv)
{
    rel_time_t exptime = r->expires == 0 ? 0 : rel_of(c, r->expires);
    if (exptime != 0 && exptime <= clock_now(c->clock))
        return CACHE_NOT_STORED;
    enum cache_status st;
    struct item *it = restore_alloc(c, r, exptime, &st);
    if (it == NULL)
        return st;
    assoc_lock(c->assoc, hv);
    bool fresh = assoc_find_locked(c->assoc, hv, r->key, r->nkey) == NULL;
    if (fresh)
        link_handing_over_locked(c, it, hv, r->cas);
    assoc_unlock(c->assoc, hv);
    if (!fresh)
        cache_release(c, it);
    return fresh ? CACHE_OK : CACHE_NOT_STORED;
}

unsigned cache_class_of(struct cache *c, size_t nkey, size_t nvalue,
                        uint32_t flags)
{
    return class_for_item(c, nkey, nvalue + 2, flags);
}

enum cache_status cache_restore(struct cache *c,
                                const struct cache_restore_item *r)
{
    return restore_hashed(c, r, assoc_hash(r->key, r->nkey));
}

void cache_restore_batch(struct cache *c, const struct cache_restore_item *r,
                         size_t n, enum cache_status *st)
{
    uint64_t hv[CACHE_RESTORE_BATCH] = {0};
    assert(n <= CACHE_RESTORE_BATCH);
    for (size_t i = 0; i < n; i++)
        hv[i] = assoc_hash(r[i].key, r[i].nkey);
    assoc_prefetch(c->assoc, hv, n);
    for (size_t i = 0; i < n; i++)
        st[i] = restore_hashed(c, &r[i], hv[i]);
}

static void clear_item(struct item *it, uint64_t hv, void *arg)
{
    struct cache *c = arg;
    if (item_refcount(it) == 1) /* only the table's reference */
        unlink_locked(c, it, hv, false);
}

void cache_clear(struct cache *c)
{
    /* A walk visits nothing while the table grows: finish growing first
     * (this runs before requests are served, so the time is free). */
    while (assoc_grow_step(c->assoc, 1u << 20))
        ;
    uint64_t cursor = 0, steps = ((uint64_t)1 << assoc_power(c->assoc) >> 20)
                                 + 2;
    for (uint64_t i = 0; i < steps; i++)
        if (assoc_walk_step(c->assoc, &cursor, 1u << 20, clear_item, c))
            break;
}
