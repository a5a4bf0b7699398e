/*
 * daemon/meta_exec.c - see meta_exec.h.
 *
 * One handler per command. Each turns the request's flags into the
 * options of one engine call (lib/cache_meta.h), counts the result the
 * way memcached 1.6.18 counts it, and writes the reply with
 * meta_reply(). Quiet mode (q) drops exactly the replies memcached drops
 * (see proto/meta.h); errors are always sent.
 */
#include "daemon/meta_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/text_exec.h"
#include "daemon/trace.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "lib/cache_meta.h"
#include "proto/meta.h"
#include "proto/text.h"

/* An ms waiting for its data block. The request points into the read
 * buffer, which moves while the value is read, so what the reply needs
 * is copied here. */
struct meta_pending {
    struct meta_request req;
    char key[META_KEY_MAX];
    char opaque[META_OPAQUE_MAX];
};

/* The key the engine sees: decoded when sent as base64. */
struct meta_key {
    const char *p;
    size_t n;
    unsigned char bin[META_BINKEY_MAX];
};

static struct thread_stats *tstats(struct conn *c)
{
    return worker_stats(c->worker);
}

static void say_str(struct conn *c, const char *s)
{
    reply_text(&c->reply, s, strlen(s));
}

static void key_of(const struct meta_request *req, struct meta_key *k)
{
    k->p = req->key;
    k->n = req->nkey;
    if (req->key_b64) {
        k->n = meta_key_decode(req->key, req->nkey, k->bin, sizeof(k->bin));
        k->p = (const char *)k->bin;
    }
}

/* The position of flag letter f in the request, or -1. */
static int flag_pos(const struct meta_request *req, char f)
{
    for (size_t i = 0; i < req->norder; i++) {
        if (req->order[i] == f)
            return (int)i;
    }
    return -1;
}

/* True when flag a was sent and came before flag b. */
static bool sent_before(const struct meta_request *req, char a, char b)
{
    int pa = flag_pos(req, a), pb = flag_pos(req, b);
    return pa >= 0 && pa < pb;
}

static void send_line(struct conn *c, enum meta_code code,
                      const struct meta_request *req,
                      const struct meta_item *mi)
{
    char *dst = reply_reserve(&c->reply, META_REPLY_MAX);
    if (dst != NULL)
        reply_commit(&c->reply,
                     meta_reply(dst, META_REPLY_MAX, code, req, mi));
}

/* ------------------------------------------------------------------ mg */

static void mg_options(const struct meta_request *req,
                       struct cache_mget_opts *o)
{
    *o = (struct cache_mget_opts){
        .no_bump = meta_has(req, 'u'),
        .touch = meta_has(req, 'T'),
        .touch_exptime = req->ttl,
        .vivify = meta_has(req, 'N'),
        .vivify_exptime = req->vivify_ttl,
        .binary_key = req->key_b64,
        .recache = meta_has(req, 'R'),
        .recache_ttl = req->recache,
        /* memcached applies the flags in the order sent */
        .recache_after_touch = sent_before(req, 'T', 'R'),
        .vivify_after_touch = sent_before(req, 'T', 'N'),
        .set_cas = meta_has(req, 'E'),
        .new_cas = req->new_cas,
    };
}

/* v: the item found, NULL on a miss. */
static void mg_count(struct conn *c, const struct meta_request *req,
                     const struct meta_key *k,
                     const struct cache_item_view *v, enum cache_miss why)
{
    struct thread_stats *ts = tstats(c);
    worker_note_key(c->worker, k->p, k->n);
    if (v == NULL) {
        STAT_INC(ts, cmd_get);
        STAT_INC(ts, get_misses);
        if (why == CACHE_MISS_EXPIRED)
            STAT_INC(ts, get_expired);
        else if (why == CACHE_MISS_FLUSHED)
            STAT_INC(ts, get_flushed);
        return;
    }
    /* A hit that touched counts as a touch only, as in memcached. */
    if (meta_has(req, 'T')) {
        STAT_INC(ts, cmd_touch);
        STAT_INC(ts, touch_hits);
        CLASS_STAT_INC(ts, v->cls, touch_hits);
    } else {
        STAT_INC(ts, cmd_get);
        STAT_INC(ts, get_hits);
        CLASS_STAT_INC(ts, v->cls, hits[v->seg]);
    }
}

