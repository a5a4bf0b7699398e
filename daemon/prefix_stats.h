/*
 * daemon/prefix_stats.h - memcached's "stats detail": per key-prefix
 * counts of gets, hits, sets and deletes, kept while enabled.
 *
 * A key's prefix is what precedes the first delimiter (':' as memcached's
 * default -D); keys without one are not counted. Recording takes one
 * mutex, so it costs something only while an operator has it on.
 */
#ifndef ZK_DAEMON_PREFIX_STATS_H
#define ZK_DAEMON_PREFIX_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct prefix_stats;

enum prefix_op {
    PREFIX_GET,
    PREFIX_HIT,
    PREFIX_SET,
    PREFIX_DEL,
};

struct prefix_stats *prefix_stats_create(char delimiter);
void prefix_stats_destroy(struct prefix_stats **ps);

/* Forget every prefix (`stats reset`); on or off stays as it was. */
void prefix_stats_clear(struct prefix_stats *ps);
void prefix_stats_enable(struct prefix_stats *ps, bool on);
bool prefix_stats_enabled(const struct prefix_stats *ps);
void prefix_stats_record(struct prefix_stats *ps, const char *key,
                         size_t nkey, enum prefix_op op);
/* Calls emit once per "PREFIX ... \r\n" line, most recent prefix first. */
void prefix_stats_dump(struct prefix_stats *ps,
                       void (*emit)(const char *line, size_t len, void *arg),
                       void *arg);

#endif
