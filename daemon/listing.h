/*
 * daemon/listing.h - a key listing (lru_crawler metadump / mgdump, stats
 * cachedump) formatted on a thread of its own.
 *
 * Formatting a listing costs about a microsecond per item: done on the
 * worker, a listing of millions of keys held the worker's other
 * connections for as long (memcached lists from its crawler thread). The
 * listing thread walks the hash table a few buckets at a time, holding one
 * stripe lock at once, and queues the lines in chunks; the connection's
 * worker only moves whole chunks into the reply. The queue is bounded: the
 * thread waits while a slow reader has not taken what it made.
 *
 * Use: listing_start(), then listing_take() from the connection's worker
 * until it says LISTING_DONE, then (or at any time, to cancel)
 * listing_stop(), which waits for the thread to leave.
 */
#ifndef ZK_DAEMON_LISTING_H
#define ZK_DAEMON_LISTING_H

#include <stdint.h>

struct cache;
struct reply;
struct listing;

enum listing_format {
    LISTING_META, /* "key=... exp=... ...\n" lines, then "END\r\n" */
    LISTING_MG,   /* "mg <key>\r\n" lines, then "EN\r\n" */
    /* stats cachedump: "ITEM <key> [<value bytes> b; <unix expiry, 0 for
     * none> s]\r\n" lines, then "END\r\n" */
    LISTING_CACHEDUMP,
};

enum listing_step {
    LISTING_MORE, /* lines were queued to the reply */
    LISTING_WAIT, /* nothing ready yet; ask again later */
    LISTING_DONE, /* the whole listing, end line included, is queued */
};

/* classes: bit per class id to list; limit: lines at most (0: no
 * limit). NULL when the thread or memory cannot be had. */
struct listing *listing_start(struct cache *cache, enum listing_format fmt,
                              uint64_t classes, uint64_t limit);
/* Moves what the thread has made into r. */
enum listing_step listing_take(struct listing *l, struct reply *r);
/* A descriptor that becomes readable once a listing_take() that said
 * LISTING_WAIT has something to take (it stays readable until the next
 * listing_take()), or -1: then ask again after a pause. */
int listing_wake_fd(const struct listing *l);
void listing_stop(struct listing *l);

#endif
