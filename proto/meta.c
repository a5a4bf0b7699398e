/*
 * proto/meta.c - the memcached meta protocol: request parser, base64 keys
 * and reply composers.
 *
 * The parser reproduces what memcached 1.6.18 (proto_text.c) lets a client
 * see: the same line framing as the text protocol (proto/text.c), the same
 * order of checks (which decides the error text and whether the data block
 * of an ms is swallowed), one flag list shared by mg/ms/md/ma, and the same
 * number parsing as memcached's safe_strto* helpers on a 64-bit host
 * (proto/num.h; framing and tokens in proto/token.h). The
 * deviations toward the current protocol.txt are listed in meta.h.
 */
#include "proto/meta.h"

#include <string.h>

#include "proto/num.h"
#include "proto/token.h"

static const char ERR_BAD_FORMAT[] = "bad command line format";
static const char ERR_BAD_TOKEN[] = "bad token in command line format";
static const char ERR_DUPLICATE[] = "duplicate flag";
static const char ERR_INVALID[] = "invalid flag";
static const char ERR_INVALID_OR_DUP[] = "invalid or duplicate flag";
static const char ERR_DECODE[] = "error decoding key";
static const char ERR_M_LENGTH[] = "incorrect length for M token";
static const char ERR_INITIAL[] = "invalid numeric initial value";
static const char ERR_DELTA[] = "invalid numeric delta value";
static const char ERR_OPAQUE[] = "opaque token too long";
static const char ERR_MG_TOO_LONG[] = "options flags are too long";
static const char ERR_TOO_LONG[] = "options flags too long";
static const char ERR_MS_MODE[] = "invalid mode for ms M token";
static const char ERR_MA_MODE[] = "invalid mode for ma M token";

/* One line cut at '\n', a trailing '\r' and the first NUL, split on
 * spaces. Only META_TOKENS_MAX + 1 tokens are kept: one more than that
 * already means "too many flags". */
struct line {
    const char *end;
    struct token t[META_TOKENS_MAX + 1];
    size_t ntok;
};

/* ---------------------------------------------------------------------
 * base64 keys
 * --------------------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for the alphabet, 64 for '=', -1 for bytes the decoder skips. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return c == '=' ? 64 : -1;
}

static size_t b64_symbols(const char *src, size_t n)
{
    size_t i, count = 0;

    for (i = 0; i < n; i++)
        count += b64_value((unsigned char)src[i]) >= 0;
    return count;
}

/* Decodes one group of four symbols ('=' counts as zero bits); returns
 * the bytes it yields given its padding, or 0 for 3-4 '='. */
static size_t b64_group(const int v[4], int pad, unsigned char out[3])
{
    int bits[4], i;

    for (i = 0; i < 4; i++)
        bits[i] = v[i] == 64 ? 0 : v[i];
    out[0] = (unsigned char)(bits[0] << 2 | bits[1] >> 4);
    out[1] = (unsigned char)(bits[1] << 4 | bits[2] >> 2);
    out[2] = (unsigned char)(bits[2] << 6 | bits[3]);
    return pad > 2 ? 0 : (size_t)(3 - pad);
}

size_t meta_key_decode(const char *src, size_t n, unsigned char *dst,
                       size_t cap)
{
    size_t count = b64_symbols(src, n), out = 0, i;
    int v[4], got = 0, pad = 0;

    if (count == 0 || count % 4 != 0 || count / 4 * 3 > cap)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char grp[3];
        size_t k;
        int x = b64_value((unsigned char)src[i]);
        if (x < 0)
            continue;
        pad += x == 64;
        v[got++] = x;
        if (got < 4)
            continue;
        k = b64_group(v, pad, grp);
        if (k == 0)
            return 0;
        memcpy(dst + out, grp, k);
        out += k;
        got = 0;
        if (pad != 0)
            break;
    }
    return out;
}

size_t meta_key_encode(const unsigned char *src, size_t n, char *dst,
                       size_t cap)
{
    size_t need = (n + 2) / 3 * 4, i, o = 0;

    if (need > cap)
        return 0;
    for (i = 0; i + 2 < n; i += 3) {
        dst[o++] = b64_alphabet[src[i] >> 2];
        dst[o++] = b64_alphabet[(src[i] & 3) << 4 | src[i + 1] >> 4];
        dst[o++] = b64_alphabet[(src[i + 1] & 15) << 2 | src[i + 2] >> 6];
        dst[o++] = b64_alphabet[src[i + 2] & 63];
    }
    if (i < n) {
        unsigned b1 = i + 1 < n ? src[i + 1] : 0;
        dst[o++] = b64_alphabet[src[i] >> 2];
        dst[o++] = b64_alphabet[(src[i] & 3) << 4 | b1 >> 4];
        dst[o++] = i + 1 < n ? b64_alphabet[(b1 & 15) << 2] : '=';
        dst[o++] = '=';
    }
    return o;
}

