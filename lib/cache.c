/*
 * lib/cache.c - see cache.h.
 *
 * Reference counting: a linked item holds one reference for being linked
 * (ITEM_LINKED, in the hash table and the policy), plus one per caller
 * holding it. New references are only taken under the item's stripe lock,
 * so with the stripe held a count of 1 means "linked and nobody reading".
 * Whoever drops the count to 0 frees the chunk.
 *
 * Lock order: stripe -> policy class -> slabs. Eviction runs under the
 * policy class lock and therefore only trylocks stripes.
 *
 * The struct and the stripe-locked helpers are shared through
 * lib/cache_internal.h with lib/cache_meta.c (the meta protocol's
 * operations), lib/cache_counter.c (incr and decr), lib/cache_scan.c
 * (scans and restores), lib/cache_stats.c
 * (figures and `stats reset`) and lib/cache_observe.c (events for the
 * observer: lookups, stores, evictions, deletions, page moves); the rules
 * above hold there too. The observer runs under the stripe lock and must
 * not call back into the cache.
 */
#include "lib/cache.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/assoc.h"
#include "lib/balance.h"
#include "lib/cache_internal.h"
#include "lib/policy.h"
#include "lib/policy_lru.h"
#include "lib/slabs.h"

#define CACHE_EVICT_TRIES 5   /* tail items looked at per eviction */
#define CACHE_ALLOC_TRIES 10  /* evict-then-allocate rounds */
#define CACHE_BORROW_CLASSES 4 /* larger classes a starving class may use */
#define AUTOMOVE_WINDOW 30     /* memcached's slab_automove_window */
#define AUTOMOVE_RATIO 0.8     /* and slab_automove_ratio */

