/*
 * daemon/binary_exec.c - see binary_exec.h.
 *
 * Which statuses each command answers, what a quiet variant leaves out
 * and what every request counts in `stats` follow memcached 1.6.18's
 * binary protocol code; tests/diff/binary_diff.py compares the two.
 */
#include "daemon/binary_exec.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/binary_sasl.h"
#include "daemon/log.h"
#include "daemon/prefix_stats.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/stats_report.h"
#include "daemon/trace.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "lib/cache_meta.h"
#include "proto/binary.h"

/* The longest body sent from memory: an error text, a stat, a version. */
#define BIN_INLINE_MAX 512
/* -S: the largest SASL_AUTH/SASL_STEP value taken; a PLAIN token is a
 * user and a password. */
#define BIN_SASL_VALUE_MAX 16384

static struct thread_stats *tstats(struct conn *c)
{
    return worker_stats(c->worker);
}

/* Queue one response whose body parts are all in memory. */
static void send_packet(struct conn *c, const struct bin_request *r,
                        uint16_t status, const char *extras, uint8_t extlen,
                        const char *key, uint16_t keylen, const char *value,
                        uint32_t vlen, uint64_t cas)
{
    size_t n = BIN_HEADER_LEN + (size_t)extlen + keylen + vlen;
    char *dst = reply_reserve(&c->reply, n);
    if (dst == NULL)
        return; /* out of memory: the client times out, as on a lost reply */
    bin_write_header(dst, r, status, extlen, keylen,
                     (uint32_t)extlen + keylen + vlen, cas);
    char *p = dst + BIN_HEADER_LEN;
    if (extlen > 0)
        memcpy(p, extras, extlen);
    if (keylen > 0)
        memcpy(p + extlen, key, keylen);
    if (vlen > 0)
        memcpy(p + extlen + keylen, value, vlen);
    reply_commit(&c->reply, n);
}

/* Errors are answered even for a quiet request, as in memcached. */
static void send_error(struct conn *c, const struct bin_request *r,
                       uint16_t status)
{
    const char *text = bin_status_text(status);
    send_packet(c, r, status, NULL, 0, NULL, 0, text,
                (uint32_t)strlen(text), 0);
}

static void send_ok(struct conn *c, const struct bin_request *r,
                    const char *value, uint32_t vlen, uint64_t cas)
{
    if (!r->quiet)
        send_packet(c, r, BIN_STATUS_OK, NULL, 0, NULL, 0, value, vlen, cas);
}

/* Discard the request's value, still in the input. */
static void skip_value(struct conn *c, const struct bin_request *r)
{
    if (r->vlen == 0)
        return;
    c->swallow_left = r->vlen;
    c->state = CONN_SWALLOW;
}

/* ------------------------------------------------------------ retrieval */

/* A hit: flags, then the key and the value as the command asks. The
 * reply holds the item until it is written, value or not, as memcached's
 * does (reply.h); first_read: this request read it for the first time. */
static void send_item(struct conn *c, const struct bin_request *r,
                      struct item *it, const struct cache_item_view *v,
                      bool with_key, bool with_value, bool first_read)
{
    uint16_t keylen = with_key ? (uint16_t)v->nkey : 0;
    uint32_t vlen = with_value ? (uint32_t)(v->nbytes - 2) : 0;
    size_t n = BIN_HEADER_LEN + 4 + (size_t)keylen;
    char *dst = reply_reserve(&c->reply, n);
    if (dst == NULL) {
        cache_release(c->srv->cache, it);
        return;
    }
    bin_write_header(dst, r, BIN_STATUS_OK, 4, keylen, 4 + keylen + vlen,
                     v->cas);
    bin_put32(dst + BIN_HEADER_LEN, v->flags);
    memcpy(dst + BIN_HEADER_LEN + 4, v->key, keylen);
    reply_commit(&c->reply, n);
    reply_item(&c->reply, it, v->value, vlen, first_read);
}

/* GET, GETK, TOUCH, GAT, GATK and their quiet variants. memcached counts
 * a touching command as a touch only, a plain one as a get. */
