/*
 * lib/snapshot_read.c - the verifying snapshot reader; see snapshot.h for
 * the byte layout.
 *
 * mmap, then one verifying pass (each block: header, payload XXH3,
 * record framing) before anything is handed out, then next() walks the
 * same bytes again without checks. Records never cross blocks. The file
 * must not be truncated while it is open (the mapping would SIGBUS): the
 * daemon only ever replaces it by rename.
 */
#include "lib/snapshot.h"
#include "lib/snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

struct snapshot_reader {
    const unsigned char *map;
    size_t size;
    struct snapshot_summary info;
    const unsigned char *pos;       /* next record or block header */
    const unsigned char *block_end; /* end of the block pos is in */
    uint64_t blocks_left;           /* blocks next() has not entered */
    pthread_mutex_t block_lock;     /* next_block() */
};

/* What the file header claims, checked against the blocks. */
struct file_header {
    uint32_t version, header_size, state, reserved;
    int64_t created;
    uint64_t items, blocks, record_bytes, digest;
};

static enum snapshot_fault fault(struct snapshot_error *err,
                                 enum snapshot_fault f, uint64_t offset,
                                 int64_t block, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum snapshot_fault fault(struct snapshot_error *err,
                                 enum snapshot_fault f, uint64_t offset,
                                 int64_t block, const char *fmt, ...)
{
    va_list ap;
    err->fault = f;
    err->offset = offset;
    err->block = block;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return f;
}

static enum snapshot_fault sys_fault(struct snapshot_error *err,
                                     enum snapshot_fault f, const char *what)
{
    err->sys_errno = errno;
    return fault(err, f, 0, -1, "%s: %s", what, strerror(err->sys_errno));
}

static void decode_header(const unsigned char *m, struct file_header *h)
{
    h->version = get_u32(m + 8);
    h->header_size = get_u32(m + 12);
    h->state = get_u32(m + 16);
    h->reserved = get_u32(m + 20);
    h->created = (int64_t)get_u64(m + 24);
    h->items = get_u64(m + 32);
    h->blocks = get_u64(m + 40);
    h->record_bytes = get_u64(m + 48);
    h->digest = get_u64(m + 56);
}

/* Magic and version first, so another file or a newer format is named as
 * such rather than as a checksum failure. */
static enum snapshot_fault check_header(const unsigned char *m, size_t size,
                                        struct file_header *h,
                                        struct snapshot_error *err)
{
    if (size < 8)
        return fault(err, SNAPSHOT_TRUNCATED, size, -1,
                     "file is %zu bytes, shorter than the magic", size);
    if (memcmp(m, FILE_MAGIC, 8) != 0)
        return fault(err, SNAPSHOT_BAD_MAGIC, 0, -1,
                     "not a ZeekDB snapshot (no \"" FILE_MAGIC "\" magic)");
    if (size < 12)
        return fault(err, SNAPSHOT_TRUNCATED, size, -1,
                     "file is %zu bytes, shorter than the version", size);
    if (get_u32(m + 8) != SNAPSHOT_VERSION)
        return fault(err, SNAPSHOT_BAD_VERSION, 8, -1,
                     "format version %u, this build reads only %d",
                     get_u32(m + 8), SNAPSHOT_VERSION);
    if (size < SNAPSHOT_HEADER_SIZE)
        return fault(err, SNAPSHOT_TRUNCATED, size, -1,
                     "file is %zu bytes, shorter than the %d-byte header",
                     size, SNAPSHOT_HEADER_SIZE);
    uint64_t want = get_u64(m + 64), got = XXH3_64bits(m, 64);
    if (want != got)
        return fault(err, SNAPSHOT_BAD_CHECKSUM, 64, -1,
                     "header checksum %016llx, computed %016llx",
                     (unsigned long long)want, (unsigned long long)got);
    decode_header(m, h);
    if (h->header_size != SNAPSHOT_HEADER_SIZE || h->reserved != 0)
        return fault(err, SNAPSHOT_BAD_RECORD, 12, -1,
                     "header size %u or reserved %u is not version 1's",
                     h->header_size, h->reserved);
    if (h->state == STATE_WRITING)
        return fault(err, SNAPSHOT_TRUNCATED, 16, -1,
                     "its writer never finished (header state 0)");
    if (h->state != STATE_COMPLETE)
        return fault(err, SNAPSHOT_BAD_RECORD, 16, -1,
                     "unknown header state %u", h->state);
    return SNAPSHOT_OK;
}

/* Framing of one verified payload: `count` records filling exactly
 * `len` bytes, keys 1..250 bytes. Adds their keys and values to *bytes. */
static enum snapshot_fault check_records(const unsigned char *p,
                                         uint64_t len, uint32_t count,
                                         uint64_t base, int64_t block,
                                         uint64_t *bytes,
                                         struct snapshot_error *err)
{
    uint64_t at = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (len - at < SNAPSHOT_RECORD_HEADER_SIZE)
            return fault(err, SNAPSHOT_BAD_RECORD, base + at, block,
                         "record %u of %u starts past the payload's end",
                         i, count);
        const unsigned char *r = p + at;
        uint64_t nvalue = get_u32(r), nkey = get_u16(r + 4);
        if (nkey == 0 || nkey > SNAPSHOT_KEY_MAX || get_u16(r + 6) != 0)
            return fault(err, SNAPSHOT_BAD_RECORD, base + at, block,
                         "record %u: key length %llu or reserved field bad",
                         i, (unsigned long long)nkey);
        at += SNAPSHOT_RECORD_HEADER_SIZE;
        if (nkey + nvalue > len - at)
            return fault(err, SNAPSHOT_BAD_RECORD, base + at, block,
                         "record %u: key and value run past the payload", i);
        at += nkey + nvalue;
        *bytes += nkey + nvalue;
    }
    if (at != len)
        return fault(err, SNAPSHOT_BAD_RECORD, base + at, block,
                     "%llu bytes after the block's %u records",
                     (unsigned long long)(len - at), count);
    return SNAPSHOT_OK;
}