bool meta_is_meta_line(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && buf[i] == ' ')
        i++;
    if (len - i < 3 || buf[i] != 'm')
        return false;
    /* The token ends at a space, the '\n', or a NUL (memcached's line ends
     * there). A '\r' ends it only right before the '\n': "mn\rd" is a
     * four-byte token, an unknown command to memcached, which hangs up
     * when the line ends in "HTTP/..." rather than answer ERROR. */
    switch (buf[i + 2]) {
    case ' ': case '\n': case '\0':
        return true;
    case '\r':
        return len - i > 3 && buf[i + 3] == '\n';
    default:
        return false;
    }
}

/* ---------------------------------------------------------------------
 * Flags: memcached's shared pre-parse. A duplicate or unknown flag stops
 * at once; a bad argument is remembered (the last message wins) and the
 * scan goes on, so "Tx zz" is "invalid flag" but "Tx Dx" is the D text.
 * A bad F keeps whatever message came before (default: bad format).
 * --------------------------------------------------------------------- */

struct prep {
    uint64_t seen[2]; /* bytes 0..127 */
    const char *err;  /* pending argument error, NULL if none */
    bool failed;
};

static enum meta_status client_error(struct meta_request *req,
                                     const char *msg)
{
    req->error = msg;
    return META_CLIENT_ERROR;
}

static void arg_error(struct prep *pp, const char *msg)
{
    pp->failed = true;
    if (msg != NULL)
        pp->err = msg;
}

static void take_b64(const struct token *key, struct meta_request *req,
                     struct prep *pp)
{
    unsigned char scratch[META_BINKEY_MAX];

    req->key_b64 = true;
    req->nbinkey = meta_key_decode(key->p, key->n, scratch, sizeof(scratch));
    if (req->nbinkey == 0)
        arg_error(pp, ERR_DECODE);
}

/* Flags whose argument is a number. */
static void take_number(char c, const struct token *arg,
                        struct meta_request *req, struct prep *pp)
{
    switch (c) {
    case 'N':
        if (!num_i32(arg, &req->vivify_ttl))
            arg_error(pp, ERR_BAD_TOKEN);
        break;
    case 'T':
        if (!num_i32(arg, &req->ttl))
            arg_error(pp, ERR_BAD_TOKEN);
        break;
    case 'R':
        if (!num_i32(arg, &req->recache))
            arg_error(pp, ERR_BAD_TOKEN);
        break;
    case 'C':
        if (!num_u64(arg, &req->cas))
            arg_error(pp, ERR_BAD_TOKEN);
        break;
    case 'E':
        if (!num_u64(arg, &req->new_cas))
            arg_error(pp, ERR_BAD_TOKEN);
        break;
    case 'F':
        if (!num_u32(arg, &req->client_flags))
            arg_error(pp, NULL);
        break;
    case 'J':
        if (!num_u64(arg, &req->initial))
            arg_error(pp, ERR_INITIAL);
        break;
    default: /* 'D' */
        if (!num_u64(arg, &req->delta))
            arg_error(pp, ERR_DELTA);
        break;
    }
}

/* Letters that take no argument (anything after the letter is ignored),
 * and letters whose argument is a number. */
static const char plain_flags[] = "bklOPLstcfvhuqIx";
static const char number_flags[] = "NTRCEFJD";

/* One flag token; returns an error message that ends the scan, or NULL. */
static const char *take_flag(const struct token *tk, const struct token *key,
                             struct meta_request *req, struct prep *pp)
{
    unsigned char c = (unsigned char)tk->p[0];
    struct token arg = {tk->p + 1, tk->n - 1};

    if (c >= 127 || (pp->seen[c >> 6] & ((uint64_t)1 << (c & 63))) != 0)
        return ERR_DUPLICATE;
    pp->seen[c >> 6] |= (uint64_t)1 << (c & 63);
    if (c == 'M') {
        if (tk->n != 2)
            arg_error(pp, ERR_M_LENGTH);
        else
            req->mode = tk->p[1];
    } else if (c != 0 && strchr(number_flags, c) != NULL) {
        take_number((char)c, &arg, req, pp);
    } else if (c == 0 || strchr(plain_flags, c) == NULL) {
        return ERR_INVALID;
    } else if (c == 'b') {
        take_b64(key, req, pp);
    } else if (c == 'O') {
        req->opaque = arg.p;
        req->nopaque = arg.n;
    }
    req->flags |= META_FLAG(c);
    req->order[req->norder++] = (char)c;
    return NULL;
}

