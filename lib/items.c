/*
 * lib/items.c - see items.h. Almost everything about an item is an inline
 * accessor; this file holds what is not on the per-byte path.
 */
#include "lib/items.h"

void item_init(struct item *it, bool with_cas, unsigned clsid,
               const char *key, size_t nkey,
               uint32_t flags, rel_time_t exptime, size_t nbytes,
               rel_time_t now)
{
    /* Every header byte is written: the chunk holds a stale item or the
     * free-list link. The flag bytes are written atomically because a
     * page mover may look at them (see slabs_move_start). The real CAS is
     * set when the item is linked. */
    it->h_next = 0;
    it->prev = 0;
    it->next = 0;
    __atomic_store_n(&it->iflags, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&it->pbits, 0, __ATOMIC_RELAXED);
    it->exptime = exptime;
    item_set_atime(it, now);
    it->nbytes = (uint32_t)nbytes;
    it->flags = flags;
    __atomic_store_n(&it->refcount, 1, __ATOMIC_RELAXED);
    it->clsid = (uint8_t)clsid;
    it->nkey = (uint8_t)nkey;
    item_set_cas(it, with_cas, 0);
    memcpy(item_key(it, with_cas), key, nkey);
}
