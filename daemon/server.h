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

struct server {
    const struct settings *settings;
    struct cache *cache;
    struct clock *clock;
    struct prefix_stats *prefix;          /* stats detail */
    struct rates *rates;                  /* stats rates */
    struct listener *listener;            /* the cache's listening sockets */
    struct snapshotter *snapshotter;      /* NULL without snapshot_path */
    struct maintainer *maintainer;
    struct worker **workers;
    int nworkers;
    time_t started;                       /* wall time at start */
    _Atomic uint64_t curr_conns;
    _Atomic uint64_t total_conns;
    _Atomic uint64_t rejected_conns;
    _Atomic uint64_t conn_structures;
    _Atomic bool crawler_off;             /* lru_crawler disable */
    _Atomic int stop;                     /* 1: graceful shutdown asked */
    /* Ask the main loop to shut down (the shutdown command). */
    void (*request_shutdown)(struct server *srv);
    void *main_ctx;
};

#endif
