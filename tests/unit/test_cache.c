/* Unit tests for lib/cache.c: the engine API end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/cache.h"
#include "lib/slabs.h"

#define MiB (1024ull * 1024)
#define T0 1700000000

struct env {
    struct clock *clock;
    struct cache *cache;
};

static struct env *make_env(uint64_t limit, bool evict, bool cas)
{
    static struct env e;
    struct cache_config cfg;
    cache_config_defaults(&cfg);
    cfg.limit = limit;
    cfg.evict = evict;
    cfg.use_cas = cas;
    cfg.hashpower = 10;
    e.clock = clock_create(T0);
    e.cache = cache_create(&cfg, e.clock);
    assert_non_null(e.cache);
    return &e;
}

static int setup(void **state)
{
    *state = make_env(64 * MiB, true, true);
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    cache_destroy(&e->cache);
    assert_null(e->cache);
    clock_destroy(&e->clock);
    return 0;
}

static enum cache_status put_n(struct cache *c, const char *key,
                               const char *val, size_t nval, uint32_t flags,
                               int64_t exp, enum cache_store_mode mode,
                               uint64_t cas)
{
    struct item *it;
    enum cache_status st = cache_alloc(c, key, strlen(key), flags, exp,
                                       nval + 2, &it);
    if (st != CACHE_OK)
        return st;
    char *v = cache_item_value(c, it);
    memcpy(v, val, nval);
    memcpy(v + nval, "\r\n", 2);
    st = cache_store(c, it, mode, cas, NULL);
    cache_release(c, it);
    return st;
}

static enum cache_status put(struct cache *c, const char *key,
                             const char *val, enum cache_store_mode mode)
{
    return put_n(c, key, val, strlen(val), 0, 0, mode, 0);
}

/* The value of key without "\r\n" in buf, or NULL on a miss. */
static const char *get(struct cache *c, const char *key, char *buf,
                       size_t cap)
{
    struct item *it = cache_get(c, key, strlen(key), NULL, NULL, NULL);
    if (it == NULL)
        return NULL;
    struct cache_item_view v;
    cache_item_view(c, it, &v);
    assert_true(v.nbytes >= 2 && v.nbytes - 2 < cap);
    assert_memory_equal(v.value + v.nbytes - 2, "\r\n", 2);
    memcpy(buf, v.value, v.nbytes - 2);
    buf[v.nbytes - 2] = '\0';
    cache_release(c, it);
    return buf;
}

static uint64_t cas_of(struct cache *c, const char *key)
{
    struct item *it = cache_get(c, key, strlen(key), NULL, NULL, NULL);
    assert_non_null(it);
    struct cache_item_view v;
    cache_item_view(c, it, &v);
    cache_release(c, it);
    return v.cas;
}

static void set_get_delete(void **state)
{
    struct env *e = *state;
    char buf[64];
    assert_null(get(e->cache, "a", buf, sizeof(buf)));
    assert_int_equal(put_n(e->cache, "a", "hello", 5, 42, 0, CACHE_SET, 0),
                     CACHE_OK);
    assert_string_equal(get(e->cache, "a", buf, sizeof(buf)), "hello");
    struct item *it = cache_get(e->cache, "a", 1, NULL, NULL, NULL);
    struct cache_item_view v;
    cache_item_view(e->cache, it, &v);
    assert_int_equal(v.flags, 42);
    assert_int_equal(v.nkey, 1);
    assert_memory_equal(v.key, "a", 1);
    assert_true(v.cas > 0);
    cache_release(e->cache, it);
    assert_int_equal(put(e->cache, "a", "world", CACHE_SET), CACHE_OK);
    assert_string_equal(get(e->cache, "a", buf, sizeof(buf)), "world");
    assert_int_equal(cache_count(e->cache), 1);
    assert_true(cache_exists(e->cache, "a", 1));
    assert_int_equal(cache_delete(e->cache, "a", 1, NULL), CACHE_OK);
    assert_int_equal(cache_delete(e->cache, "a", 1, NULL), CACHE_NOT_FOUND);
    assert_false(cache_exists(e->cache, "a", 1));
    assert_int_equal(cache_count(e->cache), 0);
}

static void store_modes(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    char buf[64];
    assert_int_equal(put(c, "k", "x", CACHE_REPLACE), CACHE_NOT_STORED);
    assert_int_equal(put(c, "k", "x", CACHE_APPEND), CACHE_NOT_STORED);
    assert_int_equal(put(c, "k", "x", CACHE_PREPEND), CACHE_NOT_STORED);
    assert_int_equal(put(c, "k", "1", CACHE_ADD), CACHE_OK);
    assert_int_equal(put(c, "k", "2", CACHE_ADD), CACHE_NOT_STORED);
    assert_string_equal(get(c, "k", buf, sizeof(buf)), "1");
    assert_int_equal(put(c, "k", "3", CACHE_REPLACE), CACHE_OK);
    assert_int_equal(put(c, "k", "45", CACHE_APPEND), CACHE_OK);
    assert_int_equal(put(c, "k", "0", CACHE_PREPEND), CACHE_OK);
    assert_string_equal(get(c, "k", buf, sizeof(buf)), "0345");
    /* append keeps the old flags */
    assert_int_equal(put_n(c, "f", "a", 1, 7, 0, CACHE_SET, 0), CACHE_OK);
    assert_int_equal(put_n(c, "f", "b", 1, 9, 0, CACHE_APPEND, 0), CACHE_OK);
    struct item *it = cache_get(c, "f", 1, NULL, NULL, NULL);
    struct cache_item_view v;
    cache_item_view(c, it, &v);
    assert_int_equal(v.flags, 7);
    assert_int_equal(v.nbytes, 4);
    cache_release(c, it);
}

static void cas_semantics(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    char buf[64];
    assert_int_equal(put_n(c, "c", "v", 1, 0, 0, CACHE_CAS, 1),
                     CACHE_NOT_FOUND);
    put(c, "c", "v1", CACHE_SET);
    uint64_t cas = cas_of(c, "c");
    assert_int_equal(put_n(c, "c", "v2", 2, 0, 0, CACHE_CAS, cas + 1),
                     CACHE_EXISTS);
    assert_int_equal(put_n(c, "c", "v2", 2, 0, 0, CACHE_CAS, cas), CACHE_OK);
    assert_string_equal(get(c, "c", buf, sizeof(buf)), "v2");
    assert_true(cas_of(c, "c") > cas);
    assert_int_equal(put_n(c, "c", "v3", 2, 0, 0, CACHE_CAS, cas),
                     CACHE_EXISTS);
}