/* Block `b` at offset `off`: on success *off moves past it and the block
 * is counted into *s and the digest. */
static enum snapshot_fault check_block(const unsigned char *m, size_t size,
                                       uint64_t *off, int64_t b,
                                       struct snapshot_summary *s,
                                       uint64_t *digest,
                                       struct snapshot_error *err)
{
    const unsigned char *h = m + *off;
    if (size - *off < SNAPSHOT_BLOCK_HEADER_SIZE)
        return fault(err, SNAPSHOT_TRUNCATED, size, b,
                     "file ends at %zu, inside or before block header", size);
    if (memcmp(h, BLOCK_MAGIC, 4) != 0)
        return fault(err, SNAPSHOT_BAD_MAGIC, *off, b, "no block magic");
    uint64_t want = get_u64(h + 24), got = XXH3_64bits(h, 24);
    if (want != got)
        return fault(err, SNAPSHOT_BAD_CHECKSUM, *off + 24, b,
                     "block header checksum %016llx, computed %016llx",
                     (unsigned long long)want, (unsigned long long)got);
    uint32_t count = get_u32(h + 4);
    uint64_t len = get_u64(h + 8);
    uint64_t body = *off + SNAPSHOT_BLOCK_HEADER_SIZE;
    if (len > size - body)
        return fault(err, SNAPSHOT_TRUNCATED, size, b,
                     "file ends at %zu, inside a %llu-byte payload", size,
                     (unsigned long long)len);
    want = get_u64(h + 16);
    got = XXH3_64bits(m + body, len);
    if (want != got)
        return fault(err, SNAPSHOT_BAD_CHECKSUM, body, b,
                     "payload checksum %016llx, computed %016llx",
                     (unsigned long long)want, (unsigned long long)got);
    if (count == 0)
        return fault(err, SNAPSHOT_BAD_RECORD, *off + 4, b, "empty block");
    enum snapshot_fault f = check_records(m + body, len, count, body, b,
                                          &s->item_bytes, err);
    if (f != SNAPSHOT_OK)
        return f;
    *digest = XXH3_64bits_withSeed(h, SNAPSHOT_BLOCK_HEADER_SIZE, *digest);
    *off = body + len;
    s->items += count;
    s->blocks++;
    s->record_bytes += len;
    return SNAPSHOT_OK;
}

