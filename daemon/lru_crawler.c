/*
 * daemon/lru_crawler.c - see lru_crawler.h.
 */
#include "daemon/lru_crawler.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conn.h"
#include "daemon/server.h"
#include "daemon/text_exec.h"
#include "lib/cache.h"
#include "lib/slabs.h"
#include "proto/meta.h"
#include "proto/num.h"
#include "proto/text.h"
#include "proto/uri.h"

/* Hash buckets per stream step: about 1.5 items each at full load, so a
 * step holds each stripe for microseconds and queues a few KiB. */
#define DUMP_BUCKETS_PER_STEP 256
/* memcached's limit for lru_crawler sleep, in microseconds. */
#define CRAWLER_SLEEP_MAX 1000000

enum dump_format { DUMP_META, DUMP_MG };

struct dump {
    struct server *srv;
    struct cache *cache;
    enum dump_format format;
    uint64_t classes; /* bit per class id to list; all bits for all */
    uint64_t cursor;
};

static void say(struct conn *c, const char *s)
{
    reply_text(&c->reply, s, strlen(s));
}

/* Longest line: the encoded key plus the fixed fields. */
#define DUMP_LINE_MAX (3 * ITEM_KEY_MAX + 160)

static size_t meta_line(char *dst, const struct cache_item_info *info)
{
    size_t n = (size_t)sprintf(dst, "key=");
    n += uri_encode(dst + n, info->view.key, info->view.nkey);
    n += (size_t)sprintf(dst + n,
                         " exp=%" PRId64 " la=%" PRId64 " cas=%" PRIu64
                         " fetch=%s cls=%u size=%zu\n",
                         info->expires == 0 ? (int64_t)-1
                                            : (int64_t)info->expires,
                         (int64_t)info->atime, info->view.cas,
                         info->fetched ? "yes" : "no", info->cls,
                         info->total);
    return n;
}

/* A binary key goes out in base64 with the b flag, so the line can be
 * sent back as it is. */
static size_t mg_line(char *dst, const struct cache_item_info *info)
{
    size_t n = 3;
    memcpy(dst, "mg ", 3);
    if (info->key_binary) {
        n += meta_key_encode((const unsigned char *)info->view.key,
                             info->view.nkey, dst + n, DUMP_LINE_MAX - 16);
        memcpy(dst + n, " b", 2);
        n += 2;
    } else {
        memcpy(dst + n, info->view.key, info->view.nkey);
        n += info->view.nkey;
    }
    memcpy(dst + n, "\r\n", 2);
    return n + 2;
}

/* Under the item's stripe: format straight into the reply queue. */
static void dump_item(const struct cache_item_info *info, void *arg)
{
    struct conn *c = arg;
    struct dump *d = c->stream.state;
    if (!(d->classes & ((uint64_t)1 << info->cls)))
        return;
    char *dst = reply_reserve(&c->reply, DUMP_LINE_MAX);
    if (dst == NULL)
        return; /* out of memory: the listing misses a key, as a cache may */
    reply_commit(&c->reply, d->format == DUMP_META ? meta_line(dst, info)
                                                   : mg_line(dst, info));
}

static enum conn_stream_step dump_produce(struct conn *c, void *state)
{
    struct dump *d = state;
    if (!cache_scan_step(d->cache, &d->cursor, DUMP_BUCKETS_PER_STEP,
                         dump_item, c))
        return CONN_STREAM_MORE;
    say(c, d->format == DUMP_META ? "END\r\n" : "EN\r\n");
    return CONN_STREAM_DONE;
}

static void dump_finish(void *state)
{
    struct dump *d = state;
    atomic_fetch_sub(&d->srv->crawler_running, 1);
    free(d);
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

static void start_dump(struct conn *c, enum dump_format format,
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
    struct dump *d = malloc(sizeof(*d));
    if (d == NULL) {
        say(c, "SERVER_ERROR out of memory\r\n");
        return;
    }
    *d = (struct dump){c->srv, c->srv->cache, format, classes, 0};
    atomic_fetch_add(&c->srv->crawler_starts, 1);
    atomic_fetch_add(&c->srv->crawler_running, 1);
    struct conn_stream s = {dump_produce, dump_finish, d, false};
    conn_stream_start(c, &s);
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
            start_dump(c, token_eq(sub, nsub, "metadump") ? DUMP_META : DUMP_MG,
                       w, n);
        }
    } else if (token_eq(sub, nsub, "sleep")) {
        if (!num_u32(&tk, &v))
            text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
        else if (v > CRAWLER_SLEEP_MAX)
            say(c, "CLIENT_ERROR sleep must be one second or less\r\n");
        else
            say(c, "OK\r\n");
    } else if (token_eq(sub, nsub, "tocrawl")) {
        if (!num_u32(&tk, &v))
            text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
        else
            say(c, "OK\r\n");
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
