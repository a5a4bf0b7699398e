/*
 * daemon/auth_exec.c - see auth_exec.h.
 *
 * Neither the request nor the token is traced at -vv: the token is a
 * password. The reply is, as memcached prints its own.
 */
#include "daemon/auth_exec.h"

#include <string.h>

#include "daemon/authfile.h"
#include "daemon/reply.h"
#include "daemon/server.h"
#include "daemon/stats.h"
#include "daemon/worker.h"
#include "proto/auth.h"

/* Counted as memcached counts: only tokens that reached the check. */
static const char *check_token(struct conn *c, const struct auth_token *tok)
{
    struct thread_stats *ts = worker_stats(c->worker);
    STAT_INC(ts, auth_cmds);
    c->authenticated = authfile_check(c->srv->auth, tok->user, tok->nuser,
                                      tok->pass, tok->npass);
    if (c->authenticated)
        return AUTH_REPLY_OK;
    STAT_INC(ts, auth_errors);
    return AUTH_REPLY_FAILED;
}

bool auth_exec_parse(struct conn *c)
{
    struct auth_token tok;
    size_t used = 0;
    enum auth_status st =
        auth_parse(c->rbuf + c->rpos, c->rlen - c->rpos, &tok, &used);

    if (st == AUTH_NEED_MORE)
        return false;
    if (st == AUTH_CLOSE) {
        c->closing = true;
        return false;
    }
    const char *line =
        st == AUTH_TOKEN ? check_token(c, &tok) : auth_error_line(st);
    c->rpos += used;
    reply_text(&c->reply, line, strlen(line));
    return true;
}
