/* Unit tests for lib/policy_lru.c, the segmented LRU. Includes the source
 * to read the three lists directly; every expected list is written tail
 * first (oldest first), the order the policy works on it. Items are
 * linked 0, 1, 2, ... so in HOT the lower index is the older.
 *
 * Shares (policy_lru.h): HOT over total * 20 / 100 items and WARM over
 * total * 40 / 100 are worked down, so with 10 items HOT keeps 2 and WARM
 * 4; with 5, HOT keeps 1 and WARM 2. */
#include "lib/policy_lru.c"

#define POLICY_NAME "lru"
#define POLICY_OPS policy_lru
#define NITEMS 40
#include "tests/unit/policy_fixture.h"

#define T0 100
#define BIG 1000 /* a maintain() budget that is never the limit */

static uint8_t bits(struct fixture *f, int i)
{
    return __atomic_load_n(&f->items[i]->pbits, __ATOMIC_RELAXED);
}

static struct plist *seg(struct fixture *f, enum lru_seg s)
{
    return &f->p->classes[f->cls].segs[s];
}

/* Segment s holds exactly want[0..n), tail first, each item's bits
 * naming s, and its links agree both ways. */
static void assert_seg(struct fixture *f, enum lru_seg s, const int *want,
                       int n)
{
    struct plist *l = seg(f, s);
    assert_int_equal(l->count, n);
    int i = 0;
    uint32_t next = 0;
    for (uint32_t ref = l->tail; ref != 0;
         ref = plist_at(f->slabs, ref)->prev) {
        struct item *it = plist_at(f->slabs, ref);
        assert_true(i < n);
        assert_int_equal(fixture_index(f, it), want[i]);
        assert_int_equal(it->next, next);
        assert_int_equal(__atomic_load_n(&it->pbits, __ATOMIC_RELAXED) &
                             LRU_SEG_MASK,
                         s);
        next = ref;
        i++;
    }
    assert_int_equal(l->head, next);
    assert_int_equal(i, n);
}

#define SEG(f, s, ...)                                                  \
    assert_seg(f, s, (int[]){__VA_ARGS__},                            \
               (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)))
#define EMPTY(f, s) assert_seg(f, s, NULL, 0)

static void hit_n(struct fixture *f, int i, int times, rel_time_t now)
{
    for (int k = 0; k < times; k++)
        f->ops->hit(f->p, f->items[i], now);
}

static bool maintain(struct fixture *f, unsigned budget)
{
    return f->ops->maintain(f->p, T0, budget);
}

/* New items go to HOT's head with no hit bits and atime = link time. */
static void new_items_enter_hot(void **state)
{
    struct fixture *f = *state;
    link_n(f, 5, T0);
    SEG(f, LRU_HOT, 0, 1, 2, 3, 4);
    EMPTY(f, LRU_WARM);
    EMPTY(f, LRU_COLD);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(bits(f, i), LRU_HOT);
        assert_int_equal(item_atime(f->items[i]), T0);
    }
    assert_int_equal(f->ops->count(f->p, f->cls), 5);
}

/* The first read sets HIT, the second ACTIVE, later ones nothing; no
 * list changes. atime follows a read only LRU_BUMP_INTERVAL after the
 * last time it was set. A hit takes no class lock: one that did would
 * deadlock on the lock this test holds. */
static void hits_set_bits_and_move_nothing(void **state)
{
    struct fixture *f = *state;
    link_n(f, 3, T0);
    pthread_mutex_t *lock = &f->p->classes[f->cls].lock;
    pthread_mutex_lock(lock);
    hit_n(f, 1, 1, T0);
    hit_n(f, 2, 3, T0);
    pthread_mutex_unlock(lock);
    assert_int_equal(bits(f, 1), LRU_HOT | LRU_HIT);
    assert_int_equal(bits(f, 2), LRU_HOT | LRU_HIT | LRU_ACTIVE);
    SEG(f, LRU_HOT, 0, 1, 2);

    hit_n(f, 0, 1, T0 + LRU_BUMP_INTERVAL - 1);
    assert_int_equal(item_atime(f->items[0]), T0);
    hit_n(f, 0, 1, T0 + LRU_BUMP_INTERVAL);
    assert_int_equal(item_atime(f->items[0]), T0 + LRU_BUMP_INTERVAL);
    hit_n(f, 0, 1, T0 + 2 * LRU_BUMP_INTERVAL - 1);
    assert_int_equal(item_atime(f->items[0]), T0 + LRU_BUMP_INTERVAL);
    assert_int_equal(bits(f, 0), LRU_HOT | LRU_HIT | LRU_ACTIVE);
    SEG(f, LRU_HOT, 0, 1, 2);
}

