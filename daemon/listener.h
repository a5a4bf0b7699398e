/*
 * daemon/listener.h - the listening sockets and the acceptor.
 *
 * Binds every -l address on -p (or the -s unix socket), accepts on the
 * main thread's event loop and hands each connection to the next worker
 * round-robin. Connections beyond -c get memcached's error and are closed.
 */
#ifndef ZK_DAEMON_LISTENER_H
#define ZK_DAEMON_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

struct server;
struct event_base;
struct listener;

/* Bind and listen; NULL with a message in err on failure. */
struct listener *listener_create(struct server *srv, struct event_base *base,
                                 char *err, size_t errlen);
/* Stop accepting (close the sockets). */
void listener_destroy(struct listener **l);

#endif