static void boundaries(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    char key[ITEM_KEY_MAX + 2], buf[8];
    memset(key, 'k', sizeof(key));
    key[ITEM_KEY_MAX] = '\0';
    assert_int_equal(put(c, key, "", CACHE_SET), CACHE_OK);
    assert_string_equal(get(c, key, buf, sizeof(buf)), "");
    key[ITEM_KEY_MAX] = 'k';
    key[ITEM_KEY_MAX + 1] = '\0';
    struct item *it;
    assert_int_equal(cache_alloc(c, key, ITEM_KEY_MAX + 1, 0, 0, 2, &it),
                     CACHE_TOO_LARGE);
    assert_null(it);
    /* The largest value memcached would take under the same -I, and one
     * byte more: memcached's own item size is what the limit counts,
     * though zeekdb's item is smaller and would fit more. */
    size_t max = cache_item_size_max(c);
    assert_int_equal(max, MiB);
    size_t room = max - item_memcached_total(1, 0, 0, true);
    assert_int_equal(room, MiB - 58);
    assert_true(item_total(1, room + 1, true) <= max);
    assert_int_equal(cache_alloc(c, "b", 1, 0, 0, room, &it), CACHE_OK);
    memset(cache_item_value(c, it), 'v', room);
    assert_int_equal(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_release(c, it);
    assert_int_equal(cache_alloc(c, "b", 1, 0, 0, room + 1, &it),
                     CACHE_TOO_LARGE);
    assert_true(cache_exists(c, "b", 1));
    /* non-zero client flags take 4 bytes of memcached's item */
    assert_int_equal(cache_alloc(c, "f", 1, 7, 0, room - 3, &it),
                     CACHE_TOO_LARGE);
    assert_int_equal(cache_alloc(c, "f", 1, 7, 0, room - 4, &it), CACHE_OK);
    cache_release(c, it);
}

static void count_size(size_t size, uint64_t count, void *arg)
{
    (void)size;
    *(uint64_t *)arg += count;
}

static uint64_t sized_items(struct cache *c)
{
    uint64_t n = 0;
    cache_sizes_report(c, count_size, &n);
    return n;
}

/* The size histogram follows every way an item is linked and unlinked:
 * appends (a copy of the old item), in-place and copying incr, replaces,
 * deletes, a clear. Items linked while it was off are never counted. */
static void size_histogram_follows_links(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    uint64_t r;
    assert_false(cache_sizes_enabled(c));
    put(c, "old", "1", CACHE_SET);
    assert_int_equal(cache_sizes_enable(c), CACHE_SIZES_ON);
    assert_true(cache_sizes_enabled(c));
    assert_int_equal(sized_items(c), 0);
    put(c, "a", "1", CACHE_SET);
    put(c, "b", "12", CACHE_SET);
    assert_int_equal(sized_items(c), 2);
    assert_int_equal(put(c, "a", "23", CACHE_APPEND), CACHE_OK);
    assert_int_equal(cache_delta(c, "a", 1, true, 1, &r, NULL), CACHE_OK);
    assert_int_equal(cache_delta(c, "b", 1, true, 99999, &r, NULL),
                     CACHE_OK);   /* longer: a copy */
    put(c, "b", "x", CACHE_SET);
    assert_int_equal(sized_items(c), 2);
    assert_int_equal(cache_delta(c, "old", 3, true, 99999, &r, NULL),
                     CACHE_OK);   /* a copy of an item never counted */
    assert_int_equal(sized_items(c), 3);
    cache_sizes_disable(c);
    put(c, "c", "1", CACHE_SET);
    assert_int_equal(cache_delete(c, "a", 1, NULL), CACHE_OK);
    /* the copy is linked while off: it must not inherit b's mark */
    assert_int_equal(put(c, "b", "y", CACHE_APPEND), CACHE_OK);
    assert_int_equal(cache_sizes_enable(c), CACHE_SIZES_ON);
    assert_int_equal(sized_items(c), 1);   /* old only */
    assert_int_equal(cache_delete(c, "b", 1, NULL), CACHE_OK);
    assert_int_equal(sized_items(c), 1);
    cache_clear(c);
    assert_int_equal(sized_items(c), 0);
}

static void size_histogram_needs_cas(void **state)
{
    (void)state;
    struct env *e = make_env(64 * MiB, true, false);
    assert_int_equal(cache_sizes_enable(e->cache), CACHE_SIZES_NO_CAS);
    assert_false(cache_sizes_enabled(e->cache));
    teardown((void **)&e);
}

#define EVENTS_MAX 16

struct events {
    int n;
    struct cache_event ev[EVENTS_MAX];
    char key[EVENTS_MAX][16];
};

static void collect_event(const struct cache_event *ev, void *arg)
{
    struct events *e = arg;
    if (e->n >= EVENTS_MAX)
        return;
    e->ev[e->n] = *ev;
    snprintf(e->key[e->n], sizeof(e->key[0]), "%.*s", (int)ev->nkey,
             ev->key);
    e->ev[e->n].key = e->key[e->n];
    e->n++;
}

/* The observer hears lookups (a store's too), store outcomes with the
 * joined size of an append, deletions, and only the kinds it asked for. */
static void observer_hears_what_it_asks_for(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    struct events got = {0};
    char buf[64];
    cache_set_observer(c, collect_event, &got);
    put(c, "quiet", "1", CACHE_SET);            /* nothing asked yet */
    assert_int_equal(got.n, 0);
    cache_observe(c, CACHE_EVENT_FETCH | CACHE_EVENT_STORE |
                     CACHE_EVENT_DELETE);
    put(c, "k", "ab", CACHE_SET);
    assert_int_equal(put(c, "k", "c", CACHE_APPEND), CACHE_OK);
    assert_null(get(c, "none", buf, sizeof(buf)));
    assert_int_equal(cache_delete(c, "k", 1, NULL), CACHE_OK);
    assert_int_equal(got.n, 7);
    /* set: its lookup, then the store */
    assert_int_equal(got.ev[0].kind, CACHE_EVENT_FETCH);
    assert_false(got.ev[0].found);
    assert_int_equal(got.ev[1].kind, CACHE_EVENT_STORE);
    assert_int_equal(got.ev[1].status, CACHE_OK);
    assert_int_equal(got.ev[1].mode, CACHE_SET);
    assert_int_equal(got.ev[1].nvalue, 2);
    /* append: found, stored, the joined value's size */
    assert_true(got.ev[2].found);
    assert_int_equal(got.ev[2].nvalue, 2);
    assert_int_equal(got.ev[3].mode, CACHE_APPEND);
    assert_int_equal(got.ev[3].nvalue, 3);
    /* a miss */
    assert_string_equal(got.key[4], "none");
    assert_false(got.ev[4].found);
    assert_int_equal(got.ev[4].cls, 0);
    /* delete: its lookup, then the deletion of the 3-byte value */
    assert_true(got.ev[5].found);
    assert_int_equal(got.ev[6].kind, CACHE_EVENT_DELETE);
    assert_string_equal(got.key[6], "k");
    assert_int_equal(got.ev[6].nvalue, 3);
    assert_false(got.ev[6].meta);
    cache_observe(c, 0);
    put(c, "k", "x", CACHE_SET);
    assert_int_equal(got.n, 7);
}

/* Values as large as memcached keeps in chunks are no counters: the
 * item's size in memcached (48-byte header, key, NUL, 4 bytes for non-zero
 * flags, 8 for CAS, value and "\r\n") may not pass 512 KiB. */
static void incr_refuses_what_memcached_chunks(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    const size_t largest = 512 * 1024 - 48 - 1 - 1 - 8 - 2; /* key "n" */
    char *val = malloc(largest + 1);
    assert_non_null(val);
    memset(val, ' ', largest + 1);
    val[0] = '7';
    uint64_t r = 0;
    struct {
        size_t len;
        uint32_t flags;
        enum cache_status want;
    } cases[] = {
        {largest, 0, CACHE_OK},
        {largest + 1, 0, CACHE_NON_NUMERIC},
        {largest - 4, 1, CACHE_OK},
        {largest - 3, 1, CACHE_NON_NUMERIC},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(put_n(c, "n", val, cases[i].len, cases[i].flags, 0,
                               CACHE_SET, 0), CACHE_OK);
        assert_int_equal(cache_delta(c, "n", 1, true, 1, &r, NULL),
                         cases[i].want);
    }
    free(val);
}

static void incr_decr(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    char buf[64];
    uint64_t r = 0;
    assert_int_equal(cache_delta(c, "n", 1, true, 1, &r, NULL),
                     CACHE_NOT_FOUND);
    put(c, "n", "100", CACHE_SET);
    assert_int_equal(cache_delta(c, "n", 1, false, 1, &r, NULL), CACHE_OK);
    assert_int_equal(r, 99);
    /* In place, padded with a space, as memcached does. */
    assert_string_equal(get(c, "n", buf, sizeof(buf)), "99 ");
    assert_int_equal(cache_delta(c, "n", 1, true, 901, &r, NULL), CACHE_OK);
    assert_string_equal(get(c, "n", buf, sizeof(buf)), "1000");
    assert_int_equal(cache_delta(c, "n", 1, false, 5000, &r, NULL), CACHE_OK);
    assert_int_equal(r, 0);
    put(c, "w", "18446744073709551615", CACHE_SET);
    assert_int_equal(cache_delta(c, "w", 1, true, 2, &r, NULL), CACHE_OK);
    assert_int_equal(r, 1);
    put(c, "x", "abc", CACHE_SET);
    assert_int_equal(cache_delta(c, "x", 1, true, 1, &r, NULL),
                     CACHE_NON_NUMERIC);
    put(c, "x", "12abc", CACHE_SET);
    assert_int_equal(cache_delta(c, "x", 1, true, 1, &r, NULL),
                     CACHE_NON_NUMERIC);
    put(c, "x", "", CACHE_SET);
    assert_int_equal(cache_delta(c, "x", 1, true, 1, &r, NULL),
                     CACHE_NON_NUMERIC);
    put(c, "x", "-5", CACHE_SET);
    assert_int_equal(cache_delta(c, "x", 1, true, 1, &r, NULL),
                     CACHE_NON_NUMERIC);
    put(c, "x", "18446744073709551616", CACHE_SET);
    assert_int_equal(cache_delta(c, "x", 1, true, 1, &r, NULL),
                     CACHE_NON_NUMERIC);
    put(c, "x", " 7 apples", CACHE_SET);
    assert_int_equal(cache_delta(c, "x", 1, true, 1, &r, NULL), CACHE_OK);
    assert_int_equal(r, 8);
    /* A reader holding the item forces a copy instead of an in-place
     * write, so what it holds does not change under it. */
    put(c, "h", "50", CACHE_SET);
    struct item *held = cache_get(c, "h", 1, NULL, NULL, NULL);
    assert_int_equal(cache_delta(c, "h", 1, true, 1, &r, NULL), CACHE_OK);
    assert_memory_equal(cache_item_value(c, held), "50\r\n", 4);
    cache_release(c, held);
    assert_string_equal(get(c, "h", buf, sizeof(buf)), "51");
}

static void expiry_and_touch(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    char buf[16];
    put_n(c, "t", "v", 1, 0, 10, CACHE_SET, 0);
    put_n(c, "neg", "v", 1, 0, -1, CACHE_SET, 0);
    put_n(c, "abs", "v", 1, 0, T0 + 50, CACHE_SET, 0);
    put_n(c, "past", "v", 1, 0, T0 - 100, CACHE_SET, 0);
    assert_null(get(c, "neg", buf, sizeof(buf)));
    assert_null(get(c, "past", buf, sizeof(buf)));
    assert_non_null(get(c, "t", buf, sizeof(buf)));
    clock_advance(e->clock, 9);
    assert_non_null(get(c, "t", buf, sizeof(buf)));
    assert_int_equal(cache_touch(c, "t", 1, 100, NULL), CACHE_OK);
    clock_advance(e->clock, 50);
    assert_non_null(get(c, "t", buf, sizeof(buf)));
    enum cache_miss why;
    assert_null(cache_get(c, "abs", 3, NULL, &why, NULL));
    assert_int_equal(why, CACHE_MISS_EXPIRED);
    /* gat: get and set a new exptime */
    int64_t soon = 5;
    struct item *it = cache_get(c, "t", 1, &soon, NULL, NULL);
    assert_non_null(it);
    cache_release(c, it);
    clock_advance(e->clock, 5);
    assert_null(cache_get(c, "t", 1, NULL, &why, NULL));
    assert_int_equal(why, CACHE_MISS_EXPIRED);
    assert_null(cache_get(c, "t", 1, NULL, &why, NULL));
    assert_int_equal(why, CACHE_MISS_ABSENT);
    assert_int_equal(cache_touch(c, "t", 1, 100, NULL), CACHE_NOT_FOUND);
}

static void flush_now_and_later(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    char buf[16];
    put(c, "a", "1", CACHE_SET);
    put(c, "b", "1", CACHE_SET);
    cache_flush(c, 0);
    enum cache_miss why;
    assert_null(cache_get(c, "a", 1, NULL, &why, NULL));
    assert_int_equal(why, CACHE_MISS_FLUSHED);
    /* Stored after the flush in the same second: visible. */
    put(c, "c", "1", CACHE_SET);
    assert_non_null(get(c, "c", buf, sizeof(buf)));
    clock_advance(e->clock, 1);
    put(c, "d", "1", CACHE_SET);
    cache_flush(c, 10);
    assert_non_null(get(c, "d", buf, sizeof(buf)));
    /* memcached's arithmetic: with CAS on, a flush delayed by N seconds
     * takes effect after N - 1. */
    clock_advance(e->clock, 8);
    assert_non_null(get(c, "d", buf, sizeof(buf)));
    clock_advance(e->clock, 1);
    assert_null(get(c, "d", buf, sizeof(buf)));
    /* Also memcached's: an item stored in the very second the delayed
     * flush takes effect is flushed too; one stored after is not. */
    put(c, "e", "1", CACHE_SET);
    assert_null(get(c, "e", buf, sizeof(buf)));
    clock_advance(e->clock, 1);
    put(c, "e", "1", CACHE_SET);
    assert_non_null(get(c, "e", buf, sizeof(buf)));
}

static void flush_without_cas(void **state)
{
    (void)state;
    struct env *e = make_env(8 * MiB, true, false);
    char buf[16];
    put(e->cache, "a", "1", CACHE_SET);
    assert_int_equal(cas_of(e->cache, "a"), 0);
    cache_flush(e->cache, 0);
    assert_null(get(e->cache, "a", buf, sizeof(buf)));
    clock_advance(e->clock, 1);
    put(e->cache, "b", "1", CACHE_SET);
    assert_non_null(get(e->cache, "b", buf, sizeof(buf)));
    teardown((void **)&e);
}

static void fill(struct cache *c, int n, int64_t exp, const char *prefix)
{
    char key[32], val[100];
    memset(val, 'v', sizeof(val));
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s%06d", prefix, i);
        put_n(c, key, val, sizeof(val), 0, exp, CACHE_SET, 0);
    }
}

