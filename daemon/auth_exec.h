/*
 * daemon/auth_exec.h - a connection's requests before it has
 * authenticated (-Y), beside text_exec.h and meta_exec.h.
 *
 * Until the token's user and password match daemon/authfile.h, every
 * request of a connection comes here instead of to the text and meta
 * protocols (proto/auth.h says what is accepted); after that, never again.
 */
#ifndef ZK_DAEMON_AUTH_EXEC_H
#define ZK_DAEMON_AUTH_EXEC_H

#include <stdbool.h>

#include "daemon/conn.h"

/* Parse and answer one request at the start of the unparsed input.
 * Returns false when more bytes are needed (or the connection must close:
 * c->closing). */
bool auth_exec_parse(struct conn *c);

#endif
