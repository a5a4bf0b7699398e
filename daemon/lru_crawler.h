/*
 * daemon/lru_crawler.h - memcached's `lru_crawler` command.
 *
 * zeekdb has no separate crawler thread: the maintainer's reaper always
 * sweeps expired items. The switches (enable, disable, sleep, tocrawl,
 * crawl) are accepted with memcached's replies so scripts and tooling
 * keep working, and `disable` turns the key listings off as it does in
 * memcached. The listings are real:
 *
 *   lru_crawler metadump <all|hash|id[,id...]>
 *       one "key=<uri-encoded> exp=<unix|-1> la=<unix> cas=<n>
 *       fetch=<yes|no> cls=<id> size=<bytes>\n" line per live item, then
 *       "END\r\n" (memcached 1.6's format, bare \n included)
 *   lru_crawler mgdump <all|hash|id[,id...]>
 *       one "mg <key>\r\n" line per live item, then "EN\r\n", so the
 *       output can be sent back as meta requests
 *
 * Each listing is made on a thread of its own (daemon/listing.h), a few
 * hash buckets per step, holding one stripe lock at a time, and streamed
 * as the socket drains, with memory bounded whatever the number of keys.
 * Four may run at once; a fifth is answered memcached's BUSY line, which
 * memcached gives to a second one.
 */
#ifndef ZK_DAEMON_LRU_CRAWLER_H
#define ZK_DAEMON_LRU_CRAWLER_H

#include <stddef.h>
#include <stdint.h>

struct conn;

/* arg: the text after "lru_crawler " (narg 0 when there is none). */
void lru_crawler_exec(struct conn *c, const char *arg, size_t narg);
/* stats cachedump: up to limit "ITEM ..." lines of class cls (0 or more
 * than 20000: 20000, memcached's 2 MB cap), then END, made by a listing
 * thread like the crawler's listings and counted with them against the
 * four at once, but not in lru_crawler_running. */
void lru_crawler_cachedump(struct conn *c, unsigned cls, uint64_t limit);

#endif
