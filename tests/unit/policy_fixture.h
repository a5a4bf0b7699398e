/*
 * tests/unit/policy_fixture.h - what the eviction policy tests share: a
 * 4 MiB slab arena, the policy under test, and NITEMS items of one class
 * (key "k" plus one character, 2-byte value), none linked; a take()
 * callback that records, by item index, what evict() offers; and the
 * tests every policy must pass the same way (registry,
 * classes_are_separate).
 *
 * The including file defines, before including this:
 *   POLICY_NAME  the registry name ("lru")
 *   POLICY_OPS   the policy's ops struct (policy_lru)
 *   NITEMS       optional, default 8
 * and gets setup/teardown for cmocka, and T(test) to list a test with
 * them. Every helper is static inline, so a file need not use them all.
 */
#ifndef ZK_TESTS_UNIT_POLICY_FIXTURE_H
#define ZK_TESTS_UNIT_POLICY_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/policy.h"

#if !defined(POLICY_NAME) || !defined(POLICY_OPS)
#error "define POLICY_NAME and POLICY_OPS before including policy_fixture.h"
#endif
#ifndef NITEMS
#define NITEMS 8
#endif

#define MiB (1024ull * 1024)
#define ORDER_MAX 64 /* offers an order records; it counts them all */

struct fixture {
    struct slabs *slabs;
    const struct policy_ops *ops;
    struct policy *p;
    struct item *items[NITEMS];
    unsigned cls; /* every item's class */
};

static inline int setup(void **state)
{
    static struct fixture f;
    struct slabs_config cfg = {
        .limit = 4 * MiB, .item_size_max = MiB, .min_chunk = 48,
        .factor = 1.25,
    };
    memset(&f, 0, sizeof(f));
    *state = &f;
    f.ops = policy_find(POLICY_NAME);
    if (f.ops == NULL || (f.slabs = slabs_create(&cfg)) == NULL ||
        (f.p = f.ops->create(f.slabs)) == NULL)
        return -1;
    size_t total = item_total(2, 2, false);
    f.cls = slabs_class_for(f.slabs, total);
    for (int i = 0; i < NITEMS; i++) {
        if ((f.items[i] = slabs_alloc(f.slabs, f.cls, total)) == NULL)
            return -1;
        char key[2] = {'k', (char)('0' + i % 64)};
        item_init(f.items[i], false, f.cls, key, 2, 0, 0, 2, 1);
    }
    return 0;
}

static inline int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->ops != NULL)
        f->ops->destroy(f->p);
    slabs_destroy(&f->slabs);
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* i for f->items[i]; -2 for anything else. */
static inline int fixture_index(const struct fixture *f,
                                const struct item *it)
{
    for (int i = 0; i < NITEMS; i++)
        if (f->items[i] == it)
            return i;
    return -2;
}

static inline void link_n(struct fixture *f, int n, rel_time_t now)
{
    for (int i = 0; i < n; i++)
        f->ops->link(f->p, f->items[i], now);
}

/* An evict() context: records every candidate offered, by index, and
 * takes (unlinks) the take_at-th. */
struct order {
    int seen[ORDER_MAX];
    int n;
    int take_at; /* -1: take none */
    struct fixture *f;
};

static inline bool record(void *arg, struct item *it)
{
    struct order *o = arg;
    if (o->n < ORDER_MAX)
        o->seen[o->n] = fixture_index(o->f, it);
    if (o->n++ == o->take_at) {
        o->f->ops->unlink_locked(o->f->p, it);
        return true;
    }
    return false;
}

/* The index of the item the next eviction (`tries` candidates, taking
 * the first) takes; -1 if none. */
static inline int evict_one(struct fixture *f, unsigned tries)
{
    struct order o = {.take_at = 0, .f = f};
    if (!f->ops->evict(f->p, f->cls, tries, record, &o))
        return -1;
    return o.seen[0];
}

/* A pass with `tries` that takes the take_at-th candidate (-1: none)
 * offers exactly want[0..nwant), and takes one iff take_at < nwant. */
static inline void expect_offers(struct fixture *f, unsigned tries,
                                 int take_at, const int *want, int nwant)
{
    struct order o = {.take_at = take_at, .f = f};
    bool taken = f->ops->evict(f->p, f->cls, tries, record, &o);
    assert_int_equal(taken, take_at >= 0 && take_at < nwant);
    assert_int_equal(o.n, nwant);
    assert_true(nwant <= ORDER_MAX);
    for (int i = 0; i < nwant; i++)
        assert_int_equal(o.seen[i], want[i]);
}

static inline void registry(void **state)
{
    (void)state;
    assert_ptr_equal(policy_find(POLICY_NAME), &POLICY_OPS);
    assert_string_equal(POLICY_OPS.name, POLICY_NAME);
    assert_null(policy_find("nope"));
}

/* A class's items are only ever offered for that class. */
static inline void classes_are_separate(void **state)
{
    struct fixture *f = *state;
    f->ops->link(f->p, f->items[0], 5);
    assert_int_equal(f->ops->count(f->p, f->cls + 1), 0);
    struct order o = {.take_at = 0, .f = f};
    assert_false(f->ops->evict(f->p, f->cls + 1, 5, record, &o));
    assert_int_equal(o.n, 0);
    assert_true(f->ops->evict(f->p, f->cls, 5, record, &o));
    assert_int_equal(o.seen[0], 0);
    assert_int_equal(f->ops->count(f->p, f->cls), 0);
}

#endif
