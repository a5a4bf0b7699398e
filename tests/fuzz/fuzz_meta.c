/*
 * tests/fuzz/fuzz_meta.c - the meta-protocol parser (proto/meta.c) fed as
 * a connection's byte stream, through the daemon's read loop
 * (fuzz_stream.c: split reads, ms data blocks, swallowed blocks after an
 * error, determinism).
 *
 * Per request it checks what proto/meta.h promises and the daemon relies
 * on: "need more" and hang-up only around META_LINE_MAX; the key and the
 * opaque lie inside the line; a valid command's key is 1 to META_KEY_MAX
 * bytes without a space, '\n' or NUL, a base64 key decodes to exactly
 * nbinkey (1 to META_BINKEY_MAX) bytes and survives a round trip; the
 * flags bitmap and the order list agree; the opaque fits the daemon's
 * copy (META_OPAQUE_MAX); ms has a mode and a length that leaves room for
 * "\r\n"; only ms errors swallow, and exactly its data block; a client
 * error fits the daemon's 256-byte line; and every reply the daemon may
 * compose for the request fits META_REPLY_MAX as one line.
 */
#include <stdbool.h>
#include <string.h>

#include "proto/meta.h"
#include "proto/text.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_stream.h"

/* The daemon's buffer for a CLIENT_ERROR line (daemon/meta_exec.c). */
#define CLIENT_ERROR_LINE 256

static void check_binary_key(const struct meta_request *req)
{
    unsigned char bin[META_BINKEY_MAX], again[META_BINKEY_MAX];
    char text[(META_BINKEY_MAX + 2) / 3 * 4];
    size_t n, ntext;

    FUZZ_CHECK(req->nbinkey >= 1 && req->nbinkey <= META_BINKEY_MAX);
    n = meta_key_decode(req->key, req->nkey, bin, sizeof(bin));
    FUZZ_CHECK(n == req->nbinkey);
    ntext = meta_key_encode(bin, n, text, sizeof(text));
    FUZZ_CHECK(ntext > 0 && ntext <= META_KEY_MAX + 2);
    FUZZ_CHECK(meta_key_decode(text, ntext, again, sizeof(again)) == n);
    FUZZ_CHECK(memcmp(bin, again, n) == 0);
}

static void check_key(const struct meta_request *req)
{
    FUZZ_CHECK(req->key != NULL);
    FUZZ_CHECK(req->nkey >= 1 && req->nkey <= META_KEY_MAX);
    FUZZ_CHECK(memchr(req->key, ' ', req->nkey) == NULL);
    FUZZ_CHECK(memchr(req->key, '\n', req->nkey) == NULL);
    FUZZ_CHECK(memchr(req->key, '\0', req->nkey) == NULL);
    if (req->key_b64)
        check_binary_key(req);
}

static void check_flags(const struct meta_request *req)
{
    FUZZ_CHECK(req->norder <= META_FLAGS_MAX);
    FUZZ_CHECK((size_t)__builtin_popcountll(req->flags) == req->norder);
    for (size_t i = 0; i < req->norder; i++) {
        char c = req->order[i];
        FUZZ_CHECK(c >= 'A' && c <= '~');
        FUZZ_CHECK(meta_has(req, c));
    }
    if (req->opaque != NULL)
        FUZZ_CHECK(req->nopaque + 1 <= META_OPAQUE_MAX);
    else
        FUZZ_CHECK(req->nopaque == 0);
}

/* A composed line: at most cap bytes, one '\n', at its end. */
static void check_line(const char *line, size_t n, size_t cap)
{
    FUZZ_CHECK(n >= 4 && n <= cap);
    FUZZ_CHECK(line[n - 2] == '\r' && line[n - 1] == '\n');
    FUZZ_CHECK(memchr(line, '\n', n - 1) == NULL);
}

/* Every reply code with the largest numbers an item can have. */
static void check_replies(const struct meta_request *req)
{
    const struct meta_item item = {
        .size = UINT32_MAX, .cas = UINT64_MAX, .client_flags = UINT32_MAX,
        .ttl = INT64_MAX, .last_access = UINT32_MAX, .fetched = true,
        .token_sent = true, .stale = true, .won = true,
    };
    char line[META_REPLY_MAX];

    for (int code = 0; code < META_R__COUNT; code++)
        check_line(line, meta_reply(line, sizeof(line), (enum meta_code)code,
                                    req, &item), sizeof(line));
}

/* Bytes that a key sent as text can hold: the item a decoded key finds
 * was stored as binary unless its bytes could be such a key. */
static bool could_be_text(const unsigned char *key, size_t n)
{
    return memchr(key, ' ', n) == NULL && memchr(key, '\n', n) == NULL &&
           memchr(key, '\0', n) == NULL;
}

/* me's answer, with the key as the engine gets it (decoded when 'b'),
 * for an item stored as text or as binary. */
