/*
 * tests/unit/snapshot_fixture.h - what test_snapshot.c builds on: a fresh
 * mkdtemp directory per test, a deterministic stream of records with
 * binary keys and values, raw file access, and the test's own reading of
 * the byte layout in lib/snapshot.h (little-endian accessors, block
 * offsets, reseal() to recompute every checksum), written from the
 * documentation rather than shared with the code under test.
 *
 * Every helper is static inline. Include after <cmocka.h>'s
 * prerequisites, like the tests do.
 */
#ifndef ZK_TESTS_UNIT_SNAPSHOT_FIXTURE_H
#define ZK_TESTS_UNIT_SNAPSHOT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lib/snapshot.h"

#define HDR SNAPSHOT_HEADER_SIZE
#define BHDR SNAPSHOT_BLOCK_HEADER_SIZE
#define RHDR SNAPSHOT_RECORD_HEADER_SIZE
#define CREATED ((time_t)1700000000)

/* A fresh mkdtemp directory per test, emptied and removed afterwards. */
struct tmp {
    char dir[64];
    char path[128];  /* <dir>/snap, the snapshot under test */
    char other[128]; /* <dir>/other, for damaged copies */
};

static inline int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    strcpy(t->dir, "/tmp/zk-test-snapshot-XXXXXX");
    if (mkdtemp(t->dir) == NULL) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof(t->path), "%s/snap", t->dir);
    snprintf(t->other, sizeof(t->other), "%s/other", t->dir);
    *state = t;
    return 0;
}

static inline int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    DIR *d = opendir(t->dir);
    struct dirent *e;
    char p[400];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", t->dir, e->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    int rc = rmdir(t->dir);
    free(t);
    return rc;
}