static void evicts_oldest_when_full(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    fill(c, 40000, 0, "k");
    struct cache_stats st;
    cache_stats(c, &st);
    assert_true(st.evictions > 0);
    assert_int_equal(st.curr_items + st.evictions, 40000);
    assert_int_equal(st.total_items, 40000);
    assert_true(slabs_used(cache_slabs(c)) <= 3 * MiB);
    char buf[128];
    assert_null(get(c, "k000000", buf, sizeof(buf)));
    assert_non_null(get(c, "k039999", buf, sizeof(buf)));
    assert_int_equal(st.evicted_unfetched, st.evictions);
    teardown((void **)&e);
}

/* Evictions are heard with what memcached logs of them. */
static void observer_hears_evictions(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    struct events got = {0};
    cache_set_observer(c, collect_event, &got);
    cache_observe(c, CACHE_EVENT_EVICT);
    fill(c, 40000, 0, "k");
    assert_int_equal(got.n, EVENTS_MAX);
    assert_int_equal(got.ev[0].kind, CACHE_EVENT_EVICT);
    assert_int_equal(got.ev[0].ttl, -1);
    assert_false(got.ev[0].fetched);
    assert_int_equal(got.ev[0].nvalue, 100);
    assert_true(got.ev[0].cls > 0);
    teardown((void **)&e);
}

static uint64_t temp_items(struct cache *c)
{
    uint64_t n = 0;
    struct cache_class_stats cs;
    for (unsigned i = 1; i <= cache_nclasses(c); i++) {
        cache_class_stats(c, i, &cs);
        n += cs.seg.items[POLICY_SEG_TEMP];
    }
    return n;
}

/* The TEMP LRU: items stored with at most temp_ttl seconds to live are
 * never evicted; live ones without it are, and once the class holds only
 * TEMP items a store finds no memory. */
static void temp_lru_items_are_never_evicted(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    bool on;
    uint32_t ttl;
    cache_temp_lru(c, &on, &ttl);
    assert_false(on);
    assert_int_equal(ttl, CACHE_TEMP_TTL_DEFAULT);
    fill(c, 100, 10, "before");         /* off: in the policy */
    assert_int_equal(temp_items(c), 0);
    cache_set_temp_lru(c, true, 30);
    fill(c, 1000, 30, "t");             /* 30 s left: TEMP */
    fill(c, 1000, 31, "l");             /* 31 s: the policy's */
    fill(c, 1000, 0, "n");              /* never expires: the policy's */
    assert_int_equal(temp_items(c), 1000);
    char buf[128];
    assert_non_null(get(c, "t000000", buf, sizeof(buf)));   /* a hit */
    fill(c, 40000, 0, "z");             /* evicts all it can */
    struct cache_stats st;
    cache_stats(c, &st);
    assert_true(st.evictions > 0);
    assert_int_equal(temp_items(c), 1000);
    for (int i = 0; i < 1000; i += 111) {
        char key[32];
        snprintf(key, sizeof(key), "t%06d", i);
        assert_non_null(get(c, key, buf, sizeof(buf)));
    }
    assert_null(get(c, "l000000", buf, sizeof(buf)));
    assert_int_equal(cache_delete(c, "t000001", 7, NULL), CACHE_OK);
    assert_int_equal(temp_items(c), 999);
    /* expired: reaped like any other item */
    clock_advance(e->clock, 40);
    for (int i = 0; i < 1000 && cache_maintain(c, 4096); i++)
        ;
    cache_maintain(c, 1u << 20);
    assert_int_equal(temp_items(c), 0);
    teardown((void **)&e);
}

/* A class full of TEMP items has nothing to evict. */
static void temp_lru_full_class_is_out_of_memory(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    cache_set_temp_lru(c, true, 100);
    char key[32], val[100];
    memset(val, 'v', sizeof(val));
    enum cache_status st = CACHE_OK;
    int stored = 0;
    for (int i = 0; i < 100000 && st == CACHE_OK; i++) {
        snprintf(key, sizeof(key), "k%06d", i);
        st = put_n(c, key, val, sizeof(val), 0, 50, CACHE_SET, 0);
        stored += st == CACHE_OK;
    }
    assert_int_equal(st, CACHE_NO_MEMORY);
    assert_int_equal(temp_items(c), (uint64_t)stored);
    cache_set_temp_lru(c, false, 100);
    assert_int_equal(
        put_n(c, "z000000", val, sizeof(val), 0, 50, CACHE_SET, 0),
        CACHE_NO_MEMORY);
    teardown((void **)&e);
}

static void expired_reclaimed_before_live_evicted(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    fill(c, 8000, 0, "live");
    fill(c, 100000, 5, "tmp");
    clock_advance(e->clock, 10);
    struct cache_stats before;
    cache_stats(c, &before);
    fill(c, 2000, 0, "new");
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.evictions, before.evictions);
    assert_true(st.reclaimed >= 2000);
    assert_true(st.expired_unfetched >= 2000);
    teardown((void **)&e);
}

static void no_eviction_means_out_of_memory(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, false, true);
    struct cache *c = e->cache;
    char key[32], val[100];
    memset(val, 'v', sizeof(val));
    int stored = 0;
    enum cache_status st = CACHE_OK;
    for (int i = 0; i < 100000 && st == CACHE_OK; i++) {
        snprintf(key, sizeof(key), "k%06d", i);
        st = put_n(c, key, val, sizeof(val), 0, 0, CACHE_SET, 0);
        stored += st == CACHE_OK;
    }
    assert_int_equal(st, CACHE_NO_MEMORY);
    assert_true(stored > 1000);
    assert_int_equal(cache_count(c), (uint64_t)stored);
    struct cache_stats s;
    cache_stats(c, &s);
    assert_int_equal(s.evictions, 0);
    /* Expired items still make room with eviction off. */
    assert_int_equal(cache_delete(c, "k000000", 7, NULL), CACHE_OK);
    assert_int_equal(put_n(c, "k999999", val, sizeof(val), 0, 0, CACHE_SET, 0),
                     CACHE_OK);
    teardown((void **)&e);
}

static void held_item_survives_delete(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    put(c, "h", "held", CACHE_SET);
    struct item *it = cache_get(c, "h", 1, NULL, NULL, NULL);
    assert_int_equal(cache_delete(c, "h", 1, NULL), CACHE_OK);
    put(c, "h", "new!", CACHE_SET);
    /* ASan would flag a read of a freed chunk here. */
    assert_memory_equal(cache_item_value(c, it), "held\r\n", 6);
    cache_release(c, it);
}

