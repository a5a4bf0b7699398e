/*
 * daemon/maintainer.h - the background thread: keeps the engine's clock
 * on the wall clock and drives bounded engine work (hash table growth,
 * expiry, page moves, snapshots).
 * It wakes every 10 ms while there is work, otherwise once a second, as
 * the wall-clock second changes.
 */
#ifndef ZK_DAEMON_MAINTAINER_H
#define ZK_DAEMON_MAINTAINER_H

#include <stdbool.h>

struct server;
struct maintainer;

struct maintainer *maintainer_start(struct server *srv);
/* Any thread: cut the current nap short (a snapshot was asked for). */
void maintainer_wake(struct maintainer *m);
void maintainer_stop(struct maintainer **m);

#endif
