/* Unit tests for lib/cache_meta.c: the engine calls behind the meta
 * protocol, with the clock under the test's control. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/cache.h"
#include "lib/cache_meta.h"

#define MiB (1024ull * 1024)
#define T0 1700000000

struct env {
    struct clock *clock;
    struct cache *cache;
};

static int setup(void **state)
{
    static struct env e;
    struct cache_config cfg;
    cache_config_defaults(&cfg);
    cfg.limit = 16 * MiB;
    cfg.hashpower = 10;
    e.clock = clock_create(T0);
    e.cache = cache_create(&cfg, e.clock);
    assert_non_null(e.cache);
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    cache_destroy(&e->cache);
    clock_destroy(&e->clock);
    return 0;
}

static struct item *make(struct cache *c, const char *key, const char *val,
                         int64_t exp)
{
    struct item *it;
    size_t n = strlen(val);
    assert_int_equal(cache_alloc(c, key, strlen(key), 0, exp, n + 2, &it),
                     CACHE_OK);
    char *v = cache_item_value(c, it);
    memcpy(v, val, n);
    memcpy(v + n, "\r\n", 2);
    return it;
}

static enum cache_status mstore(struct cache *c, const char *key,
                                const char *val, int64_t exp,
                                const struct cache_mstore_opts *o,
                                uint64_t *cas)
{
    struct item *it = make(c, key, val, exp);
    struct cache_mstore_result r;
    enum cache_status st = cache_mstore(c, it, o, &r);
    if (cas != NULL)
        *cas = r.cas;
    cache_release(c, it);
    return st;
}

static void set(struct cache *c, const char *key, const char *val,
                int64_t exp)
{
    struct cache_mstore_opts o = {.mode = CACHE_SET};
    assert_int_equal(mstore(c, key, val, exp, &o, NULL), CACHE_OK);
}

/* mg with the given options; the meta is in *m, true on a hit. */
static bool mget(struct cache *c, const char *key,
                 const struct cache_mget_opts *o, struct cache_meta *m)
{
    struct item *it = cache_mget(c, key, strlen(key), o, m, NULL);
    if (it != NULL)
        cache_release(c, it);
    return it != NULL;
}

static const char *value_of(struct cache *c, const char *key, char *buf)
{
    struct item *it = cache_get(c, key, strlen(key), NULL, NULL, NULL);
    if (it == NULL)
        return NULL;
    struct cache_item_view v;
    cache_item_view(c, it, &v);
    memcpy(buf, v.value, v.nbytes - 2);
    buf[v.nbytes - 2] = 0;
    cache_release(c, it);
    return buf;
}

static void mget_reads_hit_and_access_before_bumping(void **state)
{
    struct env *e = *state;
    struct cache_meta m;
    struct cache_mget_opts plain = {0}, nobump = {.no_bump = true};
    set(e->cache, "k", "v", 0);
    clock_advance(e->clock, 7);
    assert_true(mget(e->cache, "k", &nobump, &m));
    assert_false(m.fetched);
    assert_int_equal(m.idle, 7);
    assert_int_equal(m.ttl, -1);
    assert_true(mget(e->cache, "k", &nobump, &m));
    assert_false(m.fetched); /* u neither bumps nor marks fetched */
    assert_int_equal(m.idle, 7);
    assert_true(mget(e->cache, "k", &plain, &m));
    assert_false(m.fetched);
    assert_true(mget(e->cache, "k", &plain, &m));
    assert_true(m.fetched);
    assert_int_equal(m.nbytes, 1);
}

static void mget_touch_reports_both_ttls(void **state)
{
    struct env *e = *state;
    struct cache_meta m;
    struct cache_mget_opts o = {.touch = true, .touch_exptime = 30};
    set(e->cache, "k", "v", 100);
    assert_true(mget(e->cache, "k", &o, &m));
    assert_int_equal(m.ttl_before, 100);
    assert_int_equal(m.ttl, 30);
    clock_advance(e->clock, 31);
    assert_false(mget(e->cache, "k", &(struct cache_mget_opts){0}, &m));
}

/* T-1 makes the item long expired (exptime 1), and the same request
 * still reports its TTL: memcached's unsigned 1 - now, never the -1 of
 * an item without expiry, even when now is 2. */
