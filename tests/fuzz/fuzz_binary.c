/*
 * tests/fuzz/fuzz_binary.c - the binary protocol parser (proto/binary.c)
 * fed a connection's byte stream, the way daemon/binary_exec.c walks it:
 * parse, consume what was used, skip the value, until it asks for more or
 * the connection would close.
 *
 * Per request it checks what proto/binary.h promises and the daemon
 * relies on: "need more" exactly while the header, extras or key are
 * incomplete, and a non-request closes as soon as a header is in; what is
 * consumed is the header, extras and key, and the extras and key point
 * there; the lengths add up (vlen + extlen + keylen = bodylen); an
 * accepted request has a key of at most BIN_KEY_MAX bytes and the
 * extras, key and value its command takes, and a quiet variant maps to
 * its base command; parsing is deterministic and reads nothing past len
 * (ASan); the response header written for it round-trips.
 */
#include <string.h>

#include "proto/binary.h"
#include "tests/fuzz/fuzz.h"

static void check_accepted(const struct bin_request *r)
{
    FUZZ_CHECK(r->keylen <= BIN_KEY_MAX);
    FUZZ_CHECK((uint64_t)r->vlen + r->extlen + r->keylen == r->bodylen);
    FUZZ_CHECK(r->quiet == (r->cmd != r->opcode));
    switch (r->cmd) {
    case BIN_CMD_GET:
    case BIN_CMD_GETK:
    case BIN_CMD_DELETE:
        FUZZ_CHECK(r->extlen == 0 && r->keylen > 0 && r->vlen == 0);
        break;
    case BIN_CMD_SET:
    case BIN_CMD_ADD:
    case BIN_CMD_REPLACE:
        FUZZ_CHECK(r->extlen == BIN_STORE_EXTRAS && r->keylen > 0);
        break;
    case BIN_CMD_INCREMENT:
    case BIN_CMD_DECREMENT:
        FUZZ_CHECK(r->extlen == BIN_DELTA_EXTRAS && r->keylen > 0 &&
                   r->vlen == 0);
        break;
    case BIN_CMD_TOUCH:
    case BIN_CMD_GAT:
    case BIN_CMD_GATK:
        FUZZ_CHECK(r->extlen == BIN_TOUCH_EXTRAS && r->keylen > 0);
        break;
    case BIN_CMD_NOOP:
    case BIN_CMD_VERSION:
    case BIN_CMD_QUIT:
        FUZZ_CHECK(r->bodylen == 0);
        break;
    default:
        break;
    }
}

static void check_header_round_trip(const struct bin_request *r)
{
    char h[BIN_HEADER_LEN];
    bin_write_header(h, r, BIN_STATUS_KEY_ENOENT, r->extlen, r->keylen,
                     r->bodylen, r->cas);
    FUZZ_CHECK((unsigned char)h[0] == BIN_RESPONSE_MAGIC);
    FUZZ_CHECK((uint8_t)h[1] == r->opcode);
    FUZZ_CHECK(bin_get32(h + 8) == r->bodylen);
    FUZZ_CHECK(memcmp(h + 12, &r->opaque, 4) == 0);
    FUZZ_CHECK(bin_get64(h + 16) == r->cas);
}

/* One request at buf; returns the bytes to move past it, 0 to stop. */
static size_t one(const char *buf, size_t len)
{
    struct bin_request req, again;
    size_t used = 0, used2 = 0;
    uint16_t status = 0, status2 = 0;
    enum bin_parse_status st = bin_parse(buf, len, &req, &used, &status);
    enum bin_parse_status st2 = bin_parse(buf, len, &again, &used2,
                                          &status2);
    FUZZ_CHECK(st == st2);
    if (st == BIN_NEED_MORE) {
        FUZZ_CHECK(len < BIN_HEADER_LEN ||
                   len < BIN_HEADER_LEN + (size_t)(uint8_t)buf[4] +
                             ((size_t)(uint8_t)buf[2] << 8 |
                              (uint8_t)buf[3]));
        return 0;
    }
    FUZZ_CHECK(len >= BIN_HEADER_LEN);
    if (st == BIN_CLOSE) {
        FUZZ_CHECK((unsigned char)buf[0] != BIN_REQUEST_MAGIC);
        return 0;
    }
    FUZZ_CHECK((unsigned char)buf[0] == BIN_REQUEST_MAGIC);
    FUZZ_CHECK(used == BIN_HEADER_LEN + (size_t)req.extlen + req.keylen);
    FUZZ_CHECK(used <= len && used == used2);
    FUZZ_CHECK(req.extras == buf + BIN_HEADER_LEN);
    FUZZ_CHECK(req.key == req.extras + req.extlen);
    FUZZ_CHECK(fuzz_inside(req.key, req.keylen, buf, buf + len));
    if (st == BIN_ERROR_CLOSE) {
        FUZZ_CHECK(status == BIN_STATUS_EINVAL ||
                   status == BIN_STATUS_UNKNOWN_COMMAND);
        FUZZ_CHECK(status == status2);
        return 0;
    }
    if (st == BIN_UNKNOWN)
        FUZZ_CHECK(status == BIN_STATUS_UNKNOWN_COMMAND);
    else
        check_accepted(&req);
    check_header_round_trip(&req);
    /* a shorter input that cuts the extras or key asks for more */
    if (used > BIN_HEADER_LEN) {
        struct bin_request cut;
        FUZZ_CHECK(bin_parse(buf, used - 1, &cut, &used2, &status2) ==
                   BIN_NEED_MORE);
    }
    size_t skip = (size_t)req.vlen; /* the value: read or swallowed */
    return skip > len - used ? 0 : used + skip;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so ASan sees any read past the end */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    size_t pos = 0;
    for (unsigned i = 0; i < 10000 && pos < size; i++) {
        size_t step = one(buf + pos, size - pos);
        if (step == 0)
            break;
        pos += step;
    }
    free(buf);
    return 0;
}
