/*
 * tests/fuzz/fuzz_snapshot.c - the verifying snapshot reader
 * (lib/snapshot_read.c) on arbitrary file contents.
 *
 * Each input is tried four times: as it is; with every checksum
 * recomputed from what the bytes lay out but the file's digest kept, so
 * that blocks moved or changed meet the digest check; with the digest
 * recomputed too, so that changes reach the header fields and the record
 * framing behind the checksums; and with the header's counts recomputed
 * as well. Each time the file is walked with snapshot_reader_next()
 * and, on a second reader, with snapshot_reader_next_block(); every
 * record handed out has a key of 1 to SNAPSHOT_KEY_MAX bytes and every
 * byte of its key and value readable (AddressSanitizer watches). The
 * file must either be refused, at open or by the end of both walks
 * alike, with a named fault and a one-line reason, or be accepted with a
 * summary that matches the file's own header and size, both walks
 * handing out exactly the items the summary claims.
 *
 * The reader takes a path: the file is a memfd created once per process,
 * rewritten for each try and opened as /proc/self/fd/N.
 */
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lib/snapshot.h"
#include "tests/fuzz/fuzz.h"

#define HDR SNAPSHOT_HEADER_SIZE
#define BHDR SNAPSHOT_BLOCK_HEADER_SIZE
#define RHDR SNAPSHOT_RECORD_HEADER_SIZE

/* ------------------------------------------------------------ the file */

struct file {
    int fd;
    char path[64];
};

static const struct file *the_file(void)
{
    static struct file f = {-1, ""};

    if (f.fd < 0) {
        f.fd = memfd_create("zk-fuzz-snapshot", MFD_CLOEXEC);
        FUZZ_CHECK(f.fd >= 0);
        snprintf(f.path, sizeof(f.path), "/proc/self/fd/%d", f.fd);
    }
    return &f;
}

static void put_file(const struct file *f, const unsigned char *b, size_t n)
{
    size_t done = 0;

    FUZZ_CHECK(ftruncate(f->fd, 0) == 0);
    while (done < n) {
        ssize_t w = pwrite(f->fd, b + done, n - done, (off_t)done);
        FUZZ_CHECK(w > 0);
        done += (size_t)w;
    }
}

/* ------------------------------------------- the target's own layout */

/* Little-endian fields, read and written from the layout documented in
 * lib/snapshot.h rather than with the reader's own helpers. */
