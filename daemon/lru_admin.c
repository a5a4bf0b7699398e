/*
 * daemon/lru_admin.c - see lru_admin.h.
 */
#include "daemon/lru_admin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/server.h"
#include "daemon/text_exec.h"
#include "proto/num.h"
#include "proto/text.h"
#include "proto/token.h"

#define LRU_WORDS_MAX 24

static void say(struct conn *c, bool quiet, const char *line)
{
    if (!quiet)
        reply_text(&c->reply, line, strlen(line));
}

/* A number as memcached's safe_strtod takes it: all of the word. */
static bool word_double(const struct token *w, double *out)
{
    char buf[64];
    if (w->n == 0 || w->n >= sizeof(buf))
        return false;
    memcpy(buf, w->p, w->n);
    buf[w->n] = '\0';
    char *end;
    errno = 0;
    *out = strtod(buf, &end);
    return errno != ERANGE && end == buf + w->n;
}

/* lru tune <hot> <warm> <hot factor> <warm factor> [more words] */
static void tune(struct conn *c, const struct token *w, int nw, bool quiet)
{
    uint32_t hot, warm;
    double hot_factor, warm_factor;
    if (nw < 5 || !num_u32(&w[1], &hot) || !num_u32(&w[2], &warm) ||
        !word_double(&w[3], &hot_factor) || !word_double(&w[4], &warm_factor))
        say(c, quiet, "ERROR\r\n");
    else if ((uint64_t)hot + warm > 80)
        say(c, quiet, "ERROR hot and warm pcts must not exceed 80\r\n");
    else if (hot_factor <= 0 || warm_factor <= 0)
        say(c, quiet, "ERROR hot/warm age factors must be greater than 0\r\n");
    else {
        cache_set_lru_shares(c->srv->cache, hot, warm);
        atomic_store(&c->srv->hot_max_factor, hot_factor);
        atomic_store(&c->srv->warm_max_factor, warm_factor);
        say(c, quiet, "OK\r\n");
    }
}

/* lru mode flat|segmented [more words] */
static void mode(struct conn *c, const struct token *w, int nw, bool quiet)
{
    if (nw >= 2 && token_eq(w[1].p, w[1].n, "flat")) {
        cache_set_lru_flat(c->srv->cache, true);
        say(c, quiet, "OK\r\n");
    } else if (nw >= 2 && token_eq(w[1].p, w[1].n, "segmented")) {
        cache_set_lru_flat(c->srv->cache, false);
        say(c, quiet, "OK\r\n");
    } else {
        say(c, quiet, "ERROR\r\n");
    }
}

/* lru temp_ttl <ttl> [more words]: a negative ttl turns the TEMP LRU
 * off, keeping the ttl last set */
static void temp_ttl(struct conn *c, const struct token *w, int nw,
                     bool quiet)
{
    int32_t ttl;
    if (nw < 2 || !num_i32(&w[1], &ttl)) {
        say(c, quiet, "ERROR\r\n");
        return;
    }
    bool on;
    uint32_t old;
    cache_temp_lru(c->srv->cache, &on, &old);
    if (ttl < 0)
        cache_set_temp_lru(c->srv->cache, false, old);
    else
        cache_set_temp_lru(c->srv->cache, true, (uint32_t)ttl);
    say(c, quiet, "OK\r\n");
}

void lru_admin_exec(struct conn *c, const char *arg, size_t narg)
{
    struct token w[LRU_WORDS_MAX];
    const char *cur = arg, *end = arg + narg;
    int nw = 0;
    while (nw < LRU_WORDS_MAX &&
           text_next_key(&cur, end, &w[nw].p, &w[nw].n))
        nw++;
    /* memcached's noreply: a last word "noreply" silences every reply */
    bool quiet = nw > 0 && token_eq(w[nw - 1].p, w[nw - 1].n, "noreply");
    if (nw > 0 && token_eq(w[0].p, w[0].n, "tune"))
        tune(c, w, nw, quiet);
    else if (nw > 0 && token_eq(w[0].p, w[0].n, "mode"))
        mode(c, w, nw, quiet);
    else if (nw > 0 && token_eq(w[0].p, w[0].n, "temp_ttl"))
        temp_ttl(c, w, nw, quiet);
    else
        say(c, quiet, "ERROR\r\n");
}
