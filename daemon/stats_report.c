/*
 * daemon/stats_report.c - see stats_report.h.
 */
#include "daemon/stats_report.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/listener.h"
#include "daemon/prefix_stats.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/snapshotter.h"
#include "daemon/stats.h"
#include "daemon/stats_order.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "daemon/tls.h"
#include "lib/histogram.h"
#include "lib/topk.h"

struct emitter {
    stats_emit_fn emit;
    void *arg;
};

static void put_u64(struct emitter *e, const char *name, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    e->emit(name, buf, e->arg);
}

/* ---- the general report --------------------------------------------- */

/* The general report's figures, in memcached's order, each declared once
 * with its kind and help (STYLE rule 6): `stats` prints name and value,
 * the Prometheus page (daemon/metrics.c) also uses kind and help.
 * X(name, kind, format, help, value): format picks how value is printed
 * (U64, TEXT, TIMEVAL); value is an expression over the locals of the
 * function that expands the table. The request counters are THREAD_STATS
 * in stats.h, and the eviction policy adds its own counters last. */
#define PROCESS_STATS(X)                                                      \
    X(pid, GAUGE, U64, "process id", (uint64_t)getpid())                      \
    X(uptime, GAUGE, U64, "seconds since the daemon started",                 \
      (uint64_t)(now - srv->started))                                         \
    X(time, GAUGE, U64, "unix time by the daemon's clock", (uint64_t)now)     \
    X(version, INFO, TEXT, "daemon version", STATS_VERSION_STRING)            \
    X(libevent, INFO, TEXT, "libevent version", event_get_version())          \
    X(pointer_size, GAUGE, U64, "pointer size in bits",                       \
      (uint64_t)(8 * sizeof(void *)))                                         \
    X(rusage_user, COUNTER, TIMEVAL, "user CPU time in seconds", ru.ru_utime) \
    X(rusage_system, COUNTER, TIMEVAL, "system CPU time in seconds",          \
      ru.ru_stime)

/* memcached counts its listening sockets and its UDP connections (one
 * per worker and UDP socket) among its connections, then leaves one out
 * of curr_connections: `internal` is that count, as zeekdb would have
 * them. */
#define CONNECTION_STATS(X)                                                   \
    X(max_connections, GAUGE, U64, "connection limit (-c)",                   \
      (uint64_t)srv->settings->maxconns)                                      \
    X(curr_connections, GAUGE, U64,                                           \
      "open connections (clients, and listeners less one)",                   \
      atomic_load(&srv->curr_conns) + (internal > 0 ? internal - 1 : 0))      \
    X(total_connections, COUNTER, U64,                                        \
      "connections accepted, and the listeners until a stats reset",         \
      atomic_load(&srv->total_conns) +                                        \
          (atomic_load(&srv->total_conns_reset) ? 0 : internal))              \
    X(rejected_connections, COUNTER, U64,                                     \
      "connections refused at the -c limit",                                  \
      atomic_load(&srv->rejected_conns))                                      \
    X(connection_structures, GAUGE, U64,                                      \
      "connection structures allocated, the listeners' included",             \
      atomic_load(&srv->conn_structures) + internal)

/* After the connection figures, as in memcached. */
#define FD_STATS(X)                                                           \
    X(reserved_fds, GAUGE, U64,                                               \
      "descriptors kept for the daemon's own use beyond -c",                  \
      (uint64_t)SERVER_RESERVED_FDS)

