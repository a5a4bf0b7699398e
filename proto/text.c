/*
 * proto/text.c - the memcached text protocol: request parser and reply
 * composers.
 *
 * The parser reproduces what memcached 1.6 (proto_text.c) lets a client see:
 * the same line framing, the same space-only tokenizer with its 23-token
 * cap, the same token-count checks per command (ERROR), the same order of
 * argument checks (which decides which CLIENT_ERROR text wins and whether
 * "noreply" was already noticed), and the same number parsing as
 * memcached's safe_strto* wrappers on a 64-bit host (proto/num.h). Nothing here allocates, writes to the input or reads past len.
 */
#include "proto/text.h"

#include <string.h>

#include "proto/num.h"
#include "proto/token.h"

/* memcached tokenizes into 24 slots, the last one being a terminal marker,
 * so a line never has more than 23 real tokens; what follows the 23rd stays
 * unsplit. The cap is visible where memcached looks at "the last token"
 * (noreply, the HTTP probe below). */
#define TOKENS_MAX 23

/* A line longer than TEXT_LINE_MAX without '\n' may only be a multiget;
 * memcached allows this many leading spaces before "get "/"gets ". */
#define LEADING_SPACES_MAX 100

static const char ERR_BAD_FORMAT[] = "bad command line format";
static const char ERR_DELETE_USAGE[] =
    "bad command line format.  Usage: delete <key> [noreply]";
static const char ERR_EXPTIME[] = "invalid exptime argument";
static const char ERR_DELTA[] = "invalid numeric delta argument";

/* One command line, already cut at '\n', at a trailing '\r' and at the
 * first NUL (memcached runs strlen() over it), and split on spaces. */
struct line {
    const char *end;
    struct token t[TOKENS_MAX];
    size_t ntok;
};

typedef enum text_status (*parse_fn)(const struct line *ln,
                                     struct text_request *req);

/* ---------------------------------------------------------------------
 * Tokens (framing and splitting: proto/token.c)
 * --------------------------------------------------------------------- */

static bool has_prefix(const char *p, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);

    return n >= k && memcmp(p, prefix, k) == 0;
}

/* Text from the start of token `first` to the end of the last token of
 * the whole line (not only the first 23), inner spaces kept. With no such
 * token it is an empty span at the end of the line, never NULL, so callers
 * may compute p + n. */
static void tail_from(const struct line *ln, size_t first, const char **p,
                      size_t *n)
{
    const char *end = ln->end;

    if (first >= ln->ntok) {
        *p = ln->end;
        *n = 0;
        return;
    }
    while (end > ln->t[first].p && end[-1] == ' ')
        end--;
    *p = ln->t[first].p;
    *n = (size_t)(end - *p);
}

/* memcached's set_noreply_maybe(): only the last token counts. */
static bool take_noreply(const struct line *ln, struct text_request *req)
{
    if (ln->ntok > 1 && token_is(&ln->t[ln->ntok - 1], "noreply"))
        req->noreply = true;
    return req->noreply;
}

static enum text_status client_error(struct text_request *req,
                                     const char *msg)
{
    req->error = msg;
    return TEXT_CLIENT_ERROR;
}

static bool take_key(const struct token *tk, struct text_request *req)
{
    if (tk->n > TEXT_KEY_MAX)
        return false;
    req->key = tk->p;
    req->nkey = tk->n;
    return true;
}

/* ---------------------------------------------------------------------
 * Command handlers, in the order memcached checks their arguments
 * --------------------------------------------------------------------- */

/* A too-long key in a retrieval line: the answer is only the error, but
 * memcached has looked up the keys before it by then (marking them
 * fetched, and for gat/gats touching them) and only throws those replies
 * away. The key list is cut to those keys, for the daemon to do the same. */
static enum text_status bad_retrieval_key(struct text_request *req,
                                          const char *bad)
{
    req->keys_len = (size_t)(bad - req->keys);
    req->key = NULL;
    req->nkey = 0;
    return client_error(req, ERR_BAD_FORMAT);
}