static enum snapshot_fault verify(const unsigned char *m, size_t size,
                                  struct snapshot_summary *s,
                                  struct snapshot_error *err)
{
    struct file_header h = {0}; /* filled by check_header on success */
    enum snapshot_fault f = check_header(m, size, &h, err);
    if (f != SNAPSHOT_OK)
        return f;
    uint64_t off = SNAPSHOT_HEADER_SIZE, digest = 0;
    memset(s, 0, sizeof(*s));
    for (uint64_t b = 0; b < h.blocks; b++) {
        f = check_block(m, size, &off, (int64_t)b, s, &digest, err);
        if (f != SNAPSHOT_OK)
            return f;
    }
    if (off != size)
        return fault(err, SNAPSHOT_BAD_RECORD, off, -1,
                     "%llu bytes after the last of %llu blocks",
                     (unsigned long long)(size - off),
                     (unsigned long long)h.blocks);
    if (s->items != h.items || s->record_bytes != h.record_bytes)
        return fault(err, SNAPSHOT_BAD_RECORD, 32, -1,
                     "header counts %llu items in %llu bytes, blocks hold "
                     "%llu in %llu", (unsigned long long)h.items,
                     (unsigned long long)h.record_bytes,
                     (unsigned long long)s->items,
                     (unsigned long long)s->record_bytes);
    if (digest != h.digest)
        return fault(err, SNAPSHOT_BAD_CHECKSUM, 56, -1,
                     "file digest %016llx, blocks give %016llx (blocks "
                     "reordered or replaced)", (unsigned long long)h.digest,
                     (unsigned long long)digest);
    s->created = h.created;
    s->file_bytes = size;
    return SNAPSHOT_OK;
}

/* Maps the whole file read-only; *map stays NULL for an empty file. */
static enum snapshot_fault map_file(const char *path,
                                    const unsigned char **map, size_t *size,
                                    struct snapshot_error *err)
{
    struct stat st;
    enum snapshot_fault f = SNAPSHOT_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sys_fault(err, errno == ENOENT ? SNAPSHOT_MISSING
                                               : SNAPSHOT_IO, "open");
    if (fstat(fd, &st) != 0) {
        f = sys_fault(err, SNAPSHOT_IO, "fstat");
        goto done;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SIZE_MAX) {
        errno = EINVAL;
        f = sys_fault(err, SNAPSHOT_IO, "not a regular, mappable file");
        goto done;
    }
    *size = (size_t)st.st_size;
    if (*size == 0)
        goto done;
    void *p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        f = sys_fault(err, SNAPSHOT_IO, "mmap");
        goto done;
    }
    /* Read-ahead hint only; failure is harmless. */
    (void)madvise(p, *size, MADV_SEQUENTIAL);
    *map = p;
done:
    close(fd);
    return f;
}

