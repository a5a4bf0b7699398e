/*
 * daemon/rates.c - see rates.h.
 */
#include "daemon/rates.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/server.h"
#include "daemon/stats.h"
#include "daemon/worker.h"

struct rates {
    pthread_mutex_t lock;          /* guards everything below */
    time_t at;                     /* second of the last aggregate */
    struct thread_stats_sum prev;  /* the counters then */
    struct thread_stats_sum rate;  /* their increase over that second */
};

struct rates *rates_create(void)
{
    struct rates *r = calloc(1, sizeof(*r));
    if (r != NULL)
        pthread_mutex_init(&r->lock, NULL);
    return r;
}

void rates_destroy(struct rates **rp)
{
    if (rp == NULL || *rp == NULL)
        return;
    pthread_mutex_destroy(&(*rp)->lock);
    free(*rp);
    *rp = NULL;
}

void rates_update(struct rates *r, struct server *srv, time_t now)
{
    struct thread_stats_sum sum = {0};
    pthread_mutex_lock(&r->lock);
    if (now == r->at) {
        pthread_mutex_unlock(&r->lock);
        return;
    }
    for (int i = 0; i < srv->nworkers; i++)
        thread_stats_add_to(worker_stats(srv->workers[i]), &sum);
    /* Over more than one second (a late wake-up), report the average;
     * a counter that went down (stats reset) reads as 0. */
    uint64_t secs = r->at != 0 && now > r->at ? (uint64_t)(now - r->at) : 1;
#define RATE_OF(name, kind, help)                                             \
    r->rate.name = sum.name > r->prev.name                                    \
                       ? (sum.name - r->prev.name) / secs : 0;
    THREAD_STATS(RATE_OF)
#undef RATE_OF
    r->prev = sum;
    r->at = now;
    pthread_mutex_unlock(&r->lock);
}

struct rate_emit {
    stats_emit_fn emit;
    void *arg;
};

static void put_rate(const char *name, enum stat_kind kind, const char *help,
                     uint64_t value, void *arg)
{
    struct rate_emit *e = arg;
    char buf[24];
    (void)kind;
    (void)help;
    snprintf(buf, sizeof(buf), "%" PRIu64, value);
    e->emit(name, buf, e->arg);
}

void rates_report(struct rates *r, stats_emit_fn emit, void *arg)
{
    struct rate_emit e = {emit, arg};
    pthread_mutex_lock(&r->lock);
    struct thread_stats_sum rate = r->rate;
    pthread_mutex_unlock(&r->lock);
    thread_stats_foreach(&rate, put_rate, &e);
}
