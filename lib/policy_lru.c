/*
 * lib/policy_lru.c - see policy_lru.h.
 *
 * Per class: a mutex and three lists (lib/policy_list.h, head = newest),
 * one per segment. The mutex guards the lists and every change of an
 * item's segment bits; hit() only ORs HIT or ACTIVE into pbits. Because
 * the two writers touch different bits and both use atomic
 * read-modify-writes, neither loses the other's update: a move clears
 * ACTIVE with fetch_and and then flips the segment with fetch_xor, so a
 * hit landing in between is kept, and counts in the segment the item lands
 * in (a HOT item read just as it drops to COLD is then rescued from COLD).
 *
 * Lock order: the cache's stripe -> this class lock (-> the stripe by
 * trylock only, inside evict()'s take()). maintain() takes one class lock
 * at a time and calls nothing outside this file.
 *
 * Cost: link, unlink O(1) under the class lock; hit one atomic load, no
 * lock, and a write only on the item's first read and its first read
 * after each move (an atomic OR), and to atime once per
 * LRU_BUMP_INTERVAL; evict at most
 * 2 * LRU_EVICT_MOVES moves plus `tries` offers; maintain at most `budget`
 * moves plus one lock round per class.
 */
#include "lib/policy_lru.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "lib/policy_list.h"

struct lru_class {
    pthread_mutex_t lock;
    struct plist segs[LRU_NSEGS];
    /* memcached's counters of segment moves and of victims taken while
     * ACTIVE, under lock */
    uint64_t moves_to_cold, moves_to_warm, moves_within_lru;
    uint64_t evicted_active;
};

/* The segment bits are policy_seg values, so stats need no mapping. */
_Static_assert(LRU_HOT == (int)POLICY_SEG_HOT &&
               LRU_WARM == (int)POLICY_SEG_WARM &&
               LRU_COLD == (int)POLICY_SEG_COLD,
               "lru segments are numbered as policy_seg");

struct policy {
    struct slabs *slabs;
    unsigned cursor; /* atomic: maintain() starts after this class */
    /* HOT's and WARM's shares of a class, in percent (set_shares) */
    _Atomic unsigned hot_pct, warm_pct;
    struct lru_class classes[SLABS_MAX_CLASSES + 1];
};

/* What one evict() call has left to spend. */
struct lru_offers {
    policy_take_fn take;
    void *ctx;
    unsigned tries;   /* candidates still to offer */
    unsigned rescues; /* ACTIVE COLD items still to move to WARM */
};

static struct policy *lru_create(struct slabs *slabs)
{
    struct policy *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->slabs = slabs;
    p->hot_pct = LRU_HOT_PCT;
    p->warm_pct = LRU_WARM_PCT;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_init(&p->classes[i].lock, NULL);
    return p;
}

static void lru_destroy(struct policy *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_destroy(&p->classes[i].lock);
    free(p);
}

static uint8_t lru_bits(const struct item *it)
{
    return __atomic_load_n(&it->pbits, __ATOMIC_RELAXED);
}

static enum lru_seg lru_seg_of(const struct item *it)
{
    return (enum lru_seg)(lru_bits(it) & LRU_SEG_MASK);
}

/* Clears ACTIVE and says whether it was set. Reads first, so the tail of
 * an idle list is only read. */
static bool lru_clear_active(struct item *it)
{
    if (!(lru_bits(it) & LRU_ACTIVE))
        return false;
    return __atomic_fetch_and(&it->pbits, (uint8_t)~LRU_ACTIVE,
                              __ATOMIC_RELAXED) & LRU_ACTIVE;
}

static uint64_t lru_total_locked(const struct lru_class *lc)
{
    return lc->segs[LRU_HOT].count + lc->segs[LRU_WARM].count +
           lc->segs[LRU_COLD].count;
}

/* Whether HOT or WARM holds more than its share of the class. */
static bool lru_over_locked(struct policy *p, const struct lru_class *lc,
                            enum lru_seg s)
{
    uint64_t pct = atomic_load_explicit(s == LRU_HOT ? &p->hot_pct
                                                     : &p->warm_pct,
                                        memory_order_relaxed);
    return lc->segs[s].count > lru_total_locked(lc) * pct / 100;
}

static bool lru_cold_tail_active_locked(struct policy *p,
                                        const struct lru_class *lc)
{
    uint32_t tail = lc->segs[LRU_COLD].tail;
    return tail != 0 && (lru_bits(plist_at(p->slabs, tail)) & LRU_ACTIVE);
}

/* Class lock held: it, in segment from, goes to the head of to. Only the
 * segment bits change here. */
static void lru_move_locked(struct policy *p, struct lru_class *lc,
                            struct item *it, enum lru_seg from,
                            enum lru_seg to)
{
    plist_remove(&lc->segs[from], p->slabs, it);
    plist_push_head(&lc->segs[to], p->slabs, it);
    if (from == to)
        lc->moves_within_lru++;
    else if (to == LRU_COLD)
        lc->moves_to_cold++;
    else
        lc->moves_to_warm++;
    if (from != to)
        __atomic_fetch_xor(&it->pbits, (uint8_t)(from ^ to),
                           __ATOMIC_RELAXED);
}

