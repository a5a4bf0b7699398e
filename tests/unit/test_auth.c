/*
 * tests/unit/test_auth.c - proto/auth.c against memcached 1.6.18 -Y as
 * observed on the wire (each row's reply was checked against the real
 * binary, one request per connection; the surprising ones say so).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/auth.h"
#include "tests/unit/proto_fixture.h"

struct acase {
    const char *name;
    const char *in;
    size_t inlen;
    enum auth_status st;
    size_t used;       /* bytes consumed; 0 = the whole input */
    const char *user;  /* AUTH_TOKEN only */
    const char *pass;
};

#define IN(s) .in = (s), .inlen = sizeof(s) - 1

static const struct acase cases[] = {
    {"token", IN("set x 0 0 12\r\nalice secret\r\n"), AUTH_TOKEN, 0,
     "alice", "secret"},
    /* key, flags and exptime are not looked at; words after the length
     * (noreply included) neither */
    {"token-any-fields", IN("set auth zz -5 12 noreply\r\nalice secret\r\n"),
     AUTH_TOKEN, 0, "alice", "secret"},
    {"token-many-words", IN("set x 0 0 12 a b c d e f g\r\nalice secret\r\n"),
     AUTH_TOKEN, 0, "alice", "secret"},
    {"token-leading-spaces", IN("  set x 0 0 12\r\nalice secret\r\n"),
     AUTH_TOKEN, 0, "alice", "secret"},
    {"token-lf-line", IN("set x 0 0 12\nalice secret\r\n"), AUTH_TOKEN, 0,
     "alice", "secret"},
    /* the block is split on spaces: extra spaces and words do not matter */
    {"token-two-spaces", IN("set x 0 0 13\r\nalice  secret\r\n"), AUTH_TOKEN,
     0, "alice", "secret"},
    {"token-leading-space", IN("set x 0 0 13\r\n alice secret\r\n"),
     AUTH_TOKEN, 0, "alice", "secret"},
    {"token-third-word", IN("set x 0 0 18\r\nalice secret extra\r\n"),
     AUTH_TOKEN, 0, "alice", "secret"},
    /* a length that counts the "\r\n": the password then ends in "\r\n"
     * and matches no entry (memcached: authentication failure) */
    {"token-size-with-crlf", IN("set x 0 0 14\r\nalice secret\r\n\r\n"),
     AUTH_TOKEN, 0, "alice", "secret\r\n"},
    {"token-then-next", IN("set x 0 0 12\r\nalice secret\r\nget k\r\n"),
     AUTH_TOKEN, 28, "alice", "secret"},

    {"get", IN("get foo\r\n"), AUTH_UNAUTHENTICATED, 0, NULL, NULL},
    {"empty-line", IN("\r\n"), AUTH_UNAUTHENTICATED, 0, NULL, NULL},
    {"only-set", IN("set\r\n"), AUTH_UNAUTHENTICATED, 0, NULL, NULL},
    {"set-four-words", IN("set x 0 0\r\n"), AUTH_UNAUTHENTICATED, 0, NULL,
     NULL},
    {"set-negative", IN("set x 0 0 -1\r\n"), AUTH_UNAUTHENTICATED, 0, NULL,
     NULL},
    {"set-hex", IN("set x 0 0 0x1\r\n"), AUTH_UNAUTHENTICATED, 0, NULL, NULL},
    {"set-too-big", IN("set x 0 0 4294967295\r\n"), AUTH_UNAUTHENTICATED, 0,
     NULL, NULL},
    {"set-upper", IN("SET x 0 0 12\r\n"), AUTH_UNAUTHENTICATED, 0, NULL,
     NULL},
    {"add", IN("add x 0 0 12\r\nalice secret\r\n"), AUTH_UNAUTHENTICATED, 14,
     NULL, NULL},
    {"cas", IN("cas x 0 0 12 1\r\n"), AUTH_UNAUTHENTICATED, 0, NULL, NULL},
    {"meta", IN("ms x 2\r\n"), AUTH_UNAUTHENTICATED, 0, NULL, NULL},
    {"quit", IN("quit\r\n"), AUTH_UNAUTHENTICATED, 0, NULL, NULL},
    {"first-of-two", IN("get a\r\nget b\r\n"), AUTH_UNAUTHENTICATED, 7, NULL,
     NULL},

    {"bad-term", IN("set x 0 0 12\r\nalice secretXX"), AUTH_BAD_TERMINATION,
     0, NULL, NULL},
    {"one-word", IN("set x 0 0 5\r\nalice\r\n"), AUTH_BAD_FORMAT, 0, NULL,
     NULL},
    {"word-and-space", IN("set x 0 0 6\r\nalice \r\n"), AUTH_BAD_FORMAT, 0,
     NULL, NULL},
    {"empty-block", IN("set x 0 0 0\r\n\r\n"), AUTH_BAD_FORMAT, 0, NULL,
     NULL},
    /* only spaces separate the words */
    {"tab", IN("set x 0 0 12\r\nalice\tsecret\r\n"), AUTH_BAD_FORMAT, 0, NULL,
     NULL},
    {"colon", IN("set x 0 0 12\r\nalice:secret\r\n"), AUTH_BAD_FORMAT, 0,
     NULL, NULL},
    /* a NUL ends the block, as in memcached's C string */
    {"nul", IN("set x 0 0 12\r\nalice\0secret\r\n"), AUTH_BAD_FORMAT, 0,
     NULL, NULL},
};