/* get/gets/gat/gats <...>. Every key is checked up front. */
static enum text_status parse_retrieval(const struct line *ln,
                                        struct text_request *req)
{
    size_t first = 1;
    const char *cur, *end, *k;
    size_t nk;

    if (req->cmd == TEXT_CMD_GAT || req->cmd == TEXT_CMD_GATS) {
        int32_t exptime;
        if (!num_i32(&ln->t[1], &exptime))
            return client_error(req, ERR_EXPTIME);
        req->exptime = exptime;
        first = 2; /* "gat 10" alone is legal and answers just END */
    }
    tail_from(ln, first, &req->keys, &req->keys_len);
    if (ln->ntok < TOKENS_MAX) {
        /* The whole line is split: the tokens are the keys, no need to
         * walk them again. */
        for (size_t i = first; i < ln->ntok; i++)
            if (ln->t[i].n > TEXT_KEY_MAX)
                return bad_retrieval_key(req, ln->t[i].p);
        if (first < ln->ntok) {
            req->key = ln->t[first].p;
            req->nkey = ln->t[first].n;
        }
        return TEXT_OK;
    }
    cur = req->keys;
    end = req->keys + req->keys_len;
    while (text_next_key(&cur, end, &k, &nk)) {
        if (nk > TEXT_KEY_MAX)
            return bad_retrieval_key(req, k);
        if (req->key == NULL) {
            req->key = k;
            req->nkey = nk;
        }
    }
    return TEXT_OK;
}

/* set/add/replace/append/prepend/cas. Nothing is swallowed on any error
 * here: memcached 1.6 reads the data block as the next command. */
static enum text_status parse_storage(const struct line *ln,
                                      struct text_request *req)
{
    int32_t exptime, vlen;

    take_noreply(ln, req);
    if (!take_key(&ln->t[1], req))
        return client_error(req, ERR_BAD_FORMAT);
    if (!num_u32(&ln->t[2], &req->flags) || !num_i32(&ln->t[3], &exptime) ||
        !num_i32(&ln->t[4], &vlen))
        return client_error(req, ERR_BAD_FORMAT);
    if (req->cmd == TEXT_CMD_CAS && !num_u64(&ln->t[5], &req->cas))
        return client_error(req, ERR_BAD_FORMAT);
    /* memcached adds 2 for "\r\n" to an int, hence INT_MAX - 2. */
    if (vlen < 0 || vlen > INT32_MAX - 2)
        return client_error(req, ERR_BAD_FORMAT);
    req->exptime = exptime;
    req->nbytes = (uint32_t)vlen;
    return TEXT_OK;
}

/* delete <key> [0] [noreply]: the "0" is a relic of the removed hold time
 * and is still accepted; anything else there is the usage error. */
static enum text_status parse_delete(const struct line *ln,
                                     struct text_request *req)
{
    if (ln->ntok > 2) {
        bool zero = token_is(&ln->t[2], "0");
        bool noreply = take_noreply(ln, req);
        bool ok = (ln->ntok == 3 && (zero || noreply)) ||
                  (ln->ntok == 4 && zero && noreply);
        if (!ok)
            return client_error(req, ERR_DELETE_USAGE);
    }
    if (!take_key(&ln->t[1], req))
        return client_error(req, ERR_BAD_FORMAT);
    return TEXT_OK;
}

static enum text_status parse_arith(const struct line *ln,
                                    struct text_request *req)
{
    take_noreply(ln, req);
    if (!take_key(&ln->t[1], req))
        return client_error(req, ERR_BAD_FORMAT);
    if (!num_u64(&ln->t[2], &req->delta))
        return client_error(req, ERR_DELTA);
    return TEXT_OK;
}

static enum text_status parse_touch(const struct line *ln,
                                    struct text_request *req)
{
    int32_t exptime;

