/*
 * daemon/stats.h - request counters, declared once.
 *
 * Each worker owns a struct thread_stats and is its only writer; a
 * `stats` request on any worker sums them all. The fields are atomics
 * written with plain relaxed load+store (no locked instruction on the hot
 * path), so the cross-thread reads are race-free.
 *
 * THREAD_STATS lists the counters in the order memcached prints them, with
 * memcached's names.
 */
#ifndef ZK_DAEMON_STATS_H
#define ZK_DAEMON_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define THREAD_STATS(X)                                                       \
    X(cmd_get, "keys requested by get, gets, gat and gats")                   \
    X(cmd_set, "storage commands")                                            \
    X(cmd_flush, "flush_all commands")                                        \
    X(cmd_touch, "touch, gat and gats key requests")                          \
    X(get_hits, "keys found")                                                 \
    X(get_misses, "keys not found")                                           \
    X(get_expired, "keys found expired")                                      \
    X(get_flushed, "keys found invalidated by flush_all")                     \
    X(delete_misses, "delete of a missing key")                               \
    X(delete_hits, "deleted keys")                                            \
    X(incr_misses, "incr of a missing key")                                   \
    X(incr_hits, "successful incr")                                           \
    X(decr_misses, "decr of a missing key")                                   \
    X(decr_hits, "successful decr")                                           \
    X(cas_misses, "cas of a missing key")                                     \
    X(cas_hits, "successful cas")                                             \
    X(cas_badval, "cas with a stale cas value")                               \
    X(touch_hits, "touched keys")                                             \
    X(touch_misses, "touch of a missing key")                                 \
    X(store_too_large, "values refused as too large")                         \
    X(store_no_memory, "values refused for lack of memory")                   \
    X(bytes_read, "bytes read from clients")                                  \
    X(bytes_written, "bytes written to clients")                              \
    X(conn_yields, "times a connection yielded after -R requests")

/* Request latency is kept per group of commands. X(enum suffix, name) */
#define LATENCY_GROUPS(X)                                                     \
    X(GET, "get") X(SET, "set") X(DELETE, "delete") X(INCR, "incr")          \
    X(TOUCH, "touch") X(OTHER, "other")

enum latency_group {
#define LATENCY_GROUP_ENUM(name, word) LAT_##name,
    LATENCY_GROUPS(LATENCY_GROUP_ENUM)
#undef LATENCY_GROUP_ENUM
    LAT__COUNT
};

struct thread_stats {
#define THREAD_STATS_FIELD(name, help) _Atomic uint64_t name;
    THREAD_STATS(THREAD_STATS_FIELD)
#undef THREAD_STATS_FIELD
};

/* Plain per-thread counter bump: only the owning thread writes. */
#define STAT_ADD(ts, field, n)                                                \
    atomic_store_explicit(                                                    \
        &(ts)->field,                                                         \
        atomic_load_explicit(&(ts)->field, memory_order_relaxed) + (n),       \
        memory_order_relaxed)
#define STAT_INC(ts, field) STAT_ADD(ts, field, 1)

/* A plain snapshot, for summing and printing. */
struct thread_stats_sum {
#define THREAD_STATS_SUM_FIELD(name, help) uint64_t name;
    THREAD_STATS(THREAD_STATS_SUM_FIELD)
#undef THREAD_STATS_SUM_FIELD
};

void thread_stats_add_to(struct thread_stats *ts, struct thread_stats_sum *sum);
/* Zero every counter. Only counters of memcached's "stats reset" set are
 * touched; a worker may bump one at the same time and lose that bump. */
void thread_stats_reset(struct thread_stats *ts);

/* Emit name/value for every counter of the table, in order. */
void thread_stats_foreach(const struct thread_stats_sum *sum,
                          void (*emit)(const char *name, uint64_t value,
                                       void *arg),
                          void *arg);

#endif
