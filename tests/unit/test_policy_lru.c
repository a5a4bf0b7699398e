/* Unit tests for lib/policy_lru.c through the policy interface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/policy_lru.h"

#define MiB (1024ull * 1024)

struct fixture {
    struct slabs *slabs;
    const struct policy_ops *ops;
    struct policy *p;
    struct item *items[8];
};

static int setup(void **state)
{
    static struct fixture f;
    struct slabs_config cfg = {
        .limit = 4 * MiB, .item_size_max = MiB, .min_chunk = 48,
        .factor = 1.25,
    };
    f.slabs = slabs_create(&cfg);
    f.ops = policy_find("lru");
    f.p = f.ops->create(f.slabs);
    for (int i = 0; i < 8; i++) {
        size_t total = item_total(2, 2, false);
        unsigned cls = slabs_class_for(f.slabs, total);
        f.items[i] = slabs_alloc(f.slabs, cls, total);
        char key[3] = {'k', (char)('0' + i), 0};
        item_init(f.items[i], false, cls, key, 2, 0, 0, 2, 1);
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
    int take_at; /* index of the candidate to take, -1 for none */
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

static void registry(void **state)
{
    (void)state;
    assert_ptr_equal(policy_find("lru"), &policy_lru);
    assert_null(policy_find("nope"));
    assert_string_equal(policy_lru.name, "lru");
}

static void evicts_from_the_tail(void **state)
{
    struct fixture *f = *state;
    unsigned cls = f->items[0]->clsid;
    for (int i = 0; i < 4; i++)
        f->ops->link(f->p, f->items[i], 100);
    assert_int_equal(f->ops->count(f->p, cls), 4);
    struct order o = {.take_at = -1, .f = f};
    assert_false(f->ops->evict(f->p, cls, 3, record, &o));
    assert_int_equal(o.n, 3); /* stops after `tries` */
    assert_ptr_equal(o.seen[0], f->items[0]);
    assert_ptr_equal(o.seen[1], f->items[1]);
    assert_ptr_equal(o.seen[2], f->items[2]);
    struct order take = {.take_at = 1, .f = f};
    assert_true(f->ops->evict(f->p, cls, 5, record, &take));
    assert_int_equal(take.n, 2);
    assert_int_equal(f->ops->count(f->p, cls), 3);
    for (int i = 0; i < 4; i++)
        if (i != 1)
            f->ops->unlink(f->p, f->items[i]);
    assert_int_equal(f->ops->count(f->p, cls), 0);
    struct order none = {.take_at = -1, .f = f};
    assert_false(f->ops->evict(f->p, cls, 5, record, &none));
    assert_int_equal(none.n, 0);
}

static void hit_bumps_at_most_once_a_minute(void **state)
{
    struct fixture *f = *state;
    unsigned cls = f->items[0]->clsid;
    for (int i = 0; i < 3; i++)
        f->ops->link(f->p, f->items[i], 100);
    /* Too soon: the tail stays items[0]. */
    f->ops->hit(f->p, f->items[0], 100 + LRU_BUMP_INTERVAL - 1);
    struct order o = {.take_at = -1, .f = f};
    f->ops->evict(f->p, cls, 1, record, &o);
    assert_ptr_equal(o.seen[0], f->items[0]);
    /* Old enough: items[0] moves to the head, items[1] is the tail. */
    f->ops->hit(f->p, f->items[0], 100 + LRU_BUMP_INTERVAL);
    assert_int_equal(item_atime(f->items[0]), 100 + LRU_BUMP_INTERVAL);
    struct order o2 = {.take_at = -1, .f = f};
    f->ops->evict(f->p, cls, 3, record, &o2);
    assert_ptr_equal(o2.seen[0], f->items[1]);
    assert_ptr_equal(o2.seen[1], f->items[2]);
    assert_ptr_equal(o2.seen[2], f->items[0]);
    for (int i = 0; i < 3; i++)
        f->ops->unlink(f->p, f->items[i]);
}

static void classes_are_separate(void **state)
{
    struct fixture *f = *state;
    unsigned cls = f->items[0]->clsid;
    f->ops->link(f->p, f->items[0], 5);
    assert_int_equal(f->ops->count(f->p, cls + 1), 0);
    struct order o = {.take_at = 0, .f = f};
    assert_false(f->ops->evict(f->p, cls + 1, 5, record, &o));
    assert_true(f->ops->evict(f->p, cls, 5, record, &o));
    assert_int_equal(f->ops->count(f->p, cls), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry),
        cmocka_unit_test_setup_teardown(evicts_from_the_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(hit_bumps_at_most_once_a_minute,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(classes_are_separate, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