/* 10 items, 0 and 2 read twice, 1 once. HOT works down to 2 items from
 * its tail: 0 and 2 (ACTIVE) go to WARM, losing ACTIVE; 1 (read once)
 * and 3..7 go to COLD. Nothing is left to do, so maintain says false,
 * and again the second time, changing nothing. */
static void maintain_moves_hot_tail_down(void **state)
{
    struct fixture *f = *state;
    link_n(f, 10, T0);
    hit_n(f, 0, 2, T0);
    hit_n(f, 1, 1, T0);
    hit_n(f, 2, 2, T0);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_HOT, 8, 9);
    SEG(f, LRU_WARM, 0, 2);
    SEG(f, LRU_COLD, 1, 3, 4, 5, 6, 7);
    assert_int_equal(bits(f, 0), LRU_WARM | LRU_HIT);
    assert_int_equal(bits(f, 1), LRU_COLD | LRU_HIT);
    assert_int_equal(bits(f, 3), LRU_COLD);
    assert_int_equal(bits(f, 8), LRU_HOT);
    assert_int_equal(f->ops->count(f->p, f->cls), 10);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_HOT, 8, 9);
    SEG(f, LRU_COLD, 1, 3, 4, 5, 6, 7);
}

/* A budget of 3 moves 3 items and says there is more; the third call
 * needs only 2 and reports idle. */
static void maintain_is_bounded_by_its_budget(void **state)
{
    struct fixture *f = *state;
    link_n(f, 10, T0);
    assert_true(maintain(f, 3));
    SEG(f, LRU_HOT, 3, 4, 5, 6, 7, 8, 9);
    SEG(f, LRU_COLD, 0, 1, 2);
    assert_true(maintain(f, 3));
    SEG(f, LRU_COLD, 0, 1, 2, 3, 4, 5);
    assert_false(maintain(f, 3));
    SEG(f, LRU_HOT, 8, 9);
    SEG(f, LRU_COLD, 0, 1, 2, 3, 4, 5, 6, 7);
}

/* Two classes, 10 items each, HOT needing 8 moves in each. A call
 * whose budget runs out in one class starts the next call with the
 * class after it: 5 to A; 5 to B; 3 to A (done), 2 to B; 1 to B, idle. */
static void maintain_shares_its_budget_between_classes(void **state)
{
    struct fixture *f = *state;
    unsigned b = f->cls + 1;
    size_t total = item_total(2, 2, false);
    link_n(f, 10, T0);
    for (int i = 0; i < 10; i++) {
        struct item *it = slabs_alloc(f->slabs, b, total);
        assert_non_null(it);
        item_init(it, false, b, "kb", 2, 0, 0, 2, 1);
        f->ops->link(f->p, it, T0);
    }
    struct plist *hot_a = seg(f, LRU_HOT);
    struct plist *hot_b = &f->p->classes[b].segs[LRU_HOT];
    assert_true(maintain(f, 5));
    assert_int_equal(hot_a->count, 5);
    assert_int_equal(hot_b->count, 10);
    assert_true(maintain(f, 5));
    assert_int_equal(hot_a->count, 5);
    assert_int_equal(hot_b->count, 5);
    assert_true(maintain(f, 5));
    assert_int_equal(hot_a->count, 2);
    assert_int_equal(hot_b->count, 3);
    assert_false(maintain(f, 5));
    assert_int_equal(hot_b->count, 2);
    assert_int_equal(f->ops->count(f->p, b), 10);
}

