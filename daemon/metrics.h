/*
 * daemon/metrics.h - the Prometheus endpoint (-o metrics_port=PORT).
 *
 * Serves GET /metrics over HTTP (libevent's evhttp) on the main thread's
 * event loop, on every -l address at metrics_port, in the Prometheus text
 * exposition format 0.0.4. Other paths get 404, other methods on /metrics
 * 405. The page is rendered from the same tables as `stats` (see
 * stats_report.h), so the two never disagree on a name or a value.
 */
#ifndef ZK_DAEMON_METRICS_H
#define ZK_DAEMON_METRICS_H

#include <stddef.h>

struct server;
struct event_base;
struct evbuffer;
struct metrics;

/* Bind srv->settings->metrics_port (which must not be 0) on every -l
 * address and serve on base; NULL with a one-line message in err on
 * failure. */
struct metrics *metrics_start(struct server *srv, struct event_base *base,
                              char *err, size_t errlen);
/* Close the sockets and any scrape in flight; tolerates NULL. */
void metrics_stop(struct metrics **m);

/* Append the whole page to out: what a scrape returns. */
void metrics_render(struct server *srv, struct evbuffer *out);

#endif
