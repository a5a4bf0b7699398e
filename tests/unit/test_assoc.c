/* Unit tests for lib/assoc.c: lookups, removal, incremental growth, and
 * concurrent readers and writers while the table grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <cmocka.h>

#include "lib/assoc.h"

#define MiB (1024ull * 1024)

struct fixture {
    struct slabs *slabs;
    struct assoc *assoc;
};

static void setup_sized(struct fixture *f, uint64_t limit, unsigned power)
{
    struct slabs_config cfg = {
        .limit = limit, .item_size_max = MiB, .min_chunk = 48,
        .factor = 1.25,
    };
    f->slabs = slabs_create(&cfg);
    assert_non_null(f->slabs);
    f->assoc = assoc_create(f->slabs, true, power, 0);
    assert_non_null(f->assoc);
}

static void teardown_fixture(struct fixture *f)
{
    assoc_destroy(&f->assoc);
    assert_null(f->assoc);
    slabs_destroy(&f->slabs);
}

static size_t key_of(char *buf, size_t cap, uint64_t i)
{
    return (size_t)snprintf(buf, cap, "key:%llu", (unsigned long long)i);
}

static struct item *new_item(struct fixture *f, uint64_t i)
{
    char key[32];
    size_t nkey = key_of(key, sizeof(key), i);
    size_t total = item_total(nkey, 2, true);
    struct item *it = slabs_alloc(f->slabs, slabs_class_for(f->slabs, total),
                                  total);
    assert_non_null(it);
    item_init(it, true, slabs_class_for(f->slabs, total), key, nkey, 0, 0, 2,
              1);
    return it;
}

static struct item *find(struct fixture *f, uint64_t i)
{
    char key[32];
    size_t nkey = key_of(key, sizeof(key), i);
    uint64_t hv = assoc_hash(key, nkey);
    assoc_lock(f->assoc, hv);
    struct item *it = assoc_find_locked(f->assoc, hv, key, nkey);
    assoc_unlock(f->assoc, hv);
    return it;
}

static void insert(struct fixture *f, struct item *it)
{
    uint64_t hv = assoc_hash(item_key(it, true), it->nkey);
    assoc_lock(f->assoc, hv);
    assoc_insert_locked(f->assoc, hv, it);
    assoc_unlock(f->assoc, hv);
}

static bool remove_item(struct fixture *f, struct item *it)
{
    uint64_t hv = assoc_hash(item_key(it, true), it->nkey);
    assoc_lock(f->assoc, hv);
    bool ok = assoc_remove_locked(f->assoc, hv, it);
    assoc_unlock(f->assoc, hv);
    return ok;
}

static void find_insert_remove(void **state)
{
    (void)state;
    struct fixture f;
    setup_sized(&f, 16 * MiB, 4);
    assert_int_equal(assoc_power(&*f.assoc), 4);
    assert_null(find(&f, 1));
    struct item *items[20];
    for (int i = 0; i < 20; i++) {
        items[i] = new_item(&f, (uint64_t)i);
        insert(&f, items[i]);
    }
    assert_int_equal(assoc_count(f.assoc), 20);
    for (int i = 0; i < 20; i++)
        assert_ptr_equal(find(&f, (uint64_t)i), items[i]);
    assert_true(remove_item(&f, items[7]));
    assert_false(remove_item(&f, items[7]));
    assert_null(find(&f, 7));
    assert_int_equal(assoc_count(f.assoc), 19);
    /* 19 items on 16 buckets: load above 1.5 not reached. */
    assert_false(assoc_wants_growth(f.assoc));
    teardown_fixture(&f);
}

static void hash_is_xxh3(void **state)
{
    (void)state;
    /* XXH3-64 of the empty input, a published constant. */
    assert_true(assoc_hash("", 0) == 0x2D06800538D394C2ull);
    assert_true(assoc_hash("a", 1) != assoc_hash("b", 1));
}

static void count_found(struct item *it, void *arg)
{
    (void)it;
    (*(uint64_t *)arg)++;
}

/* Grow from 16 buckets to more than a million items, checking every item
 * (or a sample, mid-way) is found while migrations are half done. */
