/*
 * daemon/tls.c - see tls.h.
 *
 * The context pointer is swapped under a mutex by refresh_certs and read
 * under it by each accept; OpenSSL reference-counts contexts, so a
 * session keeps the one it was made from alive after a swap.
 */
#include "daemon/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/path.h"

struct tls {
    /* the settings' file names, absolute: -d moves to / before a refresh */
    char *chain, *key, *ca;
    const struct settings *s;
    pthread_mutex_t lock;
    SSL_CTX *ctx;             /* under lock */
    time_t loaded_at;         /* under lock */
    _Atomic uint64_t handshake_errors;
};

/* What failed and OpenSSL's reason, in memcached's words ("loading the
 * key: FILE : reason"): refresh_certs answers "Error " and this. */
static void ssl_error(char *err, size_t errlen, const char *what,
                      const char *file)
{
    char why[256];
    unsigned long e = ERR_peek_last_error();
    ERR_error_string_n(e, why, sizeof(why));
    if (file != NULL)
        snprintf(err, errlen, "%s: %s : %s", what, file,
                 e ? why : "unknown error");
    else
        snprintf(err, errlen, "%s: %s", what, e ? why : "unknown error");
    ERR_clear_error();
}

static const int min_versions[] = {
    TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION,
};

/* Client certificates, memcached's ssl_verify_mode 0..3. */
static int verify_flags(int mode)
{
    switch (mode) {
    case 1: return SSL_VERIFY_PEER;
    case 2: return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    case 3: return SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    default: return SSL_VERIFY_NONE;
    }
}

