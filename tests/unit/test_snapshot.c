/* Unit tests for lib/snapshot.c and lib/snapshot_read.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include "lib/snapshot.h"
#include "tests/unit/snapshot_fixture.h"

/* ----------------------------------------------------------- round trip */

static void round_trip_empty(void **state)
{
    struct tmp *t = *state;
    struct snapshot_summary sum, info;
    struct snapshot_reader *r;
    struct snapshot_record rec;
    write_stream(t->path, 0, 0, &sum);
    assert_int_equal(sum.items, 0);
    assert_int_equal(sum.blocks, 0);
    assert_int_equal(sum.file_bytes, HDR);
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    snapshot_reader_info(r, &info);
    assert_int_equal(info.items, 0);
    assert_int_equal(info.file_bytes, HDR);
    assert_true(info.created == CREATED);
    assert_false(snapshot_reader_next(r, &rec));
    snapshot_reader_close(&r);
}

static void round_trip_one(void **state)
{
    struct tmp *t = *state;
    struct snapshot_summary sum;
    write_stream(t->path, 1, 0, &sum);
    assert_int_equal(sum.items, 1);
    assert_int_equal(sum.blocks, 1);
    check_stream(t->path, 1);
}

static void round_trip_many_blocks(void **state)
{
    struct tmp *t = *state;
    struct snapshot_summary sum, info;
    struct snapshot_reader *r;
    struct stat st;
    write_stream(t->path, 5000, 700, &sum);
    assert_int_equal(sum.items, 5000);
    assert_int_equal(sum.blocks, 8); /* 7 full flushes and the rest */
    assert_int_equal(stat(t->path, &st), 0);
    assert_int_equal(sum.file_bytes, (uint64_t)st.st_size);
    assert_int_equal(sum.file_bytes,
                     HDR + 8 * BHDR + sum.record_bytes);
    assert_int_equal(sum.record_bytes, 5000 * RHDR + sum.item_bytes);
    check_stream(t->path, 5000);
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    snapshot_reader_info(r, &info);
    assert_memory_equal(&info, &sum, sizeof(sum));
    snapshot_reader_close(&r);
}

/* The largest and smallest of everything, in one file. */
static void round_trip_extremes(void **state)
{
    struct tmp *t = *state;
    static unsigned char big_key[SNAPSHOT_KEY_MAX];
    const size_t big = 1024 * 1024;
    unsigned char *big_value = malloc(big);
    uint64_t s = 42;
    assert_non_null(big_value);
    for (size_t i = 0; i < sizeof(big_key); i++)
        big_key[i] = (unsigned char)i; /* includes NUL, \r, \n */
    for (size_t i = 0; i < big; i++)
        big_value[i] = (unsigned char)rng_next(&s);
    const struct snapshot_record recs[] = {
        {.key = "\0", .nkey = 1, .value = "", .nvalue = 0},
        {.key = big_key, .nkey = SNAPSHOT_KEY_MAX, .value = big_value,
         .nvalue = big, .flags = UINT32_MAX, .expires = INT64_MAX,
         .cas = UINT64_MAX, .bits = UINT32_MAX, .atime = INT64_MAX},
        {.key = "k\r\n", .nkey = 3, .value = "v\r\n\0x", .nvalue = 5,
         .expires = INT64_MIN, .atime = INT64_MIN, .cas = 1},
        {.key = big_key + 1, .nkey = 1, .value = NULL, .nvalue = 0,
         .expires = -1, .atime = -1},
    };
    const size_t n = sizeof(recs) / sizeof(recs[0]);
    struct snapshot_writer *w;
    assert_int_equal(snapshot_writer_open(&w, t->path, -5, NULL, 0), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(snapshot_writer_add(w, &recs[i]), 0);
        if (i == 1)
            assert_int_equal(snapshot_writer_flush(w), 0);
    }
    assert_int_equal(snapshot_writer_commit(&w, NULL, NULL, 0), 0);

    struct snapshot_reader *r;
    struct snapshot_record rec;
    struct snapshot_summary info;
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    snapshot_reader_info(r, &info);
    assert_true(info.created == -5);
    assert_int_equal(info.blocks, 2);
    assert_int_equal(info.item_bytes, 1 + SNAPSHOT_KEY_MAX + big + 8 + 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(snapshot_reader_next(r, &rec));
        assert_record_equal(&rec, &recs[i]);
    }
    assert_false(snapshot_reader_next(r, &rec));
    snapshot_reader_close(&r);
    free(big_value);
}

/* A record points into the reader's block buffer: it stays intact while
 * the records after it in the same block are read. */
