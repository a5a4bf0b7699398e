/*
 * lib/snapshot.c - the snapshot writer and snapshot_quarantine(); the
 * reader is in snapshot_read.c. See snapshot.h for the byte layout and
 * the crash-safety argument.
 *
 * Writer: add() only copies into one growing buffer whose first 32 bytes
 * are kept free for the block header, so flush() fills that header in
 * place and sends header and payload in a single write() loop; hashing
 * happens in flush(), never in add(), to keep lock hold times to a
 * memcpy. A failure is sticky (w->error): the file is then in an unknown
 * state and only abort (or a failing commit) is left.
 */
#include "lib/snapshot.h"
#include "lib/snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------- writer */

/* First buffer size; it doubles as needed and is reused across blocks. */
#define WRITER_INITIAL_BUFFER (256u * 1024u)

struct snapshot_writer {
    int fd;
    int error;              /* errno of the first failure; 0 if healthy */
    bool tmp_exists;        /* abort must unlink tmppath */
    char *path;
    char *tmppath;
    unsigned char *buf;     /* block header room, then buffered records */
    size_t len;             /* bytes used in buf, header room included */
    size_t cap;
    uint32_t buf_records;
    int64_t created;
    uint64_t items;         /* written in blocks so far */
    uint64_t blocks;
    uint64_t record_bytes;
    uint64_t item_bytes;    /* keys + values, counted at add */
    uint64_t offset;        /* file size so far */
    uint64_t digest;        /* chain over the block headers written */
    char reason[200];       /* the first failure, for commit's err */
};

static void say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Records the first failure (errno is the cause) as "<what>: <strerror>"
 * and drops what is buffered: nothing more will reach the file. Returns
 * -1 with errno kept. */
