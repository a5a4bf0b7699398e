/*
 * daemon/text_exec.h - carry out text protocol requests against the engine.
 *
 * This is where proto/ and lib/ meet: a parsed request becomes engine
 * calls, and the engine's answers become reply bytes on the connection.
 */
#ifndef ZK_DAEMON_TEXT_EXEC_H
#define ZK_DAEMON_TEXT_EXEC_H

#include "daemon/conn.h"
#include "proto/text.h"

/* Execute one request parsed as TEXT_OK. A storage command leaves the
 * connection in NREAD (or SWALLOW) for its data block. */
void text_exec(struct conn *c, const struct text_request *req);
/* The data block of a storage command is complete in the item. */
void text_exec_store(struct conn *c);

/* A line the parser refused (TEXT_CLIENT_ERROR): what memcached still does
 * before it answers. A retrieval looks up, and gat/gats touches, the keys
 * before the too-long one; flush_all counts itself. Returns the error
 * text to answer (without "CLIENT_ERROR "), req->error unless memcached
 * says something else first; queues no reply. */
const char *text_exec_refused(struct conn *c, const struct text_request *req);
/* Queue a fixed reply unless the request asked for none. */
void text_exec_reply(struct conn *c, enum text_reply r);

#endif