static void reaper_frees_expired_items_untouched(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    fill(c, 100000, 1, "ttl");
    fill(c, 1000, 0, "keep");
    while (cache_maintain(c, 4096)) /* finish the hash table growth */
        ;
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.curr_items, 101000);
    assert_int_equal(st.crawler_reclaimed, 0);
    clock_advance(e->clock, 2);
    for (int i = 0; i < 1000 && cache_maintain(c, 4096); i++)
        ;
    cache_stats(c, &st);
    assert_int_equal(st.curr_items, 1000);
    assert_int_equal(st.crawler_reclaimed, 100000);
    assert_int_equal(st.reclaimed, 100000);
    assert_int_equal(st.expired_unfetched, 100000);
    assert_false(cache_maintain(c, 4096)); /* nothing left: idle */
    char buf[128];
    assert_non_null(get(c, "keep000999", buf, sizeof(buf)));
}

static uint64_t items_checked(struct cache *c)
{
    struct cache_stats st;
    cache_stats(c, &st);
    return st.crawler_items_checked;
}

/* A sweep that finds nothing dead takes one step a clock second, however
 * often the maintainer comes round: at a busy maintainer's pace (a
 * snapshot dump, a growth) it read every item several times a second.
 * The step is REAP_STEP_MAX (65536) buckets: here about half the table. */
static void fruitless_sweep_goes_a_step_a_second(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    fill(c, 100000, 0, "live");
    while (cache_maintain(c, 4096)) /* finish the hash table growth */
        ;
    for (int second = 0; second < 3; second++) {
        uint64_t before = items_checked(c);
        for (int i = 0; i < 50; i++)
            assert_false(cache_maintain(c, 4096));
        /* one step, not 50 (which would read every item 25 times) */
        assert_true(items_checked(c) - before < 100000 * 3 / 4);
        if (second > 0)
            assert_true(items_checked(c) > before);
        clock_advance(e->clock, 1);
    }
    /* a step that finds dead items keeps the pass going */
    fill(c, 1000, 1, "ttl");
    clock_advance(e->clock, 2);
    for (int i = 0; i < 1000 && cache_maintain(c, 4096); i++)
        ;
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.crawler_reclaimed, 1000);
}

/* The maintainer makes memory resident ahead of the pages stores take,
 * and that takes nothing from the limit: no page, no byte. */
static void maintain_takes_no_memory_from_the_limit(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    struct slabs *sl = cache_slabs(c);
    uint64_t used = slabs_used(sl);
    for (int i = 0; i < 10; i++)
        cache_maintain(c, 64);
    assert_int_equal(slabs_pages_total(sl), 0);
    assert_int_equal(slabs_used(sl), used);
    fill(c, 1000, 0, "m");
    uint64_t pages = slabs_pages_total(sl);
    cache_maintain(c, 64);
    assert_int_equal(slabs_pages_total(sl), pages);
    char buf[128];
    assert_non_null(get(c, "m000999", buf, sizeof(buf)));
}

/* However small the budget, a growth ends within 256 calls: a table of
 * millions of buckets must double in seconds, not minutes; within 16 when
 * the items outgrow even the bigger table (here up to 2^16 buckets, which
 * hold 98304 at the load factor). */
static void growth_ends_within_256_calls(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    fill(c, 100000, 0, "g");
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.hash_power, 10);
    for (unsigned power = 11; power <= 17; power++) {
        int calls = 0;
        do {
            cache_maintain(c, 1);
            calls++;
            cache_stats(c, &st);
        } while (st.hash_growing && calls < 5000);
        assert_false(st.hash_growing);
        assert_int_equal(st.hash_power, power);
        assert_true(calls <= (power <= 16 ? 16 : 256));
    }
    char buf[128];
    assert_non_null(get(c, "g099999", buf, sizeof(buf)));
}

/* A cache told how many items are coming makes its table that large at
 * once, unless the limit cannot hold the table: then as asked. */
static void table_sized_for_the_items_expected(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1000000, 1ull << 40};
    const unsigned want[] = {20, 10};
    for (int i = 0; i < 2; i++) {
        struct cache_config cfg;
        cache_config_defaults(&cfg);
        cfg.limit = 64 * MiB;
        cfg.hashpower = 10;
        cfg.expect_items = sizes[i];
        struct clock *clk = clock_create(T0);
        struct cache *c = cache_create(&cfg, clk);
        assert_non_null(c);
        struct cache_stats st;
        cache_stats(c, &st);
        assert_int_equal(st.hash_power, want[i]);
        assert_false(st.hash_growing);
        cache_destroy(&c);
        clock_destroy(&clk);
    }
}

/* A table asked for that the limit cannot hold (memcached does not
 * charge its table to -m, so a memcached hashpower may not fit): the
 * cache starts at the default size rather than not at all. */
static void table_too_large_for_the_limit_starts_small(void **state)
{
    (void)state;
    struct cache_config cfg;
    cache_config_defaults(&cfg);
    cfg.limit = 64 * MiB;
    cfg.hashpower = 25; /* 2^25 buckets: more than the 64 MiB */
    struct clock *clk = clock_create(T0);
    struct cache *c = cache_create(&cfg, clk);
    assert_non_null(c);
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.hash_power, 16);
    assert_true(st.hash_bytes < cfg.limit / 64);
    cache_destroy(&c);
    clock_destroy(&clk);
}

/* A cache of up to 65536 buckets a step, nothing else going on: what
 * expires is reaped within the next clock seconds, as memcached's LRU
 * maintainer does, and counts as reclaimed. */
static void idle_reaper_sweeps_a_small_table_each_second(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    fill(c, 100000, 0, "live"); /* 2^17 buckets: two steps a sweep */
    while (cache_maintain(c, 4096)) /* finish the hash table growth */
        ;
    fill(c, 10, 1, "ttl");
    clock_advance(e->clock, 2);
    for (int second = 0; second < 3; second++) {
        for (int i = 0; i < 20; i++)
            cache_maintain(c, 64);
        clock_advance(e->clock, 1);
    }
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.curr_items, 100000);
    assert_int_equal(st.reclaimed, 10);
    assert_int_equal(st.crawler_reclaimed, 10);
}

static void reaper_frees_flushed_items(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    fill(c, 5000, 0, "f");
    cache_flush(c, 0);
    for (int i = 0; i < 1000 && cache_maintain(c, 4096); i++)
        ;
    assert_int_equal(cache_count(c), 0);
}

/* Big items, each held as a reader would hold it, until a store finds
 * its class with no chunk it may evict: the class has its first page
 * (granted past the limit) and starves. */
struct holds {
    struct item *it[512];
    int n;
};

static void starve_big(struct cache *c, const char *big, size_t nbig,
                       struct holds *h)
{
    char key[32];
    for (h->n = 0; h->n < 512; h->n++) {
        snprintf(key, sizeof(key), "big%03d", h->n);
        enum cache_status st =
            put_n(c, key, big, nbig, 0, 0, CACHE_SET, 0);
        if (st == CACHE_NO_MEMORY)
            break;
        assert_int_equal(st, CACHE_OK);
        h->it[h->n] = cache_get(c, key, strlen(key), NULL, NULL, NULL);
        assert_non_null(h->it[h->n]);
    }
    assert_true(h->n > 0 && h->n < 512);
}

static void unhold(struct cache *c, struct holds *h)
{
    for (int i = 0; i < h->n; i++)
        cache_release(c, h->it[i]);
    h->n = 0;
}

static void starving_class_gets_a_page_moved(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    fill(c, 40000, 0, "small"); /* one class takes every page */
    char big[5000];
    memset(big, 'B', sizeof(big));
    static struct holds h;
    starve_big(c, big, sizeof(big), &h);
    uint64_t before = cache_count(c);
    struct cache_stats st0, st;
    cache_stats(c, &st0);
    for (int i = 0; i < 1000 && cache_maintain(c, 1024); i++)
        ;
    cache_stats(c, &st);
    assert_int_equal(st.slabs_moved, 1);
    assert_false(st.move_running);
    assert_true(cache_count(c) < before); /* the page's items went */
    /* every live item of the page was evicted, and counted as memcached
     * counts them: not in evictions */
    assert_int_equal(st.move_evictions, before - cache_count(c));
    assert_int_equal(st.evictions, st0.evictions);
    assert_int_equal(st.move_busy, 0);
    assert_int_equal(put_n(c, "big", big, sizeof(big), 0, 0, CACHE_SET, 0),
                     CACHE_OK);
    char buf[sizeof(big) + 1];
    assert_non_null(get(c, "big", buf, sizeof(buf)));
    assert_memory_equal(buf, big, sizeof(big));
    /* The old class still works, within its one remaining page. */
    fill(c, 1000, 0, "again");
    assert_non_null(get(c, "again000999", buf, sizeof(buf)));
    /* the limit, and big's first page past it */
    assert_true(slabs_used(cache_slabs(c)) <= 4 * MiB);
    unhold(c, &h);
    teardown((void **)&e);
}

/* Age balancing: one class holds every page with items nobody reads, a
 * second keeps evicting young ones. After the window, the second gets
 * pages, one a clock second, while the first keeps two. Returns the
 * pages moved and those the second class ends with. */
