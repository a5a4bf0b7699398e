/*
 * daemon/conn.c - see conn.h.
 *
 * One event per connection, switched between EV_READ and EV_WRITE: it
 * waits for writability only while replies are stuck in the socket, and
 * then reads nothing, which is the backpressure on a client that does not
 * read its replies.
 */
#include "daemon/conn.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/auth_exec.h"
#include "daemon/binary_exec.h"
#include "daemon/binary_sasl.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/meta_exec.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/text_exec.h"
#include "daemon/trace.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "lib/histogram.h"
#include "proto/meta.h"
#include "proto/text.h"

#define RBUF_INITIAL (16 * 1024)
/* A multi-get line may be long; one longer than this closes the
 * connection rather than grow without bound. */
#define RBUF_MAX (8 * 1024 * 1024)
/* Stop parsing when this much reply is queued, and write it first. */
#define REPLY_HIGH_WATER (4 * 1024 * 1024)

static void conn_event(evutil_socket_t fd, short what, void *arg);

static void describe_ends(struct conn *c)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0)
        listener_format_addr(&ss, len, c->addr, sizeof(c->addr));
    len = sizeof(ss);
    if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
        listener_format_addr(&ss, len, c->listen_addr, sizeof(c->listen_addr));
}

/* memcached's -vv line for a new connection, by -B. */
static void trace_new_conn(struct conn *c)
{
    const char *b = c->srv->settings->binding_protocol;
    if (strcmp(b, "auto") == 0)
        log_msg(LOG_DEBUG, "<%d new auto-negotiating client connection",
                c->fd);
    else
        log_msg(LOG_DEBUG, "<%d new %s client connection.", c->fd, b);
}

/* What a socket connection and a datagram connection share: the struct
 * and the read buffer (NULL without memory), then the reply queue and the
 * buffer figures once it is sure to be used. */
