/*
 * daemon/snapshotter.h - warm restarts: save the cache to a snapshot file
 * (lib/snapshot.h's format) and load it back at start.
 *
 * Saving is done by the maintainer thread in bounded steps: each step
 * scans some hash buckets (one stripe lock at a time, copying items into
 * the writer's buffer), then writes the buffer with no lock held. Requests
 * keep being served throughout. A snapshot is written when one was asked
 * for (SIGUSR1, the `snapshot` command), and every snapshot_interval
 * seconds if the cache changed since the last one started; the final one
 * at shutdown is written by the main thread once the workers and the
 * maintainer have stopped.
 *
 * Requests for a snapshot get a ticket; the ticket is done when a snapshot
 * that started after the request has been committed (or has failed).
 */
#ifndef ZK_DAEMON_SNAPSHOTTER_H
#define ZK_DAEMON_SNAPSHOTTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cache;
struct snapshotter;

/* What `stats` shows; times are unix seconds, 0 = never. */
struct snapshotter_stats {
    time_t last_time;           /* when the last good snapshot finished */
    uint64_t last_duration_us;
    uint64_t last_items;
    uint64_t last_bytes;        /* bytes of the file */
    bool in_progress;
    uint64_t failures;
};

/* interval: seconds between periodic snapshots, 0 = none. */
struct snapshotter *snapshotter_create(struct cache *cache, const char *path,
                                       unsigned interval);
void snapshotter_destroy(struct snapshotter **s);

/* The items a load of the file at path will bring into `limit` bytes,
 * as far as its header tells (the items it holds, or as many of their
 * average size as fit); 0 when there is no readable file. To size the
 * cache's hash table before the load. */
uint64_t snapshotter_expected_items(const char *path, uint64_t limit);

/* Load the file into the (empty) cache with up to `threads` threads,
 * logging what happened. A damaged file is renamed aside; returns false
 * only then and only when strict. */
bool snapshotter_load(struct snapshotter *s, bool strict, unsigned threads);

/* Any thread: ask for a snapshot; the ticket is for snapshotter_done(). */
uint64_t snapshotter_request(struct snapshotter *s);
/* Any thread: true once the ticket's snapshot is finished, with *ok and,
 * on failure, the reason in why. */
bool snapshotter_done(struct snapshotter *s, uint64_t ticket, bool *ok,
                      char *why, size_t cap);

/* The maintainer thread: a bounded step of work, starting a snapshot when
 * one is due. True while a snapshot is being written. */
bool snapshotter_step(struct snapshotter *s, time_t now);
/* Write a fresh snapshot to the end now (shutdown, once nothing else
 * runs): one in progress is dropped, since what it already copied may
 * have changed since. */
bool snapshotter_write_now(struct snapshotter *s);

void snapshotter_stats(struct snapshotter *s, struct snapshotter_stats *out);

#endif
