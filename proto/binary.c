/*
 * proto/binary.c - see binary.h.
 *
 * What a request may carry, and what happens otherwise, is memcached
 * 1.6.18's: checked against it byte for byte by tests/diff/binary_diff.py.
 */
#include "proto/binary.h"

#include <string.h>

uint32_t bin_get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 |
           (uint32_t)u[3];
}

uint64_t bin_get64(const char *p)
{
    return (uint64_t)bin_get32(p) << 32 | bin_get32(p + 4);
}

static uint16_t get16(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint16_t)(u[0] << 8 | u[1]);
}

void bin_put32(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
}

void bin_put64(char *p, uint64_t v)
{
    bin_put32(p, (uint32_t)(v >> 32));
    bin_put32(p + 4, (uint32_t)v);
}

static void put16(char *p, uint16_t v)
{
    p[0] = (char)(v >> 8);
    p[1] = (char)v;
}

/* The base command of a quiet variant, or 0xff for one that has none. */
static uint8_t base_of_quiet(uint8_t op)
{
    switch (op) {
    case BIN_CMD_GETQ: return BIN_CMD_GET;
    case BIN_CMD_GETKQ: return BIN_CMD_GETK;
    case BIN_CMD_SETQ: return BIN_CMD_SET;
    case BIN_CMD_ADDQ: return BIN_CMD_ADD;
    case BIN_CMD_REPLACEQ: return BIN_CMD_REPLACE;
    case BIN_CMD_DELETEQ: return BIN_CMD_DELETE;
    case BIN_CMD_INCREMENTQ: return BIN_CMD_INCREMENT;
    case BIN_CMD_DECREMENTQ: return BIN_CMD_DECREMENT;
    case BIN_CMD_QUITQ: return BIN_CMD_QUIT;
    case BIN_CMD_FLUSHQ: return BIN_CMD_FLUSH;
    case BIN_CMD_APPENDQ: return BIN_CMD_APPEND;
    case BIN_CMD_PREPENDQ: return BIN_CMD_PREPEND;
    case BIN_CMD_GATQ: return BIN_CMD_GAT;
    case BIN_CMD_GATKQ: return BIN_CMD_GATK;
    default: return 0xff;
    }
}

/* Whether a known command's extras, key and body lengths are ones it
 * takes; -1 for a command memcached does not know. */
static int well_formed(const struct bin_request *r)
{
    uint8_t e = r->extlen;
    uint16_t k = r->keylen;
    uint32_t b = r->bodylen;
    switch (r->cmd) {
    case BIN_CMD_VERSION:
    case BIN_CMD_NOOP:
    case BIN_CMD_QUIT:
    case BIN_CMD_SASL_LIST_MECHS:
        return e == 0 && k == 0 && b == 0;
    case BIN_CMD_FLUSH:
        return k == 0 && b == e && (e == 0 || e == BIN_FLUSH_EXTRAS);
    case BIN_CMD_SET:
    case BIN_CMD_ADD:
    case BIN_CMD_REPLACE:
        return e == BIN_STORE_EXTRAS && k != 0;
    case BIN_CMD_GET:
    case BIN_CMD_GETK:
        return e == 0 && k > 0 && b == k;
    case BIN_CMD_DELETE:
        return e == 0 && k > 0 && b == k;
    case BIN_CMD_INCREMENT:
    case BIN_CMD_DECREMENT:
        return e == BIN_DELTA_EXTRAS && k > 0 && b == (uint32_t)k + e;
    case BIN_CMD_APPEND:
    case BIN_CMD_PREPEND:
        return e == 0 && k > 0;
    case BIN_CMD_STAT:
        return e == 0;
    case BIN_CMD_SASL_AUTH:
    case BIN_CMD_SASL_STEP:
        return e == 0 && k != 0;
    case BIN_CMD_TOUCH:
    case BIN_CMD_GAT:
    case BIN_CMD_GATK:
        return e == BIN_TOUCH_EXTRAS && k != 0;
    default:
        return -1;
    }
}

enum bin_parse_status bin_parse(const char *buf, size_t len,
                                struct bin_request *req, size_t *used,
                                uint16_t *status)
{
    if (len < BIN_HEADER_LEN)
        return BIN_NEED_MORE;
    if ((unsigned char)buf[0] != BIN_REQUEST_MAGIC)
        return BIN_CLOSE;
    memset(req, 0, sizeof(*req));
    req->opcode = (uint8_t)buf[1];
    req->keylen = get16(buf + 2);
    req->extlen = (uint8_t)buf[4];
    req->bodylen = bin_get32(buf + 8);
    memcpy(&req->opaque, buf + 12, 4);
    req->cas = bin_get64(buf + 16);
    size_t head = BIN_HEADER_LEN + (size_t)req->extlen + req->keylen;
    if (len < head)
        return BIN_NEED_MORE;
    req->extras = buf + BIN_HEADER_LEN;
    req->key = req->extras + req->extlen;
    *used = head;
    if (req->keylen > req->bodylen ||
        (uint32_t)req->keylen + req->extlen > req->bodylen) {
        *status = BIN_STATUS_UNKNOWN_COMMAND;
        return BIN_ERROR_CLOSE;
    }
    req->vlen = req->bodylen - req->keylen - req->extlen;
    if (req->keylen > BIN_KEY_MAX) {
        *status = BIN_STATUS_EINVAL;
        return BIN_ERROR_CLOSE;
    }
    uint8_t base = base_of_quiet(req->opcode);
    req->quiet = base != 0xff;
    req->cmd = req->quiet ? base : req->opcode;
    switch (well_formed(req)) {
    case 1:
        return BIN_OK;
    case 0:
        *status = BIN_STATUS_EINVAL;
        return BIN_ERROR_CLOSE;
    default:
        *status = BIN_STATUS_UNKNOWN_COMMAND;
        return BIN_UNKNOWN;
    }
}

const char *bin_status_text(uint16_t status)
{
    switch (status) {
    case BIN_STATUS_ENOMEM: return "Out of memory";
    case BIN_STATUS_UNKNOWN_COMMAND: return "Unknown command";
    case BIN_STATUS_KEY_ENOENT: return "Not found";
    case BIN_STATUS_EINVAL: return "Invalid arguments";
    case BIN_STATUS_KEY_EEXISTS: return "Data exists for key.";
    case BIN_STATUS_E2BIG: return "Too large.";
    case BIN_STATUS_DELTA_BADVAL:
        return "Non-numeric server-side value for incr or decr";
    case BIN_STATUS_NOT_STORED: return "Not stored.";
    case BIN_STATUS_AUTH_ERROR: return "Auth failure.";
    default: return "";
    }
}

void bin_write_header(char *dst, const struct bin_request *req,
                      uint16_t status, uint8_t extlen, uint16_t keylen,
                      uint32_t bodylen, uint64_t cas)
{
    dst[0] = (char)BIN_RESPONSE_MAGIC;
    dst[1] = (char)req->opcode;
    put16(dst + 2, keylen);
    dst[4] = (char)extlen;
    dst[5] = 0; /* raw bytes */
    put16(dst + 6, status);
    bin_put32(dst + 8, bodylen);
    memcpy(dst + 12, &req->opaque, 4);
    bin_put64(dst + 16, cas);
}
