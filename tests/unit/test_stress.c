/* A multithreaded stress test of the engine: 4 threads doing random
 * get/set/delete/incr/append on a small shared cache for under a second,
 * once per eviction policy, each run followed by a consistency check of
 * every structure against the others. Includes the engine sources to walk
 * their private structures; the list walk is LRU's (all three segments),
 * the other policies are checked through their count(). */
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
#define RUN_SECONDS 0.5 /* per policy */
#define TICK_NS (20 * 1000 * 1000)
#define TICK_SECONDS 3 /* engine seconds per tick */
#define GROW_BUDGET 2048 /* buckets moved per tick */
#define PREFILL_POWER 12 /* prefill grows the table this far, no further */
#define MAX_OPS 3000000

struct run {
    struct clock *clock;
    struct cache *cache;
    _Atomic uint64_t ops;
    _Atomic uint64_t bad_values;
    _Atomic bool done;
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
    cache_store(r->cache, it, modes[rand_r(seed) % 5], 0, NULL);
    cache_release(r->cache, it);
}

static void do_get(struct run *r, const char *key, size_t nkey)
{
    struct item *it = cache_get(r->cache, key, nkey, NULL, NULL, NULL);
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
        if (i % 1024 == 0 && elapsed(&t0) > RUN_SECONDS)
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
            cache_delete(r->cache, key, nkey, NULL);
        else if (op < 99)
            cache_delta(r->cache, key, nkey, op % 2, 3, &res, NULL);
        else if (rand_r(&seed) % 2000 == 0)
            cache_flush(r->cache, rand_r(&seed) % 3);
        else
            do_set(r, key, nkey, &seed);
        atomic_fetch_add_explicit(&r->ops, 1, memory_order_relaxed);
    }
    return NULL;
}

/* Three engine seconds per 20 ms: a run spans over a minute of engine
 * time, so items expire and lfu counters decay. The hash table grows from
 * 2^PREFILL_POWER buckets to its final size during the first half. */