/* Names in the test directory, sorted by nothing; returns how many. */
static inline int dir_entries(const struct tmp *t, char names[][256],
                              int cap)
{
    DIR *d = opendir(t->dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n < cap)
            snprintf(names[n], 256, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* ------------------------------------------------------- record maker */

static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Storage for one generated record. */
struct gen {
    unsigned char key[SNAPSHOT_KEY_MAX];
    unsigned char value[512];
    struct snapshot_record r;
};

/* Record i of a deterministic stream: binary keys of 1..max_key bytes,
 * values of 0..max_value bytes, every field random. */
static inline const struct snapshot_record *
gen_record(struct gen *g, uint64_t i, size_t max_key, size_t max_value)
{
    uint64_t s = (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
    memset(&g->r, 0, sizeof(g->r));
    g->r.nkey = 1 + rng_next(&s) % max_key;
    g->r.nvalue = rng_next(&s) % (max_value + 1);
    for (size_t k = 0; k < g->r.nkey; k++)
        g->key[k] = (unsigned char)rng_next(&s);
    for (size_t k = 0; k < g->r.nvalue; k++)
        g->value[k] = (unsigned char)rng_next(&s);
    g->r.key = g->key;
    g->r.value = g->value;
    g->r.flags = (uint32_t)rng_next(&s);
    g->r.expires = (int64_t)rng_next(&s);
    g->r.cas = rng_next(&s);
    g->r.bits = (uint32_t)rng_next(&s);
    g->r.atime = (int64_t)rng_next(&s);
    return &g->r;
}

static inline void assert_record_equal(const struct snapshot_record *a,
                                       const struct snapshot_record *b)
{
    assert_int_equal(a->nkey, b->nkey);
    assert_int_equal(a->nvalue, b->nvalue);
    assert_memory_equal(a->key, b->key, a->nkey);
    if (a->nvalue > 0)
        assert_memory_equal(a->value, b->value, a->nvalue);
    assert_int_equal(a->flags, b->flags);
    assert_true(a->expires == b->expires);
    assert_true(a->cas == b->cas);
    assert_int_equal(a->bits, b->bits);
    assert_true(a->atime == b->atime);
}

/* Writes records 0..n-1 of the stream, flushing after every `every`
 * (0 = only at commit), and commits. */
static inline void write_stream(const char *path, uint64_t n,
                                uint64_t every, struct snapshot_summary *sum)
{
    struct snapshot_writer *w;
    struct gen g;
    char err[256];
    assert_int_equal(snapshot_writer_open(&w, path, CREATED, err,
                                          sizeof(err)), 0);
    for (uint64_t i = 0; i < n; i++) {
        assert_int_equal(snapshot_writer_add(w, gen_record(&g, i, 40, 300)),
                         0);
        if (every != 0 && (i + 1) % every == 0)
            assert_int_equal(snapshot_writer_flush(w), 0);
    }
    assert_int_equal(snapshot_writer_commit(&w, sum, err, sizeof(err)), 0);
    assert_null(w);
}

/* Reads path and checks it holds exactly records 0..n-1 of the stream. */
static inline void check_stream(const char *path, uint64_t n)
{
    struct snapshot_reader *r;
    struct snapshot_record rec;
    struct snapshot_summary info;
    struct gen g;
    assert_int_equal(snapshot_reader_open(&r, path, NULL), SNAPSHOT_OK);
    snapshot_reader_info(r, &info);
    assert_int_equal(info.items, n);
    assert_true(info.created == CREATED);
    for (uint64_t i = 0; i < n; i++) {
        assert_true(snapshot_reader_next(r, &rec));
        assert_record_equal(&rec, gen_record(&g, i, 40, 300));
    }
    assert_false(snapshot_reader_next(r, &rec));
    assert_false(snapshot_reader_next(r, &rec));
    assert_int_equal(snapshot_reader_status(r, NULL), SNAPSHOT_OK);
    snapshot_reader_close(&r);
    assert_null(r);
}

/* ----------------------------------------------------- raw file access */

static inline unsigned char *slurp(const char *path, size_t *n)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    *n = (size_t)st.st_size;
    unsigned char *b = malloc(*n + 1);
    assert_non_null(b);
    assert_int_equal(read(fd, b, *n), (ssize_t)*n);
    close(fd);
    return b;
}

static inline void spill(const char *path, const unsigned char *b,
                         size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
}

/* The test's own little-endian accessors, written from the layout in
 * snapshot.h rather than shared with the code under test. */
static inline uint64_t rd(const unsigned char *p, int width)
{
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline void wr(unsigned char *p, int width, uint64_t v)
{
    for (int i = 0; i < width; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

struct layout {
    size_t nblocks;
    size_t off[16]; /* block header offsets */
    size_t len[16]; /* payload lengths */
};

static inline void parse_layout(const unsigned char *b, size_t n,
                                struct layout *l)
{
    size_t off = HDR;
    l->nblocks = (size_t)rd(b + 40, 8);
    assert_true(l->nblocks <= 16);
    for (size_t i = 0; i < l->nblocks; i++) {
        l->off[i] = off;
        l->len[i] = (size_t)rd(b + off + 8, 8);
        off += BHDR + l->len[i];
    }
    assert_int_equal(off, n);
}

/* Recomputes every checksum and the digest from the documented layout,
 * so a deliberately inconsistent file passes every checksum. */
static inline void reseal(unsigned char *b, size_t n)
{
    uint64_t digest = 0;
    size_t off = HDR;
    for (uint64_t i = 0; i < rd(b + 40, 8) && off + BHDR <= n; i++) {
        unsigned char *h = b + off;
        size_t len = (size_t)rd(h + 8, 8);
        wr(h + 16, 8, XXH3_64bits(h + BHDR, len));
        wr(h + 24, 8, XXH3_64bits(h, 24));
        digest = XXH3_64bits_withSeed(h, BHDR, digest);
        off += BHDR + len;
    }
    wr(b + 56, 8, digest);
    wr(b + 64, 8, XXH3_64bits(b, 64));
}

/* Reads all of path expecting fault f, found at open or, for the blocks
 * and the file-wide checks, by the end of the read; no reader is left
 * behind. */
static inline struct snapshot_error expect_fault(const char *path,
                                                 enum snapshot_fault f)
{
    struct snapshot_reader *r = (struct snapshot_reader *)&r;
    struct snapshot_record rec;
    struct snapshot_error err;
    enum snapshot_fault got = snapshot_reader_open(&r, path, &err);
    if (got == SNAPSHOT_OK) {
        while (snapshot_reader_next(r, &rec))
            ;
        got = snapshot_reader_status(r, &err);
        assert_false(snapshot_reader_next(r, &rec));
        snapshot_reader_close(&r);
    }
    if (got != f)
        fail_msg("expected %s, got %s: %s", snapshot_fault_name(f),
                 snapshot_fault_name(got), err.detail);
    assert_int_equal(err.fault, f);
    assert_null(r);
    assert_true(err.detail[0] != '\0');
    return err;
}

/* Reads all of path, which must be sound, counting the records. */
static inline uint64_t count_items(const char *path)
{
    struct snapshot_reader *r;
    struct snapshot_record rec;
    struct snapshot_summary info;
    uint64_t n = 0;
    assert_int_equal(snapshot_reader_open(&r, path, NULL), SNAPSHOT_OK);
    while (snapshot_reader_next(r, &rec))
        n++;
    assert_int_equal(snapshot_reader_status(r, NULL), SNAPSHOT_OK);
    snapshot_reader_info(r, &info);
    assert_int_equal(info.items, n);
    snapshot_reader_close(&r);
    return n;
}

/* A small file of three blocks (4, 1 and 5 records, keys 1..12 bytes,
 * values 0..20) for the byte-by-byte damage loops. */
static inline void write_small(const char *path)
{
    static const int per_block[] = {4, 1, 5};
    struct snapshot_writer *w;
    struct gen g;
    uint64_t i = 0;
    assert_int_equal(snapshot_writer_open(&w, path, CREATED, NULL, 0), 0);
    for (int b = 0; b < 3; b++) {
        for (int k = 0; k < per_block[b]; k++, i++)
            assert_int_equal(
                snapshot_writer_add(w, gen_record(&g, i, 12, 20)), 0);
        assert_int_equal(snapshot_writer_flush(w), 0);
    }
    assert_int_equal(snapshot_writer_commit(&w, NULL, NULL, 0), 0);
}

#endif