static void exec_get(struct conn *c, const struct bin_request *r)
{
    bool touch = r->cmd == BIN_CMD_TOUCH || r->cmd == BIN_CMD_GAT ||
                 r->cmd == BIN_CMD_GATK;
    bool with_key = r->cmd == BIN_CMD_GETK || r->cmd == BIN_CMD_GATK;
    int64_t exptime = touch ? (int64_t)bin_get32(r->extras) : 0;
    struct thread_stats *ts = tstats(c);
    enum cache_miss why;
    bool first_read;
    struct item *it = cache_get(c->srv->cache, r->key, r->keylen,
                                touch ? &exptime : NULL, &why, &first_read);
    prefix_stats_record(c->srv->prefix, r->key, r->keylen, PREFIX_GET);
    worker_note_key(c->worker, r->key, r->keylen);
    conn_request_done(c, touch ? LAT_TOUCH : LAT_GET);
    if (touch)
        STAT_INC(ts, cmd_touch);
    else
        STAT_INC(ts, cmd_get);
    if (it == NULL) {
        stats_count_miss(ts, why, touch);
        if (r->quiet)
            return;
        if (with_key)
            send_packet(c, r, BIN_STATUS_KEY_ENOENT, NULL, 0, r->key,
                        r->keylen, NULL, 0, 0);
        else
            send_error(c, r, BIN_STATUS_KEY_ENOENT);
        return;
    }
    struct cache_item_view v;
    cache_item_view(c->srv->cache, it, &v);
    if (touch) {
        STAT_INC(ts, touch_hits);
        CLASS_STAT_INC(ts, v.cls, touch_hits);
    } else {
        STAT_INC(ts, get_hits);
        CLASS_STAT_INC(ts, v.cls, hits[v.seg]);
    }
    prefix_stats_record(c->srv->prefix, r->key, r->keylen, PREFIX_HIT);
    send_item(c, r, it, &v, with_key, r->cmd != BIN_CMD_TOUCH, first_read);
}

/* -------------------------------------------------------------- storage */

static bool is_append(uint8_t cmd)
{
    return cmd == BIN_CMD_APPEND || cmd == BIN_CMD_PREPEND;
}

/* SET, ADD, REPLACE, APPEND, PREPEND: allocate, then read the value
 * straight into the item (NREAD); binary_exec_store() finishes. */
static enum cache_store_mode store_mode(const struct bin_request *r);

static void exec_store(struct conn *c, const struct bin_request *r)
{
    struct thread_stats *ts = tstats(c);
    uint32_t flags = 0;
    int64_t exptime = 0;
    if (!is_append(r->cmd)) {
        flags = bin_get32(r->extras);
        exptime = (int64_t)bin_get32(r->extras + 4);
    }
    prefix_stats_record(c->srv->prefix, r->key, r->keylen, PREFIX_SET);
    struct item *it = NULL;
    enum cache_status st = CACHE_TOO_LARGE;
    if ((size_t)r->vlen + 2 <= cache_item_size_max(c->srv->cache))
        st = cache_alloc(c->srv->cache, r->key, r->keylen, flags, exptime,
                         (size_t)r->vlen + 2, &it);
    if (st != CACHE_OK) {
        conn_request_done(c, LAT_SET);
        watch_store_refused(c->srv->watch, r->key, r->keylen,
                            st == CACHE_TOO_LARGE, store_mode(r));
        if (st == CACHE_TOO_LARGE)
            STAT_INC(ts, store_too_large);
        else
            STAT_INC(ts, store_no_memory);
        send_error(c, r, st == CACHE_TOO_LARGE ? BIN_STATUS_E2BIG
                                               : BIN_STATUS_ENOMEM);
        /* a failed set must not leave the old value to be served */
        if (r->cmd == BIN_CMD_SET)
            cache_delete(c->srv->cache, r->key, r->keylen, NULL);
        skip_value(c, r);
        return;
    }
    c->store = (struct conn_store){.item = it, .binary = true, .bin = *r};
    c->store.bin.extras = c->store.bin.key = NULL; /* the buffer moves */
    c->nread_dst = cache_item_value(c->srv->cache, it);
    c->nread_left = r->vlen;
    c->state = CONN_NREAD;
}