static void shift_workload(bool automove, uint64_t *moved, uint64_t *pages)
{
    struct cache_config cfg;
    cache_config_defaults(&cfg);
    cfg.limit = 8 * MiB;
    cfg.hashpower = 10;
    cfg.automove_window = 3;
    struct clock *clk = clock_create(T0);
    struct cache *c = cache_create(&cfg, clk);
    assert_non_null(c);
    cache_set_automove(c, automove);
    fill(c, 100000, 0, "old"); /* every page */
    clock_advance(clk, 100);
    char big[3000], key[32];
    memset(big, 'B', sizeof(big));
    for (int sec = 0; sec < 15; sec++) {
        for (int i = 0; i < 400; i++) { /* more than a page a second */
            snprintf(key, sizeof(key), "big%02d_%03d", sec, i);
            assert_int_equal(put_n(c, key, big, sizeof(big), 0, 0, CACHE_SET,
                                   0),
                             CACHE_OK);
        }
        for (int i = 0; i < 200 && cache_maintain(c, 1024); i++)
            ;
        clock_advance(clk, 1);
    }
    struct cache_stats st;
    cache_stats(c, &st);
    *moved = st.slabs_moved;
    struct slabs_class_stats ss;
    slabs_class_stats(cache_slabs(c),
                      cache_class_of(c, strlen(key), sizeof(big), 0), &ss);
    *pages = ss.pages;
    cache_destroy(&c);
    clock_destroy(&clk);
}

/* Pages of a class emptied by flush_all go to a class that evicts, one a
 * clock second from the first, without waiting for the window. */
static void flushed_pages_go_where_evictions_are(void **state)
{
    struct env *e = make_env(8 * MiB, true, true); /* window 30 */
    (void)state;
    struct cache *c = e->cache;
    fill(c, 100000, 0, "old"); /* every page */
    cache_flush(c, 0);
    for (int i = 0; i < 1000 && cache_maintain(c, 4096); i++) /* reap */
        ;
    char big[3000], key[32];
    memset(big, 'B', sizeof(big));
    for (int sec = 0; sec < 6; sec++) {
        for (int i = 0; i < 400; i++) {
            snprintf(key, sizeof(key), "big%02d_%03d", sec, i);
            put_n(c, key, big, sizeof(big), 0, 0, CACHE_SET, 0);
        }
        for (int i = 0; i < 200 && cache_maintain(c, 1024); i++)
            ;
        clock_advance(e->clock, 1);
    }
    struct cache_stats st;
    cache_stats(c, &st);
    assert_true(st.slabs_moved >= 4);
    assert_int_equal(st.move_evictions, 0);
    teardown((void **)&e);
}

static void automove_balances_victim_ages(void **state)
{
    (void)state;
    uint64_t moved, pages;
    shift_workload(true, &moved, &pages);
    assert_true(moved >= 3);
    assert_true(pages >= 4);
    shift_workload(false, &moved, &pages);
    assert_int_equal(moved, 0);
    assert_int_equal(pages, 1); /* its first page, past the limit */
}

static void held_item_delays_a_page_move(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    fill(c, 40000, 0, "small");
    /* Hold every item a reader could: the move must wait for them. */
    static struct item *held[40000];
    char key[32];
    int nheld = 0;
    for (int i = 0; i < 40000; i++) {
        snprintf(key, sizeof(key), "small%06d", i);
        struct item *it = cache_get(c, key, strlen(key), NULL, NULL, NULL);
        if (it != NULL)
            held[nheld++] = it;
    }
    char big[5000] = {0};
    static struct holds h;
    starve_big(c, big, sizeof(big), &h);
    for (int i = 0; i < 50; i++)
        cache_maintain(c, 1024);
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.slabs_moved, 0);
    assert_true(st.move_running);
    assert_true(st.move_busy > 0);
    for (int i = 0; i < nheld; i++)
        cache_release(c, held[i]);
    for (int i = 0; i < 1000 && cache_maintain(c, 1024); i++)
        ;
    cache_stats(c, &st);
    assert_int_equal(st.slabs_moved, 1);
    assert_int_equal(put_n(c, "big", big, sizeof(big), 0, 0, CACHE_SET, 0),
                     CACHE_OK);
    unhold(c, &h);
    teardown((void **)&e);
}

/* Without automove a class that finds no memory gets none moved to it. */
static void automove_off_moves_nothing(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    assert_true(cache_automove(c));
    cache_set_automove(c, false);
    fill(c, 40000, 0, "small");
    char big[5000];
    memset(big, 'B', sizeof(big));
    static struct holds h;
    starve_big(c, big, sizeof(big), &h);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(put_n(c, "big", big, sizeof(big), 0, 0, CACHE_SET,
                               0), CACHE_NO_MEMORY);
        for (int i = 0; i < 100; i++)
            cache_maintain(c, 1024);
    }
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.slabs_moved, 0);
    cache_set_automove(c, true); /* and on again, the next miss moves one */
    assert_int_equal(put_n(c, "big", big, sizeof(big), 0, 0, CACHE_SET, 0),
                     CACHE_NO_MEMORY);
    for (int i = 0; i < 1000 && cache_maintain(c, 1024); i++)
        ;
    cache_stats(c, &st);
    assert_int_equal(st.slabs_moved, 1);
    unhold(c, &h);
    teardown((void **)&e);
}

/* stats reset: the counters start again, the contents stay, and the
 * change count a snapshot goes by only grows. */
static void stats_reset_zeroes_counters_not_contents(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    fill(c, 40000, 0, "small"); /* evicts */
    struct cache_stats before;
    cache_stats(c, &before);
    assert_true(before.evictions > 0 && before.total_items == 40000);
    uint64_t changes = cache_changes(c);
    cache_stats_reset(c);
    struct cache_stats after;
    cache_stats(c, &after);
    assert_int_equal(after.evictions, 0);
    assert_int_equal(after.total_items, 0);
    assert_int_equal(after.evicted_unfetched, 0);
    assert_int_equal(after.slabs_moved, 0);
    assert_int_equal(after.curr_items, before.curr_items);
    assert_int_equal(after.bytes, before.bytes);
    assert_true(cache_changes(c) >= changes);
    for (unsigned cls = 1; cls <= cache_nclasses(c); cls++) {
        struct cache_class_stats cs;
        cache_class_stats(c, cls, &cs);
        assert_int_equal(cs.evictions, 0);
    }
    fill(c, 10, 0, "again");
    cache_stats(c, &after);
    assert_int_equal(after.total_items, 10);
    assert_true(cache_changes(c) > changes);
    teardown((void **)&e);
}

/* lru mode flat: no shares until segmented again, which brings back the
 * ones set meanwhile; the shares read back are the tuned ones. */
static void lru_flat_and_back(void **state)
{
    (void)state;
    struct cache_config cfg;
    cache_config_defaults(&cfg);
    cfg.limit = 8 * MiB;
    cfg.policy = "lru";
    struct clock *clk = clock_create(1000);
    struct cache *c = cache_create(&cfg, clk);
    assert_non_null(c);
    fill(c, 300, 0, "f");
    cache_set_lru_flat(c, true);
    assert_true(cache_lru_flat(c));
    cache_set_lru_shares(c, 50, 30);
    for (int i = 0; i < 100 && cache_maintain(c, 4096); i++)
        ;
    struct cache_class_stats cs;
    unsigned cls = 0;
    for (unsigned i = 1; i <= cache_nclasses(c) && cls == 0; i++) {
        cache_class_stats(c, i, &cs);
        if (cs.items > 0)
            cls = i;
    }
    assert_int_equal(cs.seg.items[POLICY_SEG_HOT], 0);
    assert_int_equal(cs.seg.items[POLICY_SEG_COLD], 300);
    unsigned hot, warm;
    cache_lru_shares(c, &hot, &warm);
    assert_int_equal(hot, 50);
    assert_int_equal(warm, 30);
    cache_set_lru_flat(c, false);
    fill(c, 300, 0, "g"); /* new items stay in HOT up to its share */
    for (int i = 0; i < 100 && cache_maintain(c, 4096); i++)
        ;
    cache_class_stats(c, cls, &cs);
    assert_true(cs.seg.items[POLICY_SEG_HOT] > 0);
    assert_true(cs.seg.items[POLICY_SEG_HOT] <= cs.items / 2);
    cache_destroy(&c);
    clock_destroy(&clk);
}

/* "slabs reassign": a page moved on request, and the refusals. */
static void requested_move(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    fill(c, 40000, 0, "small"); /* one class takes every page */
    unsigned src = 0, dst = 0;
    for (unsigned cls = 1; cls <= cache_nclasses(c); cls++) {
        struct cache_class_stats cs;
        cache_class_stats(c, cls, &cs);
        if (cs.pages >= 2)
            src = cls;
        else if (cs.pages == 0 && dst == 0 && cls > src && src != 0)
            dst = cls;
    }
    assert_int_not_equal(src, 0);
    assert_int_not_equal(dst, 0);
    assert_int_equal(cache_request_move(c, src, src), CACHE_MOVE_SAME);
    assert_int_equal(cache_request_move(c, 0, dst), CACHE_MOVE_BADCLASS);
    assert_int_equal(cache_request_move(c, src, cache_nclasses(c) + 1),
                     CACHE_MOVE_BADCLASS);
    assert_int_equal(cache_request_move(c, dst, src), CACHE_MOVE_NOSPARE);
    assert_int_equal(cache_request_move(c, src, dst), CACHE_MOVE_OK);
    assert_int_equal(cache_request_move(c, src, dst), CACHE_MOVE_BUSY);
    cache_set_automove(c, false); /* a request does not need automove */
    for (int i = 0; i < 1000 && cache_maintain(c, 1024); i++)
        ;
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.slabs_moved, 1);
    struct cache_class_stats cs;
    cache_class_stats(c, dst, &cs);
    assert_int_equal(cs.pages, 1);
    teardown((void **)&e);
}

