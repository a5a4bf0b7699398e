/*
 * lib/assoc.c - see assoc.h.
 *
 * Invariants:
 * - nstripes <= buckets of the current table, so every item in one bucket
 *   maps to one stripe, in the old table and in the new one.
 * - table, old, power and growing change only with every stripe held (and
 *   grow_lock); a thread holding any one stripe may read them.
 * - migrated (the next old bucket to move) is stored while holding that
 *   bucket's stripe, after the move. A reader holding its stripe thus sees
 *   migrated > its old bucket exactly when its bucket has moved.
 */
#include "lib/assoc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define ASSOC_DEFAULT_STRIPE_POWER 12
/* Grow when there are 3 items for every 2 buckets, as memcached does. */
#define ASSOC_LOAD_NUM 3
#define ASSOC_LOAD_DEN 2

struct assoc {
    struct slabs *slabs;
    bool with_cas;
    uint32_t *table;
    uint32_t *old;
    unsigned power;
    bool growing;
    _Atomic uint64_t migrated;
    _Atomic uint64_t count;
    pthread_mutex_t grow_lock;
    unsigned stripe_mask;
    pthread_mutex_t *stripes;
};

static uint64_t table_bytes(unsigned power)
{
    return ((uint64_t)1 << power) * sizeof(uint32_t);
}

static uint32_t *table_alloc(struct slabs *slabs, unsigned power)
{
    if (!slabs_charge(slabs, table_bytes(power)))
        return NULL;
    uint32_t *t = calloc((size_t)1 << power, sizeof(uint32_t));
    if (t == NULL)
        slabs_uncharge(slabs, table_bytes(power));
    return t;
}

static void table_free(struct slabs *slabs, uint32_t *t, unsigned power)
{
    free(t);
    slabs_uncharge(slabs, table_bytes(power));
}

struct assoc *assoc_create(struct slabs *slabs, bool with_cas, unsigned power,
                           unsigned stripe_power)
{
    if (power == 0)
        power = ASSOC_DEFAULT_POWER;
    if (stripe_power == 0)
        stripe_power = ASSOC_DEFAULT_STRIPE_POWER;
    if (stripe_power > power)
        stripe_power = power;
    if (power > ASSOC_MAX_POWER)
        return NULL;
    struct assoc *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->slabs = slabs;
    a->with_cas = with_cas;
    a->power = power;
    a->stripe_mask = (1u << stripe_power) - 1;
    a->table = table_alloc(slabs, power);
    a->stripes = calloc((size_t)a->stripe_mask + 1, sizeof(pthread_mutex_t));
    if (a->table == NULL || a->stripes == NULL) {
        if (a->table != NULL)
            table_free(slabs, a->table, power);
        free(a->stripes);
        free(a);
        return NULL;
    }
    for (unsigned i = 0; i <= a->stripe_mask; i++)
        pthread_mutex_init(&a->stripes[i], NULL);
    pthread_mutex_init(&a->grow_lock, NULL);
    return a;
}

void assoc_destroy(struct assoc **ap)
{
    if (ap == NULL || *ap == NULL)
        return;
    struct assoc *a = *ap;
    if (a->old != NULL)
        table_free(a->slabs, a->old, a->power - 1);
    table_free(a->slabs, a->table, a->power);
    for (unsigned i = 0; i <= a->stripe_mask; i++)
        pthread_mutex_destroy(&a->stripes[i]);
    pthread_mutex_destroy(&a->grow_lock);
    free(a->stripes);
    free(a);
    *ap = NULL;
}

uint64_t assoc_hash(const char *key, size_t nkey)
{
    return XXH3_64bits(key, nkey);
}

void assoc_lock(struct assoc *a, uint64_t hv)
{
    pthread_mutex_lock(&a->stripes[hv & a->stripe_mask]);
}

bool assoc_trylock(struct assoc *a, uint64_t hv)
{
    return pthread_mutex_trylock(&a->stripes[hv & a->stripe_mask]) == 0;
}

void assoc_unlock(struct assoc *a, uint64_t hv)
{
    pthread_mutex_unlock(&a->stripes[hv & a->stripe_mask]);
}