/* Class lock held: move the tail of HOT or WARM (not empty) down, or, if
 * it is ACTIVE, to WARM's head. */
static void lru_step_locked(struct policy *p, struct lru_class *lc,
                            enum lru_seg s)
{
    struct item *it = plist_at(p->slabs, lc->segs[s].tail);
    lru_move_locked(p, lc, it, s,
                    lru_clear_active(it) ? LRU_WARM : LRU_COLD);
}

/* Class lock held: bring HOT, then WARM, back to their shares with at
 * most budget moves. Returns the moves made. */
static unsigned lru_shrink_locked(struct policy *p, struct lru_class *lc,
                                  unsigned budget)
{
    unsigned n = 0;
    for (; n < budget && lru_over_locked(p, lc, LRU_HOT); n++)
        lru_step_locked(p, lc, LRU_HOT);
    for (; n < budget && lru_over_locked(p, lc, LRU_WARM); n++)
        lru_step_locked(p, lc, LRU_WARM);
    return n;
}

/* Class lock held: move ACTIVE items at COLD's tail to WARM, at most
 * budget of them. Returns how many moved. */
static unsigned lru_rescue_locked(struct policy *p, struct lru_class *lc,
                                  unsigned budget)
{
    unsigned n = 0;
    for (; n < budget && lc->segs[LRU_COLD].tail != 0; n++) {
        struct item *it = plist_at(p->slabs, lc->segs[LRU_COLD].tail);
        if (!lru_clear_active(it))
            break;
        lru_move_locked(p, lc, it, LRU_COLD, LRU_WARM);
    }
    return n;
}

static void lru_link(struct policy *p, struct item *it, rel_time_t now)
{
    struct lru_class *lc = &p->classes[it->clsid];
    pthread_mutex_lock(&lc->lock);
    item_set_atime(it, now); /* the store time, which flush_all compares */
    __atomic_store_n(&it->pbits, (uint8_t)LRU_HOT, __ATOMIC_RELAXED);
    plist_push_head(&lc->segs[LRU_HOT], p->slabs, it);
    pthread_mutex_unlock(&lc->lock);
}

static void lru_unlink_locked(struct policy *p, struct item *it)
{
    struct lru_class *lc = &p->classes[it->clsid];
    plist_remove(&lc->segs[lru_seg_of(it)], p->slabs, it);
}

static void lru_unlink(struct policy *p, struct item *it)
{
    struct lru_class *lc = &p->classes[it->clsid];
    pthread_mutex_lock(&lc->lock);
    lru_unlink_locked(p, it);
    pthread_mutex_unlock(&lc->lock);
}

/* The caller holds the item's stripe, so hits on one item are serial;
 * only a move under the class lock may run beside it. */
static void lru_hit(struct policy *p, struct item *it, rel_time_t now)
{
    (void)p;
    uint8_t bits = lru_bits(it);
    if (!(bits & LRU_HIT))
        __atomic_fetch_or(&it->pbits, (uint8_t)LRU_HIT, __ATOMIC_RELAXED);
    else if (!(bits & LRU_ACTIVE))
        __atomic_fetch_or(&it->pbits, (uint8_t)LRU_ACTIVE, __ATOMIC_RELAXED);
    if (now >= item_atime(it) + LRU_BUMP_INTERVAL)
        item_set_atime(it, now);
}

/* Class lock held: offer s's items, tail first, until one is taken or the
 * tries run out. In COLD an ACTIVE item is moved to WARM instead, while
 * rescues last. */
static bool lru_offer_locked(struct policy *p, struct lru_class *lc,
                             enum lru_seg s, struct lru_offers *o)
{
    uint32_t ref = lc->segs[s].tail;
    while (ref != 0 && o->tries > 0) {
        struct item *it = plist_at(p->slabs, ref);
        ref = it->prev; /* read first: take() or a rescue unlinks it */
        if (s == LRU_COLD && o->rescues > 0 && lru_clear_active(it)) {
            o->rescues--;
            lru_move_locked(p, lc, it, LRU_COLD, LRU_WARM);
            continue;
        }
        o->tries--;
        /* Read before take(), which may free the item. */
        bool active = lru_bits(it) & LRU_ACTIVE;
        if (o->take(o->ctx, it)) {
            lc->evicted_active += active;
            return true;
        }
    }
    return false;
}

/* Candidates come from COLD's tail; when COLD runs out, from HOT's, then
 * WARM's. */
static bool lru_evict(struct policy *p, unsigned cls, unsigned tries,
                      policy_take_fn take, void *ctx)
{
    struct lru_class *lc = &p->classes[cls];
    struct lru_offers o = {take, ctx, tries, LRU_EVICT_MOVES};
    pthread_mutex_lock(&lc->lock);
    lru_shrink_locked(p, lc, LRU_EVICT_MOVES);
    bool taken = lru_offer_locked(p, lc, LRU_COLD, &o) ||
                 lru_offer_locked(p, lc, LRU_HOT, &o) ||
                 lru_offer_locked(p, lc, LRU_WARM, &o);
    pthread_mutex_unlock(&lc->lock);
    return taken;
}

