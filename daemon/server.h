/*
 * daemon/server.h - what the daemon's threads share: the settings, the
 * engine, the clock and the process-wide connection counters. main()
 * owns it; workers, the acceptor and the maintainer get a pointer.
 */
#ifndef ZK_DAEMON_SERVER_H
#define ZK_DAEMON_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "daemon/settings.h"
#include "lib/cache.h"
#include "lib/clock.h"

struct worker;
struct listener;
struct prefix_stats;
struct rates;
struct snapshotter;
struct maintainer;
struct watch;
struct authfile;
struct tls;

/* File descriptors kept beyond -c for listeners, wake-up pipes, the log
 * and the snapshot: the descriptor limit is raised to -c plus these. */
#define SERVER_RESERVED_FDS 64

struct server {
    const struct settings *settings;
    struct cache *cache;
    struct clock *clock;
    struct prefix_stats *prefix;          /* stats detail */
    struct rates *rates;                  /* stats rates */
    struct listener *listener;            /* the cache's listening sockets */
    int udp_fds[32];                      /* -U: daemon/udp.c, at most
                                             UDP_SOCKETS_MAX */
    int n_udp;
    struct snapshotter *snapshotter;      /* NULL without snapshot_path */
    struct maintainer *maintainer;
    struct watch *watch;                  /* `watch` log streams */
    struct authfile *auth;                /* -Y; NULL: no authentication */
    struct tls *tls;                      /* -Z; NULL: plain TCP */
    struct worker **workers;
    int nworkers;
    time_t started;                       /* wall time at start */
    _Atomic uint64_t curr_conns;
    _Atomic uint64_t total_conns;
    /* memcached counts its listeners in total_connections until the
     * first `stats reset` */
    _Atomic bool total_conns_reset;
    _Atomic uint64_t rejected_conns;
    _Atomic uint64_t conn_structures;
    _Atomic uint64_t malloc_fails;        /* connections lost to malloc */
    _Atomic uint64_t idle_kicks;          /* closed by -o idle_timeout */
    /* Out of file descriptors, the listener pauses accepting for a moment
     * (memcached's "listen disabled"): whether it accepts now, how often
     * and how long it paused. */
    _Atomic bool accepting;
    _Atomic uint64_t listen_disabled;
    _Atomic uint64_t listen_disabled_us;
    _Atomic bool crawler_off;             /* lru_crawler disable */
    _Atomic uint32_t crawler_sleep;       /* lru_crawler sleep, shown in */
    _Atomic uint32_t crawler_tocrawl;     /* stats settings: tocrawl */
    _Atomic double hot_max_factor;        /* lru tune's age factors, */
    _Atomic double warm_max_factor;       /* shown in stats settings */
    _Atomic uint64_t crawler_starts;      /* listings and crawls begun */
    _Atomic uint64_t crawler_running;     /* listings streaming now */
    _Atomic unsigned listings;            /* listing threads, cachedumps
                                             included */
    _Atomic uint64_t maintainer_rounds;   /* maintainer wake-ups */
    _Atomic int slab_automove;            /* -o slab_automove, or the last
                                             `slabs automove` */
    _Atomic int stop;                     /* 1: graceful shutdown asked */
    /* Ask the main loop to shut down (the shutdown command). */
    void (*request_shutdown)(struct server *srv);
    void *main_ctx;
};

#endif