static bool load_files(struct tls *t, SSL_CTX *ctx, char *err,
                       size_t errlen)
{
    int format = t->s->ssl_keyformat == 2 ? SSL_FILETYPE_ASN1
                                          : SSL_FILETYPE_PEM;
    const char *key = t->key != NULL ? t->key : t->chain;
    if (SSL_CTX_use_certificate_chain_file(ctx, t->chain) != 1) {
        ssl_error(err, errlen, "loading the certificate chain", t->chain);
        return false;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, format) != 1) {
        ssl_error(err, errlen, "loading the key", key);
        return false;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_error(err, errlen, "validating the key", key);
        return false;
    }
    if (t->ca != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca);
        if (names == NULL ||
            SSL_CTX_load_verify_locations(ctx, t->ca, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            ssl_error(err, errlen, "loading the CA cert", t->ca);
            return false;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    return true;
}

static bool set_options(const struct settings *s, SSL_CTX *ctx, char *err,
                        size_t errlen)
{
    long opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (s->ssl_kernel_tls)
        opts |= SSL_OP_ENABLE_KTLS;
    SSL_CTX_set_options(ctx, opts);
    /* A write may be retried from a buffer at a new address, and may be
     * taken in part: tls_flush() goes on from where it stopped. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    int v = s->ssl_min_version[0] - '0';
    if (v < 0 || v > 3 ||
        SSL_CTX_set_min_proto_version(ctx, min_versions[v]) != 1) {
        ssl_error(err, errlen, "setting ssl_min_version", NULL);
        return false;
    }
    if (s->ssl_ciphers != NULL &&
        SSL_CTX_set_cipher_list(ctx, s->ssl_ciphers) != 1) {
        ssl_error(err, errlen, "setting ssl_ciphers", NULL);
        return false;
    }
    SSL_CTX_set_verify(ctx, verify_flags(s->ssl_verify_mode), NULL);
    SSL_CTX_set_session_cache_mode(ctx, s->ssl_session_cache
                                            ? SSL_SESS_CACHE_SERVER
                                            : SSL_SESS_CACHE_OFF);
    if (s->ssl_session_cache) {
        static const unsigned char id[] = "zeekdb";
        SSL_CTX_set_session_id_context(ctx, id, sizeof(id) - 1);
    } else {
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    return true;
}

static SSL_CTX *build_ctx(struct tls *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        ssl_error(err, errlen, "creating the TLS context", NULL);
        return NULL;
    }
    if (!set_options(t->s, ctx, err, errlen) ||
        !load_files(t, ctx, err, errlen)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static char *absolute_or_null(const char *path, bool *oom)
{
    char *p = path != NULL ? path_absolute(path) : NULL;
    *oom |= path != NULL && p == NULL;
    return p;
}

struct tls *tls_create(const struct settings *s, char *err, size_t errlen)
{
    bool oom = false;
    struct tls *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->s = s;
    pthread_mutex_init(&t->lock, NULL);
    t->chain = absolute_or_null(s->ssl_chain_cert, &oom);
    t->key = absolute_or_null(s->ssl_key, &oom);
    t->ca = absolute_or_null(s->ssl_ca_cert, &oom);
    if (oom)
        snprintf(err, errlen, "out of memory");
    else
        t->ctx = build_ctx(t, err, errlen);
    if (t->ctx == NULL) {
        tls_destroy(&t);
        return NULL;
    }
    t->loaded_at = time(NULL);
    return t;
}

void tls_destroy(struct tls **tp)
{
    struct tls *t = *tp;
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->lock);
    free(t->chain);
    free(t->key);
    free(t->ca);
    free(t);
    *tp = NULL;
}

bool tls_refresh(struct tls *t, char *err, size_t errlen)
{
    SSL_CTX *fresh = build_ctx(t, err, errlen);
    if (fresh == NULL)
        return false;
    pthread_mutex_lock(&t->lock);
    SSL_CTX *old = t->ctx;
    t->ctx = fresh;
    t->loaded_at = time(NULL);
    pthread_mutex_unlock(&t->lock);
    SSL_CTX_free(old);
    return true;
}

time_t tls_loaded_at(struct tls *t)
{
    pthread_mutex_lock(&t->lock);
    time_t at = t->loaded_at;
    pthread_mutex_unlock(&t->lock);
    return at;
}

uint64_t tls_handshake_errors(struct tls *t)
{
    return atomic_load_explicit(&t->handshake_errors, memory_order_relaxed);
}

SSL *tls_session(struct tls *t, int fd)
{
    pthread_mutex_lock(&t->lock);
    SSL *ssl = SSL_new(t->ctx);
    pthread_mutex_unlock(&t->lock);
    if (ssl == NULL)
        return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

void tls_session_free(SSL **sslp)
{
    SSL *ssl = *sslp;
    if (ssl == NULL)
        return;
    if (SSL_is_init_finished(ssl))
        (void)SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
    *sslp = NULL;
}

ssize_t tls_read(struct tls *t, SSL *ssl, void *buf, size_t cap)
{
    size_t got = 0;
    int rc = SSL_read_ex(ssl, buf, cap, &got);
    if (rc == 1)
        return (ssize_t)got;
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        break;
    default:
        if (!SSL_is_init_finished(ssl))
            atomic_fetch_add_explicit(&t->handshake_errors, 1,
                                      memory_order_relaxed);
        break;
    }
    ERR_clear_error();
    return 0;
}

bool tls_pending(SSL *ssl)
{
    return SSL_pending(ssl) > 0;
}

enum reply_io tls_flush(SSL *ssl, char *buf, size_t cap, size_t *retry,
                        struct reply *r, size_t *written)
{
    *written = 0;
    while (reply_ready(r) > 0) {
        /* After WANT_WRITE the same bytes must be offered again (from any
         * address: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER); they are still
         * the head of the queue. */
        size_t len = reply_peek(r, buf, *retry != 0 ? *retry : cap);
        size_t n = 0;
        int rc = SSL_write_ex(ssl, buf, len, &n);
        if (rc != 1) {
            int e = SSL_get_error(ssl, rc);
            ERR_clear_error();
            *retry = len;
            return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ
                       ? REPLY_AGAIN : REPLY_ERROR;
        }
        *retry = 0;
        reply_consume(r, n);
        *written += n;
    }
    return REPLY_DONE;
}
