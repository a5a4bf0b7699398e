/*
 * lib/policy_lfu.c - see policy_lfu.h.
 *
 * pbits, all eight bits, is the access counter:
 *
 *     7                 0
 *    +-------------------+
 *    |  log counter 0-255 |   new items: LFU_INIT
 *    +-------------------+
 *
 * and the item's atime is when it was last counted (the decay reference).
 * Both change on hit under the item's stripe lock only, so pbits moves by
 * compare-and-swap and atime through item_set_atime(); evict reads both
 * atomically and writes neither (decay is computed, not stored, there).
 * Two hits racing across a decay boundary may decay the counter twice;
 * the counter is an estimate and that costs at most one step.
 *
 * Per class, under the class mutex: a list (lib/policy_list.h), new items
 * at the head. The random numbers for the probabilistic increment come
 * from a per-class splitmix64 sequence advanced with an atomic add (the
 * hit path holds no lock), seeded at create, so a single-threaded run is
 * reproducible. evict() has no clock argument, so the policy remembers the
 * latest time link or hit was given and decays against that.
 *
 * Cost: link, unlink O(1) under the class lock; hit O(1) with no lock (an
 * atomic add for the random number unless the counter is below LFU_INIT
 * or saturated, a CAS when the counter changes, a store when atime
 * changes); evict O(tries^2) with tries <= LFU_WINDOW_MAX (a sort of the
 * window, then at most tries-1 moves to the head).
 */
#include "lib/policy_lfu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/policy_list.h"

#define LFU_SEED 0x2545f4914f6cdd1dull
#define LFU_MAX 255

struct lfu_class {
    pthread_mutex_t lock;
    struct plist list;
    uint64_t sampled;   /* candidates compared by evict, under lock */
    uint64_t rotated;   /* survivors sent round again, under lock */
};

/* Written by every hit that draws a number: one cache line each, apart
 * from the locks and from each other. */
struct lfu_rng {
    _Alignas(64) uint64_t state;
};

struct policy {
    struct slabs *slabs;
    _Alignas(64) rel_time_t now; /* the latest time seen; atomic */
    struct lfu_rng rng[SLABS_MAX_CLASSES + 1];
    struct lfu_class classes[SLABS_MAX_CLASSES + 1];
};

/* One window slot: an item and its decayed counter. */
struct lfu_cand {
    uint32_t ref;
    uint8_t counter;
};

static struct policy *lfu_create(struct slabs *slabs)
{
    struct policy *p = aligned_alloc(_Alignof(struct policy),
                                     sizeof(struct policy));
    if (p == NULL)
        return NULL;
    memset(p, 0, sizeof(*p));
    p->slabs = slabs;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++) {
        pthread_mutex_init(&p->classes[i].lock, NULL);
        p->rng[i].state = LFU_SEED * (i + 1);
    }
    return p;
}

static void lfu_destroy(struct policy *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_destroy(&p->classes[i].lock);
    free(p);
}