static int writer_fail(struct snapshot_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int writer_fail(struct snapshot_writer *w, const char *fmt, ...)
{
    int e = errno;
    if (w->error == 0) {
        char what[sizeof(w->reason)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        w->error = e;
        say(w->reason, sizeof(w->reason), "%s: %s", what, strerror(e));
    }
    w->len = SNAPSHOT_BLOCK_HEADER_SIZE;
    w->buf_records = 0;
    errno = w->error;
    return -1;
}

/* The writer knows every offset it writes at (blocks are appended at
 * w->offset, the header rewritten at 0), so one positioned write loop
 * serves both. */
static int pwrite_all(int fd, const unsigned char *p, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        p += k;
        n -= (size_t)k;
        at += k;
    }
    return 0;
}

static void encode_header(unsigned char *h, const struct snapshot_writer *w,
                          uint32_t state)
{
    memcpy(h, FILE_MAGIC, 8);
    put_u32(h + 8, SNAPSHOT_VERSION);
    put_u32(h + 12, SNAPSHOT_HEADER_SIZE);
    put_u32(h + 16, state);
    put_u32(h + 20, 0);
    put_u64(h + 24, (uint64_t)w->created);
    put_u64(h + 32, w->items);
    put_u64(h + 40, w->blocks);
    put_u64(h + 48, w->record_bytes);
    put_u64(h + 56, w->digest);
    put_u64(h + 64, XXH3_64bits(h, 64));
}

static char *tmp_name(const char *path)
{
    size_t cap = strlen(path) + 32;
    char *s = malloc(cap);
    if (s != NULL)
        snprintf(s, cap, "%s.tmp.%ld", path, (long)getpid());
    return s;
}

static void writer_free(struct snapshot_writer *w, bool unlink_tmp)
{
    if (w->fd >= 0)
        close(w->fd);
    if (unlink_tmp && w->tmp_exists)
        unlink(w->tmppath);
    free(w->buf);
    free(w->tmppath);
    free(w->path);
    free(w);
}

int snapshot_writer_open(struct snapshot_writer **out, const char *path,
                         time_t created, char *err, size_t errlen)
{
    unsigned char h[SNAPSHOT_HEADER_SIZE];
    struct snapshot_writer *w = calloc(1, sizeof(*w));
    *out = NULL;
    if (w == NULL) {
        say(err, errlen, "snapshot %s: out of memory", path);
        errno = ENOMEM;
        return -1;
    }
    w->fd = -1;
    w->created = (int64_t)created;
    w->path = strdup(path);
    w->tmppath = tmp_name(path);
    w->cap = WRITER_INITIAL_BUFFER;
    w->buf = malloc(w->cap);
    w->len = SNAPSHOT_BLOCK_HEADER_SIZE;
    if (w->path == NULL || w->tmppath == NULL || w->buf == NULL) {
        errno = ENOMEM;
        writer_fail(w, "snapshot %s", path);
        goto fail;
    }
    /* O_TRUNC: a leftover of a dead process with our pid is garbage. */
    w->fd = open(w->tmppath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
                 O_NOFOLLOW, 0600);
    if (w->fd < 0) {
        writer_fail(w, "create %s", w->tmppath);
        goto fail;
    }
    w->tmp_exists = true;
    encode_header(h, w, STATE_WRITING);
    if (pwrite_all(w->fd, h, sizeof(h), 0) != 0) {
        writer_fail(w, "write %s", w->tmppath);
        goto fail;
    }
    w->offset = SNAPSHOT_HEADER_SIZE;
    *out = w;
    return 0;
fail:
    say(err, errlen, "%s", w->reason);
    int e = w->error;
    writer_free(w, true);
    errno = e;
    return -1;
}

/* Room for `need` more bytes; the buffer doubles so that appends stay
 * amortised O(1). */
static int writer_reserve(struct snapshot_writer *w, size_t need)
{
    if (need <= w->cap - w->len)
        return 0;
    size_t cap = w->cap;
    while (need > cap - w->len) {
        if (cap > SIZE_MAX / 2) {
            errno = ENOMEM;
            return -1;
        }
        cap *= 2;
    }
    unsigned char *b = realloc(w->buf, cap);
    if (b == NULL) {
        errno = ENOMEM;
        return -1;
    }
    w->buf = b;
    w->cap = cap;
    return 0;
}

int snapshot_writer_add(struct snapshot_writer *w,
                        const struct snapshot_record *r)
{
    if (w->error != 0) {
        errno = w->error;
        return -1;
    }
    if (r->nkey == 0 || r->nkey > SNAPSHOT_KEY_MAX ||
        r->nvalue > UINT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (w->buf_records == UINT32_MAX) { /* the block count field is full */
        errno = EOVERFLOW;
        return -1;
    }
    size_t body = r->nkey + r->nvalue;
    if (writer_reserve(w, SNAPSHOT_RECORD_HEADER_SIZE + body) != 0)
        return -1;
    unsigned char *p = w->buf + w->len;
    put_u32(p, (uint32_t)r->nvalue);
    put_u16(p + 4, (uint16_t)r->nkey);
    put_u16(p + 6, 0);
    put_u32(p + 8, r->flags);
    put_u32(p + 12, r->bits);
    put_u64(p + 16, (uint64_t)r->expires);
    put_u64(p + 24, (uint64_t)r->atime);
    put_u64(p + 32, r->cas);
    p += SNAPSHOT_RECORD_HEADER_SIZE;
    memcpy(p, r->key, r->nkey);
    if (r->nvalue > 0)
        memcpy(p + r->nkey, r->value, r->nvalue);
    w->len += SNAPSHOT_RECORD_HEADER_SIZE + body;
    w->buf_records++;
    w->item_bytes += body;
    return 0;
}

size_t snapshot_writer_buffered(const struct snapshot_writer *w)
{
    return w->len - SNAPSHOT_BLOCK_HEADER_SIZE;
}

int snapshot_writer_flush(struct snapshot_writer *w)
{
    if (w->error != 0) {
        errno = w->error;
        return -1;
    }
    if (w->buf_records == 0)
        return 0;
    uint64_t payload = w->len - SNAPSHOT_BLOCK_HEADER_SIZE;
    unsigned char *h = w->buf;
    memcpy(h, BLOCK_MAGIC, 4);
    put_u32(h + 4, w->buf_records);
    put_u64(h + 8, payload);
    put_u64(h + 16, XXH3_64bits(h + SNAPSHOT_BLOCK_HEADER_SIZE, payload));
    put_u64(h + 24, XXH3_64bits(h, 24));
    if (pwrite_all(w->fd, w->buf, w->len, (off_t)w->offset) != 0)
        return writer_fail(w, "write %s", w->tmppath);
    w->digest = XXH3_64bits_withSeed(h, SNAPSHOT_BLOCK_HEADER_SIZE,
                                     w->digest);
    w->blocks++;
    w->items += w->buf_records;
    w->record_bytes += payload;
    w->offset += w->len;
    w->len = SNAPSHOT_BLOCK_HEADER_SIZE;
    w->buf_records = 0;
    return 0;
}

/* The directory entry of a rename is durable only once the directory
 * itself is fsynced. */
static int fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? strdup(".")
                : slash == path ? strdup("/")
                : strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    /* Some filesystems cannot fsync a directory and say EINVAL: there is
     * nothing more to do there. */
    if (rc != 0 && errno == EINVAL)
        rc = 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static void fill_summary(const struct snapshot_writer *w,
                         struct snapshot_summary *out)
{
    if (out == NULL)
        return;
    out->created = w->created;
    out->items = w->items;
    out->blocks = w->blocks;
    out->record_bytes = w->record_bytes;
    out->item_bytes = w->item_bytes;
    out->file_bytes = w->offset;
}

int snapshot_writer_commit(struct snapshot_writer **wp,
                           struct snapshot_summary *out,
                           char *err, size_t errlen)
{
    struct snapshot_writer *w = *wp;
    unsigned char h[SNAPSHOT_HEADER_SIZE];
    int rc = -1;
    *wp = NULL;
    if (snapshot_writer_flush(w) != 0)
        goto done;
    encode_header(h, w, STATE_COMPLETE);
    if (pwrite_all(w->fd, h, sizeof(h), 0) != 0) {
        writer_fail(w, "write header of %s", w->tmppath);
        goto done;
    }
    if (fsync(w->fd) != 0) {
        writer_fail(w, "fsync %s", w->tmppath);
        goto done;
    }
    int fd = w->fd;
    w->fd = -1; /* closed even when close() fails */
    if (close(fd) != 0) {
        writer_fail(w, "close %s", w->tmppath);
        goto done;
    }
    if (rename(w->tmppath, w->path) != 0) {
        writer_fail(w, "rename %s to %s", w->tmppath, w->path);
        goto done;
    }
    w->tmp_exists = false;
    if (fsync_dir_of(w->path) != 0) {
        writer_fail(w, "%s in place but may not survive a power loss: "
                       "fsync of its directory", w->path);
        goto done;
    }
    fill_summary(w, out);
    rc = 0;
done:
    if (rc != 0)
        say(err, errlen, "%s", w->reason);
    int e = errno;
    writer_free(w, true);
    errno = e;
    return rc;
}

void snapshot_writer_abort(struct snapshot_writer **wp)
{
    if (*wp == NULL)
        return;
    writer_free(*wp, true);
    *wp = NULL;
}

/* ---------------------------------------------------------- quarantine */

/* rename() that fails with EEXIST instead of replacing `to`. */
static int move_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* No RENAME_NOREPLACE on this filesystem: link() refuses to replace
     * too. */
    if (link(from, to) != 0)
        return -1;
    return unlink(from);
}

int snapshot_quarantine(const char *path, time_t now, char *newpath,
                        size_t cap)
{
    for (unsigned n = 1; n <= 1000; n++) {
        int len = n == 1
            ? snprintf(newpath, cap, "%s.bad-%lld", path, (long long)now)
            : snprintf(newpath, cap, "%s.bad-%lld-%u", path,
                       (long long)now, n);
        if (len < 0 || (size_t)len >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (move_noreplace(path, newpath) == 0) {
            (void)fsync_dir_of(path); /* best effort: the move is done */
            return 0;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}
