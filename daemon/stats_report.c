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

#include "daemon/server.h"
#include "daemon/stats.h"
#include "daemon/worker.h"
#include "lib/histogram.h"
#include "lib/topk.h"

/* "ITEM <key> [<bytes> b; <unix time> s]\r\n" */
#define TEXT_LINE_FOR_DUMP (5 + 250 + 64)

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

static void put_counter(const char *name, uint64_t value, void *arg)
{
    put_u64(arg, name, value);
}

static void put_rusage(struct emitter *e)
{
    struct rusage ru;
    char buf[48];
    getrusage(RUSAGE_SELF, &ru);
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)ru.ru_utime.tv_sec,
             (long)ru.ru_utime.tv_usec);
    e->emit("rusage_user", buf, e->arg);
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)ru.ru_stime.tv_sec,
             (long)ru.ru_stime.tv_usec);
    e->emit("rusage_system", buf, e->arg);
}

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

static void put_process(struct server *srv, struct emitter *e)
{
    time_t now = clock_wall(srv->clock);
    put_u64(e, "pid", (uint64_t)getpid());
    put_u64(e, "uptime", (uint64_t)(now - srv->started));
    put_u64(e, "time", (uint64_t)now);
    e->emit("version", STATS_VERSION_STRING, e->arg);
    e->emit("libevent", event_get_version(), e->arg);
    put_u64(e, "pointer_size", 8 * sizeof(void *));
    put_rusage(e);
}

static void put_connections(struct server *srv, struct emitter *e)
{
    put_u64(e, "max_connections", (uint64_t)srv->settings->maxconns);
    put_u64(e, "curr_connections", atomic_load(&srv->curr_conns));
    put_u64(e, "total_connections", atomic_load(&srv->total_conns));
    put_u64(e, "rejected_connections", atomic_load(&srv->rejected_conns));
    put_u64(e, "connection_structures", atomic_load(&srv->conn_structures));
}

static void put_engine(struct server *srv, struct emitter *e)
{
    struct cache_stats cs;
    cache_stats(srv->cache, &cs);
    put_u64(e, "limit_maxbytes", cs.limit_maxbytes);
    put_u64(e, "threads", (uint64_t)srv->nworkers);
    put_u64(e, "hash_power_level", cs.hash_power);
    put_u64(e, "hash_bytes", cs.hash_bytes);
    put_u64(e, "hash_is_expanding", cs.hash_growing);
    put_u64(e, "bytes", cs.bytes);
    put_u64(e, "bytes_peak", cs.bytes_peak);
    put_u64(e, "rss_bytes", process_rss());
    put_u64(e, "curr_items", cs.curr_items);
    put_u64(e, "total_items", cs.total_items);
    put_u64(e, "expired_unfetched", cs.expired_unfetched);
    put_u64(e, "evicted_unfetched", cs.evicted_unfetched);
    put_u64(e, "evictions", cs.evictions);
    put_u64(e, "reclaimed", cs.reclaimed);
    put_u64(e, "crawler_reclaimed", cs.crawler_reclaimed);
    put_u64(e, "slabs_moved", cs.slabs_moved);
    cache_policy_stats(srv->cache, put_counter, e);
}

void stats_report_general(struct server *srv,
                          stats_emit_fn emit, void *arg)
{
    struct emitter e = {emit, arg};
    struct thread_stats_sum sum = {0};
    for (int i = 0; i < srv->nworkers; i++)
        thread_stats_add_to(worker_stats(srv->workers[i]), &sum);
    put_process(srv, &e);
    put_connections(srv, &e);
    thread_stats_foreach(&sum, put_counter, &e);
    put_engine(srv, &e);
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
    atomic_store(&srv->rejected_conns, 0);
}

