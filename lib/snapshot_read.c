/*
 * lib/snapshot_read.c - the verifying snapshot reader; see snapshot.h for
 * the byte layout.
 *
 * One pass: each block is read, its header and payload checksummed and
 * its records framed before any of its records is handed out, and the
 * file-wide checks (block count, counts, digest, no trailing bytes) run
 * when the last block has been taken. A load reads the file once rather
 * than verifying all of it first and reading it again: the two passes
 * cost a quarter of a load's time. The caller discards what it loaded
 * when snapshot_reader_status() finds a fault at the end.
 *
 * Blocks are read with pread() into a buffer the size of a block rather
 * than mapped: on virtual machines, walking a large file mapping costs a
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

/* What the file header claims, checked against the blocks. */
struct file_header {
    uint32_t version, header_size, state, reserved;
    int64_t created;
    uint64_t items, blocks, record_bytes, digest;
};

struct snapshot_reader {
    int fd;
    uint64_t size;
    struct snapshot_summary info;   /* the header's claims, capped */
    struct file_header head;        /* as it is, for the end checks */
    struct snapshot_block seq;      /* snapshot_reader_next()'s block */
    pthread_mutex_t block_lock;     /* the fields below */
    uint64_t next_block;            /* the next block to hand out */
    uint64_t next_off;              /* where it starts */
    uint64_t digest;                /* of the block headers handed out */
    uint64_t items_seen, bytes_seen; /* their records and payload bytes */
    bool ended;                     /* the file-wide checks have run */
    struct snapshot_error late;     /* the first fault found */
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
 * `len` bytes, keys 1..250 bytes. */
static enum snapshot_fault check_records(const unsigned char *p,
                                         uint64_t len, uint32_t count,
                                         uint64_t base, int64_t block,
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
 * *buf, checksummed and framed. */
static enum snapshot_fault read_payload(int fd, uint64_t size, uint64_t off,
                                        int64_t b, const unsigned char *h,
                                        unsigned char **buf, size_t *cap,
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
    return check_records(*buf, len, get_u32(h + 4), body, b, err);
}

/* The file header into r: checked on its own, the rest is checked as
 * the blocks are read. */
static enum snapshot_fault read_header(struct snapshot_reader *r,
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
    /* Callers size things by these counts before the blocks can confirm
     * them: keep a header that lies within what the file could hold (a
     * record is at least its header and a one-byte key). */
    uint64_t body = r->size - SNAPSHOT_HEADER_SIZE;
    uint64_t most = body / (SNAPSHOT_RECORD_HEADER_SIZE + 1);
    struct snapshot_summary *s = &r->info;
    s->created = h.created;
    s->items = h.items < most ? h.items : most;
    s->blocks = h.blocks;
    s->record_bytes = h.record_bytes < body ? h.record_bytes : body;
    uint64_t headers = s->items * SNAPSHOT_RECORD_HEADER_SIZE;
    s->item_bytes = s->record_bytes > headers ? s->record_bytes - headers
                                              : 0;
    s->file_bytes = r->size;
    r->head = h;
    r->next_off = SNAPSHOT_HEADER_SIZE;
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
        f = read_header(r, err);
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

/* Under block_lock: the first fault wins. */
static void set_late(struct snapshot_reader *r, const struct snapshot_error *e)
{
    if (r->late.fault == SNAPSHOT_OK)
        r->late = *e;
}

/* Under block_lock, once every block has been taken: what only the whole
 * file can show. */
static enum snapshot_fault check_end(struct snapshot_reader *r,
                                     struct snapshot_error *err)
{
    const struct file_header *h = &r->head;
    if (r->next_off != r->size)
        return fault(err, SNAPSHOT_BAD_RECORD, r->next_off, -1,
                     "%llu bytes after the last of %llu blocks",
                     (unsigned long long)(r->size - r->next_off),
                     (unsigned long long)h->blocks);
    if (r->items_seen != h->items || r->bytes_seen != h->record_bytes)
        return fault(err, SNAPSHOT_BAD_RECORD, 32, -1,
                     "header counts %llu items in %llu bytes, blocks hold "
                     "%llu in %llu", (unsigned long long)h->items,
                     (unsigned long long)h->record_bytes,
                     (unsigned long long)r->items_seen,
                     (unsigned long long)r->bytes_seen);
    if (r->digest != h->digest)
        return fault(err, SNAPSHOT_BAD_CHECKSUM, 56, -1,
                     "file digest %016llx, blocks give %016llx (blocks "
                     "reordered or replaced)", (unsigned long long)h->digest,
                     (unsigned long long)r->digest);
    return SNAPSHOT_OK;
}

/* Under block_lock: the next block's header into h, *b and *off saying
 * which it is and where; false at the end of the blocks or at a fault
 * (in r->late). The digest chains the headers in file order, so they are
 * read here, one at a time; the payloads are read outside the lock. */
static bool take_block(struct snapshot_reader *r, unsigned char *h,
                       uint64_t *b, uint64_t *off)
{
    struct snapshot_error err = {.block = -1};
    if (r->late.fault != SNAPSHOT_OK)
        return false;
    if (r->next_block == r->head.blocks) {
        if (!r->ended && check_end(r, &err) != SNAPSHOT_OK)
            set_late(r, &err);
        r->ended = true;
        return false;
    }
    *b = r->next_block;
    *off = r->next_off;
    if (check_block_header(r->fd, r->size, *off, (int64_t)*b, h, &err) !=
        SNAPSHOT_OK) {
        set_late(r, &err);
        return false;
    }
    uint64_t len = get_u64(h + 8);
    r->digest = XXH3_64bits_withSeed(h, SNAPSHOT_BLOCK_HEADER_SIZE,
                                     r->digest);
    r->next_block++;
    r->next_off += SNAPSHOT_BLOCK_HEADER_SIZE + len;
    r->items_seen += get_u32(h + 4);
    r->bytes_seen += len;
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
    unsigned char h[SNAPSHOT_BLOCK_HEADER_SIZE];
    uint64_t b = 0, off = 0;
    out->pos = out->end = NULL;
    pthread_mutex_lock(&r->block_lock);
    bool taken = take_block(r, h, &b, &off);
    pthread_mutex_unlock(&r->block_lock);
    if (!taken)
        return false;
    struct snapshot_error err = {.block = -1};
    if (read_payload(r->fd, r->size, off, (int64_t)b, h, &out->buf,
                     &out->cap, &err) != SNAPSHOT_OK) {
        pthread_mutex_lock(&r->block_lock);
        set_late(r, &err);
        pthread_mutex_unlock(&r->block_lock);
        return false;
    }
    out->pos = out->buf;
    out->end = out->buf + get_u64(h + 8);
    return true;
}

bool snapshot_block_next(struct snapshot_block *b,
                         struct snapshot_record *out)
{
    if (b->pos == b->end)
        return false;
    b->pos = decode_record(b->pos, out);
    return true;
}

void snapshot_block_prefetch(const struct snapshot_block *b, size_t bytes)
{
    size_t left = (size_t)(b->end - b->pos);
    if (bytes > left)
        bytes = left;
    for (size_t off = 0; off < bytes; off += 64)
        __builtin_prefetch(b->pos + off, 0);
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