/* At most budget moves in one class, under its lock: rescues from COLD's
 * tail first (they may push WARM over), then HOT and WARM shrink. *more
 * says whether the class was left with work. */
static unsigned lru_juggle(struct policy *p, struct lru_class *lc,
                           unsigned budget, bool *more)
{
    pthread_mutex_lock(&lc->lock);
    unsigned n = lru_rescue_locked(p, lc, budget);
    n += lru_shrink_locked(p, lc, budget - n);
    *more = lru_over_locked(p, lc, LRU_HOT) || lru_over_locked(p, lc, LRU_WARM) ||
            lru_cold_tail_active_locked(p, lc);
    pthread_mutex_unlock(&lc->lock);
    return n;
}

/* Visits every class once and gives each what it needs of what is left
 * of the budget, in batches of LRU_MAINTAIN_BATCH moves per lock hold.
 * When the budget runs out in a class, the next call starts with the
 * class after it, so one busy class cannot starve the others. */
static bool lru_maintain(struct policy *p, rel_time_t now, unsigned budget)
{
    (void)now;
    unsigned cls = __atomic_load_n(&p->cursor, __ATOMIC_RELAXED);
    bool more = false;
    for (unsigned i = 0; i < SLABS_MAX_CLASSES; i++) {
        cls = cls % SLABS_MAX_CLASSES + 1; /* 1..SLABS_MAX_CLASSES */
        bool busy = true;
        while (busy && budget > 0) {
            unsigned batch = budget < LRU_MAINTAIN_BATCH ? budget
                                                         : LRU_MAINTAIN_BATCH;
            unsigned n = lru_juggle(p, &p->classes[cls], batch, &busy);
            budget -= n;
            if (n < batch)
                break; /* all it could do; busy only by a racing hit */
        }
        more |= busy;
        if (budget == 0) {
            __atomic_store_n(&p->cursor, cls, __ATOMIC_RELAXED);
            return true; /* maybe not, but nothing was left to look */
        }
    }
    return more;
}

static uint64_t lru_count(struct policy *p, unsigned cls)
{
    struct lru_class *lc = &p->classes[cls];
    pthread_mutex_lock(&lc->lock);
    uint64_t n = lru_total_locked(lc);
    pthread_mutex_unlock(&lc->lock);
    return n;
}

/* Every figure under one hold of the class lock, so the segments add up
 * to the class's items. */
static void lru_class_stats(struct policy *p, unsigned cls,
                            struct policy_class_stats *out)
{
    struct lru_class *lc = &p->classes[cls];
    *out = (struct policy_class_stats){0};
    pthread_mutex_lock(&lc->lock);
    for (int s = LRU_HOT; s < LRU_NSEGS; s++) {
        out->items[s] = lc->segs[s].count;
        out->tail_atime[s] = plist_tail_atime(&lc->segs[s], p->slabs);
    }
    out->moves_to_cold = lc->moves_to_cold;
    out->moves_to_warm = lc->moves_to_warm;
    out->moves_within_lru = lc->moves_within_lru;
    out->evicted_active = lc->evicted_active;
    pthread_mutex_unlock(&lc->lock);
}

/* One relaxed load: a move racing with it makes the answer the segment
 * just before or just after, either of which is true. */
static enum policy_seg lru_seg_of_item(const struct policy *p,
                                       const struct item *it)
{
    (void)p;
    return (enum policy_seg)lru_seg_of(it);
}

static void lru_set_shares(struct policy *p, unsigned hot_pct,
                           unsigned warm_pct)
{
    atomic_store_explicit(&p->hot_pct, hot_pct, memory_order_relaxed);
    atomic_store_explicit(&p->warm_pct, warm_pct, memory_order_relaxed);
}

static void lru_reset_stats(struct policy *p)
{
    for (unsigned i = 1; i <= SLABS_MAX_CLASSES; i++) {
        struct lru_class *lc = &p->classes[i];
        pthread_mutex_lock(&lc->lock);
        lc->moves_to_cold = lc->moves_to_warm = lc->moves_within_lru = 0;
        lc->evicted_active = 0;
        pthread_mutex_unlock(&lc->lock);
    }
}

const struct policy_ops policy_lru = {
    .name = "lru",
    .create = lru_create,
    .destroy = lru_destroy,
    .link = lru_link,
    .unlink = lru_unlink,
    .unlink_locked = lru_unlink_locked,
    .hit = lru_hit,
    .evict = lru_evict,
    .count = lru_count,
    .maintain = lru_maintain,
    .class_stats = lru_class_stats,
    .reset_stats = lru_reset_stats,
    .set_shares = lru_set_shares,
    .seg_of = lru_seg_of_item,
};
