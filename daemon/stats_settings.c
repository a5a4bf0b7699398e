/*
 * daemon/stats_settings.c - `stats settings`.
 *
 * The lines come from the settings table (daemon/settings.h) and from
 * what is only known at run time, and go out in memcached 1.6.18's order
 * with all of its names, so a dashboard or a diff of the two finds each
 * where it expects it; zeekdb's own lines follow. memcached's lines for
 * knobs zeekdb does not have (extstore, TLS, log buffers, the crawler's
 * pacing) show memcached's defaults: they have no effect here.
 */
#include "daemon/stats_report.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/prefix_stats.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/stats_order.h"
#include "lib/cache.h"
#include "lib/slabs.h"

/* memcached's lines in its order; absent: the value to show when zeekdb
 * has no such line, NULL for lines it always has. */
static const struct stats_order MEMCACHED_ORDER[] = {
    {"maxbytes", NULL}, {"maxconns", NULL}, {"tcpport", NULL},
    {"udpport", NULL}, {"inter", NULL}, {"verbosity", NULL},
    {"oldest", "0"}, {"evictions", NULL}, {"domain_socket", NULL},
    {"umask", NULL}, {"shutdown_command", NULL}, {"growth_factor", NULL},
    {"chunk_size", NULL}, {"num_threads", NULL},
    {"num_threads_per_udp", NULL}, {"stat_key_prefix", NULL},
    {"detail_enabled", NULL}, {"reqs_per_event", NULL},
    {"cas_enabled", NULL}, {"tcp_backlog", NULL},
    {"binding_protocol", NULL}, {"auth_enabled_sasl", NULL},
    {"auth_enabled_ascii", NULL}, {"item_size_max", NULL},
    {"maxconns_fast", NULL}, {"hashpower_init", NULL},
    {"slab_reassign", NULL}, {"slab_automove", NULL},
    {"slab_automove_ratio", "0.80"}, {"slab_automove_window", "30"},
    {"slab_chunk_max", NULL}, {"lru_crawler", NULL},
    {"lru_crawler_sleep", "100"}, {"lru_crawler_tocrawl", "0"},
    {"tail_repair_time", NULL}, {"flush_enabled", NULL},
    {"dump_enabled", NULL}, {"hash_algorithm", NULL},
    {"lru_maintainer_thread", NULL}, {"lru_segmented", NULL},
    {"hot_lru_pct", NULL}, {"warm_lru_pct", NULL},
    {"hot_max_factor", "0.20"}, {"warm_max_factor", "2.00"},
    {"temp_lru", NULL}, {"temporary_ttl", NULL}, {"idle_timeout", NULL},
    {"watcher_logbuf_size", "262144"}, {"worker_logbuf_size", "65536"},
    {"read_buf_mem_limit", NULL}, {"track_sizes", NULL},
    {"inline_ascii_response", NULL}, {"ext_item_size", "512"},
    {"ext_item_age", "4294967295"}, {"ext_low_ttl", "0"},
    {"ext_recache_rate", "2000"}, {"ext_wbuf_size", "4194304"},
    {"ext_compact_under", "0"}, {"ext_drop_under", "0"},
    {"ext_max_sleep", "1000000"}, {"ext_max_frag", "0.80"},
    {"slab_automove_freeratio", "0.010"}, {"ext_drop_unread", "no"},
    {"ssl_enabled", "no"}, {"ssl_chain_cert", "(null)"},
    {"ssl_key", "(null)"}, {"ssl_verify_mode", "0"},
    {"ssl_keyformat", "1"}, {"ssl_ciphers", "NULL"},
    {"ssl_ca_cert", "NULL"}, {"ssl_wbuf_size", "16384"},
    {"ssl_session_cache", "no"}, {"ssl_kernel_tls", "no"},
    {"ssl_min_version", "tlsv1.2"}, {"num_napi_ids", "(null)"},
    {"memory_file", "(null)"},
};

/* The values that change at run time (verbosity, cache_memlimit, lru
 * tune, ...) over the start-up ones from the table. */
static void put_u64(struct stats_lines *ls, const char *name, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    stats_lines_put(name, buf, ls);
}

/* A fraction with memcached's number of decimals. */
static void put_fixed(struct stats_lines *ls, const char *name,
                      const char *fmt, double v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), fmt, v);
    stats_lines_put(name, buf, ls);
}

/* memcached's ssl_* lines: the -o rows as the table prints them, then
 * memcached's own words where they differ ("(null)" for the certificate
 * and key, the buffer in bytes). */
