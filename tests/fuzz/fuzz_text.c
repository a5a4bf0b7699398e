/*
 * tests/fuzz/fuzz_text.c - the text-protocol parser (proto/text.c) fed as
 * a connection's byte stream, through the daemon's read loop
 * (fuzz_stream.c: split reads, data blocks, determinism).
 *
 * Per request it checks what proto/text.h promises and the daemon relies
 * on: every pointer lies inside the line; a valid command's keys are 1 to
 * TEXT_KEY_MAX bytes without a space, '\n' or NUL (a key is echoed in a
 * VALUE line, which it must not break) and its VALUE line fits in
 * TEXT_VALUE_HEADER_MAX; a key list walks to the same first key; a value
 * length leaves room for "\r\n" in an int; a client error's message fits
 * the daemon's 256-byte reply line; and a meta line, which the daemon
 * routes elsewhere, comes back as ERROR.
 */
#include <stdbool.h>
#include <string.h>

#include "proto/meta.h"
#include "proto/text.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_stream.h"

/* The daemon's buffer for a CLIENT_ERROR line (daemon/conn.c). */
#define CLIENT_ERROR_LINE 256

static bool keyed(enum text_cmd cmd)
{
    switch (cmd) {
    case TEXT_CMD_SET: case TEXT_CMD_ADD: case TEXT_CMD_REPLACE:
    case TEXT_CMD_APPEND: case TEXT_CMD_PREPEND: case TEXT_CMD_CAS:
    case TEXT_CMD_DELETE: case TEXT_CMD_INCR: case TEXT_CMD_DECR:
    case TEXT_CMD_TOUCH:
        return true;
    default:
        return false;
    }
}

static bool retrieval(enum text_cmd cmd)
{
    return cmd == TEXT_CMD_GET || cmd == TEXT_CMD_GETS ||
           cmd == TEXT_CMD_GAT || cmd == TEXT_CMD_GATS;
}

static bool storage(enum text_cmd cmd)
{
    return keyed(cmd) && cmd != TEXT_CMD_DELETE && cmd != TEXT_CMD_INCR &&
           cmd != TEXT_CMD_DECR && cmd != TEXT_CMD_TOUCH;
}

/* A key the daemon can store and echo. */
static void check_key(const char *key, size_t nkey)
{
    char line[TEXT_VALUE_HEADER_MAX];

    FUZZ_CHECK(key != NULL);
    FUZZ_CHECK(nkey >= 1 && nkey <= TEXT_KEY_MAX);
    FUZZ_CHECK(memchr(key, ' ', nkey) == NULL);
    FUZZ_CHECK(memchr(key, '\n', nkey) == NULL);
    FUZZ_CHECK(memchr(key, '\0', nkey) == NULL);
    FUZZ_CHECK(text_value_header(line, sizeof(line), key, nkey, UINT32_MAX,
                                 UINT32_MAX, true, UINT64_MAX) > 0);
}

/* Walks the key list of a retrieval line; the walk is bounded by its
 * length, as every key takes at least one byte. */
static void check_keys(const struct text_request *req, const char *lo,
                       const char *hi)
{
    const char *cur = req->keys, *end = req->keys + req->keys_len, *k;
    size_t nk, n = 0;

    FUZZ_CHECK(req->keys != NULL);
    while (n <= req->keys_len && text_next_key(&cur, end, &k, &nk)) {
        FUZZ_CHECK(fuzz_inside(k, nk, lo, hi));
        check_key(k, nk);
        if (n++ == 0)
            FUZZ_CHECK(k == req->key && nk == req->nkey);
    }
    FUZZ_CHECK(n <= req->keys_len);
    if (n == 0)
        FUZZ_CHECK(req->key == NULL && req->nkey == 0);
}

static void check_ok(const struct text_request *req, const char *lo,
                     const char *hi)
{
    FUZZ_CHECK(req->cmd > TEXT_CMD_NONE && req->cmd < TEXT_CMD__COUNT);
    if (keyed(req->cmd))
        check_key(req->key, req->nkey);
    if (retrieval(req->cmd))
        check_keys(req, lo, hi);
    if (storage(req->cmd))
        FUZZ_CHECK(req->nbytes <= INT32_MAX - 2);
    if (req->cmd == TEXT_CMD_STATS || req->cmd == TEXT_CMD_SHUTDOWN)
        FUZZ_CHECK(req->arg != NULL);
}

static void check_client_error(const struct text_request *req)
{
    char line[CLIENT_ERROR_LINE];

    FUZZ_CHECK(req->error != NULL);
    FUZZ_CHECK(text_client_error(line, sizeof(line), req->error) > 0);
}

static void record(struct fuzz_event *ev, const struct text_request *req,
                   enum text_status st, const char *base)
{
    uint64_t *v = ev->v;

    v[2] = st;
    v[3] = req->cmd;
    v[4] = req->noreply;
    v[5] = fuzz_offset(req->key, base);
    v[6] = req->nkey;
    v[7] = fuzz_offset(req->keys, base);
    v[8] = req->keys_len;
    v[9] = req->flags;
    v[10] = (uint64_t)req->exptime;
    v[11] = req->has_exptime;
    v[12] = req->nbytes;
    v[13] = req->cas;
    v[14] = req->delta;
    v[15] = req->level;
    v[16] = fuzz_offset(req->arg, base);
    v[17] = req->narg;
    v[18] = (uint64_t)(uintptr_t)req->error;
    v[19] = req->swallow;
}

static void parse_text(const char *stream, size_t at, size_t len,
                       struct fuzz_step *step)
{
    const char *buf = stream + at;
    struct text_request req;
    size_t used = 12345;
    enum text_status st = text_parse(buf, len - at, &req, &used);

    record(&step->ev, &req, st, stream);
    if (st == TEXT_NEED_MORE) {
        FUZZ_CHECK(used == 0);
        step->outcome = FUZZ_NEED_MORE;
        return;
    }
    if (memchr(buf, '\n', len - at) != NULL &&
        meta_is_meta_line(buf, len - at))
        FUZZ_CHECK(st == TEXT_ERROR);
    if (st == TEXT_CLOSE) {
        step->outcome = FUZZ_CLOSE;
        return;
    }
    step->outcome = FUZZ_LINE;
    step->consumed = used;
    FUZZ_CHECK(fuzz_inside(req.key, req.nkey, buf, buf + used - 1));
    FUZZ_CHECK(fuzz_inside(req.keys, req.keys_len, buf, buf + used - 1));
    FUZZ_CHECK(fuzz_inside(req.arg, req.narg, buf, buf + used - 1));
    if (st == TEXT_OK) {
        check_ok(&req, buf, buf + used - 1);
        step->value = storage(req.cmd) ? (size_t)req.nbytes + 2 : 0;
    } else if (st == TEXT_CLIENT_ERROR) {
        check_client_error(&req);
        step->swallow = req.swallow;
    } else {
        FUZZ_CHECK(st == TEXT_ERROR);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_stream_run(parse_text, TEXT_LINE_MAX, data, size);
    return 0;
}
