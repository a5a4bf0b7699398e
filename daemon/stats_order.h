/*
 * daemon/stats_order.h - a stats reply in memcached's order.
 *
 * The figures of a reply are gathered first (stats_lines_put() is a
 * stats_emit_fn), then sent with the reference's names first, in its
 * order, and the rest after them in the order they came. A reference
 * name zeekdb has no figure for is sent with its `absent` value; with
 * absent NULL it is left out.
 *
 * The scratch is per thread and reused: one reply at a time per thread.
 */
#ifndef ZK_DAEMON_STATS_ORDER_H
#define ZK_DAEMON_STATS_ORDER_H

#include <stddef.h>

#include "daemon/stats_report.h"

struct stats_order {
    const char *name;
    const char *absent;
};

struct stats_lines;

/* This thread's scratch, emptied. */
struct stats_lines *stats_lines_begin(void);
/* Add a line (arg: the scratch), or give an existing one a new value. */
void stats_lines_put(const char *name, const char *value, void *arg);
/* The value of a line gathered, or NULL. */
const char *stats_lines_value(struct stats_lines *ls, const char *name);
void stats_lines_send(struct stats_lines *ls, const struct stats_order *order,
                      size_t norder, stats_emit_fn emit, void *arg);

#endif