static void mget_touch_into_the_past_wraps(void **state)
{
    struct env *e = *state;
    struct cache_meta m;
    struct cache_mget_opts o = {.touch = true, .touch_exptime = -1};
    set(e->cache, "k", "v", 100);
    assert_true(clock_now(e->clock) <= 2);
    clock_advance(e->clock, 2 - clock_now(e->clock));
    assert_true(mget(e->cache, "k", &o, &m));
    assert_int_equal(m.ttl_before, 100);
    assert_int_equal(m.ttl, 4294967295);
    assert_false(mget(e->cache, "k", &(struct cache_mget_opts){0}, &m));
}

static void mget_vivify_wins_once(void **state)
{
    struct env *e = *state;
    struct cache_meta m;
    struct cache_mget_opts o = {.vivify = true, .vivify_exptime = 30,
                                .set_cas = true, .new_cas = 777};
    assert_true(mget(e->cache, "k", &o, &m));
    assert_true(m.created);
    assert_true(m.won);
    assert_false(m.token_sent);
    assert_int_equal(m.ttl_before, -1);
    assert_int_equal(m.ttl, 30);
    assert_int_equal(m.nbytes, 0);
    assert_int_equal(m.cas, 777);
    assert_true(mget(e->cache, "k", &o, &m));
    assert_false(m.created);
    assert_false(m.won);
    assert_true(m.token_sent);
    assert_int_equal(m.cas, 777);
}

static void mget_recache_below_ttl(void **state)
{
    struct env *e = *state;
    struct cache_meta m;
    struct cache_mget_opts r = {.recache = true, .recache_ttl = 30};
    set(e->cache, "forever", "v", 0);
    assert_true(mget(e->cache, "forever", &r, &m));
    assert_false(m.won); /* no TTL, never a recache */
    set(e->cache, "k", "v", 100);
    assert_true(mget(e->cache, "k", &r, &m));
    assert_false(m.won);
    clock_advance(e->clock, 80);
    assert_true(mget(e->cache, "k", &r, &m));
    assert_true(m.won);
    assert_true(mget(e->cache, "k", &r, &m));
    assert_false(m.won);
    assert_true(m.token_sent);
    /* T before R: R looks at the new TTL */
    struct cache_mget_opts tr = {.touch = true, .touch_exptime = 10,
                                 .recache = true, .recache_ttl = 30,
                                 .recache_after_touch = true};
    set(e->cache, "j", "v", 100);
    assert_true(mget(e->cache, "j", &tr, &m));
    assert_true(m.won);
}

static void mdelete_invalidate_then_one_winner(void **state)
{
    struct env *e = *state;
    struct cache_meta m;
    struct cache_mget_opts plain = {0};
    uint64_t cas;
    struct cache_mstore_opts s = {.mode = CACHE_SET};
    assert_int_equal(mstore(e->cache, "k", "old", 0, &s, &cas), CACHE_OK);
    struct cache_mdelete_opts inv = {.invalidate = true, .touch = true,
                                     .touch_exptime = 30};
    assert_int_equal(cache_mdelete(e->cache, "k", 1, &inv, NULL), CACHE_OK);
    assert_true(mget(e->cache, "k", &plain, &m));
    assert_true(m.stale);
    assert_true(m.won);
    assert_int_equal(m.ttl, 30);
    assert_int_not_equal(m.cas, cas);
    assert_true(mget(e->cache, "k", &plain, &m));
    assert_true(m.stale);
    assert_false(m.won);
    assert_true(m.token_sent);
    /* a second invalidation hands out a new token */
    assert_int_equal(cache_mdelete(e->cache, "k", 1, &inv, NULL), CACHE_OK);
    assert_true(mget(e->cache, "k", &plain, &m));
    assert_true(m.won);
    /* a fresh store clears it all */
    set(e->cache, "k", "new", 0);
    assert_true(mget(e->cache, "k", &plain, &m));
    assert_false(m.stale || m.won || m.token_sent);
}

static void mdelete_compare_drop_and_plain(void **state)
{
    struct env *e = *state;
    struct cache_meta m;
    char buf[64];
    uint64_t cas;
    struct cache_mstore_opts s = {.mode = CACHE_SET};
    assert_int_equal(mstore(e->cache, "k", "value", 40, &s, &cas), CACHE_OK);
    struct cache_mdelete_opts bad = {.compare = true, .cas = cas + 1};
    assert_int_equal(cache_mdelete(e->cache, "k", 1, &bad, NULL), CACHE_EXISTS);
    struct cache_mdelete_opts drop = {.drop_value = true, .set_cas = true,
                                      .new_cas = 4242};
    assert_int_equal(cache_mdelete(e->cache, "k", 1, &drop, NULL), CACHE_OK);
    assert_string_equal(value_of(e->cache, "k", buf), "");
    assert_true(mget(e->cache, "k", &(struct cache_mget_opts){0}, &m));
    assert_int_equal(m.cas, 4242);
    assert_int_equal(m.ttl, 40);
    struct cache_mdelete_opts good = {.compare = true, .cas = 4242};
    assert_int_equal(cache_mdelete(e->cache, "k", 1, &good, NULL), CACHE_OK);
    assert_null(value_of(e->cache, "k", buf));
    assert_int_equal(cache_mdelete(e->cache, "k", 1, &good, NULL),
                     CACHE_NOT_FOUND);
}

