/*
 * daemon/worker.h - worker threads: each runs its own libevent loop and
 * owns the connections handed to it for their whole life.
 *
 * The acceptor hands a new socket to a worker with worker_dispatch(): the
 * fd goes on the worker's queue and a byte on its wake-up pipe.
 */
#ifndef ZK_DAEMON_WORKER_H
#define ZK_DAEMON_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/stats.h"
#include "lib/clock.h"

struct server;
struct conn;
struct topk;
struct event_base;

struct worker *worker_create(struct server *srv, int id);
void worker_destroy(struct worker **w);
bool worker_start(struct worker *w);
/* Ask the worker to close its connections and leave its loop; then join. */
void worker_stop(struct worker *w);

/* Hand a connected socket to the worker (any thread). */
bool worker_dispatch(struct worker *w, int fd);

struct event_base *worker_base(struct worker *w);
/* -Z: where this worker's connections gather replies into TLS records
 * (ssl_wbuf_size bytes, one per worker: a write that must be retried
 * gathers the same bytes again from its reply queue). */
char *worker_tls_buffer(struct worker *w, size_t *cap);
struct thread_stats *worker_stats(struct worker *w);
/* Sample a key access for `stats hotkeys` (owner thread only). */
void worker_note_key(struct worker *w, const char *key, size_t nkey);
/* The worker's hot-key sketch, for stats (any thread; it locks itself). */
struct topk *worker_hotkeys(struct worker *w);
/* The worker's latency histogram of one command group. */
struct histogram *worker_latency(struct worker *w, enum latency_group g);
/* `stats conns` lines for every connection of the worker (any thread). */
void worker_describe_conns(struct worker *w, rel_time_t now,
                           void (*emit)(const char *name, const char *value,
                                        void *arg),
                           void *arg);
/* Connection bookkeeping, called by conn.c on the worker's thread. */
void worker_conn_added(struct worker *w, struct conn *c);
void worker_conn_removed(struct worker *w, struct conn *c);

#endif
