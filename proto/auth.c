/*
 * proto/auth.c - see auth.h.
 *
 * The checks, their order and the replies are memcached 1.6.18's, as seen
 * on the wire: the line is split on single spaces, its fifth word must be
 * a length, and the data block is split the same way, its first two words
 * being the user and the password (more words are ignored; a NUL ends the
 * block early, as memcached reads it as a C string).
 */
#include "proto/auth.h"

#include <stdint.h>
#include <string.h>

#include "proto/num.h"
#include "proto/token.h"

/* "set <key> <flags> <exptime> <bytes>": the words looked at. */
#define AUTH_LINE_WORDS 5

/* The data block's length from the request line, or -1 when the line is
 * not a token's set. */
static int32_t token_length(const char *line, size_t n)
{
    struct token t[AUTH_LINE_WORDS];
    const char *end;
    int32_t size;

    if (token_line(line, n, t, AUTH_LINE_WORDS, &end) < AUTH_LINE_WORDS ||
        !token_is(&t[0], "set") || !num_i32(&t[4], &size) || size < 0)
        return -1;
    return size;
}

static enum auth_status split_token(const char *data, size_t n,
                                    struct auth_token *tok)
{
    struct token w[2];
    const char *nul = memchr(data, '\0', n);

    if (nul != NULL)
        n = (size_t)(nul - data);
    if (token_split(data, data + n, w, 2) < 2)
        return AUTH_BAD_FORMAT;
    tok->user = w[0].p;
    tok->nuser = w[0].n;
    tok->pass = w[1].p;
    tok->npass = w[1].n;
    return AUTH_TOKEN;
}

enum auth_status auth_parse(const char *buf, size_t len,
                            struct auth_token *tok, size_t *used)
{
    const char *nl = memchr(buf, '\n', len);

    *used = 0;
    if (nl == NULL)
        return len > AUTH_LINE_MAX ? AUTH_CLOSE : AUTH_NEED_MORE;
    size_t line = (size_t)(nl - buf) + 1;
    int32_t size = token_length(buf, line - 1);
    if (size < 0) {
        *used = line;
        return AUTH_UNAUTHENTICATED;
    }
    if ((size_t)size > AUTH_DATA_MAX)
        return AUTH_CLOSE;
    if (len - line < (size_t)size + 2)
        return AUTH_NEED_MORE;
    *used = line + (size_t)size + 2;
    const char *data = buf + line;
    if (data[size] != '\r' || data[size + 1] != '\n')
        return AUTH_BAD_TERMINATION;
    return split_token(data, (size_t)size, tok);
}

const char *auth_error_line(enum auth_status st)
{
    switch (st) {
    case AUTH_BAD_TERMINATION:
        return "CLIENT_ERROR bad command line termination\r\n";
    case AUTH_BAD_FORMAT:
        return "CLIENT_ERROR bad authentication token format\r\n";
    default:
        return "CLIENT_ERROR unauthenticated\r\n";
    }
}