/* 0..5 read twice: all six reach WARM, which then keeps 4, sending its
 * tail 0 and 1 (ACTIVE cleared on the way in) to COLD. Next 2 is read
 * once more (ACTIVE again), 10 and 11 are linked and 8 read twice. With
 * 12 items HOT keeps 2: 8 goes to WARM, 9 to COLD. WARM (5) is over 4:
 * its tail 2 is ACTIVE, so it goes round to WARM's head without the bit,
 * and the next tail, 3, goes to COLD. */
static void warm_tail_bumped_if_active_else_down(void **state)
{
    struct fixture *f = *state;
    link_n(f, 10, T0);
    for (int i = 0; i < 6; i++)
        hit_n(f, i, 2, T0);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_HOT, 8, 9);
    SEG(f, LRU_WARM, 2, 3, 4, 5);
    SEG(f, LRU_COLD, 6, 7, 0, 1);

    hit_n(f, 2, 1, T0);
    assert_int_equal(bits(f, 2), LRU_WARM | LRU_HIT | LRU_ACTIVE);
    f->ops->link(f->p, f->items[10], T0 + 1);
    f->ops->link(f->p, f->items[11], T0 + 1);
    hit_n(f, 8, 2, T0 + 1);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_HOT, 10, 11);
    SEG(f, LRU_WARM, 4, 5, 8, 2);
    SEG(f, LRU_COLD, 6, 7, 0, 1, 9, 3);
    assert_int_equal(bits(f, 2), LRU_WARM | LRU_HIT);
    assert_int_equal(bits(f, 3), LRU_COLD | LRU_HIT);
}

/* With 5 items HOT keeps 1: 0..3 go to COLD, 1 carrying HIT from a read
 * in HOT. Then, while cold: 1 is read again (ACTIVE), 0 for the first
 * time ever (HIT only: not enough), 3 twice (ACTIVE).
 *  - maintain looks at COLD's tail only: 0 is not ACTIVE, nothing moves.
 *  - a refused pass of 3 offers 0, moves 1 to WARM, offers 2, moves 3 to
 *    WARM, then, COLD done, offers HOT's 4.
 *  - 0 read again is ACTIVE at COLD's tail: maintain moves it to WARM,
 *    which (3 > 2) sends its inactive tail 1 back to COLD.
 *  - evictions, each working the shares down first: 2; then (4 items:
 *    HOT keeps 0, WARM 1) 4 and 3 drop to COLD and 1 goes; 4; (2 items:
 *    WARM keeps 0) 0 drops behind 3; 3; 0; then nothing. */
static void read_while_cold_rescues_to_warm(void **state)
{
    struct fixture *f = *state;
    link_n(f, 5, T0);
    hit_n(f, 1, 1, T0);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_HOT, 4);
    SEG(f, LRU_COLD, 0, 1, 2, 3);
    hit_n(f, 1, 1, T0);
    hit_n(f, 0, 1, T0);
    hit_n(f, 3, 2, T0);
    assert_int_equal(bits(f, 0), LRU_COLD | LRU_HIT);
    assert_int_equal(bits(f, 1), LRU_COLD | LRU_HIT | LRU_ACTIVE);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_COLD, 0, 1, 2, 3);

    expect_offers(f, 3, -1, (int[]){0, 2, 4}, 3);
    SEG(f, LRU_HOT, 4);
    SEG(f, LRU_WARM, 1, 3);
    SEG(f, LRU_COLD, 0, 2);
    assert_int_equal(bits(f, 1), LRU_WARM | LRU_HIT);
    assert_false(maintain(f, BIG));

    hit_n(f, 0, 1, T0);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_WARM, 3, 0);
    SEG(f, LRU_COLD, 2, 1);

    int expect[] = {2, 1, 4, 3, 0, -1};
    for (int i = 0; i < 6; i++)
        assert_int_equal(evict_one(f, 5), expect[i]);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