#define ENGINE_STATS(X)                                                       \
    X(limit_maxbytes, GAUGE, U64, "item memory limit in bytes (-m)",          \
      cs.limit_maxbytes)                                                      \
    X(accepting_conns, GAUGE, U64, "1 while new connections are accepted",    \
      (uint64_t)atomic_load(&srv->accepting))                                 \
    X(listen_disabled_num, COUNTER, U64,                                      \
      "times accepting paused for lack of file descriptors",                  \
      atomic_load(&srv->listen_disabled))                                     \
    X(time_in_listen_disabled_us, COUNTER, U64,                               \
      "microseconds accepting was paused",                                    \
      atomic_load(&srv->listen_disabled_us))                                  \
    X(threads, GAUGE, U64, "worker threads", (uint64_t)srv->nworkers)         \
    X(hash_power_level, GAUGE, U64, "hash table size as a power of two",      \
      cs.hash_power)                                                          \
    X(hash_bytes, GAUGE, U64, "bytes of the hash table", cs.hash_bytes)       \
    X(hash_is_expanding, GAUGE, U64, "1 while the hash table grows",          \
      cs.hash_growing)                                                        \
    X(slab_reassign_rescues, COUNTER, U64,                                    \
      "live items a page move copied to another chunk of their class",        \
      cs.move_rescues)                                                        \
    X(slab_reassign_evictions_nomem, COUNTER, U64,                            \
      "live items evicted to move their page to another class",               \
      cs.move_evictions)                                                      \
    X(slab_reassign_busy_items, COUNTER, U64,                                 \
      "times a page move found an item in use and came back later",           \
      cs.move_busy)                                                           \
    X(slab_reassign_running, GAUGE, U64,                                      \
      "1 while a page moves between classes", (uint64_t)cs.move_running)      \
    X(slabs_moved, COUNTER, U64, "slab pages moved between classes",          \
      cs.slabs_moved)                                                         \
    X(lru_crawler_running, GAUGE, U64, "key listings streaming now",          \
      atomic_load(&srv->crawler_running))                                     \
    X(lru_crawler_starts, COUNTER, U64, "key listings and crawls started",    \
      atomic_load(&srv->crawler_starts))                                      \
    X(lru_maintainer_juggles, COUNTER, U64,                                   \
      "rounds of the maintainer thread", atomic_load(&srv->maintainer_rounds)) \
    X(malloc_fails, COUNTER, U64, "connections dropped for lack of memory",   \
      atomic_load(&srv->malloc_fails))                                        \
    X(log_worker_written, COUNTER, U64, "watch log lines made",              \
      ws.written)                                                             \
    X(log_watcher_skipped, COUNTER, U64,                                      \
      "watch log lines lost by watchers that could not keep up", ws.skipped)  \
    X(log_watcher_sent, COUNTER, U64, "watch log lines given to watchers",    \
      ws.sent)                                                                \
    X(log_watchers, GAUGE, U64, "connections watching logs", ws.watchers)     \
    X(bytes, GAUGE, U64, "bytes of the stored items", cs.bytes)               \
    X(bytes_peak, GAUGE, U64, "most bytes ever stored at once",               \
      cs.bytes_peak)                                                          \
    X(rss_bytes, GAUGE, U64, "resident set size of the process in bytes",     \
      process_rss())                                                          \
    X(curr_items, GAUGE, U64, "items stored", cs.curr_items)                  \
    X(total_items, COUNTER, U64, "items ever stored", cs.total_items)         \
    X(expired_unfetched, COUNTER, U64, "items expired before any read",       \
      cs.expired_unfetched)                                                   \
    X(evicted_unfetched, COUNTER, U64, "items evicted before any read",       \
      cs.evicted_unfetched)                                                   \
    X(evicted_active, COUNTER, U64,                                           \
      "items evicted although read since their last move",                    \
      cs.evicted_active)                                                      \
    X(evictions, COUNTER, U64, "live items evicted to make room",             \
      cs.evictions)                                                           \
    X(reclaimed, COUNTER, U64, "expired items' memory reused on store",       \
      cs.reclaimed)                                                           \
    X(crawler_reclaimed, COUNTER, U64, "expired items freed by the reaper",   \
      cs.crawler_reclaimed)                                                   \
    X(crawler_items_checked, COUNTER, U64, "items the reaper looked at",      \
      cs.crawler_items_checked)                                               \
    X(lrutail_reflocked, COUNTER, U64,                                        \
      "eviction candidates skipped as in use", cs.reflocked)                  \
    X(moves_to_cold, COUNTER, U64, "items moved to the COLD segment",         \
      cs.moves_to_cold)                                                       \
    X(moves_to_warm, COUNTER, U64, "items moved from COLD to WARM",           \
      cs.moves_to_warm)                                                       \
    X(moves_within_lru, COUNTER, U64, "items bumped within HOT or WARM",      \
      cs.moves_within_lru)                                                    \
    X(direct_reclaims, COUNTER, U64,                                          \
      "stores that had to free memory themselves", cs.direct_reclaims)

