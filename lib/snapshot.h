/*
 * lib/snapshot.h - the warm-restart snapshot file: writer and verifying
 * reader. Pure file format: no cache, no locks, no clock, no logging.
 *
 * File layout, version 1. Every integer is little-endian, fixed width;
 * checksums are XXH3-64 (seed 0 unless stated).
 *
 *   FILE HEADER (72 bytes, at offset 0)
 *   off len field
 *     0   8 magic "ZEEKSNAP"
 *     8   4 format version (1)
 *    12   4 header size (72): where the first block starts
 *    16   4 state: 0 = being written, 1 = complete
 *    20   4 reserved, 0
 *    24   8 creation time, signed unix seconds
 *    32   8 item count (records in all blocks)
 *    40   8 block count
 *    48   8 record bytes (sum of all block payload lengths)
 *    56   8 file digest: d = 0; for each block in file order,
 *           d = XXH3_64bits_withSeed(its 32 header bytes, 32, d)
 *    64   8 header checksum: XXH3-64 of bytes 0..63
 *
 *   then `block count` BLOCKS, back to back:
 *   off len field
 *     0   4 block magic "ZKBK"
 *     4   4 record count (>= 1)
 *     8   8 payload length in bytes
 *    16   8 payload checksum: XXH3-64 of the payload
 *    24   8 block header checksum: XXH3-64 of bytes 0..23
 *    32   . payload: `record count` RECORDS, back to back, exactly
 *           `payload length` bytes
 *
 *   RECORD (40 bytes + key + value, no padding)
 *   off len field
 *     0   4 nvalue: value length (without the trailing "\r\n")
 *     4   2 nkey: key length, 1..250
 *     6   2 reserved, 0
 *     8   4 client flags
 *    12   4 bits: engine per-item flags, opaque here
 *    16   8 expires: signed absolute unix seconds, 0 = never
 *    24   8 atime: signed unix seconds of the last access
 *    32   8 cas
 *    40   . key (nkey bytes, any bytes), then value (nvalue bytes)
 *
 * The file ends right after the last block. Why it is safe:
 * - Each block checksum covers its payload and each block header checksum
 *   its header; the file digest chains every block header (so every
 *   payload checksum) in order, and the header checksum covers the
 *   digest and the counts. Together they bind every byte of the file, and
 *   a block dropped, duplicated or moved changes the digest, while
 *   verifying needs one pass over the data (the digest hashes 32 bytes a
 *   block).
 * - The writer puts a header with state 0 first and rewrites it (state 1,
 *   counts, digest) only at commit, before fsync and rename, so the file
 *   of a writer that died is refused as truncated, never loaded short.
 * - It writes to "<path>.tmp.<pid>" in the same directory, fsyncs it,
 *   renames it over <path> and fsyncs the directory: a crash at any point
 *   leaves the previous file at <path> whole.
 *
 * Threads: a writer or reader handle is used by one thread at a time.
 * Two writers for the same path in one process must not be open at once
 * (they would share the temporary name).
 */
#ifndef ZK_LIB_SNAPSHOT_H
#define ZK_LIB_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HEADER_SIZE 72
#define SNAPSHOT_BLOCK_HEADER_SIZE 32
#define SNAPSHOT_RECORD_HEADER_SIZE 40
#define SNAPSHOT_KEY_MAX 250

/* One item. Written: the caller's pointers, copied by add(). Read:
 * key and value point into the reader's block buffer (see next()). */
struct snapshot_record {
    const void *key;
    size_t nkey;      /* 1..SNAPSHOT_KEY_MAX, any bytes */
    const void *value;
    size_t nvalue;    /* without the trailing "\r\n"; < 2^32 */
    uint32_t flags;   /* client flags */
    int64_t expires;  /* absolute unix time, 0 = never */
    uint64_t cas;
    uint32_t bits;    /* engine per-item flags, kept as they are */
    int64_t atime;    /* unix time of the last access */
};

/* What a committed file holds (commit) or what a file's header says it
 * holds (reader_info). */
struct snapshot_summary {
    int64_t created;
    uint64_t items;
    uint64_t blocks;
    uint64_t record_bytes; /* record headers + keys + values */
    uint64_t item_bytes;   /* keys + values alone */
    uint64_t file_bytes;
};

/* ------------------------------------------------------------- writer */

struct snapshot_writer;

/* Creates (truncating a stale one) "<path>.tmp.<pid>", mode 0600 before
 * umask, and writes a header that says "being written". 0, or -1 with
 * errno set and a one-line reason in err. */
int snapshot_writer_open(struct snapshot_writer **out, const char *path,
                         time_t created, char *err, size_t errlen);

/* Appends one record to the in-memory block: no I/O, so it may be called
 * under a cache lock. 0, or -1 with errno: ENOMEM; EINVAL for a key
 * outside 1..250 bytes or a value of 2^32 bytes or more (nothing added);
 * or the errno of an earlier failed flush (the writer is dead: abort it). */
int snapshot_writer_add(struct snapshot_writer *w,
                        const struct snapshot_record *r);

/* Record bytes waiting for the next flush, so the caller can flush when
 * it holds a lot. */
size_t snapshot_writer_buffered(const struct snapshot_writer *w);

