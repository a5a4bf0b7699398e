/*
 * proto/uri.h - memcached's key encoding in its listings and logs
 * (`lru_crawler metadump`, `watch`): the unreserved bytes of RFC 3986
 * (A-Z a-z 0-9 - . _ ~) as they are, every other byte as %XX with
 * upper-case hex, so a key with spaces or binary bytes stays one field.
 */
#ifndef ZEEK_PROTO_URI_H
#define ZEEK_PROTO_URI_H

#include <stddef.h>

/* dst needs room for 3 * nkey bytes; no terminator is written. Returns
 * the bytes written. */
size_t uri_encode(char *dst, const char *key, size_t nkey);

#endif
