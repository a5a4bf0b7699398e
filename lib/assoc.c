/*
 * lib/assoc.c - see assoc.h.
 *
 * The table's shape (current and old bucket arrays, size, whether it is
 * growing) is an immutable struct assoc_state, published through one
 * atomic pointer and replaced, never modified, by the single growing
 * thread (under grow_lock). A request loads it after taking its stripe.
 *
 * Invariants:
 * - nstripes <= buckets of the current table, so every item in one bucket
 *   maps to one stripe, in the old table and in the new one.
 * - migrated (the next old bucket to move) is stored while holding that
 *   bucket's stripe, after the move. A reader holding its stripe thus sees
 *   migrated > its old bucket exactly when its bucket has moved, and a
 *   reader that still sees the state before a growth began is working on
 *   a bucket no migration has touched (moving it needs the reader's
 *   stripe).
 * - A replaced state (and, after a growth, the old bucket array) is freed
 *   only after quiesce() has taken and released every stripe in turn:
 *   then no reader can still hold it. No thread ever holds more than one
 *   stripe, so a growth never stops every request at once.
 */
#include "lib/assoc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define ASSOC_DEFAULT_STRIPE_POWER 12
/* Grow when there are 3 items for every 2 buckets, as memcached does. */
#define ASSOC_LOAD_NUM 3
#define ASSOC_LOAD_DEN 2

struct assoc_state {
    uint32_t *table;
    uint32_t *old;    /* while growing: the half-size table being emptied */
    unsigned power;   /* log2 of table's buckets */
    bool growing;
};

struct assoc {
    struct slabs *slabs;
    bool with_cas;
    struct assoc_state *_Atomic state;
    _Atomic uint64_t migrated;
    _Atomic uint64_t count;
    pthread_mutex_t grow_lock; /* serialises growth, walks and shape reads */
    unsigned stripe_mask;
    pthread_mutex_t *stripes;
};

static uint64_t table_bytes(unsigned power)
{
    return ((uint64_t)1 << power) * sizeof(uint32_t);
}

/* Tables this large get huge pages of their own (see table_map()). */
#define TABLE_HUGE ((size_t)2 << 20)

/* Zeroed memory of `bytes` (a multiple of TABLE_HUGE) on a TABLE_HUGE
 * boundary, or NULL. */