static struct conn *conn_alloc(struct worker *w, struct server *srv, int fd)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->fd = fd;
    c->worker = w;
    c->srv = srv;
    c->authenticated = srv->auth == NULL;
    c->rbuf = malloc(RBUF_INITIAL);
    c->rcap = RBUF_INITIAL;
    if (c->rbuf == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

static void conn_buffers_start(struct conn *c)
{
    struct buffer_stats *bs = &worker_stats(c->worker)->buffers;
    STAT_INC(bs, read_buf_count);
    STAT_ADD(bs, read_buf_bytes, c->rcap);
    reply_init(&c->reply, c->srv->cache, bs);
}

static void conn_free(struct conn *c)
{
    binary_sasl_free(&c->sasl);
    reply_deinit(&c->reply);
    struct buffer_stats *bs = &worker_stats(c->worker)->buffers;
    STAT_SUB(bs, read_buf_count, 1);
    STAT_SUB(bs, read_buf_bytes, c->rcap);
    free(c->meta);
    free(c->rbuf);
    free(c);
}

/* -Z: TCP connections speak TLS; a unix socket stays plain, as in
 * memcached. False without memory. */
static bool start_tls(struct conn *c)
{
    struct server *srv = c->srv;
    if (srv->tls == NULL || strncmp(c->listen_addr, "tcp:", 4) != 0 ||
        listener_accepted_plain(srv->listener, c->fd))
        return true;
    c->ssl = tls_session(srv->tls, c->fd);
    return c->ssl != NULL;
}

struct conn *conn_create(struct worker *w, struct server *srv, int fd)
{
    struct conn *c = conn_alloc(w, srv, fd);
    if (c != NULL) {
        describe_ends(c);
        c->ev_flags = EV_READ;
        c->ev = event_new(worker_base(w), fd, EV_READ | EV_PERSIST,
                          conn_event, c);
        if (c->ev == NULL || !start_tls(c) || event_add(c->ev, NULL) != 0) {
            if (c->ev != NULL)
                event_free(c->ev);
            tls_session_free(&c->ssl);
            free(c->rbuf);
            free(c);
            c = NULL;
        }
    }
    if (c == NULL) {
        atomic_fetch_add(&srv->malloc_fails, 1);
        return NULL;
    }
    conn_buffers_start(c);
    atomic_store_explicit(&c->last_active, clock_now(srv->clock),
                          memory_order_relaxed);
    if (trace_on())
        trace_new_conn(c);
    c->close_why = WATCH_CLOSE_NORMAL;
    watch_conn_new(srv->watch, fd);
    worker_conn_added(w, c);
    atomic_fetch_add(&srv->curr_conns, 1);
    atomic_fetch_add(&srv->total_conns, 1);
    atomic_fetch_add(&srv->conn_structures, 1);
    return c;
}

struct conn *conn_create_datagram(struct worker *w, struct server *srv)
{
    struct conn *c = conn_alloc(w, srv, -1);
    if (c == NULL)
        return NULL;
    conn_buffers_start(c);
    snprintf(c->addr, sizeof(c->addr), "udp");
    return c;
}

void conn_destroy_datagram(struct conn *c)
{
    if (c != NULL)
        conn_free(c);
}

static void resume_fired(evutil_socket_t fd, short what, void *arg);

/* The stream's end, also when the connection goes first: its wake-up
 * event goes before the stream's state (and its descriptor) does. */
static void stream_finish(struct conn *c)
{
    if (c->stream_wake != NULL) {
        event_free(c->stream_wake);
        c->stream_wake = NULL;
    }
    c->stream.finish(c->stream.state);
}

void conn_destroy(struct conn *c)
{
    if (trace_on())
        log_msg(LOG_DEBUG, "<%d connection closed.", c->fd);
    watch_conn_close(c->srv->watch, c->fd, c->close_why);
    /* Out of `stats conns` and the counts before the socket closes: a
     * client that has seen the close finds it gone from them. */
    worker_conn_removed(c->worker, c);
    atomic_fetch_sub(&c->srv->curr_conns, 1);
    atomic_fetch_sub(&c->srv->conn_structures, 1);
    event_free(c->ev);
    /* Its close_notify goes out before the descriptor can be reused. */
    tls_session_free(&c->ssl);
    close(c->fd);
    if (c->store.item != NULL)
        cache_release(c->srv->cache, c->store.item);
    if (c->state == CONN_STREAM)
        stream_finish(c);
    if (c->resume_timer != NULL)
        event_free(c->resume_timer);
    conn_free(c);
}

static void set_interest(struct conn *c, short flags)
{
    if (c->ev_flags == flags)
        return;
    event_del(c->ev);
    event_assign(c->ev, worker_base(c->worker), c->fd, flags | EV_PERSIST,
                 conn_event, c);
    event_add(c->ev, NULL);
    c->ev_flags = flags;
}

/* Give back a read buffer that grew for one long request once it is
 * empty again, so an idle connection costs RBUF_INITIAL. */
static void shrink_rbuf(struct conn *c)
{
    if (c->rcap <= RBUF_INITIAL || c->rpos != c->rlen)
        return;
    char *b = realloc(c->rbuf, RBUF_INITIAL);
    if (b == NULL)
        return;
    STAT_SUB(&worker_stats(c->worker)->buffers, read_buf_bytes,
             c->rcap - RBUF_INITIAL);
    c->rbuf = b;
    c->rcap = RBUF_INITIAL;
    c->rpos = c->rlen = 0;
}

/* Make room for more input: drop parsed bytes, grow when a line is longer
 * than the buffer. False when the line is too long to accept. */
static bool make_room(struct conn *c)
{
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen < c->rcap)
        return true;
    if (c->rcap >= RBUF_MAX)
        return false;
    struct buffer_stats *bs = &worker_stats(c->worker)->buffers;
    char *b = realloc(c->rbuf, c->rcap * 2);
    if (b == NULL) {
        STAT_INC(bs, read_buf_oom);
        return false;
    }
    STAT_ADD(bs, read_buf_bytes, c->rcap);
    c->rbuf = b;
    c->rcap *= 2;
    return true;
}

/* One read() into dst; returns bytes, 0 on EOF or error, -1 on EAGAIN. */
static ssize_t read_into(struct conn *c, char *dst, size_t cap)
{
    ssize_t n;
    if (c->ssl != NULL) {
        n = tls_read(c->srv->tls, c->ssl, dst, cap);
    } else {
        do {
            n = read(c->fd, dst, cap);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            c->close_why = WATCH_CLOSE_ERROR;
            return 0;
        }
    }
    if (n < 0)
        return -1;
    if (n > 0)
        STAT_ADD(worker_stats(c->worker), bytes_read, (uint64_t)n);
    return n;
}

