/*
 * lib/snapshot_format.h - private to lib/snapshot.c and
 * lib/snapshot_read.c: the magic numbers and little-endian accessors of
 * the layout documented in snapshot.h.
 */
#ifndef ZK_LIB_SNAPSHOT_FORMAT_H
#define ZK_LIB_SNAPSHOT_FORMAT_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#define FILE_MAGIC "ZEEKSNAP"
#define BLOCK_MAGIC "ZKBK"
#define STATE_WRITING 0
#define STATE_COMPLETE 1

/* ------------------------------------------------------ little endian */

static inline void put_u16(unsigned char *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, sizeof(v));
}

static inline void put_u32(unsigned char *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, sizeof(v));
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, sizeof(v));
}

static inline uint16_t get_u16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return le16toh(v);
}

static inline uint32_t get_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return le32toh(v);
}

static inline uint64_t get_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return le64toh(v);
}

#endif
