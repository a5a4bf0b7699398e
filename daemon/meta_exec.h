/*
 * daemon/meta_exec.h - carry out meta protocol requests (mg ms md ma mn
 * me) against the engine, beside text_exec.h for the text protocol.
 *
 * The connection's read loop hands a line here when meta_is_meta_line()
 * says it is one; replies go into the same queue as text replies, so a
 * pipeline mixing both protocols is answered in order.
 */
#ifndef ZK_DAEMON_META_EXEC_H
#define ZK_DAEMON_META_EXEC_H

#include <stdbool.h>

#include "daemon/conn.h"

/* Parse and execute one meta request at the start of the unparsed
 * input. Returns false when more bytes are needed (or the connection
 * must close: c->closing). An ms leaves the connection in NREAD (or
 * SWALLOW) for its data block. */
bool meta_exec_parse(struct conn *c);
/* The data block of an ms is complete in the item. */
void meta_exec_store(struct conn *c);

#endif