/* What memcached answers when a store did not happen: an add that found
 * the key, a replace that did not, anything else "not stored". */
static uint16_t not_stored_status(const struct bin_request *r, uint64_t cas)
{
    if (cas == 0 && r->cmd == BIN_CMD_ADD)
        return BIN_STATUS_KEY_EEXISTS;
    if (cas == 0 && r->cmd == BIN_CMD_REPLACE)
        return BIN_STATUS_KEY_ENOENT;
    return BIN_STATUS_NOT_STORED;
}

static enum cache_store_mode store_mode(const struct bin_request *r)
{
    switch (r->cmd) {
    case BIN_CMD_ADD: return CACHE_ADD;
    case BIN_CMD_REPLACE: return CACHE_REPLACE;
    case BIN_CMD_APPEND: return CACHE_APPEND;
    case BIN_CMD_PREPEND: return CACHE_PREPEND;
    default: return CACHE_SET;
    }
}

void binary_exec_store(struct conn *c)
{
    struct conn_store s = c->store;
    const struct bin_request *r = &s.bin;
    struct cache *cache = c->srv->cache;
    c->store.item = NULL;
    conn_request_done(c, LAT_SET);
    /* the value came without the "\r\n" items end with */
    memcpy(cache_item_value(cache, s.item) + r->vlen, "\r\n", 2);
    struct cache_item_view v;
    cache_item_view(cache, s.item, &v);
    CLASS_STAT_INC(tstats(c), v.cls, cmd_set);
    STAT_INC(tstats(c), cmd_set);
    /* A CAS makes any set, add or replace a compare-and-swap, and an
     * append or prepend conditional on it, as in memcached. Under -C
     * memcached has nowhere to keep the request's CAS and stores as if
     * none came. */
    uint64_t cas = c->srv->settings->use_cas ? r->cas : 0;
    struct cache_mstore_opts o = {
        .mode = is_append(r->cmd) ? store_mode(r)
                : cas != 0 ? CACHE_SET : store_mode(r),
        .compare = cas != 0,
        .cas = cas,
    };
    struct cache_mstore_result res = {0};
    enum cache_status st = cache_mstore(cache, s.item, &o, &res);
    cache_release(cache, s.item);
    if (cas != 0 && !is_append(r->cmd))
        stats_count_cas(tstats(c), st, v.cls);
    switch (st) {
    case CACHE_OK: send_ok(c, r, NULL, 0, res.cas); break;
    case CACHE_EXISTS: send_error(c, r, BIN_STATUS_KEY_EEXISTS); break;
    case CACHE_NOT_FOUND: send_error(c, r, BIN_STATUS_KEY_ENOENT); break;
    default: send_error(c, r, not_stored_status(r, cas)); break;
    }
}

/* ---------------------------------------------------------- single key */

static void exec_delete(struct conn *c, const struct bin_request *r)
{
    struct cache_mdelete_opts o = {.compare = r->cas != 0, .cas = r->cas};
    unsigned cls = 0;
    enum cache_status st = cache_mdelete(c->srv->cache, r->key, r->keylen,
                                         &o, &cls);
    prefix_stats_record(c->srv->prefix, r->key, r->keylen, PREFIX_DEL);
    conn_request_done(c, LAT_DELETE);
    if (st == CACHE_OK) {
        STAT_INC(tstats(c), delete_hits);
        CLASS_STAT_INC(tstats(c), cls, delete_hits);
        send_ok(c, r, NULL, 0, 0);
    } else if (st == CACHE_EXISTS) {
        send_error(c, r, BIN_STATUS_KEY_EEXISTS);
    } else {
        STAT_INC(tstats(c), delete_misses);
        send_error(c, r, BIN_STATUS_KEY_ENOENT);
    }
}

/* INCREMENT, DECREMENT: a miss creates the counter with the initial
 * value unless the expiration is BIN_DELTA_NO_CREATE. */