/* Warm restarts; all 0 when -o snapshot_path is not set. */
#define SNAPSHOT_STATS(X)                                                     \
    X(snapshot_last_time, GAUGE, U64,                                         \
      "unix time the last snapshot was written, 0 if never",                  \
      (uint64_t)ss.last_time)                                                 \
    X(snapshot_last_duration_us, GAUGE, U64,                                  \
      "microseconds the last snapshot took", ss.last_duration_us)             \
    X(snapshot_last_items, GAUGE, U64, "items in the last snapshot",          \
      ss.last_items)                                                          \
    X(snapshot_last_bytes, GAUGE, U64, "bytes of the last snapshot file",     \
      ss.last_bytes)                                                          \
    X(snapshot_in_progress, GAUGE, U64, "1 while a snapshot is written",      \
      (uint64_t)ss.in_progress)                                               \
    X(snapshot_failures, COUNTER, U64, "snapshots that could not be written", \
      ss.failures)

struct line_emitter {
    stats_line_fn emit;
    void *arg;
};

static void put_stat_text(struct line_emitter *e, const char *name,
                          enum stat_kind kind, const char *help,
                          const char *value)
{
    struct stat_line line = {name, kind, help, value};
    e->emit(&line, e->arg);
}

static void put_stat_u64(struct line_emitter *e, const char *name,
                         enum stat_kind kind, const char *help, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    put_stat_text(e, name, kind, help, buf);
}

/* Seconds with microseconds, as memcached prints rusage. */
static void put_stat_timeval(struct line_emitter *e, const char *name,
                             enum stat_kind kind, const char *help,
                             struct timeval tv)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)tv.tv_sec,
             (long)tv.tv_usec);
    put_stat_text(e, name, kind, help, buf);
}

#define STAT_PUT_U64 put_stat_u64
#define STAT_PUT_TEXT put_stat_text
#define STAT_PUT_TIMEVAL put_stat_timeval
#define PUT_STAT_ROW(name, kind, format, help, value)                         \
    STAT_PUT_##format(e, #name, STAT_##kind, help, value);