/* The CAS, client flags and value of key, which must be there. */
static uint64_t cas_and_flags(struct cache *c, const char *key,
                              uint32_t *flags)
{
    struct item *it = cache_get(c, key, strlen(key), NULL, NULL, NULL);
    assert_non_null(it);
    struct cache_item_view v;
    cache_item_view(c, it, &v);
    *flags = v.flags;
    assert_int_equal(v.nbytes, 102);
    uint64_t cas = v.cas;
    cache_release(c, it);
    return cas;
}

/* A page moved from a class with free chunks elsewhere: its live items
 * are copied there (memcached's rescue), CAS and flags kept, none lost. */
static void page_move_rescues_live_items(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, true, true);
    struct cache *c = e->cache;
    char key[32], val[100];
    memset(val, 'r', sizeof(val));
    for (int i = 0; i < 10000; i++) { /* two pages, most of them */
        snprintf(key, sizeof(key), "r%06d", i);
        assert_int_equal(put_n(c, key, val, sizeof(val), (uint32_t)i, 0,
                               CACHE_SET, 0),
                         CACHE_OK);
    }
    for (int i = 0; i < 10000; i += 2) { /* half of every page free */
        snprintf(key, sizeof(key), "r%06d", i);
        assert_int_equal(cache_delete(c, key, strlen(key), NULL), CACHE_OK);
    }
    uint32_t flags;
    uint64_t cas_before = cas_and_flags(c, "r000001", &flags);
    unsigned src = cache_class_of(c, 7, sizeof(val), 0), dst = src + 3;
    assert_int_equal(cache_request_move(c, src, dst), CACHE_MOVE_OK);
    for (int i = 0; i < 1000 && cache_maintain(c, 1024); i++)
        ;
    struct cache_stats st;
    cache_stats(c, &st);
    assert_int_equal(st.slabs_moved, 1);
    assert_true(st.move_rescues > 0);
    assert_int_equal(st.move_evictions, 0);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(cache_count(c), 5000);
    for (int i = 1; i < 10000; i += 2) {
        snprintf(key, sizeof(key), "r%06d", i);
        char buf[128];
        assert_non_null(get(c, key, buf, sizeof(buf)));
        assert_memory_equal(buf, val, sizeof(val));
    }
    assert_int_equal(cas_and_flags(c, "r000001", &flags), cas_before);
    assert_int_equal(flags, 1);
    teardown((void **)&e);
}

/* The figure for the issue note: 32-byte keys, 100-byte values, 64 MiB. */
static void items_per_64_mib(void **state)
{
    (void)state;
    struct env *e = make_env(64 * MiB, true, true);
    struct cache *c = e->cache;
    char key[33], val[100];
    memset(val, 'v', sizeof(val));
    struct cache_stats st = {0};
    for (int i = 0; i < 2000000 && st.evictions == 0; i++) {
        snprintf(key, sizeof(key), "%032d", i);
        assert_int_equal(put_n(c, key, val, sizeof(val), 0, 0, CACHE_SET, 0),
                         CACHE_OK);
        if (i % 1024 == 0)
            while (cache_maintain(c, 1024))
                ;
        if (i % 64 == 0)
            cache_stats(c, &st);
    }
    cache_stats(c, &st);
    printf("# items in 64 MiB (32-byte keys, 100-byte values): %llu, "
           "hash %llu bytes\n", (unsigned long long)st.curr_items,
           (unsigned long long)st.hash_bytes);
    /* memcached 1.6.18 -m 64 holds about 349k items of this shape. */
    assert_true(st.curr_items > 350000);
    assert_true(slabs_used(cache_slabs(c)) <= 64 * MiB);
    teardown((void **)&e);
}

struct scan_seen {
    unsigned items;
    unsigned fetched;
    bool saw_dead;
    time_t foo_expires;
    uint32_t foo_flags;
};

static void note_scanned(const struct cache_item_info *info, void *arg)
{
    struct scan_seen *s = arg;
    s->items++;
    s->fetched += info->fetched;
    if (info->view.nkey == 4 && memcmp(info->view.key, "dead", 4) == 0)
        s->saw_dead = true;
    if (info->view.nkey == 3 && memcmp(info->view.key, "foo", 3) == 0) {
        s->foo_expires = info->expires;
        s->foo_flags = info->view.flags;
        assert_memory_equal(info->view.value, "bar\r\n", 5);
        assert_true(info->total > 5 && info->cls >= 1);
    }
}

/* A scan sees every live item once, with its metadata, and skips dead
 * ones. */
static void scan_reports_live_items(void **state)
{
    struct env *e = *state;
    assert_int_equal(put_n(e->cache, "foo", "bar", 3, 7, 100, CACHE_SET, 0),
                     CACHE_OK);
    assert_int_equal(put_n(e->cache, "dead", "x", 1, 0, -1, CACHE_SET, 0),
                     CACHE_OK);
    char key[32], buf[16];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(put(e->cache, key, "v", CACHE_SET), CACHE_OK);
    }
    assert_non_null(get(e->cache, "foo", buf, sizeof(buf)));
    struct scan_seen seen = {0};
    uint64_t cursor = 0;
    for (int steps = 0; !cache_scan_step(e->cache, &cursor, 3, note_scanned,
                                         &seen); steps++)
        assert_true(steps < 100000);
    assert_int_equal(seen.items, 501);
    assert_int_equal(seen.fetched, 1);
    assert_false(seen.saw_dead);
    assert_int_equal(seen.foo_flags, 7);
    assert_int_equal(seen.foo_expires, clock_wall(e->clock) + 100);
}

static enum cache_status restore(struct cache *c, const char *key,
                                 const char *val, time_t expires,
                                 uint64_t cas)
{
    struct cache_restore_item r = {
        .key = key, .nkey = strlen(key), .value = val, .nvalue = strlen(val),
        .flags = 42, .expires = expires, .cas = cas,
    };
    return cache_restore(c, &r);
}

/* Restored items keep their CAS and absolute expiry; expired ones and
 * keys already present are skipped; new CAS values go above them. */
static void restore_keeps_cas_and_expiry(void **state)
{
    struct env *e = *state;
    time_t now = clock_wall(e->clock);
    assert_int_equal(restore(e->cache, "a", "alpha", 0, 1000), CACHE_OK);
    assert_int_equal(restore(e->cache, "b", "beta", now + 50, 7), CACHE_OK);
    assert_int_equal(restore(e->cache, "gone", "x", now - 5, 8),
                     CACHE_NOT_STORED);
    assert_int_equal(restore(e->cache, "a", "again", 0, 9), CACHE_NOT_STORED);
    char buf[16];
    assert_string_equal(get(e->cache, "a", buf, sizeof(buf)), "alpha");
    assert_null(get(e->cache, "gone", buf, sizeof(buf)));
    struct item *it = cache_get(e->cache, "b", 1, NULL, NULL, NULL);
    assert_non_null(it);
    struct cache_item_view v;
    cache_item_view(e->cache, it, &v);
    assert_int_equal(v.cas, 7);
    assert_int_equal(v.flags, 42);
    cache_release(e->cache, it);
    assert_int_equal(put(e->cache, "c", "new", CACHE_SET), CACHE_OK);
    it = cache_get(e->cache, "c", 1, NULL, NULL, NULL);
    cache_item_view(e->cache, it, &v);
    assert_true(v.cas > 1000);
    cache_release(e->cache, it);
    /* a cas against the restored value works as before the restart */
    assert_int_equal(put_n(e->cache, "a", "new", 3, 0, 0, CACHE_CAS, 1000),
                     CACHE_OK);
    clock_advance(e->clock, 60);
    assert_null(get(e->cache, "b", buf, sizeof(buf)));
    assert_non_null(get(e->cache, "a", buf, sizeof(buf)));
}

/* The chunks of a class in use. */
static uint64_t used_chunks_of(struct cache *c, unsigned cls)
{
    struct cache_class_stats cs;
    cache_class_stats(c, cls, &cs);
    return cs.used_chunks;
}

/* A restored item is held by the table alone: deleted, its chunk is free
 * again; one refused (the key is there) is given back at once. */
static void restored_items_hold_one_reference(void **state)
{
    struct env *e = *state;
    unsigned cls = cache_class_of(e->cache, 1, 5, 42);
    assert_int_equal(restore(e->cache, "r", "alpha", 0, 77), CACHE_OK);
    assert_int_equal(used_chunks_of(e->cache, cls), 1);
    assert_int_equal(restore(e->cache, "r", "omega", 0, 78),
                     CACHE_NOT_STORED);
    assert_int_equal(used_chunks_of(e->cache, cls), 1);
    assert_int_equal(restore(e->cache, "s", "fresh", 0, 0), CACHE_OK);
    struct item *it = cache_get(e->cache, "s", 1, NULL, NULL, NULL);
    struct cache_item_view v;
    cache_item_view(e->cache, it, &v);
    assert_true(v.cas > 77); /* no CAS in the record: a fresh one */
    cache_release(e->cache, it);
    assert_int_equal(cache_delete(e->cache, "r", 1, NULL), CACHE_OK);
    assert_int_equal(cache_delete(e->cache, "s", 1, NULL), CACHE_OK);
    assert_int_equal(used_chunks_of(e->cache, cls), 0);
}

