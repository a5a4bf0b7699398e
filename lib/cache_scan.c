/*
 * lib/cache_scan.c - the cache as a whole: bounded scans of every live
 * item (snapshots, lru_crawler listings, stats cachedump) and bulk
 * restores from a snapshot. See cache.h.
 */
#include "lib/cache.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdint.h>
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

/* One item of a restore batch on its way in. */
struct restore_slot {
    struct item *it; /* its chunk, once it has one */
    unsigned cls;
    size_t total;
    rel_time_t exptime;
};

/* The class and expiry of r: CACHE_OK, or why it cannot come back. The
 * class is by the rule a client's set meets, so a snapshot from a larger
 * -I never brings back what could not be stored now. */
static enum cache_status restore_class(struct cache *c,
                                       const struct cache_restore_item *r,
                                       rel_time_t now, struct restore_slot *s)
{
    s->it = NULL;
    s->exptime = r->expires == 0 ? 0 : rel_of(c, r->expires);
    if (s->exptime != 0 && s->exptime <= now)
        return CACHE_NOT_STORED;
    s->total = item_total(r->nkey, r->nvalue + 2, c->use_cas);
    s->cls = class_for_item(c, r->nkey, r->nvalue + 2, r->flags);
    return s->cls == 0 ? CACHE_TOO_LARGE : CACHE_OK;
}

/* Chunks for the slots still CACHE_OK from `first` on that share its
 * class, under one class lock (no eviction, no borrowing): CACHE_NO_MEMORY
 * for those the class could not give. Returns the first slot past them. */
static size_t restore_alloc_run(struct cache *c, struct restore_slot *s,
                                enum cache_status *st, size_t first, size_t n)
{
    size_t sizes[CACHE_RESTORE_BATCH], slot[CACHE_RESTORE_BATCH], m = 0;
    void *chunk[CACHE_RESTORE_BATCH];
    size_t i = first;
    for (; i < n && (st[i] != CACHE_OK || s[i].cls == s[first].cls); i++) {
        if (st[i] == CACHE_OK) {
            slot[m] = i;
            sizes[m++] = s[i].total;
        }
    }
    size_t got = slabs_alloc_many(c->slabs, s[first].cls, sizes, m, chunk);
    for (size_t k = 0; k < m; k++) {
        if (k < got)
            s[slot[k]].it = chunk[k];
        else
            st[slot[k]] = CACHE_NO_MEMORY;
    }
    return i;
}

static void restore_alloc(struct cache *c, struct restore_slot *s,
                          enum cache_status *st, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (st[i] != CACHE_OK)
            i++;
        else
            i = restore_alloc_run(c, s, st, i, n);
    }
}

static void restore_fill(struct cache *c, const struct cache_restore_item *r,
                         const struct restore_slot *s, rel_time_t now)
{
    rel_time_t atime = r->atime > 0 ? rel_of(c, r->atime) : now;
    if (atime > now)
        atime = now;
    item_init(s->it, c->use_cas, s->cls, r->key, r->nkey, r->flags,
              s->exptime, r->nvalue + 2, atime);
    char *v = item_value(s->it, c->use_cas);
    memcpy(v, r->value, r->nvalue);
    memcpy(v + r->nvalue, "\r\n", 2);
    item_flags_init(s->it, (uint8_t)(r->bits & SNAPSHOT_BITS));
}

/* Ask for every cache line of a batch's chunks ahead of writing them: the
 * kernel zeroed these pages on another core (cache_prefault()), and the
 * stripe lock of the first link waits for every write before it. */
static void restore_prefetch(const struct restore_slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].it == NULL)
            continue;
        uintptr_t line = (uintptr_t)s[i].it & ~(uintptr_t)63;
        uintptr_t end = (uintptr_t)s[i].it + s[i].total;
        for (; line < end; line += 64)
            __builtin_prefetch((const void *)line, 1);
    }
}

/* Link a filled item unless its key is already there (then free it);
 * the item's bytes, or 0 when it was not linked. */
