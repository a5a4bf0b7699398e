/*
 * daemon/text_exec.c - see text_exec.h.
 *
 * One handler per command, chosen from a table indexed by enum text_cmd.
 * Handlers turn engine results into replies and count them.
 */
#include "daemon/text_exec.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/lru_admin.h"
#include "daemon/lru_crawler.h"
#include "daemon/maintainer.h"
#include "daemon/prefix_stats.h"
#include "daemon/rates.h"
#include "daemon/server.h"
#include "daemon/slabs_admin.h"
#include "daemon/snapshotter.h"
#include "daemon/stats_report.h"
#include "daemon/tls.h"
#include "daemon/trace.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "lib/cache_meta.h"
#include "proto/token.h"

#define MEMLIMIT_MIN_MB 8
/* Answered to flush_all under -F, before its arguments are looked at. */
#define FLUSH_REFUSED "flush_all not allowed"

static struct thread_stats *tstats(struct conn *c)
{
    return worker_stats(c->worker);
}

void text_exec_reply(struct conn *c, enum text_reply r)
{
    size_t n;
    const char *s = text_reply_str(r, &n);
    reply_text(&c->reply, s, n);
}

static void say(struct conn *c, bool noreply, enum text_reply r)
{
    if (!noreply) {
        text_exec_reply(c, r);
    } else if (trace_on()) {
        size_t n;
        const char *s = text_reply_str(r, &n);
        trace_noreply(c->fd, s, n);
    }
}

static void say_str(struct conn *c, const char *line)
{
    reply_text(&c->reply, line, strlen(line));
}

static void say_server_error(struct conn *c, const char *msg)
{
    char line[320];
    size_t n = text_server_error(line, sizeof(line), msg);
    reply_text(&c->reply, line, n);
}

/* ------------------------------------------------------------ retrieval */

static void send_value(struct conn *c, struct item *it,
                       const struct cache_item_view *v, bool with_cas,
                       bool first_read)
{
    char *dst = reply_reserve(&c->reply, TEXT_VALUE_HEADER_MAX);
    if (dst == NULL) {
        cache_release(c->srv->cache, it);
        return;
    }
    reply_commit(&c->reply,
                 text_value_header(dst, TEXT_VALUE_HEADER_MAX, v->key,
                                   v->nkey, v->flags,
                                   (uint32_t)(v->nbytes - 2), with_cas,
                                   v->cas));
    reply_item(&c->reply, it, v->value, v->nbytes, first_read);
}

/* What a retrieval line asks of each of its keys. */
struct retrieval {
    const int64_t *touch; /* gat/gats: the new exptime */
    bool with_cas;
    bool prefix;          /* stats detail is on: count per prefix */
    bool silent;          /* look up (and touch) only: no VALUE lines */
};

static void retrieve_key(struct conn *c, const struct retrieval *r,
                         const char *key, size_t nkey)
{
    struct thread_stats *ts = tstats(c);
    enum cache_miss why;
    bool first_read;
    struct item *it = cache_get(c->srv->cache, key, nkey, r->touch, &why,
                                &first_read);
    if (r->prefix)
        prefix_stats_record(c->srv->prefix, key, nkey, PREFIX_GET);
    worker_note_key(c->worker, key, nkey);
    /* memcached counts a gat as a touch only */
    if (r->touch != NULL)
        STAT_INC(ts, cmd_touch);
    else
        STAT_INC(ts, cmd_get);
    if (it == NULL) {
        stats_count_miss(ts, why, r->touch != NULL);
        return;
    }
    struct cache_item_view v;
    cache_item_view(c->srv->cache, it, &v);
    /* memcached counts a gat hit as a touch of the class, a get hit by
     * the segment the item was found in. */
    if (r->touch != NULL) {
        STAT_INC(ts, touch_hits);
        CLASS_STAT_INC(ts, v.cls, touch_hits);
    } else {
        STAT_INC(ts, get_hits);
        CLASS_STAT_INC(ts, v.cls, hits[v.seg]);
    }
    if (r->prefix)
        prefix_stats_record(c->srv->prefix, key, nkey, PREFIX_HIT);
    if (r->silent)
        cache_release(c->srv->cache, it);
    else
        send_value(c, it, &v, r->with_cas, first_read);
}