static void grows_to_a_million(void **state)
{
    (void)state;
    const uint64_t n = 1100000;
    struct fixture f;
    setup_sized(&f, 256 * MiB, 4);
    uint64_t bytes_before = slabs_charged(f.slabs);
    assert_int_equal(bytes_before, 16 * sizeof(uint32_t));
    unsigned growths = 0;
    for (uint64_t i = 0; i < n; i++) {
        insert(&f, new_item(&f, i));
        if (assoc_wants_growth(f.assoc) && assoc_grow_start(f.assoc))
            growths++;
        assoc_grow_step(f.assoc, 4);
        if (i % 100003 == 0 && assoc_is_growing(f.assoc)) {
            for (uint64_t j = 0; j <= i; j += 97)
                assert_non_null(find(&f, j));
        }
    }
    while (assoc_grow_step(f.assoc, 1024))
        ;
    assert_false(assoc_is_growing(f.assoc));
    assert_true(growths >= 16);
    assert_true(assoc_power(f.assoc) >= 20);
    assert_int_equal(assoc_count(f.assoc), n);
    for (uint64_t i = 0; i < n; i++)
        assert_non_null(find(&f, i));
    assert_null(find(&f, n + 1));
    uint64_t walked = 0;
    assoc_foreach(f.assoc, count_found, &walked);
    assert_int_equal(walked, n);
    /* Only the final table stays charged. */
    assert_int_equal(slabs_charged(f.slabs), assoc_bytes(f.assoc));
    teardown_fixture(&f);
}

static void growth_needs_budget(void **state)
{
    (void)state;
    struct fixture f;
    /* 1 MiB of budget: the 2^17-bucket table (512 KiB) fits, its double
     * does not, with the old table still charged. */
    setup_sized(&f, MiB, 17);
    assert_false(assoc_grow_start(f.assoc));
    assert_false(assoc_is_growing(f.assoc));
    assert_int_equal(assoc_power(f.assoc), 17);
    teardown_fixture(&f);
}

/* ------------------------------------------------------------ threads */

#define WRITERS 2
#define PER_WRITER 60000

struct shared {
    struct fixture f;
    struct item *items[WRITERS][PER_WRITER];
    _Atomic uint64_t published[WRITERS];
    _Atomic bool stop;
    _Atomic uint64_t misses;
    _Atomic uint64_t lookups;
};

static void *writer(void *arg)
{
    struct shared *s = arg;
    static _Atomic int next_id;
    int id = atomic_fetch_add(&next_id, 1) % WRITERS;
    for (uint64_t i = 0; i < PER_WRITER; i++) {
        struct item *it = s->items[id][i];
        insert(&s->f, it);
        atomic_store(&s->published[id], i + 1);
        /* Remove and re-insert an older one: chains change under readers. */
        if (i > 10 && i % 3 == 0) {
            struct item *old = s->items[id][i - 10];
            assert_true(remove_item(&s->f, old));
            insert(&s->f, old);
        }
    }
    return NULL;
}

static void *reader(void *arg)
{
    struct shared *s = arg;
    unsigned seed = 12345;
    while (!atomic_load(&s->stop)) {
        int w = (int)(rand_r(&seed) % WRITERS);
        uint64_t pub = atomic_load(&s->published[w]);
        if (pub < 20)
            continue;
        /* Items older than the re-insert window are always present. */
        uint64_t i = (uint64_t)rand_r(&seed) % (pub - 15);
        struct item *it = s->items[w][i];
        uint64_t hv = assoc_hash(item_key(it, true), it->nkey);
        /* The bulk-load hint reads bucket heads without the stripe: here
         * it races writers and growth, for TSan to judge. */
        assoc_prefetch_buckets(s->f.assoc, &hv, 1);
        assoc_prefetch_chains(s->f.assoc, &hv, 1);
        assoc_lock(s->f.assoc, hv);
        struct item *got = assoc_find_locked(s->f.assoc, hv,
                                             item_key(it, true), it->nkey);
        assoc_unlock(s->f.assoc, hv);
        if (got != it)
            atomic_fetch_add(&s->misses, 1);
        atomic_fetch_add(&s->lookups, 1);
    }
    return NULL;
}

static void *grower(void *arg)
{
    struct shared *s = arg;
    while (!atomic_load(&s->stop)) {
        if (assoc_wants_growth(s->f.assoc))
            assoc_grow_start(s->f.assoc);
        assoc_grow_step(s->f.assoc, 2);
    }
    return NULL;
}

