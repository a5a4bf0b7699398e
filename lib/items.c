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
     * free-list link. The real CAS is set when the item is linked. */
    memset(it, 0, ITEM_HEADER);
    it->exptime = exptime;
    it->atime = now;
    it->nbytes = (uint32_t)nbytes;
    it->flags = flags;
    it->refcount = 1;
    it->clsid = (uint8_t)clsid;
    it->nkey = (uint8_t)nkey;
    item_set_cas(it, with_cas, 0);
    memcpy(item_key(it, with_cas), key, nkey);
}