    take_noreply(ln, req);
    if (!take_key(&ln->t[1], req))
        return client_error(req, ERR_BAD_FORMAT);
    if (!num_i32(&ln->t[2], &exptime))
        return client_error(req, ERR_EXPTIME);
    req->exptime = exptime;
    return TEXT_OK;
}

/* flush_all [delay] [noreply]: a delay is read whenever the token count
 * says there is one, so "flush_all noreply 10" fails on "noreply" and
 * "flush_all 10 20" ignores the 20. */
static enum text_status parse_flush_all(const struct line *ln,
                                        struct text_request *req)
{
    int32_t delay;
    size_t bare = take_noreply(ln, req) ? 2 : 1;

    if (ln->ntok != bare) {
        if (!num_i32(&ln->t[1], &delay))
            return client_error(req, ERR_EXPTIME);
        req->exptime = delay;
        req->has_exptime = true;
    }
    return TEXT_OK;
}

static enum text_status parse_verbosity(const struct line *ln,
                                        struct text_request *req)
{
    take_noreply(ln, req);
    if (!num_u32(&ln->t[1], &req->level))
        return client_error(req, ERR_BAD_FORMAT);
    return TEXT_OK;
}

/* memcached answers a bad number here with a bare ERROR, not CLIENT_ERROR;
 * the bounds (MEMLIMIT_TOO_SMALL ...) are the daemon's to check. */
static enum text_status parse_memlimit(const struct line *ln,
                                       struct text_request *req)
{
    take_noreply(ln, req);
    req->arg = ln->t[1].p;
    req->narg = ln->t[1].n;
    if (!num_u32(&ln->t[1], &req->level))
        return TEXT_ERROR;
    return TEXT_OK;
}

/* debugtime p|r|<seconds>: a test hook; the daemon decides whether it
 * exists, so a bad number is not an error here: req.error is set instead
 * and the daemon answers it only when the command is enabled. Seconds may
 * be negative: exptime has the signed value, level the low 32 bits. */
static enum text_status parse_debugtime(const struct line *ln,
                                        struct text_request *req)
{
    int64_t v = 0;

    req->arg = ln->t[1].p;
    req->narg = ln->t[1].n;
    if (token_is(&ln->t[1], "p") || token_is(&ln->t[1], "r"))
        return TEXT_OK;
    if (!num_i64(&ln->t[1], &v)) {
        req->error = "bad command line format";
        return TEXT_OK;
    }
    req->exptime = v;
    req->level = (uint32_t)(uint64_t)v;
    return TEXT_OK;
}

/* stats, shutdown, lru_crawler, slabs and lru: the daemon interprets the
 * argument text, because its answer depends on state (shutdown may be
 * disabled, stats sub-commands live with the stats table). text_next_key()
 * walks its words. */
static enum text_status parse_with_args(const struct line *ln,
                                        struct text_request *req)
{
    tail_from(ln, 1, &req->arg, &req->narg);
    return TEXT_OK;
}

static enum text_status parse_bare(const struct line *ln,
                                   struct text_request *req)
{
    (void)ln;
    (void)req;
    return TEXT_OK;
}

/* ---------------------------------------------------------------------
 * Dispatch table: the keyword comes from TEXT_COMMANDS, the token counts
 * (command word included) and the handler from here.
 * --------------------------------------------------------------------- */

#define ANY TOKENS_MAX

/* The wire keyword of each command, straight from the header's table. */
struct cmd_word {
    const char *s;
    size_t n;
};

static const struct cmd_word words[TEXT_CMD__COUNT] = {
#define TEXT_CMD_WORD(name, w) [TEXT_CMD_##name] = {w, sizeof(w) - 1},
    TEXT_COMMANDS(TEXT_CMD_WORD)
#undef TEXT_CMD_WORD
};

/* Token counts accepted (command word included) and the handler. A count
 * outside [min, max] is a bare ERROR, checked before any argument. */