static void check_debug_line(const struct meta_request *req)
{
    unsigned char bin[META_BINKEY_MAX];
    struct meta_debug d = {
        .key = (const unsigned char *)req->key, .nkey = req->nkey,
        .exp = INT64_MIN, .la = UINT64_MAX, .cas = UINT64_MAX,
        .fetched = true, .cls = UINT32_MAX, .size = UINT64_MAX,
    };
    char line[META_REPLY_MAX];

    if (req->key_b64) {
        d.nkey = meta_key_decode(req->key, req->nkey, bin, sizeof(bin));
        d.key = bin;
    }
    for (int binary = !could_be_text(d.key, d.nkey); binary < 2; binary++) {
        d.key_binary = binary;
        check_line(line, meta_debug_line(line, sizeof(line), &d),
                   sizeof(line));
    }
}

static void check_ok(const struct meta_request *req, struct fuzz_step *step)
{
    FUZZ_CHECK(req->cmd > META_CMD_NONE && req->cmd < META_CMD__COUNT);
    FUZZ_CHECK(req->swallow == 0);
    check_flags(req);
    if (req->cmd != META_CMD_MN)
        check_key(req);
    if (req->cmd == META_CMD_ME) {
        check_debug_line(req);
        return;
    }
    check_replies(req);
    if (req->cmd == META_CMD_MS) {
        FUZZ_CHECK(req->op >= META_OP_SET && req->op <= META_OP_REPLACE);
        FUZZ_CHECK(req->datalen <= INT32_MAX - 2);
        step->value = (size_t)req->datalen + 2;
    }
    if (req->cmd == META_CMD_MA)
        FUZZ_CHECK(req->op == META_OP_INCR || req->op == META_OP_DECR);
}

static void check_client_error(const struct meta_request *req)
{
    char line[CLIENT_ERROR_LINE];

    FUZZ_CHECK(req->error != NULL);
    FUZZ_CHECK(text_client_error(line, sizeof(line), req->error) > 0);
    if (req->swallow != 0)
        FUZZ_CHECK(req->cmd == META_CMD_MS &&
                   req->swallow == (size_t)req->datalen + 2);
}

static void record(struct fuzz_event *ev, const struct meta_request *req,
                   enum meta_status st, const char *base)
{
    uint64_t *v = ev->v;

    v[2] = st;
    v[3] = req->cmd;
    v[4] = fuzz_offset(req->key, base);
    v[5] = req->nkey;
    v[6] = req->key_b64;
    v[7] = req->nbinkey;
    v[8] = req->flags;
    memcpy(&v[9], req->order, sizeof(req->order)); /* v[9..11] */
    v[12] = req->norder;
    v[13] = req->cas;
    v[14] = req->new_cas;
    v[15] = req->client_flags;
    v[16] = (uint64_t)(int64_t)req->ttl;
    v[17] = (uint64_t)(int64_t)req->vivify_ttl;
    v[18] = (uint64_t)(int64_t)req->recache;
    v[19] = req->delta;
    v[20] = req->initial;
    v[21] = (unsigned char)req->mode;
    v[22] = req->op;
    v[23] = fuzz_offset(req->opaque, base);
    v[24] = req->nopaque;
    v[25] = req->datalen;
    v[26] = (uint64_t)(uintptr_t)req->error;
    v[27] = req->swallow;
}

static void parse_meta(const char *stream, size_t at, size_t len,
                       struct fuzz_step *step)
{
    const char *buf = stream + at;
    struct meta_request req;
    size_t used = 12345;
    enum meta_status st = meta_parse(buf, len - at, &req, &used);

    _Static_assert(sizeof(req.order) <= 3 * sizeof(uint64_t),
                   "the order list fits v[9..11]");
    record(&step->ev, &req, st, stream);
    if (st == META_NEED_MORE || st == META_CLOSE) {
        FUZZ_CHECK(used == 0);
        FUZZ_CHECK(memchr(buf, '\n', len - at) == NULL);
        FUZZ_CHECK((len - at > META_LINE_MAX) == (st == META_CLOSE));
        step->outcome = st == META_CLOSE ? FUZZ_CLOSE : FUZZ_NEED_MORE;
        return;
    }
    step->outcome = FUZZ_LINE;
    step->consumed = used;
    FUZZ_CHECK(fuzz_inside(req.key, req.nkey, buf, buf + used - 1));
    FUZZ_CHECK(fuzz_inside(req.opaque, req.nopaque, buf, buf + used - 1));
    if (st == META_OK) {
        check_ok(&req, step);
    } else if (st == META_CLIENT_ERROR) {
        check_client_error(&req);
        step->swallow = req.swallow;
    } else {
        FUZZ_CHECK(st == META_ERROR);
        FUZZ_CHECK(req.swallow == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_stream_run(parse_meta, META_LINE_MAX, data, size);
    return 0;
}
