/* Unit tests for lib/topk.c: exact counts while keys fit, the Space-Saving
 * bounds on adversarial and random weighted streams (with decays, checked
 * against an exact model), ordering on a skewed stream, decay, merge, key
 * bytes, and a recorder racing a reader and a decayer (run under TSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <cmocka.h>

#include "lib/topk.h"

#define KEY_LEN 12

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t key_of(char *buf, uint32_t id)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "key:%08u", id);
    memcpy(buf, tmp, KEY_LEN);
    return KEY_LEN;
}

static uint32_t id_of(const struct topk_entry *e)
{
    char tmp[KEY_LEN + 1];
    assert_int_equal(e->nkey, KEY_LEN);
    memcpy(tmp, e->key, KEY_LEN);
    tmp[KEY_LEN] = '\0';
    return (uint32_t)strtoul(tmp + 4, NULL, 10);
}

static void record_id(struct topk *t, uint32_t id, uint32_t weight)
{
    char k[KEY_LEN];
    topk_record(t, k, key_of(k, id), weight);
}

/* The shape every snapshot must have: sorted, distinct keys, sane errors.
 * Returns the sum of the counts. */
static uint64_t check_shape(const struct topk_entry *e, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(e[i].count > 0);
        assert_true(e[i].error <= e[i].count);
        assert_true(e[i].nkey <= TOPK_KEY_MAX);
        sum += e[i].count;
        if (i == 0)
            continue;
        assert_true(e[i - 1].count >= e[i].count);
        if (e[i - 1].count == e[i].count)
            assert_true(e[i - 1].error <= e[i].error);
        for (size_t j = 0; j < i; j++)
            assert_false(e[j].nkey == e[i].nkey &&
                         memcmp(e[j].key, e[i].key, e[i].nkey) == 0);
    }
    return sum;
}

/* Space-Saving against the exact (decayed) weights truth[0..universe):
 * count - error <= truth <= count for every entry, and every key with
 * truth > total / capacity is reported. */
static void check_bounds(struct topk *t, unsigned cap, const uint64_t *truth,
                         uint32_t universe)
{
    struct topk_entry *e = calloc(cap, sizeof(*e));
    bool *seen = calloc(universe, sizeof(*seen));
    assert_non_null(e);
    assert_non_null(seen);
    size_t n = topk_snapshot(t, e, cap);
    uint64_t total = topk_total(t);
    assert_int_equal(check_shape(e, n), total);
    for (size_t i = 0; i < n; i++) {
        uint32_t id = id_of(&e[i]);
        assert_true(id < universe);
        seen[id] = true;
        assert_true(e[i].count - e[i].error <= truth[id]);
        assert_true(truth[id] <= e[i].count);
    }
    for (uint32_t id = 0; id < universe; id++)
        if (truth[id] * cap > total)
            assert_true(seen[id]);
    free(seen);
    free(e);
}

static void create_bounds_and_destroy_null(void **state)
{
    (void)state;
    assert_null(topk_create(0));
    assert_null(topk_create(TOPK_MAX_CAPACITY + 1));
    struct topk *t = topk_create(TOPK_MAX_CAPACITY);
    assert_non_null(t);
    topk_destroy(&t);
    assert_null(t);
    topk_destroy(&t);
    topk_destroy(NULL);
}

static void exact_counts_when_keys_fit(void **state)
{
    (void)state;
    enum { CAP = 64 };
    struct topk *t = topk_create(CAP);
    uint64_t truth[CAP] = {0};
    uint64_t rng = 7;
    for (int i = 0; i < 20000; i++) {
        uint32_t id = (uint32_t)(rng_next(&rng) % CAP);
        uint32_t w = 1 + (uint32_t)(rng_next(&rng) % 5);
        record_id(t, id, w);
        truth[id] += w;
    }
    struct topk_entry e[CAP];
    size_t n = topk_snapshot(t, e, CAP);
    assert_int_equal(n, CAP);
    check_shape(e, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(e[i].error, 0);
        assert_int_equal(e[i].count, truth[id_of(&e[i])]);
    }
    topk_destroy(&t);
}

/* Heavy keys just above N/capacity among many singletons, in the three
 * orders that hurt most: singletons first (heavies enter with a large
 * error), heavies spread between singleton bursts, heavies first (pushed
 * toward the minimum by the churn). */