struct cmd_spec {
    unsigned char min, max;
    parse_fn parse;
};

static const struct cmd_spec specs[TEXT_CMD__COUNT] = {
    [TEXT_CMD_GET] = {2, ANY, parse_retrieval},
    [TEXT_CMD_GETS] = {2, ANY, parse_retrieval},
    [TEXT_CMD_GAT] = {2, ANY, parse_retrieval},
    [TEXT_CMD_GATS] = {2, ANY, parse_retrieval},
    [TEXT_CMD_SET] = {5, 6, parse_storage},
    [TEXT_CMD_ADD] = {5, 6, parse_storage},
    [TEXT_CMD_REPLACE] = {5, 6, parse_storage},
    [TEXT_CMD_APPEND] = {5, 6, parse_storage},
    [TEXT_CMD_PREPEND] = {5, 6, parse_storage},
    [TEXT_CMD_CAS] = {6, 7, parse_storage},
    [TEXT_CMD_DELETE] = {2, 4, parse_delete},
    [TEXT_CMD_INCR] = {3, 4, parse_arith},
    [TEXT_CMD_DECR] = {3, 4, parse_arith},
    [TEXT_CMD_TOUCH] = {3, 4, parse_touch},
    [TEXT_CMD_FLUSH_ALL] = {1, 3, parse_flush_all},
    [TEXT_CMD_VERSION] = {1, ANY, parse_bare},
    [TEXT_CMD_VERBOSITY] = {2, 3, parse_verbosity},
    [TEXT_CMD_QUIT] = {1, ANY, parse_bare},
    [TEXT_CMD_SHUTDOWN] = {1, ANY, parse_with_args},
    [TEXT_CMD_STATS] = {1, ANY, parse_with_args},
    [TEXT_CMD_CACHE_MEMLIMIT] = {2, 3, parse_memlimit},
    [TEXT_CMD_DEBUGTIME] = {2, ANY, parse_debugtime},
    [TEXT_CMD_LRU_CRAWLER] = {2, ANY, parse_with_args},
    [TEXT_CMD_SLABS] = {3, 4, parse_with_args},
    [TEXT_CMD_LRU] = {2, ANY, parse_with_args},
    [TEXT_CMD_SNAPSHOT] = {1, 1, parse_bare},
    [TEXT_CMD_WATCH] = {1, ANY, parse_with_args},
    [TEXT_CMD_REFRESH_CERTS] = {1, ANY, parse_bare},
};

/* "bget" is an undocumented ancient spelling of get that memcached still
 * serves; clients never send it on purpose, but it costs one compare. */
static enum text_cmd lookup(const struct token *tk)
{
    int i;

    for (i = TEXT_CMD_NONE + 1; i < TEXT_CMD__COUNT; i++) {
        if (tk->n == words[i].n && memcmp(tk->p, words[i].s, tk->n) == 0)
            return (enum text_cmd)i;
    }
    if (token_is(tk, "bget"))
        return TEXT_CMD_GET;
    return TEXT_CMD_NONE;
}

/* An unknown command is ERROR, except that memcached hangs up on what looks
 * like an HTTP request line ("GET / HTTP/1.1"): its last token starts with
 * "HTTP/". It only looks when the first byte did not already pick one of
 * its per-letter branches (g s a c i d t, and two-byte m... meta). */
static enum text_status unknown_command(const struct line *ln)
{
    const struct token *cmd = &ln->t[0];
    const struct token *last = &ln->t[ln->ntok - 1];

    if (memchr("gsacidt", cmd->p[0], 7) != NULL)
        return TEXT_ERROR;
    if (cmd->p[0] == 'm' && cmd->n == 2)
        return TEXT_ERROR;
    if (has_prefix(last->p, last->n, "HTTP/"))
        return TEXT_CLOSE;
    return TEXT_ERROR;
}

/* No '\n' yet. Wait, unless the buffer is already longer than any sane
 * command: then only a multiget may go on growing. */
