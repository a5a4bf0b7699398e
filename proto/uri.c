/*
 * proto/uri.c - see uri.h.
 */
#include "proto/uri.h"

static int unreserved(unsigned char b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
           (b >= '0' && b <= '9') || b == '-' || b == '.' || b == '_' ||
           b == '~';
}

size_t uri_encode(char *dst, const char *key, size_t nkey)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < nkey; i++) {
        unsigned char b = (unsigned char)key[i];
        if (unreserved(b)) {
            dst[n++] = (char)b;
        } else {
            dst[n++] = '%';
            dst[n++] = hex[b >> 4];
            dst[n++] = hex[b & 15];
        }
    }
    return n;
}
