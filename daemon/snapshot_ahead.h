/*
 * daemon/snapshot_ahead.h - a snapshot's blocks read and checked on a
 * thread of their own, ahead of the one thread that loads them.
 *
 * Reading a block (a copy from the page cache) and checking it (XXH3 over
 * it, then its records' framing) is about a fifth of a load of small
 * items; a load by one thread (the others only contend on the cache's
 * locks) can leave that to a second core. Two blocks are in flight: the
 * one being loaded and the next.
 *
 * Use: snapshot_ahead_start(), then snapshot_ahead_next() until it says
 * false (each call gives back the block the last one lent), then
 * snapshot_reader_status() for the verdict, and snapshot_ahead_stop()
 * (also to give up early: it waits for the thread to leave).
 */
#ifndef ZK_DAEMON_SNAPSHOT_AHEAD_H
#define ZK_DAEMON_SNAPSHOT_AHEAD_H

#include <stdbool.h>

struct snapshot_reader;
struct snapshot_block;
struct snapshot_ahead;

/* NULL when the thread or memory cannot be had: read the blocks with
 * snapshot_reader_next_block() then. */
struct snapshot_ahead *snapshot_ahead_start(struct snapshot_reader *r);
/* The next block in file order, checked, in *out until the next call;
 * false after the last one or at a fault. */
bool snapshot_ahead_next(struct snapshot_ahead *a, struct snapshot_block **out);
/* Tolerates *a == NULL; *a is NULL afterwards. */
void snapshot_ahead_stop(struct snapshot_ahead **a);

#endif
