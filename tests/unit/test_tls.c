/*
 * tests/unit/test_tls.c - daemon/tls.c over a socketpair with small
 * kernel buffers, against an OpenSSL client in the same thread, so the
 * paths that depend on timing in a real run happen every time: a write
 * the socket cannot take (retried with the same bytes), decrypted bytes
 * left in the session, a failed handshake, a refresh that fails.
 *
 * The certificate is made here with OpenSSL, in a scratch directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "daemon/reply.h"
#include "daemon/settings.h"
#include "daemon/tls.h"

/* Rounds of the handshake and drain loops: each makes progress or the
 * test fails, so a few thousand is far beyond need. */
#define ROUNDS_MAX 100000

struct fixture {
    char dir[64], crt[96], key[96];
    struct settings s;
    struct tls *tls;
    int sv[2];          /* [0] server end (non-blocking), [1] client end */
    SSL *server;
    SSL_CTX *client_ctx;
    SSL *client;
    struct buffer_stats bufs;
    struct reply r;
};

static void write_cert(struct fixture *f)
{
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    assert_non_null(pkey);
    assert_non_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
    FILE *fc = fopen(f->crt, "w"), *fk = fopen(f->key, "w");
    assert_non_null(fc);
    assert_non_null(fk);
    assert_int_equal(PEM_write_X509(fc, x), 1);
    assert_int_equal(PEM_write_PrivateKey(fk, pkey, NULL, NULL, 0, NULL,
                                          NULL), 1);
    fclose(fc);
    fclose(fk);
    X509_free(x);
    EVP_PKEY_free(pkey);
}

