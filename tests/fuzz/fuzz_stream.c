/*
 * tests/fuzz/fuzz_stream.c - see fuzz_stream.h.
 */
#include "tests/fuzz/fuzz_stream.h"

#include <stdbool.h>
#include <string.h>

#include "proto/text.h"
#include "tests/fuzz/fuzz.h"

/* Kinds of event, in v[0]. */
enum { EV_LINE = 1, EV_CLOSE, EV_BLOCK };

struct stream {
    fuzz_parse_fn parse;
    size_t pos;         /* next byte to parse, or of the data block */
    size_t block_start; /* the data block being read */
    size_t block_left;  /* its bytes still to come */
    bool block_check;   /* a value: check its end once it is in */
    bool closed;
    struct fuzz_event *ev;
    size_t nev, cap;
    size_t max; /* events the input can make */
};

/* Every event but a data block's consumes at least one byte, and a block
 * follows a line: 2 * size + 2 events at most. */
static void stream_init(struct stream *s, fuzz_parse_fn parse, size_t size)
{
    memset(s, 0, sizeof(*s));
    s->parse = parse;
    s->max = 2 * size + 2;
}

/* The event log grows by doubling: most inputs make a few events, and a
 * log sized for the worst case made every run allocate megabytes. */
static struct fuzz_event *push(struct stream *s, int kind)
{
    struct fuzz_event *e;

    FUZZ_CHECK(s->nev < s->max);
    if (s->nev == s->cap) {
        s->cap = s->cap == 0 ? 16 : 2 * s->cap;
        s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
        FUZZ_CHECK(s->ev != NULL);
    }
    e = &s->ev[s->nev++];
    memset(e, 0, sizeof(*e));
    e->v[0] = (uint64_t)kind;
    return e;
}

/* Takes what has come of the data block; false while more must come. */
static bool take_block(struct stream *s, const char *buf, size_t len)
{
    size_t have = len - s->pos;
    struct fuzz_event *e;

    if (have < s->block_left) {
        s->block_left -= have;
        s->pos = len;
        return false;
    }
    s->pos += s->block_left;
    s->block_left = 0;
    if (!s->block_check)
        return true;
    e = push(s, EV_BLOCK);
    e->v[1] = s->block_start;
    e->v[2] = text_data_block_ok(buf + s->block_start,
                                 s->pos - s->block_start);
    return true;
}

static bool same_step(const struct fuzz_step *a, const struct fuzz_step *b)
{
    return a->outcome == b->outcome && a->consumed == b->consumed &&
           a->value == b->value && a->swallow == b->swallow &&
           memcmp(a->ev.v, b->ev.v, sizeof(a->ev.v)) == 0;
}

/* One request at pos; false when the loop must wait or has hung up. */
static bool parse_once(struct stream *s, const char *buf, size_t len)
{
    const char *at = buf + s->pos;
    const char *nl = memchr(at, '\n', len - s->pos);
    struct fuzz_step a, b;
    struct fuzz_event *e;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    s->parse(buf, s->pos, len, &a);
    s->parse(buf, s->pos, len, &b);
    FUZZ_CHECK(same_step(&a, &b));
    if (a.outcome == FUZZ_NEED_MORE) {
        FUZZ_CHECK(nl == NULL);
        return false;
    }
    e = push(s, a.outcome == FUZZ_CLOSE ? EV_CLOSE : EV_LINE);
    memcpy(&e->v[2], &a.ev.v[2], sizeof(e->v) - 2 * sizeof(e->v[0]));
    e->v[1] = a.consumed;
    if (a.outcome == FUZZ_CLOSE) {
        s->closed = true;
        return false;
    }
    FUZZ_CHECK(a.outcome == FUZZ_LINE);
    FUZZ_CHECK(a.consumed > 0 && a.consumed <= len - s->pos);
    FUZZ_CHECK(nl != NULL && a.consumed == (size_t)(nl - at) + 1);
    FUZZ_CHECK(a.value == 0 || a.swallow == 0);
    s->pos += a.consumed;
    s->block_start = s->pos;
    s->block_left = a.value + a.swallow;
    s->block_check = a.value > 0;
    return true;
}

/* The loop over the bytes buffered so far, buf[0..len), from where it
 * stopped last time. Each turn returns, moves pos by at least one byte
 * or finishes a data block, so 2 * len + 2 turns are enough. */
static void feed(struct stream *s, const char *buf, size_t len)
{
    for (size_t turn = 0; turn <= 2 * len + 2; turn++) {
        if (s->closed)
            return;
        if (s->block_left > 0) {
            if (!take_block(s, buf, len))
                return;
            continue;
        }
        if (s->pos == len || !parse_once(s, buf, len))
            return;
    }
    fuzz_fail("the read loop did not finish", __FILE__, __LINE__);
}

/* The first of the first n events where a and b differ, or n. */
static size_t first_difference(const struct stream *a,
                               const struct stream *b, size_t n)
{
    size_t i = 0;

    while (i < n && memcmp(&a->ev[i], &b->ev[i], sizeof(a->ev[i])) == 0)
        i++;
    return i;
}

static void expect_same_events(const struct stream *a,
                               const struct stream *b, size_t n)
{
    size_t i = first_difference(a, b, n);

    if (i < n) {
        fprintf(stderr, "event %zu of %zu differs\n", i, n);
        fuzz_fail("same events whole and split", __FILE__, __LINE__);
    }
}

/* The split run hung up after its first read: fine only on an unfinished
 * line longer than line_max, and only after the same events as whole. */
static void check_early_close(const struct stream *whole,
                              const struct stream *split, size_t line_max,
                              const uint8_t *data, size_t cut)
{
    size_t n = split->nev, pending = cut - split->pos;

    if (n == whole->nev && first_difference(whole, split, n) == n)
        return;
    FUZZ_CHECK(n >= 1 && n - 1 <= whole->nev);
    expect_same_events(whole, split, n - 1);
    FUZZ_CHECK(split->block_left == 0);
    FUZZ_CHECK(memchr(data + split->pos, '\n', pending) == NULL);
    FUZZ_CHECK(pending > line_max);
}

void fuzz_stream_run(fuzz_parse_fn parse, size_t line_max,
                     const uint8_t *data, size_t size)
{
    struct stream whole, split;
    size_t cut;
    char *head;

    if (size == 0)
        return;
    cut = (size_t)data[0] * (size + 1) / 256;
    stream_init(&whole, parse, size);
    feed(&whole, (const char *)data, size);

    /* The first read from an exact-size copy, so that AddressSanitizer
     * catches a read past what has come. */
    stream_init(&split, parse, size);
    head = malloc(cut > 0 ? cut : 1);
    FUZZ_CHECK(head != NULL);
    memcpy(head, data, cut);
    feed(&split, head, cut);
    free(head);
    if (split.closed) {
        check_early_close(&whole, &split, line_max, data, cut);
    } else {
        feed(&split, (const char *)data, size);
        FUZZ_CHECK(split.nev == whole.nev);
        expect_same_events(&whole, &split, whole.nev);
        FUZZ_CHECK(split.pos == whole.pos);
        FUZZ_CHECK(split.block_left == whole.block_left);
    }
    free(whole.ev);
    free(split.ev);
}
