/*
 * proto/num.h - memcached's number parsing (the safe_strto* wrappers in
 * util.c) on a 64-bit host, shared by the text and meta parsers.
 *
 * memcached parses with strtoul/strtol/strtoull and then accepts the result
 * when the character after the digits is the token's end or any isspace()
 * byte (so "5\tjunk" is 5). strtoX also skips leading isspace() bytes and
 * takes a '+' or '-' sign. On a 64-bit host "long" is 64 bits, which gives
 * these client-visible quirks that we keep:
 *   - 32-bit unsigned fields (flags) wrap modulo 2^32: 4294967296 -> 0;
 *   - "-1" is refused only because it is >= 2^63 once negated, and
 *     "-18446744073709551615" is accepted as 1;
 *   - 32-bit signed fields (exptime, bytes) wrap: 4294967296 -> 0,
 *     2147483648 -> -2147483648; beyond 64 bits it is an error.
 *
 * Each function returns false, leaving *out alone, where memcached's
 * wrapper would fail.
 */
#ifndef ZEEK_PROTO_NUM_H
#define ZEEK_PROTO_NUM_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/token.h"

/* safe_strtoull: a '-' anywhere in the token is refused only when the
 * result looks negative as a signed value. */
bool num_u64(const struct token *tk, uint64_t *out);

/* safe_strtoul on LP64: the 64-bit rules, then truncation. */
bool num_u32(const struct token *tk, uint32_t *out);

/* safe_strtoll: signed 64-bit range, anything outside is ERANGE. */
bool num_i64(const struct token *tk, int64_t *out);

/* safe_strtol on LP64: strtol's 64-bit range, then the assignment to an
 * int32_t keeps the low 32 bits (two's complement, as gcc defines it). */
bool num_i32(const struct token *tk, int32_t *out);

#endif
