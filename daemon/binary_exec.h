/*
 * daemon/binary_exec.h - carry out binary protocol requests against the
 * engine (proto/binary.h has the wire format).
 *
 * A connection speaks binary for its whole life when its first byte is
 * the request magic 0x80 and -B is auto (the default), or always with
 * -B binary, as in memcached. Replies, errors included, are memcached
 * 1.6.18's byte for byte, CAS values aside.
 */
#ifndef ZK_DAEMON_BINARY_EXEC_H
#define ZK_DAEMON_BINARY_EXEC_H

#include <stdbool.h>

#include "daemon/conn.h"

/* Parse and carry out one request from the connection's read buffer;
 * false when more bytes are needed (or the connection is to close). A
 * storage request leaves the connection in NREAD for its value. */
bool binary_exec_parse(struct conn *c);
/* The value of a storage request is complete in the item. */
void binary_exec_store(struct conn *c);

#endif