/* class_stats() reads the three lists, their tails' atimes and the move
 * counters in one go; seg_of() names an item's segment from its bits.
 * Items are linked one second apart, so each tail has its own atime. */
static void class_stats_reports_segments(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 10; i++)
        f->ops->link(f->p, f->items[i], T0 + (rel_time_t)i);
    hit_n(f, 0, 2, T0 + 10);
    hit_n(f, 1, 1, T0 + 10);
    hit_n(f, 2, 2, T0 + 10);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_HOT, 8, 9);
    SEG(f, LRU_WARM, 0, 2);
    SEG(f, LRU_COLD, 1, 3, 4, 5, 6, 7);

    struct policy_class_stats cs;
    f->ops->class_stats(f->p, f->cls, &cs);
    assert_int_equal(cs.items[POLICY_SEG_HOT], 2);
    assert_int_equal(cs.items[POLICY_SEG_WARM], 2);
    assert_int_equal(cs.items[POLICY_SEG_COLD], 6);
    assert_int_equal(cs.items[POLICY_SEG_TEMP], 0);
    assert_int_equal(cs.tail_atime[POLICY_SEG_HOT], T0 + 8);
    assert_int_equal(cs.tail_atime[POLICY_SEG_WARM], T0);
    assert_int_equal(cs.tail_atime[POLICY_SEG_COLD], T0 + 1);
    assert_int_equal(cs.tail_atime[POLICY_SEG_TEMP], 0);
    assert_int_equal(cs.moves_to_warm, 2);
    assert_int_equal(cs.moves_to_cold, 6);
    assert_int_equal(cs.moves_within_lru, 0);
    assert_int_equal(cs.evicted_active, 0);
    assert_int_equal(f->ops->seg_of(f->p, f->items[8]), POLICY_SEG_HOT);
    assert_int_equal(f->ops->seg_of(f->p, f->items[0]), POLICY_SEG_WARM);
    assert_int_equal(f->ops->seg_of(f->p, f->items[1]), POLICY_SEG_COLD);

    /* Another class is empty: nothing, and no atime. */
    f->ops->class_stats(f->p, f->cls + 1, &cs);
    for (int s = 0; s < POLICY_NSEGS; s++) {
        assert_int_equal(cs.items[s], 0);
        assert_int_equal(cs.tail_atime[s], 0);
    }
}

/* A victim taken while ACTIVE counts in evicted_active; one that is not
 * does not. No maintainer: the eviction first moves HOT's 0..3 to COLD
 * (5 items, HOT keeps 1), offers them, then HOT's 4, read twice. */
static void evicting_an_active_item_is_counted(void **state)
{
    struct fixture *f = *state;
    link_n(f, 5, T0);
    hit_n(f, 4, 2, T0);
    expect_offers(f, 5, 4, (int[]){0, 1, 2, 3, 4}, 5);
    struct policy_class_stats cs;
    f->ops->class_stats(f->p, f->cls, &cs);
    assert_int_equal(cs.evicted_active, 1);
    assert_int_equal(cs.items[POLICY_SEG_COLD], 4);
    assert_int_equal(cs.items[POLICY_SEG_HOT], 0);
    assert_int_equal(evict_one(f, 5), 0);
    f->ops->class_stats(f->p, f->cls, &cs);
    assert_int_equal(cs.evicted_active, 1);
}

/* Candidates: COLD from its tail, then HOT, then WARM; a pass stops after
 * `tries`, or at the first taken; refusals move nothing. Unlinking from
 * any segment keeps the others' order; a re-link starts over in HOT. */
