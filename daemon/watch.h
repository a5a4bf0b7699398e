/*
 * daemon/watch.h - memcached's `watch` command: a connection turns into a
 * stream of log lines about what the server does, one "key=value ..."
 * line per event, ending in "\n":
 *
 *   ts=<sec>.<usec> gid=<n> type=item_get key=<uri> status=found|not_found
 *       clsid=<n> cfd=<fd> size=<value bytes>                  (fetchers)
 *   ... type=item_store key= status=stored|not_stored|exists|not_found|
 *       too_large|no_memory cmd=set|add|replace|append|prepend|cas
 *       ttl=<secs> clsid= cfd= size=                           (mutations)
 *   ... type=eviction key= fetch=yes|no ttl=<secs|-1> la=<idle secs>
 *       clsid= size=                                           (evictions)
 *   ... type=deleted key= cmd=delete|md clsid= size=           (deletions)
 *   ... type=conn_new rip= rport= transport=tcp|local cfd=
 *   ... type=conn_close rip= rport= transport= reason=normal|error|
 *       idle_timeout|shutdown cfd=                             (connevents)
 *   ... type=slab_move src=<class> dst=<class>                 (sysevents)
 *       (every page move; memcached 1.6.18 logs only its automover's)
 *
 * in memcached 1.6.18's words, its "ts=%d.%d" included (the microseconds
 * are not zero-padded). Lookups are logged wherever memcached's do_item_get
 * would log them, so a set also logs the lookup before it. rawcmds and
 * the proxy streams are accepted and stay silent, as are memcached's
 * lru_crawler sysevents: zeekdb has no raw command log, proxy or
 * per-class crawler runs.
 *
 * Threads: events come from any worker (under the item's stripe lock, for
 * engine events) and the maintainer; each is formatted once and copied
 * into the buffer of every watcher that wants it, under one mutex. A
 * watcher's connection drains its buffer from its own worker (a stream,
 * daemon/conn.h). A watcher that cannot keep up loses lines, and its
 * next line is preceded by "skipped=<n>". With nobody watching, an event
 * costs one relaxed load.
 */
#ifndef ZK_DAEMON_WATCH_H
#define ZK_DAEMON_WATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cache.h"

enum watch_flag {
    WATCH_RAWCMDS = 1u << 0,
    WATCH_EVICTIONS = 1u << 1,
    WATCH_FETCHERS = 1u << 2,
    WATCH_MUTATIONS = 1u << 3,
    WATCH_SYSEVENTS = 1u << 4,
    WATCH_CONNEVENTS = 1u << 5,
    WATCH_PROXYREQS = 1u << 6,
    WATCH_PROXYEVENTS = 1u << 7,
    WATCH_PROXYUSER = 1u << 8,
    WATCH_DELETIONS = 1u << 9,
};

#define WATCH_MAX 20                  /* memcached's WATCHER_LIMIT */

struct watch;
struct watcher;

/* Hooks itself to the cache as its observer (cache_set_observer); each
 * watcher may have buf_bytes of lines waiting (-o watcher_logbuf_size). */
struct watch *watch_create(struct cache *cache, size_t buf_bytes);
void watch_destroy(struct watch **w);

/* The flag named by word[0..n) (memcached's argument words), or 0. */
unsigned watch_flag_of(const char *word, size_t n);

/* A new watcher for these flags in *out, or why not. */
enum watch_added {
    WATCH_ADDED,
    WATCH_TOO_MANY,     /* WATCH_MAX are watching */
    WATCH_FAILED,       /* no memory for its buffer */
};
enum watch_added watch_add(struct watch *w, unsigned flags,
                           struct watcher **out);
void watch_remove(struct watch *w, struct watcher *x);
/* Move up to cap bytes of whole lines from x's buffer into dst. */
size_t watch_take(struct watch *w, struct watcher *x, char *dst, size_t cap);

/* The connection whose requests this thread runs now: its fd is the
 * cfd= of the lines its requests cause. */
void watch_set_fd(int fd);

enum watch_close {
    WATCH_CLOSE_ERROR,
    WATCH_CLOSE_NORMAL,
    WATCH_CLOSE_IDLE,
    WATCH_CLOSE_SHUTDOWN,
};
/* A client connection on fd opened / is closing (fd still open). */
void watch_conn_new(struct watch *w, int fd);
void watch_conn_close(struct watch *w, int fd, enum watch_close why);
/* A store refused before it reached the cache: too_large (too_large
 * true) or no_memory. */
void watch_store_refused(struct watch *w, const char *key, size_t nkey,
                         bool too_large, enum cache_store_mode mode);

struct watch_stats {
    uint64_t watchers;
    uint64_t written;   /* lines made (memcached's log_worker_written) */
    uint64_t sent;      /* lines copied to a watcher */
    uint64_t skipped;   /* lines a full watcher lost */
};
void watch_stats(struct watch *w, struct watch_stats *out);

#endif