static void concurrent_growth(void **state)
{
    (void)state;
    static struct shared s;
    memset(&s, 0, sizeof(s));
    setup_sized(&s.f, 128 * MiB, 4);
    for (int w = 0; w < WRITERS; w++)
        for (uint64_t i = 0; i < PER_WRITER; i++)
            s.items[w][i] = new_item(&s.f, (uint64_t)w * PER_WRITER + i);
    pthread_t wt[WRITERS], rt[2], gt;
    pthread_create(&gt, NULL, grower, &s);
    for (int i = 0; i < 2; i++)
        pthread_create(&rt[i], NULL, reader, &s);
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&wt[i], NULL, writer, &s);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(wt[i], NULL);
    /* On a loaded machine the readers may barely have run yet: give them
     * a bounded moment to look things up before stopping them. */
    for (int i = 0; i < 500 && atomic_load(&s.lookups) < 1000; i++) {
        struct timespec ms = {0, 10 * 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    atomic_store(&s.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(rt[i], NULL);
    pthread_join(gt, NULL);
    /* Finish what the grower left; the load must then be back in bounds. */
    for (int i = 0; i < 64 && (assoc_wants_growth(s.f.assoc) ||
                               assoc_is_growing(s.f.assoc)); i++) {
        assoc_grow_start(s.f.assoc);
        while (assoc_grow_step(s.f.assoc, 4096))
            ;
    }
    assert_int_equal(atomic_load(&s.misses), 0);
    assert_true(atomic_load(&s.lookups) > 0);
    assert_int_equal(assoc_count(s.f.assoc), WRITERS * PER_WRITER);
    assert_true(assoc_power(s.f.assoc) >= 17);
    for (int w = 0; w < WRITERS; w++)
        for (uint64_t i = 0; i < PER_WRITER; i++)
            assert_ptr_equal(find(&s.f, (uint64_t)w * PER_WRITER + i),
                             s.items[w][i]);
    teardown_fixture(&s.f);
}

/* Presize doubles the table to what the items need, empty or not, and
 * every item stays found; assoc_power_for() names the same size. */
static void presize_reaches_the_load_factor(void **state)
{
    (void)state;
    struct fixture f;
    setup_sized(&f, 64 * MiB, 4);
    assert_int_equal(assoc_power_for(1000), 10); /* 2000 <= 3 * 2^10 */
    assert_int_equal(assoc_power_for(1536), 10);
    assert_int_equal(assoc_power_for(1537), 11);
    assert_int_equal(assoc_power_for(0), 1);
    assert_int_equal(assoc_power_for(UINT64_MAX / 4), ASSOC_MAX_POWER);
    assoc_presize(f.assoc, 1000);
    assert_int_equal(assoc_power(f.assoc), 10);
    assert_false(assoc_is_growing(f.assoc));
    for (uint64_t i = 0; i < 1000; i++)
        insert(&f, new_item(&f, i));
    assert_false(assoc_wants_growth(f.assoc));
    assoc_presize(f.assoc, 100000);
    assert_int_equal(assoc_power(f.assoc), assoc_power_for(100000));
    assert_false(assoc_is_growing(f.assoc));
    for (uint64_t i = 0; i < 1000; i++)
        assert_non_null(find(&f, i));
    assert_int_equal(assoc_count(f.assoc), 1000);
    teardown_fixture(&f);
}

/* Items inserted while the table is presized are never lost. */
struct presize_race {
    struct fixture *f;
    struct item *items[500];
};

static void *insert_all(void *arg)
{
    struct presize_race *r = arg;
    for (int i = 0; i < 500; i++)
        insert(r->f, r->items[i]);
    return NULL;
}

static void presize_beside_inserts(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        struct fixture f;
        static struct presize_race r;
        setup_sized(&f, 64 * MiB, 4);
        r.f = &f;
        for (int i = 0; i < 500; i++)
            r.items[i] = new_item(&f, (uint64_t)i);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, insert_all, &r), 0);
        assoc_presize(f.assoc, 1u << 20);
        pthread_join(t, NULL);
        assert_false(assoc_is_growing(f.assoc));
        assert_true(assoc_power(f.assoc) >= 20);
        assert_int_equal(assoc_count(f.assoc), 500);
        for (uint64_t i = 0; i < 500; i++)
            assert_ptr_equal(find(&f, i), r.items[i]);
        teardown_fixture(&f);
    }
}

/* Items are numbered by their key; the scan counts visits per number. */
struct scan_count {
    unsigned *visits;
    uint64_t n;
};

/* Numbers from CHURN_BASE up belong to items linked and unlinked while
 * a scan runs: they may or may not be seen. */
#define CHURN_BASE 1000000000ull

static void count_visit(struct item *it, void *arg)
{
    struct scan_count *sc = arg;
    char key[32];
    memcpy(key, item_key(it, true), it->nkey);
    key[it->nkey] = '\0';
    uint64_t i = strtoull(key + 4, NULL, 10);
    if (i >= CHURN_BASE)
        return;
    assert_true(i < sc->n);
    sc->visits[i]++;
}