static void records_stay_valid_within_their_block(void **state)
{
    struct tmp *t = *state;
    struct snapshot_reader *r;
    struct snapshot_record first, rec;
    struct gen g;
    write_stream(t->path, 300, 100, NULL);
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    assert_true(snapshot_reader_next(r, &first));
    for (int i = 1; i < 100; i++)
        assert_true(snapshot_reader_next(r, &rec));
    assert_record_equal(&first, gen_record(&g, 0, 40, 300));
    assert_int_equal(snapshot_reader_status(r, NULL), SNAPSHOT_OK);
    snapshot_reader_close(&r);
}

/* Three blocks of 100 records written and opened; then byte `at` of
 * block `block`'s payload flipped in place (same inode: the open reader
 * sees it), every checksum recomputed if `resealed`. Reads all it can,
 * checks that the first `intact` records handed out are the ones written
 * and that `total` were handed out, then that the status names `fault`
 * at `offset`, into block `block` (or into the file header, block -1). */
struct change {
    size_t block, at;
    bool resealed;
    uint64_t intact, total;
    enum snapshot_fault fault;
    int64_t fault_block;
    size_t offset;
};

static void change_after_open(const struct tmp *t, const struct change *c)
{
    struct snapshot_reader *r;
    struct snapshot_record rec;
    struct snapshot_error err;
    struct layout l;
    struct gen g;
    size_t n;
    write_stream(t->path, 300, 100, NULL);
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    unsigned char *b = slurp(t->path, &n);
    parse_layout(b, n, &l);
    assert_int_equal(l.nblocks, 3);
    b[l.off[c->block] + BHDR + c->at] ^= 0x01;
    if (c->resealed)
        reseal(b, n);
    spill(t->path, b, n);
    free(b);
    if (c->resealed) /* a sound file on its own */
        assert_int_equal(count_items(t->path), 300);
    uint64_t got = 0;
    while (snapshot_reader_next(r, &rec)) {
        if (got < c->intact)
            assert_record_equal(&rec, gen_record(&g, got, 40, 300));
        got++;
    }
    assert_int_equal(got, c->total);
    assert_int_equal(snapshot_reader_status(r, &err), c->fault);
    assert_int_equal(err.block, c->fault_block);
    size_t base = c->fault_block < 0 ? 0 : l.off[c->fault_block];
    assert_int_equal(err.offset, base + c->offset);
    assert_int_equal(err.sys_errno, 0);
    assert_false(snapshot_reader_next(r, &rec));
    snapshot_reader_close(&r);
}

/* The file changed in place after it was opened: the read stops at the
 * block that no longer matches its checksum and says which; the records
 * handed out before it are the ones written. */
static void change_after_open_stops_at_that_block(void **state)
{
    change_after_open(*state, &(struct change){
        .block = 1, .at = 5, .intact = 100, .total = 100,
        .fault = SNAPSHOT_BAD_CHECKSUM, .fault_block = 1, .offset = BHDR});
}

/* A block replaced after open by another valid one (checksums and digest
 * recomputed: a sound file on its own, but not the one whose header was
 * read) is refused at the end: its header does not chain into the digest
 * the file header gave at open. */
static void valid_but_different_block_after_open_is_refused(void **state)
{
    change_after_open(*state, &(struct change){
        .block = 2, .at = RHDR, .resealed = true, .intact = 200,
        .total = 300, .fault = SNAPSHOT_BAD_CHECKSUM, .fault_block = -1,
        .offset = 56});
}

/* Two threads taking blocks see every record exactly once, each intact.
 * Records are told apart by their random CAS, looked up in a sorted
 * table of (cas, number). */
struct cas_index {
    uint64_t cas;
    uint64_t i;
};

static int by_cas(const void *a, const void *b)
{
    uint64_t x = ((const struct cas_index *)a)->cas;
    uint64_t y = ((const struct cas_index *)b)->cas;
    return x < y ? -1 : x > y;
}

struct block_taker {
    struct snapshot_reader *r;
    const struct cas_index *index;
    uint64_t n;
    unsigned char *seen;   /* per record number; each set by one thread */
    uint64_t records;
    uint64_t blocks;
};

static void *take_blocks(void *arg)
{
    struct block_taker *t = arg;
    struct snapshot_block b = {0};
    struct snapshot_record rec;
    struct gen g;
    while (snapshot_reader_next_block(t->r, &b)) {
        t->blocks++;
        /* a hint that changes nothing a walk sees, even past the end */
        snapshot_block_prefetch(&b, (size_t)1 << 40);
        while (snapshot_block_next(&b, &rec)) {
            snapshot_block_prefetch(&b, 4096);
            struct cas_index want = {rec.cas, 0};
            const struct cas_index *hit =
                bsearch(&want, t->index, t->n, sizeof(want), by_cas);
            assert_non_null(hit);
            assert_record_equal(&rec, gen_record(&g, hit->i, 40, 300));
            t->seen[hit->i]++;
            t->records++;
        }
    }
    snapshot_block_free(&b);
    return NULL;
}

