/*
 * lib/snapshot_read.c - the verifying snapshot reader; see snapshot.h for
 * the byte layout.
 *
 * One verifying pass (each block: header, payload XXH3, record framing)
 * before anything is handed out, then the load pass reads each block
 * again and checks it again before its records are handed out. Blocks
 * are read with pread() into a buffer the size of a block rather than
 * mapped: on virtual machines, walking a large file mapping costs a
 * page-table miss every 4 KiB, which made the checksum run at a sixth of
 * its speed from a buffer. Records never cross blocks.
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
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Where a verified block starts, and its header checksum, which covers
 * its length, count and payload checksum: the load pass reads the block
 * again and must find the same. */
struct block_ref {
    uint64_t off;
    uint64_t header_sum;
};

struct snapshot_reader {
    int fd;
    uint64_t size;
    struct snapshot_summary info;
    struct block_ref *blocks;       /* each block as verify() saw it */
    struct snapshot_block seq;      /* snapshot_reader_next()'s block */
    pthread_mutex_t block_lock;     /* next_block and late */
    uint64_t next_block;            /* the next block to hand out */
    struct snapshot_error late;     /* a block that failed on the load pass */
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

/* A buffer that grows to the largest block read through it. */
static bool buf_reserve(unsigned char **buf, size_t *cap, uint64_t need)
{
    if (need <= *cap)
        return true;
    if (need > SIZE_MAX)
        return false;
    unsigned char *b = realloc(*buf, (size_t)need);
    if (b == NULL)
        return false;
    *buf = b;
    *cap = (size_t)need;
    return true;
}

/* pread until n bytes or end of file: the count read, or -1 with errno
 * for a read error (a failing disk is not a short file). */
static int64_t read_at(int fd, void *buf, uint64_t n, uint64_t off)
{
    uint64_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, (size_t)(n - got),
                          (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (uint64_t)r;
    }
    return (int64_t)got;
}

/* The block header at *off into h, checked on its own. */
static enum snapshot_fault check_block_header(int fd, uint64_t size,
                                              uint64_t off, int64_t b,
                                              unsigned char *h,
                                              struct snapshot_error *err)
{
    int64_t got_bytes = size - off < SNAPSHOT_BLOCK_HEADER_SIZE
                            ? 0 : read_at(fd, h, SNAPSHOT_BLOCK_HEADER_SIZE, off);
    if (got_bytes < 0)
        return sys_fault(err, SNAPSHOT_IO, "read");
    if (got_bytes != SNAPSHOT_BLOCK_HEADER_SIZE)
        return fault(err, SNAPSHOT_TRUNCATED, size, b,
                     "file ends at %llu, inside or before block header",
                     (unsigned long long)size);
    if (memcmp(h, BLOCK_MAGIC, 4) != 0)
        return fault(err, SNAPSHOT_BAD_MAGIC, off, b, "no block magic");
    uint64_t want = get_u64(h + 24), got = XXH3_64bits(h, 24);
    if (want != got)
        return fault(err, SNAPSHOT_BAD_CHECKSUM, off + 24, b,
                     "block header checksum %016llx, computed %016llx",
                     (unsigned long long)want, (unsigned long long)got);
    uint64_t len = get_u64(h + 8);
    if (len > size - off - SNAPSHOT_BLOCK_HEADER_SIZE)
        return fault(err, SNAPSHOT_TRUNCATED, size, b,
                     "file ends at %llu, inside a %llu-byte payload",
                     (unsigned long long)size, (unsigned long long)len);
    return SNAPSHOT_OK;
}

/* The payload of the block whose header h was checked at off: read into
 * *buf, checksummed and framed. *bytes gets its keys and values added. */
static enum snapshot_fault read_payload(int fd, uint64_t size, uint64_t off,
                                        int64_t b, const unsigned char *h,
                                        unsigned char **buf, size_t *cap,
                                        uint64_t *bytes,
                                        struct snapshot_error *err)
{
    uint64_t len = get_u64(h + 8);
    uint64_t body = off + SNAPSHOT_BLOCK_HEADER_SIZE;
    if (!buf_reserve(buf, cap, len > 0 ? len : 1)) {
        errno = ENOMEM;
        return sys_fault(err, SNAPSHOT_IO, "block buffer");
    }
    int64_t got_bytes = read_at(fd, *buf, len, body);
    if (got_bytes < 0)
        return sys_fault(err, SNAPSHOT_IO, "read");
    if ((uint64_t)got_bytes != len)
        return fault(err, SNAPSHOT_TRUNCATED, size, b,
                     "file ends at %llu, inside a %llu-byte payload",
                     (unsigned long long)size, (unsigned long long)len);
    uint64_t want = get_u64(h + 16), got = XXH3_64bits(*buf, len);
    if (want != got)
        return fault(err, SNAPSHOT_BAD_CHECKSUM, body, b,
                     "payload checksum %016llx, computed %016llx",
                     (unsigned long long)want, (unsigned long long)got);
    if (get_u32(h + 4) == 0)
        return fault(err, SNAPSHOT_BAD_RECORD, off + 4, b, "empty block");
    return check_records(*buf, len, get_u32(h + 4), body, b, bytes, err);
}

/* Block `b` at offset *off: on success *off moves past it and the block
 * is counted into *s and the digest. */
static enum snapshot_fault check_block(struct snapshot_reader *r,
                                       uint64_t *off, int64_t b,
                                       struct snapshot_summary *s,
                                       uint64_t *digest,
                                       struct snapshot_error *err)
{
    unsigned char h[SNAPSHOT_BLOCK_HEADER_SIZE];
    enum snapshot_fault f = check_block_header(r->fd, r->size, *off, b, h,
                                               err);
    if (f == SNAPSHOT_OK)
        f = read_payload(r->fd, r->size, *off, b, h, &r->seq.buf,
                         &r->seq.cap, &s->item_bytes, err);
    if (f != SNAPSHOT_OK)
        return f;
    uint64_t len = get_u64(h + 8);
    *digest = XXH3_64bits_withSeed(h, SNAPSHOT_BLOCK_HEADER_SIZE, *digest);
    r->blocks[b] = (struct block_ref){*off, get_u64(h + 24)};
    *off += SNAPSHOT_BLOCK_HEADER_SIZE + len;
    s->items += get_u32(h + 4);
    s->blocks++;
    s->record_bytes += len;
    return SNAPSHOT_OK;
}

static enum snapshot_fault verify(struct snapshot_reader *r,
                                  struct snapshot_summary *s,
                                  struct snapshot_error *err)
{
    struct file_header h = {0}; /* filled by check_header on success */
    unsigned char m[SNAPSHOT_HEADER_SIZE];
    int64_t head = read_at(r->fd, m, sizeof(m), 0);
    if (head < 0)
        return sys_fault(err, SNAPSHOT_IO, "read");
    enum snapshot_fault f = check_header(
        m, (uint64_t)head < r->size ? (size_t)head : r->size, &h, err);
    if (f != SNAPSHOT_OK)
        return f;
    /* Every block is at least a header; a count beyond that is a lie the
     * blocks will expose, so the block table is never larger than that. */
    uint64_t room = (r->size - SNAPSHOT_HEADER_SIZE) /
                    SNAPSHOT_BLOCK_HEADER_SIZE;
    r->blocks = malloc((size_t)(h.blocks < room ? h.blocks : room) *
                           sizeof(*r->blocks) + 1);
    if (r->blocks == NULL) {
        errno = ENOMEM;
        return sys_fault(err, SNAPSHOT_IO, "block table");
    }
    uint64_t off = SNAPSHOT_HEADER_SIZE, digest = 0;
    memset(s, 0, sizeof(*s));
    for (uint64_t b = 0; b < h.blocks; b++) {
        if (b == room)
            return fault(err, SNAPSHOT_TRUNCATED, r->size, (int64_t)b,
                         "file ends at %llu, inside or before block header",
                         (unsigned long long)r->size);
        f = check_block(r, &off, (int64_t)b, s, &digest, err);
        if (f != SNAPSHOT_OK)
            return f;
    }
    if (off != r->size)
        return fault(err, SNAPSHOT_BAD_RECORD, off, -1,
                     "%llu bytes after the last of %llu blocks",
                     (unsigned long long)(r->size - off),
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
    s->file_bytes = r->size;
    /* Sized for the largest block; a parallel load uses its own buffers. */
    snapshot_block_free(&r->seq);
    return SNAPSHOT_OK;
}

static enum snapshot_fault open_file(struct snapshot_reader *r,
                                     const char *path,
                                     struct snapshot_error *err)
{
    struct stat st;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return sys_fault(err, errno == ENOENT ? SNAPSHOT_MISSING
                                               : SNAPSHOT_IO, "open");
    if (fstat(r->fd, &st) != 0)
        return sys_fault(err, SNAPSHOT_IO, "fstat");
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return sys_fault(err, SNAPSHOT_IO, "not a regular file");
    }
    r->size = (uint64_t)st.st_size;
    /* Read-ahead hint only; failure is harmless. */
    (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return SNAPSHOT_OK;
}

enum snapshot_fault snapshot_reader_open(struct snapshot_reader **out,
                                         const char *path,
                                         struct snapshot_error *err)
{
    struct snapshot_error scratch;
    if (err == NULL)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    err->block = -1;
    *out = NULL;
    struct snapshot_reader *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        errno = ENOMEM;
        return sys_fault(err, SNAPSHOT_IO, "reader");
    }
    r->fd = -1;
    pthread_mutex_init(&r->block_lock, NULL);
    enum snapshot_fault f = open_file(r, path, err);
    if (f == SNAPSHOT_OK)
        f = verify(r, &r->info, err);
    if (f != SNAPSHOT_OK) {
        snapshot_reader_close(&r);
        return f;
    }
    *out = r;
    return SNAPSHOT_OK;
}

/* The record at p into out; returns the byte after it. The block's
 * framing has been checked since it was read. */
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

/* Block `b` into out's buffer, checked again: the file was verified at
 * open, but what is read now is what gets loaded. The same header
 * checksum and a payload matching the checksum in it mean the same block
 * that verify() saw. */
static bool load_block(struct snapshot_reader *r, uint64_t b,
                       struct snapshot_block *out)
{
    unsigned char h[SNAPSHOT_BLOCK_HEADER_SIZE];
    struct snapshot_error err = {.block = -1};
    uint64_t bytes = 0;
    const struct block_ref *ref = &r->blocks[b];
    enum snapshot_fault f = check_block_header(r->fd, r->size, ref->off,
                                               (int64_t)b, h, &err);
    if (f == SNAPSHOT_OK && get_u64(h + 24) != ref->header_sum)
        f = fault(&err, SNAPSHOT_BAD_CHECKSUM, ref->off + 24, (int64_t)b,
                  "block header changed since the file was verified");
    if (f == SNAPSHOT_OK)
        f = read_payload(r->fd, r->size, ref->off, (int64_t)b, h,
                         &out->buf, &out->cap, &bytes, &err);
    if (f != SNAPSHOT_OK) {
        pthread_mutex_lock(&r->block_lock);
        if (r->late.fault == SNAPSHOT_OK)
            r->late = err;
        pthread_mutex_unlock(&r->block_lock);
        return false;
    }
    out->pos = out->buf;
    out->end = out->buf + get_u64(h + 8);
    return true;
}

bool snapshot_reader_next(struct snapshot_reader *r,
                          struct snapshot_record *out)
{
    while (!snapshot_block_next(&r->seq, out))
        if (!snapshot_reader_next_block(r, &r->seq))
            return false;
    return true;
}

bool snapshot_reader_next_block(struct snapshot_reader *r,
                                struct snapshot_block *out)
{
    pthread_mutex_lock(&r->block_lock);
    bool more = r->next_block < r->info.blocks &&
                r->late.fault == SNAPSHOT_OK;
    uint64_t b = more ? r->next_block++ : 0;
    pthread_mutex_unlock(&r->block_lock);
    out->pos = out->end = NULL;
    return more && load_block(r, b, out);
}

bool snapshot_block_next(struct snapshot_block *b,
                         struct snapshot_record *out)
{
    if (b->pos == b->end)
        return false;
    b->pos = decode_record(b->pos, out);
    return true;
}

void snapshot_block_free(struct snapshot_block *b)
{
    free(b->buf);
    *b = (struct snapshot_block){0};
}

enum snapshot_fault snapshot_reader_status(struct snapshot_reader *r,
                                           struct snapshot_error *err)
{
    pthread_mutex_lock(&r->block_lock);
    enum snapshot_fault f = r->late.fault;
    if (err != NULL)
        *err = r->late;
    pthread_mutex_unlock(&r->block_lock);
    return f;
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
    if (r->fd >= 0)
        close(r->fd);
    snapshot_block_free(&r->seq);
    free(r->blocks);
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
