/*
 * lib/size_hist.c - see size_hist.h.
 */
#include "lib/size_hist.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct size_hist {
    size_t nbuckets;
    pthread_mutex_t allocating;         /* one first enable at a time */
    _Atomic bool on;
    _Atomic(_Atomic uint64_t *) counts; /* NULL until first turned on */
};

struct size_hist *size_hist_create(size_t item_max)
{
    struct size_hist *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->nbuckets = item_max / SIZE_HIST_GRAIN + 1;
    pthread_mutex_init(&h->allocating, NULL);
    return h;
}

void size_hist_destroy(struct size_hist **hp)
{
    if (hp == NULL || *hp == NULL)
        return;
    free(atomic_load(&(*hp)->counts));
    pthread_mutex_destroy(&(*hp)->allocating);
    free(*hp);
    *hp = NULL;
}

bool size_hist_enable(struct size_hist *h)
{
    pthread_mutex_lock(&h->allocating);
    _Atomic uint64_t *counts = atomic_load(&h->counts);
    if (counts == NULL) {
        counts = calloc(h->nbuckets, sizeof(*counts));
        if (counts != NULL)
            atomic_store(&h->counts, counts);
    }
    pthread_mutex_unlock(&h->allocating);
    if (counts == NULL)
        return false;
    atomic_store_explicit(&h->on, true, memory_order_release);
    return true;
}

void size_hist_disable(struct size_hist *h)
{
    atomic_store_explicit(&h->on, false, memory_order_release);
}

bool size_hist_enabled(const struct size_hist *h)
{
    return atomic_load_explicit(&h->on, memory_order_acquire);
}

static size_t bucket_of(size_t bytes)
{
    return (bytes + SIZE_HIST_GRAIN - 1) / SIZE_HIST_GRAIN;
}

bool size_hist_add(struct size_hist *h, size_t bytes)
{
    size_t b = bucket_of(bytes);
    /* `on` is only set once counts is, and counts never goes away */
    if (!size_hist_enabled(h) || b >= h->nbuckets)
        return false;
    _Atomic uint64_t *counts =
        atomic_load_explicit(&h->counts, memory_order_relaxed);
    atomic_fetch_add_explicit(&counts[b], 1, memory_order_relaxed);
    return true;
}

void size_hist_remove(struct size_hist *h, size_t bytes)
{
    /* a marked item was counted, so counts is there and b in range */
    _Atomic uint64_t *counts =
        atomic_load_explicit(&h->counts, memory_order_acquire);
    atomic_fetch_sub_explicit(&counts[bucket_of(bytes)], 1,
                              memory_order_relaxed);
}

void size_hist_report(const struct size_hist *h, size_hist_emit_fn emit,
                      void *arg)
{
    if (!size_hist_enabled(h))
        return;
    _Atomic uint64_t *counts =
        atomic_load_explicit(&h->counts, memory_order_relaxed);
    for (size_t b = 0; b < h->nbuckets; b++) {
        uint64_t n = atomic_load_explicit(&counts[b], memory_order_relaxed);
        if (n != 0)
            emit(b * SIZE_HIST_GRAIN, n, arg);
    }
}