/* Read what the socket has. A value larger than what is buffered goes
 * straight into its item. Returns false when the peer is gone. */
static bool conn_read(struct conn *c)
{
    ssize_t n;
    if (c->state == CONN_NREAD && c->rpos == c->rlen) {
        n = read_into(c, c->nread_dst, c->nread_left);
        if (n > 0) {
            c->nread_dst += n;
            c->nread_left -= (size_t)n;
        }
        return n != 0;
    }
    if (!make_room(c)) {
        log_info("closing a connection: request line too long");
        return false;
    }
    n = read_into(c, c->rbuf + c->rlen, c->rcap - c->rlen);
    if (n > 0)
        c->rlen += (size_t)n;
    return n != 0;
}

/* NREAD: move buffered bytes into the item; finish when complete. */
static void nread_step(struct conn *c)
{
    size_t have = c->rlen - c->rpos;
    size_t take = have < c->nread_left ? have : c->nread_left;
    memcpy(c->nread_dst, c->rbuf + c->rpos, take);
    c->rpos += take;
    c->nread_dst += take;
    c->nread_left -= take;
    if (c->nread_left == 0) {
        c->state = CONN_PARSE;
        if (c->store.binary)
            binary_exec_store(c);
        else if (c->store.meta)
            meta_exec_store(c);
        else
            text_exec_store(c);
    }
}

static void swallow_step(struct conn *c)
{
    size_t have = c->rlen - c->rpos;
    size_t take = have < c->swallow_left ? have : c->swallow_left;
    c->rpos += take;
    c->swallow_left -= take;
    if (c->swallow_left == 0)
        c->state = CONN_PARSE;
}

void conn_stream_start(struct conn *c, const struct conn_stream *s)
{
    c->stream = *s;
    c->state = CONN_STREAM;
    /* without it (or a datagram), the stream is asked again on a timer */
    if (s->wake_fd >= 0 && c->fd >= 0)
        c->stream_wake = event_new(worker_base(c->worker), s->wake_fd,
                                   EV_READ, resume_fired, c);
    /* A watcher shows as one from now: its OK may reach the client, and
     * the client ask `stats conns`, before this event ends. */
    if (s->watch)
        atomic_store_explicit(&c->shown_state, SHOWN_WATCH,
                              memory_order_relaxed);
}

/* False when the stream waits for something else to happen. */
static bool stream_step(struct conn *c)
{
    switch (c->stream.produce(c, c->stream.state)) {
    case CONN_STREAM_MORE:
        return true;
    case CONN_STREAM_WAIT:
        c->stream_waiting = true;
        return false;
    case CONN_STREAM_DONE:
        break;
    }
    stream_finish(c);
    c->state = CONN_PARSE;
    return true;
}

/* As memcached with -B auto: a connection whose first byte is the
 * binary request magic speaks binary for good, any other text. */
static void choose_protocol(struct conn *c)
{
    const char *b = c->srv->settings->binding_protocol;
    c->proto_chosen = true;
    if (strcmp(b, "binary") == 0)
        c->binary = true;
    else if (strcmp(b, "auto") == 0) {
        c->binary = (unsigned char)c->rbuf[c->rpos] == BIN_REQUEST_MAGIC;
        if (trace_on() && c->fd >= 0)
            log_msg(LOG_DEBUG, "%d: Client using the %s protocol", c->fd,
                    c->binary ? "binary" : "ascii");
    }
}

/* Parse and execute one request. Returns false when more bytes are
 * needed. */
static bool parse_one(struct conn *c)
{
    struct text_request req;
    size_t used = 0;
    if (!c->proto_chosen)
        choose_protocol(c);
    if (!c->authenticated)
        return auth_exec_parse(c);
    if (c->binary)
        return binary_exec_parse(c);
    if (meta_is_meta_line(c->rbuf + c->rpos, c->rlen - c->rpos))
        return meta_exec_parse(c);
    enum text_status st = text_parse(c->rbuf + c->rpos, c->rlen - c->rpos,
                                     &req, &used);
    switch (st) {
    case TEXT_NEED_MORE:
        return false;
    case TEXT_CLOSE:
        c->closing = true;
        return false;
    case TEXT_ERROR:
        if (trace_on())
            trace_request(c->fd, c->rbuf + c->rpos, used);
        c->rpos += used;
        if (!req.noreply)
            text_exec_reply(c, TEXT_R_ERROR);
        return true;
    case TEXT_CLIENT_ERROR:
        if (trace_on())
            trace_request(c->fd, c->rbuf + c->rpos, used);
        c->rpos += used;
        const char *why = text_exec_refused(c, &req);
        if (!req.noreply) {
            char line[256];
            size_t n = text_client_error(line, sizeof(line), why);
            reply_text(&c->reply, line, n);
        }
        if (req.swallow > 0) {
            c->swallow_left = req.swallow;
            c->state = CONN_SWALLOW;
        }
        return true;
    case TEXT_OK:
        /* Checked here: a call with its arguments cost about 25
         * instructions per request with tracing off. */
        if (trace_on())
            trace_request(c->fd, c->rbuf + c->rpos, used);
        c->rpos += used;
        text_exec(c, &req);
        return true;
    }
    return false;
}

