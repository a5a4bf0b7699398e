/*
 * daemon/maintainer.c - see maintainer.h.
 */
#include "daemon/maintainer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "daemon/rates.h"
#include "daemon/server.h"
#include "daemon/snapshotter.h"
#include "daemon/worker.h"
#include "lib/topk.h"

#define BUSY_PERIOD_MS 10
/* Idle, it wakes as each wall-clock second begins, so the clock is never
 * behind by more than the wake-up latency. */
#define IDLE_PERIOD_MS 1000
#define STEP_BUDGET 512 /* hash buckets moved per step */
/* Hot-key counts halve this often: `stats hotkeys` sees about the last
 * two periods. */
#define HOTKEY_DECAY_SECONDS 10

struct maintainer {
    struct server *srv;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool woken;     /* maintainer_wake() since the last nap */
};

static struct timespec deadline_in(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Sleep up to ms; false when asked to stop. */
static bool nap(struct maintainer *m, long ms)
{
    struct timespec until = deadline_in(ms);
    pthread_mutex_lock(&m->lock);
    while (!m->stop && !m->woken &&
           pthread_cond_timedwait(&m->cond, &m->lock, &until) != ETIMEDOUT)
        ;
    m->woken = false;
    bool go_on = !m->stop;
    pthread_mutex_unlock(&m->lock);
    return go_on;
}

static long until_next_second(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return IDLE_PERIOD_MS - ts.tv_nsec / 1000000L + 1;
}

/* The wall-clock second, from the clock the naps are timed by. Not
 * time(NULL): that reads the kernel's coarse copy, updated once per tick,
 * which in the first milliseconds of a second, when the maintainer wakes,
 * still says the previous one. The clock then missed that second's tick
 * and ran a whole second behind, and an item stored just before could
 * outlive its TTL by that second. */
static time_t wall_second(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

static void decay_hotkeys(struct server *srv, time_t now, time_t *last)
{
    if (now - *last < HOTKEY_DECAY_SECONDS)
        return;
    *last = now;
    for (int i = 0; i < srv->nworkers; i++)
        topk_decay(worker_hotkeys(srv->workers[i]));
}

static void *maintainer_main(void *arg)
{
    struct maintainer *m = arg;
    time_t last_decay = wall_second();
    bool busy;
    do {
        atomic_fetch_add_explicit(&m->srv->maintainer_rounds, 1,
                                  memory_order_relaxed);
        time_t now = wall_second();
        clock_set_wall(m->srv->clock, now);
        decay_hotkeys(m->srv, now, &last_decay);
        rates_update(m->srv->rates, m->srv, now);
        busy = cache_maintain(m->srv->cache, STEP_BUDGET);
        if (m->srv->snapshotter != NULL)
            busy |= snapshotter_step(m->srv->snapshotter, now);
    } while (nap(m, busy ? BUSY_PERIOD_MS : until_next_second()));
    return NULL;
}

struct maintainer *maintainer_start(struct server *srv)
{
    struct maintainer *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->srv = srv;
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&m->thread, NULL, maintainer_main, m) != 0) {
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->lock);
        free(m);
        return NULL;
    }
    (void)pthread_setname_np(m->thread, "zk-maintainer");
    return m;
}

void maintainer_wake(struct maintainer *m)
{
    pthread_mutex_lock(&m->lock);
    m->woken = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

void maintainer_stop(struct maintainer **mp)
{
    if (mp == NULL || *mp == NULL)
        return;
    struct maintainer *m = *mp;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
    *mp = NULL;
}