static void mdelete_invalidate_copies_a_held_item(void **state)
{
    struct env *e = *state;
    set(e->cache, "k", "held", 0);
    struct item *held = cache_get(e->cache, "k", 1, NULL, NULL, NULL);
    struct cache_item_view before, after;
    cache_item_view(e->cache, held, &before);
    clock_advance(e->clock, 5);
    struct cache_mdelete_opts inv = {.invalidate = true};
    assert_int_equal(cache_mdelete(e->cache, "k", 1, &inv, NULL), CACHE_OK);
    cache_item_view(e->cache, held, &after);
    assert_int_equal(after.cas, before.cas); /* the reader's copy is intact */
    /* the copy stands for memcached's change in place: no new item in
     * total_items, still fetched, last accessed when the item was */
    struct cache_stats st;
    cache_stats(e->cache, &st);
    assert_int_equal(st.total_items, 1);
    struct cache_mdebug d;
    assert_true(cache_mdebug(e->cache, "k", 1, &d));
    assert_true(d.fetched);
    assert_int_equal(d.la, 5);
    struct cache_meta m;
    assert_true(mget(e->cache, "k", &(struct cache_mget_opts){0}, &m));
    assert_true(m.stale);
    assert_int_not_equal(m.cas, before.cas);
    cache_release(e->cache, held);
}

static void mstore_modes_and_cas(void **state)
{
    struct env *e = *state;
    char buf[64];
    uint64_t cas, cas2;
    struct cache_mstore_opts o = {.mode = CACHE_SET, .set_cas = true,
                                  .new_cas = 99};
    assert_int_equal(mstore(e->cache, "k", "a", 0, &o, &cas), CACHE_OK);
    assert_int_equal(cas, 99);
    o = (struct cache_mstore_opts){.mode = CACHE_APPEND, .compare = true,
                                   .cas = 98};
    assert_int_equal(mstore(e->cache, "k", "b", 0, &o, NULL), CACHE_EXISTS);
    o.cas = 99;
    assert_int_equal(mstore(e->cache, "k", "b", 0, &o, &cas2), CACHE_OK);
    assert_int_not_equal(cas2, 99);
    assert_string_equal(value_of(e->cache, "k", buf), "ab");
    o = (struct cache_mstore_opts){.mode = CACHE_ADD, .compare = true,
                                   .cas = 1};
    assert_int_equal(mstore(e->cache, "new", "x", 0, &o, NULL), CACHE_OK);
    o = (struct cache_mstore_opts){.mode = CACHE_REPLACE, .compare = true,
                                   .cas = 1};
    assert_int_equal(mstore(e->cache, "none", "x", 0, &o, NULL),
                     CACHE_NOT_FOUND);
    o = (struct cache_mstore_opts){.mode = CACHE_PREPEND};
    assert_int_equal(mstore(e->cache, "none", "x", 0, &o, NULL),
                     CACHE_NOT_STORED);
    o.vivify = true;
    o.vivify_exptime = 50;
    assert_int_equal(mstore(e->cache, "none", "x", 0, &o, NULL), CACHE_OK);
    struct cache_meta m;
    assert_true(mget(e->cache, "none", &(struct cache_mget_opts){0}, &m));
    assert_int_equal(m.ttl, 50);
}

/* A client-chosen CAS above the counter must not let an item outlive a
 * flush_all in the same second (the flush cut-off is a CAS). */
static void explicit_cas_item_is_flushed(void **state)
{
    struct env *e = *state;
    struct cache_mstore_opts o = {.mode = CACHE_SET, .set_cas = true,
                                  .new_cas = 1000000};
    uint64_t cas;
    struct cache_meta m;
    assert_int_equal(mstore(e->cache, "k", "a", 0, &o, &cas), CACHE_OK);
    cache_flush(e->cache, 0);
    assert_false(mget(e->cache, "k", &(struct cache_mget_opts){0}, &m));
    set(e->cache, "j", "b", 0);
    assert_true(mget(e->cache, "j", &(struct cache_mget_opts){0}, &m));
    assert_true(m.cas > 1000000);
}

