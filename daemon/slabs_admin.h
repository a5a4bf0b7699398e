/*
 * daemon/slabs_admin.h - memcached's `slabs` admin commands:
 *
 *   slabs reassign <src> <dst>   move one page from class src to dst
 *   slabs automove <0|1|2> [noreply]
 *                                0: a class that runs out of memory gets
 *                                no page from the others; 1 or 2: it does
 *
 * Replies are memcached 1.6.18's (OK, BUSY, BADCLASS, NOSPARE, SAME,
 * ERROR, CLIENT_ERROR bad command line format). memcached's class 0 is
 * its global page pool, which zeekdb does not have: as a source it is
 * always empty (NOSPARE), as a destination no class (BADCLASS, where
 * memcached would move the page to its pool).
 */
#ifndef ZK_DAEMON_SLABS_ADMIN_H
#define ZK_DAEMON_SLABS_ADMIN_H

#include <stddef.h>

#include "daemon/conn.h"

/* arg: the words after "slabs" (two or three). */
void slabs_admin_exec(struct conn *c, const char *arg, size_t narg);

#endif