static struct retrieval retrieval_of(struct conn *c,
                                     const struct text_request *req)
{
    bool touch = req->cmd == TEXT_CMD_GAT || req->cmd == TEXT_CMD_GATS;
    return (struct retrieval){
        .touch = touch ? &req->exptime : NULL,
        .with_cas = req->cmd == TEXT_CMD_GETS || req->cmd == TEXT_CMD_GATS,
        .prefix = prefix_stats_enabled(c->srv->prefix),
    };
}

static void retrieve_keys(struct conn *c, const struct retrieval *r,
                          const struct text_request *req)
{
    const char *cur = req->keys, *end = req->keys + req->keys_len, *key;
    size_t nkey;
    while (text_next_key(&cur, end, &key, &nkey))
        retrieve_key(c, r, key, nkey);
}

static void refused_retrieval(struct conn *c, const struct text_request *req)
{
    if (req->keys == NULL || req->keys_len == 0)
        return;
    struct retrieval r = retrieval_of(c, req);
    r.silent = true;
    retrieve_keys(c, &r, req);
    /* memcached drops what it had queued for this connection here,
     * letting go of the items (reply.h) */
    reply_mark_sent(&c->reply);
}

const char *text_exec_refused(struct conn *c, const struct text_request *req)
{
    if (req->cmd == TEXT_CMD_FLUSH_ALL) {
        /* memcached counts a flush_all and checks -F before it reads the
         * delay */
        STAT_INC(tstats(c), cmd_flush);
        if (!c->srv->settings->flush_enabled)
            return FLUSH_REFUSED;
        return req->error;
    }
    refused_retrieval(c, req);
    return req->error;
}

static void exec_retrieve(struct conn *c, const struct text_request *req)
{
    struct retrieval r = retrieval_of(c, req);
    /* The first key spans the whole list when it is the only one, the
     * usual case: no walk over the list. */
    if (req->key != NULL && req->nkey == req->keys_len)
        retrieve_key(c, &r, req->key, req->nkey);
    else
        retrieve_keys(c, &r, req);
    text_exec_reply(c, TEXT_R_END);
    reply_mark_sent(&c->reply);
}

/* -------------------------------------------------------------- storage */

static enum cache_store_mode store_mode(enum text_cmd cmd)
{
    switch (cmd) {
    case TEXT_CMD_ADD: return CACHE_ADD;
    case TEXT_CMD_REPLACE: return CACHE_REPLACE;
    case TEXT_CMD_APPEND: return CACHE_APPEND;
    case TEXT_CMD_PREPEND: return CACHE_PREPEND;
    case TEXT_CMD_CAS: return CACHE_CAS;
    default: return CACHE_SET;
    }
}

/* A value that cannot be stored: answer, swallow its data block, and (for
 * set) drop the old value so a stale one is not served, as memcached. */
static void refuse_store(struct conn *c, const struct text_request *req,
                         enum cache_status st)
{
    struct thread_stats *ts = tstats(c);
    conn_request_done(c, LAT_SET);
    watch_store_refused(c->srv->watch, req->key, req->nkey,
                        st == CACHE_TOO_LARGE, store_mode(req->cmd));
    if (st == CACHE_TOO_LARGE) {
        STAT_INC(ts, store_too_large);
        say(c, req->noreply, TEXT_R_ERR_TOO_LARGE);
    } else {
        STAT_INC(ts, store_no_memory);
        say(c, req->noreply, TEXT_R_ERR_OOM_STORE);
    }
    if (req->cmd == TEXT_CMD_SET)
        cache_delete(c->srv->cache, req->key, req->nkey, NULL);
    c->swallow_left = (size_t)req->nbytes + 2;
    c->state = CONN_SWALLOW;
}

static void exec_storage(struct conn *c, const struct text_request *req)
{
    struct item *it = NULL;
    enum cache_status st = CACHE_TOO_LARGE;
    prefix_stats_record(c->srv->prefix, req->key, req->nkey, PREFIX_SET);
    if ((size_t)req->nbytes + 2 <= cache_item_size_max(c->srv->cache))
        st = cache_alloc(c->srv->cache, req->key, req->nkey, req->flags,
                         req->exptime, (size_t)req->nbytes + 2, &it);
    if (st != CACHE_OK) {
        refuse_store(c, req, st);
        return;
    }
    c->store = (struct conn_store){
        .item = it, .mode = store_mode(req->cmd), .cas = req->cas,
        .noreply = req->noreply, .cmd = req->cmd,
    };
    c->nread_dst = cache_item_value(c->srv->cache, it);
    c->nread_left = (size_t)req->nbytes + 2;
    c->state = CONN_NREAD;
}

