/*
 * lib/cache_meta.c - see cache_meta.h.
 *
 * Every operation runs under the item's stripe lock from lookup to the
 * last change, so deciding and acting (create on a miss, win a recache,
 * compare a CAS) cannot interleave with another client. The rules of
 * cache.c's top comment apply: lock order stripe -> policy -> slabs, new
 * references only under the stripe.
 *
 * An item other clients may be reading (refcount above 1: the link plus
 * us) is never rewritten in place; a changed value or CAS goes into a
 * copy that replaces it, as cache.c does for incr.
 */
#include "lib/cache_meta.h"

#include <stdio.h>
#include <string.h>

#include "lib/assoc.h"
#include "lib/cache_internal.h"
#include "lib/policy.h"

/* The bits any copy of an item inherits. */
#define META_BITS (ITEM_STALE | ITEM_TOKEN_SENT | ITEM_KEY_BINARY)

static uint64_t fresh_cas(struct cache *c)
{
    return atomic_fetch_add_explicit(&c->next_cas, 1,
                                     memory_order_relaxed) + 1;
}

/* Seconds left until exptime; -1 for never. A past exptime wraps here
 * as memcached's unsigned subtraction does, so one second past is
 * 4294967295, not the -1 of an item that never expires. */
static int64_t remaining(rel_time_t exptime, rel_time_t now)
{
    return exptime == 0 ? -1 : (int64_t)(uint32_t)(exptime - now);
}

static void set_key_bit(struct item *it, bool binary)
{
    if (binary)
        item_flag_set(it, ITEM_KEY_BINARY);
}

/* Link a new item holding value[0..n) under key. Returns it (referenced
 * by the table only), or NULL when there is no memory. */
static struct item *create_locked(struct cache *c, uint64_t hv,
                                  const char *key, size_t nkey,
                                  const char *value, size_t n,
                                  rel_time_t exptime, bool binary)
{
    struct item *it;
    if (alloc_item(c, key, nkey, 0, exptime, n + 2, &it) != CACHE_OK)
        return NULL;
    char *v = item_value(it, c->use_cas);
    memcpy(v, value, n);
    memcpy(v + n, "\r\n", 2);
    set_key_bit(it, binary);
    link_locked(c, it, hv);
    cache_release(c, it);
    return it;
}

/* ------------------------------------------------------------------ mg */

/* Everything mg does to a found (or just created) item: read what the
 * reply reports as it was, then touch, pick a recache winner, bump. */
static void mget_apply_locked(struct cache *c, struct item *it,
                              const struct cache_mget_opts *o, bool created,
                              struct cache_meta *out)
{
    rel_time_t now = clock_now(c->clock);
    uint8_t fl = item_iflags(it);
    rel_time_t atime = item_atime(it), before = it->exptime;
    bool token_sent = (fl & ITEM_TOKEN_SENT) != 0;
    bool won = created;

    if (o->touch && !(created && o->vivify_after_touch)) {
        it->exptime = clock_exptime(c->clock, o->touch_exptime);
        note_change(c);
    }
    if (o->recache && !created && !token_sent) {
        rel_time_t e = o->recache_after_touch ? it->exptime : before;
        if (e != 0 && e < clock_exptime(c->clock, o->recache_ttl))
            won = true;
    }
    /* The first reader of a stale item is the one sent to refresh it. */
    if ((fl & ITEM_STALE) && !token_sent)
        won = true;
    if (won)
        item_flag_set(it, ITEM_TOKEN_SENT);
    *out = (struct cache_meta){
        .cas = item_cas(it, c->use_cas),
        .flags = it->flags,
        .nbytes = it->nbytes - 2,
        .ttl_before = created ? -1 : remaining(before, now),
        .ttl = remaining(it->exptime, now),
        .idle = now > atime ? now - atime : 0,
        .fetched = (fl & ITEM_FETCHED) != 0,
        .token_sent = token_sent,
        .stale = (fl & ITEM_STALE) != 0,
        .won = won,
        .created = created,
        .binary_key = (fl & ITEM_KEY_BINARY) != 0,
    };
    if (!o->no_bump) {
        item_flag_set(it, ITEM_FETCHED);
        hit_locked(c, it, now);
    }
}

