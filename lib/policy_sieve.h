/*
 * lib/policy_sieve.h - SIEVE eviction (Zhang et al., NSDI '24), one queue
 * per slab class.
 *
 * Items enter at the head of a FIFO queue and never move. A hit only sets
 * a visited bit. A hand sweeps from the tail toward the head (wrapping),
 * clearing visited bits and offering the first unvisited item as the
 * victim; it stays where it stopped for the next eviction.
 */
#ifndef ZK_LIB_POLICY_SIEVE_H
#define ZK_LIB_POLICY_SIEVE_H

#include "lib/policy.h"

/* Visited items one evict() call may pass (clearing their bits) before it
 * offers items whatever their bit, so the time spent under the class lock
 * is bounded even when nearly every item was hit. */
#define SIEVE_MAX_VISITS 512

#endif
