/*
 * proto/binary.h - memcached's binary protocol: request parser and
 * response header composer.
 *
 * Deprecated upstream since memcached 1.6, but still what some clients
 * use by default (PHP's memcached session handler, Ruby's Dalli 3.0,
 * libmemcached with its binary behaviour), so memcached's -B auto serves
 * it and zeekdb does too.
 *
 * Every packet starts with a 24-byte header, numbers in network byte
 * order: magic (0x80 request, 0x81 response), opcode, key length (2),
 * extras length (1), data type (1), vbucket or status (2), total body
 * length (4), opaque (4, echoed back), CAS (8). The body is the extras,
 * then the key, then the value.
 *
 * Pure functions over byte buffers, like proto/text.h: nothing here knows
 * about sockets or the engine. bin_parse() consumes the header, extras
 * and key; the value (bin_request.vlen bytes) stays in the input for the
 * caller to read into an item or to skip.
 */
#ifndef ZK_PROTO_BINARY_H
#define ZK_PROTO_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIN_HEADER_LEN 24
#define BIN_REQUEST_MAGIC 0x80
#define BIN_RESPONSE_MAGIC 0x81
#define BIN_KEY_MAX 250

/* X(enum suffix, opcode) */
#define BIN_OPCODES(X)                                                        \
    X(GET, 0x00) X(SET, 0x01) X(ADD, 0x02) X(REPLACE, 0x03)                   \
    X(DELETE, 0x04) X(INCREMENT, 0x05) X(DECREMENT, 0x06) X(QUIT, 0x07)       \
    X(FLUSH, 0x08) X(GETQ, 0x09) X(NOOP, 0x0a) X(VERSION, 0x0b)               \
    X(GETK, 0x0c) X(GETKQ, 0x0d) X(APPEND, 0x0e) X(PREPEND, 0x0f)             \
    X(STAT, 0x10) X(SETQ, 0x11) X(ADDQ, 0x12) X(REPLACEQ, 0x13)               \
    X(DELETEQ, 0x14) X(INCREMENTQ, 0x15) X(DECREMENTQ, 0x16) X(QUITQ, 0x17)   \
    X(FLUSHQ, 0x18) X(APPENDQ, 0x19) X(PREPENDQ, 0x1a) X(VERBOSITY, 0x1b)     \
    X(TOUCH, 0x1c) X(GAT, 0x1d) X(GATQ, 0x1e) X(SASL_LIST_MECHS, 0x20)        \
    X(SASL_AUTH, 0x21) X(SASL_STEP, 0x22) X(GATK, 0x23) X(GATKQ, 0x24)

enum bin_opcode {
#define BIN_OPCODE_ENUM(name, code) BIN_CMD_##name = code,
    BIN_OPCODES(BIN_OPCODE_ENUM)
#undef BIN_OPCODE_ENUM
};

enum bin_status {
    BIN_STATUS_OK = 0x0000,
    BIN_STATUS_KEY_ENOENT = 0x0001,
    BIN_STATUS_KEY_EEXISTS = 0x0002,
    BIN_STATUS_E2BIG = 0x0003,
    BIN_STATUS_EINVAL = 0x0004,
    BIN_STATUS_NOT_STORED = 0x0005,
    BIN_STATUS_DELTA_BADVAL = 0x0006,
    BIN_STATUS_AUTH_ERROR = 0x0020,
    BIN_STATUS_AUTH_CONTINUE = 0x0021,
    BIN_STATUS_UNKNOWN_COMMAND = 0x0081,
    BIN_STATUS_ENOMEM = 0x0082,
};

/* Extras a request of each kind carries. */
#define BIN_STORE_EXTRAS 8   /* flags, expiration */
#define BIN_DELTA_EXTRAS 20  /* delta (8), initial (8), expiration (4) */
#define BIN_TOUCH_EXTRAS 4   /* expiration */
#define BIN_FLUSH_EXTRAS 4   /* delay, optional */
/* An INCREMENT/DECREMENT expiration that means "do not create". */
#define BIN_DELTA_NO_CREATE 0xffffffffu

struct bin_request {
    uint8_t opcode;      /* as sent, echoed in the response */
    uint8_t cmd;         /* opcode with a quiet variant mapped to its base */
    bool quiet;          /* a quiet variant: success goes unanswered */
    uint8_t extlen;
    uint16_t keylen;
    uint32_t bodylen;
    uint32_t opaque;     /* raw bytes, echoed back as they came */
    uint64_t cas;
    const char *extras;  /* extlen bytes */
    const char *key;     /* keylen bytes */
    uint32_t vlen;       /* value bytes after the key, not consumed */
};

enum bin_parse_status {
    BIN_NEED_MORE,       /* header, extras or key incomplete */
    BIN_OK,              /* req is filled: carry it out */
    BIN_CLOSE,           /* not a binary request: close the connection */
    /* Answer with the error status bin_error_of() gives, then close:
     * lengths that contradict each other, a key over 250 bytes, or
     * extras, key or value that the command does not take. */
    BIN_ERROR_CLOSE,
    BIN_UNKNOWN,         /* UNKNOWN_COMMAND, skip the value, go on */
};

/* Parse the request at buf. *used gets the bytes consumed (header,
 * extras and key) for BIN_OK, BIN_ERROR_CLOSE and BIN_UNKNOWN; *status
 * the error status for BIN_ERROR_CLOSE and BIN_UNKNOWN. */
enum bin_parse_status bin_parse(const char *buf, size_t len,
                                struct bin_request *req, size_t *used,
                                uint16_t *status);

/* memcached's text for an error status ("Not found", ...). */
const char *bin_status_text(uint16_t status);

/* Write a response header to dst (BIN_HEADER_LEN bytes). */
void bin_write_header(char *dst, const struct bin_request *req,
                      uint16_t status, uint8_t extlen, uint16_t keylen,
                      uint32_t bodylen, uint64_t cas);

uint32_t bin_get32(const char *p);
uint64_t bin_get64(const char *p);
void bin_put32(char *p, uint32_t v);
void bin_put64(char *p, uint64_t v);

#endif
