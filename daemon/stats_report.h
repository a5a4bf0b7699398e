/*
 * daemon/stats_report.h - the general `stats` report and `stats reset`.
 *
 * The lines, their names and order are memcached's, for every figure that
 * applies to zeekdb, so existing dashboards read them unchanged.
 */
#ifndef ZK_DAEMON_STATS_REPORT_H
#define ZK_DAEMON_STATS_REPORT_H

#include <stddef.h>

struct server;

/* What `version` and `stats` report: the memcached protocol level this
 * daemon answers as, then zeekdb's own version. Clients that parse
 * "major.minor.patch" read the memcached part. */
/* Receives one "STAT name value" line. */
typedef void (*stats_emit_fn)(const char *name, const char *value, void *arg);

#define STATS_VERSION_STRING "1.6.18-zeekdb-" ZEEKDB_VERSION

void stats_report_general(struct server *srv,
                          stats_emit_fn emit, void *arg);
/* `stats slabs`: memory per slab class; `stats items`: items per class. */
void stats_report_slabs(struct server *srv,
                        stats_emit_fn emit, void *arg);
void stats_report_items(struct server *srv,
                        stats_emit_fn emit, void *arg);
/* `stats cachedump`: "ITEM ..." lines for up to limit items of cls. */
void stats_report_cachedump(struct server *srv, unsigned cls, unsigned limit,
                            void (*emit)(const char *line, size_t len,
                                         void *arg),
                            void *arg);
/* `stats latency`: per command group, requests timed and their p50, p90,
 * p99, p99.9 and max latency in microseconds (from the start of the
 * worker's event that finished the request to its reply being queued). */
void stats_report_latency(struct server *srv, stats_emit_fn emit, void *arg);
/* `stats hotkeys [N]`: the N keys read most in the recent window (sampled,
 * approximate counts), one "STAT <key> <count>" line each, most first. */
#define STATS_HOTKEYS_DEFAULT 10
void stats_report_hotkeys(struct server *srv, unsigned n, stats_emit_fn emit,
                          void *arg);
void stats_report_reset(struct server *srv);

#endif