static void exec_delta(struct conn *c, const struct bin_request *r)
{
    uint32_t exp = bin_get32(r->extras + 16);
    struct cache_marith_opts o = {
        .incr = r->cmd == BIN_CMD_INCREMENT,
        .delta = bin_get64(r->extras),
        .compare = r->cas != 0,
        .cas = r->cas,
        .vivify = exp != BIN_DELTA_NO_CREATE,
        .vivify_exptime = (int64_t)exp,
        .initial = bin_get64(r->extras + 8),
        .sent = {reply_sent_count, &c->reply},
    };
    struct cache_marith_result res = {0};
    enum cache_status st = cache_marith(c->srv->cache, r->key, r->keylen,
                                        &o, &res);
    conn_request_done(c, LAT_INCR);
    /* memcached counts neither a hit nor a miss for a counter it made */
    if ((st == CACHE_OK && !res.created) || st == CACHE_NOT_FOUND)
        stats_count_delta(tstats(c), o.incr, st == CACHE_OK, res.cls);
    char value[8];
    switch (st) {
    case CACHE_OK:
        bin_put64(value, res.value);
        send_ok(c, r, value, sizeof(value), res.cas);
        break;
    case CACHE_NOT_FOUND: send_error(c, r, BIN_STATUS_KEY_ENOENT); break;
    case CACHE_EXISTS: send_error(c, r, BIN_STATUS_KEY_EEXISTS); break;
    case CACHE_NON_NUMERIC: send_error(c, r, BIN_STATUS_DELTA_BADVAL); break;
    default: send_error(c, r, BIN_STATUS_ENOMEM); break;
    }
}

/* --------------------------------------------------------------- admin */

static void exec_flush(struct conn *c, const struct bin_request *r)
{
    conn_request_done(c, LAT_OTHER);
    if (!c->srv->settings->flush_enabled) {
        send_error(c, r, BIN_STATUS_AUTH_ERROR);
        return;
    }
    STAT_INC(tstats(c), cmd_flush);
    cache_flush(c->srv->cache,
                r->extlen == BIN_FLUSH_EXTRAS ? (int64_t)bin_get32(r->extras)
                                              : 0);
    send_ok(c, r, NULL, 0, 0);
}

struct stat_emit {
    struct conn *c;
    const struct bin_request *r;
};

/* One stat: its name as the key, its value as the value. */
static void emit_stat(const char *name, const char *value, void *arg)
{
    struct stat_emit *e = arg;
    size_t nk = strlen(name), nv = strlen(value);
    if (nk > BIN_INLINE_MAX || nv > BIN_INLINE_MAX)
        return;
    send_packet(e->c, e->r, BIN_STATUS_OK, NULL, 0, name, (uint16_t)nk,
                value, (uint32_t)nv, 0);
}

/* The stats detail dump, gathered for one packet. */
struct dump_text {
    char *p;
    size_t len, cap;
    bool failed;
};

static void gather(const char *line, size_t len, void *arg)
{
    struct dump_text *d = arg;
    if (d->failed)
        return;
    if (d->len + len > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4096;
        while (cap < d->len + len)
            cap *= 2;
        char *p = realloc(d->p, cap);
        if (p == NULL) {
            d->failed = true;
            return;
        }
        d->p = p;
        d->cap = cap;
    }
    memcpy(d->p + d->len, line, len);
    d->len += len;
}

/* memcached's answer to "detail dump": one stat, "detailed", holding
 * the text `stats detail dump` prints, END line included. */
static void send_detail_dump(struct conn *c, const struct bin_request *r)
{
    struct dump_text d = {0};
    prefix_stats_dump(c->srv->prefix, gather, &d);
    gather("END\r\n", 5, &d);
    if (d.failed)
        send_error(c, r, BIN_STATUS_ENOMEM);
    else
        send_packet(c, r, BIN_STATUS_OK, NULL, 0, "detailed", 8, d.p,
                    (uint32_t)d.len, 0);
    free(d.p);
}