static void evict_offers_cold_then_hot_then_warm(void **state)
{
    struct fixture *f = *state;
    link_n(f, 10, T0);
    hit_n(f, 0, 2, T0);
    hit_n(f, 1, 2, T0);
    assert_false(maintain(f, BIG));
    SEG(f, LRU_HOT, 8, 9);
    SEG(f, LRU_WARM, 0, 1);
    SEG(f, LRU_COLD, 2, 3, 4, 5, 6, 7);

    expect_offers(f, 20, -1, (int[]){2, 3, 4, 5, 6, 7, 8, 9, 0, 1}, 10);
    expect_offers(f, 3, -1, (int[]){2, 3, 4}, 3);
    expect_offers(f, 5, 1, (int[]){2, 3}, 2);
    assert_int_equal(f->ops->count(f->p, f->cls), 9);
    SEG(f, LRU_HOT, 8, 9);
    SEG(f, LRU_WARM, 0, 1);
    SEG(f, LRU_COLD, 2, 4, 5, 6, 7);

    f->ops->unlink(f->p, f->items[4]);
    f->ops->unlink(f->p, f->items[9]);
    f->ops->unlink(f->p, f->items[0]);
    assert_int_equal(f->ops->count(f->p, f->cls), 6);
    SEG(f, LRU_HOT, 8);
    SEG(f, LRU_WARM, 1);
    SEG(f, LRU_COLD, 2, 5, 6, 7);
    f->ops->link(f->p, f->items[0], T0 + 5);
    SEG(f, LRU_HOT, 8, 0);
    assert_int_equal(bits(f, 0), LRU_HOT);
    assert_int_equal(item_atime(f->items[0]), T0 + 5);
}

/* No maintainer: 40 items sit in HOT. Each eviction moves at most
 * LRU_EVICT_MOVES (16) of them down first: 0..15, taking 0; then (39
 * items, HOT keeps 7) 16..31, taking 1; then just 32, taking 2. */
static void evict_moves_are_bounded(void **state)
{
    struct fixture *f = *state;
    link_n(f, 40, T0);
    assert_int_equal(evict_one(f, 5), 0);
    assert_int_equal(seg(f, LRU_HOT)->count, 40 - LRU_EVICT_MOVES);
    assert_int_equal(seg(f, LRU_COLD)->count, LRU_EVICT_MOVES - 1);
    assert_int_equal(evict_one(f, 5), 1);
    assert_int_equal(seg(f, LRU_HOT)->count, 8);
    assert_int_equal(seg(f, LRU_COLD)->count, 30);
    assert_int_equal(evict_one(f, 5), 2);
    SEG(f, LRU_HOT, 33, 34, 35, 36, 37, 38, 39);
    assert_int_equal(seg(f, LRU_COLD)->count, 30);
    assert_int_equal(seg(f, LRU_COLD)->tail, slabs_ref(f->slabs, f->items[3]));
}

/* 0..19 read twice while cold. An eviction rescues the first 16 to WARM
 * and then offers the 17th, ACTIVE or not. maintain then rescues 17..19
 * (stopping at 20, not read), and with 39 items brings HOT to 7 (32 goes
 * down) and WARM to 15 (0..3 go down). */
