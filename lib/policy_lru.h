/*
 * lib/policy_lru.h - least-recently-used eviction, one list per slab class.
 *
 * New items enter at the head; a hit moves an item back to the head, but
 * at most once per LRU_BUMP_INTERVAL seconds, so hot items do not take the
 * class lock on every read. Victims come from the tail.
 */
#ifndef ZK_LIB_POLICY_LRU_H
#define ZK_LIB_POLICY_LRU_H

#include "lib/policy.h"

#define LRU_BUMP_INTERVAL 60

#endif