/* Whether the key starts with word (exact: is word). */
static bool key_is(const struct bin_request *r, const char *word, bool exact)
{
    size_t n = strlen(word);
    return (exact ? r->keylen == n : r->keylen >= n) &&
           memcmp(r->key, word, n) == 0;
}

/* STAT [group]: one packet per stat, then an empty one. As in memcached,
 * reset, settings and detail are picked by their leading letters, the
 * other groups by the whole key, and conns, latency etc. are not known
 * here. Any value is not read with the request: memcached takes it for
 * the next one. */
static void exec_stat(struct conn *c, const struct bin_request *r)
{
    struct server *srv = c->srv;
    struct stat_emit e = {c, r};
    conn_request_done(c, LAT_OTHER);
    if (r->keylen == 0) {
        stats_report_general(srv, emit_stat, &e);
    } else if (key_is(r, "reset", false)) {
        stats_report_reset(srv);
    } else if (key_is(r, "settings", false)) {
        stats_report_settings(srv, emit_stat, &e);
    } else if (key_is(r, "detail on", false) ||
               key_is(r, "detail off", false)) {
        prefix_stats_enable(srv->prefix, key_is(r, "detail on", false));
    } else if (key_is(r, "detail dump", false)) {
        send_detail_dump(c, r);
    } else if (key_is(r, "items", true)) {
        stats_report_items(srv, emit_stat, &e);
    } else if (key_is(r, "slabs", true)) {
        stats_report_slabs(srv, emit_stat, &e);
    } else if (key_is(r, "sizes", true)) {
        stats_report_sizes(srv, emit_stat, &e);
    } else {
        send_error(c, r, BIN_STATUS_KEY_ENOENT);
        return;
    }
    send_packet(c, r, BIN_STATUS_OK, NULL, 0, NULL, 0, NULL, 0, 0);
}

/* ----------------------------------------------------------------- SASL */

static bool is_sasl(uint8_t cmd)
{
    return cmd == BIN_CMD_SASL_LIST_MECHS || cmd == BIN_CMD_SASL_AUTH ||
           cmd == BIN_CMD_SASL_STEP;
}

/* -S: what memcached lets a connection do before it has authenticated. */
static bool sasl_exempt(uint8_t cmd)
{
    return cmd == BIN_CMD_VERSION || is_sasl(cmd);
}

/* SASL_LIST_MECHS, SASL_AUTH, SASL_STEP. The value (vlen bytes) is
 * buffered at the input's start: binary_exec_parse() waited for it. */
static void exec_sasl(struct conn *c, const struct bin_request *r)
{
    static const char done[] = "Authenticated";
    const char *value = c->rbuf + c->rpos, *out;
    unsigned nout;
    enum sasl_outcome o;
    if (r->cmd == BIN_CMD_SASL_LIST_MECHS) {
        const char *mechs = binary_sasl_mechs(&c->sasl, &nout);
        if (mechs == NULL)
            send_error(c, r, BIN_STATUS_AUTH_ERROR);
        else
            send_packet(c, r, BIN_STATUS_OK, NULL, 0, NULL, 0, mechs, nout, 0);
        return;
    }
    STAT_INC(tstats(c), auth_cmds);
    if (r->cmd == BIN_CMD_SASL_AUTH)
        o = binary_sasl_start(&c->sasl, r->key, r->keylen, value, r->vlen,
                              &out, &nout);
    else if (c->sasl_stepping)
        o = binary_sasl_step(&c->sasl, value, r->vlen, &out, &nout);
    else
        o = SASL_REFUSED; /* no exchange to step */
    c->sasl_stepping = o == SASL_MORE;
    c->rpos += r->vlen;
    /* a failed exchange after a good one leaves the connection out */
    c->sasl_ok = o == SASL_DONE;
    if (o == SASL_DONE) {
        send_packet(c, r, BIN_STATUS_OK, NULL, 0, NULL, 0, done,
                    sizeof(done) - 1, 0);
    } else if (o == SASL_MORE) {
        send_packet(c, r, BIN_STATUS_AUTH_CONTINUE, NULL, 0, NULL, 0, out,
                    nout, 0);
    } else {
        STAT_INC(tstats(c), auth_errors);
        send_error(c, r, BIN_STATUS_AUTH_ERROR);
    }
}