static void exec_mg(struct conn *c, const struct meta_request *req)
{
    struct meta_key k;
    struct cache_mget_opts o;
    struct cache_meta m;
    enum cache_miss why = CACHE_MISS_ABSENT;
    key_of(req, &k);
    mg_options(req, &o);
    struct item *it = cache_mget(c->srv->cache, k.p, k.n, &o, &m, &why);
    if (it == NULL) {
        mg_count(c, req, &k, NULL, why);
        if (!meta_has(req, 'q'))
            send_line(c, META_R_EN, req, NULL);
        return;
    }
    struct cache_item_view v;
    cache_item_view(c->srv->cache, it, &v);
    mg_count(c, req, &k, &v, why);
    /* t shows the TTL as it was where t stands among the flags. */
    bool changed = sent_before(req, 'T', 't') ||
                   (m.created && sent_before(req, 'N', 't'));
    struct meta_item mi = {
        .key = (const unsigned char *)v.key, .nkey = v.nkey,
        .key_binary = m.binary_key, .size = m.nbytes, .cas = m.cas,
        .client_flags = m.flags, .ttl = changed ? m.ttl : m.ttl_before,
        .last_access = m.idle, .fetched = m.fetched,
        .token_sent = m.token_sent, .stale = m.stale, .won = m.won,
    };
    bool value = meta_has(req, 'v');
    send_line(c, value ? META_R_VA : META_R_HD, req, &mi);
    /* memcached keeps the item with the reply until it is written, value
     * or not, which a counter's size shows (reply.h). A read that does
     * not bump (u) is no later read to its LRU either. */
    reply_item(&c->reply, it, v.value, value ? v.nbytes : 0,
               !m.fetched || o.no_bump);
}

/* ------------------------------------------------------------------ ms */

static enum cache_store_mode ms_mode(enum meta_op op)
{
    switch (op) {
    case META_OP_ADD: return CACHE_ADD;
    case META_OP_APPEND: return CACHE_APPEND;
    case META_OP_PREPEND: return CACHE_PREPEND;
    case META_OP_REPLACE: return CACHE_REPLACE;
    default: return CACHE_SET;
    }
}

/* A value that cannot be stored: say why, drop the old value so a stale
 * one is not served (memcached does so in every mode), skip the data. */
static void ms_refuse(struct conn *c, const struct meta_request *req,
                      const struct meta_key *k, enum cache_status st)
{
    conn_request_done(c, LAT_SET);
    watch_store_refused(c->srv->watch, k->p, k->n, st == CACHE_TOO_LARGE,
                        ms_mode(req->op));
    if (st == CACHE_TOO_LARGE) {
        STAT_INC(tstats(c), store_too_large);
        text_exec_reply(c, TEXT_R_ERR_TOO_LARGE);
    } else {
        STAT_INC(tstats(c), store_no_memory);
        text_exec_reply(c, TEXT_R_ERR_OOM_STORE);
    }
    cache_delete(c->srv->cache, k->p, k->n, NULL);
    c->swallow_left = (size_t)req->datalen + 2;
    c->state = CONN_SWALLOW;
}

/* Keep what the reply will need once the data block is in. */
static bool ms_remember(struct conn *c, const struct meta_request *req)
{
    if (c->meta == NULL && (c->meta = malloc(sizeof(*c->meta))) == NULL)
        return false;
    struct meta_pending *p = c->meta;
    p->req = *req;
    memcpy(p->key, req->key, req->nkey);
    p->req.key = p->key;
    if (req->opaque != NULL) {
        memcpy(p->opaque, req->opaque, req->nopaque);
        p->req.opaque = p->opaque;
    }
    p->req.error = NULL;
    return true;
}

static void exec_ms(struct conn *c, const struct meta_request *req)
{
    struct meta_key k;
    struct item *it = NULL;
    enum cache_status st = CACHE_TOO_LARGE;
    key_of(req, &k);
    if ((size_t)req->datalen + 2 <= cache_item_size_max(c->srv->cache))
        st = cache_alloc(c->srv->cache, k.p, k.n, req->client_flags,
                         meta_has(req, 'T') ? req->ttl : 0,
                         (size_t)req->datalen + 2, &it);
    if (st == CACHE_OK && !ms_remember(c, req)) {
        cache_release(c->srv->cache, it);
        st = CACHE_NO_MEMORY;
    }
    if (st != CACHE_OK) {
        ms_refuse(c, req, &k, st);
        return;
    }
    c->store = (struct conn_store){.item = it, .meta = true};
    c->nread_dst = cache_item_value(c->srv->cache, it);
    c->nread_left = (size_t)req->datalen + 2;
    c->state = CONN_NREAD;
}

/* old_cls: the class of the item the CAS was compared with, where
 * memcached counts it too. */
static void ms_count(struct conn *c, const struct meta_request *req,
                     enum cache_status st, unsigned old_cls)
{
    struct thread_stats *ts = tstats(c);
    bool cas_mode = meta_has(req, 'C') && (req->op == META_OP_SET ||
                                           req->op == META_OP_REPLACE);
    if (cas_mode)
        stats_count_cas(ts, st, old_cls);
}