/* -vv: the reply text a request step queued, from offset `from`. */
static void trace_step(struct conn *c, size_t from)
{
    if (!c->binary && c->reply.len > from)
        trace_reply(c->fd, c->reply.buf + from, c->reply.len - from);
}

/* Work through buffered input until it runs out, the -R budget is spent,
 * or enough replies are queued to write first. */
static void conn_process(struct conn *c)
{
    int budget = c->srv->settings->reqs_per_event;
    bool tracing = trace_on();
    c->yielded = false;
    while (!c->closing && !c->close_after_write) {
        size_t from = c->reply.len;
        if (c->state == CONN_NREAD) {
            nread_step(c);
            if (tracing)
                trace_step(c, from);
            if (c->state == CONN_NREAD)
                return;
            continue;
        }
        if (c->state == CONN_SWALLOW) {
            swallow_step(c);
            if (c->state == CONN_SWALLOW)
                return;
            continue;
        }
        bool streaming = c->state == CONN_STREAM;
        if (!streaming && c->rpos == c->rlen)
            return;
        if (reply_pending(&c->reply) > REPLY_HIGH_WATER) {
            /* write first, then go on with what is buffered, even when
             * the write takes it all at once and no event would come */
            c->yielded = true;
            return;
        }
        if (budget-- <= 0) {
            c->yielded = true;
            STAT_INC(worker_stats(c->worker), conn_yields);
            return;
        }
        if (streaming) {
            if (!stream_step(c))
                return;
            continue;
        }
        bool more = parse_one(c);
        if (tracing)
            trace_step(c, from);
        if (!more)
            return;
    }
}

static enum reply_io flush_replies(struct conn *c, size_t *written)
{
    if (c->ssl != NULL) {
        size_t cap;
        char *buf = worker_tls_buffer(c->worker, &cap);
        return tls_flush(c->ssl, buf, cap, &c->tls_retry, &c->reply, written);
    }
    return reply_flush(&c->reply, c->fd, written);
}

/* memcached writes nothing while it waits for the rest of a data block
 * (its nread and swallow states) but what it wrote before (reply_hold):
 * a client that sends a command line and holds back the block gets the
 * replies queued since the last get no sooner than from memcached. */
static bool waits_for_data(const struct conn *c)
{
    return c->state == CONN_NREAD || c->state == CONN_SWALLOW;
}

/* Write queued replies, but those held while waiting for data. False
 * when the connection must close now. */
static bool conn_write(struct conn *c)
{
    size_t written;
    reply_hold(&c->reply, waits_for_data(c));
    enum reply_io io = flush_replies(c, &written);
    if (written > 0)
        STAT_ADD(worker_stats(c->worker), bytes_written, written);
    if (io == REPLY_ERROR) {
        c->close_why = WATCH_CLOSE_ERROR;
        return false;
    }
    set_interest(c, io == REPLY_AGAIN ? EV_WRITE : EV_READ);
    if (io == REPLY_DONE && c->close_after_write &&
        reply_pending(&c->reply) == 0)
        return false;
    return true;
}

/* A `watch` log: shown as conn_watch whatever it is doing. */
static bool watching(const struct conn *c)
{
    return c->state == CONN_STREAM && c->stream.watch;
}

