/* Unit tests for daemon/listing.c: key listings (metadump, mgdump,
 * cachedump) made on their own thread and moved into a reply, end line
 * included; a listing stopped early,
 * with its thread waiting on a full queue or still walking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <poll.h>

#include "daemon/listing.h"
#include "daemon/reply.h"
#include "lib/cache.h"

#define T0 1700000000
#define ALL_CLASSES (~(uint64_t)0)
#define TAKES_MAX 20000
#define WAKE_WAIT_MS 10000

struct env {
    struct clock *clock;
    struct cache *cache;
    struct buffer_stats bufs;
    struct reply r;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    struct cache_config cfg;
    cache_config_defaults(&cfg);
    cfg.limit = 256ull << 20;
    cfg.hashpower = 12;
    e->clock = clock_create(T0);
    e->cache = cache_create(&cfg, e->clock);
    assert_non_null(e->cache);
    reply_init(&e->r, e->cache, &e->bufs);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    reply_deinit(&e->r);
    cache_destroy(&e->cache);
    clock_destroy(&e->clock);
    free(e);
    return 0;
}

static void put(struct env *e, const char *key, size_t nvalue, int64_t exp)
{
    struct item *it;
    assert_int_equal(cache_alloc(e->cache, key, strlen(key), 0, exp,
                                 nvalue + 2, &it),
                     CACHE_OK);
    char *v = cache_item_value(e->cache, it);
    memset(v, 'v', nvalue);
    memcpy(v + nvalue, "\r\n", 2);
    assert_int_equal(cache_store(e->cache, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_release(e->cache, it);
}

/* Keys "<prefix><i>" for i in 0..n-1, each with nvalue bytes. */
static void put_many(struct env *e, const char *prefix, int n, size_t nvalue)
{
    for (int i = 0; i < n; i++) {
        char key[64];
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        put(e, key, nvalue, 0);
    }
}

static void pause_1ms(void)
{
    struct timespec ts = {0, 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* The next step that is not a wait. After each wait the wake-up
 * descriptor must turn readable: the thread says when it has handed
 * something over (the bound is a hang's, not a speed target). */
static enum listing_step next_step(struct env *e, struct listing *l)
{
    enum listing_step step = LISTING_WAIT;
    int fd = listing_wake_fd(l);
    assert_true(fd >= 0);
    for (int i = 0; i < TAKES_MAX && step == LISTING_WAIT; i++) {
        step = listing_take(l, &e->r);
        if (step == LISTING_WAIT) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            assert_int_equal(poll(&p, 1, WAKE_WAIT_MS), 1);
        }
    }
    return step;
}

/* What the reply holds, as a string (caller frees). */
static char *reply_string(struct env *e, size_t *len)
{
    size_t n = reply_pending(&e->r);
    char *out = malloc(n + 1);
    assert_non_null(out);
    assert_int_equal(reply_take(&e->r, out, n), n);
    out[n] = '\0';
    *len = n;
    return out;
}

/* The whole listing as one string (caller frees). */
static char *list_some(struct env *e, enum listing_format fmt,
                       uint64_t classes, uint64_t limit, size_t *len)
{
    struct listing *l = listing_start(e->cache, fmt, classes, limit);
    assert_non_null(l);
    enum listing_step step = LISTING_MORE;
    for (int i = 0; i < TAKES_MAX && step == LISTING_MORE; i++)
        step = next_step(e, l);
    assert_int_equal(step, LISTING_DONE);
    listing_stop(l);
    return reply_string(e, len);
}

static char *list_all(struct env *e, enum listing_format fmt,
                      uint64_t classes, size_t *len)
{
    return list_some(e, fmt, classes, 0, len);
}

static size_t count_of(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p != NULL;
         p = strstr(p + 1, needle))
        n++;
    return n;
}

static void meta_lines_for_every_live_key_once(void **state)
{
    struct env *e = *state;
    char key[64];
    /* enough for many chunks, in several classes */
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        put(e, key, (size_t)(i % 3) * 200, 0);
    }
    put(e, "sp ace", 1, 0); /* not a key a client can send, but the */
    put(e, "gone", 1, -1);  /* encoding shows; an expired one is left out */
    size_t n;
    char *out = list_all(e, LISTING_META, ALL_CLASSES, &n);
    assert_true(n > 64 * 1024);
    assert_int_equal(count_of(out, "\n"), 20001 + 1);
    assert_string_equal(out + n - 5, "END\r\n");
    assert_int_equal(count_of(out, "key=key-19999 exp=-1 la="), 1);
    assert_int_equal(count_of(out, "key=key-0 "), 1);
    assert_int_equal(count_of(out, "key=sp%20ace exp=-1 "), 1);
    assert_int_equal(count_of(out, "key=gone"), 0);
    for (int i = 0; i < 20000; i += 997) {
        char line[64];
        snprintf(line, sizeof(line), "key=key-%d ", i);
        assert_int_equal(count_of(out, line), 1);
    }
    free(out);
}