static enum meta_code ms_code(enum cache_status st)
{
    switch (st) {
    case CACHE_OK: return META_R_HD;
    case CACHE_EXISTS: return META_R_EX;
    case CACHE_NOT_FOUND: return META_R_NF;
    default: return META_R_NS;
    }
}

void meta_exec_store(struct conn *c)
{
    struct item *it = c->store.item;
    const struct meta_request *req = &c->meta->req;
    struct cache *cache = c->srv->cache;
    struct cache_item_view v;
    c->store.item = NULL;
    conn_request_done(c, LAT_SET);
    cache_item_view(cache, it, &v);
    /* counted once the data is in, as memcached does, a bad one too */
    CLASS_STAT_INC(tstats(c), v.cls, cmd_set);
    STAT_INC(tstats(c), cmd_set);
    if (!text_data_block_ok(v.value, v.nbytes)) {
        text_exec_reply(c, TEXT_R_ERR_BAD_CHUNK); /* even with q */
        cache_release(cache, it);
        return;
    }
    struct cache_mstore_opts o = {
        .mode = ms_mode(req->op),
        .compare = meta_has(req, 'C'), .cas = req->cas,
        .invalidate = meta_has(req, 'I'),
        .set_cas = meta_has(req, 'E'), .new_cas = req->new_cas,
        .vivify = meta_has(req, 'N'), .vivify_exptime = req->vivify_ttl,
        .binary_key = req->key_b64,
    };
    struct cache_mstore_result r;
    enum cache_status st = cache_mstore(cache, it, &o, &r);
    cache_release(cache, it);
    ms_count(c, req, st, r.old_cls);
    if (st == CACHE_OK && meta_has(req, 'q'))
        return;
    struct meta_item mi = {.cas = r.cas, .size = r.size};
    send_line(c, ms_code(st), req, &mi);
}

/* ------------------------------------------------------------------ md */

static void exec_md(struct conn *c, const struct meta_request *req)
{
    struct meta_key k;
    key_of(req, &k);
    struct cache_mdelete_opts o = {
        .compare = meta_has(req, 'C'), .cas = req->cas,
        .invalidate = meta_has(req, 'I'),
        .touch = meta_has(req, 'T'), .touch_exptime = req->ttl,
        .drop_value = meta_has(req, 'x'),
        .set_cas = meta_has(req, 'E'), .new_cas = req->new_cas,
    };
    unsigned cls;
    enum cache_status st = cache_mdelete(c->srv->cache, k.p, k.n, &o, &cls);
    /* As memcached: a CAS mismatch is a miss, an invalidation nothing. */
    if (st == CACHE_NOT_FOUND || st == CACHE_EXISTS) {
        STAT_INC(tstats(c), delete_misses);
    } else if (st == CACHE_OK && !o.invalidate) {
        STAT_INC(tstats(c), delete_hits);
        CLASS_STAT_INC(tstats(c), cls, delete_hits);
    }
    switch (st) {
    case CACHE_OK:
        if (!meta_has(req, 'q'))
            send_line(c, META_R_HD, req, NULL);
        break;
    case CACHE_EXISTS: send_line(c, META_R_EX, req, NULL); break;
    case CACHE_NOT_FOUND: send_line(c, META_R_NF, req, NULL); break;
    default: say_str(c, "SERVER_ERROR out of memory\r\n"); break;
    }
}

/* ------------------------------------------------------------------ ma */

/* As incr/decr; a counter N just created is neither a hit nor a miss. */
static void ma_count(struct conn *c, bool incr, enum cache_status st,
                     const struct cache_marith_result *r)
{
    if (st == CACHE_NOT_FOUND || (st == CACHE_OK && !r->created))
        stats_count_delta(tstats(c), incr, st == CACHE_OK, r->cls);
}

static void ma_answer(struct conn *c, const struct meta_request *req,
                      const struct cache_marith_result *r)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%llu\r\n",
                     (unsigned long long)r->value);
    /* q hides the answer for an existing counter, not a new one */
    if (meta_has(req, 'q') && !r->created)
        return;
    struct meta_item mi = {
        .size = (uint32_t)n - 2, .cas = r->cas, .ttl = r->ttl,
    };
    bool value = meta_has(req, 'v');
    send_line(c, value ? META_R_VA : META_R_HD, req, &mi);
    if (value)
        reply_text(&c->reply, digits, (size_t)n);
}