/* Both ends step the handshake until each is done. */
static void handshake(struct fixture *f)
{
    int done_c = 0, done_s = 0;
    char byte;
    for (int i = 0; i < ROUNDS_MAX && !(done_c && done_s); i++) {
        if (!done_c) {
            int rc = SSL_connect(f->client);
            done_c = rc == 1;
            if (rc != 1)
                assert_int_equal(SSL_get_error(f->client, rc),
                                 SSL_ERROR_WANT_READ);
        }
        if (!done_s) {
            /* the server's handshake runs inside its reads */
            assert_int_equal(tls_read(f->tls, f->server, &byte, 1), -1);
            done_s = SSL_is_init_finished(f->server);
        }
    }
    assert_true(done_c && done_s);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/zk_tls_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->crt, sizeof(f->crt), "%s/c.pem", f->dir);
    snprintf(f->key, sizeof(f->key), "%s/k.pem", f->dir);
    write_cert(f);
    f->s.ssl_chain_cert = f->crt;
    f->s.ssl_key = f->key;
    f->s.ssl_keyformat = 1;
    f->s.ssl_min_version = "2";
    f->s.ssl_wbuf_kb = 16;
    char err[512];
    f->tls = tls_create(&f->s, err, sizeof(err));
    assert_non_null(f->tls);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv), 0);
    int small = 4096;
    for (int i = 0; i < 2; i++) {
        setsockopt(f->sv[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        setsockopt(f->sv[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        fcntl(f->sv[i], F_SETFL, fcntl(f->sv[i], F_GETFL) | O_NONBLOCK);
    }
    f->server = tls_session(f->tls, f->sv[0]);
    f->client_ctx = SSL_CTX_new(TLS_client_method());
    f->client = SSL_new(f->client_ctx);
    assert_non_null(f->server);
    assert_non_null(f->client);
    SSL_set_fd(f->client, f->sv[1]);
    reply_init(&f->r, NULL, &f->bufs);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    reply_deinit(&f->r);
    tls_session_free(&f->server);
    SSL_free(f->client);
    SSL_CTX_free(f->client_ctx);
    close(f->sv[0]);
    close(f->sv[1]);
    tls_destroy(&f->tls);
    unlink(f->crt);
    unlink(f->key);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Everything the client can read now, appended to out. */
static size_t client_drain(struct fixture *f, char *out, size_t cap)
{
    size_t got = 0, n;
    while (got < cap && SSL_read_ex(f->client, out + got, cap - got, &n) == 1)
        got += n;
    ERR_clear_error();
    return got;
}

static void test_request_reaches_server(void **state)
{
    struct fixture *f = *state;
    char buf[64];
    size_t n;
    handshake(f);
    assert_int_equal(SSL_write_ex(f->client, "get k\r\n", 7, &n), 1);
    assert_int_equal(tls_read(f->tls, f->server, buf, sizeof(buf)), 7);
    assert_memory_equal(buf, "get k\r\n", 7);
    assert_int_equal(tls_read(f->tls, f->server, buf, sizeof(buf)), -1);
    assert_int_equal(tls_handshake_errors(f->tls), 0);
}

/* A reply larger than the socket takes: AGAIN with a retry length, then
 * the same bytes go out once the client reads; all arrive in order. */
static void test_flush_against_a_slow_reader(void **state)
{
    struct fixture *f = *state;
    enum { TOTAL = 1 << 20 };
    char *want = malloc(TOTAL), *got = malloc(TOTAL), buf[16384];
    size_t retry = 0, written, have = 0, sent = 0;
    int agains = 0;
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < TOTAL; i++)
        want[i] = (char)('a' + i % 23);
    handshake(f);
    for (size_t off = 0; off < TOTAL; off += 1000)
        assert_true(reply_text(&f->r, want + off,
                               TOTAL - off < 1000 ? TOTAL - off : 1000));
    for (int i = 0; i < ROUNDS_MAX && have < TOTAL; i++) {
        enum reply_io io = tls_flush(f->server, buf, sizeof(buf), &retry,
                                     &f->r, &written);
        sent += written;
        assert_int_not_equal(io, REPLY_ERROR);
        if (io == REPLY_AGAIN) {
            agains++;
            assert_true(retry > 0 && retry <= sizeof(buf));
        } else {
            assert_int_equal(retry, 0);
        }
        have += client_drain(f, got + have, TOTAL - have);
    }
    assert_true(agains > 0);
    assert_int_equal(sent, TOTAL);
    assert_int_equal(have, TOTAL);
    assert_memory_equal(got, want, TOTAL);
    assert_int_equal(reply_pending(&f->r), 0);
    free(want);
    free(got);
}

/* A record read in part leaves the rest in the session, where only
 * tls_pending() can tell. */
static void test_pending_bytes(void **state)
{
    struct fixture *f = *state;
    char msg[3000], buf[3000];
    size_t n;
    memset(msg, 'm', sizeof(msg));
    handshake(f);
    assert_int_equal(SSL_write_ex(f->client, msg, sizeof(msg), &n), 1);
    assert_int_equal(tls_read(f->tls, f->server, buf, 100), 100);
    assert_true(tls_pending(f->server));
    assert_int_equal(tls_read(f->tls, f->server, buf, sizeof(buf)), 2900);
    assert_false(tls_pending(f->server));
}

/* A client that does not speak TLS: the read says the peer is gone, and
 * the failure is counted. */
static void test_plain_client_counted(void **state)
{
    struct fixture *f = *state;
    char buf[64];
    const char junk[] = "get k\r\n";
    assert_int_equal(write(f->sv[1], junk, sizeof(junk) - 1),
                     (ssize_t)sizeof(junk) - 1);
    assert_int_equal(tls_read(f->tls, f->server, buf, sizeof(buf)), 0);
    assert_int_equal(tls_handshake_errors(f->tls), 1);
}

/* A refresh that cannot load the key says so in memcached's words and
 * keeps the context: new sessions still shake hands. */
static void test_refresh_failure_keeps_context(void **state)
{
    struct fixture *f = *state;
    char err[512];
    assert_true(tls_refresh(f->tls, err, sizeof(err)));
    assert_int_equal(unlink(f->key), 0);
    assert_false(tls_refresh(f->tls, err, sizeof(err)));
    assert_true(strncmp(err, "loading the key: ", 17) == 0);
    assert_non_null(strstr(err, f->key));
    tls_session_free(&f->server);
    f->server = tls_session(f->tls, f->sv[0]);
    assert_non_null(f->server);
    handshake(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_request_reaches_server),
        T(test_flush_against_a_slow_reader),
        T(test_pending_bytes),
        T(test_plain_client_counted),
        T(test_refresh_failure_keeps_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