static void run_case(void **state)
{
    const struct acase *tc = *state;
    char *buf = proto_copy(tc->in, tc->inlen);
    struct auth_token tok = {0};
    size_t used = 99;

    assert_int_equal(auth_parse(buf, tc->inlen, &tok, &used), tc->st);
    assert_int_equal(used, tc->used ? tc->used : tc->inlen);
    assert_memory_equal(buf, tc->in, tc->inlen);
    if (tc->st == AUTH_TOKEN) {
        proto_assert_span(tok.user, tok.nuser, tc->user);
        proto_assert_span(tok.pass, tok.npass, tc->pass);
    }
    free(buf);
}

/* Every proper prefix of a whole request waits for more. */
static void test_prefixes_need_more(void **state)
{
    static const char in[] = "set x 0 0 12\r\nalice secret\r\n";
    (void)state;
    for (size_t cut = 0; cut < sizeof(in) - 1; cut++) {
        char *buf = proto_copy(in, cut);
        struct auth_token tok;
        size_t used = 99;
        assert_int_equal(auth_parse(buf, cut, &tok, &used), AUTH_NEED_MORE);
        assert_int_equal(used, 0);
        free(buf);
    }
}

/* Junk with no line end: wait up to AUTH_LINE_MAX bytes, then hang up. */
static void test_long_line_closes(void **state)
{
    char *buf = malloc(AUTH_LINE_MAX + 1);
    struct auth_token tok;
    size_t used = 99;
    (void)state;
    assert_non_null(buf);
    memset(buf, 'x', AUTH_LINE_MAX + 1);
    assert_int_equal(auth_parse(buf, AUTH_LINE_MAX, &tok, &used),
                     AUTH_NEED_MORE);
    assert_int_equal(auth_parse(buf, AUTH_LINE_MAX + 1, &tok, &used),
                     AUTH_CLOSE);
    assert_int_equal(used, 0);
    free(buf);
}

/* A block of AUTH_DATA_MAX bytes is read; one byte more hangs up at once
 * (memcached: 16382 answered, 16383 reset), as does a length near 2^31,
 * which crashes memcached 1.6.18. */
static void test_block_limit(void **state)
{
    char line[64];
    struct auth_token tok;
    size_t used;
    (void)state;

    snprintf(line, sizeof(line), "set x 0 0 %d\r\n", AUTH_DATA_MAX);
    assert_int_equal(auth_parse(line, strlen(line), &tok, &used),
                     AUTH_NEED_MORE);
    snprintf(line, sizeof(line), "set x 0 0 %d\r\n", AUTH_DATA_MAX + 1);
    assert_int_equal(auth_parse(line, strlen(line), &tok, &used), AUTH_CLOSE);
    snprintf(line, sizeof(line), "set x 0 0 2147483647\r\n");
    assert_int_equal(auth_parse(line, strlen(line), &tok, &used), AUTH_CLOSE);
}

static void test_error_lines(void **state)
{
    (void)state;
    assert_string_equal(auth_error_line(AUTH_UNAUTHENTICATED),
                        "CLIENT_ERROR unauthenticated\r\n");
    assert_string_equal(auth_error_line(AUTH_BAD_TERMINATION),
                        "CLIENT_ERROR bad command line termination\r\n");
    assert_string_equal(auth_error_line(AUTH_BAD_FORMAT),
                        "CLIENT_ERROR bad authentication token format\r\n");
}

static const struct CMUnitTest others[] = {
    cmocka_unit_test(test_prefixes_need_more),
    cmocka_unit_test(test_long_line_closes),
    cmocka_unit_test(test_block_limit),
    cmocka_unit_test(test_error_lines),
};

int main(void)
{
    return proto_run_table("auth", cases, sizeof(cases) / sizeof(cases[0]),
                           sizeof(cases[0]), run_case, others,
                           sizeof(others) / sizeof(others[0]));
}