static void mg_lines_and_the_short_end(void **state)
{
    struct env *e = *state;
    put(e, "a", 1, 0);
    put(e, "b", 1, 0);
    size_t n;
    char *out = list_all(e, LISTING_MG, ALL_CLASSES, &n);
    assert_true(strcmp(out, "mg a\r\nmg b\r\nEN\r\n") == 0 ||
                strcmp(out, "mg b\r\nmg a\r\nEN\r\n") == 0);
    free(out);
}

static void an_empty_cache_lists_its_end_line(void **state)
{
    struct env *e = *state;
    size_t n;
    char *out = list_all(e, LISTING_META, ALL_CLASSES, &n);
    assert_string_equal(out, "END\r\n");
    free(out);
}

static void only_the_classes_asked_for(void **state)
{
    struct env *e = *state;
    put(e, "small", 1, 0);
    put(e, "large", 5000, 0);
    size_t n;
    char *all = list_all(e, LISTING_META, ALL_CLASSES, &n);
    const char *p = strstr(all, "key=large ");
    assert_non_null(p);
    unsigned cls;
    assert_int_equal(sscanf(strstr(p, "cls="), "cls=%u", &cls), 1);
    free(all);
    char *some = list_all(e, LISTING_META, (uint64_t)1 << cls, &n);
    assert_non_null(strstr(some, "key=large "));
    assert_null(strstr(some, "key=small "));
    free(some);
}

static void cachedump_lines_up_to_the_limit(void **state)
{
    struct env *e = *state;
    put(e, "one", 3, 0);
    put(e, "two", 3, 100);
    size_t n;
    char *all = list_all(e, LISTING_CACHEDUMP, ALL_CLASSES, &n);
    assert_non_null(strstr(all, "ITEM one [3 b; 0 s]\r\n"));
    char want[64];
    snprintf(want, sizeof(want), "ITEM two [3 b; %d s]\r\n", T0 + 100);
    assert_non_null(strstr(all, want));
    assert_int_equal(count_of(all, "\r\n"), 3);
    assert_string_equal(all + n - 5, "END\r\n");
    free(all);
    put_many(e, "k", 5000, 3);
    char *some = list_some(e, LISTING_CACHEDUMP, ALL_CLASSES, 1000, &n);
    assert_int_equal(count_of(some, "ITEM "), 1000);
    assert_string_equal(some + n - 5, "END\r\n");
    free(some);
}

/* Over 1 MiB of lines nobody takes: the thread fills its queue and
 * waits; stopping wakes it, and nothing leaks (ASan). */
static void stop_while_the_queue_is_full(void **state)
{
    struct env *e = *state;
    char key[256];
    memset(key, 'k', 200);
    for (int i = 0; i < 20000; i++) {
        snprintf(key + 200, sizeof(key) - 200, "%d", i);
        put(e, key, 1, 0);
    }
    struct listing *l = listing_start(e->cache, LISTING_META, ALL_CLASSES, 0);
    assert_non_null(l);
    /* Wait for some of the listing, then more of it: the thread is
     * ahead, its queue full. */
    assert_int_equal(next_step(e, l), LISTING_MORE);
    for (int i = 0; i < 50; i++)
        pause_1ms();
    listing_stop(l);
    assert_true(reply_pending(&e->r) > 0);
}

static bool readable_now(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* The wake-up stays readable until the next take, which clears it; once
 * the listing is done, nothing is left readable (a worker that still
 * watched the descriptor would not spin). */
static void the_wake_up_lasts_until_the_next_take(void **state)
{
    struct env *e = *state;
    put_many(e, "key-", 3000, 10);
    struct listing *l = listing_start(e->cache, LISTING_MG, ALL_CLASSES, 0);
    assert_non_null(l);
    int fd = listing_wake_fd(l);
    enum listing_step step = LISTING_MORE;
    for (int i = 0; i < TAKES_MAX && step != LISTING_DONE; i++) {
        step = listing_take(l, &e->r);
        if (step != LISTING_WAIT)
            continue;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, WAKE_WAIT_MS), 1);
        assert_true(readable_now(fd));
    }
    assert_int_equal(step, LISTING_DONE);
    assert_false(readable_now(fd));
    listing_stop(l);
    size_t n;
    char *out = reply_string(e, &n);
    assert_int_equal(count_of(out, "mg key-"), 3000);
    free(out);
}

static void stop_at_once(void **state)
{
    struct env *e = *state;
    put_many(e, "k", 1000, 10);
    for (int i = 0; i < 20; i++)
        listing_stop(listing_start(e->cache, LISTING_MG, ALL_CLASSES, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(meta_lines_for_every_live_key_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(mg_lines_and_the_short_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_empty_cache_lists_its_end_line,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(only_the_classes_asked_for, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cachedump_lines_up_to_the_limit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(stop_while_the_queue_is_full, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_wake_up_lasts_until_the_next_take,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(stop_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