static void show_state(struct conn *c)
{
    static const int shown[] = {
        [CONN_PARSE] = SHOWN_READ,
        [CONN_NREAD] = SHOWN_NREAD,
        [CONN_SWALLOW] = SHOWN_SWALLOW,
        [CONN_STREAM] = SHOWN_WRITE,
    };
    int st = watching(c)                    ? SHOWN_WATCH
             : reply_ready(&c->reply) > 0   ? SHOWN_WRITE
                                            : shown[c->state];
    atomic_store_explicit(&c->shown_state, st, memory_order_relaxed);
}

void conn_describe(struct conn *c, rel_time_t now,
                   void (*emit)(const char *name, const char *value,
                                void *arg),
                   void *arg)
{
    static const char *const names[] = {
        [SHOWN_READ] = "conn_read",
        [SHOWN_PARSE] = "conn_parse_cmd",
        [SHOWN_NREAD] = "conn_nread",
        [SHOWN_SWALLOW] = "conn_swallow",
        [SHOWN_WRITE] = "conn_mwrite",
        [SHOWN_WATCH] = "conn_watch",
    };
    char key[32], secs[16];
    rel_time_t last = atomic_load_explicit(&c->last_active,
                                           memory_order_relaxed);
    snprintf(key, sizeof(key), "%d:addr", c->fd);
    emit(key, c->addr, arg);
    snprintf(key, sizeof(key), "%d:listen_addr", c->fd);
    emit(key, c->listen_addr, arg);
    snprintf(key, sizeof(key), "%d:state", c->fd);
    emit(key, names[atomic_load_explicit(&c->shown_state,
                                         memory_order_relaxed)], arg);
    snprintf(key, sizeof(key), "%d:secs_since_last_cmd", c->fd);
    snprintf(secs, sizeof(secs), "%u", now > last ? now - last : 0);
    emit(key, secs, arg);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Every request finished in this event took from the moment the worker
 * started on the event (read, parse, execute, write) until now: one clock
 * read per event and one more per event that finished a request. Both
 * are vDSO reads; libevent's precise cached time would cost a
 * timerfd_settime() system call on every pass of the loop. */
static void record_latency(struct conn *c)
{
    uint64_t took = 0;
    for (int g = 0; g < LAT__COUNT; g++) {
        if (c->done[g] == 0)
            continue;
        if (took == 0) {
            uint64_t now = mono_ns();
            took = now > c->event_start_ns ? now - c->event_start_ns : 1;
        }
        histogram_record_n(worker_latency(c->worker, (enum latency_group)g),
                           took, c->done[g]);
        c->done[g] = 0;
    }
}

static void resume_fired(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    /* A stream goes on without reading: a waiting one reads (and sees
     * its client leave) only when the socket itself wakes it. */
    if (c->state == CONN_STREAM)
        c->yielded = true;
    event_active(c->ev, EV_READ, 0);
}

#define STREAM_WAIT_MS 5

/* Run the connection's event again after `ms`, and after the worker has
 * polled its sockets even at 0: libevent runs an event activated from
 * its own callback before it polls again, so a connection that yields
 * that way (a long pipeline, a metadump) would hold the worker until it
 * is done, and its other connections would wait that long. */
static bool resume_after(struct conn *c, int ms)
{
    if (c->resume_timer == NULL)
        c->resume_timer = evtimer_new(worker_base(c->worker), resume_fired,
                                      c);
    struct timeval tv = {0, ms * 1000};
    return c->resume_timer != NULL && evtimer_add(c->resume_timer, &tv) == 0;
}

/* A waiting stream goes on when its wake-up descriptor says so, or
 * else after a pause. */
static bool resume_when_woken(struct conn *c)
{
    if (c->stream_wake != NULL)
        return event_add(c->stream_wake, NULL) == 0;
    return resume_after(c, STREAM_WAIT_MS);
}

/* A stream other than a watcher (a key listing) waiting for more reads
 * nothing, so a client that has shut down its sending side still gets
 * all of it; a watcher reads, and so sees its client leave. */
static bool listing_waits(const struct conn *c)
{
    return c->state == CONN_STREAM && !c->stream.watch;
}

static void conn_event(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    watch_set_fd(c->fd);
    c->event_start_ns = mono_ns();
    atomic_store_explicit(&c->last_active, clock_now(c->srv->clock),
                          memory_order_relaxed);
    atomic_store_explicit(&c->shown_state,
                          watching(c) ? SHOWN_WATCH : SHOWN_PARSE,
                          memory_order_relaxed);
    if (what & EV_WRITE) {
        if (!conn_write(c))
            goto close;
        if (reply_ready(&c->reply) > 0) {
            show_state(c);
            return; /* still stuck: read nothing more */
        }
    }
    /* A yield re-activates the event to continue buffered work without
     * reading; otherwise the socket is readable. */
    if ((what & EV_READ) && !c->yielded) {
        if (listing_waits(c)) {
            set_interest(c, 0); /* until its timer, then what it writes */
            show_state(c);
            return;
        }
        if (!conn_read(c))
            goto close;
    }
    conn_process(c);
    shrink_rbuf(c);
    if (c->closing) {
        reply_drop_unsent(&c->reply);
        (void)conn_write(c);
        goto close;
    }
    if (!conn_write(c))
        goto close;
    record_latency(c);
    /* A stream whose last part went out at once continues like a yield:
     * without reading, so a client that has shut down its sending side
     * still gets the whole listing; a waiting one, once its thread wakes
     * it (or after a pause). */
    if (c->state == CONN_STREAM && c->stream_waiting) {
        c->stream_waiting = false;
        if (!resume_when_woken(c))
            goto close;
        show_state(c);
        return;
    }
    if (c->state == CONN_STREAM)
        c->yielded = true;
    /* TLS records already decrypted wait in the session, where the
     * socket's readiness cannot announce them. */
    if (reply_ready(&c->reply) == 0 &&
        (c->yielded || (c->ssl != NULL && tls_pending(c->ssl))) &&
        !resume_after(c, 0))
        goto close;
    show_state(c);
    return;
close:
    conn_destroy(c);
}

/* What a datagram left unfinished (a value cut short, a listing not
 * yet done) is dropped: the next datagram starts afresh. */
static void abandon(struct conn *c)
{
    if (c->state == CONN_NREAD && c->store.item != NULL) {
        cache_release(c->srv->cache, c->store.item);
        c->store.item = NULL;
    } else if (c->state == CONN_STREAM) {
        stream_finish(c);
        c->stream_waiting = false;
    }
    c->state = CONN_PARSE;
}

/* Passes over one datagram's requests, and milliseconds it waits for a
 * listing's thread: a listing not done by then ends there, cut short. */
#define DATAGRAM_ROUNDS_MAX 4096
#define STREAM_POLL_NS (1000 * 1000)

/* The buffer holds the whole datagram: it may grow past RBUF_MAX only
 * as far as a datagram goes (64 KiB). */
static bool hold_datagram(struct conn *c, size_t len)
{
    if (len > c->rcap) {
        char *b = realloc(c->rbuf, len);
        if (b == NULL) {
            STAT_INC(&worker_stats(c->worker)->buffers, read_buf_oom);
            return false;
        }
        STAT_ADD(&worker_stats(c->worker)->buffers, read_buf_bytes,
                 len - c->rcap);
        c->rbuf = b;
        c->rcap = len;
    }
    return true;
}

void conn_run_datagram(struct conn *c, const char *data, size_t len,
                       void (*flush)(struct conn *c, void *arg), void *arg)
{
    if (!hold_datagram(c, len))
        return;
    watch_set_fd(c->fd);
    c->event_start_ns = mono_ns();
    memcpy(c->rbuf, data, len);
    c->rpos = 0;
    c->rlen = len;
    c->state = CONN_PARSE;
    c->proto_chosen = false;
    c->closing = c->close_after_write = false;
    /* conn_process stops for the -R budget and when replies pile up:
     * send what is queued and go on, until no request makes progress */
    for (size_t round = 0; round < len + DATAGRAM_ROUNDS_MAX; round++) {
        size_t pos = c->rpos;
        enum conn_state st = c->state;
        c->yielded = false;
        conn_process(c);
        if (reply_pending(&c->reply) > 0)
            flush(c, arg);
        if (c->state == CONN_STREAM && c->stream_waiting) {
            /* a cachedump's thread: the datagram waits for it */
            c->stream_waiting = false;
            struct timespec ts = {0, STREAM_POLL_NS};
            nanosleep(&ts, NULL);
            continue;
        }
        if (c->closing || c->close_after_write ||
            (c->rpos == pos && c->state == st && !c->yielded))
            break;
    }
    abandon(c);
    record_latency(c);
}

void conn_flush_final(struct conn *c)
{
    size_t written;
    flush_replies(c, &written);
}
