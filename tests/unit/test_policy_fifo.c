/* Unit tests for lib/policy_fifo.c through the policy interface. */
#define POLICY_NAME "fifo"
#define POLICY_OPS policy_fifo
#include "tests/unit/policy_fixture.h"

/* Link 0..3 at t=100, read 0 and 1 over and over (a FIFO ignores it),
 * link 4 and 5 later: evictions follow insertion order exactly. */
static void evicts_in_insertion_order(void **state)
{
    struct fixture *f = *state;
    link_n(f, 4, 100);
    assert_int_equal(item_atime(f->items[2]), 100);
    for (int round = 0; round < 10; round++) {
        f->ops->hit(f->p, f->items[0], 200 + round * 100);
        f->ops->hit(f->p, f->items[1], 200 + round * 100);
    }
    assert_int_equal(item_atime(f->items[0]), 100); /* hit writes nothing */
    f->ops->link(f->p, f->items[4], 5000);
    f->ops->link(f->p, f->items[5], 5001);
    assert_int_equal(f->ops->count(f->p, f->cls), 6);

    /* Stops after `tries`. */
    expect_offers(f, 3, -1, (int[]){0, 1, 2}, 3);

    for (int i = 0; i < 6; i++)
        assert_int_equal(evict_one(f, 5), i);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
    assert_int_equal(evict_one(f, 5), -1);
}

/* A refused candidate stays at the tail; unlinking from the middle keeps
 * the order of the rest. */
static void refusals_and_unlinks(void **state)
{
    struct fixture *f = *state;
    link_n(f, 5, 10);
    expect_offers(f, 5, 1, (int[]){0, 1}, 2); /* 0 refused, 1 taken */
    f->ops->unlink(f->p, f->items[3]);
    assert_int_equal(f->ops->count(f->p, f->cls), 3);
    assert_int_equal(evict_one(f, 5), 0);
    assert_int_equal(evict_one(f, 5), 2);
    f->ops->link(f->p, f->items[1], 20); /* a new item behind 4 */
    assert_int_equal(evict_one(f, 5), 4);
    assert_int_equal(evict_one(f, 5), 1);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry),
        T(evicts_in_insertion_order),
        T(refusals_and_unlinks),
        T(classes_are_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
