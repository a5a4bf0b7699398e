/*
 * daemon/stats.h - request counters, declared once.
 *
 * Each worker owns a struct thread_stats and is its only writer; a
 * `stats` request on any worker sums them all. The fields are atomics
 * written with plain relaxed load+store (no locked instruction on the hot
 * path), so the cross-thread reads are race-free.
 *
 * THREAD_STATS lists the counters in the order memcached prints them, with
 * memcached's names, each with its kind and a help line: the `stats` text
 * and the Prometheus page (daemon/metrics.c) are both rendered from the
 * rows, so a counter is declared here and nowhere else (STYLE rule 6).
 *
 * CLASS_STATS are the same kind of counters kept per slab class, for
 * `stats slabs`; the per-class get hits are kept by the LRU segment the
 * item was in (`stats items` hits_to_*), and their sum is the class's
 * get_hits, as in memcached.
 */
#ifndef ZK_DAEMON_STATS_H
#define ZK_DAEMON_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cache.h"

/* How a figure behaves over time, which is what Prometheus needs to know:
 * a COUNTER only grows (until `stats reset` or a restart), a GAUGE goes up
 * and down, and INFO is text (a version) rather than a number. */
enum stat_kind {
    STAT_COUNTER,
    STAT_GAUGE,
    STAT_INFO,
};

/* X(name, kind, help) */
#define THREAD_STATS(X)                                                       \
    X(cmd_get, COUNTER, "keys requested by get, gets, gat and gats")          \
    X(cmd_set, COUNTER, "storage commands")                                   \
    X(cmd_flush, COUNTER, "flush_all commands")                               \
    X(cmd_touch, COUNTER, "touch, gat and gats key requests")                 \
    X(cmd_meta, COUNTER, "meta debug (me) commands")                          \
    X(get_hits, COUNTER, "keys found")                                        \
    X(get_misses, COUNTER, "keys not found")                                  \
    X(get_expired, COUNTER, "keys found expired")                             \
    X(get_flushed, COUNTER, "keys found invalidated by flush_all")            \
    X(delete_misses, COUNTER, "delete of a missing key")                      \
    X(delete_hits, COUNTER, "deleted keys")                                   \
    X(incr_misses, COUNTER, "incr of a missing key")                          \
    X(incr_hits, COUNTER, "successful incr")                                  \
    X(decr_misses, COUNTER, "decr of a missing key")                          \
    X(decr_hits, COUNTER, "successful decr")                                  \
    X(cas_misses, COUNTER, "cas of a missing key")                            \
    X(cas_hits, COUNTER, "successful cas")                                    \
    X(cas_badval, COUNTER, "cas with a stale cas value")                      \
    X(touch_hits, COUNTER, "touched keys")                                    \
    X(touch_misses, COUNTER, "touch of a missing key")                        \
    X(store_too_large, COUNTER, "values refused as too large")                \
    X(store_no_memory, COUNTER, "values refused for lack of memory")          \
    X(auth_cmds, COUNTER, "authentication tokens checked (-Y)")               \
    X(auth_errors, COUNTER, "authentication tokens refused (-Y)")             \
    X(bytes_read, COUNTER, "bytes read from clients")                         \
    X(bytes_written, COUNTER, "bytes written to clients")                     \
    X(conn_yields, COUNTER, "times a connection yielded after -R requests")

/* Connection memory, per worker, with memcached's names. The worker is
 * the only writer, as for the counters above, but `stats reset` leaves
 * these alone: most are gauges. zeekdb keeps no pool of spare read
 * buffers (each connection owns one and shrinks it when idle), so it has
 * no read_buf_bytes_free. X(name, kind, help) */
#define BUFFER_STATS(X)                                                       \
    X(response_obj_oom, COUNTER, "times a reply buffer could not grow")       \
    X(response_obj_count, GAUGE, "reply buffers allocated")                   \
    X(response_obj_bytes, GAUGE, "bytes of reply buffers")                    \
    X(read_buf_count, GAUGE, "read buffers allocated")                        \
    X(read_buf_bytes, GAUGE, "bytes of read buffers")                         \
    X(read_buf_oom, COUNTER, "times a read buffer could not grow")

struct buffer_stats {
#define BUFFER_STATS_FIELD(name, kind, help) _Atomic uint64_t name;
    BUFFER_STATS(BUFFER_STATS_FIELD)
#undef BUFFER_STATS_FIELD
};

/* Per slab class, in memcached's `stats slabs` order after get_hits.
 * X(name, help) */
#define CLASS_STATS(X)                                                        \
    X(cmd_set, "storage commands whose item fell in the class")               \
    X(delete_hits, "deleted keys")                                            \
    X(incr_hits, "successful incr")                                           \
    X(decr_hits, "successful decr")                                           \
    X(cas_hits, "successful cas")                                             \
    X(cas_badval, "cas with a stale cas value")                               \
    X(touch_hits, "touched keys")

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

struct class_thread_stats {
#define CLASS_STATS_FIELD(name, help) _Atomic uint64_t name;
    CLASS_STATS(CLASS_STATS_FIELD)
#undef CLASS_STATS_FIELD
    _Atomic uint64_t hits[POLICY_NSEGS]; /* get hits by the item's segment */
};