void text_exec_store(struct conn *c)
{
    struct conn_store s = c->store;
    struct cache *cache = c->srv->cache;
    struct cache_item_view v;
    c->store.item = NULL;
    conn_request_done(c, LAT_SET);
    cache_item_view(cache, s.item, &v);
    /* memcached counts a set, in all and per class, once its data block
     * is in, good or bad, in the class of the new item: a store refused
     * for its size or for memory is not counted. */
    CLASS_STAT_INC(tstats(c), v.cls, cmd_set);
    STAT_INC(tstats(c), cmd_set);
    if (!text_data_block_ok(v.value, v.nbytes)) {
        say(c, s.noreply, TEXT_R_ERR_BAD_CHUNK);
        cache_release(cache, s.item);
        return;
    }
    unsigned old_cls;
    enum cache_status st = cache_store(cache, s.item, s.mode, s.cas,
                                       &old_cls);
    cache_release(cache, s.item);
    if (s.cmd == TEXT_CMD_CAS)
        stats_count_cas(tstats(c), st, old_cls);
    switch (st) {
    case CACHE_OK: say(c, s.noreply, TEXT_R_STORED); break;
    case CACHE_EXISTS: say(c, s.noreply, TEXT_R_EXISTS); break;
    case CACHE_NOT_FOUND: say(c, s.noreply, TEXT_R_NOT_FOUND); break;
    case CACHE_TOO_LARGE: say(c, s.noreply, TEXT_R_ERR_TOO_LARGE); break;
    default: say(c, s.noreply, TEXT_R_NOT_STORED); break;
    }
}

/* ---------------------------------------------------------- single key */

static void exec_delete(struct conn *c, const struct text_request *req)
{
    unsigned cls;
    enum cache_status st = cache_delete(c->srv->cache, req->key, req->nkey,
                                        &cls);
    prefix_stats_record(c->srv->prefix, req->key, req->nkey, PREFIX_DEL);
    if (st == CACHE_OK) {
        STAT_INC(tstats(c), delete_hits);
        CLASS_STAT_INC(tstats(c), cls, delete_hits);
    } else {
        STAT_INC(tstats(c), delete_misses);
    }
    say(c, req->noreply, st == CACHE_OK ? TEXT_R_DELETED : TEXT_R_NOT_FOUND);
}

static void exec_delta(struct conn *c, const struct text_request *req)
{
    bool incr = req->cmd == TEXT_CMD_INCR;
    struct cache_marith_opts o = {
        .incr = incr, .delta = req->delta,
        .sent = {reply_sent_count, &c->reply},
    };
    struct cache_marith_result r = {0};
    enum cache_status st = cache_marith(c->srv->cache, req->key, req->nkey,
                                        &o, &r);
    uint64_t value = r.value;
    if (st == CACHE_OK || st == CACHE_NOT_FOUND)
        stats_count_delta(tstats(c), incr, st == CACHE_OK, r.cls);
    if (req->noreply)
        return;
    switch (st) {
    case CACHE_OK: {
        char *dst = reply_reserve(&c->reply, 24);
        if (dst != NULL)
            reply_commit(&c->reply, text_number_line(dst, 24, value));
        break;
    }
    case CACHE_NOT_FOUND: text_exec_reply(c, TEXT_R_NOT_FOUND); break;
    case CACHE_NON_NUMERIC: text_exec_reply(c, TEXT_R_ERR_NON_NUMERIC); break;
    default: say_str(c, "SERVER_ERROR out of memory\r\n"); break;
    }
}

static void exec_touch(struct conn *c, const struct text_request *req)
{
    unsigned cls;
    enum cache_status st = cache_touch(c->srv->cache, req->key, req->nkey,
                                       req->exptime, &cls);
    struct thread_stats *ts = tstats(c);
    STAT_INC(ts, cmd_touch);
    if (st == CACHE_OK) {
        STAT_INC(ts, touch_hits);
        CLASS_STAT_INC(ts, cls, touch_hits);
    } else {
        STAT_INC(ts, touch_misses);
    }
    say(c, req->noreply, st == CACHE_OK ? TEXT_R_TOUCHED : TEXT_R_NOT_FOUND);
}

/* --------------------------------------------------------------- admin */