enum snapshot_fault snapshot_reader_open(struct snapshot_reader **out,
                                         const char *path,
                                         struct snapshot_error *err)
{
    struct snapshot_error scratch;
    struct snapshot_summary info;
    const unsigned char *map = NULL;
    size_t size = 0;
    if (err == NULL)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    err->block = -1;
    *out = NULL;
    enum snapshot_fault f = map_file(path, &map, &size, err);
    if (f == SNAPSHOT_OK)
        f = verify(map, size, &info, err);
    struct snapshot_reader *r = NULL;
    if (f == SNAPSHOT_OK && (r = malloc(sizeof(*r))) == NULL)
        f = sys_fault(err, SNAPSHOT_IO, "reader");
    if (f != SNAPSHOT_OK) {
        if (map != NULL)
            munmap((void *)map, size);
        return f;
    }
    r->map = map;
    r->size = size;
    r->info = info;
    r->pos = r->block_end = map + SNAPSHOT_HEADER_SIZE;
    r->blocks_left = info.blocks;
    pthread_mutex_init(&r->block_lock, NULL);
    *out = r;
    return SNAPSHOT_OK;
}

/* The record at p into out; returns the byte after it. Verified at open:
 * blocks are never empty and their framing is exact. */
static const unsigned char *decode_record(const unsigned char *p,
                                          struct snapshot_record *out)
{
    out->nvalue = get_u32(p);
    out->nkey = get_u16(p + 4);
    out->flags = get_u32(p + 8);
    out->bits = get_u32(p + 12);
    out->expires = (int64_t)get_u64(p + 16);
    out->atime = (int64_t)get_u64(p + 24);
    out->cas = get_u64(p + 32);
    out->key = p + SNAPSHOT_RECORD_HEADER_SIZE;
    out->value = p + SNAPSHOT_RECORD_HEADER_SIZE + out->nkey;
    return p + SNAPSHOT_RECORD_HEADER_SIZE + out->nkey + out->nvalue;
}

/* Step over the next block header; false after the last block. */
static bool enter_block(struct snapshot_reader *r)
{
    if (r->blocks_left == 0)
        return false;
    r->blocks_left--;
    uint64_t len = get_u64(r->pos + 8);
    r->pos += SNAPSHOT_BLOCK_HEADER_SIZE;
    r->block_end = r->pos + len;
    return true;
}

bool snapshot_reader_next(struct snapshot_reader *r,
                          struct snapshot_record *out)
{
    if (r->pos == r->block_end && !enter_block(r))
        return false;
    r->pos = decode_record(r->pos, out);
    return true;
}

bool snapshot_reader_next_block(struct snapshot_reader *r,
                                struct snapshot_block *out)
{
    pthread_mutex_lock(&r->block_lock);
    bool got = r->pos == r->block_end && enter_block(r);
    if (got) {
        out->pos = r->pos;
        out->end = r->block_end;
        r->pos = r->block_end;
    }
    pthread_mutex_unlock(&r->block_lock);
    return got;
}

bool snapshot_block_next(struct snapshot_block *b,
                         struct snapshot_record *out)
{
    if (b->pos == b->end)
        return false;
    b->pos = decode_record(b->pos, out);
    return true;
}

void snapshot_reader_info(const struct snapshot_reader *r,
                          struct snapshot_summary *out)
{
    *out = r->info;
}

void snapshot_reader_close(struct snapshot_reader **rp)
{
    struct snapshot_reader *r = *rp;
    if (r == NULL)
        return;
    if (r->map != NULL)
        munmap((void *)r->map, r->size);
    pthread_mutex_destroy(&r->block_lock);
    free(r);
    *rp = NULL;
}

const char *snapshot_fault_name(enum snapshot_fault f)
{
    switch (f) {
    case SNAPSHOT_OK: return "ok";
    case SNAPSHOT_MISSING: return "missing";
    case SNAPSHOT_IO: return "io";
    case SNAPSHOT_BAD_MAGIC: return "bad_magic";
    case SNAPSHOT_BAD_VERSION: return "bad_version";
    case SNAPSHOT_TRUNCATED: return "truncated";
    case SNAPSHOT_BAD_CHECKSUM: return "bad_checksum";
    case SNAPSHOT_BAD_RECORD: return "bad_record";
    }
    return "unknown";
}