struct item *cache_mget(struct cache *c, const char *key, size_t nkey,
                        const struct cache_mget_opts *o,
                        struct cache_meta *out, enum cache_miss *why)
{
    uint64_t hv = assoc_hash(key, nkey);
    bool created = false;
    assoc_lock(c->assoc, hv);
    struct item *it = find_locked(c, hv, key, nkey, why);
    if (it == NULL && o->vivify) {
        /* The exptime is N's; mget_apply_locked reports the TTL before
         * it as -1, the state of an item that did not exist. */
        it = create_locked(c, hv, key, nkey, "", 0,
                           clock_exptime(c->clock, o->vivify_exptime),
                           o->binary_key);
        created = it != NULL;
        if (created && o->set_cas)
            give_cas(c, it, o->new_cas);
    }
    if (it != NULL && item_refcount(it) >= CACHE_REF_MAX)
        it = NULL;
    if (it != NULL) {
        item_ref(it);
        mget_apply_locked(c, it, o, created, out);
    }
    assoc_unlock(c->assoc, hv);
    return it;
}

/* ------------------------------------------------------------------ ms */

/* The store mode the options amount to, or a final answer in *st. */
static bool mstore_mode(struct cache *c, struct item *it, struct item *old,
                        const struct cache_mstore_opts *o,
                        enum cache_store_mode *mode, bool *stale,
                        enum cache_status *st)
{
    *mode = o->mode;
    *stale = false;
    switch (o->mode) {
    case CACHE_SET:
    case CACHE_REPLACE:
        if (!o->compare)
            break;
        /* An older writer's value, kept but marked, with the TTL and the
         * win token of the item it replaces, as memcached does; C0 is not
         * older than anything to memcached, whose item CAS 0 means none. */
        if (old != NULL && o->invalidate && o->cas != 0 &&
            o->cas < item_cas(old, c->use_cas)) {
            *stale = true;
            it->exptime = old->exptime;
            if (item_iflags(old) & ITEM_TOKEN_SENT)
                item_flag_set(it, ITEM_TOKEN_SENT);
        } else
            *mode = CACHE_CAS;
        break;
    case CACHE_APPEND:
    case CACHE_PREPEND:
        if (old == NULL && o->vivify) {
            it->exptime = clock_exptime(c->clock, o->vivify_exptime);
            *mode = CACHE_ADD;
        } else if (old != NULL && o->compare && o->cas != 0 &&
                   c->use_cas && item_cas(old, c->use_cas) != o->cas) {
            /* memcached compares in append mode only a non-zero CAS the
             * new item can carry (none with -C) */
            *st = CACHE_EXISTS;
            return false;
        }
        break;
    default:
        break;
    }
    if (*stale)
        *mode = CACHE_SET;
    return true;
}

static enum cache_status mstore_locked(struct cache *c, struct item *it,
                                       const struct cache_mstore_opts *o,
                                       uint64_t hv,
                                       struct cache_mstore_result *out)
{
    const char *key = item_key(it, c->use_cas);
    /* quiet: store_locked() looks again and tells (or, refused here, the
     * lookup is told below) */
    struct item *old = find_locked_quiet(c, hv, key, it->nkey, NULL);
    out->old_cls = old != NULL ? old->clsid : 0;
    enum cache_store_mode mode;
    enum cache_status st = CACHE_OK;
    bool stale;
    bool binary = o->binary_key ||
                  (old != NULL && (item_iflags(old) & ITEM_KEY_BINARY));

    if (!mstore_mode(c, it, old, o, &mode, &stale, &st)) {
        if (cache_observing(c, CACHE_EVENT_FETCH))
            observe_fetch(c, key, it->nkey, old);
        return st;
    }
    st = store_locked(c, it, mode, o->cas, hv, NULL);
    if (st != CACHE_OK)
        return st;
    /* append/prepend linked a new item: find what is stored now. Nobody
     * else holds it yet, so its CAS may still change. */
    struct item *now = assoc_find_locked(c->assoc, hv, key, it->nkey);
    if (o->set_cas)
        give_cas(c, now, o->new_cas);
    if (stale)
        item_flag_set(now, ITEM_STALE);
    set_key_bit(now, binary);
    out->cas = item_cas(now, c->use_cas);
    out->size = now->nbytes - 2;
    return CACHE_OK;
}