/* Tokens first..ntok-1 are flags. Returns NULL or the error message. */
static const char *take_flags(const struct line *ln, size_t first,
                              struct meta_request *req)
{
    struct prep pp = {{0, 0}, ERR_BAD_FORMAT, false};
    size_t i;

    for (i = first; i < ln->ntok; i++) {
        const char *err = take_flag(&ln->t[i], &ln->t[1], req, &pp);
        if (err != NULL)
            return err;
    }
    return pp.failed ? pp.err : NULL;
}

/* ---------------------------------------------------------------------
 * Modes and the opaque
 * --------------------------------------------------------------------- */

/* Lowercase letters follow protocol.txt; 1.6.18 refuses them. */
static enum meta_op ms_op(char mode)
{
    switch (mode) {
    /* Upper case only: memcached 1.6.18 refuses lower-case modes. */
    case 0: case 'S': return META_OP_SET;
    case 'E': return META_OP_ADD;
    case 'A': return META_OP_APPEND;
    case 'P': return META_OP_PREPEND;
    case 'R': return META_OP_REPLACE;
    default: return META_OP_NONE;
    }
}

static enum meta_op ma_op(char mode)
{
    switch (mode) {
    case 0: case 'I': case '+': return META_OP_INCR;
    case 'D': case '-': return META_OP_DECR;
    default: return META_OP_NONE;
    }
}

static bool opaque_ok(const struct meta_request *req)
{
    return req->opaque == NULL || req->nopaque + 1 <= META_OPAQUE_MAX;
}

/* ---------------------------------------------------------------------
 * Commands, each in the order memcached checks things
 * --------------------------------------------------------------------- */

/* Checks shared by mg/md/ma/ms before their flags: key length, then (ms)
 * presence of a data length, then the token count. */
static enum meta_status check_line(const struct line *ln,
                                   struct meta_request *req)
{
    bool ms = req->cmd == META_CMD_MS;

    if (ln->ntok < 2)
        return META_ERROR;
    req->key = ln->t[1].p;
    req->nkey = ln->t[1].n;
    if (req->nkey > META_KEY_MAX)
        return client_error(req, ERR_BAD_FORMAT);
    if (ms && ln->ntok == 2)
        return client_error(req, ERR_BAD_FORMAT);
    if (ln->ntok > META_TOKENS_MAX)
        return client_error(req, req->cmd == META_CMD_MG ? ERR_MG_TOO_LONG
                                                         : ERR_TOO_LONG);
    return META_OK;
}

static enum meta_status parse_mg(const struct line *ln,
                                 struct meta_request *req)
{
    const char *err = take_flags(ln, 2, req);

    if (err != NULL)
        return client_error(req, err);
    if (!opaque_ok(req))
        return client_error(req, ERR_OPAQUE);
    return META_OK;
}

/* md and ma answer every flag error with one message. */
static enum meta_status parse_md(const struct line *ln,
                                 struct meta_request *req)
{
    if (take_flags(ln, 2, req) != NULL)
        return client_error(req, ERR_INVALID_OR_DUP);
    if (!opaque_ok(req))
        return client_error(req, ERR_OPAQUE);
    return META_OK;
}

static enum meta_status parse_ma(const struct line *ln,
                                 struct meta_request *req)
{
    if (take_flags(ln, 2, req) != NULL)
        return client_error(req, ERR_INVALID_OR_DUP);
    req->op = ma_op(req->mode);
    if (req->op == META_OP_NONE)
        return client_error(req, ERR_MA_MODE);
    if (!opaque_ok(req))
        return client_error(req, ERR_OPAQUE);
    return META_OK;
}

/* ms <key> <datalen> <flags>*: from the data length on, every error
 * swallows the data block. The mode is checked before the opaque. */
static enum meta_status parse_ms(const struct line *ln,
                                 struct meta_request *req)
{
    int32_t vlen;
    const char *err;

