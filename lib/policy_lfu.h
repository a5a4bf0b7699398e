/*
 * lib/policy_lfu.h - least-frequently-used eviction with a logarithmic,
 * decaying access counter per item (the scheme Redis documents for its
 * allkeys-lfu policy).
 *
 * pbits holds an 8-bit counter. A new item starts at LFU_INIT. A hit first
 * applies decay (minus one per LFU_DECAY_SECONDS since the item's atime,
 * floored at 0), then adds one with probability
 * 1 / ((counter - LFU_INIT) * LFU_LOG_FACTOR + 1) (always at or below LFU_INIT,
 * never past 255), and sets atime to now. With factor 10 it takes about
 * 100 hits to reach 10, 1000 to reach 18, a million to saturate.
 *
 * Victims: evict() looks at a window of up to `tries` items at the tail of
 * the class's list and offers them lowest (decayed) counter first. When one
 * is taken, the others move to the head, so every item comes round to the
 * window in turn instead of hot items camping at the tail.
 */
#ifndef ZK_LIB_POLICY_LFU_H
#define ZK_LIB_POLICY_LFU_H

#include "lib/policy.h"

#define LFU_INIT 5
#define LFU_LOG_FACTOR 10
#define LFU_DECAY_SECONDS 60
#define LFU_WINDOW_MAX 16 /* evict() looks at most at this many items */

#endif