static void *map_huge_aligned(size_t bytes)
{
    char *m = mmap(NULL, bytes + TABLE_HUGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *start = (char *)(((uintptr_t)m + TABLE_HUGE - 1) &
                           ~(uintptr_t)(TABLE_HUGE - 1));
    if (start > m)
        munmap(m, (size_t)(start - m));
    munmap(start + bytes, (size_t)(m + TABLE_HUGE - start)); /* > 0 */
    return start;
}

/* A table's memory is first touched by a read (a lookup, or the growth
 * reading a head before linking into it), and a read of untouched memory
 * maps the shared zero page: the first write to each page then faulted
 * again and flushed every worker's TLB (an interrupt per page). So a
 * large table gets huge pages (a fault per 2 MiB, and lookups spared a
 * TLB miss per bucket), and its pages are written before anything reads
 * them: all at once for a table made before requests are served
 * (`populate`), else a growth writes each batch's new buckets before it
 * moves items into them (prepare_batch()). The madvise calls are hints. */
static uint32_t *table_map(size_t bytes, bool populate)
{
    uint32_t *t = map_huge_aligned(bytes);
    if (t == NULL)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(t, bytes, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
    if (populate)
        (void)madvise(t, bytes, MADV_POPULATE_WRITE);
#else
    (void)populate;
#endif
    return t;
}

static uint32_t *table_alloc(struct slabs *slabs, unsigned power,
                             bool populate)
{
    size_t bytes = (size_t)table_bytes(power);
    if (!slabs_charge(slabs, bytes))
        return NULL;
    uint32_t *t = bytes >= TABLE_HUGE ? table_map(bytes, populate)
                                      : calloc(1, bytes);
    if (t == NULL)
        slabs_uncharge(slabs, bytes);
    return t;
}

static void table_free(struct slabs *slabs, uint32_t *t, unsigned power)
{
    size_t bytes = (size_t)table_bytes(power);
    if (bytes >= TABLE_HUGE)
        munmap(t, bytes);
    else
        free(t);
    slabs_uncharge(slabs, bytes);
}

static struct assoc_state *state_new(uint32_t *table, uint32_t *old,
                                     unsigned power, bool growing)
{
    struct assoc_state *st = malloc(sizeof(*st));
    if (st != NULL)
        *st = (struct assoc_state){table, old, power, growing};
    return st;
}

/* The current shape: under a stripe (requests) or grow_lock (the rest). */
static struct assoc_state *shape(const struct assoc *a)
{
    return atomic_load_explicit(&((struct assoc *)a)->state,
                                memory_order_acquire);
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
    a->stripe_mask = (1u << stripe_power) - 1;
    uint32_t *table = table_alloc(slabs, power, true);
    struct assoc_state *st = table ? state_new(table, NULL, power, false)
                                   : NULL;
    a->stripes = calloc((size_t)a->stripe_mask + 1, sizeof(pthread_mutex_t));
    if (st == NULL || a->stripes == NULL) {
        if (table != NULL)
            table_free(slabs, table, power);
        free(st);
        free(a->stripes);
        free(a);
        return NULL;
    }
    atomic_init(&a->state, st);
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
    struct assoc_state *st = shape(a);
    if (st->old != NULL)
        table_free(a->slabs, st->old, st->power - 1);
    table_free(a->slabs, st->table, st->power);
    free(st);
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

/* Wait until every thread that might have loaded an older state has let
 * go of its stripe. */
static void quiesce(struct assoc *a)
{
    for (unsigned i = 0; i <= a->stripe_mask; i++) {
        pthread_mutex_lock(&a->stripes[i]);
        pthread_mutex_unlock(&a->stripes[i]);
    }
}

/* Publish a new shape and free the one it replaces; grow_lock held. */
static void publish(struct assoc *a, struct assoc_state *next)
{
    struct assoc_state *prev = shape(a);
    atomic_store_explicit(&a->state, next, memory_order_release);
    quiesce(a);
    free(prev);
}

/* The head of hv's chain; the caller holds hv's stripe (or, for a mere
 * hint, grow_lock, which keeps the tables it points into alive). */
static uint32_t *bucket_for(struct assoc *a, uint64_t hv)
{
    const struct assoc_state *st = shape(a);
    if (st->growing) {
        uint64_t ob = hv & (((uint64_t)1 << (st->power - 1)) - 1);
        if (ob >= atomic_load_explicit(&a->migrated, memory_order_relaxed))
            return &st->old[ob];
    }
    return &st->table[hv & (((uint64_t)1 << st->power) - 1)];
}

static struct item *item_at(struct assoc *a, uint32_t ref)
{
    return slabs_ptr(a->slabs, ref);
}

/* Every store to a bucket head (and, through remove's walk, to a chain
 * link) is atomic, because assoc_prefetch_chains() reads heads without the
 * stripe. Relaxed: the stripe lock still orders everything that counts. */
static void set_link(uint32_t *link, uint32_t ref)
{
    __atomic_store_n(link, ref, __ATOMIC_RELAXED);
}

/* grow_lock keeps the tables alive meanwhile. */
void assoc_prefetch_buckets(struct assoc *a, const uint64_t *hv, size_t n)
{
    pthread_mutex_lock(&a->grow_lock);
    for (size_t i = 0; i < n; i++)
        __builtin_prefetch(bucket_for(a, hv[i]), 1);
    pthread_mutex_unlock(&a->grow_lock);
}

void assoc_prefetch_chains(struct assoc *a, const uint64_t *hv, size_t n)
{
    pthread_mutex_lock(&a->grow_lock);
    for (size_t i = 0; i < n; i++) {
        uint32_t ref = __atomic_load_n(bucket_for(a, hv[i]),
                                       __ATOMIC_RELAXED);
        if (ref != 0)
            __builtin_prefetch(item_at(a, ref), 0);
    }
    pthread_mutex_unlock(&a->grow_lock);
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
    set_link(head, slabs_ref(a->slabs, it));
    atomic_fetch_add_explicit(&a->count, 1, memory_order_relaxed);
}

bool assoc_remove_locked(struct assoc *a, uint64_t hv, struct item *it)
{
    uint32_t target = slabs_ref(a->slabs, it);
    uint32_t *link = bucket_for(a, hv);
    while (*link != 0) {
        if (*link == target) {
            set_link(link, it->h_next);
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
    const struct assoc_state *st = shape(a);
    uint64_t buckets = (uint64_t)1 << st->power;
    bool wants = !st->growing && st->power < ASSOC_MAX_POWER &&
                 atomic_load(&a->count) * ASSOC_LOAD_DEN >
                     buckets * ASSOC_LOAD_NUM;
    pthread_mutex_unlock(&a->grow_lock);
    return wants;
}

/* Buckets the load factor wants for n items. */
static bool too_small_for(unsigned power, uint64_t n)
{
    return power < ASSOC_MAX_POWER &&
           n * ASSOC_LOAD_DEN > ((uint64_t)1 << power) * ASSOC_LOAD_NUM;
}

bool assoc_behind(struct assoc *a)
{
    return too_small_for(assoc_power(a), atomic_load(&a->count));
}

unsigned assoc_power_for(uint64_t n)
{
    unsigned power = 1;
    while (too_small_for(power, n))
        power++;
    return power;
}

void assoc_presize(struct assoc *a, uint64_t n)
{
    /* Each round doubles the table; with few items in it, a growth is
     * little more than the allocation. */
    for (int round = 0; round < ASSOC_MAX_POWER; round++) {
        if (!too_small_for(assoc_power(a), n) || !assoc_grow_start(a))
            return;
        while (assoc_grow_step(a, 1u << 20))
            ;
    }
}

bool assoc_grow_start(struct assoc *a)
{
    /* Both are checked again under grow_lock before the table is used. */
    unsigned power = assoc_power(a);
    if (assoc_is_growing(a) || power >= ASSOC_MAX_POWER)
        return false;
    /* Made outside grow_lock, which `stats` and scans wait on. */
    uint32_t *bigger = table_alloc(a->slabs, power + 1, false);
    if (bigger == NULL)
        return false;
    bool started = false;
    pthread_mutex_lock(&a->grow_lock);
    const struct assoc_state *st = shape(a);
    struct assoc_state *next = NULL;
    if (!st->growing && st->power == power) /* else another thread grew it */
        next = state_new(bigger, st->table, power + 1, true);
    if (next != NULL) {
        /* Before the state that makes readers look at it. */
        atomic_store(&a->migrated, 0);
        publish(a, next);
        started = true;
    }
    pthread_mutex_unlock(&a->grow_lock);
    if (!started)
        table_free(a->slabs, bigger, power + 1);
    return started;
}

/* Move one old bucket's chain into the new table; its stripe is held. */
static void migrate_bucket(struct assoc *a, const struct assoc_state *st,
                           uint64_t ob)
{
    uint64_t mask = ((uint64_t)1 << st->power) - 1;
    uint32_t ref = st->old[ob];
    while (ref != 0) {
        struct item *it = item_at(a, ref);
        uint32_t next = it->h_next;
        uint64_t hv = assoc_hash(item_ckey(it, a->with_cas), it->nkey);
        uint32_t *head = &st->table[hv & mask];
        it->h_next = *head;
        set_link(head, ref);
        ref = next;
    }
    set_link(&st->old[ob], 0);
}

/* The new buckets that old buckets ob..ob+n-1 move into, written (with
 * the zeros they hold) before the move reads them; see table_map(). No
 * one reads or writes them before their old bucket has moved: requests
 * go to the old bucket until then, and scans wait on grow_lock, held. */
static void prepare_batch(const struct assoc_state *st, uint64_t ob,
                          uint64_t n)
{
    uint64_t old_buckets = (uint64_t)1 << (st->power - 1);
    memset(&st->table[ob], 0, n * sizeof(uint32_t));
    memset(&st->table[old_buckets + ob], 0, n * sizeof(uint32_t));
}

/* Every old bucket has moved: drop the old table. grow_lock held. */
static void grow_finish(struct assoc *a, const struct assoc_state *st)
{
    uint32_t *old = st->old;
    unsigned power = st->power;
    struct assoc_state *next = state_new(st->table, NULL, power, false);
    if (next == NULL)
        return; /* try again at the next step */
    publish(a, next);
    table_free(a->slabs, old, power - 1);
}

bool assoc_grow_step(struct assoc *a, unsigned budget)
{
    pthread_mutex_lock(&a->grow_lock);
    const struct assoc_state *st = shape(a);
    bool more = st->growing;
    if (!more)
        goto out;
    uint64_t old_buckets = (uint64_t)1 << (st->power - 1);
    uint64_t ob = atomic_load(&a->migrated);
    prepare_batch(st, ob, budget < old_buckets - ob ? budget
                                                    : old_buckets - ob);
    for (unsigned n = 0; n < budget && ob < old_buckets; n++, ob++) {
        pthread_mutex_t *stripe = &a->stripes[ob & a->stripe_mask];
        pthread_mutex_lock(stripe);
        migrate_bucket(a, st, ob);
        atomic_store_explicit(&a->migrated, ob + 1, memory_order_relaxed);
        pthread_mutex_unlock(stripe);
    }
    if (ob == old_buckets) {
        grow_finish(a, st);
        more = shape(a)->growing;
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
    unsigned p = shape(a)->power;
    pthread_mutex_unlock(&a->grow_lock);
    return p;
}

bool assoc_is_growing(struct assoc *a)
{
    pthread_mutex_lock(&a->grow_lock);
    bool g = shape(a)->growing;
    pthread_mutex_unlock(&a->grow_lock);
    return g;
}

uint64_t assoc_bytes(struct assoc *a)
{
    pthread_mutex_lock(&a->grow_lock);
    const struct assoc_state *st = shape(a);
    uint64_t b = table_bytes(st->power);
    if (st->growing)
        b += table_bytes(st->power - 1);
    pthread_mutex_unlock(&a->grow_lock);
    return b;
}

/* Visit one chain; fn may unlink the item it gets. */
static void walk_chain(struct assoc *a, uint32_t ref,
                       void (*fn)(struct item *, uint64_t, void *),
                       void *arg)
{
    while (ref != 0) {
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
    const struct assoc_state *st = shape(a);
    uint64_t buckets = (uint64_t)1 << st->power;
    if (st->growing)
        goto out;
    if (*cursor >= buckets)
        *cursor = 0;
    for (unsigned n = 0; n < budget && !wrapped; n++) {
        pthread_mutex_t *stripe = &a->stripes[*cursor & a->stripe_mask];
        pthread_mutex_lock(stripe);
        walk_chain(a, st->table[*cursor], fn, arg);
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

static uint64_t reverse_bits(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    return __builtin_bswap64(v);
}

/* The items of new-table bucket b still waiting in old bucket ob. */
static void scan_old_chain(struct assoc *a, uint32_t ref, uint64_t mask,
                           uint64_t b, void (*fn)(struct item *, void *),
                           void *arg)
{
    while (ref != 0) {
        struct item *it = item_at(a, ref);
        ref = it->h_next;
        if ((assoc_hash(item_ckey(it, a->with_cas), it->nkey) & mask) == b)
            fn(it, arg);
    }
}

static void scan_bucket(struct assoc *a, const struct assoc_state *st,
                        uint64_t b, void (*fn)(struct item *, void *),
                        void *arg)
{
    uint64_t mask = ((uint64_t)1 << st->power) - 1;
    for (uint32_t ref = st->table[b]; ref != 0;) {
        struct item *it = item_at(a, ref);
        ref = it->h_next;
        fn(it, arg);
    }
    uint64_t ob = b & (mask >> 1);
    if (st->growing && ob >= atomic_load(&a->migrated))
        scan_old_chain(a, st->old[ob], mask, b, fn, arg);
}

/* Whether bucket b holds nothing, read without its stripe (heads are
 * stored atomically). grow_lock held, so nothing migrates meanwhile: an
 * item that stays linked all along is seen, and one linked or unlinked
 * while the scan passes may or may not be, as with the stripe taken. A
 * sparse table (a small cache, or one just flushed) is then scanned at
 * the speed of reading it rather than a lock per bucket. */
static bool scan_sees_empty(struct assoc *a, const struct assoc_state *st,
                            uint64_t b, uint64_t mask)
{
    if (__atomic_load_n(&st->table[b], __ATOMIC_RELAXED) != 0)
        return false;
    uint64_t ob = b & (mask >> 1);
    return !st->growing || ob < atomic_load(&a->migrated) ||
           __atomic_load_n(&st->old[ob], __ATOMIC_RELAXED) == 0;
}

/* v's low `power` bits reversed (power 1..63): a bucket index from its
 * place in the scan's order, and back. */
static uint64_t reverse_low(uint64_t v, unsigned power)
{
    return reverse_bits(v) >> (64 - power);
}

/* Buckets ahead of the scan whose heads, then first items, are fetched
 * early: the cursor jumps across the table, and a miss per bucket and
 * per item made a scan three times slower than a walk in order. */
#define SCAN_AHEAD 8

/* Fetch what bucket b and its first item will need: grow_lock held,
 * which keeps the tables alive, so the head may be read unlocked. */
static void scan_prefetch(struct assoc *a, const struct assoc_state *st,
                          uint64_t bucket_ahead, uint64_t item_ahead)
{
    __builtin_prefetch(&st->table[bucket_ahead]);
    uint32_t ref = __atomic_load_n(&st->table[item_ahead], __ATOMIC_RELAXED);
    if (ref != 0)
        __builtin_prefetch(item_at(a, ref));
}

bool assoc_scan_step(struct assoc *a, uint64_t *cursor, unsigned budget,
                     void (*fn)(struct item *it, void *arg), void *arg)
{
    bool done = false;
    pthread_mutex_lock(&a->grow_lock);
    const struct assoc_state *st = shape(a);
    unsigned power = st->power;
    uint64_t end = (uint64_t)1 << power, mask = end - 1;
    /* k counts the buckets in the order they are visited: the cursor
     * (a bucket index) reversed. Heads are fetched 2 x SCAN_AHEAD
     * buckets ahead, first items SCAN_AHEAD ahead; past the end they
     * wrap to the start: a few wasted fetches. */
    uint64_t k = reverse_low(*cursor & mask, power);
    for (uint64_t i = SCAN_AHEAD; i < 2 * SCAN_AHEAD; i++)
        __builtin_prefetch(&st->table[reverse_low((k + i) & mask, power)]);
    for (unsigned n = 0; n < budget && !done; n++) {
        scan_prefetch(a, st,
                      reverse_low((k + 2 * SCAN_AHEAD) & mask, power),
                      reverse_low((k + SCAN_AHEAD) & mask, power));
        uint64_t b = reverse_low(k, power);
        if (!scan_sees_empty(a, st, b, mask)) {
            pthread_mutex_t *stripe = &a->stripes[b & a->stripe_mask];
            pthread_mutex_lock(stripe);
            scan_bucket(a, st, b, fn, arg);
            pthread_mutex_unlock(stripe);
        }
        done = ++k == end;
    }
    *cursor = done ? 0 : reverse_low(k, power);
    pthread_mutex_unlock(&a->grow_lock);
    return done;
}

/* Adapts a plain visitor to walk_chain's. */
struct plain_visit {
    void (*fn)(struct item *, void *);
    void *arg;
};

static void visit_plain(struct item *it, uint64_t hv, void *arg)
{
    struct plain_visit *v = arg;
    (void)hv;
    v->fn(it, v->arg);
}

void assoc_foreach(struct assoc *a, void (*fn)(struct item *, void *),
                   void *arg)
{
    /* Bucket by bucket, each under its stripe, like the reaper's walk;
     * with growth held off (grow_lock) the shape cannot change. */
    struct plain_visit v = {fn, arg};
    pthread_mutex_lock(&a->grow_lock);
    const struct assoc_state *st = shape(a);
    uint64_t buckets = (uint64_t)1 << st->power;
    uint64_t old_buckets = st->growing ? buckets / 2 : 0;
    for (uint64_t b = 0; b < buckets + old_buckets; b++) {
        uint64_t idx = b < buckets ? b : b - buckets;
        pthread_mutex_t *stripe = &a->stripes[idx & a->stripe_mask];
        pthread_mutex_lock(stripe);
        if (b < buckets)
            walk_chain(a, st->table[idx], visit_plain, &v);
        else if (idx >= atomic_load(&a->migrated))
            walk_chain(a, st->old[idx], visit_plain, &v);
        pthread_mutex_unlock(stripe);
    }
    pthread_mutex_unlock(&a->grow_lock);
}
