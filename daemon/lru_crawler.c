/*
 * daemon/lru_crawler.c - see lru_crawler.h.
 */
#include "daemon/lru_crawler.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conn.h"
#include "daemon/listing.h"
#include "daemon/server.h"
#include "daemon/text_exec.h"
#include "lib/slabs.h"
#include "proto/num.h"
#include "proto/text.h"

/* memcached's limit for lru_crawler sleep, in microseconds. */
#define CRAWLER_SLEEP_MAX 1000000
/* Listings at once, each a thread; memcached's crawler lists one. */
#define LISTINGS_MAX 4

struct dump {
    struct server *srv;
    struct listing *listing;
    bool crawler; /* counted in lru_crawler_running (not cachedump) */
};

static void say(struct conn *c, const char *s)
{
    reply_text(&c->reply, s, strlen(s));
}

static enum conn_stream_step dump_produce(struct conn *c, void *state)
{
    struct dump *d = state;
    switch (listing_take(d->listing, &c->reply)) {
    case LISTING_MORE:
        return CONN_STREAM_MORE;
    case LISTING_WAIT:
        return CONN_STREAM_WAIT;
    case LISTING_DONE:
        break;
    }
    return CONN_STREAM_DONE;
}

static void dump_finish(void *state)
{
    struct dump *d = state;
    listing_stop(d->listing);
    if (d->crawler)
        atomic_fetch_sub(&d->srv->crawler_running, 1);
    atomic_fetch_sub(&d->srv->listings, 1);
    free(d);
}

/* Streams a listing made on its own thread, or answers why not. */
static void start_listing(struct conn *c, enum listing_format format,
                          uint64_t classes, uint64_t limit)
{
    struct server *srv = c->srv;
    /* memcached's answer while its crawler is busy */
    if (atomic_fetch_add(&srv->listings, 1) >= LISTINGS_MAX) {
        atomic_fetch_sub(&srv->listings, 1);
        say(c, "BUSY currently processing crawler request\r\n");
        return;
    }
    struct dump *d = malloc(sizeof(*d));
    if (d != NULL)
        d->listing = listing_start(srv->cache, format, classes, limit);
    if (d == NULL || d->listing == NULL) {
        free(d);
        atomic_fetch_sub(&srv->listings, 1);
        say(c, "SERVER_ERROR out of memory\r\n");
        return;
    }
    d->srv = srv;
    d->crawler = format != LISTING_CACHEDUMP;
    if (d->crawler) {
        atomic_fetch_add(&srv->crawler_starts, 1);
        atomic_fetch_add(&srv->crawler_running, 1);
    }
    struct conn_stream s = {dump_produce, dump_finish, d, false,
                            listing_wake_fd(d->listing)};
    conn_stream_start(c, &s);
}

/* memcached caps a cachedump reply at 2 MB; so do we, by lines. */
#define CACHEDUMP_MAX_LINES 20000

void lru_crawler_cachedump(struct conn *c, unsigned cls, uint64_t limit)
{
    if (limit == 0 || limit > CACHEDUMP_MAX_LINES)
        limit = CACHEDUMP_MAX_LINES;
    start_listing(c, LISTING_CACHEDUMP, (uint64_t)1 << cls, limit);
}

/* "all", "hash" or "1,2,...": the class bits, false for a bad list. */
static bool parse_classes(const char *w, size_t n, uint64_t *out)
{
    if ((n == 3 && memcmp(w, "all", 3) == 0) ||
        (n == 4 && memcmp(w, "hash", 4) == 0)) {
        *out = ~(uint64_t)0;
        return true;
    }
    uint64_t bits = 0;
    const char *end = w + n;
    while (w <= end) {
        const char *comma = memchr(w, ',', (size_t)(end - w));
        if (comma == NULL)
            comma = end;
        struct token tk = {w, (size_t)(comma - w)};
        uint32_t id;
        /* memcached splits with strtok(): empty items are skipped */
        if (tk.n > 0 &&
            (!num_u32(&tk, &id) || id == 0 || id > SLABS_MAX_CLASSES))
            return false;
        if (tk.n > 0)
            bits |= (uint64_t)1 << id;
        w = comma + 1;
    }
    *out = bits;
    return true;
}

