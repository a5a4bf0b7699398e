/*
 * daemon/rates.h - per-second rates of the request counters.
 *
 * The maintainer sums every worker's counters once a second and keeps the
 * difference from the previous second; `stats rates` prints it. Requests
 * never pay for it: the counters are read, not touched.
 */
#ifndef ZK_DAEMON_RATES_H
#define ZK_DAEMON_RATES_H

#include <time.h>

#include "daemon/stats_report.h"

struct server;
struct rates;

struct rates *rates_create(void);
void rates_destroy(struct rates **r);

/* Take this second's aggregate (maintainer thread; at most once a
 * second has any effect). */
void rates_update(struct rates *r, struct server *srv, time_t now);
/* One line per counter: its increase over the last whole second. */
void rates_report(struct rates *r, stats_emit_fn emit, void *arg);

#endif