static void cold_rescues_are_bounded(void **state)
{
    struct fixture *f = *state;
    link_n(f, 40, T0);
    assert_false(maintain(f, BIG));
    assert_int_equal(seg(f, LRU_HOT)->count, 8);
    for (int i = 0; i < 20; i++)
        hit_n(f, i, 2, T0);
    assert_int_equal(evict_one(f, 5), LRU_EVICT_MOVES);
    SEG(f, LRU_WARM, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    assert_int_equal(bits(f, 17), LRU_COLD | LRU_HIT | LRU_ACTIVE);

    assert_false(maintain(f, BIG));
    SEG(f, LRU_HOT, 33, 34, 35, 36, 37, 38, 39);
    SEG(f, LRU_WARM, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19);
    SEG(f, LRU_COLD, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 0,
        1, 2, 3);
}

/* Every linked item is in exactly one list, the one its bits name; the
 * counts add up, and HOT and WARM are within their shares. */
static void assert_consistent(struct fixture *f, const bool *linked)
{
    int where[NITEMS];
    uint64_t total = 0;
    for (int i = 0; i < NITEMS; i++)
        where[i] = -1;
    for (int s = LRU_HOT; s < LRU_NSEGS; s++) {
        struct plist *l = seg(f, (enum lru_seg)s);
        uint32_t next = 0;
        for (uint32_t ref = l->tail; ref != 0;
             ref = plist_at(f->slabs, ref)->prev) {
            struct item *it = plist_at(f->slabs, ref);
            int i = fixture_index(f, it);
            assert_true(i >= 0 && linked[i] && where[i] == -1);
            where[i] = s;
            assert_int_equal(bits(f, i) & LRU_SEG_MASK, s);
            assert_int_equal(it->next, next);
            next = ref;
        }
        assert_int_equal(l->head, next);
        total += l->count;
    }
    for (int i = 0; i < NITEMS; i++)
        assert_int_equal(where[i] != -1, linked[i]);
    assert_int_equal(f->ops->count(f->p, f->cls), total);
    assert_true(seg(f, LRU_HOT)->count <= total * LRU_HOT_PCT / 100);
    assert_true(seg(f, LRU_WARM)->count <= total * LRU_WARM_PCT / 100);
}

/* A full class under churn: each round evicts one item, links one, reads
 * a few in a fixed pattern (some twice, so WARM fills), and runs the
 * maintainer, which always finishes. The lists stay consistent and within
 * their shares, and all three are in use. */
static void shares_hold_under_churn(void **state)
{
    struct fixture *f = *state;
    bool linked[NITEMS] = {false};
    link_n(f, NITEMS, T0);
    for (int i = 0; i < NITEMS; i++)
        linked[i] = true;
    for (int r = 0; r < 500; r++) {
        int gone = evict_one(f, 5);
        assert_true(gone >= 0 && linked[gone]);
        linked[gone] = false;
        int in = (gone * 7 + r) % NITEMS;
        while (linked[in])
            in = (in + 1) % NITEMS;
        f->ops->link(f->p, f->items[in], T0 + (rel_time_t)r);
        linked[in] = true;
        for (int k = 0; k < 4; k++) {
            int i = (r * 13 + k * 7) % NITEMS;
            if (linked[i])
                hit_n(f, i, 1 + k % 2, T0 + (rel_time_t)r);
        }
        assert_false(maintain(f, BIG));
        assert_consistent(f, linked);
    }
    assert_true(seg(f, LRU_HOT)->count > 0);
    assert_true(seg(f, LRU_WARM)->count > 0);
    assert_true(seg(f, LRU_COLD)->count > 0);
}

/* set_shares: with 0 and 0 every item goes to COLD (a flat LRU); with
 * 50 and 30 HOT keeps half the class again. */
static void shares_can_be_set(void **state)
{
    struct fixture *f = *state;
    link_n(f, NITEMS, T0);
    f->ops->set_shares(f->p, 0, 0);
    assert_false(maintain(f, BIG));
    assert_int_equal(seg(f, LRU_HOT)->count, 0);
    assert_int_equal(seg(f, LRU_WARM)->count, 0);
    assert_int_equal(seg(f, LRU_COLD)->count, NITEMS);
    for (int i = 0; i < NITEMS; i++)
        f->ops->unlink(f->p, f->items[i]);
    f->ops->set_shares(f->p, 50, 30);
    link_n(f, NITEMS, T0);
    assert_false(maintain(f, BIG));
    assert_int_equal(seg(f, LRU_HOT)->count, NITEMS / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry),
        T(new_items_enter_hot),
        T(shares_can_be_set),
        T(hits_set_bits_and_move_nothing),
        T(maintain_moves_hot_tail_down),
        T(maintain_is_bounded_by_its_budget),
        T(maintain_shares_its_budget_between_classes),
        T(warm_tail_bumped_if_active_else_down),
        T(read_while_cold_rescues_to_warm),
        T(evict_offers_cold_then_hot_then_warm),
        T(evict_moves_are_bounded),
        T(cold_rescues_are_bounded),
        T(shares_hold_under_churn),
        T(class_stats_reports_segments),
        T(evicting_an_active_item_is_counted),
        T(classes_are_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