static void start_dump(struct conn *c, enum listing_format format,
                       const char *w, size_t n)
{
    uint64_t classes;
    if (!parse_classes(w, n, &classes)) {
        say(c, "BADCLASS invalid class id\r\n");
        return;
    }
    if (classes == 0) {
        say(c, "NOTSTARTED no items to crawl\r\n");
        return;
    }
    if (c->fd < 0)
        return; /* a datagram: memcached 1.6.18 answers nothing */
    start_listing(c, format, classes, 0);
}

/* A sub-command with its one argument. */
static void exec_with_arg(struct conn *c, const char *sub, size_t nsub,
                          const char *w, size_t n)
{
    struct token tk = {w, n};
    uint32_t v;
    bool off = atomic_load(&c->srv->crawler_off);
    if (token_eq(sub, nsub, "metadump") || token_eq(sub, nsub, "mgdump") ||
        token_eq(sub, nsub, "crawl")) {
        if (off) {
            say(c, "CLIENT_ERROR lru crawler disabled\r\n");
        } else if (token_eq(sub, nsub, "crawl")) {
            uint64_t classes;
            /* memcached cannot crawl by hash: its reply, quirk included */
            if (token_eq(w, n, "hash"))
                say(c, "ERROR an unknown error happened\r\n");
            else if (!parse_classes(w, n, &classes))
                say(c, "BADCLASS invalid class id\r\n");
            else if (classes == 0)
                say(c, "NOTSTARTED no items to crawl\r\n");
            else {
                /* the reaper sweeps continuously: nothing to start, but
                 * the request counts as one, as in memcached */
                atomic_fetch_add(&c->srv->crawler_starts, 1);
                say(c, "OK\r\n");
            }
        } else if (!c->srv->settings->dump_enabled) {
            say(c, "ERROR metadump not allowed\r\n"); /* -X */
        } else {
            start_dump(c,
                       token_eq(sub, nsub, "metadump") ? LISTING_META
                                                       : LISTING_MG,
                       w, n);
        }
    } else if (token_eq(sub, nsub, "sleep")) {
        if (!num_u32(&tk, &v))
            text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
        else if (v > CRAWLER_SLEEP_MAX)
            say(c, "CLIENT_ERROR sleep must be one second or less\r\n");
        else {
            atomic_store(&c->srv->crawler_sleep, v);
            say(c, "OK\r\n");
        }
    } else if (token_eq(sub, nsub, "tocrawl")) {
        if (!num_u32(&tk, &v))
            text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
        else {
            atomic_store(&c->srv->crawler_tocrawl, v);
            say(c, "OK\r\n");
        }
    } else {
        text_exec_reply(c, TEXT_R_ERROR);
    }
}

void lru_crawler_exec(struct conn *c, const char *arg, size_t narg)
{
    const char *cur = arg, *end = arg + narg, *sub = "", *w = "", *extra;
    size_t nsub = 0, n = 0, nextra;
    text_next_key(&cur, end, &sub, &nsub);
    bool has_arg = text_next_key(&cur, end, &w, &n);
    if (text_next_key(&cur, end, &extra, &nextra)) {
        text_exec_reply(c, TEXT_R_ERROR);
    } else if (has_arg) {
        exec_with_arg(c, sub, nsub, w, n);
    } else if (token_eq(sub, nsub, "enable")) {
        /* memcached answers a second enable with its thread-start error */
        if (atomic_exchange(&c->srv->crawler_off, false))
            say(c, "OK\r\n");
        else
            say(c, "ERROR failed to start lru crawler thread\r\n");
    } else if (token_eq(sub, nsub, "disable")) {
        atomic_store(&c->srv->crawler_off, true);
        say(c, "OK\r\n");
    } else {
        text_exec_reply(c, TEXT_R_ERROR);
    }
}
