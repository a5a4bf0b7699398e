/* Unit tests for lib/policy_sieve.c through the policy interface. Each
 * test links items 0, 1, 2, ... in that order, so 0 is at the tail where
 * the hand starts. */
#include "lib/policy_sieve.h"

#define POLICY_NAME "sieve"
#define POLICY_OPS policy_sieve
#define NITEMS (SIEVE_MAX_VISITS + 88)
#include "tests/unit/policy_fixture.h"

/* Hits on 1 and 3. #1 takes 0 (hand -> 1). #2 clears 1, takes 2
 * (hand -> 3). Then 5 is linked and 1 hit again. #3 clears 3, takes 4
 * (hand -> 5). #4 takes 5, the head, so the hand wraps to the tail.
 * #5 clears 1 again and takes 3 (cleared in #3). #6 takes 1. An LRU
 * would have kept 1 and 3 until last; a FIFO would take 0 1 2 3 4 5. */
static void hand_sweeps_and_wraps(void **state)
{
    struct fixture *f = *state;
    link_n(f, 5, 100);
    f->ops->hit(f->p, f->items[1], 100);
    f->ops->hit(f->p, f->items[3], 100);
    assert_int_equal(evict_one(f, 5), 0);
    assert_int_equal(evict_one(f, 5), 2);
    f->ops->link(f->p, f->items[5], 101);
    f->ops->hit(f->p, f->items[1], 102);
    assert_int_equal(evict_one(f, 5), 4);
    assert_int_equal(evict_one(f, 5), 5);
    assert_int_equal(evict_one(f, 5), 3);
    assert_int_equal(evict_one(f, 5), 1);
    assert_int_equal(evict_one(f, 5), -1);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

/* A pass that takes nothing leaves the hand and the bits as they were:
 * refusing all, the pass clears 0, offers 1, clears 2, offers 3; then
 * the real evictions still go 1 (clearing 0), 3 (clearing 2), 0, 2. */
static void a_refused_pass_changes_nothing(void **state)
{
    struct fixture *f = *state;
    link_n(f, 4, 100);
    f->ops->hit(f->p, f->items[0], 100);
    f->ops->hit(f->p, f->items[2], 100);
    expect_offers(f, 2, -1, (int[]){1, 3}, 2);
    assert_int_equal(f->items[0]->pbits, 1);
    assert_int_equal(f->items[2]->pbits, 1);
    assert_int_equal(evict_one(f, 5), 1);
    assert_int_equal(f->items[0]->pbits, 0);
    assert_int_equal(evict_one(f, 5), 3);
    assert_int_equal(evict_one(f, 5), 0);
    assert_int_equal(evict_one(f, 5), 2);
}

/* Unlinking the item under the hand moves the hand to its head-side
 * neighbour, or to the tail when it was the head. */
static void unlink_moves_the_hand(void **state)
{
    struct fixture *f = *state;
    link_n(f, 5, 100);
    f->ops->hit(f->p, f->items[0], 100);
    assert_int_equal(evict_one(f, 5), 1); /* clears 0; hand -> 2 */
    f->ops->unlink(f->p, f->items[2]); /* hand -> 3 */
    assert_int_equal(evict_one(f, 5), 3); /* hand -> 4 */
    f->ops->unlink(f->p, f->items[4]); /* the head: hand -> tail */
    assert_int_equal(evict_one(f, 5), 0);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

/* Offers stop at the class size even when tries is larger, and a class
 * whose every item was hit is swept once round, then its oldest goes. */
static void small_classes(void **state)
{
    struct fixture *f = *state;
    link_n(f, 3, 100);
    expect_offers(f, 5, -1, (int[]){0, 1, 2}, 3);
    for (int i = 0; i < 3; i++)
        f->ops->hit(f->p, f->items[i], 100);
    assert_int_equal(evict_one(f, 5), 0);
    assert_int_equal(evict_one(f, 5), 1);
    assert_int_equal(evict_one(f, 5), 2);
}

/* With every item hit, one call passes SIEVE_MAX_VISITS items and then
 * offers the next whatever its bit: item 512. The next call clears the
 * 87 items after it, wraps, and takes 0, cleared by the first call. */
static void visits_per_call_are_bounded(void **state)
{
    struct fixture *f = *state;
    link_n(f, NITEMS, 100);
    for (int i = 0; i < NITEMS; i++)
        f->ops->hit(f->p, f->items[i], 100);
    assert_int_equal(evict_one(f, 5), SIEVE_MAX_VISITS);
    assert_int_equal(f->items[SIEVE_MAX_VISITS - 1]->pbits, 0);
    assert_int_equal(f->items[SIEVE_MAX_VISITS + 1]->pbits, 1);
    assert_int_equal(evict_one(f, 5), 0);
    assert_int_equal(f->items[NITEMS - 1]->pbits, 0);
    assert_int_equal(evict_one(f, 5), 1);
    assert_int_equal(f->ops->count(f->p, f->cls), NITEMS - 3);
}

/* A hit sets the bit and nothing else; a re-link starts unvisited. */
static void hit_only_sets_the_bit(void **state)
{
    struct fixture *f = *state;
    link_n(f, 2, 100);
    f->ops->hit(f->p, f->items[0], 200);
    f->ops->hit(f->p, f->items[0], 300);
    assert_int_equal(f->items[0]->pbits, 1);
    assert_int_equal(item_atime(f->items[0]), 100);
    f->ops->unlink(f->p, f->items[0]);
    f->ops->link(f->p, f->items[0], 400);
    assert_int_equal(f->items[0]->pbits, 0);
    assert_int_equal(evict_one(f, 5), 1);
    assert_int_equal(evict_one(f, 5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry),
        T(hand_sweeps_and_wraps),
        T(a_refused_pass_changes_nothing),
        T(unlink_moves_the_hand),
        T(small_classes),
        T(visits_per_call_are_bounded),
        T(hit_only_sets_the_bit),
        T(classes_are_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
