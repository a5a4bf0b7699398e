/*
 * daemon/tls.h - TLS on the TCP listeners (-Z), with OpenSSL, as
 * memcached's: the same -o ssl_* options, refresh_certs, and the
 * ssl_handshake_errors and time_since_server_cert_refresh stats.
 *
 * One server context, built from the settings at start and rebuilt by
 * tls_refresh(); each connection gets its session from whichever context
 * is current when it is accepted, so a refresh never disturbs one already
 * open. Sessions are non-blocking: a read or write that cannot go on now
 * says so, and the handshake happens inside the first reads.
 */
#ifndef ZK_DAEMON_TLS_H
#define ZK_DAEMON_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon/reply.h"
#include "daemon/settings.h"

struct tls;
struct ssl_st;

/* NULL with the reason in err when the certificate, key or CA file cannot
 * be loaded or the options are refused. */
struct tls *tls_create(const struct settings *s, char *err, size_t errlen);
void tls_destroy(struct tls **t);
/* Load the certificate, key and CA files again (refresh_certs). False
 * with the reason, the old context kept, when they cannot be loaded. */
bool tls_refresh(struct tls *t, char *err, size_t errlen);
/* Wall time of the last successful load. */
time_t tls_loaded_at(struct tls *t);
uint64_t tls_handshake_errors(struct tls *t);

/* A server session on socket fd; NULL without memory. */
struct ssl_st *tls_session(struct tls *t, int fd);
/* Send close_notify if the session got that far (without waiting for the
 * peer's), and free it. */
void tls_session_free(struct ssl_st **ssl);

/* Like read(): bytes read, 0 when the peer is gone (end, error, or a
 * failed handshake, which is counted), -1 when nothing can be read now.
 * Bytes OpenSSL has decrypted and not handed out yet wait in the session:
 * tls_pending() says whether to read again without waiting for the
 * socket. */
ssize_t tls_read(struct tls *t, struct ssl_st *ssl, void *buf, size_t cap);
bool tls_pending(struct ssl_st *ssl);

/* Write queued replies, as reply_flush() does on a plain socket. They
 * are gathered into buf (cap bytes, the worker's, shared by its
 * connections) so that many small replies make few TLS records. *retry
 * is the connection's: the length of a write that must be offered again
 * (0: none), which is still the head of the queue. */
enum reply_io tls_flush(struct ssl_st *ssl, char *buf, size_t cap,
                        size_t *retry, struct reply *r, size_t *written);

#endif