static size_t restore_link(struct cache *c, const struct cache_restore_item *r,
                           struct item *it, uint64_t hv, rel_time_t now)
{
    size_t bytes = 0;
    assoc_lock(c->assoc, hv);
    if (assoc_find_locked(c->assoc, hv, r->key, r->nkey) == NULL)
        bytes = link_restored_locked(c, it, hv, r->cas, now);
    assoc_unlock(c->assoc, hv);
    if (bytes == 0)
        cache_release(c, it);
    return bytes;
}

unsigned cache_class_of(struct cache *c, size_t nkey, size_t nvalue,
                        uint32_t flags)
{
    return class_for_item(c, nkey, nvalue + 2, flags);
}

enum cache_status cache_restore(struct cache *c,
                                const struct cache_restore_item *r)
{
    enum cache_status st;
    cache_restore_batch(c, r, 1, &st);
    return st;
}

/* Fill and link what restore_alloc() gave chunks to, of s[from..to-1];
 * adds to *linked and *bytes. Every fill comes before the first link:
 * the stripe lock waits for the writes before it. */
static void restore_group(struct cache *c, const struct cache_restore_item *r,
                          const struct restore_slot *s, const uint64_t *hv,
                          size_t from, size_t to, rel_time_t now,
                          enum cache_status *st, uint64_t *linked,
                          uint64_t *bytes)
{
    uint64_t top = 0;
    for (size_t i = from; i < to; i++) {
        if (s[i].it == NULL)
            continue;
        restore_fill(c, &r[i], &s[i], now);
        if (r[i].cas > top)
            top = r[i].cas;
    }
    raise_cas(c, top);
    for (size_t i = from; i < to; i++) {
        if (s[i].it == NULL)
            continue;
        size_t b = restore_link(c, &r[i], s[i].it, hv[i], now);
        if (b == 0)
            st[i] = CACHE_NOT_STORED;
        *linked += b != 0;
        *bytes += b;
    }
}

/* A batch goes in groups: while one group is filled and linked, the next
 * group's chains and chunks and the one after's buckets are on their way,
 * so that a load of small items (several misses an item, into memory no
 * cache holds) waits for them together. A batch takes one class lock per
 * run of a class, one clock reading and one update of the counts. */
#define RESTORE_GROUP 16

static size_t upto(size_t i, size_t n)
{
    return i < n ? i : n;
}

static void ask_group(struct cache *c, const struct restore_slot *s,
                      const uint64_t *hv, size_t from, size_t to)
{
    assoc_prefetch_chains(c->assoc, hv + from, to - from);
    restore_prefetch(s + from, to - from);
}

void cache_restore_batch(struct cache *c, const struct cache_restore_item *r,
                         size_t n, enum cache_status *st)
{
    uint64_t hv[CACHE_RESTORE_BATCH] = {0};
    struct restore_slot s[CACHE_RESTORE_BATCH];
    rel_time_t now = clock_now(c->clock);
    assert(n <= CACHE_RESTORE_BATCH);
    for (size_t i = 0; i < n; i++) {
        hv[i] = assoc_hash(r[i].key, r[i].nkey);
        st[i] = restore_class(c, &r[i], now, &s[i]);
    }
    restore_alloc(c, s, st, n);
    const size_t g = RESTORE_GROUP;
    uint64_t linked = 0, bytes = 0;
    assoc_prefetch_buckets(c->assoc, hv, upto(2 * g, n));
    ask_group(c, s, hv, 0, upto(g, n));
    for (size_t from = 0; from < n; from += g) {
        size_t to = upto(from + g, n), next = upto(to + g, n);
        if (next < n)
            assoc_prefetch_buckets(c->assoc, hv + next,
                                   upto(next + g, n) - next);
        if (to < n)
            ask_group(c, s, hv, to, next);
        restore_group(c, r, s, hv, from, to, now, st, &linked, &bytes);
    }
    count_restored(c, linked, bytes);
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