static void exec_flush_all(struct conn *c, const struct text_request *req)
{
    STAT_INC(tstats(c), cmd_flush);
    if (!c->srv->settings->flush_enabled) {
        if (!req->noreply)
            say_str(c, "CLIENT_ERROR " FLUSH_REFUSED "\r\n");
        return;
    }
    cache_flush(c->srv->cache, req->has_exptime ? req->exptime : 0);
    say(c, req->noreply, TEXT_R_OK);
}

static void exec_version(struct conn *c, const struct text_request *req)
{
    (void)req;
    say_str(c, "VERSION " STATS_VERSION_STRING "\r\n");
}

static void exec_verbosity(struct conn *c, const struct text_request *req)
{
    /* memcached stops at 2, its most verbose level for this command */
    log_set_level(req->level > 2 ? 2 : (int)req->level);
    say(c, req->noreply, TEXT_R_OK);
}

static void exec_quit(struct conn *c, const struct text_request *req)
{
    (void)req;
    c->close_after_write = true;
}

static void exec_shutdown(struct conn *c, const struct text_request *req)
{
    if (!c->srv->settings->allow_shutdown) {
        say_str(c, "ERROR: shutdown not enabled\r\n");
        return;
    }
    bool graceful = req->narg == 8 && memcmp(req->arg, "graceful", 8) == 0;
    if (req->narg != 0 && !graceful) {
        say_str(c, "CLIENT_ERROR invalid shutdown mode\r\n");
        return;
    }
    log_info("shutdown requested by a client");
    c->close_after_write = true;
    c->srv->request_shutdown(c->srv);
}

static void exec_memlimit(struct conn *c, const struct text_request *req)
{
    const char *line = "OK\r\n";
    if (req->level < MEMLIMIT_MIN_MB)
        line = "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n";
    else if (req->level > 1000000000) /* memcached's guess: bytes */
        line = "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n";
    else if (!cache_set_limit(c->srv->cache, (uint64_t)req->level << 20))
        line = "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust\r\n";
    if (!req->noreply)
        say_str(c, line);
}

static void exec_debugtime(struct conn *c, const struct text_request *req)
{
    if (!c->srv->settings->enable_debugtime) {
        text_exec_reply(c, TEXT_R_ERROR);
        return;
    }
    if (req->error != NULL) {
        text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
        return;
    }
    /* "p" and "r" (pause, resume) are accepted and do nothing. */
    if (req->narg > 0 && req->exptime > 0)
        clock_advance(c->srv->clock, (uint32_t)req->exptime);
    text_exec_reply(c, TEXT_R_OK);
}

static void emit_stat_line(const char *name, const char *value, void *arg)
{
    struct conn *c = arg;
    size_t cap = strlen(name) + strlen(value) + 16;
    char *dst = reply_reserve(&c->reply, cap);
    if (dst != NULL)
        reply_commit(&c->reply, text_stat_line(dst, cap, name, value));
}

static void emit_raw_line(const char *line, size_t len, void *arg)
{
    reply_text(&((struct conn *)arg)->reply, line, len);
}

/* stats detail on|off|dump */
static void stats_detail(struct conn *c, const char *cur, const char *end)
{
    const char *w;
    size_t n = 0;
    text_next_key(&cur, end, &w, &n);
    if (token_eq(w, n, "on") || token_eq(w, n, "off")) {
        prefix_stats_enable(c->srv->prefix, token_eq(w, n, "on"));
        text_exec_reply(c, TEXT_R_OK);
    } else if (token_eq(w, n, "dump")) {
        prefix_stats_dump(c->srv->prefix, emit_raw_line, c);
        text_exec_reply(c, TEXT_R_END);
    } else {
        say_str(c, "CLIENT_ERROR usage: stats detail on|off|dump\r\n");
    }
}

/* A number argument of stats cachedump, as memcached's safe_strtoul. */
static bool word_u32(const char *w, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(w[i] - '0');
    }
    *out = (uint32_t)v;
    return v <= UINT32_MAX;
}