/* Scan in small steps; between steps the table may grow (grow_every > 0:
 * start a growth and move a few buckets every that many steps). Every
 * item must be seen exactly once. */
static void scan_and_check(uint64_t n, unsigned power, unsigned grow_every)
{
    struct fixture f;
    setup_sized(&f, 256 * MiB, power);
    for (uint64_t i = 0; i < n; i++)
        insert(&f, new_item(&f, i));
    struct scan_count sc = {calloc(n, sizeof(unsigned)), n};
    assert_non_null(sc.visits);
    uint64_t cursor = 0;
    unsigned steps = 0, growths = 0;
    bool done = false;
    while (!done) {
        assert_true(steps < 10u * 1000 * 1000); /* bounded */
        done = assoc_scan_step(f.assoc, &cursor, grow_every ? 1 : 7,
                               count_visit, &sc);
        if (grow_every != 0 && ++steps % grow_every == 0) {
            if (!assoc_is_growing(f.assoc) && assoc_grow_start(f.assoc))
                growths++;
            assoc_grow_step(f.assoc, 3);
        }
    }
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(sc.visits[i], 1);
    if (grow_every != 0)
        assert_true(growths >= 2);
    free(sc.visits);
    /* Items came from the arena: the fixture's teardown frees it all. */
    teardown_fixture(&f);
}

static void scan_visits_each_once(void **state)
{
    (void)state;
    scan_and_check(20000, 8, 0);
}

static void scan_survives_growth(void **state)
{
    (void)state;
    scan_and_check(20000, 4, 2);
    scan_and_check(5000, 6, 1);
}

/* Mostly empty buckets, which the scan passes without their stripes. */
static void sparse_scan_visits_each_once(void **state)
{
    (void)state;
    scan_and_check(50, 14, 0);
}

/* A writer links and unlinks other items while the table is scanned and
 * grows: every item linked all along is still visited exactly once (and
 * TSan judges the unlocked reads of empty buckets). */
struct churn {
    struct fixture *f;
    struct item *items[64];
    atomic_bool stop;
    atomic_uint rounds;
};

static void *churner(void *arg)
{
    struct churn *c = arg;
    while (!atomic_load(&c->stop)) {
        for (int i = 0; i < 64; i++)
            insert(c->f, c->items[i]);
        for (int i = 0; i < 64; i++)
            assert_true(remove_item(c->f, c->items[i]));
        atomic_fetch_add(&c->rounds, 1);
    }
    return NULL;
}

static void scan_beside_writers(void **state)
{
    (void)state;
    static struct churn c;
    struct fixture f;
    const uint64_t n = 300;
    setup_sized(&f, 64 * MiB, 12);
    for (uint64_t i = 0; i < n; i++)
        insert(&f, new_item(&f, i));
    memset(&c, 0, sizeof(c));
    c.f = &f;
    for (int i = 0; i < 64; i++)
        c.items[i] = new_item(&f, CHURN_BASE + (uint64_t)i);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, churner, &c), 0);
    /* the writer has started before the scans (bounded wait) */
    for (int i = 0; i < 5000 && atomic_load(&c.rounds) == 0; i++) {
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    assert_true(atomic_load(&c.rounds) > 0);
    struct scan_count sc = {calloc(n, sizeof(unsigned)), n};
    assert_non_null(sc.visits);
    for (int pass = 0; pass < 20; pass++) {
        memset(sc.visits, 0, n * sizeof(unsigned));
        uint64_t cursor = 0;
        bool done = false;
        for (unsigned steps = 0; !done; steps++) {
            assert_true(steps < 1000u * 1000);
            done = assoc_scan_step(f.assoc, &cursor, 16, count_visit, &sc);
            if (pass % 4 == 1 && steps == 10 && assoc_grow_start(f.assoc))
                while (assoc_grow_step(f.assoc, 64))
                    ;
        }
        for (uint64_t i = 0; i < n; i++)
            assert_int_equal(sc.visits[i], 1);
    }
    atomic_store(&c.stop, true);
    pthread_join(t, NULL);
    free(sc.visits);
    teardown_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_is_xxh3),
        cmocka_unit_test(find_insert_remove),
        cmocka_unit_test(grows_to_a_million),
        cmocka_unit_test(growth_needs_budget),
        cmocka_unit_test(concurrent_growth),
        cmocka_unit_test(scan_visits_each_once),
        cmocka_unit_test(scan_survives_growth),
        cmocka_unit_test(sparse_scan_visits_each_once),
        cmocka_unit_test(presize_reaches_the_load_factor),
        cmocka_unit_test(presize_beside_inserts),
        cmocka_unit_test(scan_beside_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
