/*
 * lib/items.h - the layout of one cached item.
 *
 * An item is one contiguous chunk of the slab arena:
 *
 *   offset  size  field
 *        0     4  h_next    hash chain link (slab reference, 0 = end)
 *        4     4  prev      eviction policy links (slab references)
 *        8     4  next
 *       12     4  exptime   rel_time_t, 0 = never
 *       16     4  atime     rel_time_t of the last bump
 *       20     4  nbytes    value length including the trailing "\r\n"
 *       24     4  flags     client flags
 *       28     2  refcount  one for the hash link, one per reader
 *       30     1  clsid     slab class
 *       31     1  nkey      key length, 1..250
 *       32     1  iflags    ITEM_* bits below (atomic)
 *       33     1  pbits     bits owned by the eviction policy (atomic)
 *       34   [8]  cas       only when the cache has CAS enabled
 *    34/42 nkey   key       no terminating NUL
 *          nbytes value     ends in "\r\n", so a reply can point at it
 *
 * The header is 34 bytes, 42 with CAS. memcached 1.6 on 64-bit spends 48
 * bytes on its header, 8 more for CAS, one for a NUL after the key and 4
 * for non-zero client flags: 56-61 bytes against our 42. Links are 32-bit
 * slab references instead of pointers, which is what pays for most of it.
 *
 * Which lock guards what: h_next, exptime, flags, value and the LINKED bit
 * change only under the item's hash stripe lock; prev/next and pbits under
 * the policy's class lock; refcount, iflags, pbits and atime are accessed
 * atomically because readers holding the other lock look at them.
 */
#ifndef ZK_LIB_ITEMS_H
#define ZK_LIB_ITEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/clock.h"

#define ITEM_KEY_MAX 250

enum item_flag {
    ITEM_LINKED = 1u << 0,  /* in the hash table and the policy */
    ITEM_FETCHED = 1u << 1, /* read at least once since stored */
    /* Meta protocol state (lib/cache_meta.c), changed under the stripe: */
    ITEM_STALE = 1u << 2,      /* invalidated by md I / ms I: serve, flag X */
    ITEM_TOKEN_SENT = 1u << 3, /* a client already won the recache (W) */
    ITEM_KEY_BINARY = 1u << 4, /* stored from a base64 key: echo as base64 */
    ITEM_SIZED = 1u << 5,   /* counted in the size histogram (size_hist.h) */
    ITEM_TEMP = 1u << 6,    /* in the TEMP LRU: outside the policy, never
                               evicted (cache_set_temp_lru) */
};

struct item {
    uint32_t h_next;
    uint32_t prev;
    uint32_t next;
    uint32_t exptime;
    uint32_t atime;
    uint32_t nbytes;
    uint32_t flags;
    uint16_t refcount;
    uint8_t clsid;
    uint8_t nkey;
    uint8_t iflags;
    uint8_t pbits;
    char data[];
};

#define ITEM_HEADER offsetof(struct item, data)
#define ITEM_CAS_SIZE sizeof(uint64_t)

/* Bytes an item needs: header, optional CAS, key, value with "\r\n". */
static inline size_t item_total(size_t nkey, size_t nbytes, bool with_cas)
{
    return ITEM_HEADER + (with_cas ? ITEM_CAS_SIZE : 0) + nkey + nbytes;
}

/* What memcached 1.6 on 64-bit spends on the same item: its 48-byte
 * header, 8 for CAS, the key and a NUL, 4 for non-zero client flags, the
 * value with its "\r\n". memcached's -I limits that figure; zeekdb limits
 * the same figure, so the largest value a client can store is the same to
 * the byte, although zeekdb's own item is smaller. */
static inline size_t item_memcached_total(size_t nkey, size_t nbytes,
                                          uint32_t flags, bool with_cas)
{
    return 48 + (with_cas ? 8 : 0) + nkey + 1 + (flags != 0 ? 4 : 0) +
           nbytes;
}

/* Whether the item carries a CAS field is a property of the whole cache;
 * callers pass it in. */
static inline char *item_key(struct item *it, bool with_cas)
{
    return it->data + (with_cas ? ITEM_CAS_SIZE : 0);
}

static inline const char *item_ckey(const struct item *it, bool with_cas)
{
    return it->data + (with_cas ? ITEM_CAS_SIZE : 0);
}

static inline char *item_value(struct item *it, bool with_cas)
{
    return item_key(it, with_cas) + it->nkey;
}

static inline uint64_t item_cas(const struct item *it, bool with_cas)
{
    uint64_t cas = 0;
    if (with_cas)
        memcpy(&cas, it->data, sizeof(cas));
    return cas;
}

static inline void item_set_cas(struct item *it, bool with_cas, uint64_t cas)
{
    if (with_cas)
        memcpy(it->data, &cas, sizeof(cas));
}

static inline bool item_key_eq(const struct item *it, bool with_cas,
                               const char *key, size_t nkey)
{
    return it->nkey == nkey && memcmp(item_ckey(it, with_cas), key, nkey) == 0;
}

static inline uint8_t item_iflags(const struct item *it)
{
    return __atomic_load_n(&it->iflags, __ATOMIC_ACQUIRE);
}

/* Returns the flags as they were before. */
static inline uint8_t item_flag_set(struct item *it, uint8_t f)
{
    return __atomic_fetch_or(&it->iflags, f, __ATOMIC_ACQ_REL);
}

/* The first flags of an item nobody else can reach yet: a plain store,
 * which unlike item_flag_set() does not wait for the item's other writes
 * to reach memory. */
static inline void item_flags_init(struct item *it, uint8_t f)
{
    __atomic_store_n(&it->iflags, f, __ATOMIC_RELAXED);
}

static inline void item_flag_clear(struct item *it, uint8_t f)
{
    __atomic_fetch_and(&it->iflags, (uint8_t)~f, __ATOMIC_ACQ_REL);
}

static inline rel_time_t item_atime(const struct item *it)
{
    return __atomic_load_n(&it->atime, __ATOMIC_RELAXED);
}

static inline void item_set_atime(struct item *it, rel_time_t t)
{
    __atomic_store_n(&it->atime, t, __ATOMIC_RELAXED);
}

static inline uint16_t item_refcount(const struct item *it)
{
    return __atomic_load_n(&it->refcount, __ATOMIC_ACQUIRE);
}

static inline uint16_t item_ref(struct item *it)
{
    return __atomic_add_fetch(&it->refcount, 1, __ATOMIC_ACQ_REL);
}

/* Returns the count left; the caller frees the chunk when it reaches 0. */
static inline uint16_t item_unref(struct item *it)
{
    return __atomic_sub_fetch(&it->refcount, 1, __ATOMIC_ACQ_REL);
}

/* Set up a fresh item in a chunk: one reference (the caller's). */
void item_init(struct item *it, bool with_cas, unsigned clsid,
               const char *key, size_t nkey,
               uint32_t flags, rel_time_t exptime, size_t nbytes,
               rel_time_t now);

/* memcached's expiry test: exptime set and not in the future. */
static inline bool item_expired(const struct item *it, rel_time_t now)
{
    return it->exptime != 0 && it->exptime <= now;
}

#endif