static void *ticker(void *arg)
{
    struct run *r = arg;
    while (!atomic_load(&r->done)) {
        clock_advance(r->clock, TICK_SECONDS);
        cache_maintain(r->cache, GROW_BUDGET);
        struct timespec ts = {0, TICK_NS};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* What the hash table holds. refs (table order) is filled for lru only,
 * to compare with its lists. */
struct check {
    struct cache *c;
    uint64_t items;
    uint64_t bytes;
    uint32_t *refs;
};

static void check_item(struct item *it, void *arg)
{
    struct check *ck = arg;
    assert_true(ck->items < KEYS); /* one item per key at most */
    if (ck->refs != NULL)
        ck->refs[ck->items] = slabs_ref(ck->c->slabs, it);
    ck->items++;
    ck->bytes += total_of(ck->c, it);
    assert_true(item_iflags(it) & ITEM_LINKED);
    assert_int_equal(item_refcount(it), 1); /* nobody holds it now */
}

/* Walks one segment list of an LRU class, checking its links and that
 * every item on it says (in pbits) it is in that segment, and appends its
 * references to out (room for KEYS) at *total. */
static void segment_refs(struct policy *p, unsigned cls, enum lru_seg s,
                         uint32_t *out, uint64_t *total)
{
    struct plist *l = &p->classes[cls].segs[s];
    uint64_t n = 0;
    uint32_t prev = 0;
    for (uint32_t ref = l->head; ref != 0;
         ref = plist_at(p->slabs, ref)->next) {
        struct item *it = plist_at(p->slabs, ref);
        assert_int_equal(it->prev, prev);
        assert_int_equal(it->clsid, cls);
        assert_int_equal(__atomic_load_n(&it->pbits, __ATOMIC_RELAXED) &
                             LRU_SEG_MASK,
                         s);
        prev = ref;
        assert_true(++n <= l->count);
        assert_true(*total < KEYS);
        out[(*total)++] = ref;
    }
    assert_int_equal(l->tail, prev);
    assert_int_equal(n, l->count);
}

/* Walks the HOT, WARM and COLD lists of every class and appends their
 * references to out (room for KEYS); returns how many. Each class's
 * count() is the sum of its three lists. */
static uint64_t list_refs(struct policy *p, unsigned nclasses, uint32_t *out)
{
    uint64_t total = 0;
    for (unsigned cls = 1; cls <= nclasses; cls++) {
        uint64_t before = total;
        for (int s = LRU_HOT; s < LRU_NSEGS; s++)
            segment_refs(p, cls, (enum lru_seg)s, out, &total);
        assert_int_equal(policy_lru.count(p, cls), total - before);
    }
    return total;
}

static int ref_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The lists hold exactly the items of the table, so (the table holding
 * each item once) each item is in exactly one list. */
static void check_lru_lists(struct check *ck)
{
    uint32_t *in_lists = calloc(KEYS, sizeof(uint32_t));
    assert_non_null(in_lists);
    uint64_t n = list_refs(ck->c->policy, slabs_nclasses(ck->c->slabs),
                           in_lists);
    assert_int_equal(n, ck->items);
    qsort(ck->refs, ck->items, sizeof(uint32_t), ref_cmp);
    qsort(in_lists, n, sizeof(uint32_t), ref_cmp);
    assert_memory_equal(ck->refs, in_lists, n * sizeof(uint32_t));
    free(in_lists);
}

/* Sum of the policy's per-class counts. */
static uint64_t policy_total(struct cache *c)
{
    uint64_t total = 0;
    for (unsigned cls = 1; cls <= slabs_nclasses(c->slabs); cls++)
        total += c->pops->count(c->policy, cls);
    return total;
}

/* Fill the cache, growing the table part of the way so this takes
 * milliseconds, not seconds of walking 16 chains of thousands; the rest
 * of the growth happens under the threads. */
static void prefill(struct run *r)
{
    unsigned seed = 1;
    char key[32];
    for (int k = 0; k < KEYS; k++) {
        if (k % 256 == 0 && assoc_power(r->cache->assoc) < PREFILL_POWER)
            cache_maintain(r->cache, 1u << PREFILL_POWER);
        size_t nkey = (size_t)snprintf(key, sizeof(key), "%c%d", 'a' + k % 26,
                                       k);
        do_set(r, key, nkey, &seed);
    }
}

static void run_threads(struct run *r)
{
    pthread_t t[THREADS], tick;
    pthread_create(&tick, NULL, ticker, r);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, r);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    atomic_store(&r->done, true);
    pthread_join(tick, NULL);
}

/* Every structure against the others, with no thread running. */
static void check_consistency(struct cache *c, uint64_t limit)
{
    bool lru = c->pops == &policy_lru;
    struct check ck = {.c = c};
    if (lru)
        assert_non_null(ck.refs = calloc(KEYS, sizeof(uint32_t)));
    assoc_foreach(c->assoc, check_item, &ck);
    struct cache_stats st;
    cache_stats(c, &st);
    if (lru)
        check_lru_lists(&ck);
    free(ck.refs);
    assert_int_equal(policy_total(c), ck.items);
    assert_int_equal(st.curr_items, ck.items);
    assert_int_equal(st.bytes, ck.bytes);
    /* the limit, and at most one first page per class past it */
    assert_true(slabs_used(c->slabs) <=
                limit + slabs_nclasses(c->slabs) * slabs_page_size(c->slabs));
    /* Every used chunk is a linked item: nothing leaked a reference. */
    uint64_t used = 0;
    for (unsigned cls = 1; cls <= slabs_nclasses(c->slabs); cls++) {
        struct slabs_class_stats cs;
        slabs_class_stats(c->slabs, cls, &cs);
        used += cs.used_chunks;
    }
    assert_int_equal(used, ck.items);
}

static void stress_then_check(void **state)
{
    const char *policy = *state;
    struct run r = {0};
    struct cache_config cfg;
    cache_config_defaults(&cfg);
    cfg.limit = 4 << 20;
    cfg.hashpower = 4;
    cfg.policy = policy;
    r.clock = clock_create(1700000000);
    r.cache = cache_create(&cfg, r.clock);
    assert_non_null(r.cache);
    assert_string_equal(r.cache->pops->name, policy);
    /* Start full, so the threads work under memory pressure. */
    prefill(&r);
    struct cache_stats before, st;
    cache_stats(r.cache, &before);
    run_threads(&r);
    printf("# %s: %llu operations\n", policy,
           (unsigned long long)atomic_load(&r.ops));
    assert_true(atomic_load(&r.ops) > 5000); /* it ran; TSan is slow */
    assert_int_equal(atomic_load(&r.bad_values), 0);
    check_consistency(r.cache, cfg.limit);
    cache_stats(r.cache, &st);
    assert_true(before.evictions > 0);
    /* The threads made room by evicting or by taking dead items: a
     * flush late in the run can leave a cache whose memory all came back
     * through the reaper or reclaims, with no eviction after it. */
    assert_true(st.evictions + st.reclaimed >
                before.evictions + before.reclaimed);
    cache_destroy(&r.cache);
    clock_destroy(&r.clock);
}

/* One run per registered policy (policy.c's table). */
#define STRESS(policy)                                                   \
    {.name = "stress_then_check " policy, .test_func = stress_then_check, \
     .initial_state = (void *)(policy)}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STRESS("lru"), STRESS("fifo"), STRESS("random"), STRESS("sieve"),
        STRESS("lfu"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
