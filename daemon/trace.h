/*
 * daemon/trace.h - memcached's -vv trace on the log: each text or meta
 * request line as "<fd line", then each line of its reply as ">fd line",
 * a value as ">fd sending key <key>" (its data left out), a reply
 * that noreply kept back as ">fd NOREPLY line", and a
 * connection's life as "<fd new auto-negotiating client connection",
 * "fd: Client using the ascii protocol" and "<fd connection closed.".
 * At start-up -vv also prints memcached's "slab class N: chunk size ..."
 * table (for zeekdb's classes) and "<fd server listening (...)" lines
 * (daemon/main.c, listener.c, udp.c).
 * Meta replies are traced too, where memcached 1.6.18 prints none; a
 * binary request is one "<fd binary opcode 0x.. key ..." line.
 *
 * Every call costs one load of the log level when tracing is off; the
 * callers check trace_on() before building anything.
 */
#ifndef ZK_DAEMON_TRACE_H
#define ZK_DAEMON_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/log.h"

static inline bool trace_on(void)
{
    return log_level() >= LOG_DEBUG;
}

/* The request line at line[0..n) (its "\r\n" is left out). */
void trace_request(int fd, const char *line, size_t n);
/* The reply text text[0..n) queued for one request. */
void trace_reply(int fd, const char *text, size_t n);
/* The reply line a noreply request did not get: ">fd NOREPLY line". */
void trace_noreply(int fd, const char *line, size_t n);

#endif