/* Resident set size of the whole process, from /proc; 0 if unreadable. */
static uint64_t process_rss(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void put_process(struct server *srv, struct line_emitter *e)
{
    time_t now = clock_wall(srv->clock);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        memset(&ru, 0, sizeof(ru));
    PROCESS_STATS(PUT_STAT_ROW)
}

static void put_thread_counter(const char *name, enum stat_kind kind,
                               const char *help, uint64_t value, void *arg)
{
    put_stat_u64(arg, name, kind, help, value);
}

static void put_connections(struct server *srv, struct line_emitter *e)
{
    uint64_t internal = (uint64_t)listener_count(srv->listener) +
                        (uint64_t)srv->n_udp * (uint64_t)srv->nworkers;
    CONNECTION_STATS(PUT_STAT_ROW)
    struct buffer_stats_sum bufs = {0};
    for (int i = 0; i < srv->nworkers; i++)
        buffer_stats_add_to(&worker_stats(srv->workers[i])->buffers, &bufs);
    buffer_stats_foreach(&bufs, put_thread_counter, e);
    FD_STATS(PUT_STAT_ROW)
}

/* The policy's counters come from lib/ as bare (name, value) pairs: lib/
 * knows nothing of kinds, and every one of them only grows. */
static void put_policy_counter(const char *name, uint64_t value, void *arg)
{
    put_stat_u64(arg, name, STAT_COUNTER,
                 "counter kept by the eviction policy", value);
}

static void put_engine(struct server *srv, struct line_emitter *e)
{
    struct cache_stats cs;
    cache_stats(srv->cache, &cs);
    struct watch_stats ws;
    watch_stats(srv->watch, &ws);
    ENGINE_STATS(PUT_STAT_ROW)
    cache_policy_stats(srv->cache, put_policy_counter, e);
}

/* -Z only, as memcached prints them. */
/* memcached has this line only while -o idle_timeout is on. */
static void put_idle_kicks(struct server *srv, struct line_emitter *e)
{
    if (srv->settings->idle_timeout > 0)
        put_stat_u64(e, "idle_kicks", STAT_COUNTER,
                     "connections closed by -o idle_timeout",
                     atomic_load(&srv->idle_kicks));
}

static void put_tls(struct server *srv, struct line_emitter *e)
{
    if (srv->tls == NULL)
        return;
    put_stat_u64(e, "ssl_handshake_errors", STAT_COUNTER,
                 "TLS handshakes that failed", tls_handshake_errors(srv->tls));
    time_t now = clock_wall(srv->clock), at = tls_loaded_at(srv->tls);
    put_stat_u64(e, "time_since_server_cert_refresh", STAT_GAUGE,
                 "seconds since the certificate was loaded",
                 now > at ? (uint64_t)(now - at) : 0);
}

static void put_snapshot(struct server *srv, struct line_emitter *e)
{
    struct snapshotter_stats ss = {0};
    if (srv->snapshotter != NULL)
        snapshotter_stats(srv->snapshotter, &ss);
    SNAPSHOT_STATS(PUT_STAT_ROW)
}

void stats_report_general_lines(struct server *srv, stats_line_fn emit,
                                void *arg)
{
    struct line_emitter e = {emit, arg};
    struct thread_stats_sum sum = {0};
    for (int i = 0; i < srv->nworkers; i++)
        thread_stats_add_to(worker_stats(srv->workers[i]), &sum);
    put_process(srv, &e);
    put_connections(srv, &e);
    thread_stats_foreach(&sum, put_thread_counter, &e);
    put_idle_kicks(srv, &e);
    put_engine(srv, &e);
    put_tls(srv, &e);
    put_snapshot(srv, &e);
}

/* The `stats` rendering: name and value, kind and help are for exporters. */
static void put_text_line(const struct stat_line *line, void *arg)
{
    struct emitter *e = arg;
    e->emit(line->name, line->value, e->arg);
}

/* memcached 1.6.18's general lines, in its order: zeekdb's figures go
 * out in it, then zeekdb's own (bytes_peak, the snapshot's, the policy's).
 * The lines with "0" are features zeekdb does not have (SASL, `watch`
 * logs, NAPI ids, the proxy, a global page pool, chunked items' rescue
 * on page moves, asynchronous LRU bumps). Only `stats` prints those, for tools
 * that expect every memcached line; the metrics page leaves them out. */
static const struct stats_order GENERAL_ORDER[] = {
    {"pid", NULL}, {"uptime", NULL}, {"time", NULL}, {"version", NULL},
    {"libevent", NULL}, {"pointer_size", NULL}, {"rusage_user", NULL},
    {"rusage_system", NULL}, {"max_connections", NULL},
    {"curr_connections", NULL}, {"total_connections", NULL},
    {"rejected_connections", NULL}, {"connection_structures", NULL},
    {"response_obj_oom", NULL}, {"response_obj_count", NULL},
    {"response_obj_bytes", NULL}, {"read_buf_count", NULL},
    {"read_buf_bytes", NULL}, {"read_buf_bytes_free", "0"},
    {"read_buf_oom", NULL}, {"reserved_fds", NULL}, {"cmd_get", NULL},
    {"cmd_set", NULL}, {"cmd_flush", NULL}, {"cmd_touch", NULL},
    {"cmd_meta", NULL}, {"get_hits", NULL}, {"get_misses", NULL},
    {"get_expired", NULL}, {"get_flushed", NULL}, {"delete_misses", NULL},
    {"delete_hits", NULL}, {"incr_misses", NULL}, {"incr_hits", NULL},
    {"decr_misses", NULL}, {"decr_hits", NULL}, {"cas_misses", NULL},
    {"cas_hits", NULL}, {"cas_badval", NULL}, {"touch_hits", NULL},
    {"touch_misses", NULL}, {"store_too_large", NULL},
    {"store_no_memory", NULL}, {"auth_cmds", NULL}, {"auth_errors", NULL},
    {"idle_kicks", NULL}, {"bytes_read", NULL}, {"bytes_written", NULL}, {"limit_maxbytes", NULL},
    {"accepting_conns", NULL}, {"listen_disabled_num", NULL},
    {"time_in_listen_disabled_us", NULL}, {"threads", NULL},
    {"conn_yields", NULL}, {"hash_power_level", NULL}, {"hash_bytes", NULL},
    {"hash_is_expanding", NULL}, {"slab_reassign_rescues", NULL},
    {"slab_reassign_chunk_rescues", "0"},
    {"slab_reassign_evictions_nomem", NULL},
    {"slab_reassign_inline_reclaim", "0"}, {"slab_reassign_busy_items", NULL},
    {"slab_reassign_busy_deletes", "0"}, {"slab_reassign_running", NULL},
    {"slabs_moved", NULL}, {"lru_crawler_running", NULL},
    {"lru_crawler_starts", NULL}, {"lru_maintainer_juggles", NULL},
    {"malloc_fails", NULL}, {"log_worker_dropped", "0"},
    {"log_worker_written", NULL}, {"log_watcher_skipped", NULL},
    {"log_watcher_sent", NULL}, {"log_watchers", NULL},
    {"ssl_handshake_errors", NULL}, {"time_since_server_cert_refresh", NULL},
    {"unexpected_napi_ids", "0"}, {"round_robin_fallback", "0"},
    {"bytes", NULL}, {"curr_items", NULL}, {"total_items", NULL},
    {"slab_global_page_pool", "0"}, {"expired_unfetched", NULL},
    {"evicted_unfetched", NULL}, {"evicted_active", NULL},
    {"evictions", NULL}, {"reclaimed", NULL}, {"crawler_reclaimed", NULL},
    {"crawler_items_checked", NULL}, {"lrutail_reflocked", NULL},
    {"moves_to_cold", NULL}, {"moves_to_warm", NULL},
    {"moves_within_lru", NULL}, {"direct_reclaims", NULL},
    {"lru_bumps_dropped", "0"},
};

void stats_report_general(struct server *srv,
                          stats_emit_fn emit, void *arg)
{
    struct stats_lines *ls = stats_lines_begin();
    struct emitter e = {stats_lines_put, ls};
    stats_report_general_lines(srv, put_text_line, &e);
    stats_lines_send(ls, GENERAL_ORDER,
                     sizeof(GENERAL_ORDER) / sizeof(GENERAL_ORDER[0]), emit,
                     arg);
}

void stats_report_reset(struct server *srv)
{
    for (int i = 0; i < srv->nworkers; i++) {
        thread_stats_reset(worker_stats(srv->workers[i]));
        for (int g = 0; g < LAT__COUNT; g++)
            histogram_reset(worker_latency(srv->workers[i],
                                           (enum latency_group)g));
    }
    atomic_store(&srv->total_conns, 0);
    atomic_store(&srv->total_conns_reset, true);
    atomic_store(&srv->rejected_conns, 0);
    atomic_store(&srv->malloc_fails, 0);
    atomic_store(&srv->idle_kicks, 0);
    atomic_store(&srv->listen_disabled, 0);
    atomic_store(&srv->listen_disabled_us, 0);
    atomic_store(&srv->crawler_starts, 0);
    atomic_store(&srv->maintainer_rounds, 0);
    cache_stats_reset(srv->cache);
    prefix_stats_clear(srv->prefix);
}

static void put_class(struct emitter *e, const char *prefix, unsigned cls,
                      const char *name, uint64_t v)
{
    char key[64];
    snprintf(key, sizeof(key), "%s%u:%s", prefix, cls, name);
    put_u64(e, key, v);
}

/* A slab class's request counters summed over the workers. */
static void sum_class(struct server *srv, unsigned cls,
                      struct class_stats_sum *sum)
{
    *sum = (struct class_stats_sum){0};
    for (int i = 0; i < srv->nworkers; i++)
        class_stats_add_to(worker_stats(srv->workers[i]), cls, sum);
}

struct class_emitter {
    struct emitter *e;
    unsigned cls;
};

static void put_class_counter(const char *name, enum stat_kind kind,
                              const char *help, uint64_t value, void *arg)
{
    struct class_emitter *ce = arg;
    (void)kind;
    (void)help;
    put_class(ce->e, "", ce->cls, name, value);
}

/* `stats slabs`, per class with pages, in memcached's order:
 * X(name, value) over cs (struct cache_class_stats). */
#define SLAB_CLASS_STATS(X)                                                   \
    X(chunk_size, cs.chunk_size)                                              \
    X(chunks_per_page, cs.chunks_per_page)                                    \
    X(total_pages, cs.pages)                                                  \
    X(total_chunks, cs.pages * cs.chunks_per_page)                            \
    X(used_chunks, cs.used_chunks)                                            \
    X(free_chunks, cs.free_chunks)                                            \
    /* memcached's chunks never handed out of its newest page; zeekdb */     \
    /* carves a page whole, so it has none */                                 \
    X(free_chunks_end, 0)

#define PUT_SLAB_ROW(name, value) put_class(&e, "", cls, #name, value);

void stats_report_slabs(struct server *srv,
                        stats_emit_fn emit, void *arg)
{
    struct emitter e = {emit, arg};
    uint64_t active = 0, malloced = 0;
    for (unsigned cls = 1; cls <= cache_nclasses(srv->cache); cls++) {
        struct cache_class_stats cs;
        cache_class_stats(srv->cache, cls, &cs);
        if (cs.pages == 0)
            continue;
        active++;
        malloced += cs.pages * cs.chunks_per_page * cs.chunk_size;
        SLAB_CLASS_STATS(PUT_SLAB_ROW)
        struct class_stats_sum sum;
        struct class_emitter ce = {&e, cls};
        sum_class(srv, cls, &sum);
        class_stats_foreach(&sum, put_class_counter, &ce);
    }
    put_u64(&e, "active_slabs", active);
    put_u64(&e, "total_malloced", malloced);
}

/* Seconds since a segment's oldest access; 0 for an empty segment. */
static uint64_t age_of(rel_time_t now, rel_time_t atime)
{
    return atime != 0 && now > atime ? now - atime : 0;
}

/* `stats items`, per class holding items, in memcached 1.6.18's order:
 * X(name, value) over cs (struct cache_class_stats), sum (the workers'
 * struct class_stats_sum) and now. Segment figures come from the eviction
 * policy (all items COLD for one without segments); memcached's `age` is
 * its COLD segment's. */
#define ITEMS_CLASS_STATS(X)                                                  \
    X(number, cs.items)                                                       \
    X(number_hot, cs.seg.items[POLICY_SEG_HOT])                               \
    X(number_warm, cs.seg.items[POLICY_SEG_WARM])                             \
    X(number_cold, cs.seg.items[POLICY_SEG_COLD])                             \
    /* only while the TEMP LRU is on, as memcached prints it */               \
    X(number_temp, cs.seg.items[POLICY_SEG_TEMP], temp_on)                    \
    X(age_hot, age_of(now, cs.seg.tail_atime[POLICY_SEG_HOT]))                \
    X(age_warm, age_of(now, cs.seg.tail_atime[POLICY_SEG_WARM]))              \
    X(age, age_of(now, cs.seg.tail_atime[POLICY_SEG_COLD]))                   \
    X(mem_requested, cs.requested)                                            \
    X(evicted, cs.evictions)                                                  \
    X(evicted_nonzero, cs.evicted_nonzero)                                    \
    X(evicted_time, cs.evicted_time)                                          \
    X(outofmemory, cs.outofmemory)                                            \
    /* memcached's count of refcount leaks it repaired; zeekdb never */      \
    /* needs to (kept for tools that read it) */                              \
    X(tailrepairs, 0)                                                         \
    X(reclaimed, cs.reclaimed)                                                \
    X(expired_unfetched, cs.expired_unfetched)                                \
    X(evicted_unfetched, cs.evicted_unfetched)                                \
    X(evicted_active, cs.seg.evicted_active)                                  \
    X(crawler_reclaimed, cs.crawler_reclaimed)                                \
    X(crawler_items_checked, cs.crawler_items_checked)                        \
    X(lrutail_reflocked, cs.reflocked)                                        \
    X(moves_to_cold, cs.seg.moves_to_cold)                                    \
    X(moves_to_warm, cs.seg.moves_to_warm)                                    \
    X(moves_within_lru, cs.seg.moves_within_lru)                              \
    X(direct_reclaims, cs.direct_reclaims)                                    \
    X(hits_to_hot, sum.hits[POLICY_SEG_HOT])                                  \
    X(hits_to_warm, sum.hits[POLICY_SEG_WARM])                                \
    X(hits_to_cold, sum.hits[POLICY_SEG_COLD])                                \
    X(hits_to_temp, sum.hits[POLICY_SEG_TEMP])

/* X(name, value[, condition]) */
#define PUT_ITEMS_ROW(name, ...) PUT_ITEMS_ROW_(name, __VA_ARGS__, true, )
#define PUT_ITEMS_ROW_(name, value, shown, ...)                               \
    if (shown)                                                                \
        put_class(&e, "items:", cls, #name, value);

struct size_emit {
    stats_emit_fn emit;
    void *arg;
};

static void emit_size(size_t size, uint64_t count, void *arg)
{
    struct size_emit *e = arg;
    char name[24], value[24];
    snprintf(name, sizeof(name), "%zu", size);
    snprintf(value, sizeof(value), "%" PRIu64, count);
    e->emit(name, value, e->arg);
}

void stats_report_sizes(struct server *srv, stats_emit_fn emit, void *arg)
{
    if (!cache_sizes_enabled(srv->cache)) {
        emit("sizes_status", "disabled", arg);
        return;
    }
    struct size_emit e = {emit, arg};
    cache_sizes_report(srv->cache, emit_size, &e);
}

void stats_sizes_enable(struct server *srv, stats_emit_fn emit, void *arg)
{
    switch (cache_sizes_enable(srv->cache)) {
    case CACHE_SIZES_ON:
        emit("sizes_status", "enabled", arg);
        break;
    case CACHE_SIZES_NO_CAS:
        emit("sizes_status", "error", arg);
        emit("sizes_error", "cas_support_disabled", arg);
        break;
    case CACHE_SIZES_NO_MEMORY:
        emit("sizes_status", "error", arg);
        emit("sizes_error", "no_memory", arg);
        break;
    }
}

void stats_sizes_disable(struct server *srv, stats_emit_fn emit, void *arg)
{
    cache_sizes_disable(srv->cache);
    emit("sizes_status", "disabled", arg);
}

void stats_report_items(struct server *srv,
                        stats_emit_fn emit, void *arg)
{
    struct emitter e = {emit, arg};
    rel_time_t now = clock_now(srv->clock);
    bool temp_on;
    uint32_t temp_ttl;
    cache_temp_lru(srv->cache, &temp_on, &temp_ttl);
    for (unsigned cls = 1; cls <= cache_nclasses(srv->cache); cls++) {
        struct cache_class_stats cs;
        cache_class_stats(srv->cache, cls, &cs);
        if (cs.items == 0 && cs.evictions == 0 && cs.outofmemory == 0)
            continue;
        struct class_stats_sum sum;
        sum_class(srv, cls, &sum);
        ITEMS_CLASS_STATS(PUT_ITEMS_ROW)
    }
}

/* Percentiles `stats latency` reports, with their line names. */
static const struct {
    const char *name;
    double p;
} latency_points[] = {
    {"p50", 50}, {"p90", 90}, {"p99", 99}, {"p999", 99.9},
};

static const char *const latency_group_names[] = {
#define LATENCY_GROUP_NAME(name, word) word,
    LATENCY_GROUPS(LATENCY_GROUP_NAME)
#undef LATENCY_GROUP_NAME
};

const char *stats_latency_group_name(enum latency_group g)
{
    return latency_group_names[g];
}

void stats_latency_snapshot(struct server *srv, enum latency_group g,
                            struct histogram_snapshot *out)
{
    histogram_snapshot_init(out);
    for (int i = 0; i < srv->nworkers; i++)
        histogram_merge(out, worker_latency(srv->workers[i], g));
}

void stats_report_latency(struct server *srv, stats_emit_fn emit, void *arg)
{
    struct emitter e = {emit, arg};
    struct histogram_snapshot snap;
    char key[48];
    for (int g = 0; g < LAT__COUNT; g++) {
        const char *group = latency_group_names[g];
        stats_latency_snapshot(srv, (enum latency_group)g, &snap);
        snprintf(key, sizeof(key), "%s:count", group);
        put_u64(&e, key, histogram_count(&snap));
        for (size_t i = 0; i < sizeof(latency_points) /
                                  sizeof(latency_points[0]); i++) {
            snprintf(key, sizeof(key), "%s:%s_us", group,
                     latency_points[i].name);
            put_u64(&e, key, histogram_percentile(&snap,
                                                  latency_points[i].p) / 1000);
        }
        snprintf(key, sizeof(key), "%s:max_us", group);
        put_u64(&e, key, histogram_max(&snap) / 1000);
    }
}

/* Entries taken from each worker's sketch before merging. */
#define HOTKEYS_PER_WORKER 128

void stats_report_hotkeys(struct server *srv, unsigned n, stats_emit_fn emit,
                          void *arg)
{
    size_t cap = (size_t)srv->nworkers * HOTKEYS_PER_WORKER, have = 0;
    struct topk_entry *all = calloc(cap, sizeof(*all));
    if (all == NULL)
        return;
    for (int i = 0; i < srv->nworkers; i++)
        have += topk_snapshot(worker_hotkeys(srv->workers[i]), all + have,
                              HOTKEYS_PER_WORKER);
    size_t shown = topk_merge(all, have, n);
    char key[TOPK_KEY_MAX + 1], value[24];
    for (size_t i = 0; i < shown; i++) {
        memcpy(key, all[i].key, all[i].nkey);
        key[all[i].nkey] = '\0';
        snprintf(value, sizeof(value), "%llu",
                 (unsigned long long)all[i].count);
        emit(key, value, arg);
    }
    free(all);
}