struct thread_stats {
#define THREAD_STATS_FIELD(name, kind, help) _Atomic uint64_t name;
    THREAD_STATS(THREAD_STATS_FIELD)
#undef THREAD_STATS_FIELD
    struct class_thread_stats classes[CACHE_CLASSES_MAX + 1];
    struct buffer_stats buffers;
};

/* Plain per-thread counter bump: only the owning thread writes. */
#define STAT_ADD(ts, field, n)                                                \
    atomic_store_explicit(                                                    \
        &(ts)->field,                                                         \
        atomic_load_explicit(&(ts)->field, memory_order_relaxed) + (n),       \
        memory_order_relaxed)
#define STAT_INC(ts, field) STAT_ADD(ts, field, 1)
/* For the gauges: unsigned wrap-around makes this a subtraction. */
#define STAT_SUB(ts, field, n) STAT_ADD(ts, field, -(uint64_t)(n))
/* The same for class cls's counter; class 0 (no item found) is skipped. */
#define CLASS_STAT_INC(ts, cls, field)                                        \
    do {                                                                      \
        unsigned cls_ = (cls);                                                \
        if (cls_ != 0 && cls_ <= CACHE_CLASSES_MAX)                           \
            STAT_INC(&(ts)->classes[cls_], field);                            \
    } while (0)

/* A lookup that found nothing: a get miss, or a touch miss for the
 * commands memcached counts as touches; and why it missed. */
static inline void stats_count_miss(struct thread_stats *ts,
                                    enum cache_miss why, bool touch)
{
    if (touch)
        STAT_INC(ts, touch_misses);
    else
        STAT_INC(ts, get_misses);
    if (why == CACHE_MISS_EXPIRED)
        STAT_INC(ts, get_expired);
    else if (why == CACHE_MISS_FLUSHED)
        STAT_INC(ts, get_flushed);
}

/* A compare-and-swap store: hit, stale CAS or missing key. cls is the
 * class of the item compared against (0: count no class, as meta does). */
static inline void stats_count_cas(struct thread_stats *ts,
                                   enum cache_status st, unsigned cls)
{
    if (st == CACHE_OK) {
        STAT_INC(ts, cas_hits);
        CLASS_STAT_INC(ts, cls, cas_hits);
    } else if (st == CACHE_EXISTS) {
        STAT_INC(ts, cas_badval);
        CLASS_STAT_INC(ts, cls, cas_badval);
    } else if (st == CACHE_NOT_FOUND) {
        STAT_INC(ts, cas_misses);
    }
}

/* incr/decr (text) and ma (meta) count alike: a miss, or a hit of an
 * item of class cls. */
static inline void stats_count_delta(struct thread_stats *ts, bool incr,
                                     bool hit, unsigned cls)
{
    if (!hit) {
        if (incr)
            STAT_INC(ts, incr_misses);
        else
            STAT_INC(ts, decr_misses);
    } else if (incr) {
        STAT_INC(ts, incr_hits);
        CLASS_STAT_INC(ts, cls, incr_hits);
    } else {
        STAT_INC(ts, decr_hits);
        CLASS_STAT_INC(ts, cls, decr_hits);
    }
}

/* A plain snapshot, for summing and printing. */
struct thread_stats_sum {
#define THREAD_STATS_SUM_FIELD(name, kind, help) uint64_t name;
    THREAD_STATS(THREAD_STATS_SUM_FIELD)
#undef THREAD_STATS_SUM_FIELD
};

struct buffer_stats_sum {
#define BUFFER_STATS_SUM_FIELD(name, kind, help) uint64_t name;
    BUFFER_STATS(BUFFER_STATS_SUM_FIELD)
#undef BUFFER_STATS_SUM_FIELD
};

struct class_stats_sum {
#define CLASS_STATS_SUM_FIELD(name, help) uint64_t name;
    CLASS_STATS(CLASS_STATS_SUM_FIELD)
#undef CLASS_STATS_SUM_FIELD
    uint64_t hits[POLICY_NSEGS];
};

void thread_stats_add_to(struct thread_stats *ts,
                         struct thread_stats_sum *sum);
void class_stats_add_to(struct thread_stats *ts, unsigned cls,
                        struct class_stats_sum *sum);
void buffer_stats_add_to(struct buffer_stats *bs,
                         struct buffer_stats_sum *sum);
/* Zero every counter, the per-class ones included. Only counters of
 * memcached's "stats reset" set are touched; a worker may bump one at the
 * same time and lose that bump. */
void thread_stats_reset(struct thread_stats *ts);

/* Emit every counter of the table, in order, with its kind and help. */
typedef void (*thread_stats_emit_fn)(const char *name, enum stat_kind kind,
                                     const char *help, uint64_t value,
                                     void *arg);
void thread_stats_foreach(const struct thread_stats_sum *sum,
                          thread_stats_emit_fn emit, void *arg);
void buffer_stats_foreach(const struct buffer_stats_sum *sum,
                          thread_stats_emit_fn emit, void *arg);
/* Emit a class's `stats slabs` counters in memcached's order: get_hits
 * (the sum of hits), then CLASS_STATS. */
void class_stats_foreach(const struct class_stats_sum *sum,
                         thread_stats_emit_fn emit, void *arg);

#endif
