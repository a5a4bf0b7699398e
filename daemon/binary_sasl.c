/*
 * daemon/binary_sasl.c - see binary_sasl.h.
 */
#include "daemon/binary_sasl.h"

#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"

/* Longer than any mechanism name SASL defines (20). */
#define MECH_MAX 32

static int on_log(void *context, int level, const char *message)
{
    (void)context;
    if (level <= SASL_LOG_ERR)
        log_warn("SASL: %s", message);
    else
        log_debug("SASL: %s", message);
    return SASL_OK;
}

/* memcached's lookup: $SASL_CONF_PATH, else the system's directory. */
static int on_getconfpath(void *context, const char **path)
{
    const char *env = getenv("SASL_CONF_PATH");
    (void)context;
    *path = env != NULL ? env : "/etc/sasl2";
    return SASL_OK;
}

/* Cyrus takes every callback as int (*)(void); the cast goes through a
 * plain function pointer type, which C allows without a warning. */
#define SASL_CB_FN(fn) ((int (*)(void))(void (*)(void))(fn))

static const sasl_callback_t callbacks[] = {
    {SASL_CB_LOG, SASL_CB_FN(on_log), NULL},
    {SASL_CB_GETCONFPATH, SASL_CB_FN(on_getconfpath), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

bool binary_sasl_init(char *err, size_t errlen)
{
    int rc = sasl_server_init(callbacks, "memcached");
    if (rc != SASL_OK) {
        snprintf(err, errlen, "cannot initialize SASL: %s",
                 sasl_errstring(rc, NULL, NULL));
        return false;
    }
    return true;
}

static bool ensure_conn(struct sasl_conn **sc)
{
    if (*sc != NULL)
        return true;
    sasl_conn_t *conn = NULL;
    if (sasl_server_new("memcached", NULL, NULL, NULL, NULL, NULL, 0,
                        &conn) != SASL_OK) {
        sasl_dispose(&conn);
        return false;
    }
    *sc = conn;
    return true;
}

const char *binary_sasl_mechs(struct sasl_conn **sc, unsigned *len)
{
    const char *list = NULL;
    int count = 0;
    if (!ensure_conn(sc) ||
        sasl_listmech(*sc, NULL, "", " ", "", &list, len, &count) != SASL_OK)
        return NULL;
    return list;
}

/* An exchange that is over gives its connection object back: Cyrus
 * does not take another step on one that failed. */
static enum sasl_outcome outcome(struct sasl_conn **sc, int rc)
{
    if (rc == SASL_CONTINUE)
        return SASL_MORE;
    binary_sasl_free(sc);
    return rc == SASL_OK ? SASL_DONE : SASL_REFUSED;
}

enum sasl_outcome binary_sasl_start(struct sasl_conn **sc, const char *mech,
                                    size_t nmech, const char *data,
                                    unsigned ndata, const char **out,
                                    unsigned *nout)
{
    char name[MECH_MAX + 1];
    *out = NULL;
    *nout = 0;
    if (nmech > MECH_MAX)
        return SASL_REFUSED;
    memcpy(name, mech, nmech);
    name[nmech] = '\0';
    /* a new exchange starts on a new connection object, whatever the
     * last one left behind */
    binary_sasl_free(sc);
    if (!ensure_conn(sc))
        return SASL_REFUSED;
    /* no data is no initial response (memcached passes NULL): PLAIN then
     * asks for it with an empty challenge */
    return outcome(sc, sasl_server_start(*sc, name, ndata ? data : NULL,
                                         ndata, out, nout));
}

enum sasl_outcome binary_sasl_step(struct sasl_conn **sc, const char *data,
                                   unsigned ndata, const char **out,
                                   unsigned *nout)
{
    *out = NULL;
    *nout = 0;
    if (*sc == NULL)
        return SASL_REFUSED;
    return outcome(sc, sasl_server_step(*sc, data, ndata, out, nout));
}

void binary_sasl_free(struct sasl_conn **sc)
{
    if (*sc == NULL)
        return;
    sasl_conn_t *conn = *sc;
    sasl_dispose(&conn);
    *sc = NULL;
}