static void lock_all(struct assoc *a)
{
    for (unsigned i = 0; i <= a->stripe_mask; i++)
        pthread_mutex_lock(&a->stripes[i]);
}

static void unlock_all(struct assoc *a)
{
    for (unsigned i = a->stripe_mask + 1; i-- > 0;)
        pthread_mutex_unlock(&a->stripes[i]);
}

/* The head of hv's chain; the caller holds hv's stripe. */
static uint32_t *bucket_for(struct assoc *a, uint64_t hv)
{
    if (a->growing) {
        uint64_t ob = hv & (((uint64_t)1 << (a->power - 1)) - 1);
        if (ob >= atomic_load_explicit(&a->migrated, memory_order_relaxed))
            return &a->old[ob];
    }
    return &a->table[hv & (((uint64_t)1 << a->power) - 1)];
}

static struct item *item_at(struct assoc *a, uint32_t ref)
{
    return slabs_ptr(a->slabs, ref);
}

struct item *assoc_find_locked(struct assoc *a, uint64_t hv, const char *key,
                               size_t nkey)
{
    uint32_t ref = *bucket_for(a, hv);
    while (ref != 0) {
        struct item *it = item_at(a, ref);
        if (item_key_eq(it, a->with_cas, key, nkey))
            return it;
        ref = it->h_next;
    }
    return NULL;
}

void assoc_insert_locked(struct assoc *a, uint64_t hv, struct item *it)
{
    uint32_t *head = bucket_for(a, hv);
    it->h_next = *head;
    *head = slabs_ref(a->slabs, it);
    atomic_fetch_add_explicit(&a->count, 1, memory_order_relaxed);
}

bool assoc_remove_locked(struct assoc *a, uint64_t hv, struct item *it)
{
    uint32_t target = slabs_ref(a->slabs, it);
    uint32_t *link = bucket_for(a, hv);
    while (*link != 0) {
        if (*link == target) {
            *link = it->h_next;
            it->h_next = 0;
            atomic_fetch_sub_explicit(&a->count, 1, memory_order_relaxed);
            return true;
        }
        link = &item_at(a, *link)->h_next;
    }
    return false;
}

bool assoc_wants_growth(struct assoc *a)
{
    pthread_mutex_lock(&a->grow_lock);
    uint64_t buckets = (uint64_t)1 << a->power;
    bool wants = !a->growing && a->power < ASSOC_MAX_POWER &&
                 atomic_load(&a->count) * ASSOC_LOAD_DEN >
                     buckets * ASSOC_LOAD_NUM;
    pthread_mutex_unlock(&a->grow_lock);
    return wants;
}

bool assoc_grow_start(struct assoc *a)
{
    bool started = false;
    pthread_mutex_lock(&a->grow_lock);
    if (a->growing || a->power >= ASSOC_MAX_POWER)
        goto out;
    uint32_t *bigger = table_alloc(a->slabs, a->power + 1);
    if (bigger == NULL)
        goto out;
    lock_all(a);
    a->old = a->table;
    a->table = bigger;
    a->power++;
    atomic_store(&a->migrated, 0);
    a->growing = true;
    unlock_all(a);
    started = true;
out:
    pthread_mutex_unlock(&a->grow_lock);
    return started;
}

/* Move one old bucket's chain into the new table; its stripe is held. */
static void migrate_bucket(struct assoc *a, uint64_t ob)
{
    uint64_t mask = ((uint64_t)1 << a->power) - 1;
    uint32_t ref = a->old[ob];
    while (ref != 0) {
        struct item *it = item_at(a, ref);
        uint32_t next = it->h_next;
        uint64_t hv = assoc_hash(item_ckey(it, a->with_cas), it->nkey);
        uint32_t *head = &a->table[hv & mask];
        it->h_next = *head;
        *head = ref;
        ref = next;
    }
    a->old[ob] = 0;
}

static void grow_finish(struct assoc *a)
{
    lock_all(a);
    uint32_t *old = a->old;
    a->old = NULL;
    a->growing = false;
    unlock_all(a);
    table_free(a->slabs, old, a->power - 1);
}

