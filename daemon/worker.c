/*
 * daemon/worker.c - see worker.h.
 *
 * Lock order: a worker's queue lock is a leaf; it is held only to push or
 * pop fds.
 */
#include "daemon/worker.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/udp.h"
#include "daemon/watch.h"
#include "lib/histogram.h"
#include "lib/topk.h"

#define WAKE_NEW_CONN 'c'
/* Hot keys: one key access in HOTKEY_SAMPLE is recorded, with that
 * weight, in a sketch tracking HOTKEY_CAPACITY keys. A record costs a
 * few hundred instructions (callgrind), so 1 in 64 keeps it near 0.5% of
 * a request; a key read often enough to matter is still sampled many
 * times. */
#define HOTKEY_SAMPLE 64
#define HOTKEY_CAPACITY 128
#define WAKE_STOP 's'

struct fd_queue {
    int *fds;
    size_t head, len, cap;
};

struct worker {
    struct server *srv;
    int id;
    pthread_t thread;
    bool started;
    struct event_base *base;
    struct event *wake_ev;
    struct event *idle_ev;     /* -o idle_timeout sweep, or NULL */
    int wake[2];               /* [0] read end in the loop, [1] write end */
    pthread_mutex_t lock;
    struct fd_queue queue;     /* guarded by lock */
    /* This worker's connections: the worker changes the list, holding
     * conns_lock; `stats conns` on another worker reads it under it. */
    pthread_mutex_t conns_lock;
    struct conn *conns;
    struct thread_stats stats;
    struct histogram latency[LAT__COUNT];
    struct topk *hotkeys;
    unsigned sample_clock;     /* counts key accesses toward a sample */
    struct udp_worker *udp;    /* -U: its share of the UDP sockets */
    char *tls_buf;             /* -Z: worker_tls_buffer() */
    size_t tls_cap;
};

static bool queue_push(struct fd_queue *q, int fd)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        int *fds = malloc(cap * sizeof(int));
        if (fds == NULL)
            return false;
        for (size_t i = 0; i < q->len; i++)
            fds[i] = q->fds[(q->head + i) % q->cap];
        free(q->fds);
        q->fds = fds;
        q->cap = cap;
        q->head = 0;
    }
    q->fds[(q->head + q->len++) % q->cap] = fd;
    return true;
}

static int queue_pop(struct fd_queue *q)
{
    if (q->len == 0)
        return -1;
    int fd = q->fds[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return fd;
}

static void accept_queued(struct worker *w)
{
    for (;;) {
        pthread_mutex_lock(&w->lock);
        int fd = queue_pop(&w->queue);
        pthread_mutex_unlock(&w->lock);
        if (fd < 0)
            return;
        if (conn_create(w, w->srv, fd) == NULL) {
            log_warn("out of memory for a new connection");
            close(fd);
        }
    }
}

static void close_all(struct worker *w)
{
    while (w->conns != NULL) {
        conn_flush_final(w->conns);
        w->conns->close_why = WATCH_CLOSE_SHUTDOWN;
        conn_destroy(w->conns);
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    char cmds[64];
    (void)what;
    ssize_t n = read(fd, cmds, sizeof(cmds));
    for (ssize_t i = 0; i < n; i++) {
        if (cmds[i] == WAKE_NEW_CONN) {
            accept_queued(w);
        } else if (cmds[i] == WAKE_STOP) {
            accept_queued(w);
            close_all(w);
            event_base_loopbreak(w->base);
            return;
        }
    }
}

/* Close connections silent for longer than -o idle_timeout. */
static void on_idle_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    rel_time_t now = clock_now(w->srv->clock);
    rel_time_t limit = (rel_time_t)w->srv->settings->idle_timeout;
    for (struct conn *c = w->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (now - atomic_load_explicit(&c->last_active,
                                       memory_order_relaxed) > limit) {
            log_debug("closing idle connection on fd %d", c->fd);
            c->close_why = WATCH_CLOSE_IDLE;
            atomic_fetch_add(&w->srv->idle_kicks, 1);
            conn_destroy(c);
        }
    }
}

static bool watch_idle(struct worker *w)
{
    if (w->srv->settings->idle_timeout <= 0)
        return true;
    struct timeval second = {1, 0};
    w->idle_ev = event_new(w->base, -1, EV_PERSIST, on_idle_sweep, w);
    return w->idle_ev != NULL && event_add(w->idle_ev, &second) == 0;
}

struct worker *worker_create(struct server *srv, int id)
{
    struct worker *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->srv = srv;
    w->id = id;
    w->wake[0] = w->wake[1] = -1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->conns_lock, NULL);
    for (int g = 0; g < LAT__COUNT; g++)
        histogram_init(&w->latency[g]);
    w->base = event_base_new();
    w->hotkeys = topk_create(HOTKEY_CAPACITY);
    if (w->base == NULL || w->hotkeys == NULL ||
        pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) != 0)
        goto fail;
    w->wake_ev = event_new(w->base, w->wake[0], EV_READ | EV_PERSIST,
                           on_wake, w);
    if (w->wake_ev == NULL || event_add(w->wake_ev, NULL) != 0 ||
        !watch_idle(w))
        goto fail;
    if (srv->n_udp > 0 && (w->udp = udp_worker_create(w, srv)) == NULL)
        goto fail;
    if (srv->tls != NULL) {
        w->tls_cap = (size_t)srv->settings->ssl_wbuf_kb * 1024;
        if ((w->tls_buf = malloc(w->tls_cap)) == NULL)
            goto fail;
    }
    return w;