static void put_tls_settings(const struct settings *s, struct stats_lines *ls)
{
    static const char *const from_table[] = {
        "ssl_verify_mode", "ssl_keyformat", "ssl_ciphers", "ssl_ca_cert",
        "ssl_session_cache", "ssl_kernel_tls", "ssl_min_version",
    };
    char buf[64];
    stats_lines_put("ssl_enabled", s->ssl_enabled ? "yes" : "no", ls);
    stats_lines_put("ssl_chain_cert",
                    s->ssl_chain_cert ? s->ssl_chain_cert : "(null)", ls);
    stats_lines_put("ssl_key", s->ssl_key ? s->ssl_key : "(null)", ls);
    for (size_t i = 0; i < sizeof(from_table) / sizeof(from_table[0]); i++)
        stats_lines_put(from_table[i],
                        settings_okey_text(s, from_table[i], buf, sizeof(buf)),
                        ls);
    put_u64(ls, "ssl_wbuf_size", (uint64_t)s->ssl_wbuf_kb * 1024);
}

static void collect(struct server *srv, struct stats_lines *ls)
{
    settings_foreach_stat(srv->settings, stats_lines_put, ls);
    put_u64(ls, "maxbytes", slabs_limit(cache_slabs(srv->cache)));
    put_u64(ls, "verbosity", (uint64_t)log_level());
    const char *threads = stats_lines_value(ls, "num_threads");
    if (threads != NULL)
        stats_lines_put("num_threads_per_udp", threads, ls);
    /* memcached's words: the file, or "no" (not the table's "NULL") */
    stats_lines_put("auth_enabled_ascii",
                    srv->settings->auth_file != NULL ? srv->settings->auth_file
                                                     : "no",
                    ls);
    put_tls_settings(srv->settings, ls);
    if (srv->settings->memory_file != NULL)
        stats_lines_put("memory_file", srv->settings->memory_file, ls);
    stats_lines_put("detail_enabled",
                    prefix_stats_enabled(srv->prefix) ? "yes" : "no", ls);
    stats_lines_put("lru_segmented",
                    strcmp(srv->settings->eviction, "lru") == 0 &&
                            !cache_lru_flat(srv->cache) ? "yes" : "no",
                    ls);
    put_u64(ls, "slab_automove", (uint64_t)atomic_load(&srv->slab_automove));
    stats_lines_put("lru_crawler",
                    atomic_load(&srv->crawler_off) ? "no" : "yes", ls);
    put_u64(ls, "lru_crawler_sleep", atomic_load(&srv->crawler_sleep));
    put_u64(ls, "lru_crawler_tocrawl", atomic_load(&srv->crawler_tocrawl));
    bool temp_on;
    uint32_t temp_ttl;
    cache_temp_lru(srv->cache, &temp_on, &temp_ttl);
    stats_lines_put("temp_lru", temp_on ? "yes" : "no", ls);
    put_u64(ls, "temporary_ttl", temp_ttl);
    /* given in kilobytes, shown in bytes, as memcached does */
    put_u64(ls, "watcher_logbuf_size",
            (uint64_t)srv->settings->watcher_logbuf_kb * 1024);
    stats_lines_put("track_sizes",
                    cache_sizes_enabled(srv->cache) ? "yes" : "no", ls);
    unsigned hot, warm;
    cache_lru_shares(srv->cache, &hot, &warm);
    put_u64(ls, "hot_lru_pct", hot);
    put_u64(ls, "warm_lru_pct", warm);
    put_fixed(ls, "hot_max_factor", "%.2f", atomic_load(&srv->hot_max_factor));
    put_fixed(ls, "warm_max_factor", "%.2f",
              atomic_load(&srv->warm_max_factor));
    put_fixed(ls, "slab_automove_freeratio", "%.3f",
              srv->settings->slab_automove_freeratio);
    put_u64(ls, "worker_logbuf_size",
            (uint64_t)srv->settings->worker_logbuf_size * 1024);
    /* items are never split into chunks: the largest chunk holds the
     * largest item */
    put_u64(ls, "slab_chunk_max", cache_item_size_max(srv->cache));
}

void stats_report_settings(struct server *srv, stats_emit_fn emit, void *arg)
{
    struct stats_lines *ls = stats_lines_begin();
    collect(srv, ls);
    stats_lines_send(ls, MEMCACHED_ORDER,
                     sizeof(MEMCACHED_ORDER) / sizeof(MEMCACHED_ORDER[0]),
                     emit, arg);
}
