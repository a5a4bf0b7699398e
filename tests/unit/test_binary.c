/*
 * tests/unit/test_binary.c - proto/binary.c: the request parser and the
 * response header, against memcached 1.6.18's rules (proto/binary.h).
 *
 * Inputs are exact-size heap copies, so AddressSanitizer catches a read
 * past len; every whole request is also parsed at every shorter length,
 * which must ask for more.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/binary.h"

struct packet {
    char bytes[BIN_HEADER_LEN + 300];
    size_t len;
};

/* A request; bodylen < 0 means "what the parts add up to". */
static struct packet make(uint8_t magic, uint8_t op, const char *extras,
                          uint8_t extlen, const char *key, uint16_t keylen,
                          uint32_t vlen, long bodylen, uint64_t cas)
{
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.bytes[0] = (char)magic;
    p.bytes[1] = (char)op;
    p.bytes[2] = (char)(keylen >> 8);
    p.bytes[3] = (char)keylen;
    p.bytes[4] = (char)extlen;
    bin_put32(p.bytes + 8, bodylen < 0 ? (uint32_t)extlen + keylen + vlen
                                      : (uint32_t)bodylen);
    memcpy(p.bytes + 12, "\x01\x02\x03\x04", 4);
    bin_put64(p.bytes + 16, cas);
    memcpy(p.bytes + BIN_HEADER_LEN, extras, extlen);
    memcpy(p.bytes + BIN_HEADER_LEN + extlen, key, keylen);
    p.len = BIN_HEADER_LEN + extlen + (size_t)keylen;
    return p;
}

/* Parse an exact-size copy of p's first len bytes. The copy is freed
 * before returning: req's extras and key pointers are checked here and
 * must not be used by the caller. */
static enum bin_parse_status parse(const struct packet *p, size_t len,
                                   struct bin_request *req, size_t *used,
                                   uint16_t *status)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, p->bytes, len);
    enum bin_parse_status st = bin_parse(copy, len, req, used, status);
    if (st == BIN_OK) { /* pointers into the input, as the header said */
        assert_ptr_equal(req->extras, copy + BIN_HEADER_LEN);
        assert_memory_equal(req->key, p->bytes + BIN_HEADER_LEN +
                                          req->extlen, req->keylen);
    }
    free(copy);
    return st;
}

/* Whole: the given status; every shorter prefix: need more. */
static void expect(const struct packet *p, enum bin_parse_status want,
                   uint16_t want_status)
{
    struct bin_request req;
    size_t used = 0;
    uint16_t status = 0xffff;
    bool request = (unsigned char)p->bytes[0] == BIN_REQUEST_MAGIC;
    for (size_t n = 0; n < p->len; n++) /* a header tells a non-request */
        assert_int_equal(parse(p, n, &req, &used, &status),
                         n >= BIN_HEADER_LEN && !request ? BIN_CLOSE
                                                         : BIN_NEED_MORE);
    assert_int_equal(parse(p, p->len, &req, &used, &status), want);
    if (want == BIN_OK || want == BIN_ERROR_CLOSE || want == BIN_UNKNOWN)
        assert_int_equal(used, p->len);
    if (want == BIN_ERROR_CLOSE || want == BIN_UNKNOWN)
        assert_int_equal(status, want_status);
}

static void get_and_quiet_variants(void **state)
{
    (void)state;
    struct bin_request req;
    size_t used;
    uint16_t st;
    static const uint8_t ops[][2] = {
        {BIN_CMD_GET, BIN_CMD_GET}, {BIN_CMD_GETQ, BIN_CMD_GET},
        {BIN_CMD_GETK, BIN_CMD_GETK}, {BIN_CMD_GETKQ, BIN_CMD_GETK},
    };
    for (size_t i = 0; i < 4; i++) {
        struct packet p = make(0x80, ops[i][0], "", 0, "key", 3, 0, -1, 9);
        expect(&p, BIN_OK, 0);
        assert_int_equal(parse(&p, p.len, &req, &used, &st), BIN_OK);
        assert_int_equal(req.opcode, ops[i][0]);
        assert_int_equal(req.cmd, ops[i][1]);
        assert_int_equal(req.quiet, ops[i][0] != ops[i][1]);
        assert_int_equal(req.keylen, 3);
        assert_int_equal(req.vlen, 0);
        assert_int_equal(req.cas, 9);
        assert_memory_equal(&req.opaque, "\x01\x02\x03\x04", 4);
    }
}

