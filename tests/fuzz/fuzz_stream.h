/*
 * tests/fuzz/fuzz_stream.h - the daemon's read loop (daemon/conn.c) over
 * one request parser, shared by the text and meta fuzz targets.
 *
 * The loop parses one request at a time and moves past what each call
 * consumed; after a storage command it reads the data block and checks
 * its "\r\n" with text_data_block_ok() once all of it is in, after a
 * client error it skips the bytes the error swallows, and it stops when
 * the parser needs more bytes or hangs up. Every step is recorded as an
 * event whose pointers are offsets into the stream, so two runs record
 * the same events exactly when the parser saw and answered the same.
 *
 * Checked here for every parser: the same bytes parse the same way twice;
 * "need more" only while no '\n' is buffered; a consumed line is exactly
 * the bytes up to and including the first '\n' (so more than zero and no
 * more than were there); and the input fed in two reads, split at a point
 * chosen by its first byte, gives the same events as fed whole. The only
 * allowed difference is memcached's: a first read holding more than
 * line_max bytes of an unfinished line may be hung up on.
 */
#ifndef ZK_TESTS_FUZZ_FUZZ_STREAM_H
#define ZK_TESTS_FUZZ_FUZZ_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* v[0] and v[1] are the loop's (the kind of event, the bytes consumed);
 * a parser uses v[2..]. */
#define FUZZ_EVENT_FIELDS 32

struct fuzz_event {
    uint64_t v[FUZZ_EVENT_FIELDS];
};

enum fuzz_outcome {
    FUZZ_LINE,      /* a line was consumed: a request or an error reply */
    FUZZ_NEED_MORE, /* no complete line yet */
    FUZZ_CLOSE,     /* the daemon hangs up */
};

/* What one parser call did. */
struct fuzz_step {
    enum fuzz_outcome outcome;
    size_t consumed; /* FUZZ_LINE: the line's bytes, '\n' included */
    size_t value;    /* a data block of this many bytes follows ("\r\n"
                        included), read and then checked */
    size_t swallow;  /* this many bytes follow, discarded unread */
    struct fuzz_event ev;
};

/* Parses the request at stream[at..len), checks what the parser promises
 * about it and fills step, which comes zeroed. Pointers go into step->ev
 * as fuzz_offset(p, stream). */
typedef void (*fuzz_parse_fn)(const char *stream, size_t at, size_t len,
                              struct fuzz_step *step);

/* Runs the loop over data whole, then split in two reads, and checks the
 * invariants above. line_max is the parser's longest unfinished line. */
void fuzz_stream_run(fuzz_parse_fn parse, size_t line_max,
                     const uint8_t *data, size_t size);

#endif