/* Before authentication anything else is refused, and the connection
 * closed, as memcached does. */
static bool sasl_refused(struct conn *c, const struct bin_request *r)
{
    if (!c->srv->settings->sasl || c->sasl_ok || sasl_exempt(r->cmd))
        return false;
    send_error(c, r, BIN_STATUS_AUTH_ERROR);
    c->close_after_write = true;
    return true;
}

static void exec_request(struct conn *c, const struct bin_request *r)
{
    static const char version[] = STATS_VERSION_STRING;
    if (sasl_refused(c, r))
        return;
    if (c->srv->settings->sasl && is_sasl(r->cmd)) {
        exec_sasl(c, r);
        return;
    }
    switch (r->cmd) {
    case BIN_CMD_GET:
    case BIN_CMD_GETK:
    case BIN_CMD_TOUCH:
    case BIN_CMD_GAT:
    case BIN_CMD_GATK:
        exec_get(c, r);
        break;
    case BIN_CMD_SET:
    case BIN_CMD_ADD:
    case BIN_CMD_REPLACE:
    case BIN_CMD_APPEND:
    case BIN_CMD_PREPEND:
        exec_store(c, r);
        break;
    case BIN_CMD_DELETE: exec_delete(c, r); break;
    case BIN_CMD_INCREMENT:
    case BIN_CMD_DECREMENT:
        exec_delta(c, r);
        break;
    case BIN_CMD_FLUSH: exec_flush(c, r); break;
    case BIN_CMD_STAT: exec_stat(c, r); break;
    case BIN_CMD_NOOP:
        /* memcached writes out everything queued at a noop (reply.h) */
        send_packet(c, r, BIN_STATUS_OK, NULL, 0, NULL, 0, NULL, 0, 0);
        reply_mark_sent(&c->reply);
        break;
    case BIN_CMD_VERSION:
        send_packet(c, r, BIN_STATUS_OK, NULL, 0, NULL, 0, version,
                    sizeof(version) - 1, 0);
        break;
    case BIN_CMD_QUIT:
        send_ok(c, r, NULL, 0, 0);
        c->close_after_write = true;
        break;
    default: /* SASL: zeekdb has no authentication, like memcached
              * without -S */
        send_error(c, r, BIN_STATUS_UNKNOWN_COMMAND);
        skip_value(c, r);
        break;
    }
}

bool binary_exec_parse(struct conn *c)
{
    struct bin_request req;
    size_t used = 0;
    uint16_t status = 0;
    switch (bin_parse(c->rbuf + c->rpos, c->rlen - c->rpos, &req, &used,
                      &status)) {
    case BIN_NEED_MORE:
        return false;
    case BIN_CLOSE:
        /* the replies to the requests before it still go out */
        log_info("closing a binary connection: bad request magic");
        c->close_after_write = true;
        return false;
    case BIN_ERROR_CLOSE:
        c->rpos += used;
        send_error(c, &req, status);
        c->close_after_write = true;
        return false;
    case BIN_UNKNOWN:
        c->rpos += used;
        send_error(c, &req, status);
        skip_value(c, &req);
        return true;
    case BIN_OK:
        break;
    }
    /* -S: a SASL value is taken from the buffer, whole */
    if (c->srv->settings->sasl && is_sasl(req.cmd)) {
        if (req.vlen > BIN_SASL_VALUE_MAX) {
            c->rpos += used;
            send_error(c, &req, BIN_STATUS_EINVAL);
            c->close_after_write = true;
            return false;
        }
        if (c->rlen - c->rpos - used < req.vlen)
            return false;
    }
    c->rpos += used;
    if (trace_on())
        log_msg(LOG_DEBUG, "<%d binary opcode 0x%02x key %.*s", c->fd,
                req.opcode, (int)req.keylen, req.key);
    exec_request(c, &req);
    return true;
}