static void store_leaves_the_value(void **state)
{
    (void)state;
    struct bin_request req;
    size_t used;
    uint16_t st;
    struct packet p = make(0x80, BIN_CMD_SETQ, "\0\0\0\7\0\0\0\0", 8, "k", 1,
                           5, -1, 0);
    expect(&p, BIN_OK, 0);
    assert_int_equal(parse(&p, p.len, &req, &used, &st), BIN_OK);
    assert_int_equal(req.cmd, BIN_CMD_SET);
    assert_true(req.quiet);
    assert_int_equal(req.vlen, 5);
    assert_int_equal(used, BIN_HEADER_LEN + 9);
    assert_int_equal(bin_get32(p.bytes + BIN_HEADER_LEN), 7); /* flags */
}

static void wrong_forms_close(void **state)
{
    (void)state;
    struct packet rows[] = {
        make(0x80, BIN_CMD_GET, "abcd", 4, "k", 1, 0, -1, 0), /* extras */
        make(0x80, BIN_CMD_GET, "", 0, "", 0, 0, -1, 0),      /* no key */
        make(0x80, BIN_CMD_GET, "", 0, "k", 1, 3, -1, 0),     /* value */
        make(0x80, BIN_CMD_SET, "abcd", 4, "k", 1, 1, -1, 0), /* extras */
        make(0x80, BIN_CMD_SET, "abcdefgh", 8, "", 0, 1, -1, 0),
        make(0x80, BIN_CMD_INCREMENT, "abcd", 4, "k", 1, 0, -1, 0),
        make(0x80, BIN_CMD_NOOP, "", 0, "", 0, 1, -1, 0),
        make(0x80, BIN_CMD_FLUSH, "", 0, "k", 1, 0, -1, 0),
        make(0x80, BIN_CMD_FLUSH, "ab", 2, "", 0, 0, -1, 0),
        make(0x80, BIN_CMD_TOUCH, "", 0, "k", 1, 0, -1, 0),
        make(0x80, BIN_CMD_STAT, "abcd", 4, "", 0, 0, -1, 0),
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        expect(&rows[i], BIN_ERROR_CLOSE, BIN_STATUS_EINVAL);
}

static void lengths_that_lie_and_long_keys(void **state)
{
    (void)state;
    char key[251];
    memset(key, 'k', sizeof(key));
    struct packet lie = make(0x80, BIN_CMD_GET, "", 0, "abc", 3, 0, 2, 0);
    expect(&lie, BIN_ERROR_CLOSE, BIN_STATUS_UNKNOWN_COMMAND);
    struct packet lie2 = make(0x80, BIN_CMD_SET, "abcdefgh", 8, "k", 1, 0, 8,
                              0);
    expect(&lie2, BIN_ERROR_CLOSE, BIN_STATUS_UNKNOWN_COMMAND);
    struct packet longkey = make(0x80, BIN_CMD_GET, "", 0, key, 251, 0, -1,
                                 0);
    expect(&longkey, BIN_ERROR_CLOSE, BIN_STATUS_EINVAL);
    struct packet longest = make(0x80, BIN_CMD_GET, "", 0, key, 250, 0, -1,
                                 0);
    expect(&longest, BIN_OK, 0);
}

static void unknown_opcodes_go_on(void **state)
{
    (void)state;
    static const uint8_t ops[] = {BIN_CMD_VERBOSITY, 0x1f, 0x25, 0x30, 0xfe};
    for (size_t i = 0; i < sizeof(ops); i++) {
        struct packet p = make(0x80, ops[i], "ab", 2, "k", 1, 4, -1, 0);
        expect(&p, BIN_UNKNOWN, BIN_STATUS_UNKNOWN_COMMAND);
        struct bin_request req;
        size_t used;
        uint16_t st;
        assert_int_equal(parse(&p, p.len, &req, &used, &st), BIN_UNKNOWN);
        assert_int_equal(req.vlen, 4); /* what the caller skips */
    }
}

static void not_a_request_closes(void **state)
{
    (void)state;
    struct packet p = make(0x81, BIN_CMD_GET, "", 0, "k", 1, 0, -1, 0);
    expect(&p, BIN_CLOSE, 0);
    struct packet text = {.bytes = "get key\r\nget key\r\nget key\r\n",
                          .len = 27};
    expect(&text, BIN_CLOSE, 0);
}

static void every_command_form_memcached_takes(void **state)
{
    (void)state;
    struct packet ok[] = {
        make(0x80, BIN_CMD_VERSION, "", 0, "", 0, 0, -1, 0),
        make(0x80, BIN_CMD_NOOP, "", 0, "", 0, 0, -1, 0),
        make(0x80, BIN_CMD_QUITQ, "", 0, "", 0, 0, -1, 0),
        make(0x80, BIN_CMD_FLUSH, "", 0, "", 0, 0, -1, 0),
        make(0x80, BIN_CMD_FLUSHQ, "abcd", 4, "", 0, 0, -1, 0),
        make(0x80, BIN_CMD_ADDQ, "abcdefgh", 8, "k", 1, 0, -1, 0),
        make(0x80, BIN_CMD_DELETEQ, "", 0, "k", 1, 0, -1, 0),
        make(0x80, BIN_CMD_DECREMENTQ, "abcdefghijklmnopqrst", 20, "k", 1,
             0, -1, 0),
        make(0x80, BIN_CMD_PREPENDQ, "", 0, "k", 1, 9, -1, 0),
        make(0x80, BIN_CMD_STAT, "", 0, "items", 5, 0, -1, 0),
        make(0x80, BIN_CMD_GATKQ, "abcd", 4, "k", 1, 0, -1, 0),
        make(0x80, BIN_CMD_SASL_LIST_MECHS, "", 0, "", 0, 0, -1, 0),
        make(0x80, BIN_CMD_SASL_AUTH, "", 0, "PLAIN", 5, 4, -1, 0),
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        expect(&ok[i], BIN_OK, 0);
}

static void response_header(void **state)
{
    (void)state;
    struct bin_request req = {.opcode = BIN_CMD_GETKQ};
    memcpy(&req.opaque, "\xde\xad\xbe\xef", 4);
    char h[BIN_HEADER_LEN];
    bin_write_header(h, &req, BIN_STATUS_KEY_ENOENT, 4, 0x0102, 0x01020304,
                     0x1122334455667788ull);
    static const unsigned char want[BIN_HEADER_LEN] = {
        0x81, 0x0d, 0x01, 0x02, 0x04, 0x00, 0x00, 0x01,
        0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef,
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_memory_equal(h, want, sizeof(want));
    assert_int_equal(bin_get64(h + 16), 0x1122334455667788ull);
}

static void status_texts_are_memcacheds(void **state)
{
    (void)state;
    assert_string_equal(bin_status_text(BIN_STATUS_KEY_ENOENT), "Not found");
    assert_string_equal(bin_status_text(BIN_STATUS_KEY_EEXISTS),
                        "Data exists for key.");
    assert_string_equal(bin_status_text(BIN_STATUS_E2BIG), "Too large.");
    assert_string_equal(bin_status_text(BIN_STATUS_EINVAL),
                        "Invalid arguments");
    assert_string_equal(bin_status_text(BIN_STATUS_NOT_STORED),
                        "Not stored.");
    assert_string_equal(bin_status_text(BIN_STATUS_DELTA_BADVAL),
                        "Non-numeric server-side value for incr or decr");
    assert_string_equal(bin_status_text(BIN_STATUS_UNKNOWN_COMMAND),
                        "Unknown command");
    assert_string_equal(bin_status_text(BIN_STATUS_ENOMEM), "Out of memory");
    assert_string_equal(bin_status_text(BIN_STATUS_AUTH_ERROR),
                        "Auth failure.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_and_quiet_variants),
        cmocka_unit_test(store_leaves_the_value),
        cmocka_unit_test(wrong_forms_close),
        cmocka_unit_test(lengths_that_lie_and_long_keys),
        cmocka_unit_test(unknown_opcodes_go_on),
        cmocka_unit_test(not_a_request_closes),
        cmocka_unit_test(every_command_form_memcached_takes),
        cmocka_unit_test(response_header),
        cmocka_unit_test(status_texts_are_memcacheds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
