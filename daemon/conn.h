/*
 * daemon/conn.h - one client connection, owned by one worker for life.
 *
 * States: PARSE reads requests from the read buffer (text and meta
 * lines, or binary packets when the connection's first byte chose the
 * binary protocol); NREAD fills a new item's value (from the buffer, then
 * straight from the socket); SWALLOW discards a refused data block;
 * STREAM produces a long reply (a key listing) a step at a time as the
 * socket drains. Replies queue in `reply` and go out with one writev per
 * batch. While replies wait for the socket, the connection reads and
 * parses nothing more (backpressure).
 */
#ifndef ZK_DAEMON_CONN_H
#define ZK_DAEMON_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/reply.h"
#include "daemon/stats.h"
#include "daemon/tls.h"
#include "lib/cache.h"
#include "lib/clock.h"
#include "proto/binary.h"

struct worker;
struct server;
struct event;
struct conn;
struct meta_pending;
struct sasl_conn;

enum conn_state {
    CONN_PARSE,
    CONN_NREAD,
    CONN_SWALLOW,
    CONN_STREAM,
};

/* A reply built in steps: a long one (a key listing) or one that waits
 * for another thread (the snapshot command). produce() appends the next
 * part to the connection's reply queue and says whether there is more now,
 * more later (it is called again once wake_fd is readable, or a few
 * milliseconds on without one) or nothing more;
 * finish() then frees state (also when the connection closes first). One
 * produce() call counts as one request against -R. */
enum conn_stream_step {
    CONN_STREAM_MORE,
    CONN_STREAM_WAIT,
    CONN_STREAM_DONE,
};

struct conn_stream {
    enum conn_stream_step (*produce)(struct conn *c, void *state);
    void (*finish)(void *state);
    void *state;
    bool watch;   /* a `watch` log: stats conns shows conn_watch */
    int wake_fd;  /* readable when a WAIT is over; -1: none */
};

/* What `stats conns` shows, in memcached's words. */
enum conn_shown {
    SHOWN_READ,    /* conn_read: waiting for a request */
    SHOWN_PARSE,   /* conn_parse_cmd: working on requests */
    SHOWN_NREAD,   /* conn_nread */
    SHOWN_SWALLOW, /* conn_swallow */
    SHOWN_WRITE,   /* conn_mwrite: replies wait for the socket */
    SHOWN_WATCH,   /* conn_watch: a `watch` log stream */
};

/* A storage command waiting for its data block. */
struct conn_store {
    struct item *item;   /* NULL: not storing */
    int mode;            /* enum cache_store_mode */
    uint64_t cas;
    bool noreply;
    int cmd;             /* enum text_cmd, for the counters */
    bool meta;           /* an ms: the request is in conn.meta */
    bool binary;         /* a binary request, kept in bin (its key and
                            extras pointers cleared) */
    struct bin_request bin;
};

struct conn {
    int fd;
    struct worker *worker;
    struct server *srv;
    struct event *ev;
    short ev_flags;         /* what ev currently waits for */
    enum conn_state state;
    char *rbuf;
    size_t rcap, rpos, rlen; /* unparsed bytes are rbuf[rpos..rlen) */
    char *nread_dst;        /* NREAD: where the next value byte goes */
    size_t nread_left;
    size_t swallow_left;    /* SWALLOW: bytes still to discard */
    struct conn_store store;
    struct conn_stream stream; /* STREAM */
    struct meta_pending *meta; /* the last ms (daemon/meta_exec.c), or NULL */
    struct event *resume_timer; /* after a yield or a stream's WAIT */
    struct event *stream_wake;  /* on the stream's wake_fd, or NULL */
    bool stream_waiting;
    struct reply reply;
    bool proto_chosen;      /* the first byte has been seen */
    bool binary;            /* it chose the binary protocol */
    bool authenticated;     /* -Y: it sent a good token (true without -Y) */
    struct ssl_st *ssl;     /* -Z, on a TCP listener: its TLS session */
    size_t tls_retry;       /* -Z: bytes a write must offer again */
    struct sasl_conn *sasl; /* -S: the SASL exchange, once one started */
    bool sasl_ok;           /* -S: SASL authenticated it */
    bool sasl_stepping;     /* -S: an exchange waits for SASL_STEP */
    bool close_after_write; /* quit, or an unrecoverable error */
    bool closing;
    bool yielded;           /* stopped with work left: after -R requests,
                               or to write a large reply first */
    int close_why;          /* enum watch_close, for the watch log */
    /* Requests finished in the current event, per latency group: they
     * are all timed together, from event_start_ns (CLOCK_MONOTONIC). */
    uint32_t done[LAT__COUNT];
    uint64_t event_start_ns;
    /* Read by `stats conns` from other threads, hence atomic. */
    _Atomic rel_time_t last_active; /* for -o idle_timeout, stats conns */
    _Atomic int shown_state;        /* enum conn_shown, for stats conns */
    char addr[128];                 /* "tcp:HOST:PORT" of the peer */
    char listen_addr[128];          /* the local end, same form */
    struct conn *prev, *next; /* the worker's list */
};

struct conn *conn_create(struct worker *w, struct server *srv, int fd);
/* Close the socket and free everything, releasing held items. */
void conn_destroy(struct conn *c);
/* A request of group g got its reply queued in this event. */
static inline void conn_request_done(struct conn *c, enum latency_group g)
{
    c->done[g]++;
}

/* `stats conns` lines for this connection (any thread, under the
 * worker's connection lock). */
void conn_describe(struct conn *c, rel_time_t now,
                   void (*emit)(const char *name, const char *value,
                                void *arg),
                   void *arg);
/* Enter STREAM: requests after this one wait until the stream ends. */
void conn_stream_start(struct conn *c, const struct conn_stream *s);
/* Try to write pending replies once (used at shutdown). */
void conn_flush_final(struct conn *c);

/* A connection with no socket of its own, through which a worker runs
 * the requests of UDP datagrams (daemon/udp.c); it is not counted among
 * the client connections. */
struct conn *conn_create_datagram(struct worker *w, struct server *srv);
void conn_destroy_datagram(struct conn *c);
/* Carry out the requests in data[0..len) from a clean state, calling
 * flush() whenever replies are queued for it to take (reply_take()).
 * A request the datagram cuts short is dropped. */
void conn_run_datagram(struct conn *c, const char *data, size_t len,
                       void (*flush)(struct conn *c, void *arg), void *arg);

#endif
