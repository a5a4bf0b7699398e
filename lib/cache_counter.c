/*
 * lib/cache_counter.c - the counter rules incr, decr and ma share
 * (lib/cache_meta.c's cache_marith applies them; cache_delta is it without
 * options): memcached's reading of a value as a number, and its rule for
 * where the new number goes. The locking rules of lib/cache.c hold.
 */
#include "lib/cache.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "lib/cache_internal.h"
#include "lib/cache_meta.h"

/* memcached keeps an item larger than half its 1 MB slab page in chunks,
 * and incr/decr take a chunked item for one that holds no number. Its
 * size there: a 48-byte header, the key and a NUL, 4 bytes for non-zero
 * client flags, 8 for a CAS, and the value with its "\r\n". */
#define MEMCACHED_HEADER 48
#define MEMCACHED_CHUNK_MAX (512 * 1024)

bool counter_unusable(const struct cache *c, const struct item *it)
{
    size_t size = MEMCACHED_HEADER + it->nkey + 1 + (it->flags ? 4 : 0) +
                  (c->use_cas ? 8 : 0) + it->nbytes;
    return it->nbytes <= 2 || size > MEMCACHED_CHUNK_MAX;
}

/* The number at the start of a value, by the rules of strtoull as
 * memcached's safe_strtoull applies them: leading spaces, an optional
 * sign, digits, then a space or a NUL (the value ends in "\r\n"); no
 * overflow; a minus sign only where the result does not read as
 * negative. */
bool parse_counter(const char *p, size_t len, uint64_t *out)
{
    const char *end = p + len;
    while (p < end && isspace((unsigned char)*p))
        p++;
    bool minus = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    const char *digits = p;
    uint64_t v = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (p == digits || p == end || (!isspace((unsigned char)*p) && *p != 0))
        return false;
    if (minus) {
        v = (uint64_t)0 - v;
        if ((int64_t)v < 0)
            return false;
    }
    *out = v;
    return true;
}

/* Whether the caller's sent references (cache.h) are all that hold it
 * besides the hash table. */
static bool only_sent_hold(const struct item *it,
                           const struct cache_sent_refs *sent)
{
    return sent->count != NULL &&
           item_refcount(it) == 1 + sent->count(it, sent->arg);
}

/* Store the new counter value as memcached does: at the old size
 * (padding with spaces) when it fits and nobody reads the item, else at
 * its own size in a new item. Nobody but the caller's sent replies (see
 * struct cache_sent_refs) is the same case to the client, but the bytes
 * go into a copy. Stripe held. */
enum cache_status delta_store_locked(struct cache *c, struct item *it,
                                     uint64_t value, uint64_t hv,
                                     const struct cache_sent_refs *sent)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%llu",
                     (unsigned long long)value);
    bool fits = (size_t)n + 2 <= it->nbytes;
    if (fits && item_refcount(it) == 1) {
        char *v = item_value(it, c->use_cas);
        memcpy(v, digits, (size_t)n);
        memset(v + n, ' ', it->nbytes - 2 - (size_t)n);
        uint64_t cas = atomic_fetch_add_explicit(&c->next_cas, 1,
                                                 memory_order_relaxed) + 1;
        item_set_cas(it, c->use_cas, cas);
        /* changed now, as memcached's in-place change is (mg's l, the
         * age); still not fetched, nor moved in the policy */
        item_set_atime(it, clock_now(c->clock));
        note_change(c);
        return CACHE_OK;
    }
    bool padded = fits && only_sent_hold(it, sent);
    size_t nbytes = padded ? it->nbytes : (size_t)n + 2;
    struct item *fresh;
    enum cache_status st = alloc_item(c, item_key(it, c->use_cas), it->nkey,
                                      it->flags, it->exptime, nbytes, &fresh);
    if (st != CACHE_OK)
        return CACHE_NO_MEMORY;
    char *v = item_value(fresh, c->use_cas);
    memcpy(v, digits, (size_t)n);
    memset(v + n, ' ', nbytes - 2 - (size_t)n);
    memcpy(v + nbytes - 2, "\r\n", 2);
    if (padded)
        replace_in_place_locked(c, it, fresh, hv);
    else
        replace_locked(c, it, fresh, hv);
    cache_release(c, fresh);
    return CACHE_OK;
}

/* ma without its options: one implementation of the counter rules. */
enum cache_status cache_delta(struct cache *c, const char *key, size_t nkey,
                              bool incr, uint64_t delta, uint64_t *result,
                              unsigned *cls)
{
    struct cache_marith_opts o = {.incr = incr, .delta = delta};
    struct cache_marith_result r = {0};
    enum cache_status st = cache_marith(c, key, nkey, &o, &r);
    if (st == CACHE_OK)
        *result = r.value;
    if (cls != NULL)
        *cls = r.cls;
    return st;
}
