/*
 * tests/clients/apr_memcache_client.c - APR-util's memcache client (the
 * one Apache httpd's mod_socache_memcache uses) against a daemon.
 *
 *   apr_memcache_client HOST:PORT SCENARIO
 *
 * Prints "ok N - what" or "not ok N - what" per check and exits 0 only
 * when every check passed. Built and run by test_apr_memcache.py.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_memcache.h>
#include <apr_strings.h>

static int checks;
static int failures;

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%sok %d - ", ok ? "" : "not ", ++checks);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!ok)
        failures++;
}

struct client {
    apr_pool_t *pool;
    apr_memcache_t *mc;
    apr_memcache_server_t *server;
};

/* The key's value and flags as getp sees them; status returned. */
static apr_status_t get(struct client *c, const char *key, char **data,
                        apr_size_t *len, apr_uint16_t *flags)
{
    return apr_memcache_getp(c->mc, c->pool, key, data, len, flags);
}

static int holds(struct client *c, const char *key, const char *want,
                 apr_size_t want_len, apr_uint16_t want_flags)
{
    char *data = NULL;
    apr_size_t len = 0;
    apr_uint16_t flags = 0;
    return get(c, key, &data, &len, &flags) == APR_SUCCESS &&
           len == want_len && memcmp(data, want, len) == 0 &&
           flags == want_flags;
}

static int missing(struct client *c, const char *key)
{
    char *data;
    apr_size_t len;
    apr_uint16_t flags;
    return get(c, key, &data, &len, &flags) == APR_NOTFOUND;
}

static apr_status_t put(struct client *c, const char *key, const char *v,
                        apr_size_t n, apr_uint16_t flags)
{
    return apr_memcache_set(c->mc, key, (char *)v, n, 0, flags);
}

static void scenario_basics(struct client *c)
{
    check(put(c, "apr:a", "hello", 5, 7) == APR_SUCCESS, "set");
    check(holds(c, "apr:a", "hello", 5, 7), "get: value and flags");
    check(apr_memcache_add(c->mc, "apr:a", "x", 1, 0, 0) != APR_SUCCESS,
          "add of a present key is refused");
    check(holds(c, "apr:a", "hello", 5, 7), "refused add changed nothing");
    apr_memcache_delete(c->mc, "apr:new", 0);
    check(apr_memcache_add(c->mc, "apr:new", "n", 1, 0, 3) == APR_SUCCESS,
          "add of a new key");
    check(holds(c, "apr:new", "n", 1, 3), "added value");
    apr_memcache_delete(c->mc, "apr:absent", 0);
    check(apr_memcache_replace(c->mc, "apr:absent", "r", 1, 0, 0) !=
              APR_SUCCESS, "replace of a missing key is refused");
    check(missing(c, "apr:absent"), "refused replace stored nothing");
    check(apr_memcache_replace(c->mc, "apr:a", "bye", 3, 0, 65535) ==
              APR_SUCCESS, "replace");
    check(holds(c, "apr:a", "bye", 3, 65535), "replaced value, 16-bit flags");
    static const char bin[] = "\0\r\nEND\r\nVALUE apr:a 0 1\r\n\xff";
    check(put(c, "apr:bin", bin, sizeof(bin), 1) == APR_SUCCESS,
          "set of a binary value");
    check(holds(c, "apr:bin", bin, sizeof(bin), 1), "binary value intact");
    check(put(c, "apr:empty", "", 0, 0) == APR_SUCCESS, "set of nothing");
    check(holds(c, "apr:empty", "", 0, 0), "empty value");
    check(apr_memcache_delete(c->mc, "apr:a", 0) == APR_SUCCESS, "delete");
    check(missing(c, "apr:a"), "gone after delete");
    check(apr_memcache_delete(c->mc, "apr:a", 0) == APR_NOTFOUND,
          "delete of a missing key");
}