static void mstore_invalidate_keeps_older_write_as_stale(void **state)
{
    struct env *e = *state;
    char buf[64];
    uint64_t cas, cas2;
    struct cache_mstore_opts s = {.mode = CACHE_SET};
    assert_int_equal(mstore(e->cache, "j", "a", 0, &s, &cas), CACHE_OK);
    assert_int_equal(mstore(e->cache, "k", "a", 0, &s, &cas), CACHE_OK);
    struct cache_mstore_opts o = {.mode = CACHE_SET, .compare = true,
                                  .cas = cas + 5, .invalidate = true};
    assert_int_equal(mstore(e->cache, "k", "b", 0, &o, NULL), CACHE_EXISTS);
    /* C0 is older than nothing, as in memcached */
    o.cas = 0;
    assert_int_equal(mstore(e->cache, "k", "b", 0, &o, NULL), CACHE_EXISTS);
    o.cas = cas - 1;
    assert_int_equal(mstore(e->cache, "k", "c", 0, &o, &cas2), CACHE_OK);
    assert_string_equal(value_of(e->cache, "k", buf), "c");
    struct cache_meta m;
    assert_true(mget(e->cache, "k", &(struct cache_mget_opts){0}, &m));
    assert_true(m.stale);
    assert_int_equal(m.cas, cas2);
}

static void marith_vivify_count_and_compare(void **state)
{
    struct env *e = *state;
    char buf[64];
    struct cache_marith_result r;
    struct cache_marith_opts o = {.incr = true, .delta = 1};
    assert_int_equal(cache_marith(e->cache, "n", 1, &o, &r),
                     CACHE_NOT_FOUND);
    o.vivify = true;
    o.vivify_exptime = 0;
    o.initial = 10;
    assert_int_equal(cache_marith(e->cache, "n", 1, &o, &r), CACHE_OK);
    assert_true(r.created);
    assert_int_equal(r.value, 10);
    assert_int_equal(r.ttl, -1);
    assert_int_equal(cache_marith(e->cache, "n", 1, &o, &r), CACHE_OK);
    assert_false(r.created);
    assert_int_equal(r.value, 11);
    struct cache_marith_opts d = {.delta = 50, .touch = true,
                                  .touch_exptime = 100, .set_cas = true,
                                  .new_cas = 5};
    assert_int_equal(cache_marith(e->cache, "n", 1, &d, &r), CACHE_OK);
    assert_int_equal(r.value, 0);
    assert_int_equal(r.ttl, 100);
    assert_int_equal(r.cas, 5);
    d = (struct cache_marith_opts){.incr = true, .delta = 1,
                                   .compare = true, .cas = 6};
    assert_int_equal(cache_marith(e->cache, "n", 1, &d, &r), CACHE_EXISTS);
    d.cas = 5;
    assert_int_equal(cache_marith(e->cache, "n", 1, &d, &r), CACHE_OK);
    assert_string_equal(value_of(e->cache, "n", buf), "1 ");
    set(e->cache, "s", "abc", 0);
    d.compare = false;
    assert_int_equal(cache_marith(e->cache, "s", 1, &d, &r),
                     CACHE_NON_NUMERIC);
}

/* A decrement that loses digits: the value's size afterwards, its text
 * in buf, with `sent` the caller's sent references. */
static size_t marith_shrink(struct cache *c, const char *key,
                            const struct cache_sent_refs *sent, char *buf)
{
    struct cache_marith_opts o = {.delta = 98, .sent = *sent};
    struct cache_marith_result r;
    assert_int_equal(cache_marith(c, key, strlen(key), &o, &r), CACHE_OK);
    assert_int_equal(r.value, 1);
    return strlen(value_of(c, key, buf));
}

/* The sent references of a test: a list of items. */
struct sent_list {
    struct item *const *items;
    size_t n;
};

static size_t count_sent(const struct item *it, void *arg)
{
    const struct sent_list *l = arg;
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->items[i] == it;
    return n;
}