static void count(_Atomic uint64_t *ctr, int64_t delta)
{
    atomic_fetch_add_explicit(ctr, (uint64_t)delta, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *ctr)
{
    return atomic_load_explicit(ctr, memory_order_relaxed);
}

void cache_config_defaults(struct cache_config *cfg)
{
    *cfg = (struct cache_config){
        .limit = 64ull << 20,
        .item_size_max = 1 << 20,
        .chunk_min = 48,
        .factor = 1.25,
        .use_cas = true,
        .evict = true,
    };
}

/* The hash table: sized for the items expected if that is larger (a
 * table made at its final size costs one allocation, where growing it
 * there costs a walk and an allocation per doubling), else as asked, else
 * (a table as asked would not fit in the limit, which memcached does not
 * charge it to) at the default size, to grow with the items. */
static struct assoc *make_table(struct cache *c, const struct cache_config *cfg)
{
    unsigned asked = cfg->hashpower ? cfg->hashpower : ASSOC_DEFAULT_POWER;
    unsigned fit = assoc_power_for(cfg->expect_items);
    struct assoc *a = NULL;
    if (fit > asked)
        a = assoc_create(c->slabs, c->use_cas, fit, cfg->stripe_power);
    if (a == NULL) /* or the limit has no room for it */
        a = assoc_create(c->slabs, c->use_cas, cfg->hashpower,
                         cfg->stripe_power);
    if (a == NULL && cfg->hashpower > ASSOC_DEFAULT_POWER)
        a = assoc_create(c->slabs, c->use_cas, ASSOC_DEFAULT_POWER,
                         cfg->stripe_power);
    return a;
}

struct cache *cache_create(const struct cache_config *cfg, struct clock *clk)
{
    struct cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->clock = clk;
    c->automove = true;
    pthread_mutex_init(&c->tune_lock, NULL);
    c->temp_ttl = CACHE_TEMP_TTL_DEFAULT;
    c->lru_hot_pct = LRU_HOT_PCT;
    c->lru_warm_pct = LRU_WARM_PCT;
    c->use_cas = cfg->use_cas;
    c->evict = cfg->evict;
    c->pops = policy_find(cfg->policy != NULL ? cfg->policy : "lru");
    struct slabs_config sc = {
        .limit = cfg->limit,
        .reserve = cfg->reserve,
        .item_size_max = cfg->item_size_max,
        .min_chunk = item_total(0, cfg->chunk_min, cfg->use_cas),
        .factor = cfg->factor,
        .sizes = cfg->class_sizes,
        .nsizes = cfg->nclass_sizes,
    };
    if (c->pops == NULL || (c->slabs = slabs_create(&sc)) == NULL)
        goto fail;
    c->item_max = slabs_largest_chunk(c->slabs);
    if ((c->sizes = size_hist_create(c->item_max)) == NULL ||
        (cfg->track_sizes && !size_hist_enable(c->sizes)))
        goto fail;
    c->assoc = make_table(c, cfg);
    if (c->assoc == NULL || (c->policy = c->pops->create(c->slabs)) == NULL)
        goto fail;
    c->balance = balance_create(
        slabs_nclasses(c->slabs),
        cfg->automove_window ? cfg->automove_window : AUTOMOVE_WINDOW,
        cfg->automove_ratio > 0 ? cfg->automove_ratio : AUTOMOVE_RATIO);
    if (c->balance == NULL)
        goto fail;
    return c;
fail:
    cache_destroy(&c);
    return NULL;
}

void cache_destroy(struct cache **cp)
{
    if (cp == NULL || *cp == NULL)
        return;
    struct cache *c = *cp;
    if (c->policy != NULL)
        c->pops->destroy(c->policy);
    balance_destroy(&c->balance);
    assoc_destroy(&c->assoc);
    slabs_destroy(&c->slabs);
    size_hist_destroy(&c->sizes);
    pthread_mutex_destroy(&c->tune_lock);
    free(c);
    *cp = NULL;
}

size_t total_of(const struct cache *c, const struct item *it)
{
    return item_total(it->nkey, it->nbytes, c->use_cas);
}

uint64_t hash_of(const struct cache *c, const struct item *it)
{
    return assoc_hash(item_ckey(it, c->use_cas), it->nkey);
}

void cache_release(struct cache *c, struct item *it)
{
    if (item_unref(it) == 0)
        slabs_free(c->slabs, it, it->clsid, total_of(c, it));
}

/* memcached's rule: an item is flushed when a flush moment has passed and
 * the item was stored (or bumped) no later than it, or carries a CAS
 * older than the flush. */
static bool is_flushed(struct cache *c, const struct item *it, rel_time_t now)
{
    rel_time_t oldest = atomic_load_explicit(&c->oldest_live,
                                             memory_order_relaxed);
    if (oldest == 0 || oldest > now)
        return false;
    if (item_atime(it) <= oldest)
        return true;
    uint64_t oldest_cas = load(&c->oldest_cas);
    uint64_t cas = item_cas(it, c->use_cas);
    return oldest_cas != 0 && cas != 0 && cas < oldest_cas;
}

bool is_dead(struct cache *c, const struct item *it, rel_time_t now)
{
    return is_flushed(c, it, now) || item_expired(it, now);
}

/* Add to the item bytes and keep the high-water mark: the compare and
 * swap only runs while a new peak is being set. */
static void note_bytes(struct cache *c, int64_t delta)
{
    uint64_t now = atomic_fetch_add_explicit(&c->bytes, (uint64_t)delta,
                                             memory_order_relaxed) +
                   (uint64_t)delta;
    uint64_t peak = load(&c->bytes_peak);
    while (now > peak &&
           !atomic_compare_exchange_weak_explicit(&c->bytes_peak, &peak, now,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

/* memcached's rule (do_item_alloc): an expiry at most temp_ttl seconds
 * away, and not already past. */
static bool goes_to_temp(struct cache *c, const struct item *it,
                         rel_time_t now)
{
    return atomic_load_explicit(&c->temp_on, memory_order_relaxed) &&
           it->exptime != 0 && it->exptime >= now &&
           it->exptime - now <=
               atomic_load_explicit(&c->temp_ttl, memory_order_relaxed);
}

void hit_locked(struct cache *c, struct item *it, rel_time_t now)
{
    if (!(item_iflags(it) & ITEM_TEMP))
        c->pops->hit(c->policy, it, now);
}

void cache_set_temp_lru(struct cache *c, bool on, uint32_t ttl)
{
    atomic_store(&c->temp_ttl, ttl);
    atomic_store(&c->temp_on, on);
}

void cache_temp_lru(struct cache *c, bool *on, uint32_t *ttl)
{
    *on = atomic_load(&c->temp_on);
    *ttl = atomic_load(&c->temp_ttl);
}

/* Put a new item in the table and in its policy (or the temporary LRU)
 * under `cas`, the caller's reference becoming the table's. Returns its
 * bytes, for the caller to count. Stripe held. */
static size_t link_uncounted(struct cache *c, struct item *it, uint64_t hv,
                             uint64_t cas, rel_time_t now)
{
    item_set_cas(it, c->use_cas, cas);
    item_flag_set(it, ITEM_LINKED);
    assoc_insert_locked(c->assoc, hv, it);
    if (goes_to_temp(c, it, now)) {
        item_flag_set(it, ITEM_TEMP);
        count(&c->temp_items[it->clsid], 1);
    } else {
        c->pops->link(c->policy, it, now);
    }
    size_t bytes = total_of(c, it);
    /* fresh items and unlinked ones carry no mark */
    if (size_hist_add(c->sizes, bytes))
        item_flag_set(it, ITEM_SIZED);
    return bytes;
}

static uint64_t fresh_cas(struct cache *c)
{
    return atomic_fetch_add_explicit(&c->next_cas, 1,
                                     memory_order_relaxed) + 1;
}

/* link_locked() but for total_items. Stripe held. */
static void link_item(struct cache *c, struct item *it, uint64_t hv)
{
    item_ref(it);
    size_t bytes = link_uncounted(c, it, hv, fresh_cas(c),
                                  clock_now(c->clock));
    note_bytes(c, (int64_t)bytes);
}

/* Stripe held. */
void link_locked(struct cache *c, struct item *it, uint64_t hv)
{
    link_item(c, it, hv);
    count(&c->total_items, 1);
}

/* Keep fresh CASes above one chosen outside the cache. */
void raise_cas(struct cache *c, uint64_t cas)
{
    uint64_t cur = atomic_load_explicit(&c->next_cas, memory_order_relaxed);
    while (cur < cas &&
           !atomic_compare_exchange_weak_explicit(&c->next_cas, &cur, cas,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

size_t link_restored_locked(struct cache *c, struct item *it, uint64_t hv,
                            uint64_t cas, rel_time_t now)
{
    return link_uncounted(c, it, hv, cas == 0 ? fresh_cas(c) : cas, now);
}

void count_restored(struct cache *c, uint64_t items, uint64_t bytes)
{
    note_bytes(c, (int64_t)bytes);
    count(&c->total_items, (int64_t)items);
}

/* Stripe held; policy_locked says the caller holds the policy's class
 * lock (eviction). Drops the link reference. */
void unlink_locked(struct cache *c, struct item *it, uint64_t hv,
                          bool policy_locked)
{
    assoc_remove_locked(c->assoc, hv, it);
    if (item_iflags(it) & ITEM_TEMP)
        count(&c->temp_items[it->clsid], -1);
    else if (policy_locked)
        c->pops->unlink_locked(c->policy, it);
    else
        c->pops->unlink(c->policy, it);
    size_t bytes = total_of(c, it);
    count(&c->bytes, -(int64_t)bytes);
    if (item_iflags(it) & ITEM_SIZED)
        size_hist_remove(c->sizes, bytes);
    item_flag_clear(it, ITEM_LINKED | ITEM_SIZED | ITEM_TEMP);
    cache_release(c, it);
}

void replace_locked(struct cache *c, struct item *old,
                           struct item *it, uint64_t hv)
{
    unlink_locked(c, old, hv, false);
    link_locked(c, it, hv);
}

/* The flags an item changed in place keeps (the others follow the link). */
#define KEPT_IN_PLACE                                                         \
    (ITEM_FETCHED | ITEM_STALE | ITEM_TOKEN_SENT | ITEM_KEY_BINARY)

void replace_in_place_locked(struct cache *c, struct item *old,
                             struct item *it, uint64_t hv)
{
    item_flag_set(it, item_iflags(old) & KEPT_IN_PLACE);
    unlink_locked(c, old, hv, false);
    link_item(c, it, hv);
    note_change(c);
}

/* A live item for key, unlinking a dead one on the way; memcached's
 * do_item_get, so every lookup is told to the observer. Stripe held. */
struct item *find_locked(struct cache *c, uint64_t hv,
                                const char *key, size_t nkey,
                                enum cache_miss *why)
{
    struct item *it = find_locked_quiet(c, hv, key, nkey, why);
    if (cache_observing(c, CACHE_EVENT_FETCH))
        observe_fetch(c, key, nkey, it);
    return it;
}

struct item *find_locked_quiet(struct cache *c, uint64_t hv,
                               const char *key, size_t nkey,
                               enum cache_miss *why)
{
    struct item *it = assoc_find_locked(c->assoc, hv, key, nkey);
    enum cache_miss reason = CACHE_MISS_ABSENT;
    if (it != NULL) {
        rel_time_t now = clock_now(c->clock);
        if (is_flushed(c, it, now))
            reason = CACHE_MISS_FLUSHED;
        else if (item_expired(it, now))
            reason = CACHE_MISS_EXPIRED;
        if (reason != CACHE_MISS_ABSENT) {
            unlink_locked(c, it, hv, false);
            it = NULL;
        }
    }
    if (why != NULL)
        *why = reason;
    return it;
}

struct take_ctx {
    struct cache *c;
    rel_time_t now;
    bool dead_only;
};

/* Policy callback: take `it` if nobody holds it and, in dead_only mode,
 * it is expired or flushed. Runs under the policy class lock. */
/* Count the removal of `it` by eviction or as dead (stripe held). */
static void count_taken(struct cache *c, struct item *it, bool dead,
                        rel_time_t now)
{
    struct class_counters *cc = &c->per_class[it->clsid];
    bool fetched = item_iflags(it) & ITEM_FETCHED;
    if (dead) {
        count(&cc->reclaimed, 1);
        if (!fetched)
            count(&cc->expired_unfetched, 1);
        return;
    }
    count(&cc->evictions, 1);
    if (cache_observing(c, CACHE_EVENT_EVICT))
        observe_evict(c, it, now);
    if (!fetched)
        count(&cc->evicted_unfetched, 1);
    if (it->exptime != 0)
        count(&cc->evicted_nonzero, 1);
    rel_time_t idle = now > item_atime(it) ? now - item_atime(it) : 0;
    atomic_store_explicit(&cc->evicted_time, idle, memory_order_relaxed);
}

static bool take_item(void *arg, struct item *it)
{
    struct take_ctx *t = arg;
    struct cache *c = t->c;
    uint64_t hv = hash_of(c, it);
    if (!assoc_trylock(c->assoc, hv))
        return false;
    bool taken = false;
    if (!(item_iflags(it) & ITEM_LINKED)) {
        /* being unlinked by its stripe's holder: not ours */
    } else if (item_refcount(it) != 1) {
        count(&c->per_class[it->clsid].reflocked, 1);
    } else {
        bool dead = is_dead(c, it, t->now);
        if (dead || !t->dead_only) {
            count_taken(c, it, dead, t->now);
            unlink_locked(c, it, hv, true);
            taken = true;
        }
    }
    assoc_unlock(c->assoc, hv);
    return taken;
}

/* Free one chunk of class cls: a dead item first, else (if allowed) the
 * least valuable live one. */
static bool make_room(struct cache *c, unsigned cls)
{
    struct take_ctx t = {c, clock_now(c->clock), true};
    bool freed =
        c->pops->evict(c->policy, cls, CACHE_EVICT_TRIES, take_item, &t);
    if (!freed && c->evict) {
        t.dead_only = false;
        freed = c->pops->evict(c->policy, cls, CACHE_EVICT_TRIES, take_item,
                               &t);
    }
    if (freed)
        count(&c->per_class[cls].direct_reclaims, 1);
    return freed;
}

/* own: cls is the item's own class, which may take its first page past
 * the limit; a borrowed class uses what it has. */
static struct item *alloc_in_class(struct cache *c, unsigned cls,
                                   size_t total, bool own)
{
    for (int i = 0; i < CACHE_ALLOC_TRIES; i++) {
        struct item *it = own ? slabs_alloc_store(c->slabs, cls, total)
                              : slabs_alloc(c->slabs, cls, total);
        if (it != NULL || !make_room(c, cls))
            return it;
    }
    return NULL;
}

/* A chunk for `total` bytes: from its own class, else, while the
 * maintainer moves a page to that class, from one of the next few larger
 * classes, so a class that finds every page taken does not fail requests
 * in the meantime. *cls is updated to the class used. */
static struct item *alloc_chunk(struct cache *c, unsigned *cls, size_t total)
{
    struct item *it = alloc_in_class(c, *cls, total, true);
    if (it != NULL)
        return it;
    count(&c->per_class[*cls].outofmemory, 1);
    atomic_fetch_or(&c->starving, (uint64_t)1 << *cls);
    unsigned last = *cls + CACHE_BORROW_CLASSES;
    for (unsigned k = *cls + 1; k <= last && k <= slabs_nclasses(c->slabs);
         k++) {
        it = alloc_in_class(c, k, total, false);
        if (it != NULL) {
            *cls = k;
            return it;
        }
    }
    return NULL;
}

/* nexptime is already a rel_time_t. */
unsigned class_for_item(const struct cache *c, size_t nkey, size_t nbytes,
                        uint32_t flags)
{
    if (nkey == 0 || nkey > ITEM_KEY_MAX || nbytes < 2 ||
        item_memcached_total(nkey, nbytes, flags, c->use_cas) > c->item_max)
        return 0;
    return slabs_class_for(c->slabs, item_total(nkey, nbytes, c->use_cas));
}

enum cache_status alloc_item(struct cache *c, const char *key,
                                    size_t nkey, uint32_t flags,
                                    rel_time_t nexptime, size_t nbytes,
                                    struct item **out)
{
    size_t total = item_total(nkey, nbytes, c->use_cas);
    unsigned cls = class_for_item(c, nkey, nbytes, flags);
    *out = NULL;
    if (cls == 0)
        return CACHE_TOO_LARGE;
    struct item *it = alloc_chunk(c, &cls, total);
    if (it == NULL)
        return CACHE_NO_MEMORY;
    item_init(it, c->use_cas, cls, key, nkey, flags, nexptime, nbytes,
              clock_now(c->clock));
    *out = it;
    return CACHE_OK;
}

enum cache_status cache_alloc(struct cache *c, const char *key, size_t nkey,
                              uint32_t flags, int64_t exptime, size_t nbytes,
                              struct item **out)
{
    return alloc_item(c, key, nkey, flags, clock_exptime(c->clock, exptime),
                      nbytes, out);
}

char *cache_item_value(struct cache *c, struct item *it)
{
    return item_value(it, c->use_cas);
}

void cache_item_view(struct cache *c, struct item *it,
                     struct cache_item_view *out)
{
    out->key = item_key(it, c->use_cas);
    out->nkey = it->nkey;
    out->value = item_value(it, c->use_cas);
    out->nbytes = it->nbytes;
    out->flags = it->flags;
    out->cas = item_cas(it, c->use_cas);
    out->cls = it->clsid;
    out->seg = item_iflags(it) & ITEM_TEMP ? POLICY_SEG_TEMP
               : c->pops->seg_of != NULL ? c->pops->seg_of(c->policy, it)
                                       : POLICY_SEG_COLD;
}

/* append/prepend: a new item holding old's value joined with it's.
 * Stripe held. */
static enum cache_status join_locked(struct cache *c, struct item *old,
                                     struct item *it, bool append,
                                     uint64_t hv)
{
    size_t nbytes = old->nbytes + it->nbytes - 2;
    struct item *joined;
    enum cache_status st = alloc_item(c, item_key(old, c->use_cas), old->nkey,
                                      old->flags, old->exptime, nbytes,
                                      &joined);
    if (st != CACHE_OK)
        return CACHE_NOT_STORED; /* memcached: too large or no memory */
    char *dst = item_value(joined, c->use_cas);
    struct item *first = append ? old : it, *second = append ? it : old;
    memcpy(dst, item_value(first, c->use_cas), first->nbytes - 2);
    memcpy(dst + first->nbytes - 2, item_value(second, c->use_cas),
           second->nbytes);
    replace_locked(c, old, joined, hv);
    cache_release(c, joined);
    return CACHE_OK;
}

enum cache_status store_locked(struct cache *c, struct item *it,
                               enum cache_store_mode mode, uint64_t cas_in,
                               uint64_t hv, unsigned *cls)
{
    struct item *old = find_locked(c, hv, item_key(it, c->use_cas), it->nkey,
                                   NULL);
    note_cls(cls, old);
    switch (mode) {
    case CACHE_ADD:
        if (old != NULL) {
            /* memcached refreshes the existing item's place on a failed
             * add. */
            hit_locked(c, old, clock_now(c->clock));
            return CACHE_NOT_STORED;
        }
        break;
    case CACHE_REPLACE:
    case CACHE_APPEND:
    case CACHE_PREPEND:
        if (old == NULL)
            return CACHE_NOT_STORED;
        if (mode != CACHE_REPLACE)
            return join_locked(c, old, it, mode == CACHE_APPEND, hv);
        break;
    case CACHE_CAS:
        if (old == NULL)
            return CACHE_NOT_FOUND;
        /* Without CAS (-C) memcached's new item has none to match:
         * whatever was asked, it exists. */
        if (!c->use_cas || item_cas(old, c->use_cas) != cas_in)
            return CACHE_EXISTS;
        break;
    case CACHE_SET:
        break;
    }
    if (old != NULL)
        replace_locked(c, old, it, hv);
    else
        link_locked(c, it, hv);
    return CACHE_OK;
}

enum cache_status cache_store(struct cache *c, struct item *it,
                              enum cache_store_mode mode, uint64_t cas_in,
                              unsigned *cls)
{
    uint64_t hv = hash_of(c, it);
    assoc_lock(c->assoc, hv);
    enum cache_status st = store_locked(c, it, mode, cas_in, hv, cls);
    if (cache_observing(c, CACHE_EVENT_STORE))
        observe_store(c, it, hv, mode, false, st);
    assoc_unlock(c->assoc, hv);
    return st;
}

struct item *cache_get(struct cache *c, const char *key, size_t nkey,
                       const int64_t *touch, enum cache_miss *why,
                       bool *first_read)
{
    uint64_t hv = assoc_hash(key, nkey);
    assoc_lock(c->assoc, hv);
    struct item *it = find_locked(c, hv, key, nkey, why);
    if (it != NULL && item_refcount(it) >= CACHE_REF_MAX)
        it = NULL; /* absurdly many readers: answer a miss, not overflow */
    if (it != NULL) {
        item_ref(it);
        if (touch != NULL) {
            it->exptime = clock_exptime(c->clock, *touch);
            note_change(c);
        }
        uint8_t before = item_flag_set(it, ITEM_FETCHED);
        if (first_read != NULL)
            *first_read = !(before & ITEM_FETCHED);
        hit_locked(c, it, clock_now(c->clock));
    }
    assoc_unlock(c->assoc, hv);
    return it;
}

bool cache_exists(struct cache *c, const char *key, size_t nkey)
{
    struct item *it = cache_get(c, key, nkey, NULL, NULL, NULL);
    if (it != NULL)
        cache_release(c, it);
    return it != NULL;
}

enum cache_status cache_delete(struct cache *c, const char *key, size_t nkey,
                               unsigned *cls)
{
    uint64_t hv = assoc_hash(key, nkey);
    assoc_lock(c->assoc, hv);
    struct item *it = find_locked(c, hv, key, nkey, NULL);
    note_cls(cls, it);
    if (it != NULL) {
        if (cache_observing(c, CACHE_EVENT_DELETE))
            observe_delete(c, it, false);
        unlink_locked(c, it, hv, false);
    }
    assoc_unlock(c->assoc, hv);
    return it != NULL ? CACHE_OK : CACHE_NOT_FOUND;
}

enum cache_status cache_touch(struct cache *c, const char *key, size_t nkey,
                              int64_t exptime, unsigned *cls)
{
    uint64_t hv = assoc_hash(key, nkey);
    assoc_lock(c->assoc, hv);
    struct item *it = find_locked(c, hv, key, nkey, NULL);
    note_cls(cls, it);
    if (it != NULL) {
        it->exptime = clock_exptime(c->clock, exptime);
        note_change(c);
        item_flag_set(it, ITEM_FETCHED);
        hit_locked(c, it, clock_now(c->clock));
    }
    assoc_unlock(c->assoc, hv);
    return it != NULL ? CACHE_OK : CACHE_NOT_FOUND;
}

void cache_flush(struct cache *c, int64_t delay)
{
    rel_time_t now = clock_now(c->clock);
    rel_time_t moment = delay > 0 ? clock_exptime(c->clock, delay) : now;
    if (c->use_cas) {
        /* The CAS cut-off separates items stored in the flush's own
         * second before it from those stored after it. */
        moment -= 1;
        if (moment <= now)
            atomic_store(&c->oldest_cas, atomic_load(&c->next_cas) + 1);
    }
    atomic_store(&c->oldest_live, moment);
    note_change(c);
}

bool cache_set_limit(struct cache *c, uint64_t limit)
{
    return slabs_set_limit(c->slabs, limit);
}

struct reap_ctx {
    struct cache *c;
    rel_time_t now;
    uint64_t reaped;
};

/* Reaper callback, under the item's stripe: free a dead item nobody
 * holds. */
static void reap_item(struct item *it, uint64_t hv, void *arg)
{
    struct reap_ctx *r = arg;
    struct cache *c = r->c;
    count(&c->per_class[it->clsid].crawler_items_checked, 1);
    if (item_refcount(it) != 1 || !is_dead(c, it, r->now))
        return;
    count_taken(c, it, true, r->now);
    count(&c->per_class[it->clsid].crawler_reclaimed, 1);
    unlink_locked(c, it, hv, false);
    r->reaped++;
}

/* One bounded step of the expiry reaper. Returns true while a pass is
 * under way that is finding dead items, or follows one that did.
 *
 * A pass that finds nothing takes one step a second, however often the
 * maintainer comes round (at the 10 ms rounds of a snapshot dump, a
 * growth or a page move it read every item of a 1M-item cache three
 * times a second, half of the maintainer's time during a dump), and that
 * step is REAP_STEP_MAX buckets (about a millisecond of work): a table of
 * up to that many buckets is swept every second, so what expires in a
 * small cache leaves curr_items within a second or two, as memcached's
 * LRU maintainer has it. A pass that finds dead items goes at the
 * maintainer's pace, a step of 1/REAP_FRACTION of the table (at most
 * REAP_STEP_MAX buckets) each round. */
#define REAP_FRACTION 32
#define REAP_STEP_MAX 65536
static bool reap_finding(const struct cache *c)
{
    return c->reaped_this_pass > 0 || c->reaped_last_pass > 0;
}

static bool reap_step(struct cache *c, unsigned budget)
{
    rel_time_t now = clock_now(c->clock);
    if (!reap_finding(c) && c->reap_idle_at == now)
        return false;
    uint64_t share = reap_finding(c)
                         ? ((uint64_t)1 << assoc_power(c->assoc)) / REAP_FRACTION
                         : REAP_STEP_MAX;
    if (share > budget)
        budget = share > REAP_STEP_MAX ? REAP_STEP_MAX : (unsigned)share;
    struct reap_ctx r = {c, now, 0};
    bool wrapped = assoc_walk_step(c->assoc, &c->reap_cursor, budget,
                                   reap_item, &r);
    c->reaped_this_pass += r.reaped;
    if (wrapped) {
        c->reaped_last_pass = c->reaped_this_pass;
        c->reaped_this_pass = 0;
    }
    if (!reap_finding(c)) {
        c->reap_idle_at = now;
        return false;
    }
    return true;
}

/* A live item of a page being moved, copied to a free chunk of its class
 * elsewhere (memcached's rescue) with its CAS, expiry, client flags and
 * read marks, and linked in its place; false when the class has no chunk
 * to spare. A rescue is a change, not a store. Stripe held, and nobody
 * else holds the item. */
static bool rescue_locked(struct cache *c, struct item *it, uint64_t hv,
                          rel_time_t now)
{
    struct item *copy = slabs_alloc(c->slabs, it->clsid, total_of(c, it));
    if (copy == NULL)
        return false;
    item_init(copy, c->use_cas, it->clsid, item_ckey(it, c->use_cas),
              it->nkey, it->flags, it->exptime, it->nbytes, now);
    memcpy(item_value(copy, c->use_cas), item_value(it, c->use_cas),
           it->nbytes);
    item_flag_set(copy, item_iflags(it) & KEPT_IN_PLACE);
    uint64_t cas = item_cas(it, c->use_cas);
    unlink_locked(c, it, hv, false);
    /* item_init's reference becomes the table's */
    note_bytes(c, (int64_t)link_uncounted(c, copy, hv, cas, now));
    note_change(c);
    return true;
}

/* Empty a chunk of a page being moved: rescue its item if it is live and
 * nobody holds it, else evict it. The chunk cannot be reused meanwhile
 * (its page is out of service), so its key stays readable even if the
 * item is unlinked under us. */
static bool evict_for_move(struct cache *c, struct item *it, rel_time_t now)
{
    if (!(item_iflags(it) & ITEM_LINKED))
        return false;
    uint64_t hv = hash_of(c, it);
    if (!assoc_trylock(c->assoc, hv)) {
        count(&c->move_busy, 1);
        return false;
    }
    bool linked = item_iflags(it) & ITEM_LINKED;
    bool taken = linked && item_refcount(it) == 1;
    if (taken) {
        bool dead = is_dead(c, it, now);
        if (!dead && rescue_locked(c, it, hv, now)) {
            count(&c->move_rescues, 1);
        } else {
            /* as memcached counts: a live item lost to a move is in
             * slab_reassign_evictions_nomem, not evictions */
            if (dead)
                count_taken(c, it, true, now);
            else
                count(&c->move_evictions, 1);
            unlink_locked(c, it, hv, false);
        }
    } else if (linked) {
        count(&c->move_busy, 1);
    }
    assoc_unlock(c->assoc, hv);
    return taken;
}

static void move_started(struct cache *c, unsigned src, unsigned dst)
{
    if (!slabs_move_start(c->slabs, src, dst))
        return;
    c->move_cursor = 0;
    c->move_src = src;
    c->move_dst = dst;
}

/* Once a clock second: every class's figures to the balancer, which may
 * ask for a page move (move_begin() starts it). */
static void balance_tick(struct cache *c)
{
    rel_time_t now = clock_now(c->clock);
    if (now == c->balance_at)
        return;
    c->balance_at = now;
    struct balance_class cls[SLABS_MAX_CLASSES + 1] = {{0}};
    for (unsigned i = 1; i <= slabs_nclasses(c->slabs); i++) {
        struct slabs_class_stats ss;
        slabs_class_stats(c->slabs, i, &ss);
        rel_time_t t = class_victim_atime(c, i);
        cls[i] = (struct balance_class){
            .evictions = load(&c->per_class[i].evictions),
            .victim_age = t != 0 && now > t ? now - t : 0,
            .pages = ss.pages,
            .free_chunks = ss.free_chunks,
            .per_page = ss.chunks_per_page,
        };
    }
    unsigned src, dst;
    if (balance_sample(c->balance, cls, &src, &dst)) {
        c->balance_src = src;
        c->balance_dst = dst;
    }
}

/* Start the move an operator asked for (cache_request_move), if any;
 * else, with automove on, a move toward the lowest starving class, if any
 * class can spare a page, or the one the balancer asked for. */
static void move_begin(struct cache *c)
{
    uint32_t req = atomic_exchange(&c->move_request, 0);
    if (req != 0) {
        move_started(c, req >> 8, req & 0xff);
        return;
    }
    unsigned src = c->balance_src, dst = c->balance_dst;
    c->balance_src = c->balance_dst = 0;
    if (!atomic_load_explicit(&c->automove, memory_order_relaxed))
        return;
    uint64_t want = atomic_load(&c->starving);
    if (want != 0) {
        dst = (unsigned)__builtin_ctzll(want);
        atomic_fetch_and(&c->starving, ~((uint64_t)1 << dst));
        src = slabs_fattest_class(c->slabs, dst);
    }
    if (src != 0 && dst != 0)
        move_started(c, src, dst);
}

/* One bounded step of moving a page between classes. Returns true while
 * a move is under way. */
static bool move_step(struct cache *c, unsigned budget)
{
    if (!slabs_moving(c->slabs))
        move_begin(c);
    char *page;
    size_t size;
    uint32_t n;
    if (!slabs_move_page(c->slabs, &page, &size, &n))
        return false;
    rel_time_t now = clock_now(c->clock);
    for (unsigned i = 0; i < budget && i < n; i++) {
        evict_for_move(c, (struct item *)(page + (size_t)c->move_cursor * size),
                       now);
        c->move_cursor = (c->move_cursor + 1) % n;
    }
    if (!slabs_move_try_finish(c->slabs))
        return true;
    /* memcached logs a move when it is done */
    if (cache_observing(c, CACHE_EVENT_SLAB_MOVE))
        observe_slab_move(c, c->move_src, c->move_dst);
    return false;
}

enum cache_move_status cache_request_move(struct cache *c, unsigned src,
                                          unsigned dst)
{
    unsigned n = slabs_nclasses(c->slabs);
    if (src == dst)
        return CACHE_MOVE_SAME;
    if (src < 1 || src > n || dst < 1 || dst > n)
        return CACHE_MOVE_BADCLASS;
    if (slabs_moving(c->slabs))
        return CACHE_MOVE_BUSY;
    struct slabs_class_stats ss;
    slabs_class_stats(c->slabs, src, &ss);
    if (ss.pages < 2) /* a class keeps its last page */
        return CACHE_MOVE_NOSPARE;
    uint32_t none = 0;
    if (!atomic_compare_exchange_strong(&c->move_request, &none,
                                        src << 8 | dst))
        return CACHE_MOVE_BUSY;
    return CACHE_MOVE_OK;
}

/* The shares the policy works with: none in flat mode. tune_lock held,
 * so a mode change and a tune on two workers end in the later's state. */
static void apply_lru_shares_locked(struct cache *c)
{
    bool flat = atomic_load(&c->lru_flat);
    if (c->pops->set_shares != NULL)
        c->pops->set_shares(c->policy, flat ? 0 : atomic_load(&c->lru_hot_pct),
                            flat ? 0 : atomic_load(&c->lru_warm_pct));
}

void cache_set_lru_shares(struct cache *c, unsigned hot_pct,
                          unsigned warm_pct)
{
    pthread_mutex_lock(&c->tune_lock);
    atomic_store(&c->lru_hot_pct, hot_pct);
    atomic_store(&c->lru_warm_pct, warm_pct);
    apply_lru_shares_locked(c);
    pthread_mutex_unlock(&c->tune_lock);
}

void cache_set_lru_flat(struct cache *c, bool flat)
{
    pthread_mutex_lock(&c->tune_lock);
    atomic_store(&c->lru_flat, flat);
    apply_lru_shares_locked(c);
    pthread_mutex_unlock(&c->tune_lock);
}

bool cache_lru_flat(struct cache *c)
{
    return atomic_load(&c->lru_flat);
}

void cache_lru_shares(struct cache *c, unsigned *hot_pct,
                      unsigned *warm_pct)
{
    *hot_pct = atomic_load(&c->lru_hot_pct);
    *warm_pct = atomic_load(&c->lru_warm_pct);
}

void cache_set_automove(struct cache *c, bool on)
{
    atomic_store_explicit(&c->automove, on, memory_order_relaxed);
}

bool cache_automove(struct cache *c)
{
    return atomic_load_explicit(&c->automove, memory_order_relaxed);
}

/* A growth is spread over at most this many maintenance steps (about
 * 5 s at the maintainer's pace, measured) whatever the table's size: at a fixed
 * budget a table of millions of buckets took minutes to double, and
 * inserts at 100k/s outran it, lengthening every chain meanwhile. */
#define GROW_STEPS_MAX 256
/* ... and over this many when the items already outgrow even the bigger
 * table: a fill faster than the pace above leaves the table doublings
 * behind, and each doubling waits for the one before. */
#define GROW_STEPS_BEHIND 16

/* Moves in batches of `budget` buckets, so no lock is held for long. */
static bool grow_step(struct cache *c, unsigned budget)
{
    uint64_t old_buckets = ((uint64_t)1 << assoc_power(c->assoc)) / 2;
    uint64_t want = old_buckets / (assoc_behind(c->assoc) ? GROW_STEPS_BEHIND
                                                          : GROW_STEPS_MAX),
             moved = 0;
    bool more;
    do {
        more = assoc_grow_step(c->assoc, budget);
        moved += budget;
    } while (more && moved < want);
    return more;
}

/* Memory kept resident ahead of the pages handed out: a store that takes
 * a new page would otherwise fault it in, zeroing 2 MiB and opening the
 * next part of the arena (an mprotect that stops every thread's faults)
 * while its connection and the others on its worker wait. A growing
 * cache's p99.9 probe latency halved with it (8M items set at 100k/s).
 * A sixteenth of the limit, so a small cache does not sit on much more
 * than it uses. */
#define RESIDENT_AHEAD_MAX ((uint64_t)16 << 20)

static void keep_resident_ahead(struct cache *c)
{
    uint64_t ahead = slabs_limit(c->slabs) / 16;
    slabs_prefault(c->slabs, ahead < RESIDENT_AHEAD_MAX ? ahead
                                                        : RESIDENT_AHEAD_MAX,
                   NULL);
}

bool cache_maintain(struct cache *c, unsigned budget)
{
    keep_resident_ahead(c);
    if (assoc_wants_growth(c->assoc))
        assoc_grow_start(c->assoc);
    bool growing = grow_step(c, budget);
    bool reaping = reap_step(c, budget);
    balance_tick(c);
    bool moving = move_step(c, budget);
    bool juggling = c->pops->maintain != NULL &&
                    c->pops->maintain(c->policy, clock_now(c->clock), budget);
    return growing || reaping || moving || juggling;
}

void note_change(struct cache *c)
{
    count(&c->in_place_changes, 1);
}

/* Give an item a CAS chosen outside (meta E, a restored item). The
 * counter is raised past it, so the CAS cut-off of a later flush_all
 * (is_flushed) still covers the item, and fresh CAS values never fall
 * back to it. */
void give_cas(struct cache *c, struct item *it, uint64_t cas)
{
    raise_cas(c, cas);
    item_set_cas(it, c->use_cas, cas);
}

/* Links and unlinks are derived rather than counted, to keep another
 * shared write off the store path: every link adds one to total_items
 * and to the item count, every unlink takes one from the count (a copy
 * that replaces an item in place counts as a change instead). */
uint64_t cache_changes(struct cache *c)
{
    return 2 * load(&c->total_items) - assoc_count(c->assoc) +
           load(&c->in_place_changes);
}

uint64_t cache_count(struct cache *c)
{
    return assoc_count(c->assoc);
}

size_t cache_item_size_max(struct cache *c)
{
    return c->item_max;
}

struct slabs *cache_slabs(struct cache *c)
{
    return c->slabs;
}
