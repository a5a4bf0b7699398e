/*
 * daemon/lru_admin.h - memcached's `lru` admin command:
 *
 *   lru tune <hot_pct> <warm_pct> <hot_max_factor> <warm_max_factor>
 *   lru mode flat|segmented
 *   lru temp_ttl <ttl>
 *
 * set the shares of a slab class that HOT and WARM may hold, or none
 * (flat), with -o eviction=lru (stats settings shows them whatever the
 * policy), with memcached 1.6.18's replies and checks. zeekdb's HOT and
 * WARM are bound by their shares alone, so the two age factors are
 * checked, as memcached checks them, and have no effect. `lru temp_ttl`
 * turns the TEMP LRU on for items stored with at most <ttl> seconds to
 * live (cache_set_temp_lru), or off with a negative ttl.
 */
#ifndef ZK_DAEMON_LRU_ADMIN_H
#define ZK_DAEMON_LRU_ADMIN_H

#include <stddef.h>

#include "daemon/conn.h"

/* arg: the words after "lru". */
void lru_admin_exec(struct conn *c, const char *arg, size_t narg);

#endif