/* Writes what add() buffered as one block in one write() loop (EINTR and
 * short writes handled); nothing when nothing is buffered. Call with no
 * lock held. 0, or -1 with errno; after a failure every later call fails
 * and only abort is left. */
int snapshot_writer_flush(struct snapshot_writer *w);

/* Flushes, rewrites the header as complete, fsyncs the file, renames it
 * over path and fsyncs the directory. Always consumes the writer (*w is
 * NULL afterwards). 0 with *out filled (out may be NULL), or -1 with errno
 * and a one-line reason in err: then the temporary file is gone and the
 * old file at path is untouched, unless the failure was the directory
 * fsync after the rename (err says so): the new file is in place but may
 * not survive a power loss. */
int snapshot_writer_commit(struct snapshot_writer **w,
                           struct snapshot_summary *out,
                           char *err, size_t errlen);

/* Closes and unlinks the temporary file and frees the writer; the file at
 * path is untouched. Tolerates NULL; *w is NULL afterwards. */
void snapshot_writer_abort(struct snapshot_writer **w);

/* ------------------------------------------------------------- reader */

enum snapshot_fault {
    SNAPSHOT_OK,
    SNAPSHOT_MISSING,       /* no file at path */
    SNAPSHOT_IO,            /* open, stat or read failed; not a file */
    SNAPSHOT_BAD_MAGIC,     /* file or block magic wrong */
    SNAPSHOT_BAD_VERSION,   /* a format version this build cannot read */
    SNAPSHOT_TRUNCATED,     /* ends early, or its writer never finished */
    SNAPSHOT_BAD_CHECKSUM,  /* header, block header, payload or digest */
    SNAPSHOT_BAD_RECORD,    /* checksums fine but framing or counts wrong */
};

/* Why a file was refused, for one log line:
 * "<path>: <fault name> at offset <offset> (block <block>): <detail>". */
struct snapshot_error {
    enum snapshot_fault fault;
    uint64_t offset;   /* byte offset where the problem was found */
    int64_t block;     /* 0-based block index, -1 for the file header */
    int sys_errno;     /* for SNAPSHOT_MISSING and SNAPSHOT_IO, else 0 */
    char detail[160];  /* one sentence, no newline */
};

struct snapshot_reader;

/* Opens the file and checks its header (magic, version, checksum, a
 * finished writer). The blocks are checked as they are read: every block
 * header and payload checksum and every record's framing before its
 * records are handed out, then, once the last block has been taken, the
 * block count, the counts, the digest and that nothing follows. So the
 * records handed out are always what was written, but a damaged file is
 * only known to be whole at its end: a caller that loads records must
 * drop them unless snapshot_reader_status() is SNAPSHOT_OK after the
 * last. On a result other than SNAPSHOT_OK *out is NULL and err (may be
 * NULL) says what and where. */
enum snapshot_fault snapshot_reader_open(struct snapshot_reader **out,
                                         const char *path,
                                         struct snapshot_error *err);

/* The next record in file order, pointing into the reader's block buffer
 * (valid until the reader moves on to the next block); false after the
 * last, or at a fault (snapshot_reader_status() says). */
bool snapshot_reader_next(struct snapshot_reader *r,
                          struct snapshot_record *out);

/* Parallel loading: threads take whole blocks, then walk their records.
 * next_block() is safe to call from several threads at once (the only
 * reader call that is). It reads the block into out's buffer and checks
 * it; the records stay valid until the next call with the same out.
 * Start each thread's block zeroed and release it with
 * snapshot_block_free(). false after the last block, or once any thread
 * has met a fault. Do not mix with snapshot_reader_next(). */
struct snapshot_block {
    unsigned char *buf;
    size_t cap;
    const unsigned char *pos, *end;
};
bool snapshot_reader_next_block(struct snapshot_reader *r,
                                struct snapshot_block *out);
bool snapshot_block_next(struct snapshot_block *b,
                         struct snapshot_record *out);
/* Start fetching the next `bytes` of b's records into the CPU's cache:
 * a block is usually filled on another core (snapshot_ahead). */
void snapshot_block_prefetch(const struct snapshot_block *b, size_t bytes);
void snapshot_block_free(struct snapshot_block *b);

/* SNAPSHOT_OK, or the first fault met while reading, with err (may be
 * NULL) filled. Only final once next() or next_block() has returned
 * false: the file-wide checks run then. */
enum snapshot_fault snapshot_reader_status(struct snapshot_reader *r,
                                           struct snapshot_error *err);

/* What the file header claims (capped at what a file of its size could
 * hold); the blocks confirm it by the end. */
void snapshot_reader_info(const struct snapshot_reader *r,
                          struct snapshot_summary *out);

/* Closes and frees. Tolerates NULL; *r is NULL afterwards. */
void snapshot_reader_close(struct snapshot_reader **r);

/* "ok", "missing", "io", "bad_magic", "bad_version", "truncated",
 * "bad_checksum", "bad_record"; "unknown" otherwise. */
const char *snapshot_fault_name(enum snapshot_fault f);

/* Moves a refused file aside to "<path>.bad-<now>" (then "-2", "-3", ...
 * if taken), never replacing an existing file, so it is kept for a human
 * and not overwritten by the next snapshot. 0 with the new name in
 * newpath, or -1 with errno (ENOENT if there is no file). */
int snapshot_quarantine(const char *path, time_t now, char *newpath,
                        size_t cap);

#endif
