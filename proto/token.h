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

/* A span of the input line; never NUL-terminated. */
struct token {
    const char *p;
    size_t n;
};

/* Frames the nl bytes before a '\n' as memcached does and splits them into
 * at most cap tokens; returns how many were stored. A '\r' before the '\n'
 * is dropped only when the line has more than one byte, and a NUL ends the
 * line early because memcached treats it as a C string. *end is set to the
 * end of the framed line. Only single spaces separate tokens: tabs, '\r'
 * and other control bytes belong to tokens (memcached accepts them inside
 * keys). What follows the cap-th token stays unsplit. */
size_t token_line(const char *buf, size_t nl, struct token *t, size_t cap,
                  const char **end);

/* The token is exactly the NUL-terminated word. */
bool token_is(const struct token *tk, const char *word);

#endif