/* A batch restores exactly what one-by-one restores would: a key twice
 * in one batch is stored once (the first), expired and oversized records
 * are skipped, and every status lands in its own slot. */
static void restore_batch_matches_single(void **state)
{
    struct env *e = *state;
    time_t now = clock_wall(e->clock);
    static char big[2 * 1024 * 1024];
    memset(big, 'b', sizeof(big));
    char keys[CACHE_RESTORE_BATCH][16];
    struct cache_restore_item r[CACHE_RESTORE_BATCH];
    enum cache_status st[CACHE_RESTORE_BATCH];
    for (int i = 0; i < CACHE_RESTORE_BATCH; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        r[i] = (struct cache_restore_item){
            .key = keys[i], .nkey = strlen(keys[i]),
            .value = keys[i], .nvalue = strlen(keys[i]),
            .flags = (uint32_t)i, .cas = 100 + (uint64_t)i,
        };
    }
    r[3].key = "k1";                 /* same key as r[1]: not stored */
    r[3].nkey = 2;
    r[5].expires = now - 1;          /* expired while down */
    r[7].value = big;                /* larger than any chunk */
    r[7].nvalue = sizeof(big);
    cache_restore_batch(e->cache, r, CACHE_RESTORE_BATCH, st);
    for (int i = 0; i < CACHE_RESTORE_BATCH; i++) {
        enum cache_status want = i == 3 || i == 5 ? CACHE_NOT_STORED
                                 : i == 7        ? CACHE_TOO_LARGE
                                                 : CACHE_OK;
        assert_int_equal(st[i], want);
    }
    char buf[16];
    assert_string_equal(get(e->cache, "k1", buf, sizeof(buf)), "k1");
    assert_string_equal(get(e->cache, "k15", buf, sizeof(buf)), "k15");
    assert_null(get(e->cache, "k5", buf, sizeof(buf)));
    assert_null(get(e->cache, "k7", buf, sizeof(buf)));
    struct item *it = cache_get(e->cache, "k9", 2, NULL, NULL, NULL);
    assert_non_null(it);
    struct cache_item_view v;
    cache_item_view(e->cache, it, &v);
    assert_int_equal(v.cas, 109);
    assert_int_equal(v.flags, 9);
    cache_release(e->cache, it);
    struct cache_stats cs;
    cache_stats(e->cache, &cs);
    assert_int_equal(cs.curr_items, CACHE_RESTORE_BATCH - 3);
    /* an empty batch is a no-op */
    cache_restore_batch(e->cache, r, 0, st);
    cache_stats(e->cache, &cs);
    assert_int_equal(cs.curr_items, CACHE_RESTORE_BATCH - 3);
}

/* cache_changes() moves on every change a snapshot would hold, and only
 * then: the periodic snapshot is skipped while it stands still. */
static void changes_track_every_kind_of_change(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    char buf[16];
    uint64_t last = cache_changes(c);
#define CHANGED(what)                                                         \
    do {                                                                      \
        what;                                                                 \
        assert_true(cache_changes(c) > last);                                 \
        last = cache_changes(c);                                              \
    } while (0)
    CHANGED(assert_int_equal(put(c, "a", "1", CACHE_SET), CACHE_OK));
    CHANGED(assert_int_equal(put(c, "a", "2", CACHE_SET), CACHE_OK));
    CHANGED(assert_int_equal(cache_touch(c, "a", 1, 100, NULL), CACHE_OK));
    uint64_t v;
    CHANGED(assert_int_equal(cache_delta(c, "a", 1, true, 1, &v, NULL),
                             CACHE_OK));
    CHANGED(assert_int_equal(cache_delete(c, "a", 1, NULL), CACHE_OK));
    CHANGED(cache_flush(c, 0));
#undef CHANGED
    /* reads and misses change nothing */
    assert_null(get(c, "a", buf, sizeof(buf)));
    assert_int_equal(cache_delete(c, "a", 1, NULL), CACHE_NOT_FOUND);
    assert_int_equal(cache_changes(c), last);
}

/* A restored item meets the -I limit a set meets, so a snapshot taken
 * with a larger -I brings back nothing a client could not store now. */
static void restore_meets_the_set_limit(void **state)
{
    struct env *e = *state;
    static char val[MiB];
    memset(val, 'v', sizeof(val));
    /* memcached's count: 56-byte header with CAS, key, NUL, value, CRLF */
    size_t most = MiB - 56 - 3 - 1 - 2;
    struct cache_restore_item r = {.key = "big", .nkey = 3, .value = val,
                                   .nvalue = most + 1, .cas = 5};
    assert_int_equal(cache_restore(e->cache, &r), CACHE_TOO_LARGE);
    r.nvalue = most;
    assert_int_equal(cache_restore(e->cache, &r), CACHE_OK);
    assert_true(cache_exists(e->cache, "big", 3));
}

/* cache_class_of() names the class a restore of the same record takes,
 * and 0 where the restore is CACHE_TOO_LARGE. A class that finds no
 * memory leaves the free chunks of the others usable: a load goes on
 * filling them. */
static void class_of_names_each_restore_class(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, false, true);
    static char val[MiB];
    memset(val, 'v', sizeof(val));
    char key[16];
    struct cache_restore_item r = {.key = key, .value = val};
    unsigned small = cache_class_of(e->cache, 2, 10, 0);
    unsigned large = cache_class_of(e->cache, 2, 100000, 0);
    assert_true(small > 0 && large > small);
    assert_int_equal(cache_class_of(e->cache, 2, 100000, 1), large);
    assert_int_equal(cache_class_of(e->cache, 2, MiB, 0), 0);
    assert_int_equal(cache_class_of(e->cache, 251, 10, 0), 0);
    /* the small class takes a page first, then the large one takes the
     * rest until it finds no memory */
    r.nkey = (size_t)snprintf(key, sizeof(key), "s0");
    r.nvalue = 10;
    assert_int_equal(cache_restore(e->cache, &r), CACHE_OK);
    unsigned cls = 0;
    assert_int_equal(cache_touch(e->cache, key, r.nkey, 0, &cls), CACHE_OK);
    assert_int_equal(cls, small);
    r.nvalue = 100000;
    enum cache_status st = CACHE_OK;
    int n = 0;
    for (; n < 100 && st == CACHE_OK; n++) {
        r.nkey = (size_t)snprintf(key, sizeof(key), "L%d", n);
        st = cache_restore(e->cache, &r);
    }
    assert_int_equal(st, CACHE_NO_MEMORY);
    assert_true(n > 2);
    r.nkey = (size_t)snprintf(key, sizeof(key), "L0");
    assert_int_equal(cache_touch(e->cache, key, r.nkey, 0, &cls), CACHE_OK);
    assert_int_equal(cls, large);
    /* the small class still has room */
    r.nvalue = 10;
    for (int i = 1; i < 100; i++) {
        r.nkey = (size_t)snprintf(key, sizeof(key), "s%d", i);
        assert_int_equal(cache_restore(e->cache, &r), CACHE_OK);
    }
    cache_destroy(&e->cache);
    clock_destroy(&e->clock);
}

/* A batch takes its chunks a run of one class at a time: the records of
 * a class that runs out mid-batch get CACHE_NO_MEMORY and leave no chunk
 * behind, while the classes around them go on as one by one would. */
static void restore_batch_runs_out_within_a_class(void **state)
{
    (void)state;
    struct env *e = make_env(3 * MiB, false, true);
    static char val[100000];
    memset(val, 'v', sizeof(val));
    char keys[CACHE_RESTORE_BATCH][16];
    struct cache_restore_item r[CACHE_RESTORE_BATCH];
    enum cache_status st[CACHE_RESTORE_BATCH];
    /* 0-9 small, 10-39 large (more than the limit holds), then small and
     * large in turn */
    for (int i = 0; i < CACHE_RESTORE_BATCH; i++) {
        bool large = (i >= 10 && i < 40) || (i >= 40 && i % 2 == 1);
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        r[i] = (struct cache_restore_item){
            .key = keys[i], .nkey = strlen(keys[i]),
            .value = val, .nvalue = large ? sizeof(val) : 10,
        };
    }
    unsigned large_cls = cache_class_of(e->cache, 3, sizeof(val), 0);
    cache_restore_batch(e->cache, r, CACHE_RESTORE_BATCH, st);
    int ok_large = 0, first_out = -1;
    for (int i = 0; i < CACHE_RESTORE_BATCH; i++) {
        if (r[i].nvalue == 10) {
            assert_int_equal(st[i], CACHE_OK);
            continue;
        }
        if (st[i] == CACHE_OK) {
            assert_int_equal(first_out, -1); /* none after the first out */
            ok_large++;
        } else {
            assert_int_equal(st[i], CACHE_NO_MEMORY);
            if (first_out < 0)
                first_out = i;
        }
    }
    assert_true(ok_large >= 2 && first_out > 10 && first_out < 40);
    assert_int_equal(used_chunks_of(e->cache, large_cls), ok_large);
    struct cache_stats cs;
    cache_stats(e->cache, &cs);
    assert_int_equal(cs.curr_items, 10 + 12 + ok_large);
    char buf[16];
    assert_null(get(e->cache, "k63", buf, sizeof(buf)));
    assert_string_equal(get(e->cache, "k62", buf, sizeof(buf)), "vvvvvvvvvv");
    assert_string_equal(get(e->cache, "k0", buf, sizeof(buf)), "vvvvvvvvvv");
    cache_destroy(&e->cache);
    clock_destroy(&e->clock);
}