static void marith_keeps_size_unless_held(void **state)
{
    struct env *e = *state;
    char buf[64];
    struct cache_sent_refs none = {0};
    /* nobody holds it: changed in place, padded */
    set(e->cache, "a", "99", 0);
    assert_int_equal(marith_shrink(e->cache, "a", &none, buf), 2);
    assert_string_equal(buf, "1 ");

    /* a reader holds it: a new item at the value's own size */
    set(e->cache, "b", "99", 0);
    struct item *held = cache_get(e->cache, "b", 1, NULL, NULL, NULL);
    assert_int_equal(marith_shrink(e->cache, "b", &none, buf), 1);
    cache_release(e->cache, held);

    /* the only reader is the caller's sent reply: padded, in a copy that
     * leaves the bytes the reply points at alone, and still fetched */
    set(e->cache, "c", "99", 0);
    bool first = false;
    held = cache_get(e->cache, "c", 1, NULL, NULL, &first);
    assert_true(first);
    struct cache_item_view v;
    cache_item_view(e->cache, held, &v);
    struct sent_list list = {&held, 1};
    struct cache_sent_refs mine = {count_sent, &list};
    struct cache_stats st;
    cache_stats(e->cache, &st);
    uint64_t items = st.total_items;
    assert_int_equal(marith_shrink(e->cache, "c", &mine, buf), 2);
    assert_string_equal(buf, "1 ");
    assert_memory_equal(v.value, "99\r\n", 4);
    cache_stats(e->cache, &st); /* a change in place, not a new item */
    assert_int_equal(st.total_items, items);
    struct cache_meta m;
    assert_true(mget(e->cache, "c", &(struct cache_mget_opts){0}, &m));
    assert_true(m.fetched);
    cache_release(e->cache, held);

    /* sent, but someone else holds it too: own size */
    set(e->cache, "d", "99", 0);
    held = cache_get(e->cache, "d", 1, NULL, NULL, NULL);
    struct item *other = cache_get(e->cache, "d", 1, NULL, NULL, &first);
    assert_false(first); /* the second read */
    list = (struct sent_list){&held, 1};
    cache_stats(e->cache, &st);
    items = st.total_items;
    assert_int_equal(marith_shrink(e->cache, "d", &mine, buf), 1);
    cache_stats(e->cache, &st); /* memcached's new item */
    assert_int_equal(st.total_items, items + 1);
    cache_release(e->cache, held);
    cache_release(e->cache, other);

    /* a sent reference to another item does not count */
    set(e->cache, "e", "99", 0);
    set(e->cache, "f", "x", 0);
    held = cache_get(e->cache, "e", 1, NULL, NULL, NULL);
    other = cache_get(e->cache, "f", 1, NULL, NULL, NULL);
    list = (struct sent_list){&other, 1};
    assert_int_equal(marith_shrink(e->cache, "e", &mine, buf), 1);
    cache_release(e->cache, held);
    cache_release(e->cache, other);
}

static void mdebug_reports_internals(void **state)
{
    struct env *e = *state;
    struct cache_mdebug d;
    assert_false(cache_mdebug(e->cache, "k", 1, &d));
    struct cache_mstore_opts o = {.mode = CACHE_SET, .binary_key = true};
    uint64_t cas;
    assert_int_equal(mstore(e->cache, "k", "abc", 100, &o, &cas), CACHE_OK);
    clock_advance(e->clock, 3);
    assert_true(cache_mdebug(e->cache, "k", 1, &d));
    assert_int_equal(d.exp, -97);
    assert_int_equal(d.la, 3);
    assert_int_equal(d.cas, cas);
    assert_false(d.fetched);
    assert_true(d.binary_key);
    assert_true(d.cls >= 1);
    assert_true(d.size > 1 + 5);
    /* mdebug neither bumps nor marks fetched */
    assert_true(cache_mdebug(e->cache, "k", 1, &d));
    assert_false(d.fetched);
    assert_int_equal(d.la, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            mget_reads_hit_and_access_before_bumping, setup, teardown),
        cmocka_unit_test_setup_teardown(mget_touch_reports_both_ttls, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mget_touch_into_the_past_wraps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mget_vivify_wins_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mget_recache_below_ttl, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mdelete_invalidate_then_one_winner,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(mdelete_compare_drop_and_plain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            mdelete_invalidate_copies_a_held_item, setup, teardown),
        cmocka_unit_test_setup_teardown(mstore_modes_and_cas, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            mstore_invalidate_keeps_older_write_as_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(explicit_cas_item_is_flushed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(marith_vivify_count_and_compare,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(marith_keeps_size_unless_held,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(mdebug_reports_internals, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