    if (!num_i32(&ln->t[2], &vlen) || vlen < 0 || vlen > INT32_MAX - 2)
        return client_error(req, ERR_BAD_FORMAT);
    req->datalen = (uint32_t)vlen;
    req->swallow = (size_t)vlen + 2;
    err = take_flags(ln, 3, req);
    if (err != NULL)
        return client_error(req, err);
    req->op = ms_op(req->mode);
    if (req->op == META_OP_NONE)
        return client_error(req, ERR_MS_MODE);
    if (!opaque_ok(req))
        return client_error(req, ERR_OPAQUE);
    req->swallow = 0;
    return META_OK;
}

/* me <key> [b]: only the token right after the key is looked at. */
static enum meta_status parse_me(const struct line *ln,
                                 struct meta_request *req)
{
    unsigned char scratch[META_BINKEY_MAX];

    if (ln->ntok < 2 || ln->t[1].n > META_KEY_MAX)
        return client_error(req, ERR_BAD_FORMAT);
    req->key = ln->t[1].p;
    req->nkey = ln->t[1].n;
    if (ln->ntok >= 3 && ln->t[2].n == 1 && ln->t[2].p[0] == 'b') {
        req->key_b64 = true;
        req->flags |= META_FLAG('b');
        req->order[req->norder++] = 'b';
        req->nbinkey = meta_key_decode(req->key, req->nkey, scratch,
                                       sizeof(scratch));
        if (req->nbinkey == 0)
            return client_error(req, ERR_BAD_FORMAT);
    }
    return META_OK;
}

static enum meta_cmd lookup(const struct token *tk)
{
    static const char *const words[META_CMD__COUNT] = {
#define META_CMD_WORD(name, w) [META_CMD_##name] = w,
        META_COMMANDS(META_CMD_WORD)
#undef META_CMD_WORD
    };
    int i;

    for (i = META_CMD_NONE + 1; i < META_CMD__COUNT; i++) {
        if (tk->n == 2 && memcmp(tk->p, words[i], 2) == 0)
            return (enum meta_cmd)i;
    }
    return META_CMD_NONE;
}

static enum meta_status dispatch(const struct line *ln,
                                 struct meta_request *req)
{
    enum meta_status st;

    switch (req->cmd) {
    case META_CMD_MN:
        return META_OK;
    case META_CMD_ME:
        return parse_me(ln, req);
    default:
        break;
    }
    st = check_line(ln, req);
    if (st != META_OK)
        return st;
    switch (req->cmd) {
    case META_CMD_MG: return parse_mg(ln, req);
    case META_CMD_MS: return parse_ms(ln, req);
    case META_CMD_MD: return parse_md(ln, req);
    default: return parse_ma(ln, req);
    }
}

enum meta_status meta_parse(const char *buf, size_t len,
                            struct meta_request *req, size_t *consumed)
{
    const char *nl = len > 0 ? memchr(buf, '\n', len) : NULL;
    struct line ln;

    memset(req, 0, sizeof(*req));
    req->delta = 1;
    *consumed = 0;
    if (nl == NULL)
        return len > META_LINE_MAX ? META_CLOSE : META_NEED_MORE;
    *consumed = (size_t)(nl - buf) + 1;
    ln.ntok = token_line(buf, (size_t)(nl - buf), ln.t,
                         sizeof(ln.t) / sizeof(ln.t[0]), &ln.end);
    if (ln.ntok == 0)
        return META_ERROR;
    req->cmd = lookup(&ln.t[0]);
    if (req->cmd == META_CMD_NONE)
        return META_ERROR;
    return dispatch(&ln, req);
}

/* ---------------------------------------------------------------------
 * Replies. A bounded writer: once a piece does not fit, nothing more is
 * written and the composer returns 0.
 * --------------------------------------------------------------------- */

struct out {
    char *p;
    size_t n;
    size_t cap;
    bool full;
};