static void put_class(struct emitter *e, const char *prefix, unsigned cls,
                      const char *name, uint64_t v)
{
    char key[64];
    snprintf(key, sizeof(key), "%s%u:%s", prefix, cls, name);
    put_u64(e, key, v);
}

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
        put_class(&e, "", cls, "chunk_size", cs.chunk_size);
        put_class(&e, "", cls, "chunks_per_page", cs.chunks_per_page);
        put_class(&e, "", cls, "total_pages", cs.pages);
        put_class(&e, "", cls, "total_chunks", cs.pages * cs.chunks_per_page);
        put_class(&e, "", cls, "used_chunks", cs.used_chunks);
        put_class(&e, "", cls, "free_chunks", cs.free_chunks);
        put_class(&e, "", cls, "free_chunks_end", 0);
    }
    put_u64(&e, "active_slabs", active);
    put_u64(&e, "total_malloced", malloced);
}

void stats_report_items(struct server *srv,
                        stats_emit_fn emit, void *arg)
{
    struct emitter e = {emit, arg};
    for (unsigned cls = 1; cls <= cache_nclasses(srv->cache); cls++) {
        struct cache_class_stats cs;
        cache_class_stats(srv->cache, cls, &cs);
        if (cs.items == 0 && cs.evictions == 0 && cs.outofmemory == 0)
            continue;
        put_class(&e, "items:", cls, "number", cs.items);
        put_class(&e, "items:", cls, "mem_requested", cs.requested);
        put_class(&e, "items:", cls, "evicted", cs.evictions);
        put_class(&e, "items:", cls, "outofmemory", cs.outofmemory);
        put_class(&e, "items:", cls, "reclaimed", cs.reclaimed);
        put_class(&e, "items:", cls, "expired_unfetched",
                  cs.expired_unfetched);
        put_class(&e, "items:", cls, "evicted_unfetched",
                  cs.evicted_unfetched);
    }
}

/* memcached caps a cachedump reply at 2 MB; so do we, by lines. */
#define CACHEDUMP_MAX_LINES 20000

struct dump_emit {
    void (*emit)(const char *line, size_t len, void *arg);
    void *arg;
};

static void put_dump_line(const struct cache_item_view *v, time_t expires,
                          void *arg)
{
    struct dump_emit *d = arg;
    char line[TEXT_LINE_FOR_DUMP];
    int n = snprintf(line, sizeof(line), "ITEM %.*s [%zu b; %llu s]\r\n",
                     (int)v->nkey, v->key, v->nbytes - 2,
                     (unsigned long long)expires);
    d->emit(line, (size_t)n, d->arg);
}

void stats_report_cachedump(struct server *srv, unsigned cls, unsigned limit,
                            void (*emit)(const char *line, size_t len,
                                         void *arg),
                            void *arg)
{
    struct dump_emit d = {emit, arg};
    if (limit == 0 || limit > CACHEDUMP_MAX_LINES)
        limit = CACHEDUMP_MAX_LINES;
    cache_dump_class(srv->cache, cls, limit, put_dump_line, &d);
}

/* Percentiles `stats latency` reports, with their line names. */
static const struct {
    const char *name;
    double p;
} latency_points[] = {
    {"p50", 50}, {"p90", 90}, {"p99", 99}, {"p999", 99.9},
};

void stats_report_latency(struct server *srv, stats_emit_fn emit, void *arg)
{
    static const char *const groups[] = {
#define LATENCY_GROUP_NAME(name, word) word,
        LATENCY_GROUPS(LATENCY_GROUP_NAME)
#undef LATENCY_GROUP_NAME
    };
    struct emitter e = {emit, arg};
    struct histogram_snapshot snap;
    char key[48];
    for (int g = 0; g < LAT__COUNT; g++) {
        histogram_snapshot_init(&snap);
        for (int i = 0; i < srv->nworkers; i++)
            histogram_merge(&snap, worker_latency(srv->workers[i],
                                                  (enum latency_group)g));
        snprintf(key, sizeof(key), "%s:count", groups[g]);
        put_u64(&e, key, histogram_count(&snap));
        for (size_t i = 0; i < sizeof(latency_points) /
                                  sizeof(latency_points[0]); i++) {
            snprintf(key, sizeof(key), "%s:%s_us", groups[g],
                     latency_points[i].name);
            put_u64(&e, key, histogram_percentile(&snap,
                                                  latency_points[i].p) / 1000);
        }
        snprintf(key, sizeof(key), "%s:max_us", groups[g]);
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
