/*
 * lib/policy_lru.c - see policy_lru.h.
 *
 * Each class has a doubly linked list threaded through the items' prev and
 * next fields (slab references), guarded by the class mutex. head is the
 * most recently used end.
 */
#include "lib/policy_lru.h"

#include <pthread.h>
#include <stdlib.h>

struct lru_list {
    pthread_mutex_t lock;
    uint32_t head;
    uint32_t tail;
    uint64_t count;
};

struct policy {
    struct slabs *slabs;
    struct lru_list lists[SLABS_MAX_CLASSES + 1];
};

static struct item *at(struct policy *p, uint32_t ref)
{
    return slabs_ptr(p->slabs, ref);
}

static struct policy *lru_create(struct slabs *slabs)
{
    struct policy *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->slabs = slabs;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_init(&p->lists[i].lock, NULL);
    return p;
}

static void lru_destroy(struct policy *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++)
        pthread_mutex_destroy(&p->lists[i].lock);
    free(p);
}

static void push_head_locked(struct policy *p, struct lru_list *l,
                             struct item *it)
{
    uint32_t ref = slabs_ref(p->slabs, it);
    it->prev = 0;
    it->next = l->head;
    if (l->head != 0)
        at(p, l->head)->prev = ref;
    l->head = ref;
    if (l->tail == 0)
        l->tail = ref;
    l->count++;
}

static void remove_locked(struct policy *p, struct lru_list *l,
                          struct item *it)
{
    if (it->prev != 0)
        at(p, it->prev)->next = it->next;
    else
        l->head = it->next;
    if (it->next != 0)
        at(p, it->next)->prev = it->prev;
    else
        l->tail = it->prev;
    it->prev = it->next = 0;
    l->count--;
}

static void lru_link(struct policy *p, struct item *it, rel_time_t now)
{
    struct lru_list *l = &p->lists[it->clsid];
    pthread_mutex_lock(&l->lock);
    item_set_atime(it, now);
    push_head_locked(p, l, it);
    pthread_mutex_unlock(&l->lock);
}

static void lru_unlink_locked(struct policy *p, struct item *it)
{
    remove_locked(p, &p->lists[it->clsid], it);
}

static void lru_unlink(struct policy *p, struct item *it)
{
    struct lru_list *l = &p->lists[it->clsid];
    pthread_mutex_lock(&l->lock);
    remove_locked(p, l, it);
    pthread_mutex_unlock(&l->lock);
}

static void lru_hit(struct policy *p, struct item *it, rel_time_t now)
{
    if (now < item_atime(it) + LRU_BUMP_INTERVAL)
        return;
    struct lru_list *l = &p->lists[it->clsid];
    pthread_mutex_lock(&l->lock);
    /* The caller holds the item's stripe, so it is still linked here. */
    remove_locked(p, l, it);
    push_head_locked(p, l, it);
    item_set_atime(it, now);
    pthread_mutex_unlock(&l->lock);
}

static bool lru_evict(struct policy *p, unsigned cls, unsigned tries,
                      policy_take_fn take, void *ctx)
{
    struct lru_list *l = &p->lists[cls];
    bool taken = false;
    pthread_mutex_lock(&l->lock);
    uint32_t ref = l->tail;
    for (unsigned n = 0; n < tries && ref != 0 && !taken; n++) {
        struct item *it = at(p, ref);
        ref = it->prev; /* read first: take() may unlink it */
        taken = take(ctx, it);
    }
    pthread_mutex_unlock(&l->lock);
    return taken;
}

static uint64_t lru_count(struct policy *p, unsigned cls)
{
    struct lru_list *l = &p->lists[cls];
    pthread_mutex_lock(&l->lock);
    uint64_t n = l->count;
    pthread_mutex_unlock(&l->lock);
    return n;
}

const struct policy_ops policy_lru = {
    .name = "lru",
    .create = lru_create,
    .destroy = lru_destroy,
    .link = lru_link,
    .unlink = lru_unlink,
    .unlink_locked = lru_unlink_locked,
    .hit = lru_hit,
    .evict = lru_evict,
    .count = lru_count,
};
