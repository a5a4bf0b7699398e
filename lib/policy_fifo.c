/*
 * lib/policy_fifo.c - first in, first out eviction.
 *
 * Each class keeps its items in insertion order on a list threaded through
 * prev/next (lib/policy_list.h), guarded by the class mutex. New items go
 * to the head; victims are offered from the tail, oldest first. A hit
 * changes nothing, so it takes no lock and writes nothing.
 *
 * Cost: link, unlink O(1) under the class lock; hit O(1), no lock;
 * evict O(tries).
 */
#include <pthread.h>
#include <stdlib.h>

#include "lib/policy.h"
#include "lib/policy_list.h"

struct fifo_class {
    pthread_mutex_t lock;
    struct plist list;
};

struct policy {
    struct slabs *slabs;
    struct fifo_class classes[SLABS_MAX_CLASSES + 1];
};

static struct policy *fifo_create(struct slabs *slabs)
{
    struct policy *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->slabs = slabs;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_init(&p->classes[i].lock, NULL);
    return p;
}

static void fifo_destroy(struct policy *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_destroy(&p->classes[i].lock);
    free(p);
}

static void fifo_link(struct policy *p, struct item *it, rel_time_t now)
{
    struct fifo_class *fc = &p->classes[it->clsid];
    pthread_mutex_lock(&fc->lock);
    item_set_atime(it, now); /* the store time, which flush_all compares */
    plist_push_head(&fc->list, p->slabs, it);
    pthread_mutex_unlock(&fc->lock);
}

static void fifo_unlink_locked(struct policy *p, struct item *it)
{
    plist_remove(&p->classes[it->clsid].list, p->slabs, it);
}

static void fifo_unlink(struct policy *p, struct item *it)
{
    struct fifo_class *fc = &p->classes[it->clsid];
    pthread_mutex_lock(&fc->lock);
    plist_remove(&fc->list, p->slabs, it);
    pthread_mutex_unlock(&fc->lock);
}

static void fifo_hit(struct policy *p, struct item *it, rel_time_t now)
{
    (void)p;
    (void)it;
    (void)now;
}

static bool fifo_evict(struct policy *p, unsigned cls, unsigned tries,
                       policy_take_fn take, void *ctx)
{
    struct fifo_class *fc = &p->classes[cls];
    bool taken = false;
    pthread_mutex_lock(&fc->lock);
    uint32_t ref = fc->list.tail;
    for (unsigned n = 0; n < tries && ref != 0 && !taken; n++) {
        struct item *it = plist_at(p->slabs, ref);
        ref = it->prev; /* read first: take() may unlink it */
        taken = take(ctx, it);
    }
    pthread_mutex_unlock(&fc->lock);
    return taken;
}

static uint64_t fifo_count(struct policy *p, unsigned cls)
{
    struct fifo_class *fc = &p->classes[cls];
    pthread_mutex_lock(&fc->lock);
    uint64_t n = fc->list.count;
    pthread_mutex_unlock(&fc->lock);
    return n;
}

static rel_time_t fifo_oldest(struct policy *p, unsigned cls)
{
    struct fifo_class *fc = &p->classes[cls];
    pthread_mutex_lock(&fc->lock);
    rel_time_t t = plist_tail_atime(&fc->list, p->slabs);
    pthread_mutex_unlock(&fc->lock);
    return t;
}

const struct policy_ops policy_fifo = {
    .name = "fifo",
    .create = fifo_create,
    .destroy = fifo_destroy,
    .link = fifo_link,
    .unlink = fifo_unlink,
    .unlink_locked = fifo_unlink_locked,
    .hit = fifo_hit,
    .evict = fifo_evict,
    .count = fifo_count,
    .oldest = fifo_oldest,
};
