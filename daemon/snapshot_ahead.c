/*
 * daemon/snapshot_ahead.c - see snapshot_ahead.h.
 *
 * The thread fills the slots in turn and the loader empties them in the
 * same turn, so "done" (no more blocks will come) is only looked at once
 * the slot the loader waits on is known to stay empty.
 */
#include "daemon/snapshot_ahead.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/snapshot.h"

#define SLOTS 2

struct snapshot_ahead {
    struct snapshot_reader *reader;
    pthread_t thread;
    struct snapshot_block slot[SLOTS];
    unsigned lent;          /* the loader's slot, or SLOTS: none */
    unsigned next_use;      /* the loader's next slot */
    pthread_mutex_t mu;     /* the fields below */
    pthread_cond_t changed; /* a slot filled or emptied, or stop */
    bool full[SLOTS];
    bool done;              /* the thread has read its last block */
    bool stop;              /* the loader has gone */
};

static void *read_ahead(void *arg)
{
    struct snapshot_ahead *a = arg;
    for (unsigned i = 0;; i = (i + 1) % SLOTS) {
        pthread_mutex_lock(&a->mu);
        while (a->full[i] && !a->stop)
            pthread_cond_wait(&a->changed, &a->mu);
        bool stop = a->stop;
        pthread_mutex_unlock(&a->mu);
        bool got = !stop && snapshot_reader_next_block(a->reader,
                                                       &a->slot[i]);
        pthread_mutex_lock(&a->mu);
        a->full[i] = got;
        a->done = !got;
        pthread_cond_broadcast(&a->changed);
        pthread_mutex_unlock(&a->mu);
        if (!got)
            return NULL;
    }
}

struct snapshot_ahead *snapshot_ahead_start(struct snapshot_reader *r)
{
    struct snapshot_ahead *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->reader = r;
    a->lent = SLOTS;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->changed, NULL);
    if (pthread_create(&a->thread, NULL, read_ahead, a) != 0) {
        pthread_cond_destroy(&a->changed);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return NULL;
    }
    (void)pthread_setname_np(a->thread, "zk-read-ahead");
    return a;
}

bool snapshot_ahead_next(struct snapshot_ahead *a, struct snapshot_block **out)
{
    unsigned i = a->next_use;
    pthread_mutex_lock(&a->mu);
    if (a->lent < SLOTS) {
        a->full[a->lent] = false;
        a->lent = SLOTS;
        pthread_cond_broadcast(&a->changed);
    }
    while (!a->full[i] && !a->done)
        pthread_cond_wait(&a->changed, &a->mu);
    bool got = a->full[i];
    pthread_mutex_unlock(&a->mu);
    if (!got)
        return false;
    a->lent = i;
    a->next_use = (i + 1) % SLOTS;
    *out = &a->slot[i];
    return true;
}

void snapshot_ahead_stop(struct snapshot_ahead **ap)
{
    struct snapshot_ahead *a = *ap;
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    for (unsigned i = 0; i < SLOTS; i++)
        snapshot_block_free(&a->slot[i]);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->mu);
    free(a);
    *ap = NULL;
}