/* stats cachedump <class> <limit>: keys of one slab class. */
static void stats_cachedump(struct conn *c, const char *cur, const char *end)
{
    const char *w1 = "", *w2 = "";
    size_t n1 = 0, n2 = 0;
    uint32_t cls, limit;
    if (!c->srv->settings->dump_enabled) {
        say_str(c, "CLIENT_ERROR stats cachedump not allowed\r\n"); /* -X */
    } else if (!text_next_key(&cur, end, &w1, &n1) ||
        !text_next_key(&cur, end, &w2, &n2)) {
        say_str(c, "CLIENT_ERROR bad command line\r\n");
    } else if (!word_u32(w1, n1, &cls) || !word_u32(w2, n2, &limit)) {
        text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
    } else if (cls > SLABS_MAX_CLASSES) {
        /* memcached's bound: its class table, used or not */
        say_str(c, "CLIENT_ERROR Illegal slab id\r\n");
    } else if (cls < 1 || cls > cache_nclasses(c->srv->cache)) {
        text_exec_reply(c, TEXT_R_END);
    } else {
        lru_crawler_cachedump(c, cls, limit);
    }
}

/* stats hotkeys [N]: false when it already answered (bad N). */
static bool stats_hotkeys(struct conn *c, const char *cur, const char *end)
{
    const char *w;
    size_t n = 0;
    uint32_t count = STATS_HOTKEYS_DEFAULT;
    if (text_next_key(&cur, end, &w, &n) && !word_u32(w, n, &count)) {
        text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
        return false;
    }
    stats_report_hotkeys(c->srv, count, emit_stat_line, c);
    return true;
}

static void exec_stats(struct conn *c, const struct text_request *req)
{
    struct server *srv = c->srv;
    const char *cur = req->arg, *end = req->arg + req->narg, *sub = "";
    size_t nsub = 0;
    /* memcached picks the report by the first word. */
    text_next_key(&cur, end, &sub, &nsub);
    if (nsub == 0) {
        stats_report_general(srv, emit_stat_line, c);
    } else if (token_eq(sub, nsub, "settings")) {
        stats_report_settings(srv, emit_stat_line, c);
    } else if (token_eq(sub, nsub, "slabs")) {
        stats_report_slabs(srv, emit_stat_line, c);
    } else if (token_eq(sub, nsub, "items")) {
        stats_report_items(srv, emit_stat_line, c);
    } else if (token_eq(sub, nsub, "hotkeys")) {
        if (!stats_hotkeys(c, cur, end))
            return;
    } else if (token_eq(sub, nsub, "rates")) {
        rates_report(srv->rates, emit_stat_line, c);
    } else if (token_eq(sub, nsub, "latency")) {
        stats_report_latency(srv, emit_stat_line, c);
    } else if (token_eq(sub, nsub, "conns")) {
        /* memcached lists the listening sockets first. */
        rel_time_t now = clock_now(srv->clock);
        listener_describe(srv->listener, now, emit_stat_line, c);
        for (int i = 0; i < srv->nworkers; i++)
            worker_describe_conns(srv->workers[i], now, emit_stat_line, c);
    } else if (token_eq(sub, nsub, "extstore")) {
        /* no external storage, so nothing to report: memcached's answer
         * without one */
    } else if (token_eq(sub, nsub, "sizes")) {
        stats_report_sizes(srv, emit_stat_line, c);
    } else if (token_eq(sub, nsub, "sizes_enable")) {
        /* memcached 1.6.18 ends these two replies without END */
        stats_sizes_enable(srv, emit_stat_line, c);
        return;
    } else if (token_eq(sub, nsub, "sizes_disable")) {
        stats_sizes_disable(srv, emit_stat_line, c);
        return;
    } else if (token_eq(sub, nsub, "detail")) {
        stats_detail(c, cur, end);
        return;
    } else if (token_eq(sub, nsub, "cachedump")) {
        stats_cachedump(c, cur, end);
        return;
    } else if (token_eq(sub, nsub, "reset")) {
        stats_report_reset(srv);
        text_exec_reply(c, TEXT_R_RESET);
        return;
    } else {
        text_exec_reply(c, TEXT_R_ERROR);
        return;
    }
    text_exec_reply(c, TEXT_R_END);
}

struct snapshot_wait {
    struct snapshotter *snapshotter;
    uint64_t ticket;
};

static enum conn_stream_step snapshot_produce(struct conn *c, void *state)
{
    struct snapshot_wait *w = state;
    bool ok;
    char why[160], line[256];
    if (!snapshotter_done(w->snapshotter, w->ticket, &ok, why, sizeof(why)))
        return CONN_STREAM_WAIT;
    if (ok) {
        text_exec_reply(c, TEXT_R_OK);
    } else {
        snprintf(line, sizeof(line), "snapshot failed: %s", why);
        say_server_error(c, line);
    }
    return CONN_STREAM_DONE;
}

