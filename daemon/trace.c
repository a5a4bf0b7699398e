/*
 * daemon/trace.c - see trace.h.
 */
#include "daemon/trace.h"

#include <string.h>

/* Longest part of a line that is logged. */
#define TRACE_LINE_MAX 200

static size_t without_eol(const char *line, size_t n)
{
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    return n;
}

void trace_request(int fd, const char *line, size_t n)
{
    n = without_eol(line, n);
    log_msg(LOG_DEBUG, "<%d %.*s", fd,
            (int)(n > TRACE_LINE_MAX ? TRACE_LINE_MAX : n), line);
}

/* The key of a "VALUE <key> <flags> <bytes>[ <cas>]" line. */
static bool value_key(const char *line, size_t n, const char **key,
                      size_t *nkey)
{
    if (n < 6 || memcmp(line, "VALUE ", 6) != 0)
        return false;
    const char *k = line + 6;
    const char *sp = memchr(k, ' ', n - 6);
    *key = k;
    *nkey = sp != NULL ? (size_t)(sp - k) : n - 6;
    return true;
}

void trace_reply(int fd, const char *text, size_t n)
{
    /* Values go out from their items, not from the text: the text holds
     * whole lines only. */
    size_t pos = 0;
    while (pos < n) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl != NULL ? (size_t)(nl - line) + 1 : n - pos;
        pos += len;
        len = without_eol(line, len);
        const char *key;
        size_t nkey;
        if (value_key(line, len, &key, &nkey))
            log_msg(LOG_DEBUG, ">%d sending key %.*s", fd, (int)nkey, key);
        else
            log_msg(LOG_DEBUG, ">%d %.*s", fd,
                    (int)(len > TRACE_LINE_MAX ? TRACE_LINE_MAX : len), line);
    }
}

void trace_noreply(int fd, const char *line, size_t n)
{
    n = without_eol(line, n);
    log_msg(LOG_DEBUG, ">%d NOREPLY %.*s", fd, (int)n, line);
}