enum cache_status cache_mstore(struct cache *c, struct item *it,
                               const struct cache_mstore_opts *o,
                               struct cache_mstore_result *out)
{
    uint64_t hv = assoc_hash(item_key(it, c->use_cas), it->nkey);
    *out = (struct cache_mstore_result){0};
    set_key_bit(it, o->binary_key);
    assoc_lock(c->assoc, hv);
    enum cache_status st = mstore_locked(c, it, o, hv, out);
    if (cache_observing(c, CACHE_EVENT_STORE))
        observe_store(c, it, hv, o->mode, o->compare, st);
    assoc_unlock(c->assoc, hv);
    return st;
}

/* ------------------------------------------------------------------ md */

/* A linked item that may be changed in place: `it` itself when nobody
 * else holds it and the value keeps its size, else a copy of it (the
 * first nbytes of its value; nbytes includes "\r\n") that replaces it
 * under a fresh CAS. A copy that stands for memcached's change in place
 * (same_item) also keeps what that keeps: the fetched bit and the last
 * access. NULL when there is no memory for the copy. */
static struct item *own_locked(struct cache *c, struct item *it,
                               uint64_t hv, size_t nbytes, bool same_item)
{
    if (item_refcount(it) == 1 && nbytes == it->nbytes)
        return it;
    struct item *copy;
    if (alloc_item(c, item_key(it, c->use_cas), it->nkey, it->flags,
                   it->exptime, nbytes, &copy) != CACHE_OK)
        return NULL;
    char *v = item_value(copy, c->use_cas);
    memcpy(v, item_value(it, c->use_cas), nbytes - 2);
    memcpy(v + nbytes - 2, "\r\n", 2);
    rel_time_t atime = item_atime(it);
    if (same_item) {
        replace_in_place_locked(c, it, copy, hv);
        item_set_atime(copy, atime); /* linking set it to now */
    } else {
        item_flag_set(copy, item_iflags(it) & META_BITS);
        replace_locked(c, it, copy, hv);
    }
    cache_release(c, copy);
    return copy;
}

static enum cache_status mdelete_locked(struct cache *c, struct item *it,
                                        const struct cache_mdelete_opts *o,
                                        uint64_t hv)
{
    if (o->compare && item_cas(it, c->use_cas) != o->cas)
        return CACHE_EXISTS;
    if (!o->invalidate && !o->drop_value) {
        if (cache_observing(c, CACHE_EVENT_DELETE))
            observe_delete(c, it, true);
        unlink_locked(c, it, hv, false);
        return CACHE_OK;
    }
    /* memcached marks an item stale in place, and drops a value by
     * storing a new, empty item */
    it = own_locked(c, it, hv, o->invalidate ? it->nbytes : 2,
                    o->invalidate);
    if (it == NULL)
        return CACHE_NO_MEMORY;
    if (o->invalidate) {
        if (o->touch)
            it->exptime = clock_exptime(c->clock, o->touch_exptime);
        item_flag_set(it, ITEM_STALE);
        /* so that the next reader wins the refresh */
        item_flag_clear(it, ITEM_TOKEN_SENT);
    } else {
        item_flag_clear(it, ITEM_STALE | ITEM_TOKEN_SENT);
    }
    if (o->set_cas)
        give_cas(c, it, o->new_cas);
    else
        item_set_cas(it, c->use_cas, fresh_cas(c));
    note_change(c);
    return CACHE_OK;
}

enum cache_status cache_mdelete(struct cache *c, const char *key,
                                size_t nkey,
                                const struct cache_mdelete_opts *o,
                                unsigned *cls)
{
    uint64_t hv = assoc_hash(key, nkey);
    enum cache_status st = CACHE_NOT_FOUND;
    assoc_lock(c->assoc, hv);
    struct item *it = find_locked(c, hv, key, nkey, NULL);
    if (cls != NULL)
        *cls = it != NULL ? it->clsid : 0;
    if (it != NULL)
        st = mdelete_locked(c, it, o, hv);
    assoc_unlock(c->assoc, hv);
    return st;
}

