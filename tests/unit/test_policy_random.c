/* Unit tests for lib/policy_random.c. Includes the source to set the
 * generator's state and to check the array against the items. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/policy_random.c"

#define MiB (1024ull * 1024)
#define NITEMS 8

struct fixture {
    struct slabs *slabs;
    const struct policy_ops *ops;
    struct policy *p;
    struct item *items[NITEMS];
    unsigned cls;
};

static int setup(void **state)
{
    static struct fixture f;
    struct slabs_config cfg = {
        .limit = 4 * MiB, .item_size_max = MiB, .min_chunk = 48,
        .factor = 1.25,
    };
    f.slabs = slabs_create(&cfg);
    f.ops = &policy_random;
    f.p = f.ops->create(f.slabs);
    size_t total = item_total(2, 2, false);
    f.cls = slabs_class_for(f.slabs, total);
    for (int i = 0; i < NITEMS; i++) {
        f.items[i] = slabs_alloc(f.slabs, f.cls, total);
        char key[3] = {'k', (char)('0' + i), 0};
        item_init(f.items[i], false, f.cls, key, 2, 0, 0, 2, 1);
    }
    *state = &f;
    return f.slabs != NULL && f.p != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    f->ops->destroy(f->p);
    slabs_destroy(&f->slabs);
    return 0;
}

struct order {
    struct item *seen[16];
    int n;
    int take_at; /* -1: take none */
    struct fixture *f;
};

static bool record(void *arg, struct item *it)
{
    struct order *o = arg;
    if (o->n < 16)
        o->seen[o->n] = it;
    if (o->n++ == o->take_at) {
        o->f->ops->unlink_locked(o->f->p, it);
        return true;
    }
    return false;
}

static struct item *evict_one(struct fixture *f)
{
    struct order o = {.take_at = 0, .f = f};
    if (!f->ops->evict(f->p, f->cls, 3, record, &o))
        return NULL;
    return o.seen[0];
}

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

static void registry(void **state)
{
    (void)state;
    assert_ptr_equal(policy_find("random"), &policy_random);
    assert_string_equal(policy_random.name, "random");
}

/* unlink swaps the last slot into the hole. */
static void unlink_swaps_the_last_slot_in(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 6; i++)
        f->ops->link(f->p, f->items[i], 100);
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
    for (int i = 0; i < 6; i++)
        f->ops->link(f->p, f->items[i], 100);
    f->ops->unlink(f->p, f->items[1]);
    f->ops->unlink(f->p, f->items[4]);
    assert_slots(f, (int[]){0, 5, 2, 3}, 4);
    f->p->classes[f->cls].rng = 1;

    struct order o = {.take_at = -1, .f = f};
    assert_false(f->ops->evict(f->p, f->cls, 3, record, &o));
    assert_int_equal(o.n, 3);
    assert_ptr_equal(o.seen[0], f->items[0]);
    assert_ptr_equal(o.seen[1], f->items[0]);
    assert_ptr_equal(o.seen[2], f->items[2]);
    assert_slots(f, (int[]){0, 5, 2, 3}, 4); /* refusals change nothing */

    assert_ptr_equal(evict_one(f), f->items[3]);
    assert_slots(f, (int[]){0, 5, 2}, 3);
    assert_ptr_equal(evict_one(f), f->items[5]);
    assert_slots(f, (int[]){0, 2}, 2);
    assert_ptr_equal(evict_one(f), f->items[2]);
    assert_ptr_equal(evict_one(f), f->items[0]);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
    assert_null(evict_one(f));
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
    for (int i = 0; i < NITEMS; i++)
        f->ops->link(f->p, f->items[i], 100);
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
    for (int i = 0; i < 4; i++)
        f->ops->link(f->p, f->items[i], 100);
    assert_slots(f, (int[]){0, 1}, 2);
    assert_int_equal(f->ops->count(f->p, f->cls), 4);
    assert_int_equal(f->items[2]->pbits, RANDOM_OVERFLOW);
    struct order o = {.take_at = -1, .f = f};
    assert_false(f->ops->evict(f->p, f->cls, 3, record, &o));
    assert_ptr_equal(o.seen[0], f->items[2]);
    assert_ptr_equal(o.seen[1], f->items[3]);
    f->ops->unlink(f->p, f->items[2]);
    assert_ptr_equal(evict_one(f), f->items[3]);
    assert_int_equal(f->ops->count(f->p, f->cls), 2);
    f->ops->unlink(f->p, f->items[0]);
    assert_slots(f, (int[]){1}, 1);
    assert_ptr_equal(evict_one(f), f->items[1]);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

static void classes_are_separate(void **state)
{
    struct fixture *f = *state;
    f->ops->link(f->p, f->items[0], 5);
    assert_int_equal(f->ops->count(f->p, f->cls + 1), 0);
    struct order o = {.take_at = 0, .f = f};
    assert_false(f->ops->evict(f->p, f->cls + 1, 5, record, &o));
    assert_true(f->ops->evict(f->p, f->cls, 5, record, &o));
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry),
        cmocka_unit_test_setup_teardown(unlink_swaps_the_last_slot_in, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(draws_follow_the_generator, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(draws_are_uniform, setup, teardown),
        cmocka_unit_test_setup_teardown(overflow_when_the_array_is_full,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(classes_are_separate, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
