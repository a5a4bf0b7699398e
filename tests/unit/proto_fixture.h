/*
 * tests/unit/proto_fixture.h - what the wire-protocol parser tests
 * (test_text.c, test_meta.c) share: exact-size heap copies of the input,
 * so AddressSanitizer catches any read past len; span checks; the
 * split-at-every-byte and trailing-bytes checks; and a main() body that
 * runs one cmocka test per table row plus the other tests.
 *
 * The parser under test is reached through a proto_parse_fn that returns
 * its status as an int and fills a request the caller owns. Every helper
 * is static inline, so a file need not use them all. Include after
 * <cmocka.h>'s prerequisites, like the tests do.
 */
#ifndef ZK_TESTS_UNIT_PROTO_FIXTURE_H
#define ZK_TESTS_UNIT_PROTO_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* text_parse()/meta_parse() behind one signature; req is the parser's
 * request struct. */
typedef int (*proto_parse_fn)(const char *buf, size_t len, void *req,
                              size_t *consumed);

/* Bytes appended after a whole request by proto_assert_tail(). */
#define PROTO_TAIL "garbage\r\nmore"

/* An exact-size heap copy of src (one byte for an empty input, which
 * still may not be read); the caller frees it. */
static inline char *proto_copy(const char *src, size_t n)
{
    char *buf = malloc(n ? n : 1);

    assert_non_null(buf);
    memcpy(buf, src, n);
    return buf;
}

/* got/ngot is the span want: NULL means absent (NULL, 0). */
static inline void proto_assert_span(const char *got, size_t ngot,
                                     const char *want)
{
    if (want == NULL) {
        assert_null(got);
        assert_int_equal(ngot, 0);
        return;
    }
    assert_non_null(got);
    assert_int_equal(ngot, strlen(want));
    assert_memory_equal(got, want, ngot);
}

/* Every proper prefix of in is need_more and consumes nothing; the whole
 * of it parses to want and consumes all of it. req keeps the whole
 * parse for the caller's own checks. */
static inline void proto_assert_split(const char *in, size_t inlen, int want,
                                      int need_more, proto_parse_fn parse,
                                      void *req)
{
    size_t cut, consumed;
    char *buf;

    for (cut = 0; cut < inlen; cut++) {
        buf = proto_copy(in, cut);
        consumed = 99;
        assert_int_equal(parse(buf, cut, req, &consumed), need_more);
        assert_int_equal(consumed, 0);
        free(buf);
    }
    buf = proto_copy(in, inlen);
    assert_int_equal(parse(buf, inlen, req, &consumed), want);
    assert_int_equal(consumed, inlen);
    free(buf);
}

/* in followed by PROTO_TAIL parses (into with) like in alone (into
 * without): same status want, same bytes consumed. Both parses see one
 * buffer, so the caller may compare pointers in the two requests. */
static inline void proto_assert_tail(const char *in, size_t inlen, int want,
                                     proto_parse_fn parse, void *with,
                                     void *without)
{
    size_t n = inlen + sizeof(PROTO_TAIL) - 1, ca, cb;
    char *buf = malloc(n);

    assert_non_null(buf);
    memcpy(buf, in, inlen);
    memcpy(buf + inlen, PROTO_TAIL, sizeof(PROTO_TAIL) - 1);
    assert_int_equal(parse(buf, n, with, &ca), want);
    assert_int_equal(parse(buf, inlen, without, &cb), want);
    assert_int_equal(ca, cb);
    free(buf);
}

/* Runs group: one test per table row (nrows rows of row_size bytes, each
 * starting with its `const char *name`, passed to run as its state),
 * then the nothers other tests. Returns cmocka's failure count. */
static inline int proto_run_table(const char *group, const void *rows,
                                  size_t nrows, size_t row_size,
                                  CMUnitTestFunction run,
                                  const struct CMUnitTest *others,
                                  size_t nothers)
{
    size_t n = nrows + nothers, i;
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    int failed;

    if (tests == NULL)
        return 1;
    for (i = 0; i < nrows; i++) {
        const char *row = (const char *)rows + i * row_size;
        memcpy(&tests[i].name, row, sizeof(tests[i].name));
        tests[i].test_func = run;
        tests[i].initial_state = (void *)row;
    }
    for (i = 0; i < nothers; i++)
        tests[nrows + i] = others[i];
    failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    free(tests);
    return failed;
}

#endif
