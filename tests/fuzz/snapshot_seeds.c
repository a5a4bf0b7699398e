/*
 * tests/fuzz/snapshot_seeds.c - writes the seed files of
 * tests/fuzz/corpus/fuzz_snapshot/ with the project's own snapshot writer,
 * so the fuzzer starts from valid structure: an empty file, one record,
 * three blocks with edge-sized keys and values, and two files the reader
 * must refuse (cut short; a writer that never committed).
 *
 * Not built by default. To regenerate (the output is deterministic):
 *   make tests/fuzz/snapshot_seeds
 *   tests/fuzz/snapshot_seeds $(srcdir)/tests/fuzz/corpus/fuzz_snapshot
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/snapshot.h"

#define CREATED ((time_t)1700000000)

static void die(const char *what)
{
    fprintf(stderr, "snapshot_seeds: %s failed\n", what);
    exit(1);
}

static void path_of(char *dst, size_t cap, const char *dir,
                    const char *name)
{
    if ((size_t)snprintf(dst, cap, "%s/%s", dir, name) >= cap)
        die("path");
}

static void add(struct snapshot_writer *w, const char *key, size_t nkey,
                const char *value, size_t nvalue, uint64_t cas)
{
    struct snapshot_record r = {
        .key = key, .nkey = nkey, .value = value, .nvalue = nvalue,
        .flags = (uint32_t)cas * 7, .expires = cas & 1 ? 0 : CREATED + 60,
        .cas = cas, .bits = (uint32_t)cas & 3, .atime = CREATED - 5,
    };
    if (snapshot_writer_add(w, &r) != 0)
        die("add");
}

static struct snapshot_writer *open_seed(const char *dir, const char *name)
{
    struct snapshot_writer *w;
    char path[4096];

    path_of(path, sizeof(path), dir, name);
    if (snapshot_writer_open(&w, path, CREATED, NULL, 0) != 0)
        die("open");
    return w;
}

static void commit(struct snapshot_writer *w)
{
    if (snapshot_writer_commit(&w, NULL, NULL, 0) != 0)
        die("commit");
}

/* Blocks of 2, 1 and 3 records: 1- and 250-byte keys, an empty value,
 * binary bytes and "\r\n" inside values. */
static void three_blocks(struct snapshot_writer *w)
{
    char key[SNAPSHOT_KEY_MAX], value[64];

    memset(key, 'k', sizeof(key));
    for (size_t i = 0; i < sizeof(value); i++)
        value[i] = (char)(i * 37);
    add(w, "a", 1, "", 0, 1);
    add(w, key, sizeof(key), value, sizeof(value), 2);
    if (snapshot_writer_flush(w) != 0)
        die("flush");
    add(w, "\0\xff\r\n", 4, "x\r\ny", 4, UINT64_MAX);
    if (snapshot_writer_flush(w) != 0)
        die("flush");
    add(w, "b", 1, "1", 1, 3);
    add(w, "c", 1, "22", 2, 4);
    add(w, "d", 1, "333", 3, 5);
}

/* Copies the first n bytes (all when n is 0) of one seed to another. */
static void copy_seed(const char *dir, const char *from, const char *to,
                      off_t n)
{
    char a[4096], b[4096], buf[65536];
    ssize_t got;
    int in, out;

    path_of(a, sizeof(a), dir, from);
    path_of(b, sizeof(b), dir, to);
    in = open(a, O_RDONLY);
    out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0)
        die("copy");
    got = read(in, buf, sizeof(buf));
    if (got < 0 || (n > 0 && got < n))
        die("read");
    if (n > 0)
        got = n;
    if (write(out, buf, (size_t)got) != got)
        die("write");
    close(in);
    close(out);
}

/* What a writer leaves before commit: the header still says "being
 * written". Its temporary file is copied, then the writer aborted. */
static void unfinished(const char *dir)
{
    struct snapshot_writer *w = open_seed(dir, "unfinished");
    char tmp[64];

    add(w, "k", 1, "v", 1, 1);
    if (snapshot_writer_flush(w) != 0)
        die("flush");
    snprintf(tmp, sizeof(tmp), "unfinished.tmp.%ld", (long)getpid());
    copy_seed(dir, tmp, "unfinished", 0);
    snapshot_writer_abort(&w);
}

int main(int argc, char **argv)
{
    struct snapshot_writer *w;
    const char *dir = argv[1];

    if (argc != 2) {
        fprintf(stderr, "usage: snapshot_seeds DIR\n");
        return 2;
    }
    commit(open_seed(dir, "empty"));
    w = open_seed(dir, "one");
    add(w, "k", 1, "v", 1, 1);
    commit(w);
    w = open_seed(dir, "three-blocks");
    three_blocks(w);
    commit(w);
    copy_seed(dir, "three-blocks", "truncated", 200);
    unfinished(dir);
    return 0;
}
