/*
 * daemon/udp.h - memcached's UDP protocol (-U PORT, off by default).
 *
 * Every datagram starts with an 8-byte frame header, numbers in network
 * byte order: request id, sequence number, datagram count, reserved. A
 * request fits in one datagram (count 1; others are dropped, as memcached
 * does) and holds ordinary requests, text, meta or binary. The replies to
 * it go back to the sender as a message of datagrams of at most
 * UDP_PAYLOAD_MAX bytes after the header, with the request's id, their
 * sequence numbers and the count. A request the datagram cuts short (a
 * value longer than what came) is dropped without a reply.
 *
 * The sockets listen on the -l addresses at port -U (not with -s, as in
 * memcached); every worker watches all of them and the kernel hands each
 * datagram to one.
 */
#ifndef ZK_DAEMON_UDP_H
#define ZK_DAEMON_UDP_H

#include <stdbool.h>
#include <stddef.h>

struct server;
struct worker;

#define UDP_HEADER_LEN 8
/* memcached's 1400-byte datagrams, less the frame header */
#define UDP_PAYLOAD_MAX 1392
#define UDP_SOCKETS_MAX 32

/* Bind the UDP sockets into srv->udp_fds; none when -U is 0. */
bool udp_open(struct server *srv, char *err, size_t errlen);
void udp_close(struct server *srv);

/* A worker's share: an event on each UDP socket and the connection its
 * datagrams run through (conn_create_datagram). NULL on failure. */
struct udp_worker *udp_worker_create(struct worker *w, struct server *srv);
void udp_worker_destroy(struct udp_worker **u);

#endif