static enum text_status no_newline(const char *buf, size_t len)
{
    size_t i = 0;

    if (len <= TEXT_LINE_MAX)
        return TEXT_NEED_MORE;
    while (i < len && buf[i] == ' ')
        i++;
    if (i > LEADING_SPACES_MAX)
        return TEXT_CLOSE;
    if (has_prefix(buf + i, len - i, "get ") ||
        has_prefix(buf + i, len - i, "gets "))
        return TEXT_NEED_MORE;
    return TEXT_CLOSE;
}

enum text_status text_parse(const char *buf, size_t len,
                            struct text_request *req, size_t *consumed)
{
    const char *nl = len > 0 ? memchr(buf, '\n', len) : NULL;
    const struct cmd_spec *spec;
    struct line ln;

    memset(req, 0, sizeof(*req));
    *consumed = 0;
    if (nl == NULL)
        return no_newline(buf, len);
    *consumed = (size_t)(nl - buf) + 1;
    ln.ntok = token_line(buf, (size_t)(nl - buf), ln.t, TOKENS_MAX, &ln.end);
    /* No command is shorter than two bytes. */
    if (ln.ntok == 0 || ln.t[0].n < 2)
        return TEXT_ERROR;
    req->cmd = lookup(&ln.t[0]);
    if (req->cmd == TEXT_CMD_NONE)
        return unknown_command(&ln);
    spec = &specs[req->cmd];
    if (spec->parse == NULL || ln.ntok < spec->min || ln.ntok > spec->max)
        return TEXT_ERROR;
    return spec->parse(&ln, req);
}

bool text_next_key(const char **cursor, const char *end, const char **key,
                   size_t *nkey)
{
    const char *s = *cursor;
    const char *e;

    if (s == NULL)
        return false;
    while (s < end && *s == ' ')
        s++;
    if (s >= end) {
        *cursor = end;
        return false;
    }
    e = token_end(s, end);
    *key = s;
    *nkey = (size_t)(e - s);
    *cursor = e;
    return true;
}

bool text_data_block_ok(const char *data, size_t nbytes_plus_2)
{
    return nbytes_plus_2 >= 2 && data[nbytes_plus_2 - 2] == '\r' &&
           data[nbytes_plus_2 - 1] == '\n';
}

/* ---------------------------------------------------------------------
 * Replies
 * --------------------------------------------------------------------- */

struct reply_bytes {
    const char *s;
    size_t n;
};

