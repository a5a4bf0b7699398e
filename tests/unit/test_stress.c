/* A multithreaded stress test of the engine: 4 threads doing random
 * get/set/delete/incr/append on a small shared cache for a few seconds,
 * then a consistency check of every structure against the others.
 * Includes the engine sources to walk their private structures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "lib/cache.c"
#include "lib/policy_lru.c"

#define THREADS 4
#define KEYS 50000
#define SECONDS 3
#define MAX_OPS 3000000

struct run {
    struct clock *clock;
    struct cache *cache;
    _Atomic uint64_t ops;
    _Atomic uint64_t bad_values;
};

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void do_set(struct run *r, const char *key, size_t nkey,
                   unsigned *seed)
{
    size_t n = (size_t)(rand_r(seed) % 64);
    struct item *it;
    int64_t exp = rand_r(seed) % 10 == 0 ? 1 : 0;
    if (cache_alloc(r->cache, key, nkey, 0, exp, n + 2, &it) != CACHE_OK)
        return;
    char *v = cache_item_value(r->cache, it);
    /* Values are the key's first byte repeated, so a reader can tell a
     * torn or foreign value. */
    memset(v, key[0], n);
    memcpy(v + n, "\r\n", 2);
    static const enum cache_store_mode modes[] = {
        CACHE_SET, CACHE_SET, CACHE_ADD, CACHE_REPLACE, CACHE_APPEND,
    };
    cache_store(r->cache, it, modes[rand_r(seed) % 5], 0);
    cache_release(r->cache, it);
}

static void do_get(struct run *r, const char *key, size_t nkey)
{
    struct item *it = cache_get(r->cache, key, nkey, NULL, NULL);
    if (it == NULL)
        return;
    struct cache_item_view v;
    cache_item_view(r->cache, it, &v);
    bool ok = v.nkey == nkey && memcmp(v.key, key, nkey) == 0 &&
              memcmp(v.value + v.nbytes - 2, "\r\n", 2) == 0;
    /* Counters are digits (maybe space-padded); others the key byte. */
    for (size_t i = 0; ok && i < v.nbytes - 2; i++)
        ok = v.value[i] == key[0] || (v.value[i] >= '0' && v.value[i] <= '9')
             || v.value[i] == ' ';
    if (!ok)
        atomic_fetch_add(&r->bad_values, 1);
    cache_release(r->cache, it);
}

static void *worker(void *arg)
{
    struct run *r = arg;
    unsigned seed = (unsigned)(uintptr_t)pthread_self();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char key[32];
    for (uint64_t i = 0; i < MAX_OPS / THREADS; i++) {
        if (i % 1024 == 0 && elapsed(&t0) > SECONDS)
            break;
        int k = rand_r(&seed) % KEYS;
        size_t nkey = (size_t)snprintf(key, sizeof(key), "%c%d",
                                       'a' + k % 26, k);
        int op = rand_r(&seed) % 100;
        uint64_t res;
        if (op < 50)
            do_get(r, key, nkey);
        else if (op < 85)
            do_set(r, key, nkey, &seed);
        else if (op < 92)
            cache_delete(r->cache, key, nkey);
        else if (op < 99)
            cache_delta(r->cache, key, nkey, op % 2, 3, &res);
        else if (rand_r(&seed) % 2000 == 0)
            cache_flush(r->cache, rand_r(&seed) % 3);
        else
            do_set(r, key, nkey, &seed);
        atomic_fetch_add_explicit(&r->ops, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *ticker(void *arg)
{
    struct run *r = arg;
    for (int i = 0; i < SECONDS * 20; i++) {
        clock_advance(r->clock, 1);
        cache_maintain(r->cache, 64);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

struct check {
    struct cache *c;
    uint64_t items;
    uint64_t bytes;
    uint64_t list_hits; /* items of the table found in their class list */
};

static bool in_list(struct policy *p, struct item *it)
{
    struct lru_list *l = &p->lists[it->clsid];
    uint32_t want = slabs_ref(p->slabs, it);
    uint64_t n = 0;
    for (uint32_t ref = l->head; ref != 0 && n <= l->count; n++) {
        if (ref == want)
            return true;
        ref = at(p, ref)->next;
    }
    return false;
}

static void check_item(struct item *it, void *arg)
{
    struct check *ck = arg;
    ck->items++;
    ck->bytes += total_of(ck->c, it);
    assert_true(item_iflags(it) & ITEM_LINKED);
    assert_int_equal(item_refcount(it), 1); /* nobody holds it now */
    if (in_list(ck->c->policy, it))
        ck->list_hits++;
}

static uint64_t list_total(struct policy *p, unsigned nclasses)
{
    uint64_t total = 0;
    for (unsigned cls = 1; cls <= nclasses; cls++) {
        struct lru_list *l = &p->lists[cls];
        uint64_t n = 0;
        uint32_t prev = 0;
        for (uint32_t ref = l->head; ref != 0; ref = at(p, ref)->next) {
            struct item *it = at(p, ref);
            assert_int_equal(it->prev, prev);
            assert_int_equal(it->clsid, cls);
            prev = ref;
            assert_true(++n <= l->count);
        }
        assert_int_equal(l->tail, prev);
        assert_int_equal(n, l->count);
        total += n;
    }
    return total;
}

static void stress_then_check(void **state)
{
    (void)state;
    struct run r = {0};
    struct cache_config cfg;
    cache_config_defaults(&cfg);
    cfg.limit = 4 << 20;
    cfg.hashpower = 4;
    r.clock = clock_create(1700000000);
    r.cache = cache_create(&cfg, r.clock);
    assert_non_null(r.cache);
    /* Start full, so the threads work under memory pressure. */
    unsigned seed = 1;
    char key[32];
    for (int k = 0; k < KEYS; k++) {
        size_t nkey = (size_t)snprintf(key, sizeof(key), "%c%d", 'a' + k % 26,
                                       k);
        do_set(&r, key, nkey, &seed);
    }
    struct cache_stats before;
    cache_stats(r.cache, &before);
    pthread_t t[THREADS], tick;
    pthread_create(&tick, NULL, ticker, &r);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, &r);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_join(tick, NULL);
    printf("# %llu operations\n", (unsigned long long)atomic_load(&r.ops));
    assert_true(atomic_load(&r.ops) > 10000);
    assert_int_equal(atomic_load(&r.bad_values), 0);

    struct check ck = {.c = r.cache};
    assoc_foreach(r.cache->assoc, check_item, &ck);
    struct cache_stats st;
    cache_stats(r.cache, &st);
    assert_int_equal(ck.list_hits, ck.items);
    assert_int_equal(list_total(r.cache->policy,
                                slabs_nclasses(r.cache->slabs)), ck.items);
    assert_int_equal(st.curr_items, ck.items);
    assert_int_equal(st.bytes, ck.bytes);
    assert_true(before.evictions > 0);
    assert_true(st.evictions > before.evictions);
    assert_true(slabs_used(r.cache->slabs) <= cfg.limit);
    /* Every used chunk is a linked item: nothing leaked a reference. */
    uint64_t used = 0;
    for (unsigned cls = 1; cls <= slabs_nclasses(r.cache->slabs); cls++) {
        struct slabs_class_stats cs;
        slabs_class_stats(r.cache->slabs, cls, &cs);
        used += cs.used_chunks;
    }
    assert_int_equal(used, ck.items);
    cache_destroy(&r.cache);
    clock_destroy(&r.clock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stress_then_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