fail:
    worker_destroy(&w);
    return NULL;
}

void worker_destroy(struct worker **wp)
{
    if (wp == NULL || *wp == NULL)
        return;
    struct worker *w = *wp;
    close_all(w);
    udp_worker_destroy(&w->udp);
    if (w->idle_ev != NULL)
        event_free(w->idle_ev);
    if (w->wake_ev != NULL)
        event_free(w->wake_ev);
    if (w->base != NULL)
        event_base_free(w->base);
    for (int i = 0; i < 2; i++)
        if (w->wake[i] >= 0)
            close(w->wake[i]);
    for (int fd; (fd = queue_pop(&w->queue)) >= 0;)
        close(fd);
    free(w->queue.fds);
    topk_destroy(&w->hotkeys);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->conns_lock);
    free(w->tls_buf);
    free(w);
    *wp = NULL;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base);
    return NULL;
}

bool worker_start(struct worker *w)
{
    w->started = pthread_create(&w->thread, NULL, worker_main, w) == 0;
    if (w->started) {
        /* top -H and perf tell threads apart by name; 15 bytes at most */
        char name[16];
        snprintf(name, sizeof(name), "zk-worker-%d", w->id % 10000);
        (void)pthread_setname_np(w->thread, name);
    }
    return w->started;
}

static void wake(struct worker *w, char cmd)
{
    ssize_t n;
    do {
        n = write(w->wake[1], &cmd, 1);
    } while (n < 0 && errno == EINTR);
    /* A full pipe already holds a pending wake-up, which is enough for a
     * new connection; a stop must get through, so wait and retry. */
    if (n < 0 && cmd == WAKE_STOP) {
        usleep(1000);
        wake(w, cmd);
    }
}

void worker_stop(struct worker *w)
{
    if (!w->started)
        return;
    wake(w, WAKE_STOP);
    pthread_join(w->thread, NULL);
    w->started = false;
}

bool worker_dispatch(struct worker *w, int fd)
{
    pthread_mutex_lock(&w->lock);
    bool ok = queue_push(&w->queue, fd);
    pthread_mutex_unlock(&w->lock);
    if (ok)
        wake(w, WAKE_NEW_CONN);
    return ok;
}

struct event_base *worker_base(struct worker *w)
{
    return w->base;
}

char *worker_tls_buffer(struct worker *w, size_t *cap)
{
    *cap = w->tls_cap;
    return w->tls_buf;
}

struct thread_stats *worker_stats(struct worker *w)
{
    return &w->stats;
}

void worker_note_key(struct worker *w, const char *key, size_t nkey)
{
    if (++w->sample_clock < HOTKEY_SAMPLE)
        return;
    w->sample_clock = 0;
    topk_record(w->hotkeys, key, nkey, HOTKEY_SAMPLE);
}

struct topk *worker_hotkeys(struct worker *w)
{
    return w->hotkeys;
}

struct histogram *worker_latency(struct worker *w, enum latency_group g)
{
    return &w->latency[g];
}

void worker_describe_conns(struct worker *w, rel_time_t now,
                           void (*emit)(const char *name, const char *value,
                                        void *arg),
                           void *arg)
{
    pthread_mutex_lock(&w->conns_lock);
    for (struct conn *c = w->conns; c != NULL; c = c->next)
        conn_describe(c, now, emit, arg);
    pthread_mutex_unlock(&w->conns_lock);
}

void worker_conn_added(struct worker *w, struct conn *c)
{
    pthread_mutex_lock(&w->conns_lock);
    c->prev = NULL;
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    pthread_mutex_unlock(&w->conns_lock);
}

void worker_conn_removed(struct worker *w, struct conn *c)
{
    pthread_mutex_lock(&w->conns_lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&w->conns_lock);
}
