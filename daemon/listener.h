/*
 * daemon/listener.h - the listening sockets and the acceptor.
 *
 * Binds every -l address on -p (or the -s unix socket), or takes the
 * sockets a service manager passed (listen_fds.h), accepts on the
 * main thread's event loop and hands each connection to the next worker
 * round-robin. Connections beyond -c get memcached's error and are closed.
 */
#ifndef ZK_DAEMON_LISTENER_H
#define ZK_DAEMON_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/clock.h"

struct server;
struct event_base;
struct listener;

/* Bind and listen; NULL with a message in err on failure. */
struct listener *listener_create(struct server *srv, struct event_base *base,
                                 char *err, size_t errlen);
/* Stop accepting (close the sockets). */
void listener_destroy(struct listener **l);
/* The listening sockets (0 for NULL). */
int listener_count(const struct listener *l);
/* The i-th listening socket (0 <= i < listener_count()), or -1. */
int listener_fd(const struct listener *l, int i);

/* `stats conns` lines for the listening sockets, as memcached lists them
 * before its clients: "<fd>:addr" (tcp:HOST:PORT or unix:PATH),
 * "<fd>:state conn_listening" and "<fd>:secs_since_last_cmd" (seconds
 * since it started listening). Any thread; the sockets do not change
 * until listener_destroy(), which runs once the workers have stopped. */
void listener_describe(struct listener *l, rel_time_t now,
                       void (*emit)(const char *name, const char *value,
                                    void *arg),
                       void *arg);
/* "tcp:HOST:PORT", "tcp6:[HOST]:PORT" or "unix:PATH" of a socket address,
 * the form `stats conns` shows. */
void listener_format_addr(const struct sockaddr_storage *ss, socklen_t len,
                          char *out, size_t cap);

/* Helpers shared with the metrics endpoint, which binds the same -l
 * addresses on its own port. */
/* Split one -l entry, "host", "host:port", "[v6]" or "[v6]:port", in
 * place; *port is NULL when the entry names none. */
void listener_split_host_port(char *spec, char **host, char **port);

/* -o sock_cookie_id: mark a TCP or UDP socket with id (SO_MARK) for
 * firewall rules; without the privilege to, log it and go on unmarked,
 * as memcached does. id 0: nothing. */
void listener_mark(int fd, int id);
/* memcached's "notls:" prefix on a -l entry, a listener left plain under
 * -Z: strips it; true when it was there. listener_split_host_port() strips
 * it too, so the metrics endpoint and UDP bind the same address. */
bool listener_strip_notls(char **spec);
/* The connection on fd came in through a notls: listener. */
bool listener_accepted_plain(const struct listener *l, int fd);
/* Resolve host and port, listen on each address they name, and hand each
 * socket to take(); `what` goes into the error ("" or " for metrics"). */
bool listener_open_resolved(const char *host, const char *port, int backlog,
                            const char *what,
                            bool (*take)(void *arg, int fd, char *err,
                                         size_t errlen),
                            void *arg, char *err, size_t errlen);
/* Call fn on each address of a -l list ("a,b,..."; NULL means
 * 127.0.0.1), stopping at the first that fails. */
bool listener_each_address(const char *list,
                           bool (*fn)(void *arg, char *spec, char *err,
                                      size_t errlen),
                           void *arg, char *err, size_t errlen);

#endif