static void snapshot_wait_free(void *state)
{
    free(state);
}

/* snapshot: answered OK once a snapshot started after this request is on
 * disk; the connection's later requests wait for it. */
static void exec_snapshot(struct conn *c, const struct text_request *req)
{
    struct server *srv = c->srv;
    struct snapshot_wait *w = NULL;
    (void)req;
    if (srv->snapshotter == NULL) {
        say_server_error(c, "snapshots are off: start with "
                            "-o snapshot_path=FILE");
        return;
    }
    w = malloc(sizeof(*w));
    if (w == NULL) {
        say_server_error(c, "out of memory");
        return;
    }
    w->snapshotter = srv->snapshotter;
    w->ticket = snapshotter_request(srv->snapshotter);
    maintainer_wake(srv->maintainer);
    struct conn_stream s = {snapshot_produce, snapshot_wait_free, w, false,
                            -1};
    conn_stream_start(c, &s);
}

/* memcached's replies, "Error ..." lines included. */
static void exec_refresh_certs(struct conn *c, const struct text_request *req)
{
    char line[4200] = "Error ";
    (void)req;
    if (c->srv->tls == NULL)
        snprintf(line, sizeof(line), "Error TLS not enabled");
    else if (tls_refresh(c->srv->tls, line + 6, sizeof(line) - 6))
        snprintf(line, sizeof(line), "OK");
    say_str(c, line);
    say_str(c, "\r\n");
}

static void exec_lru_crawler(struct conn *c, const struct text_request *req)
{
    lru_crawler_exec(c, req->arg, req->narg);
}

static void exec_slabs(struct conn *c, const struct text_request *req)
{
    slabs_admin_exec(c, req->arg, req->narg);
}

static void exec_lru(struct conn *c, const struct text_request *req)
{
    lru_admin_exec(c, req->arg, req->narg);
}

/* ---------------------------------------------------------------- watch */

struct watching {
    struct watch *watch;
    struct watcher *watcher;
};

#define WATCH_TAKE_BYTES (64 * 1024)

static enum conn_stream_step watch_produce(struct conn *c, void *state)
{
    struct watching *w = state;
    /* lines wait in the watcher's bounded buffer, not in the reply
     * queue, while the client is slow: it then loses lines, counted */
    if (reply_pending(&c->reply) >= WATCH_TAKE_BYTES)
        return CONN_STREAM_WAIT;
    char *dst = reply_reserve(&c->reply, WATCH_TAKE_BYTES);
    if (dst == NULL)
        return CONN_STREAM_WAIT;
    size_t n = watch_take(w->watch, w->watcher, dst, WATCH_TAKE_BYTES);
    reply_commit(&c->reply, n);
    /* more lines are written while the socket drains: come back then */
    return n > 0 ? CONN_STREAM_MORE : CONN_STREAM_WAIT;
}

static void watch_finish(void *state)
{
    struct watching *w = state;
    watch_remove(w->watch, w->watcher);
    free(w);
}

/* watch [fetchers|mutations|evictions|deletions|connevents|...]: the
 * connection becomes a log stream for good (daemon/watch.h); with no
 * word, fetchers. */
static void exec_watch(struct conn *c, const struct text_request *req)
{
    if (!c->srv->settings->watch_enabled) {
        say_str(c, "CLIENT_ERROR watch commands not allowed\r\n");
        return;
    }
    /* a datagram has no connection to stream to */
    if (c->fd < 0) {
        text_exec_reply(c, TEXT_R_ERROR);
        return;
    }
    /* memcached refuses when earlier requests of the same read queued
     * replies (or noreply ones ran): they would mix with the log */
    uint32_t earlier = 0;
    for (int g = 0; g < LAT__COUNT; g++)
        earlier += c->done[g];
    if (earlier > 0 || reply_pending(&c->reply) > 0) {
        say_str(c, "ERROR cannot pipeline other commands before watch\r\n");
        return;
    }
    unsigned flags = 0;
    const char *cur = req->arg, *end = req->arg + req->narg, *word;
    size_t n;
    while (text_next_key(&cur, end, &word, &n)) {
        unsigned f = watch_flag_of(word, n);
        if (f == 0) {
            /* an unknown word; "noreply" is one too, and silences it */
            const char *rest = cur, *more;
            size_t nmore;
            if (!token_eq(word, n, "noreply") ||
                text_next_key(&rest, end, &more, &nmore))
                text_exec_reply(c, TEXT_R_ERROR);
            return;
        }
        flags |= f;
    }
    if (flags == 0)
        flags = WATCH_FETCHERS;
    struct watching *w = malloc(sizeof(*w));
    enum watch_added added = WATCH_FAILED;
    if (w != NULL)
        added = watch_add(c->srv->watch, flags, &w->watcher);
    if (added != WATCH_ADDED) {
        /* memcached's two refusals */
        say_str(c, added == WATCH_TOO_MANY
                       ? "WATCHER_TOO_MANY log watcher limit reached\r\n"
                       : "WATCHER_FAILED failed to add log watcher\r\n");
        free(w);
        return;
    }
    w->watch = c->srv->watch;
    say_str(c, "OK\r\n");
    struct conn_stream s = {watch_produce, watch_finish, w, true, -1};
    conn_stream_start(c, &s);
}