static void scenario_counters(struct client *c)
{
    apr_uint32_t v = 0;
    check(put(c, "apr:n", "10", 2, 0) == APR_SUCCESS, "set a counter");
    check(apr_memcache_incr(c->mc, "apr:n", 5, &v) == APR_SUCCESS && v == 15,
          "incr 5 -> 15 (got %u)", v);
    check(apr_memcache_decr(c->mc, "apr:n", 20, &v) == APR_SUCCESS && v == 0,
          "decr below zero stops at 0 (got %u)", v);
    check(apr_memcache_incr(c->mc, "apr:n", 4000000, &v) == APR_SUCCESS &&
              v == 4000000, "incr 4000000 (got %u)", v);
    check(holds(c, "apr:n", "4000000", 7, 0), "counter read as text");
    apr_memcache_delete(c->mc, "apr:nothing", 0);
    check(apr_memcache_incr(c->mc, "apr:nothing", 1, &v) == APR_NOTFOUND,
          "incr of a missing key");
    check(put(c, "apr:s", "abc", 3, 0) == APR_SUCCESS, "set a string");
    /* the library reads the CLIENT_ERROR line as a number: only the
     * item and the connection are checked */
    apr_memcache_incr(c->mc, "apr:s", 1, &v);
    check(holds(c, "apr:s", "abc", 3, 0), "incr left the string as it was");
}

#define MULTI_STORED 50
#define MULTI_ASKED 80

static void scenario_multi(struct client *c)
{
    int stored = 1;
    for (int i = 0; i < MULTI_STORED; i++) {
        char key[32], val[64];
        snprintf(key, sizeof(key), "apr:m%d", i);
        int n = snprintf(val, sizeof(val), "value of %d", i);
        stored &= put(c, key, val, (apr_size_t)n, (apr_uint16_t)i) ==
                  APR_SUCCESS;
    }
    check(stored, "%d keys stored", MULTI_STORED);
    apr_hash_t *values = NULL;
    for (int i = 0; i < MULTI_ASKED; i++)
        apr_memcache_add_multget_key(c->pool, apr_psprintf(c->pool,
                                                           "apr:m%d", i),
                                     &values);
    apr_pool_t *temp; /* multgetp may clear it */
    apr_pool_create(&temp, c->pool);
    check(apr_memcache_multgetp(c->mc, temp, c->pool, values) ==
              APR_SUCCESS, "multiget of %d keys", MULTI_ASKED);
    int hits = 0, misses = 0, right = 1;
    for (int i = 0; i < MULTI_ASKED; i++) {
        const char *key = apr_psprintf(c->pool, "apr:m%d", i);
        apr_memcache_value_t *v = apr_hash_get(values, key,
                                               APR_HASH_KEY_STRING);
        if (v == NULL) {
            right = 0;
            continue;
        }
        if (v->status == APR_SUCCESS) {
            char want[64];
            int n = snprintf(want, sizeof(want), "value of %d", i);
            hits++;
            right &= i < MULTI_STORED && v->len == (apr_size_t)n &&
                     memcmp(v->data, want, (size_t)n) == 0 &&
                     v->flags == i;
        } else {
            misses++;
            right &= i >= MULTI_STORED && v->status == APR_NOTFOUND;
        }
    }
    check(hits == MULTI_STORED && misses == MULTI_ASKED - MULTI_STORED,
          "%d hits, %d misses", hits, misses);
    check(right, "each value and flags where they belong");
}

static void scenario_large(struct client *c)
{
    apr_size_t n = 500 * 1024;
    char *big = apr_palloc(c->pool, 2 * 1024 * 1024);
    for (apr_size_t i = 0; i < 2 * 1024 * 1024; i++)
        big[i] = (char)(i * 7 + i / 251);
    check(put(c, "apr:big", big, n, 9) == APR_SUCCESS, "set of 500 KB");
    check(holds(c, "apr:big", big, n, 9), "500 KB back intact");
    check(put(c, "apr:huge", big, 2 * 1024 * 1024, 0) != APR_SUCCESS,
          "set of 2 MB is refused");
    check(missing(c, "apr:huge"), "nothing stored for it");
    check(holds(c, "apr:big", big, n, 9), "the client goes on after it");
}

static void scenario_expiry(struct client *c)
{
    check(apr_memcache_set(c->mc, "apr:t", "soon", 4, 1, 0) == APR_SUCCESS,
          "set with a 1 s lifetime");
    check(holds(c, "apr:t", "soon", 4, 0), "there at once");
    usleep(2200 * 1000);
    check(missing(c, "apr:t"), "gone after 2.2 s");
}

