/*
 * proto/token.h - memcached's command-line framing and space tokenizer,
 * shared by the text (proto/text.c) and meta (proto/meta.c) parsers.
 *
 * Pure: tokens point into the caller's buffer, nothing allocates, nothing
 * writes to the input or reads past the line.
 */
#ifndef ZEEK_PROTO_TOKEN_H
#define ZEEK_PROTO_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* A span of the input line; never NUL-terminated. */
struct token {
    const char *p;
    size_t n;
};

/* The token is exactly the NUL-terminated word. */
bool token_is(const struct token *tk, const char *word);
/* The same for the n bytes at p. */
bool token_eq(const char *p, size_t n, const char *word);

/* The first space in [s, end), or end. memchr rather than a byte loop:
 * a 32-byte key cost the loop about 130 instructions and memchr about 15
 * (callgrind), and keys are most of a request line. */
static inline const char *token_end(const char *s, const char *end)
{
    const char *e = memchr(s, ' ', (size_t)(end - s));

    return e != NULL ? e : end;
}

/* Inline, like token_line(): they run once per request, and a call across
 * files cost the text parser about 2% of a request (callgrind). */
static inline size_t token_split(const char *s, const char *end,
                                 struct token *t, size_t cap)
{
    size_t ntok = 0;

    while (s < end && ntok < cap) {
        const char *e;
        if (*s == ' ') {
            s++;
            continue;
        }
        e = token_end(s, end);
        t[ntok].p = s;
        t[ntok].n = (size_t)(e - s);
        ntok++;
        s = e;
    }
    return ntok;
}

/* Frames the nl bytes before a '\n' as memcached does and splits them into
 * at most cap tokens; returns how many were stored. A '\r' before the '\n'
 * is dropped only when the line has more than one byte, and a NUL ends the
 * line early because memcached treats it as a C string. *end is set to the
 * end of the framed line. Only single spaces separate tokens: tabs, '\r'
 * and other control bytes belong to tokens (memcached accepts them inside
 * keys). What follows the cap-th token stays unsplit. */
static inline size_t token_line(const char *buf, size_t nl, struct token *t,
                                size_t cap, const char **end)
{
    size_t n = nl;

    if (n > 1 && buf[n - 1] == '\r')
        n--;
    const char *nul = memchr(buf, '\0', n);
    if (nul != NULL)
        n = (size_t)(nul - buf);
    *end = buf + n;
    return token_split(buf, buf + n, t, cap);
}

#endif