typedef void (*text_handler)(struct conn *c, const struct text_request *req);

static const text_handler handlers[TEXT_CMD__COUNT] = {
    [TEXT_CMD_GET] = exec_retrieve,
    [TEXT_CMD_GETS] = exec_retrieve,
    [TEXT_CMD_GAT] = exec_retrieve,
    [TEXT_CMD_GATS] = exec_retrieve,
    [TEXT_CMD_SET] = exec_storage,
    [TEXT_CMD_ADD] = exec_storage,
    [TEXT_CMD_REPLACE] = exec_storage,
    [TEXT_CMD_APPEND] = exec_storage,
    [TEXT_CMD_PREPEND] = exec_storage,
    [TEXT_CMD_CAS] = exec_storage,
    [TEXT_CMD_DELETE] = exec_delete,
    [TEXT_CMD_INCR] = exec_delta,
    [TEXT_CMD_DECR] = exec_delta,
    [TEXT_CMD_TOUCH] = exec_touch,
    [TEXT_CMD_FLUSH_ALL] = exec_flush_all,
    [TEXT_CMD_VERSION] = exec_version,
    [TEXT_CMD_VERBOSITY] = exec_verbosity,
    [TEXT_CMD_QUIT] = exec_quit,
    [TEXT_CMD_SHUTDOWN] = exec_shutdown,
    [TEXT_CMD_STATS] = exec_stats,
    [TEXT_CMD_CACHE_MEMLIMIT] = exec_memlimit,
    [TEXT_CMD_DEBUGTIME] = exec_debugtime,
    [TEXT_CMD_LRU_CRAWLER] = exec_lru_crawler,
    [TEXT_CMD_SLABS] = exec_slabs,
    [TEXT_CMD_LRU] = exec_lru,
    [TEXT_CMD_SNAPSHOT] = exec_snapshot,
    [TEXT_CMD_REFRESH_CERTS] = exec_refresh_certs,
    [TEXT_CMD_WATCH] = exec_watch,
};

static enum latency_group latency_group_of(enum text_cmd cmd)
{
    switch (cmd) {
    case TEXT_CMD_GET: case TEXT_CMD_GETS: return LAT_GET;
    case TEXT_CMD_GAT: case TEXT_CMD_GATS: case TEXT_CMD_TOUCH:
        return LAT_TOUCH;
    case TEXT_CMD_SET: case TEXT_CMD_ADD: case TEXT_CMD_REPLACE:
    case TEXT_CMD_APPEND: case TEXT_CMD_PREPEND: case TEXT_CMD_CAS:
        return LAT_SET;
    case TEXT_CMD_DELETE: return LAT_DELETE;
    case TEXT_CMD_INCR: case TEXT_CMD_DECR: return LAT_INCR;
    default: return LAT_OTHER;
    }
}

void text_exec(struct conn *c, const struct text_request *req)
{
    text_handler h = req->cmd < TEXT_CMD__COUNT ? handlers[req->cmd] : NULL;
    if (h == NULL) {
        text_exec_reply(c, TEXT_R_ERROR);
        return;
    }
    h(c, req);
    /* A storage command is done when its data block is: it is counted in
     * text_exec_store() or refuse_store(). */
    if (latency_group_of(req->cmd) != LAT_SET)
        conn_request_done(c, latency_group_of(req->cmd));
}