static void scenario_stats(struct client *c)
{
    char *version = NULL;
    apr_status_t st = apr_memcache_version(c->server, c->pool, &version);
    if (version != NULL) /* the library leaves the line's "\r\n" on */
        version[strcspn(version, "\r\n")] = '\0';
    check(st == APR_SUCCESS && version != NULL &&
              strncmp(version, "1.6.", 4) == 0,
          "version %s", version != NULL ? version : "(none)");
    apr_memcache_stats_t *a = NULL, *b = NULL;
    check(apr_memcache_stats(c->server, c->pool, &a) == APR_SUCCESS,
          "stats read");
    put(c, "apr:st1", "1", 1, 0);
    put(c, "apr:st2", "2", 1, 0);
    put(c, "apr:st3", "3", 1, 0);
    int got = holds(c, "apr:st1", "1", 1, 0) + holds(c, "apr:st2", "2", 1, 0);
    apr_memcache_delete(c->mc, "apr:st-none", 0);
    got += missing(c, "apr:st-none");
    check(got == 3, "traffic");
    check(apr_memcache_stats(c->server, c->pool, &b) == APR_SUCCESS,
          "stats read again");
    if (a == NULL || b == NULL)
        return;
    check(a->version != NULL && version != NULL &&
              strcmp(a->version, version) == 0,
          "stats version %s is the version's", a->version);
    check(a->pid == (apr_uint32_t)b->pid && a->pid > 0, "pid %u", a->pid);
    check(b->cmd_set - a->cmd_set == 3, "cmd_set +3 (%u)",
          b->cmd_set - a->cmd_set);
    check(b->get_hits - a->get_hits == 2, "get_hits +2 (%u)",
          b->get_hits - a->get_hits);
    check(b->get_misses - a->get_misses == 1, "get_misses +1 (%u)",
          b->get_misses - a->get_misses);
    check(b->curr_items >= 3 && b->total_items >= a->total_items + 3,
          "items counted (%u current)", b->curr_items);
    check(b->limit_maxbytes == 64u * 1024 * 1024, "limit_maxbytes %u",
          b->limit_maxbytes);
    check(b->threads >= 1 && b->pointer_size == 64, "threads %u, %u-bit",
          b->threads, b->pointer_size);
    check(b->curr_connections >= 1 && b->bytes > 0 && b->bytes_read > 0 &&
              b->bytes_written > 0 && b->time > 0,
          "connections, bytes and time filled in");
}

static const struct {
    const char *name;
    void (*run)(struct client *c);
} scenarios[] = {
    {"basics", scenario_basics},   {"counters", scenario_counters},
    {"multi", scenario_multi},     {"large", scenario_large},
    {"expiry", scenario_expiry},   {"stats", scenario_stats},
};

int main(int argc, char **argv)
{
    if (argc != 3 || strchr(argv[1], ':') == NULL) {
        fprintf(stderr, "usage: %s HOST:PORT SCENARIO\n", argv[0]);
        return 2;
    }
    apr_initialize();
    struct client c;
    apr_pool_create(&c.pool, NULL);
    char *host = apr_pstrdup(c.pool, argv[1]);
    char *colon = strrchr(host, ':');
    *colon = '\0';
    apr_port_t port = (apr_port_t)atoi(colon + 1);
    if (apr_memcache_create(c.pool, 1, 0, &c.mc) != APR_SUCCESS ||
        apr_memcache_server_create(c.pool, host, port, 0, 1, 1, 60000000,
                                   &c.server) != APR_SUCCESS ||
        apr_memcache_add_server(c.mc, c.server) != APR_SUCCESS) {
        fprintf(stderr, "cannot set up the client\n");
        return 2;
    }
    int found = 0;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
        if (strcmp(argv[2], scenarios[i].name) == 0) {
            scenarios[i].run(&c);
            found = 1;
        }
    if (!found) {
        fprintf(stderr, "unknown scenario %s\n", argv[2]);
        return 2;
    }
    printf("1..%d\n", checks);
    apr_pool_destroy(c.pool);
    apr_terminate();
    return failures == 0 ? 0 : 1;
}