static void adversarial_stream_keeps_guarantees(void **state)
{
    (void)state;
    enum { CAP = 16, HEAVY = 4, F = 100, SINGLES = 1100, U = HEAVY + SINGLES };
    for (int order = 0; order < 3; order++) {
        struct topk *t = topk_create(CAP);
        uint64_t *truth = calloc(U, sizeof(*truth));
        uint32_t single = HEAVY;
        for (int round = 0; round < F; round++) {
            for (int s = 0; order == 0 && s < SINGLES / F; s++, single++)
                record_id(t, single, 1);
            for (uint32_t h = 0; h < HEAVY; h++)
                record_id(t, h, 1);
            for (int s = 0; order == 1 && s < SINGLES / F; s++, single++)
                record_id(t, single, 1);
        }
        for (; single < U; single++)
            record_id(t, single, 1);
        for (uint32_t id = 0; id < U; id++)
            truth[id] = id < HEAVY ? F : 1;
        assert_int_equal(topk_total(t), HEAVY * F + SINGLES);
        assert_true(F * CAP > HEAVY * F + SINGLES);
        check_bounds(t, CAP, truth, U);
        free(truth);
        topk_destroy(&t);
    }
}

/* Random weighted streams over a universe much larger than the sketch,
 * skewed or flat, with decays, against an exact model. */
static void random_streams_with_decay_keep_guarantees(void **state)
{
    (void)state;
    enum { U = 500 };
    const unsigned caps[] = {1, 2, 7, 16, 64};
    uint64_t rng = 42;
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        struct topk *t = topk_create(caps[c]);
        uint64_t truth[U] = {0};
        for (int i = 1; i <= 30000; i++) {
            uint64_t r = rng_next(&rng);
            uint32_t id = (uint32_t)(r % (r & 1 ? 12 : U));
            uint32_t w = 1 + (uint32_t)((r >> 20) % 9);
            record_id(t, id, w);
            truth[id] += w;
            if (i % 997 == 0) {
                topk_decay(t);
                for (int k = 0; k < U; k++)
                    truth[k] /= 2;
            }
            if (i % 1499 == 0)
                check_bounds(t, caps[c], truth, U);
        }
        check_bounds(t, caps[c], truth, U);
        topk_destroy(&t);
    }
}

/* Key i occurs 24000/(i+1) times, shuffled: the top five come out in
 * order and their counts are within the bounds. */
static void zipf_stream_top5_in_order(void **state)
{
    (void)state;
    enum { U = 1000, CAP = 64, TOP = 5 };
    size_t n = 0;
    for (uint32_t i = 0; i < U; i++)
        n += 24000 / (i + 1);
    uint32_t *stream = malloc(n * sizeof(*stream));
    uint64_t *truth = calloc(U, sizeof(*truth));
    size_t at = 0;
    for (uint32_t i = 0; i < U; i++)
        for (uint32_t j = 0; j < 24000 / (i + 1); j++)
            stream[at++] = i;
    uint64_t rng = 1;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rng_next(&rng) % (i + 1);
        uint32_t tmp = stream[i];
        stream[i] = stream[j];
        stream[j] = tmp;
    }
    struct topk *t = topk_create(CAP);
    for (size_t i = 0; i < n; i++) {
        record_id(t, stream[i], 1);
        truth[stream[i]]++;
    }
    struct topk_entry e[TOP];
    assert_int_equal(topk_snapshot(t, e, TOP), TOP);
    for (uint32_t i = 0; i < TOP; i++)
        assert_int_equal(id_of(&e[i]), i);
    check_bounds(t, CAP, truth, U);
    free(stream);
    free(truth);
    topk_destroy(&t);
}

static void expect_entry(const struct topk_entry *e, const char *key,
                         uint64_t count, uint64_t error)
{
    assert_int_equal(e->nkey, strlen(key));
    assert_memory_equal(e->key, key, e->nkey);
    assert_int_equal(e->count, count);
    assert_int_equal(e->error, error);
}

static void decay_halves_and_drops(void **state)
{
    (void)state;
    struct topk *t = topk_create(4);
    topk_record(t, "a", 1, 10);
    topk_record(t, "b", 1, 5);
    topk_record(t, "c", 1, 1);
    topk_record(t, "d", 1, 3);
    topk_decay(t);
    struct topk_entry e[4];
    assert_int_equal(topk_snapshot(t, e, 4), 3);
    expect_entry(&e[0], "a", 5, 0);
    expect_entry(&e[1], "b", 2, 0);
    expect_entry(&e[2], "d", 1, 0);
    assert_int_equal(topk_total(t), 8);
    /* The freed slot takes a new key with no error; the heap and index
     * still work after the compaction. */
    topk_record(t, "e", 1, 1);
    topk_record(t, "d", 1, 4);
    assert_int_equal(topk_snapshot(t, e, 4), 4);
    expect_entry(&e[0], "a", 5, 0);
    expect_entry(&e[1], "d", 5, 0);
    expect_entry(&e[2], "b", 2, 0);
    expect_entry(&e[3], "e", 1, 0);
    topk_decay(t);
    topk_decay(t);
    assert_int_equal(topk_snapshot(t, e, 4), 2);
    expect_entry(&e[0], "a", 1, 0);
    expect_entry(&e[1], "d", 1, 0);
    topk_decay(t);
    assert_int_equal(topk_snapshot(t, e, 4), 0);
    assert_int_equal(topk_total(t), 0);
    topk_destroy(&t);
}