static void put(struct out *o, const void *s, size_t n)
{
    if (o->full || n > o->cap - o->n) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void put_u64(struct out *o, uint64_t v)
{
    char s[20], *p = s + sizeof(s);

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(o, p, (size_t)(s + sizeof(s) - p));
}

static void put_i64(struct out *o, int64_t v)
{
    if (v < 0) {
        put(o, "-", 1);
        put_u64(o, (uint64_t)0 - (uint64_t)v);
        return;
    }
    put_u64(o, (uint64_t)v);
}

static void put_flag(struct out *o, char c)
{
    char s[2] = {' ', c};

    put(o, s, 2);
}

/* The key as memcached prints it: binary keys re-encoded as base64. */
static void put_key(struct out *o, const unsigned char *key, size_t n,
                    bool binary)
{
    char enc[(META_KEY_MAX + 2) / 3 * 4];
    size_t ne;

    if (!binary) {
        put(o, key, n);
        return;
    }
    ne = meta_key_encode(key, n, enc, sizeof(enc));
    if (ne == 0 && n != 0)
        o->full = true;
    put(o, enc, ne);
}

static void put_echo_key(struct out *o, const struct meta_request *req,
                         const struct meta_item *it)
{
    unsigned char bin[META_BINKEY_MAX];
    size_t nbin;
    bool binary;

    if (it->key != NULL) {
        binary = it->key_binary;
        put_key(o, it->key, it->nkey, binary);
    } else if (req->key_b64) {
        binary = true;
        nbin = meta_key_decode(req->key, req->nkey, bin, sizeof(bin));
        put_key(o, bin, nbin, true);
    } else {
        binary = false;
        put(o, req->key, req->nkey);
    }
    if (binary)
        put(o, " b", 2);
}

/* Which requested flags each command echoes with each reply code. */
static const char *echo_set(enum meta_cmd cmd, enum meta_code code)
{
    bool hit = code == META_R_VA || code == META_R_HD;

    switch (cmd) {
    case META_CMD_MG: return hit ? "stcflhOk" : "Ok";
    case META_CMD_MA: return hit ? "ctOk" : "Ok";
    /* s: protocol.txt's stored size; 1.6.18 ignores it */
    case META_CMD_MS: return hit ? "Okcs" : "Okc";
    case META_CMD_MD: return "Ok";
    default: return "";
    }
}

static void put_echo(struct out *o, char c, const struct meta_request *req,
                     const struct meta_item *it)
{
    put_flag(o, c);
    switch (c) {
    case 's': put_u64(o, it->size); break;
    case 'c': put_u64(o, it->cas); break;
    case 'f': put_u64(o, it->client_flags); break;
    case 'l': put_u64(o, it->last_access); break;
    case 'h': put(o, it->fetched ? "1" : "0", 1); break;
    case 'O': put(o, req->opaque, req->nopaque); break;
    case 'k': put_echo_key(o, req, it); break;
    default: /* 't' */
        if (it->ttl == -1)
            put(o, "-1", 2);
        else
            put_u64(o, (uint32_t)(uint64_t)it->ttl);
        break;
    }
}

static const char code_words[META_R__COUNT][3] = {
#define META_CODE_WORD(name, w) [META_R_##name] = w,
    META_CODES(META_CODE_WORD)
#undef META_CODE_WORD
};

size_t meta_reply(char *dst, size_t cap, enum meta_code code,
                  const struct meta_request *req,
                  const struct meta_item *item)
{
    static const struct meta_item none;
    const struct meta_item *it = item != NULL ? item : &none;
    struct out o = {dst, 0, cap, false};
    const char *set = echo_set(req->cmd, code);
    size_t i;

    bool hit = code == META_R_VA || code == META_R_HD;

    if ((unsigned)code >= META_R__COUNT ||
        (hit && item == NULL &&
         (req->cmd == META_CMD_MG || req->cmd == META_CMD_MA)))
        return 0;
    put(&o, code_words[code], 2);
    if (code == META_R_VA) {
        put(&o, " ", 1);
        put_u64(&o, it->size);
    }
    for (i = 0; code != META_R_MN && i < req->norder; i++) {
        if (strchr(set, req->order[i]) != NULL)
            put_echo(&o, req->order[i], req, it);
    }
    if (it->token_sent)
        put_flag(&o, 'Z');
    if (it->stale)
        put_flag(&o, 'X');
    if (it->won)
        put_flag(&o, 'W');
    put(&o, "\r\n", 2);
    return o.full ? 0 : o.n;
}

size_t meta_debug_line(char *dst, size_t cap, const struct meta_debug *d)
{
    struct out o = {dst, 0, cap, false};

    put(&o, "ME ", 3);
    put_key(&o, d->key, d->nkey, d->key_binary);
    put(&o, " exp=", 5);
    put_i64(&o, d->exp);
    put(&o, " la=", 4);
    put_u64(&o, d->la);
    put(&o, " cas=", 5);
    put_u64(&o, d->cas);
    put(&o, d->fetched ? " fetch=yes" : " fetch=no", d->fetched ? 10 : 9);
    put(&o, " cls=", 5);
    put_u64(&o, d->cls);
    put(&o, " size=", 6);
    put_u64(&o, d->size);
    put(&o, "\r\n", 2);
    return o.full ? 0 : o.n;
}