static uint64_t rd(const unsigned char *p, int width)
{
    uint64_t v = 0;

    for (int i = width - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void wr(unsigned char *p, int width, uint64_t v)
{
    for (int i = 0; i < width; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

/* How much of the file reseal() makes consistent. */
enum seal {
    SEAL_BLOCKS, /* block checksums and the header checksum */
    SEAL_DIGEST, /* and the digest */
    SEAL_COUNTS, /* and the header's item, block and byte counts */
};

/* Recomputes each block's payload and header checksums for the whole
 * blocks the bytes lay out (as many as the header counts; with
 * SEAL_COUNTS, as many as fit), then what `seal` says, then the header
 * checksum. Each block takes at least BHDR bytes, so the walk is bounded
 * by the size. */
static void reseal(unsigned char *b, size_t n, enum seal seal)
{
    uint64_t digest = 0, items = 0, bytes = 0, blocks = 0, want;
    size_t off = HDR;

    if (n < HDR)
        return;
    want = seal == SEAL_COUNTS ? UINT64_MAX : rd(b + 40, 8);
    while (blocks < want && n - off >= BHDR) {
        unsigned char *h = b + off;
        uint64_t len = rd(h + 8, 8);
        if (len > n - off - BHDR)
            break;
        wr(h + 16, 8, XXH3_64bits(h + BHDR, (size_t)len));
        wr(h + 24, 8, XXH3_64bits(h, 24));
        digest = XXH3_64bits_withSeed(h, BHDR, digest);
        items += rd(h + 4, 4);
        bytes += len;
        blocks++;
        off += BHDR + (size_t)len;
    }
    if (seal == SEAL_COUNTS) {
        wr(b + 32, 8, items);
        wr(b + 40, 8, blocks);
        wr(b + 48, 8, bytes);
    }
    if (seal != SEAL_BLOCKS)
        wr(b + 56, 8, digest);
    wr(b + 64, 8, XXH3_64bits(b, 64));
}

/* ------------------------------------------------------------- checks */

static void check_fault(enum snapshot_fault f,
                        const struct snapshot_error *err)
{
    FUZZ_CHECK(f > SNAPSHOT_OK && f <= SNAPSHOT_BAD_RECORD);
    FUZZ_CHECK(f != SNAPSHOT_MISSING);
    FUZZ_CHECK(err->fault == f);
    FUZZ_CHECK(strcmp(snapshot_fault_name(f), "unknown") != 0);
    FUZZ_CHECK(memchr(err->detail, '\0', sizeof(err->detail)) != NULL);
    FUZZ_CHECK(err->detail[0] != '\0');
    FUZZ_CHECK(strchr(err->detail, '\n') == NULL);
    FUZZ_CHECK(err->block >= -1);
}

static void check_refused(enum snapshot_fault f,
                          const struct snapshot_reader *r,
                          const struct snapshot_error *err)
{
    check_fault(f, err);
    FUZZ_CHECK(r == NULL);
}

/* An accepted file is what its header says, exactly. */
static void check_summary(const struct snapshot_summary *s,
                          const unsigned char *b, size_t n)
{
    FUZZ_CHECK(n >= HDR && memcmp(b, "ZEEKSNAP", 8) == 0);
    FUZZ_CHECK(rd(b + 8, 4) == SNAPSHOT_VERSION);
    FUZZ_CHECK(rd(b + 12, 4) == HDR && rd(b + 16, 4) == 1);
    FUZZ_CHECK(rd(b + 20, 4) == 0);
    FUZZ_CHECK(rd(b + 64, 8) == XXH3_64bits(b, 64));
    FUZZ_CHECK(s->file_bytes == n);
    FUZZ_CHECK(s->created == (int64_t)rd(b + 24, 8));
    FUZZ_CHECK(s->items == rd(b + 32, 8));
    FUZZ_CHECK(s->blocks == rd(b + 40, 8));
    FUZZ_CHECK(s->record_bytes == rd(b + 48, 8));
    FUZZ_CHECK(HDR + s->blocks * BHDR + s->record_bytes == n);
    FUZZ_CHECK(s->items * RHDR + s->item_bytes == s->record_bytes);
}

/* What the records handed out add up to. */
struct tally {
    uint64_t items;
    uint64_t bytes; /* keys and values */
    uint64_t sum;   /* of every byte, so each one is read */
};

static void count_record(struct tally *t, const struct snapshot_record *rec)
{
    const unsigned char *k = rec->key, *v = rec->value;

    FUZZ_CHECK(rec->nkey >= 1 && rec->nkey <= SNAPSHOT_KEY_MAX);
    FUZZ_CHECK(rec->nvalue <= UINT32_MAX);
    for (size_t i = 0; i < rec->nkey; i++)
        t->sum += k[i];
    for (size_t i = 0; i < rec->nvalue; i++)
        t->sum += v[i];
    t->items++;
    t->bytes += rec->nkey + rec->nvalue;
}

/* Each record takes more than RHDR bytes of the file: a walk that hands
 * out more than this never ends. */
static uint64_t walk_limit(size_t n)
{
    return n / (RHDR + 1) + 1;
}

static void walk_records(struct snapshot_reader *r, size_t n,
                         struct tally *t)
{
    struct snapshot_record rec;

    while (t->items <= walk_limit(n) && snapshot_reader_next(r, &rec))
        count_record(t, &rec);
    FUZZ_CHECK(!snapshot_reader_next(r, &rec));
}

static void walk_blocks(struct snapshot_reader *r, size_t n,
                        struct tally *t, uint64_t *blocks)
{
    struct snapshot_block blk = {0};
    struct snapshot_record rec;

    while (*blocks <= walk_limit(n) &&
           snapshot_reader_next_block(r, &blk)) {
        (*blocks)++;
        while (t->items <= walk_limit(n) && snapshot_block_next(&blk, &rec))
            count_record(t, &rec);
    }
    FUZZ_CHECK(!snapshot_reader_next_block(r, &blk));
    snapshot_block_free(&blk);
    FUZZ_CHECK(blk.buf == NULL);
}

static void check_walk(const struct snapshot_summary *s,
                       const struct tally *t)
{
    FUZZ_CHECK(t->items == s->items);
    FUZZ_CHECK(t->bytes == s->item_bytes);
}

/* Walks the opened file, then opens it again and walks its blocks: the
 * two walks must reach the same verdict, and if it is SNAPSHOT_OK, the
 * file must be what its header says. */
static void check_opened(struct snapshot_reader *r, const char *path,
                         const unsigned char *b, size_t n)
{
    struct snapshot_summary s;
    struct snapshot_error err;
    struct tally seq = {0}, par = {0};
    uint64_t blocks = 0;

    snapshot_reader_info(r, &s);
    walk_records(r, n, &seq);
    enum snapshot_fault f = snapshot_reader_status(r, &err);
    snapshot_reader_close(&r);
    FUZZ_CHECK(r == NULL);

    FUZZ_CHECK(snapshot_reader_open(&r, path, NULL) == SNAPSHOT_OK);
    walk_blocks(r, n, &par, &blocks);
    FUZZ_CHECK(snapshot_reader_status(r, NULL) == f);
    snapshot_reader_close(&r);
    if (f != SNAPSHOT_OK) {
        check_fault(f, &err);
        return;
    }
    check_summary(&s, b, n);
    check_walk(&s, &seq);
    check_walk(&s, &par);
    FUZZ_CHECK(blocks == s.blocks);
    FUZZ_CHECK(par.sum == seq.sum);
}

static void try_file(const unsigned char *b, size_t n)
{
    const struct file *f = the_file();
    struct snapshot_reader *r = (struct snapshot_reader *)&r;
    struct snapshot_error err;
    enum snapshot_fault fault;

    put_file(f, b, n);
    fault = snapshot_reader_open(&r, f->path, &err);
    if (fault != SNAPSHOT_OK)
        check_refused(fault, r, &err);
    else
        check_opened(r, f->path, b, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size > 0 ? size : 1);

    FUZZ_CHECK(copy != NULL);
    try_file(data, size);
    if (size > 0)
        memcpy(copy, data, size);
    for (int seal = SEAL_BLOCKS; seal <= SEAL_COUNTS; seal++) {
        reseal(copy, size, (enum seal)seal);
        try_file(copy, size);
    }
    free(copy);
    return 0;
}
