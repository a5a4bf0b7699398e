/*
 * lib/policy_list.h - a doubly linked list of items threaded through their
 * prev/next slab references, for the policies that keep one per class
 * (fifo, sieve, lfu, and random's overflow list).
 *
 *   head (newest) <-prev- ... -next-> tail (oldest)
 *
 * head has prev == 0, tail has next == 0; reference 0 means "none". The
 * caller holds whatever lock guards the list (the policy's class mutex).
 */
#ifndef ZK_LIB_POLICY_LIST_H
#define ZK_LIB_POLICY_LIST_H

#include <stdint.h>

#include "lib/items.h"
#include "lib/slabs.h"

struct plist {
    uint32_t head;
    uint32_t tail;
    uint64_t count;
};

static inline struct item *plist_at(const struct slabs *s, uint32_t ref)
{
    return slabs_ptr(s, ref);
}

static inline void plist_push_head(struct plist *l, const struct slabs *s,
                                   struct item *it)
{
    uint32_t ref = slabs_ref(s, it);
    it->prev = 0;
    it->next = l->head;
    if (l->head != 0)
        plist_at(s, l->head)->prev = ref;
    else
        l->tail = ref;
    l->head = ref;
    l->count++;
}

static inline void plist_remove(struct plist *l, const struct slabs *s,
                                struct item *it)
{
    if (it->prev != 0)
        plist_at(s, it->prev)->next = it->next;
    else
        l->head = it->next;
    if (it->next != 0)
        plist_at(s, it->next)->prev = it->prev;
    else
        l->tail = it->prev;
    it->prev = it->next = 0;
    l->count--;
}

/* Last access time of a list's tail item, 0 when empty. */
static inline rel_time_t plist_tail_atime(const struct plist *l,
                                         const struct slabs *s)
{
    return l->tail != 0 ? item_atime(plist_at(s, l->tail)) : 0;
}

#endif
