/*
 * lib/policy_lru.h - segmented least-recently-used eviction, after
 * memcached's "modern" LRU: per slab class, three lists.
 *
 *   HOT   where new items enter; about LRU_HOT_PCT % of the class
 *   WARM  items read again since they came in; about LRU_WARM_PCT %
 *         (both shares may be set at run time: set_shares)
 *   COLD  the rest; victims come from its tail
 *
 * A hit takes no lock and moves nothing: it sets a bit in pbits. Items
 * move, always from a list's tail, in maintain() (the maintainer thread)
 * and at the start of evict(), both bounded:
 *
 *   HOT tail   ACTIVE: to WARM        else: to COLD
 *   WARM tail  ACTIVE: to WARM head   else: to COLD
 *   COLD tail  ACTIVE: to WARM        else: offered as a victim
 *
 * and every move clears ACTIVE. A list is worked on while it is over its
 * share of the class's items (COLD has none: it is what is left), so
 * an item nobody reads again goes HOT -> COLD -> out, and an item read
 * twice survives a scan of one-off items in WARM.
 *
 * pbits (atomic; the segment changes only under the class lock, the hit
 * bits are set by hit() under the item's stripe lock alone):
 *
 *    7 6 5 4    3        2      1 0
 *   +-------+--------+-----+-------+
 *   |   0   | ACTIVE | HIT |  seg  |  seg: 0 HOT, 1 WARM, 2 COLD
 *   +-------+--------+-----+-------+
 *
 *   HIT     read at least once since linked (memcached's FETCHED)
 *   ACTIVE  read again, since HIT and since the item's last move
 *
 * So a COLD item is rescued to WARM when it is read while cold, unless
 * that is its first read ever: then it only gains HIT.
 *
 * atime is the store time, which flush_all compares, and is refreshed by
 * a hit at most once per LRU_BUMP_INTERVAL seconds, as memcached does.
 */
#ifndef ZK_LIB_POLICY_LRU_H
#define ZK_LIB_POLICY_LRU_H

#include "lib/policy.h"

#define LRU_BUMP_INTERVAL 60

enum lru_seg { LRU_HOT, LRU_WARM, LRU_COLD, LRU_NSEGS };

#define LRU_SEG_MASK 0x3u
#define LRU_HIT 0x4u
#define LRU_ACTIVE 0x8u

#define LRU_HOT_PCT 20
#define LRU_WARM_PCT 40
/* One evict() call moves at most this many items down from HOT and WARM,
 * and rescues at most this many ACTIVE items from COLD (after that it
 * offers them like the others), so its time under the class lock is
 * bounded whatever the maintainer has left undone. */
#define LRU_EVICT_MOVES 16
/* maintain() releases a class lock at least every this many moves. */
#define LRU_MAINTAIN_BATCH 64

#endif
