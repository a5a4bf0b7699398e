/*
 * lib/cache_observe.c - the cache's events for its observer (the
 * daemon's `watch` logs): each built from the item it is about, under its
 * stripe lock, and handed over. See cache.h (cache_set_observer) and
 * cache_internal.h (cache_observing, which callers check first so that
 * nobody watching costs one load).
 */
#include "lib/cache.h"

#include <stdatomic.h>

#include "lib/assoc.h"
#include "lib/cache_internal.h"

void cache_set_observer(struct cache *c, cache_event_fn fn, void *arg)
{
    c->observer = fn;
    c->observer_arg = arg;
}

void cache_observe(struct cache *c, unsigned kinds)
{
    atomic_store_explicit(&c->observed, kinds, memory_order_relaxed);
}

void observe_fetch(struct cache *c, const char *key, size_t nkey,
                   const struct item *it)
{
    struct cache_event ev = {
        .kind = CACHE_EVENT_FETCH, .key = key, .nkey = nkey,
        .found = it != NULL,
        .cls = it != NULL ? it->clsid : 0,
        .nvalue = it != NULL ? it->nbytes - 2 : 0,
    };
    c->observer(&ev, c->observer_arg);
}

void observe_evict(struct cache *c, const struct item *it, rel_time_t now)
{
    rel_time_t atime = item_atime(it);
    struct cache_event ev = {
        .kind = CACHE_EVENT_EVICT,
        .key = item_ckey(it, c->use_cas), .nkey = it->nkey,
        .found = true, .cls = it->clsid, .nvalue = it->nbytes - 2,
        .fetched = (item_iflags(it) & ITEM_FETCHED) != 0,
        .ttl = it->exptime == 0 ? -1
                                : (int64_t)it->exptime - (int64_t)now,
        .idle = now > atime ? now - atime : 0,
    };
    c->observer(&ev, c->observer_arg);
}

void observe_delete(struct cache *c, const struct item *it, bool meta)
{
    struct cache_event ev = {
        .kind = CACHE_EVENT_DELETE,
        .key = item_ckey(it, c->use_cas), .nkey = it->nkey,
        .found = true, .cls = it->clsid, .nvalue = it->nbytes - 2,
        .meta = meta,
    };
    c->observer(&ev, c->observer_arg);
}

void observe_store(struct cache *c, const struct item *it, uint64_t hv,
                   enum cache_store_mode mode, bool compare,
                   enum cache_status st)
{
    rel_time_t now = clock_now(c->clock);
    /* an append or prepend linked a joined copy: report that */
    const struct item *joined = NULL;
    if (st == CACHE_OK && (mode == CACHE_APPEND || mode == CACHE_PREPEND))
        joined = assoc_find_locked(c->assoc, hv, item_ckey(it, c->use_cas),
                                   it->nkey);
    if (joined != NULL)
        it = joined;
    struct cache_event ev = {
        .kind = CACHE_EVENT_STORE,
        .key = item_ckey(it, c->use_cas), .nkey = it->nkey,
        .cls = it->clsid, .nvalue = it->nbytes - 2,
        .status = st, .mode = compare ? CACHE_CAS : mode,
        .expires_in = it->exptime == 0 ? 0
                                       : (int64_t)it->exptime - (int64_t)now,
    };
    c->observer(&ev, c->observer_arg);
}

void observe_slab_move(struct cache *c, unsigned src, unsigned dst)
{
    struct cache_event ev = {
        .kind = CACHE_EVENT_SLAB_MOVE, .key = "", .cls = src, .dst = dst,
    };
    c->observer(&ev, c->observer_arg);
}