static void exec_ma(struct conn *c, const struct meta_request *req)
{
    struct meta_key k;
    struct cache_marith_result r = {0};
    bool incr = req->op == META_OP_INCR;
    key_of(req, &k);
    /* ma C0 compares nothing: memcached's do_add_delta takes a zero CAS
     * for none (as its append mode does, lib/cache_meta.c). */
    struct cache_marith_opts o = {
        .incr = incr, .delta = req->delta,
        .compare = meta_has(req, 'C') && req->cas != 0, .cas = req->cas,
        .touch = meta_has(req, 'T'), .touch_exptime = req->ttl,
        /* a counter it creates gets the TTL of whichever of N and T came
         * later, as in memcached, where both set the same field */
        .vivify = meta_has(req, 'N'),
        .vivify_exptime = sent_before(req, 'N', 'T') ? req->ttl
                                                     : req->vivify_ttl,
        .initial = req->initial, .binary_key = req->key_b64,
        .set_cas = meta_has(req, 'E'), .new_cas = req->new_cas,
    };
    o.sent = (struct cache_sent_refs){reply_sent_count, &c->reply};
    enum cache_status st = cache_marith(c->srv->cache, k.p, k.n, &o, &r);
    ma_count(c, incr, st, &r);
    switch (st) {
    case CACHE_OK: ma_answer(c, req, &r); break;
    case CACHE_NOT_FOUND: send_line(c, META_R_NF, req, NULL); break;
    case CACHE_EXISTS: send_line(c, META_R_EX, req, NULL); break;
    case CACHE_NON_NUMERIC:
        text_exec_reply(c, TEXT_R_ERR_NON_NUMERIC);
        break;
    default: say_str(c, "SERVER_ERROR out of memory\r\n"); break;
    }
}

/* -------------------------------------------------------------- mn me */

/* memcached writes out everything queued at mn (reply.h). */
static void exec_mn(struct conn *c, const struct meta_request *req)
{
    send_line(c, META_R_MN, req, NULL);
    reply_mark_sent(&c->reply);
}

static void exec_me(struct conn *c, const struct meta_request *req)
{
    struct meta_key k;
    struct cache_mdebug m;
    key_of(req, &k);
    STAT_INC(tstats(c), cmd_meta);
    if (!cache_mdebug(c->srv->cache, k.p, k.n, &m)) {
        say_str(c, "EN\r\n");
        return;
    }
    struct meta_debug d = {
        .key = (const unsigned char *)k.p, .nkey = k.n,
        .key_binary = m.binary_key, .exp = m.exp, .la = m.la,
        .cas = m.cas, .fetched = m.fetched, .cls = m.cls, .size = m.size,
    };
    char *dst = reply_reserve(&c->reply, META_REPLY_MAX);
    if (dst != NULL)
        reply_commit(&c->reply, meta_debug_line(dst, META_REPLY_MAX, &d));
}

/* ------------------------------------------------------------ dispatch */

typedef void (*meta_handler)(struct conn *c, const struct meta_request *req);

static const struct {
    meta_handler fn;
    enum latency_group group;
} commands[META_CMD__COUNT] = {
    [META_CMD_MG] = {exec_mg, LAT_GET},
    [META_CMD_MS] = {exec_ms, LAT_SET}, /* timed when its data is in */
    [META_CMD_MD] = {exec_md, LAT_DELETE},
    [META_CMD_MA] = {exec_ma, LAT_INCR},
    [META_CMD_MN] = {exec_mn, LAT_OTHER},
    [META_CMD_ME] = {exec_me, LAT_OTHER},
};

static void client_error(struct conn *c, const struct meta_request *req)
{
    char line[256];
    size_t n = text_client_error(line, sizeof(line), req->error);
    reply_text(&c->reply, line, n);
    if (req->swallow > 0) {
        c->swallow_left = req->swallow;
        c->state = CONN_SWALLOW;
    }
}

bool meta_exec_parse(struct conn *c)
{
    struct meta_request req;
    size_t used = 0;
    enum meta_status st = meta_parse(c->rbuf + c->rpos, c->rlen - c->rpos,
                                     &req, &used);
    switch (st) {
    case META_NEED_MORE:
        return false;
    case META_CLOSE:
        c->closing = true;
        return false;
    case META_ERROR:
    case META_CLIENT_ERROR:
    case META_OK:
        break;
    }
    if (trace_on())
        trace_request(c->fd, c->rbuf + c->rpos, used);
    c->rpos += used;
    if (st == META_ERROR) {
        text_exec_reply(c, TEXT_R_ERROR);
        return true;
    }
    if (st == META_CLIENT_ERROR) {
        client_error(c, &req);
        return true;
    }
    commands[req.cmd].fn(c, &req);
    if (req.cmd != META_CMD_MS)
        conn_request_done(c, commands[req.cmd].group);
    return true;
}
