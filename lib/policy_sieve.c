/*
 * lib/policy_sieve.c - see policy_sieve.h.
 *
 * Per class: a FIFO list (lib/policy_list.h, head = newest) and a hand,
 * the reference of the next item the sweep looks at (0: start at the
 * tail), all guarded by the class mutex. The visited bit is bit 0 of
 * pbits; hit sets it with an atomic OR under the item's stripe lock only,
 * and evict clears it with an atomic AND under the class lock.
 *
 * evict() walks from the hand toward the head, wrapping to the tail:
 * a visited item loses its bit and is passed; an unvisited one is offered.
 * The hand is left on the offered item, so when take() unlinks it
 * unlink_locked() moves the hand to its head-side neighbour, which is
 * where SIEVE resumes. Whoever else unlinks the item under the hand moves
 * it the same way.
 *
 * A call that takes nothing (the cache's first, dead-items-only pass, or
 * every candidate busy) puts the hand and the bits it cleared back, so
 * only a real eviction advances the sweep; otherwise each refused pass
 * would spare the next few unvisited items and skip them.
 *
 * Cost: link, unlink O(1) under the class lock; hit one atomic load (plus
 * an atomic OR the first time after a sweep), no lock; evict at most
 * SIEVE_MAX_VISITS + tries steps, amortised O(1) per eviction as in SIEVE.
 */
#include "lib/policy_sieve.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/policy_list.h"

#define SIEVE_VISITED 1u

struct sieve_class {
    pthread_mutex_t lock;
    struct plist list;
    uint32_t hand;
    uint64_t hand_moves;  /* items the hand passed over, under lock */
};

struct policy {
    struct slabs *slabs;
    struct sieve_class classes[SLABS_MAX_CLASSES + 1];
};

/* What one sweep changed, so a sweep that takes nothing can undo it. */
struct sweep {
    uint32_t start_hand;
    unsigned ncleared;
    uint32_t cleared[SIEVE_MAX_VISITS];
};

static struct policy *sieve_create(struct slabs *slabs)
{
    struct policy *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->slabs = slabs;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_init(&p->classes[i].lock, NULL);
    return p;
}

static void sieve_destroy(struct policy *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_destroy(&p->classes[i].lock);
    free(p);
}

static bool visited(const struct item *it)
{
    return __atomic_load_n(&it->pbits, __ATOMIC_RELAXED) & SIEVE_VISITED;
}

static void sieve_link(struct policy *p, struct item *it, rel_time_t now)
{
    struct sieve_class *sc = &p->classes[it->clsid];
    pthread_mutex_lock(&sc->lock);
    item_set_atime(it, now); /* the store time, which flush_all compares */
    __atomic_store_n(&it->pbits, 0, __ATOMIC_RELAXED);
    plist_push_head(&sc->list, p->slabs, it);
    pthread_mutex_unlock(&sc->lock);
}

static void sieve_unlink_locked(struct policy *p, struct item *it)
{
    struct sieve_class *sc = &p->classes[it->clsid];
    if (sc->hand == slabs_ref(p->slabs, it))
        sc->hand = it->prev; /* 0 at the head: wrap to the tail */
    plist_remove(&sc->list, p->slabs, it);
}

static void sieve_unlink(struct policy *p, struct item *it)
{
    struct sieve_class *sc = &p->classes[it->clsid];
    pthread_mutex_lock(&sc->lock);
    sieve_unlink_locked(p, it);
    pthread_mutex_unlock(&sc->lock);
}

static void sieve_hit(struct policy *p, struct item *it, rel_time_t now)
{
    (void)p;
    (void)now;
    /* Read first: a hot item's header line is then only read, not
     * written, on every hit. */
    if (!visited(it))
        __atomic_fetch_or(&it->pbits, SIEVE_VISITED, __ATOMIC_RELAXED);
}

static void undo_sweep_locked(struct policy *p, struct sieve_class *sc,
                              const struct sweep *sw)
{
    sc->hand = sw->start_hand;
    for (unsigned i = 0; i < sw->ncleared; i++) {
        struct item *it = plist_at(p->slabs, sw->cleared[i]);
        __atomic_fetch_or(&it->pbits, SIEVE_VISITED, __ATOMIC_RELAXED);
    }
}

static bool sieve_evict(struct policy *p, unsigned cls, unsigned tries,
                        policy_take_fn take, void *ctx)
{
    struct sieve_class *sc = &p->classes[cls];
    struct sweep sw;
    bool taken = false;
    pthread_mutex_lock(&sc->lock);
    sw.start_hand = sc->hand;
    sw.ncleared = 0;
    uint64_t offers = sc->list.count < tries ? sc->list.count : tries;
    uint32_t ref = sc->hand != 0 ? sc->hand : sc->list.tail;
    while (offers > 0) {
        struct item *it = plist_at(p->slabs, ref);
        if (sw.ncleared < SIEVE_MAX_VISITS && visited(it)) {
            __atomic_fetch_and(&it->pbits, (uint8_t)~SIEVE_VISITED,
                               __ATOMIC_RELAXED);
            sw.cleared[sw.ncleared++] = ref;
        } else {
            offers--;
            sc->hand = ref; /* take() unlinking it moves the hand on */
            if ((taken = take(ctx, it)))
                break;
        }
        ref = it->prev != 0 ? it->prev : sc->list.tail;
        sc->hand_moves++;
    }
    if (!taken)
        undo_sweep_locked(p, sc, &sw);
    pthread_mutex_unlock(&sc->lock);
    return taken;
}

static uint64_t sieve_count(struct policy *p, unsigned cls)
{
    struct sieve_class *sc = &p->classes[cls];
    pthread_mutex_lock(&sc->lock);
    uint64_t n = sc->list.count;
    pthread_mutex_unlock(&sc->lock);
    return n;
}

static void sieve_stats(struct policy *p, policy_stat_fn emit, void *arg)
{
    uint64_t moves = 0;
    for (unsigned i = 1; i <= SLABS_MAX_CLASSES; i++) {
        struct sieve_class *sc = &p->classes[i];
        pthread_mutex_lock(&sc->lock);
        moves += sc->hand_moves;
        pthread_mutex_unlock(&sc->lock);
    }
    emit("sieve_hand_moves", moves, arg);
}

static rel_time_t sieve_oldest(struct policy *p, unsigned cls)
{
    struct sieve_class *sc = &p->classes[cls];
    pthread_mutex_lock(&sc->lock);
    rel_time_t t = plist_tail_atime(&sc->list, p->slabs);
    pthread_mutex_unlock(&sc->lock);
    return t;
}

static void sieve_reset_stats(struct policy *p)
{
    for (unsigned i = 1; i <= SLABS_MAX_CLASSES; i++) {
        struct sieve_class *sc = &p->classes[i];
        pthread_mutex_lock(&sc->lock);
        sc->hand_moves = 0;
        pthread_mutex_unlock(&sc->lock);
    }
}

const struct policy_ops policy_sieve = {
    .name = "sieve",
    .create = sieve_create,
    .destroy = sieve_destroy,
    .link = sieve_link,
    .unlink = sieve_unlink,
    .unlink_locked = sieve_unlink_locked,
    .hit = sieve_hit,
    .evict = sieve_evict,
    .count = sieve_count,
    .oldest = sieve_oldest,
    .stats = sieve_stats,
    .reset_stats = sieve_reset_stats,
};
