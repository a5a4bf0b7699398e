/* Unit tests for lib/policy_fifo.c through the policy interface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/policy.h"

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
    f.ops = policy_find("fifo");
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

/* Records every candidate offered; takes the one at index take_at. */
struct order {
    struct item *seen[16];
    int n;
    int take_at; /* -1: take none */
    struct fixture *f;
};

static bool record(void *arg, struct item *it)
{
    struct order *o = arg;
    o->seen[o->n] = it;
    if (o->n++ == o->take_at) {
        o->f->ops->unlink_locked(o->f->p, it);
        return true;
    }
    return false;
}

/* The item the next eviction takes. */
static struct item *evict_one(struct fixture *f)
{
    struct order o = {.take_at = 0, .f = f};
    if (!f->ops->evict(f->p, f->cls, 5, record, &o))
        return NULL;
    return o.seen[0];
}

static void registry(void **state)
{
    (void)state;
    assert_ptr_equal(policy_find("fifo"), &policy_fifo);
    assert_string_equal(policy_fifo.name, "fifo");
}

/* Link 0..3 at t=100, read 0 and 1 over and over (a FIFO ignores it),
 * link 4 and 5 later: evictions follow insertion order exactly. */
static void evicts_in_insertion_order(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 4; i++)
        f->ops->link(f->p, f->items[i], 100);
    assert_int_equal(item_atime(f->items[2]), 100);
    for (int round = 0; round < 10; round++) {
        f->ops->hit(f->p, f->items[0], 200 + round * 100);
        f->ops->hit(f->p, f->items[1], 200 + round * 100);
    }
    assert_int_equal(item_atime(f->items[0]), 100); /* hit writes nothing */
    f->ops->link(f->p, f->items[4], 5000);
    f->ops->link(f->p, f->items[5], 5001);
    assert_int_equal(f->ops->count(f->p, f->cls), 6);

    struct order o = {.take_at = -1, .f = f};
    assert_false(f->ops->evict(f->p, f->cls, 3, record, &o));
    assert_int_equal(o.n, 3); /* stops after `tries` */
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(o.seen[i], f->items[i]);

    int expect[] = {0, 1, 2, 3, 4, 5};
    for (int i = 0; i < 6; i++)
        assert_ptr_equal(evict_one(f), f->items[expect[i]]);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
    assert_null(evict_one(f));
}

/* A refused candidate stays at the tail; unlinking from the middle keeps
 * the order of the rest. */
static void refusals_and_unlinks(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 5; i++)
        f->ops->link(f->p, f->items[i], 10);
    struct order o = {.take_at = 1, .f = f};
    assert_true(f->ops->evict(f->p, f->cls, 5, record, &o));
    assert_int_equal(o.n, 2);
    assert_ptr_equal(o.seen[1], f->items[1]); /* 0 refused, 1 taken */
    f->ops->unlink(f->p, f->items[3]);
    assert_int_equal(f->ops->count(f->p, f->cls), 3);
    assert_ptr_equal(evict_one(f), f->items[0]);
    assert_ptr_equal(evict_one(f), f->items[2]);
    f->ops->link(f->p, f->items[1], 20); /* a new item behind 4 */
    assert_ptr_equal(evict_one(f), f->items[4]);
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
    assert_int_equal(o.n, 0);
    assert_true(f->ops->evict(f->p, f->cls, 5, record, &o));
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry),
        cmocka_unit_test_setup_teardown(evicts_in_insertion_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refusals_and_unlinks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(classes_are_separate, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
