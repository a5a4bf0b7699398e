/*
 * daemon/stats_report.h - the general `stats` report and `stats reset`.
 *
 * The lines, their names and order are memcached's, for every figure that
 * applies to zeekdb, so existing dashboards read them unchanged.
 */
#ifndef ZK_DAEMON_STATS_REPORT_H
#define ZK_DAEMON_STATS_REPORT_H

#include <stddef.h>

#include "daemon/stats.h"

struct server;
struct histogram_snapshot;

/* What `version` and `stats` report: the memcached protocol level this
 * daemon answers as, then zeekdb's own version. Clients that parse
 * "major.minor.patch" read the memcached part. */
/* Receives one "STAT name value" line. */
typedef void (*stats_emit_fn)(const char *name, const char *value, void *arg);

#define STATS_VERSION_STRING "1.6.18-zeekdb-" ZEEKDB_VERSION

/* One line of the general report, as declared in its table: value is the
 * text `stats` prints (a decimal integer, seconds with a fraction for the
 * rusage lines, any text for INFO lines). Valid only during the call. */
struct stat_line {
    const char *name;
    enum stat_kind kind;
    const char *help;
    const char *value;
};
typedef void (*stats_line_fn)(const struct stat_line *line, void *arg);

/* The general report, line by line with kind and help: the one source of
 * both `stats` (stats_report_general, which prints name and value, then
 * memcached's always-0 lines of features zeekdb lacks) and the Prometheus
 * page. */
void stats_report_general_lines(struct server *srv, stats_line_fn emit,
                                void *arg);
void stats_report_general(struct server *srv,
                          stats_emit_fn emit, void *arg);
/* `stats settings` (daemon/stats_settings.c): the settings table
 * (daemon/settings.h) and what is only known at run time, in memcached's
 * order, then zeekdb's own lines. */
void stats_report_settings(struct server *srv, stats_emit_fn emit, void *arg);

/* `stats slabs`: memory per slab class; `stats items`: items per class. */
void stats_report_slabs(struct server *srv,
                        stats_emit_fn emit, void *arg);
void stats_report_items(struct server *srv,
                        stats_emit_fn emit, void *arg);
/* `stats sizes`: "STAT <size> <items>" per 32-byte size that holds items
 * (lib/size_hist.h), or memcached's "sizes_status disabled" while off.
 * `stats sizes_enable` / `sizes_disable`: memcached's status lines
 * ("sizes_status enabled"; "sizes_status error" and "sizes_error
 * cas_support_disabled" under -C). */
void stats_report_sizes(struct server *srv, stats_emit_fn emit, void *arg);
void stats_sizes_enable(struct server *srv, stats_emit_fn emit, void *arg);
void stats_sizes_disable(struct server *srv, stats_emit_fn emit, void *arg);
/* `stats latency`: per command group, requests timed and their p50, p90,
 * p99, p99.9 and max latency in microseconds (from the moment the worker's
 * loop woke for the event that finished the request to its reply being
 * queued). */
void stats_report_latency(struct server *srv, stats_emit_fn emit, void *arg);
/* The latency of group g summed over every worker, and the group's name
 * ("get", "set", ...), for exporters. */
void stats_latency_snapshot(struct server *srv, enum latency_group g,
                            struct histogram_snapshot *out);
const char *stats_latency_group_name(enum latency_group g);
/* `stats hotkeys [N]`: the N keys read most in the recent window (sampled,
 * approximate counts), one "STAT <key> <count>" line each, most first. */
#define STATS_HOTKEYS_DEFAULT 10
void stats_report_hotkeys(struct server *srv, unsigned n, stats_emit_fn emit,
                          void *arg);
void stats_report_reset(struct server *srv);

#endif