/* Errors halve rounding up, never above the count. */
static void decay_rounds_errors_up(void **state)
{
    (void)state;
    struct topk *t = topk_create(2);
    topk_record(t, "x", 1, 8);
    topk_record(t, "y", 1, 3);
    topk_record(t, "z", 1, 1);      /* replaces y: count 4, error 3 */
    struct topk_entry e[2];
    assert_int_equal(topk_snapshot(t, e, 2), 2);
    expect_entry(&e[1], "z", 4, 3);
    topk_decay(t);                  /* z: 2, ceil(3/2) = 2 */
    assert_int_equal(topk_snapshot(t, e, 2), 2);
    expect_entry(&e[0], "x", 4, 0);
    expect_entry(&e[1], "z", 2, 2);
    topk_decay(t);                  /* z: 1, min(1, 1) */
    assert_int_equal(topk_snapshot(t, e, 2), 2);
    expect_entry(&e[1], "z", 1, 1);
    topk_destroy(&t);
}

static void reset_forgets_everything(void **state)
{
    (void)state;
    struct topk *t = topk_create(2);
    topk_record(t, "a", 1, 3);
    topk_record(t, "b", 1, 2);
    topk_record(t, "c", 1, 1);
    topk_reset(t);
    struct topk_entry e[2];
    assert_int_equal(topk_snapshot(t, e, 2), 0);
    assert_int_equal(topk_total(t), 0);
    topk_record(t, "c", 1, 1);
    assert_int_equal(topk_snapshot(t, e, 2), 1);
    expect_entry(&e[0], "c", 1, 0);
    topk_destroy(&t);
}

static void snapshot_cuts_and_breaks_ties_by_key(void **state)
{
    (void)state;
    struct topk *t = topk_create(8);
    topk_record(t, "b", 1, 2);
    topk_record(t, "ab", 2, 2);
    topk_record(t, "a", 1, 2);
    topk_record(t, "z", 1, 9);
    struct topk_entry e[3];
    assert_int_equal(topk_snapshot(t, e, 3), 3);
    expect_entry(&e[0], "z", 9, 0);
    expect_entry(&e[1], "a", 2, 0);
    expect_entry(&e[2], "ab", 2, 0);
    assert_int_equal(topk_snapshot(t, e, 0), 0);
    topk_destroy(&t);
}

/* Two sketches of capacity 3; k4 has an error in both. */
static void merge_two_snapshots(void **state)
{
    (void)state;
    struct topk *a = topk_create(3), *b = topk_create(3);
    topk_record(a, "k1", 2, 10);
    topk_record(a, "k\0x", 3, 5);
    topk_record(a, "k3", 2, 2);
    topk_record(a, "k4", 2, 1);     /* replaces k3: count 3, error 2 */
    topk_record(b, "k\0x", 3, 7);
    topk_record(b, "k\0y", 3, 4);
    topk_record(b, "k3", 2, 1);
    topk_record(b, "k4", 2, 1);     /* replaces k3: count 2, error 1 */
    struct topk_entry e[6];
    size_t n = topk_snapshot(a, e, 3);
    assert_int_equal(n, 3);
    n += topk_snapshot(b, e + n, 3);
    assert_int_equal(n, 6);
    size_t r = topk_merge(e, n, 10);
    assert_int_equal(r, 4);
    check_shape(e, r);
    assert_int_equal(e[0].count, 12);       /* "k\0x" */
    assert_int_equal(e[0].error, 0);
    assert_int_equal(e[0].nkey, 3);
    assert_memory_equal(e[0].key, "k\0x", 3);
    expect_entry(&e[1], "k1", 10, 0);
    expect_entry(&e[2], "k4", 5, 3);
    assert_int_equal(e[3].count, 4);        /* "k\0y" */
    assert_int_equal(e[3].nkey, 3);
    assert_memory_equal(e[3].key, "k\0y", 3);
    assert_int_equal(topk_merge(e, 4, 2), 2);
    expect_entry(&e[1], "k1", 10, 0);
    assert_int_equal(topk_merge(e, 0, 2), 0);
    topk_destroy(&a);
    topk_destroy(&b);
}