/* splitmix64: a Weyl sequence through a 64-bit mixer. */
static uint64_t next_random(struct policy *p, unsigned cls)
{
    uint64_t z = __atomic_add_fetch(&p->rng[cls].state,
                                    0x9e3779b97f4a7c15ull, __ATOMIC_RELAXED);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void note_time(struct policy *p, rel_time_t now)
{
    rel_time_t seen = __atomic_load_n(&p->now, __ATOMIC_RELAXED);
    while (seen < now &&
           !__atomic_compare_exchange_n(&p->now, &seen, now, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static uint8_t decayed(uint8_t counter, rel_time_t atime, rel_time_t now)
{
    if (now <= atime)
        return counter;
    rel_time_t periods = (now - atime) / LFU_DECAY_SECONDS;
    return periods >= counter ? 0 : (uint8_t)(counter - periods);
}

static uint8_t log_incr(struct policy *p, unsigned cls, uint8_t counter)
{
    if (counter == LFU_MAX)
        return counter;
    if (counter < LFU_INIT + 1)
        return counter + 1; /* probability 1: no random number needed */
    uint64_t range = (uint64_t)(counter - LFU_INIT) * LFU_LOG_FACTOR + 1;
    return next_random(p, cls) % range == 0 ? counter + 1 : counter;
}

static void lfu_link(struct policy *p, struct item *it, rel_time_t now)
{
    struct lfu_class *lc = &p->classes[it->clsid];
    note_time(p, now);
    pthread_mutex_lock(&lc->lock);
    item_set_atime(it, now); /* also the store time flush_all compares */
    __atomic_store_n(&it->pbits, LFU_INIT, __ATOMIC_RELAXED);
    plist_push_head(&lc->list, p->slabs, it);
    pthread_mutex_unlock(&lc->lock);
}

static void lfu_unlink_locked(struct policy *p, struct item *it)
{
    plist_remove(&p->classes[it->clsid].list, p->slabs, it);
}

static void lfu_unlink(struct policy *p, struct item *it)
{
    struct lfu_class *lc = &p->classes[it->clsid];
    pthread_mutex_lock(&lc->lock);
    plist_remove(&lc->list, p->slabs, it);
    pthread_mutex_unlock(&lc->lock);
}

static void lfu_hit(struct policy *p, struct item *it, rel_time_t now)
{
    note_time(p, now);
    uint8_t old = __atomic_load_n(&it->pbits, __ATOMIC_RELAXED);
    uint8_t next;
    do {
        next = log_incr(p, it->clsid,
                        decayed(old, item_atime(it), now));
    } while (next != old &&
             !__atomic_compare_exchange_n(&it->pbits, &old, next, true,
                                          __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    if (item_atime(it) < now)
        item_set_atime(it, now);
}

/* Up to `want` items from the tail, in tail order into order[] and sorted
 * by decayed counter (stable: older first among equals) into win[]. */
static unsigned window_locked(struct policy *p, struct lfu_class *lc,
                              unsigned want, struct lfu_cand *win,
                              uint32_t *order)
{
    rel_time_t now = __atomic_load_n(&p->now, __ATOMIC_RELAXED);
    unsigned n = 0;
    for (uint32_t ref = lc->list.tail; ref != 0 && n < want; n++) {
        struct item *it = plist_at(p->slabs, ref);
        uint8_t c = decayed(__atomic_load_n(&it->pbits, __ATOMIC_RELAXED),
                            item_atime(it), now);
        unsigned i = n;
        for (; i > 0 && win[i - 1].counter > c; i--)
            win[i] = win[i - 1];
        win[i] = (struct lfu_cand){ref, c};
        order[n] = ref;
        ref = it->prev;
    }
    return n;
}

static bool lfu_evict(struct policy *p, unsigned cls, unsigned tries,
                      policy_take_fn take, void *ctx)
{
    struct lfu_class *lc = &p->classes[cls];
    struct lfu_cand win[LFU_WINDOW_MAX];
    uint32_t order[LFU_WINDOW_MAX];
    uint32_t victim = 0;
    if (tries > LFU_WINDOW_MAX)
        tries = LFU_WINDOW_MAX;
    pthread_mutex_lock(&lc->lock);
    unsigned n = window_locked(p, lc, tries, win, order);
    lc->sampled += n;
    for (unsigned i = 0; i < n && victim == 0; i++)
        if (take(ctx, plist_at(p->slabs, win[i].ref)))
            victim = win[i].ref;
    /* Survivors go round again, oldest first so their order holds. Only
     * after a real eviction: a pass that takes nothing changes nothing. */
    for (unsigned i = 0; i < n && victim != 0; i++) {
        if (order[i] == victim)
            continue;
        struct item *it = plist_at(p->slabs, order[i]);
        plist_remove(&lc->list, p->slabs, it);
        plist_push_head(&lc->list, p->slabs, it);
        lc->rotated++;
    }
    pthread_mutex_unlock(&lc->lock);
    return victim != 0;
}

static uint64_t lfu_count(struct policy *p, unsigned cls)
{
    struct lfu_class *lc = &p->classes[cls];
    pthread_mutex_lock(&lc->lock);
    uint64_t n = lc->list.count;
    pthread_mutex_unlock(&lc->lock);
    return n;
}

static void lfu_stats(struct policy *p, policy_stat_fn emit, void *arg)
{
    uint64_t sampled = 0, rotated = 0;
    for (unsigned i = 1; i <= SLABS_MAX_CLASSES; i++) {
        struct lfu_class *lc = &p->classes[i];
        pthread_mutex_lock(&lc->lock);
        sampled += lc->sampled;
        rotated += lc->rotated;
        pthread_mutex_unlock(&lc->lock);
    }
    emit("lfu_sampled", sampled, arg);
    emit("lfu_rotated", rotated, arg);
}

static void lfu_reset_stats(struct policy *p)
{
    for (unsigned i = 1; i <= SLABS_MAX_CLASSES; i++) {
        struct lfu_class *lc = &p->classes[i];
        pthread_mutex_lock(&lc->lock);
        lc->sampled = lc->rotated = 0;
        pthread_mutex_unlock(&lc->lock);
    }
}

static rel_time_t lfu_oldest(struct policy *p, unsigned cls)
{
    struct lfu_class *lc = &p->classes[cls];
    pthread_mutex_lock(&lc->lock);
    rel_time_t t = plist_tail_atime(&lc->list, p->slabs);
    pthread_mutex_unlock(&lc->lock);
    return t;
}

const struct policy_ops policy_lfu = {
    .name = "lfu",
    .create = lfu_create,
    .destroy = lfu_destroy,
    .link = lfu_link,
    .unlink = lfu_unlink,
    .unlink_locked = lfu_unlink_locked,
    .hit = lfu_hit,
    .evict = lfu_evict,
    .count = lfu_count,
    .oldest = lfu_oldest,
    .stats = lfu_stats,
    .reset_stats = lfu_reset_stats,
};
