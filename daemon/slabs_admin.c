/*
 * daemon/slabs_admin.c - see slabs_admin.h.
 */
#include "daemon/slabs_admin.h"

#include <string.h>

#include "daemon/maintainer.h"
#include "daemon/server.h"
#include "daemon/text_exec.h"
#include "lib/cache.h"
#include "lib/slabs.h"
#include "proto/num.h"
#include "proto/text.h"
#include "proto/token.h"

static void say(struct conn *c, const char *line)
{
    reply_text(&c->reply, line, strlen(line));
}

static const char *move_reply(enum cache_move_status st)
{
    switch (st) {
    case CACHE_MOVE_OK: return "OK\r\n";
    case CACHE_MOVE_BUSY: return "BUSY currently processing reassign request\r\n";
    case CACHE_MOVE_NOSPARE: return "NOSPARE source class has no spare pages\r\n";
    case CACHE_MOVE_SAME: return "SAME src and dst class are identical\r\n";
    default: return "BADCLASS invalid src or dst class id\r\n";
    }
}

static bool has_spare_page(struct conn *c, unsigned cls)
{
    struct slabs_class_stats ss;
    slabs_class_stats(cache_slabs(c->srv->cache), cls, &ss);
    return ss.pages >= 2;
}

/* slabs reassign <src> <dst>: exactly two numbers, no noreply. */
static void reassign(struct conn *c, const struct token *w, int nw)
{
    int32_t src, dst;
    if (nw != 3) {
        text_exec_reply(c, TEXT_R_ERROR);
    } else if (!num_i32(&w[1], &src) || !num_i32(&w[2], &dst)) {
        text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
    } else if (src == 0 && dst > 0 && src != dst) {
        /* memcached's page pool, which zeekdb does not keep: empty */
        say(c, move_reply(CACHE_MOVE_NOSPARE));
    } else if (dst == 0 && src >= 1 &&
               (unsigned)src <= cache_nclasses(c->srv->cache) &&
               !has_spare_page(c, (unsigned)src)) {
        /* to the pool: memcached first finds the source has none */
        say(c, move_reply(CACHE_MOVE_NOSPARE));
    } else if (src < 1 || dst < 1) {
        say(c, move_reply(src == dst ? CACHE_MOVE_SAME : CACHE_MOVE_BADCLASS));
    } else {
        say(c, move_reply(cache_request_move(c->srv->cache, (unsigned)src,
                                             (unsigned)dst)));
        maintainer_wake(c->srv->maintainer);
    }
}

/* slabs automove <level> [anything]: a last word "noreply" silences every
 * reply, errors included, as memcached's noreply does. */
static void automove(struct conn *c, const struct token *w, int nw)
{
    bool quiet = token_eq(w[nw - 1].p, w[nw - 1].n, "noreply");
    uint32_t level;
    if (!num_u32(&w[1], &level)) {
        if (!quiet)
            text_exec_reply(c, TEXT_R_ERR_BAD_FORMAT);
    } else if (level > 2) {
        if (!quiet)
            text_exec_reply(c, TEXT_R_ERROR);
    } else {
        atomic_store(&c->srv->slab_automove, (int)level);
        cache_set_automove(c->srv->cache, level != 0);
        if (!quiet)
            text_exec_reply(c, TEXT_R_OK);
    }
}

void slabs_admin_exec(struct conn *c, const char *arg, size_t narg)
{
    struct token w[3];
    const char *cur = arg, *end = arg + narg;
    int nw = 0;
    while (nw < 3 && text_next_key(&cur, end, &w[nw].p, &w[nw].n))
        nw++;
    if (token_eq(w[0].p, w[0].n, "reassign"))
        reassign(c, w, nw);
    else if (token_eq(w[0].p, w[0].n, "automove"))
        automove(c, w, nw);
    else
        text_exec_reply(c, TEXT_R_ERROR);
}