bool assoc_grow_step(struct assoc *a, unsigned budget)
{
    pthread_mutex_lock(&a->grow_lock);
    bool more = a->growing;
    if (!more)
        goto out;
    uint64_t old_buckets = (uint64_t)1 << (a->power - 1);
    uint64_t ob = atomic_load(&a->migrated);
    for (unsigned n = 0; n < budget && ob < old_buckets; n++, ob++) {
        pthread_mutex_t *stripe = &a->stripes[ob & a->stripe_mask];
        pthread_mutex_lock(stripe);
        migrate_bucket(a, ob);
        atomic_store_explicit(&a->migrated, ob + 1, memory_order_relaxed);
        pthread_mutex_unlock(stripe);
    }
    if (ob == old_buckets) {
        grow_finish(a);
        more = false;
    }
out:
    pthread_mutex_unlock(&a->grow_lock);
    return more;
}

uint64_t assoc_count(const struct assoc *a)
{
    return atomic_load_explicit(&a->count, memory_order_relaxed);
}

unsigned assoc_power(struct assoc *a)
{
    pthread_mutex_lock(&a->grow_lock);
    unsigned p = a->power;
    pthread_mutex_unlock(&a->grow_lock);
    return p;
}

bool assoc_is_growing(struct assoc *a)
{
    pthread_mutex_lock(&a->grow_lock);
    bool g = a->growing;
    pthread_mutex_unlock(&a->grow_lock);
    return g;
}

uint64_t assoc_bytes(struct assoc *a)
{
    pthread_mutex_lock(&a->grow_lock);
    uint64_t b = table_bytes(a->power);
    if (a->growing)
        b += table_bytes(a->power - 1);
    pthread_mutex_unlock(&a->grow_lock);
    return b;
}

static void walk_bucket(struct assoc *a, uint64_t b,
                        void (*fn)(struct item *, uint64_t, void *),
                        void *arg)
{
    for (uint32_t ref = a->table[b]; ref != 0;) {
        struct item *it = item_at(a, ref);
        ref = it->h_next;
        fn(it, assoc_hash(item_ckey(it, a->with_cas), it->nkey), arg);
    }
}

bool assoc_walk_step(struct assoc *a, uint64_t *cursor, unsigned budget,
                     void (*fn)(struct item *it, uint64_t hv, void *arg),
                     void *arg)
{
    bool wrapped = false;
    pthread_mutex_lock(&a->grow_lock);
    uint64_t buckets = (uint64_t)1 << a->power;
    if (a->growing)
        goto out;
    if (*cursor >= buckets)
        *cursor = 0;
    for (unsigned n = 0; n < budget && !wrapped; n++) {
        pthread_mutex_t *stripe = &a->stripes[*cursor & a->stripe_mask];
        pthread_mutex_lock(stripe);
        walk_bucket(a, *cursor, fn, arg);
        pthread_mutex_unlock(stripe);
        if (++*cursor == buckets) {
            *cursor = 0;
            wrapped = true;
        }
    }
out:
    pthread_mutex_unlock(&a->grow_lock);
    return wrapped;
}

static void walk_table(struct assoc *a, uint32_t *t, uint64_t from,
                       uint64_t to, void (*fn)(struct item *, void *),
                       void *arg)
{
    for (uint64_t b = from; b < to; b++) {
        for (uint32_t ref = t[b]; ref != 0;) {
            struct item *it = item_at(a, ref);
            ref = it->h_next;
            fn(it, arg);
        }
    }
}

void assoc_foreach(struct assoc *a, void (*fn)(struct item *, void *),
                   void *arg)
{
    pthread_mutex_lock(&a->grow_lock);
    lock_all(a);
    walk_table(a, a->table, 0, (uint64_t)1 << a->power, fn, arg);
    if (a->growing)
        walk_table(a, a->old, atomic_load(&a->migrated),
                   (uint64_t)1 << (a->power - 1), fn, arg);
    unlock_all(a);
    pthread_mutex_unlock(&a->grow_lock);
}