/* A block taker that only counts. */
static void *count_blocks(void *arg)
{
    struct block_taker *t = arg;
    struct snapshot_block b = {0};
    struct snapshot_record rec;
    while (snapshot_reader_next_block(t->r, &b)) {
        t->blocks++;
        while (snapshot_block_next(&b, &rec))
            t->records++;
    }
    snapshot_block_free(&b);
    return NULL;
}

static void blocks_split_between_threads(void **state)
{
    struct tmp *t = *state;
    const uint64_t n = 3000;
    write_stream(t->path, n, 70, NULL);
    struct cas_index *index = calloc(n, sizeof(*index));
    unsigned char *seen = calloc(n, 1);
    assert_non_null(index);
    assert_non_null(seen);
    struct gen g;
    for (uint64_t i = 0; i < n; i++)
        index[i] = (struct cas_index){gen_record(&g, i, 40, 300)->cas, i};
    qsort(index, n, sizeof(*index), by_cas);
    struct snapshot_reader *r;
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    struct block_taker a = {r, index, n, seen, 0, 0}, b = a;
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, take_blocks, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, take_blocks, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.records + b.records, n);
    assert_int_equal(a.blocks + b.blocks, (n + 69) / 70);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(snapshot_reader_status(r, NULL), SNAPSHOT_OK);
    free(seen);
    free(index);
    snapshot_reader_close(&r);
}

/* Threads taking blocks run the file-wide checks too: bytes after the
 * last block are found once the blocks are all taken. */
static void threads_meet_the_end_checks(void **state)
{
    struct tmp *t = *state;
    struct snapshot_reader *r;
    struct snapshot_error err;
    size_t n;
    write_stream(t->path, 3000, 70, NULL);
    unsigned char *b = slurp(t->path, &n);
    unsigned char *longer = realloc(b, n + 1);
    assert_non_null(longer);
    longer[n] = 0;
    spill(t->path, longer, n + 1);
    free(longer);
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    struct block_taker a = {.r = r}, c = a;
    pthread_t ta, tc;
    assert_int_equal(pthread_create(&ta, NULL, count_blocks, &a), 0);
    assert_int_equal(pthread_create(&tc, NULL, count_blocks, &c), 0);
    pthread_join(ta, NULL);
    pthread_join(tc, NULL);
    assert_int_equal(a.records + c.records, 3000);
    assert_int_equal(snapshot_reader_status(r, &err), SNAPSHOT_BAD_RECORD);
    assert_int_equal(err.offset, n);
    assert_int_equal(err.block, -1);
    snapshot_reader_close(&r);
}

/* ------------------------------------------------------------- writer */