/* cache_clear() takes every item out at once, except one a reader holds,
 * and the cache works as before afterwards. */
static void clear_unlinks_everything_not_held(void **state)
{
    struct env *e = *state;
    char key[16], buf[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        assert_int_equal(restore(e->cache, key, "v", 0, 10 + (uint64_t)i),
                         CACHE_OK);
    }
    struct item *held = cache_get(e->cache, "c7", 2, NULL, NULL, NULL);
    assert_non_null(held);
    cache_clear(e->cache);
    struct cache_stats cs;
    cache_stats(e->cache, &cs);
    assert_int_equal(cs.curr_items, 1);
    assert_null(get(e->cache, "c8", buf, sizeof(buf)));
    cache_release(e->cache, held);
    assert_int_equal(put(e->cache, "c8", "new", CACHE_SET), CACHE_OK);
    assert_string_equal(get(e->cache, "c8", buf, sizeof(buf)), "new");
}

/* Restoring never evicts: it stops at the limit. */
static void restore_stops_at_the_limit(void **state)
{
    (void)state;
    struct env *e = make_env(4 * MiB, true, true);
    char key[32], val[1000];
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    int stored = 0;
    enum cache_status st = CACHE_OK;
    for (int i = 0; i < 100000 && st == CACHE_OK; i++) {
        snprintf(key, sizeof(key), "r%d", i);
        st = restore(e->cache, key, val, 0, (uint64_t)i + 1);
        stored += st == CACHE_OK;
    }
    assert_int_equal(st, CACHE_NO_MEMORY);
    assert_true(stored > 1000 && stored < 4200);
    struct cache_stats cs;
    cache_stats(e->cache, &cs);
    assert_int_equal(cs.evictions, 0);
    assert_int_equal(cs.curr_items, (uint64_t)stored);
    /* the first one is still there: nothing was evicted for the rest */
    char buf[1000];
    assert_non_null(get(e->cache, "r0", buf, sizeof(buf)));
    teardown((void **)&e);
}

/* stats items figures by segment: whatever the policy, the segments add
 * up to the class's items; lru puts new items in HOT, a policy without
 * segments reports them all COLD. A view names the item's class and
 * segment. */
static void class_segments_add_up(void **state)
{
    (void)state;
    static const char *const policies[] = {"lru", "sieve", "lfu", "fifo",
                                           "random"};
    for (size_t p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
        struct cache_config cfg;
        cache_config_defaults(&cfg);
        cfg.policy = policies[p];
        struct clock *clk = clock_create(T0);
        struct cache *c = cache_create(&cfg, clk);
        assert_non_null(c);
        char key[16];
        for (int i = 0; i < 20; i++) {
            snprintf(key, sizeof(key), "seg%d", i);
            assert_int_equal(put(c, key, "v", CACHE_SET), CACHE_OK);
        }
        struct item *it = cache_get(c, "seg0", 4, NULL, NULL, NULL);
        assert_non_null(it);
        struct cache_item_view v;
        cache_item_view(c, it, &v);
        cache_release(c, it);
        bool lru = strcmp(policies[p], "lru") == 0;
        assert_int_equal(v.seg, lru ? POLICY_SEG_HOT : POLICY_SEG_COLD);
        struct cache_class_stats cs;
        cache_class_stats(c, v.cls, &cs);
        assert_int_equal(cs.items, 20);
        uint64_t sum = 0;
        for (int s = 0; s < POLICY_NSEGS; s++)
            sum += cs.seg.items[s];
        assert_int_equal(sum, cs.items);
        assert_int_equal(cs.seg.items[lru ? POLICY_SEG_HOT : POLICY_SEG_COLD],
                         20);
        /* random keeps no order, so it cannot tell its oldest. */
        bool knows_age = strcmp(policies[p], "random") != 0;
        assert_int_equal(cs.seg.tail_atime[lru ? POLICY_SEG_HOT
                                               : POLICY_SEG_COLD],
                         knows_age ? clock_now(clk) : 0);
        cache_destroy(&c);
        clock_destroy(&clk);
    }
}

/* store, delete, touch and delta name the class of the item they found
 * (0 when none), for the daemon's per-class counters. */
static void operations_report_the_class_hit(void **state)
{
    struct env *e = *state;
    struct cache *c = e->cache;
    assert_int_equal(put(c, "n", "1", CACHE_SET), CACHE_OK);
    struct item *it = cache_get(c, "n", 1, NULL, NULL, NULL);
    struct cache_item_view v;
    cache_item_view(c, it, &v);
    cache_release(c, it);
    assert_true(v.cls >= 1 && v.cls <= cache_nclasses(c));
    unsigned cls = 99;
    uint64_t r;
    assert_int_equal(cache_delta(c, "n", 1, true, 1, &r, &cls), CACHE_OK);
    assert_int_equal(cls, v.cls);
    cls = 99;
    assert_int_equal(cache_touch(c, "n", 1, 0, &cls), CACHE_OK);
    assert_int_equal(cls, v.cls);
    /* A cas against the item names its class, hit or stale. */
    struct item *fresh;
    char big[2000];
    memset(big, 'b', sizeof(big));
    assert_int_equal(cache_alloc(c, "n", 1, 0, 0, sizeof(big), &fresh),
                     CACHE_OK);
    memcpy(cache_item_value(c, fresh), big, sizeof(big));
    cls = 99;
    assert_int_equal(cache_store(c, fresh, CACHE_CAS, 0, &cls), CACHE_EXISTS);
    assert_int_equal(cls, v.cls);
    cls = 99;
    assert_int_equal(cache_store(c, fresh, CACHE_CAS, cas_of(c, "n"), &cls),
                     CACHE_OK);
    assert_int_equal(cls, v.cls);
    cache_item_view(c, fresh, &v);
    cache_release(c, fresh);
    cls = 99;
    assert_int_equal(cache_delete(c, "n", 1, &cls), CACHE_OK);
    assert_int_equal(cls, v.cls); /* the big item's class now */
    cls = 99;
    assert_int_equal(cache_delete(c, "n", 1, &cls), CACHE_NOT_FOUND);
    assert_int_equal(cls, 0);
    cls = 99;
    assert_int_equal(cache_touch(c, "n", 1, 0, &cls), CACHE_NOT_FOUND);
    assert_int_equal(cls, 0);
    cls = 99;
    assert_int_equal(cache_delta(c, "n", 1, true, 1, &r, &cls),
                     CACHE_NOT_FOUND);
    assert_int_equal(cls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(set_get_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(store_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(cas_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(incr_decr, setup, teardown),
        cmocka_unit_test_setup_teardown(incr_refuses_what_memcached_chunks,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(size_histogram_follows_links, setup,
                                        teardown),
        cmocka_unit_test(size_histogram_needs_cas),
        cmocka_unit_test_setup_teardown(observer_hears_what_it_asks_for,
                                        setup, teardown),
        cmocka_unit_test(observer_hears_evictions),
        cmocka_unit_test(temp_lru_items_are_never_evicted),
        cmocka_unit_test(temp_lru_full_class_is_out_of_memory),
        cmocka_unit_test_setup_teardown(expiry_and_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(flush_now_and_later, setup, teardown),
        cmocka_unit_test(flush_without_cas),
        cmocka_unit_test(evicts_oldest_when_full),
        cmocka_unit_test(expired_reclaimed_before_live_evicted),
        cmocka_unit_test(no_eviction_means_out_of_memory),
        cmocka_unit_test_setup_teardown(held_item_survives_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(reaper_frees_expired_items_untouched,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(maintain_takes_no_memory_from_the_limit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(fruitless_sweep_goes_a_step_a_second,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            idle_reaper_sweeps_a_small_table_each_second, setup, teardown),
        cmocka_unit_test_setup_teardown(reaper_frees_flushed_items, setup,
                                        teardown),
        cmocka_unit_test(starving_class_gets_a_page_moved),
        cmocka_unit_test(automove_balances_victim_ages),
        cmocka_unit_test(flushed_pages_go_where_evictions_are),
        cmocka_unit_test(held_item_delays_a_page_move),
        cmocka_unit_test(automove_off_moves_nothing),
        cmocka_unit_test(requested_move),
        cmocka_unit_test(page_move_rescues_live_items),
        cmocka_unit_test(lru_flat_and_back),
        cmocka_unit_test(stats_reset_zeroes_counters_not_contents),
        cmocka_unit_test(items_per_64_mib),
        cmocka_unit_test_setup_teardown(scan_reports_live_items, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(restored_items_hold_one_reference,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(restore_keeps_cas_and_expiry, setup,
                                        teardown),
        cmocka_unit_test(restore_stops_at_the_limit),
        cmocka_unit_test_setup_teardown(clear_unlinks_everything_not_held,
                                        setup, teardown),
        cmocka_unit_test(class_of_names_each_restore_class),
        cmocka_unit_test(restore_batch_runs_out_within_a_class),
        cmocka_unit_test_setup_teardown(restore_meets_the_set_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(restore_batch_matches_single, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(changes_track_every_kind_of_change,
                                        setup, teardown),
        cmocka_unit_test(class_segments_add_up),
        cmocka_unit_test(table_sized_for_the_items_expected),
        cmocka_unit_test(table_too_large_for_the_limit_starts_small),
        cmocka_unit_test_setup_teardown(growth_ends_within_256_calls, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(operations_report_the_class_hit,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
