/*
 * daemon/maintainer.h - the background thread: keeps the engine's clock
 * on the wall clock and drives bounded engine work (hash table growth).
 * It wakes every 10 ms while there is work, otherwise once a second, as
 * the wall-clock second changes.
 */
#ifndef ZK_DAEMON_MAINTAINER_H
#define ZK_DAEMON_MAINTAINER_H

#include <stdbool.h>

struct server;
struct maintainer;

struct maintainer *maintainer_start(struct server *srv);
void maintainer_stop(struct maintainer **m);

#endif