static void long_and_binary_keys(void **state)
{
    (void)state;
    struct topk *t = topk_create(8);
    char k[TOPK_KEY_MAX + 1];
    for (size_t i = 0; i < sizeof(k); i++)
        k[i] = (char)(i * 7);
    topk_record(t, k, TOPK_KEY_MAX, 5);
    k[TOPK_KEY_MAX - 1] ^= 1;           /* differs in the last byte only */
    topk_record(t, k, TOPK_KEY_MAX, 4);
    topk_record(t, k, TOPK_KEY_MAX + 1, 100);   /* too long: ignored */
    topk_record(t, "", 0, 3);
    topk_record(t, "\0", 1, 2);
    topk_record(t, "\0\0", 2, 1);
    topk_record(t, "x", 1, 0);                  /* weight 0: ignored */
    k[TOPK_KEY_MAX - 1] ^= 1;
    char orig[TOPK_KEY_MAX];
    memcpy(orig, k, sizeof(orig));
    memset(k, 'Z', sizeof(k));                  /* the caller's buffer dies */
    struct topk_entry e[8];
    assert_int_equal(topk_snapshot(t, e, 8), 5);
    assert_int_equal(topk_total(t), 15);
    assert_int_equal(e[0].nkey, TOPK_KEY_MAX);
    assert_memory_equal(e[0].key, orig, TOPK_KEY_MAX);
    assert_int_equal(e[0].count, 5);
    orig[TOPK_KEY_MAX - 1] ^= 1;
    assert_memory_equal(e[1].key, orig, TOPK_KEY_MAX);
    assert_int_equal(e[1].count, 4);
    expect_entry(&e[2], "", 3, 0);
    assert_int_equal(e[3].nkey, 1);
    assert_int_equal(e[3].key[0], 0);
    assert_int_equal(e[4].nkey, 2);
    assert_memory_equal(e[4].key, "\0\0", 2);
    topk_destroy(&t);
}

/* ---- one recorder, one reader, one decayer ---- */

struct race {
    struct topk *t;
    atomic_bool done;
};

static void *recorder(void *arg)
{
    struct race *r = arg;
    uint64_t rng = 99;
    for (int i = 0; i < 200000; i++) {
        uint64_t x = rng_next(&rng);
        record_id(r->t, (uint32_t)(x % (x & 1 ? 8 : 5000)), 1 + (x >> 60));
    }
    atomic_store(&r->done, true);
    return NULL;
}

static void *decayer(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->done)) {
        topk_decay(r->t);
        (void)topk_total(r->t);
        for (volatile int spin = 0; spin < 20000; spin++)
            ;
    }
    return NULL;
}

static void recorder_races_reader_and_decayer(void **state)
{
    (void)state;
    enum { CAP = 128 };
    struct race r = {.t = topk_create(CAP)};
    atomic_init(&r.done, false);
    pthread_t rec, dec;
    assert_int_equal(pthread_create(&rec, NULL, recorder, &r), 0);
    assert_int_equal(pthread_create(&dec, NULL, decayer, &r), 0);
    static struct topk_entry e[CAP];
    unsigned snaps = 0;
    while (!atomic_load(&r.done) || snaps < 10) {
        size_t n = topk_snapshot(r.t, e, snaps % 2 ? CAP : 10);
        check_shape(e, n);
        for (size_t i = 0; i < n; i++)
            assert_true(id_of(&e[i]) < 5000);
        snaps++;
    }
    pthread_join(rec, NULL);
    pthread_join(dec, NULL);
    size_t n = topk_snapshot(r.t, e, CAP);
    assert_int_equal(check_shape(e, n), topk_total(r.t));
    topk_destroy(&r.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_bounds_and_destroy_null),
        cmocka_unit_test(exact_counts_when_keys_fit),
        cmocka_unit_test(adversarial_stream_keeps_guarantees),
        cmocka_unit_test(random_streams_with_decay_keep_guarantees),
        cmocka_unit_test(zipf_stream_top5_in_order),
        cmocka_unit_test(decay_halves_and_drops),
        cmocka_unit_test(decay_rounds_errors_up),
        cmocka_unit_test(reset_forgets_everything),
        cmocka_unit_test(snapshot_cuts_and_breaks_ties_by_key),
        cmocka_unit_test(merge_two_snapshots),
        cmocka_unit_test(long_and_binary_keys),
        cmocka_unit_test(recorder_races_reader_and_decayer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