static void add_rejects_bad_lengths(void **state)
{
    struct tmp *t = *state;
    struct snapshot_writer *w;
    struct snapshot_record rec = {.key = "k", .nkey = 1, .value = "vv",
                                  .nvalue = 2};
    assert_int_equal(snapshot_writer_open(&w, t->path, CREATED, NULL, 0), 0);
    assert_int_equal(snapshot_writer_buffered(w), 0);
    assert_int_equal(snapshot_writer_add(w, &rec), 0);
    assert_int_equal(snapshot_writer_buffered(w), RHDR + 3);

    rec.nkey = 0;
    errno = 0;
    assert_int_equal(snapshot_writer_add(w, &rec), -1);
    assert_int_equal(errno, EINVAL);
    rec.nkey = SNAPSHOT_KEY_MAX + 1;
    errno = 0;
    assert_int_equal(snapshot_writer_add(w, &rec), -1);
    assert_int_equal(errno, EINVAL);
    rec.nkey = 1;
    rec.nvalue = (size_t)UINT32_MAX + 1; /* never read: refused first */
    errno = 0;
    assert_int_equal(snapshot_writer_add(w, &rec), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(snapshot_writer_buffered(w), RHDR + 3);

    assert_int_equal(snapshot_writer_flush(w), 0);
    assert_int_equal(snapshot_writer_buffered(w), 0);
    struct snapshot_summary sum;
    assert_int_equal(snapshot_writer_commit(&w, &sum, NULL, 0), 0);
    assert_int_equal(sum.items, 1);
}

/* add() never touches the file; flush() writes one block; a flush with
 * nothing buffered writes nothing. */
static void add_is_memory_only(void **state)
{
    struct tmp *t = *state;
    struct snapshot_writer *w;
    struct snapshot_summary sum;
    struct gen g;
    struct stat st;
    char tmp[200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", t->path, (long)getpid());
    assert_int_equal(snapshot_writer_open(&w, t->path, CREATED, NULL, 0), 0);
    assert_int_equal(snapshot_writer_flush(w), 0);
    for (uint64_t i = 0; i < 2000; i++) /* grows past the first buffer */
        assert_int_equal(snapshot_writer_add(w, gen_record(&g, i, 40, 300)),
                         0);
    assert_true(snapshot_writer_buffered(w) > 256 * 1024);
    assert_int_equal(stat(tmp, &st), 0);
    assert_int_equal(st.st_size, HDR);
    size_t buffered = snapshot_writer_buffered(w);
    assert_int_equal(snapshot_writer_flush(w), 0);
    assert_int_equal(snapshot_writer_flush(w), 0);
    assert_int_equal(stat(tmp, &st), 0);
    assert_int_equal(st.st_size, HDR + BHDR + buffered);
    assert_int_equal(snapshot_writer_commit(&w, &sum, NULL, 0), 0);
    assert_int_equal(sum.blocks, 1);
    check_stream(t->path, 2000);
}

static void commit_replaces_old_file(void **state)
{
    struct tmp *t = *state;
    char names[4][256];
    write_stream(t->path, 50, 0, NULL);
    write_stream(t->path, 7, 3, NULL);
    check_stream(t->path, 7);
    assert_int_equal(dir_entries(t, names, 4), 1);
    assert_string_equal(names[0], "snap");
}

static void abort_keeps_old_file_and_leaves_no_temp(void **state)
{
    struct tmp *t = *state;
    struct snapshot_writer *w;
    struct gen g;
    char names[4][256];
    write_stream(t->path, 10, 0, NULL);
    assert_int_equal(snapshot_writer_open(&w, t->path, CREATED, NULL, 0), 0);
    for (uint64_t i = 100; i < 120; i++)
        assert_int_equal(snapshot_writer_add(w, gen_record(&g, i, 40, 300)),
                         0);
    assert_int_equal(snapshot_writer_flush(w), 0);
    assert_int_equal(snapshot_writer_add(w, gen_record(&g, 5, 40, 300)), 0);
    assert_int_equal(dir_entries(t, names, 4), 2); /* snap and the temp */
    snapshot_writer_abort(&w);
    assert_null(w);
    snapshot_writer_abort(&w); /* tolerates NULL */
    assert_int_equal(dir_entries(t, names, 4), 1);
    assert_string_equal(names[0], "snap");
    check_stream(t->path, 10);
}

/* The file of a writer that died is refused as truncated, never loaded
 * with fewer items. */
static void unfinished_writer_file_is_truncated(void **state)
{
    struct tmp *t = *state;
    struct snapshot_writer *w;
    struct gen g;
    char tmp[200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", t->path, (long)getpid());
    assert_int_equal(snapshot_writer_open(&w, t->path, CREATED, NULL, 0), 0);
    struct snapshot_error err = expect_fault(tmp, SNAPSHOT_TRUNCATED);
    assert_int_equal(err.offset, 16);
    for (uint64_t i = 0; i < 30; i++) {
        assert_int_equal(snapshot_writer_add(w, gen_record(&g, i, 40, 300)),
                         0);
        assert_int_equal(snapshot_writer_flush(w), 0);
    }
    err = expect_fault(tmp, SNAPSHOT_TRUNCATED);
    assert_int_equal(err.offset, 16);
    assert_int_equal(err.block, -1);
    snapshot_writer_abort(&w);
    assert_int_equal(access(tmp, F_OK), -1);
}

/* A leftover temporary file of a dead process with our pid is replaced. */
static void stale_temp_file_is_overwritten(void **state)
{
    struct tmp *t = *state;
    char tmp[200], names[4][256];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", t->path, (long)getpid());
    spill(tmp, (const unsigned char *)"garbage garbage garbage", 23);
    write_stream(t->path, 20, 6, NULL);
    check_stream(t->path, 20);
    assert_int_equal(dir_entries(t, names, 4), 1);
}

static void open_fails_in_missing_directory(void **state)
{
    struct tmp *t = *state;
    struct snapshot_writer *w = (struct snapshot_writer *)&w;
    char path[200], err[256] = "";
    snprintf(path, sizeof(path), "%s/nodir/snap", t->dir);
    errno = 0;
    assert_int_equal(snapshot_writer_open(&w, path, CREATED, err,
                                          sizeof(err)), -1);
    assert_int_equal(errno, ENOENT);
    assert_null(w);
    assert_non_null(strstr(err, "nodir/snap.tmp."));
}

/* A write error (here the file size limit) is sticky: later adds and
 * flushes fail, commit fails with the reason and removes the temporary
 * file, and the old snapshot stays. */
static void write_failure_keeps_old_file(void **state)
{
    struct tmp *t = *state;
    struct snapshot_writer *w;
    struct rlimit old, small;
    struct gen g;
    char err[256] = "", names[4][256];
    write_stream(t->path, 10, 0, NULL);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 64 * 1024;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(snapshot_writer_open(&w, t->path, CREATED, NULL, 0), 0);
    for (uint64_t i = 0; i < 2000; i++)
        assert_int_equal(snapshot_writer_add(w, gen_record(&g, i, 40, 300)),
                         0);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = snapshot_writer_flush(w);
    int e = errno;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(rc, -1);
    assert_int_equal(e, EFBIG);
    assert_int_equal(snapshot_writer_buffered(w), 0);
    assert_int_equal(snapshot_writer_add(w, gen_record(&g, 0, 40, 300)), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(snapshot_writer_flush(w), -1);
    assert_int_equal(snapshot_writer_commit(&w, NULL, err, sizeof(err)), -1);
    assert_null(w);
    assert_non_null(strstr(err, "write"));
    assert_int_equal(dir_entries(t, names, 4), 1);
    check_stream(t->path, 10);
}

/* ------------------------------------------------------- damaged files */

static void missing_file(void **state)
{
    struct tmp *t = *state;
    struct snapshot_error err = expect_fault(t->path, SNAPSHOT_MISSING);
    assert_int_equal(err.sys_errno, ENOENT);
    err = expect_fault(t->dir, SNAPSHOT_IO); /* a directory */
}

static void zero_length_file(void **state)
{
    struct tmp *t = *state;
    spill(t->path, (const unsigned char *)"", 0);
    struct snapshot_error err = expect_fault(t->path, SNAPSHOT_TRUNCATED);
    assert_int_equal(err.offset, 0);
}

static void wrong_magic(void **state)
{
    struct tmp *t = *state;
    size_t n;
    write_small(t->path);
    unsigned char *b = slurp(t->path, &n);
    b[7] = 'Q';
    reseal(b, n);
    spill(t->other, b, n);
    struct snapshot_error err = expect_fault(t->other, SNAPSHOT_BAD_MAGIC);
    assert_int_equal(err.offset, 0);
    const char text[] = "set foo 0 0 3\r\nbar\r\n";
    spill(t->other, (const unsigned char *)text, sizeof(text) - 1);
    expect_fault(t->other, SNAPSHOT_BAD_MAGIC);
    free(b);
}

static void unknown_version(void **state)
{
    struct tmp *t = *state;
    static const uint32_t versions[] = {0, 2, 0x01000000, UINT32_MAX};
    size_t n;
    write_small(t->path);
    unsigned char *b = slurp(t->path, &n);
    for (size_t i = 0; i < 4; i++) {
        wr(b + 8, 4, versions[i]);
        reseal(b, n); /* a newer writer's file checksums fine */
        spill(t->other, b, n);
        struct snapshot_error err =
            expect_fault(t->other, SNAPSHOT_BAD_VERSION);
        assert_int_equal(err.offset, 8);
    }
    free(b);
}

/* Every proper prefix of a valid file is refused as truncated, at the
 * offset where it ends: every record boundary, mid-record, mid-header. */
static void truncated_at_every_length(void **state)
{
    struct tmp *t = *state;
    size_t n;
    write_small(t->path);
    unsigned char *b = slurp(t->path, &n);
    assert_true(n > 600 && n < 2000);
    for (size_t len = 0; len < n; len++) {
        spill(t->other, b, len);
        struct snapshot_error err =
            expect_fault(t->other, SNAPSHOT_TRUNCATED);
        assert_int_equal(err.offset, len);
    }
    spill(t->other, b, n);
    assert_int_equal(count_items(t->other), 10);
    free(b);
}

/* Which fault a flipped byte at `at` must cause in a valid file, from the
 * layout: magic and version are named as such, a block magic as a bad
 * magic, anything else covered by a checksum as a bad checksum. */
static enum snapshot_fault fault_for_flip(const struct layout *l, size_t at,
                                          int64_t *block)
{
    *block = -1;
    if (at < 8)
        return SNAPSHOT_BAD_MAGIC;
    if (at < 12)
        return SNAPSHOT_BAD_VERSION;
    if (at < HDR)
        return SNAPSHOT_BAD_CHECKSUM;
    for (size_t i = 0; i < l->nblocks; i++) {
        if (at >= l->off[i] + BHDR + l->len[i])
            continue;
        *block = (int64_t)i;
        return at < l->off[i] + 4 ? SNAPSHOT_BAD_MAGIC
                                  : SNAPSHOT_BAD_CHECKSUM;
    }
    fail_msg("offset %zu outside the file", at);
    return SNAPSHOT_OK;
}

/* Flipping any one bit of any byte gets the file refused, with the right
 * fault and block: header, block headers, payloads, checksum fields. */
static void flipped_byte_anywhere_is_refused(void **state)
{
    struct tmp *t = *state;
    struct layout l;
    size_t n;
    write_small(t->path);
    unsigned char *b = slurp(t->path, &n);
    parse_layout(b, n, &l);
    assert_int_equal(l.nblocks, 3);
    for (size_t at = 0; at < n; at++) {
        for (int bit = 0; bit < 8; bit += 7) {
            int64_t block;
            enum snapshot_fault f = fault_for_flip(&l, at, &block);
            b[at] ^= (unsigned char)(1u << bit);
            spill(t->other, b, n);
            b[at] ^= (unsigned char)(1u << bit);
            struct snapshot_error err = expect_fault(t->other, f);
            assert_int_equal(err.block, block);
        }
    }
    free(b);
}

/* Each checksum field, damaged, is reported at the checksum that covers
 * it: the header checksum for the digest and itself, the block header
 * checksum for the payload checksum and itself. */
static void damaged_checksum_fields(void **state)
{
    struct tmp *t = *state;
    struct layout l;
    size_t n;
    write_small(t->path);
    unsigned char *b = slurp(t->path, &n);
    parse_layout(b, n, &l);
    const struct {
        size_t at;
        uint64_t offset;
        int64_t block;
    } cases[] = {
        {56, 64, -1},                          /* file digest */
        {64, 64, -1},                          /* header checksum */
        {l.off[1] + 16, l.off[1] + 24, 1},     /* payload checksum */
        {l.off[2] + 31, l.off[2] + 24, 2},     /* block header checksum */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b[cases[i].at] ^= 0x40;
        spill(t->other, b, n);
        b[cases[i].at] ^= 0x40;
        struct snapshot_error err =
            expect_fault(t->other, SNAPSHOT_BAD_CHECKSUM);
        assert_int_equal(err.offset, cases[i].offset);
        assert_int_equal(err.block, cases[i].block);
    }
    /* A payload byte, block 0: reported at the payload's start. */
    b[l.off[0] + BHDR + 5] ^= 1;
    spill(t->other, b, n);
    struct snapshot_error err = expect_fault(t->other, SNAPSHOT_BAD_CHECKSUM);
    assert_int_equal(err.offset, l.off[0] + BHDR);
    assert_int_equal(err.block, 0);
    free(b);
}

/* The test's reseal() reproduces the writer's bytes exactly: the layout
 * documented in snapshot.h is the one written. */
static void documented_layout_matches_file(void **state)
{
    struct tmp *t = *state;
    struct layout l;
    size_t n;
    write_small(t->path);
    unsigned char *b = slurp(t->path, &n);
    unsigned char *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, b, n);
    memset(copy + 56, 0, 16);
    reseal(copy, n);
    assert_memory_equal(copy, b, n);
    assert_memory_equal(b, "ZEEKSNAP", 8);
    assert_int_equal(rd(b + 8, 4), SNAPSHOT_VERSION);
    assert_int_equal(rd(b + 12, 4), HDR);
    assert_int_equal(rd(b + 16, 4), 1);
    assert_int_equal(rd(b + 24, 8), CREATED);
    assert_int_equal(rd(b + 32, 8), 10);
    parse_layout(b, n, &l);
    const unsigned char *rec = b + l.off[1] + BHDR; /* block 1: 1 record */
    struct gen g;
    const struct snapshot_record *want = gen_record(&g, 4, 12, 20);
    assert_memory_equal(b + l.off[1], "ZKBK", 4);
    assert_int_equal(rd(b + l.off[1] + 4, 4), 1);
    assert_int_equal(rd(rec, 4), want->nvalue);
    assert_int_equal(rd(rec + 4, 2), want->nkey);
    assert_int_equal(rd(rec + 8, 4), want->flags);
    assert_int_equal(rd(rec + 12, 4), want->bits);
    assert_true(rd(rec + 16, 8) == (uint64_t)want->expires);
    assert_true(rd(rec + 24, 8) == (uint64_t)want->atime);
    assert_true(rd(rec + 32, 8) == want->cas);
    assert_memory_equal(rec + RHDR, want->key, want->nkey);
    assert_int_equal(l.len[1], RHDR + want->nkey + want->nvalue);
    free(copy);
    free(b);
}

/* Checksums fine, framing wrong: each edit is resealed so that only the
 * framing check can catch it. */
static void bad_framing_with_good_checksums(void **state)
{
    struct tmp *t = *state;
    struct layout l;
    size_t n;
    write_small(t->path);
    unsigned char *b = slurp(t->path, &n);
    unsigned char *c = malloc(n + 16);
    assert_non_null(c);
    parse_layout(b, n, &l);
    size_t r0 = l.off[0] + BHDR; /* first record of block 0 */
    size_t r1 = l.off[1] + BHDR; /* the only record of block 1 */
    const struct {
        size_t at;
        int width;
        uint64_t value;
        uint64_t offset; /* where the fault must be reported */
        int64_t block;
    } cases[] = {
        {r0 + 4, 2, 0, r0, 0},                      /* empty key */
        {r0 + 4, 2, SNAPSHOT_KEY_MAX + 1, r0, 0},   /* key too long */
        {r1 + 6, 2, 1, r1, 1},                      /* reserved */
        {r1, 4, UINT32_MAX, r1 + RHDR, 1},          /* value too long */
        {l.off[1] + 4, 4, 2, l.off[1] + BHDR + l.len[1], 1}, /* count+1 */
        {l.off[2] + 4, 4, 4, 0, 2},                 /* count-1: leftover */
        {l.off[1] + 4, 4, 0, l.off[1] + 4, 1},      /* empty block */
        {32, 8, 11, 32, -1},                        /* header item count */
        {48, 8, 1, 32, -1},                         /* header byte count */
        {12, 4, 80, 12, -1},                        /* header size */
        {20, 4, 1, 12, -1},                         /* header reserved */
        {16, 4, 2, 16, -1},                         /* unknown state */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(c, b, n);
        wr(c + cases[i].at, cases[i].width, cases[i].value);
        reseal(c, n);
        spill(t->other, c, n);
        struct snapshot_error err =
            expect_fault(t->other, SNAPSHOT_BAD_RECORD);
        if (cases[i].offset != 0)
            assert_int_equal(err.offset, cases[i].offset);
        assert_int_equal(err.block, cases[i].block);
    }
    /* Trailing bytes after the last block. */
    memcpy(c, b, n);
    memset(c + n, 0, 16);
    spill(t->other, c, n + 16);
    assert_int_equal(expect_fault(t->other, SNAPSHOT_BAD_RECORD).offset, n);
    /* One block more in the header than in the file, or state 0: as a
     * file cut short. */
    memcpy(c, b, n);
    wr(c + 40, 8, 4);
    reseal(c, n);
    spill(t->other, c, n);
    assert_int_equal(expect_fault(t->other, SNAPSHOT_TRUNCATED).offset, n);
    memcpy(c, b, n);
    wr(c + 16, 4, 0);
    reseal(c, n);
    spill(t->other, c, n);
    assert_int_equal(expect_fault(t->other, SNAPSHOT_TRUNCATED).offset, 16);
    free(c);
    free(b);
}

/* A header (checksum and all) claiming more than the file could hold:
 * what open reports is capped, for callers that size things by it, and
 * the claim itself is refused at the end. */
static void header_counts_beyond_the_file_are_capped(void **state)
{
    struct tmp *t = *state;
    struct snapshot_reader *r;
    struct snapshot_summary info;
    size_t n;
    write_small(t->path);
    unsigned char *b = slurp(t->path, &n);
    wr(b + 32, 8, UINT64_MAX / 2);
    wr(b + 48, 8, (uint64_t)1 << 50);
    reseal(b, n);
    spill(t->other, b, n);
    assert_int_equal(snapshot_reader_open(&r, t->other, NULL), SNAPSHOT_OK);
    snapshot_reader_info(r, &info);
    assert_true(info.items <= (n - HDR) / (RHDR + 1));
    assert_true(info.record_bytes <= n - HDR);
    assert_true(info.item_bytes <= info.record_bytes);
    snapshot_reader_close(&r);
    struct snapshot_error err = expect_fault(t->other, SNAPSHOT_BAD_RECORD);
    assert_int_equal(err.offset, 32);
    assert_int_equal(err.block, -1);
    free(b);
}

/* Two blocks of the same size swapped: each is valid on its own and the
 * counts agree, only the file digest can tell. */
static void reordered_blocks_fail_the_digest(void **state)
{
    struct tmp *t = *state;
    struct snapshot_writer *w;
    struct layout l;
    size_t n;
    char key[8];
    assert_int_equal(snapshot_writer_open(&w, t->path, CREATED, NULL, 0), 0);
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        struct snapshot_record rec = {.key = key, .nkey = 4, .value = "v",
                                      .nvalue = 1};
        assert_int_equal(snapshot_writer_add(w, &rec), 0);
        assert_int_equal(snapshot_writer_flush(w), 0);
    }
    assert_int_equal(snapshot_writer_commit(&w, NULL, NULL, 0), 0);
    unsigned char *b = slurp(t->path, &n);
    parse_layout(b, n, &l);
    assert_int_equal(l.len[0], l.len[1]);
    size_t bl = BHDR + l.len[0];
    unsigned char tmp[256];
    memcpy(tmp, b + l.off[0], bl);
    memcpy(b + l.off[0], b + l.off[1], bl);
    memcpy(b + l.off[1], tmp, bl);
    spill(t->other, b, n);
    struct snapshot_error err = expect_fault(t->other, SNAPSHOT_BAD_CHECKSUM);
    assert_int_equal(err.offset, 56);
    free(b);
}

/* --------------------------------------------------------- quarantine */

static void quarantine_moves_aside_without_replacing(void **state)
{
    struct tmp *t = *state;
    char first[200], second[200], want[200];
    char names[4][256];
    size_t n1, n2;
    spill(t->path, (const unsigned char *)"one", 3);
    assert_int_equal(snapshot_quarantine(t->path, 1234, first,
                                         sizeof(first)), 0);
    snprintf(want, sizeof(want), "%s.bad-1234", t->path);
    assert_string_equal(first, want);
    assert_int_equal(access(t->path, F_OK), -1);

    spill(t->path, (const unsigned char *)"two!", 4);
    assert_int_equal(snapshot_quarantine(t->path, 1234, second,
                                         sizeof(second)), 0);
    snprintf(want, sizeof(want), "%s.bad-1234-2", t->path);
    assert_string_equal(second, want);
    unsigned char *b1 = slurp(first, &n1), *b2 = slurp(second, &n2);
    assert_int_equal(n1, 3);
    assert_memory_equal(b1, "one", 3);
    assert_int_equal(n2, 4);
    assert_memory_equal(b2, "two!", 4);
    assert_int_equal(dir_entries(t, names, 4), 2);

    errno = 0;
    assert_int_equal(snapshot_quarantine(t->path, 1234, first,
                                         sizeof(first)), -1);
    assert_int_equal(errno, ENOENT);
    spill(t->path, (const unsigned char *)"x", 1);
    errno = 0;
    assert_int_equal(snapshot_quarantine(t->path, 1, first, 8), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    free(b1);
    free(b2);
}

static void fault_names(void **state)
{
    (void)state;
    assert_string_equal(snapshot_fault_name(SNAPSHOT_OK), "ok");
    assert_string_equal(snapshot_fault_name(SNAPSHOT_MISSING), "missing");
    assert_string_equal(snapshot_fault_name(SNAPSHOT_IO), "io");
    assert_string_equal(snapshot_fault_name(SNAPSHOT_BAD_MAGIC), "bad_magic");
    assert_string_equal(snapshot_fault_name(SNAPSHOT_BAD_VERSION),
                        "bad_version");
    assert_string_equal(snapshot_fault_name(SNAPSHOT_TRUNCATED),
                        "truncated");
    assert_string_equal(snapshot_fault_name(SNAPSHOT_BAD_CHECKSUM),
                        "bad_checksum");
    assert_string_equal(snapshot_fault_name(SNAPSHOT_BAD_RECORD),
                        "bad_record");
    assert_string_equal(snapshot_fault_name((enum snapshot_fault)99),
                        "unknown");
    struct snapshot_reader *r = NULL;
    snapshot_reader_close(&r); /* tolerates NULL */
}

#define TMP_TEST(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TMP_TEST(round_trip_empty),
        TMP_TEST(round_trip_one),
        TMP_TEST(round_trip_many_blocks),
        TMP_TEST(round_trip_extremes),
        TMP_TEST(records_stay_valid_within_their_block),
        TMP_TEST(change_after_open_stops_at_that_block),
        TMP_TEST(valid_but_different_block_after_open_is_refused),
        TMP_TEST(blocks_split_between_threads),
        TMP_TEST(threads_meet_the_end_checks),
        TMP_TEST(header_counts_beyond_the_file_are_capped),
        TMP_TEST(add_rejects_bad_lengths),
        TMP_TEST(add_is_memory_only),
        TMP_TEST(commit_replaces_old_file),
        TMP_TEST(abort_keeps_old_file_and_leaves_no_temp),
        TMP_TEST(unfinished_writer_file_is_truncated),
        TMP_TEST(stale_temp_file_is_overwritten),
        TMP_TEST(open_fails_in_missing_directory),
        TMP_TEST(write_failure_keeps_old_file),
        TMP_TEST(missing_file),
        TMP_TEST(zero_length_file),
        TMP_TEST(wrong_magic),
        TMP_TEST(unknown_version),
        TMP_TEST(truncated_at_every_length),
        TMP_TEST(flipped_byte_anywhere_is_refused),
        TMP_TEST(damaged_checksum_fields),
        TMP_TEST(documented_layout_matches_file),
        TMP_TEST(bad_framing_with_good_checksums),
        TMP_TEST(reordered_blocks_fail_the_digest),
        TMP_TEST(quarantine_moves_aside_without_replacing),
        cmocka_unit_test(fault_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