/* ------------------------------------------------------------------ ma */

static enum cache_status marith_create_locked(
    struct cache *c, uint64_t hv, const char *key, size_t nkey,
    const struct cache_marith_opts *o, struct cache_marith_result *out)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%llu",
                     (unsigned long long)o->initial);
    rel_time_t exptime = clock_exptime(c->clock, o->vivify_exptime);
    struct item *it = create_locked(c, hv, key, nkey, digits, (size_t)n,
                                    exptime, o->binary_key);
    if (it == NULL)
        return CACHE_NO_MEMORY;
    if (o->set_cas)
        give_cas(c, it, o->new_cas);
    *out = (struct cache_marith_result){
        .value = o->initial,
        .cas = item_cas(it, c->use_cas),
        .ttl = remaining(it->exptime, clock_now(c->clock)),
        .created = true,
        .cls = it->clsid,
    };
    return CACHE_OK;
}

static enum cache_status marith_locked(struct cache *c, struct item *it,
                                       uint64_t hv,
                                       const struct cache_marith_opts *o,
                                       struct cache_marith_result *out)
{
    uint64_t value;
    /* memcached's order: an empty or too large value, then the CAS, then
     * the number. */
    if (counter_unusable(c, it))
        return CACHE_NON_NUMERIC;
    if (o->compare && item_cas(it, c->use_cas) != o->cas)
        return CACHE_EXISTS;
    if (!parse_counter(item_value(it, c->use_cas), it->nbytes, &value))
        return CACHE_NON_NUMERIC;
    if (o->incr)
        value += o->delta; /* wraps at 2^64, as memcached does */
    else
        value = o->delta > value ? 0 : value - o->delta;
    /* Not a read, as for incr: neither fetched nor bumped. */
    out->value = value;
    return delta_store_locked(c, it, value, hv, &o->sent);
}

enum cache_status cache_marith(struct cache *c, const char *key,
                               size_t nkey,
                               const struct cache_marith_opts *o,
                               struct cache_marith_result *out)
{
    uint64_t hv = assoc_hash(key, nkey);
    enum cache_status st;
    assoc_lock(c->assoc, hv);
    struct item *it = find_locked(c, hv, key, nkey, NULL);
    if (it == NULL) {
        st = o->vivify ? marith_create_locked(c, hv, key, nkey, o, out)
                       : CACHE_NOT_FOUND;
        goto out;
    }
    out->cls = it->clsid; /* the class found, whatever the answer */
    st = marith_locked(c, it, hv, o, out);
    if (st != CACHE_OK)
        goto out;
    /* The counter may live in a new item now; either way only we hold
     * it, so its CAS may change. */
    it = assoc_find_locked(c->assoc, hv, key, nkey);
    if (o->touch) {
        it->exptime = clock_exptime(c->clock, o->touch_exptime);
        note_change(c);
    }
    if (o->set_cas)
        give_cas(c, it, o->new_cas);
    out->cas = item_cas(it, c->use_cas);
    out->ttl = remaining(it->exptime, clock_now(c->clock));
    out->created = false;
    out->cls = it->clsid;
out:
    assoc_unlock(c->assoc, hv);
    return st;
}

/* ------------------------------------------------------------------ me */

bool cache_mdebug(struct cache *c, const char *key, size_t nkey,
                  struct cache_mdebug *out)
{
    uint64_t hv = assoc_hash(key, nkey);
    assoc_lock(c->assoc, hv);
    struct item *it = find_locked(c, hv, key, nkey, NULL);
    if (it != NULL) {
        rel_time_t now = clock_now(c->clock), atime = item_atime(it);
        uint8_t fl = item_iflags(it);
        *out = (struct cache_mdebug){
            .exp = it->exptime == 0 ? -1
                                    : (int64_t)now - (int64_t)it->exptime,
            .la = now > atime ? now - atime : 0,
            .cas = item_cas(it, c->use_cas),
            .fetched = (fl & ITEM_FETCHED) != 0,
            .cls = it->clsid,
            .size = total_of(c, it),
            .binary_key = (fl & ITEM_KEY_BINARY) != 0,
        };
    }
    assoc_unlock(c->assoc, hv);
    return it != NULL;
}