static const struct reply_bytes replies[TEXT_R__COUNT] = {
#define TEXT_REPLY_BYTES(name, str)                                          \
    [TEXT_R_##name] = {str "\r\n", sizeof(str "\r\n") - 1},
    TEXT_REPLIES(TEXT_REPLY_BYTES)
#undef TEXT_REPLY_BYTES
};

const char *text_reply_str(enum text_reply r, size_t *len)
{
    if ((unsigned)r >= TEXT_R__COUNT) {
        *len = 0;
        return NULL;
    }
    *len = replies[r].n;
    return replies[r].s;
}

/* Decimal digits of v into the end of a 20-byte scratch buffer; returns
 * the first digit. UINT64_MAX has exactly 20 digits. */
static const char *u64_digits(char scratch[20], uint64_t v, size_t *n)
{
    char *p = scratch + 20;

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    *n = (size_t)(scratch + 20 - p);
    return p;
}

/* A tiny append-only writer: every piece is copied only if the whole
 * reply fits, which the callers check first by measuring. */
struct out {
    char *p;
    size_t n;
};

static void put(struct out *o, const char *s, size_t n)
{
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

/* "00" to "99": two digits per division. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* The decimal digits of v at dst; returns how many. The count comes from
 * comparisons, then the digits are written from the end, two at a time:
 * measured by callgrind, the scratch-and-copy version cost 47
 * instructions for "100", most of a VALUE line's numbers. */
static inline size_t put_u64(char *dst, uint64_t v)
{
    size_t n = 1;
    char *p;

    for (uint64_t limit = 10; n < 20 && v >= limit; limit *= 10)
        n++;
    p = dst + n;
    while (v >= 10) {
        const char *pair = &digit_pairs[2 * (v % 100)];
        if (v < 100) {
            p[-2] = pair[0];
            p[-1] = pair[1];
            return n;
        }
        p -= 2;
        p[0] = pair[0];
        p[1] = pair[1];
        v /= 100;
    }
    p[-1] = (char)('0' + v);
    return n;
}

/* Room a VALUE line needs besides its key, whatever its numbers. */
#define VALUE_HEADER_SLACK (TEXT_VALUE_HEADER_MAX - TEXT_KEY_MAX)

size_t text_value_header(char *dst, size_t cap, const char *key, size_t nkey,
                         uint32_t flags, uint32_t nbytes, bool with_cas,
                         uint64_t cas)
{
    char sf[20], sb[20], sc[20];
    size_t nf, nb, nc = 0, total;
    char *p = dst;

    /* The usual case: room for the longest numbers, so write at once
     * without measuring them first. */
    if (cap >= nkey + VALUE_HEADER_SLACK) {
        memcpy(p, "VALUE ", 6);
        p += 6;
        memcpy(p, key, nkey);
        p += nkey;
        *p++ = ' ';
        p += put_u64(p, flags);
        *p++ = ' ';
        p += put_u64(p, nbytes);
        if (with_cas) {
            *p++ = ' ';
            p += put_u64(p, cas);
        }
        *p++ = '\r';
        *p++ = '\n';
        return (size_t)(p - dst);
    }
    /* A tight buffer: measure, then write only if it all fits. */
    const char *df = u64_digits(sf, flags, &nf);
    const char *db = u64_digits(sb, nbytes, &nb);
    const char *dc = with_cas ? u64_digits(sc, cas, &nc) : NULL;
    struct out o = {dst, 0};

    total = 6 + nkey + 1 + nf + 1 + nb + (with_cas ? 1 + nc : 0) + 2;
    if (total > cap)
        return 0;
    put(&o, "VALUE ", 6);
    put(&o, key, nkey);
    put(&o, " ", 1);
    put(&o, df, nf);
    put(&o, " ", 1);
    put(&o, db, nb);
    if (with_cas) {
        put(&o, " ", 1);
        put(&o, dc, nc);
    }
    put(&o, "\r\n", 2);
    return o.n;
}

/* "<prefix><a>[ <b>]\r\n", or 0 when it does not fit. */
static size_t compose(char *dst, size_t cap, const char *prefix,
                      const char *a, size_t na, const char *b, size_t nb)
{
    size_t np = strlen(prefix);
    size_t total = np + na + (b != NULL ? 1 + nb : 0) + 2;
    struct out o = {dst, 0};

    if (total > cap)
        return 0;
    put(&o, prefix, np);
    put(&o, a, na);
    if (b != NULL) {
        put(&o, " ", 1);
        put(&o, b, nb);
    }
    put(&o, "\r\n", 2);
    return o.n;
}

size_t text_stat_line(char *dst, size_t cap, const char *name,
                      const char *value)
{
    return compose(dst, cap, "STAT ", name, strlen(name), value,
                   strlen(value));
}

size_t text_number_line(char *dst, size_t cap, uint64_t value)
{
    char s[20];
    size_t n;
    const char *d = u64_digits(s, value, &n);

    return compose(dst, cap, "", d, n, NULL, 0);
}

size_t text_client_error(char *dst, size_t cap, const char *msg)
{
    return compose(dst, cap, "CLIENT_ERROR ", msg, strlen(msg), NULL, 0);
}

size_t text_server_error(char *dst, size_t cap, const char *msg)
{
    return compose(dst, cap, "SERVER_ERROR ", msg, strlen(msg), NULL, 0);
}
