/*
 * daemon/binary_sasl.h - SASL authentication of binary protocol
 * connections (-S), with Cyrus SASL, as memcached's.
 *
 * The application name is "memcached", so an existing memcached.conf
 * (mech_list, sasldb_path, ...) and a sasldb made with `saslpasswd2 -a
 * memcached` serve zeekdb unchanged; the configuration is looked for in
 * $SASL_CONF_PATH, else /etc/sasl2. Each connection gets its own
 * exchange, started by SASL_AUTH and continued by SASL_STEP.
 */
#ifndef ZK_DAEMON_BINARY_SASL_H
#define ZK_DAEMON_BINARY_SASL_H

#include <stdbool.h>
#include <stddef.h>

struct sasl_conn;

enum sasl_outcome {
    SASL_DONE,     /* authenticated */
    SASL_MORE,     /* a challenge to send; the client steps on */
    SASL_REFUSED,  /* wrong credentials, unknown mechanism, no exchange */
};

/* Once, before any connection; false with the reason in err. */
bool binary_sasl_init(char *err, size_t errlen);

/* The mechanisms, space-separated (NULL when the library fails). The
 * text lives with *sc, created here if need be. */
const char *binary_sasl_mechs(struct sasl_conn **sc, unsigned *len);
/* A new exchange with mechanism mech[0..nmech) and the client's first
 * data (none: ndata 0); out and nout get the server's answer, valid until
 * the next call. An exchange that ends (DONE or REFUSED) frees *sc. */
enum sasl_outcome binary_sasl_start(struct sasl_conn **sc, const char *mech,
                                    size_t nmech, const char *data,
                                    unsigned ndata, const char **out,
                                    unsigned *nout);
/* The next step of an exchange that answered SASL_MORE. */
enum sasl_outcome binary_sasl_step(struct sasl_conn **sc, const char *data,
                                   unsigned ndata, const char **out,
                                   unsigned *nout);
void binary_sasl_free(struct sasl_conn **sc);

#endif
