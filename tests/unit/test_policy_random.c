/* Unit tests for lib/policy_random.c. Includes the source to set the
 * generator's state and to check the array against the items. */
#include "lib/policy_random.c"

#define POLICY_NAME "random"
#define POLICY_OPS policy_random
#include "tests/unit/policy_fixture.h"

/* The array holds exactly the linked items, each knowing its slot. */
static void assert_slots(struct fixture *f, const int *want, uint32_t n)
{
    struct random_class *rc = &f->p->classes[f->cls];
    assert_int_equal(rc->n, n);
    for (uint32_t i = 0; i < n; i++) {
        struct item *it = f->items[want[i]];
        assert_int_equal(rc->slots[i], slabs_ref(f->slabs, it));
        assert_int_equal(it->prev, i);
    }
}

/* unlink swaps the last slot into the hole. */
static void unlink_swaps_the_last_slot_in(void **state)
{
    struct fixture *f = *state;
    link_n(f, 6, 100);
    assert_slots(f, (int[]){0, 1, 2, 3, 4, 5}, 6);
    f->ops->unlink(f->p, f->items[1]);
    assert_slots(f, (int[]){0, 5, 2, 3, 4}, 5);
    f->ops->unlink(f->p, f->items[4]); /* the last slot: nothing moves */
    assert_slots(f, (int[]){0, 5, 2, 3}, 4);
    f->ops->link(f->p, f->items[1], 100);
    assert_slots(f, (int[]){0, 5, 2, 3, 1}, 5);
    assert_int_equal(f->ops->count(f->p, f->cls), 5);
}

/* From state 1, xorshift64 (13, 7, 17) gives 1082269761 first (by hand:
 * 1 ^ 1<<13 = 8193; ^ 8193>>7 = 8257; ^ 8257<<17 = 1082269761), then
 * 1152992998833853505, 11177516664432764457, ... A draw is slot
 * (x >> 32) * n >> 32, so with n = 4 the first three are slots 0, 0, 2,
 * and the evictions that follow take slots 3 (n=4), 1 (n=3), 1 (n=2),
 * 0 (n=1), each leaving the array as swap-remove says. */
static void draws_follow_the_generator(void **state)
{
    struct fixture *f = *state;
    link_n(f, 6, 100);
    f->ops->unlink(f->p, f->items[1]);
    f->ops->unlink(f->p, f->items[4]);
    assert_slots(f, (int[]){0, 5, 2, 3}, 4);
    f->p->classes[f->cls].rng = 1;

    expect_offers(f, 3, -1, (int[]){0, 0, 2}, 3);
    assert_slots(f, (int[]){0, 5, 2, 3}, 4); /* refusals change nothing */

    assert_int_equal(evict_one(f, 3), 3);
    assert_slots(f, (int[]){0, 5, 2}, 3);
    assert_int_equal(evict_one(f, 3), 5);
    assert_slots(f, (int[]){0, 2}, 2);
    assert_int_equal(evict_one(f, 3), 2);
    assert_int_equal(evict_one(f, 3), 0);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
    assert_int_equal(evict_one(f, 3), -1);
}

static bool tally(void *arg, struct item *it)
{
    unsigned *seen = arg;
    seen[it->nkey == 2 ? it->data[1] - '0' : 0]++;
    return false;
}

/* 8000 draws over 8 items: each within 15% of 1000. */
static void draws_are_uniform(void **state)
{
    struct fixture *f = *state;
    unsigned seen[NITEMS] = {0};
    link_n(f, NITEMS, 100);
    assert_false(f->ops->evict(f->p, f->cls, 8000, tally, seen));
    for (int i = 0; i < NITEMS; i++) {
        assert_in_range(seen[i], 850, 1150);
    }
}

/* When the array cannot grow, items go on the overflow list, are counted,
 * and are offered first, oldest first. */
static void overflow_when_the_array_is_full(void **state)
{
    struct fixture *f = *state;
    f->p->classes[f->cls].max_slots = 2;
    link_n(f, 4, 100);
    assert_slots(f, (int[]){0, 1}, 2);
    assert_int_equal(f->ops->count(f->p, f->cls), 4);
    assert_int_equal(f->items[2]->pbits, RANDOM_OVERFLOW);
    struct order o = {.take_at = -1, .f = f};
    assert_false(f->ops->evict(f->p, f->cls, 3, record, &o));
    assert_int_equal(o.seen[0], 2);
    assert_int_equal(o.seen[1], 3);
    f->ops->unlink(f->p, f->items[2]);
    assert_int_equal(evict_one(f, 3), 3);
    assert_int_equal(f->ops->count(f->p, f->cls), 2);
    f->ops->unlink(f->p, f->items[0]);
    assert_slots(f, (int[]){1}, 1);
    assert_int_equal(evict_one(f, 3), 1);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry),
        T(unlink_swaps_the_last_slot_in),
        T(draws_follow_the_generator),
        T(draws_are_uniform),
        T(overflow_when_the_array_is_full),
        T(classes_are_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
