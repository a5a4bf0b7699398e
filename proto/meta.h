/*
 * proto/meta.h - the memcached meta protocol (mg ms md ma mn me): request
 * parser and reply composers.
 *
 * Pure functions over byte buffers, like proto/text.h: nothing here knows
 * about sockets or the engine, nothing allocates, nothing writes to the
 * input or reads past len. The daemon routes a line here when its first
 * token is two bytes starting with 'm' (meta_is_meta_line()), executes the
 * request and writes the reply with the composers below.
 *
 * Flags. memcached checks every flag of mg/ms/md/ma against one shared
 * list, so a flag that means nothing to a command is still accepted (and
 * ignored) there: "mg k F5" answers like "mg k". Each flag letter may
 * appear once; a byte >= 127 counts as a duplicate. req.flags has
 * META_FLAG(c) for every flag sent, req.order the letters in the client's
 * order, which is the order the reply echoes them in. What each flag means
 * per command (and what the engine must provide) is in meta_reply()'s
 * comment and in the table at the end of this file.
 *
 * ms: meta_parse() consumes only the command line. The caller then reads
 * req.datalen + 2 bytes and checks them with text_data_block_ok(); a bad
 * block is "CLIENT_ERROR bad data chunk", which is shown even with q.
 * Errors found after the data length was read come back with
 * req.swallow = datalen + 2: memcached discards that many bytes after the
 * error. Errors before it (long key, missing or bad length, too many
 * flags) swallow nothing, so memcached reads the data as a command.
 *
 * q ("quiet", noreply semantics) never hides an error. In memcached
 * 1.6.18 it hides: mg EN; ms HD; md HD; ma HD/VA when the item existed
 * (a counter just created by N still answers HD). NS, NF, EX are shown.
 *
 * Where this follows the current protocol.txt rather than 1.6.18 (which
 * answers these with CLIENT_ERROR invalid flag):
 *   - E(token): the CAS value to give the item (mg, ms, md, ma);
 *   - x: md removes the value but keeps the item.
 * Mode letters (M) are upper case only, as in both.
 */
#ifndef ZK_PROTO_META_H
#define ZK_PROTO_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define META_KEY_MAX 250
/* A decoded base64 key is at most 3/4 of META_KEY_MAX bytes. */
#define META_BINKEY_MAX 187
/* The whole O token, 'O' included, may be this long. */
#define META_OPAQUE_MAX 32
/* memcached refuses a line of 20 or more tokens (command word included),
 * so mg/md/ma carry at most 17 flags and ms 16. */
#define META_TOKENS_MAX 19
#define META_FLAGS_MAX 17
/* No '\n' within this many bytes: close the connection (as text_parse). */
#define META_LINE_MAX 2048
/* Room for any reply line meta_reply() can write. */
#define META_REPLY_MAX 512

/* X(enum suffix, wire keyword) */
#define META_COMMANDS(X)                                                     \
    X(MG, "mg") X(MS, "ms") X(MD, "md") X(MA, "ma") X(MN, "mn") X(ME, "me")

enum meta_cmd {
    META_CMD_NONE = 0,
#define META_CMD_ENUM(name, word) META_CMD_##name,
    META_COMMANDS(META_CMD_ENUM)
#undef META_CMD_ENUM
    META_CMD__COUNT
};

enum meta_status {
    META_OK,           /* req is filled; *consumed = length of the line */
    META_NEED_MORE,    /* no complete line yet */
    META_ERROR,        /* reply "ERROR"; *consumed = line */
    META_CLIENT_ERROR, /* reply "CLIENT_ERROR <req.error>"; *consumed =
                          line; then discard req.swallow further bytes */
    META_CLOSE,        /* no '\n' in META_LINE_MAX bytes: hang up */
};

/* What M selected. ms without M is SET, ma without M is INCR. For ms the
 * daemon still turns SET and REPLACE into a compare-and-swap when C is
 * present, as memcached does. */
enum meta_op {
    META_OP_NONE = 0,
    META_OP_SET, META_OP_ADD, META_OP_APPEND, META_OP_PREPEND,
    META_OP_REPLACE, META_OP_INCR, META_OP_DECR,
};

/* Bit of flag letter c ('A'..'~') in meta_request.flags. */
#define META_FLAG(c) ((uint64_t)1 << ((unsigned)(c) - 'A'))

struct meta_request {
    enum meta_cmd cmd;
    /* The key as sent. With 'b' (key_b64) it is base64 text: decode it
     * with meta_key_decode() into a META_BINKEY_MAX buffer; it is known
     * to decode, to nbinkey bytes. */
    const char *key;
    size_t nkey;
    bool key_b64;
    size_t nbinkey;
    uint64_t flags;              /* META_FLAG(c) for each flag present */
    char order[META_FLAGS_MAX];  /* flag letters as the client sent them */
    size_t norder;
    uint64_t cas;           /* C: compare value */
    uint64_t new_cas;       /* E: CAS to assign if the item changes */
    uint32_t client_flags;  /* F (wraps modulo 2^32 as memcached does) */
    int32_t ttl;            /* T: new TTL; negative = expire at once */
    int32_t vivify_ttl;     /* N: TTL of an item created on a miss */
    int32_t recache;        /* R: win a recache when TTL is below this */
    uint64_t delta;         /* D: ma amount, 1 when absent */
    uint64_t initial;       /* J: ma value of an item created by N */
    char mode;              /* M's letter as sent, 0 when absent */
    enum meta_op op;        /* what it selects (ms/ma) */
    const char *opaque;     /* O's argument (without the 'O'), echoed */
    size_t nopaque;         /* verbatim; opaque is NULL when absent */
    uint32_t datalen;       /* ms: data bytes without "\r\n" */
    const char *error;      /* META_CLIENT_ERROR: text after "CLIENT_ERROR " */
    size_t swallow;         /* META_CLIENT_ERROR: bytes to discard */
};

static inline bool meta_has(const struct meta_request *req, char c)
{
    return (req->flags & META_FLAG(c)) != 0;
}

/* True when the line starting at buf (leading spaces skipped) begins with
 * a two-byte token starting with 'm': route it to meta_parse(). False when
 * too few bytes are there to tell. */
bool meta_is_meta_line(const char *buf, size_t len);

/* Parse one request from buf[0..len). Never reads past len. */
enum meta_status meta_parse(const char *buf, size_t len,
                            struct meta_request *req, size_t *consumed);

/* memcached's base64 key decoding: bytes outside the alphabet are skipped,
 * the rest must be a non-zero multiple of 4, and decoding stops after the
 * first group holding '=' (1 or 2 of them; 3 or 4 is an error). Returns
 * the decoded length, or 0 on error or when cap is too small. */
size_t meta_key_decode(const char *src, size_t n, unsigned char *dst,
                       size_t cap);
/* Standard padded base64; returns the length, or 0 when cap is too small. */
size_t meta_key_encode(const unsigned char *src, size_t n, char *dst,
                       size_t cap);

/* Reply codes; each is one two-letter wire word. */
#define META_CODES(X)                                                        \
    X(VA, "VA") X(HD, "HD") X(EN, "EN") X(NF, "NF") X(NS, "NS")              \
    X(EX, "EX") X(MN, "MN")

enum meta_code {
#define META_CODE_ENUM(name, word) META_R_##name,
    META_CODES(META_CODE_ENUM)
#undef META_CODE_ENUM
    META_R__COUNT
};

/* The item as the engine saw it, filled in by the daemon for the reply. */
struct meta_item {
    const unsigned char *key; /* stored key; NULL: echo the request's key */
    size_t nkey;
    bool key_binary;         /* stored from a 'b' request: echo as base64 */
    uint32_t size;           /* VA and s: value bytes without "\r\n" (ma:
                                length of the decimal number) */
    uint64_t cas;            /* c */
    uint32_t client_flags;   /* f */
    int64_t ttl;             /* t: remaining seconds; -1 = never expires;
                                other values print modulo 2^32 as memcached
                                does ("T-1" then t shows 4294967xxx) */
    uint32_t last_access;    /* l: seconds since last access */
    bool fetched;            /* h: fetched before this request */
    bool token_sent;         /* Z: a recache token is already out */
    bool stale;              /* X: marked stale by md I */
    bool won;                /* W: this client won the recache token */
};

/* "<code>[ <size>] <echoed flags>[ Z][ X][ W]\r\n" into dst; returns the
 * length, or 0 when cap is too small (META_REPLY_MAX always fits) or code
 * is VA/HD for mg/ma without an item. The flags echoed, in the request's
 * order, are memcached 1.6.18's, plus ms HD's s (the stored size, from
 * the current protocol.txt; 1.6.18 ignores it):
 *   mg VA/HD: s t c f l h O k     mg EN: O k
 *   ma VA/HD: c t O k             ma NF/EX/NS: O k
 *   ms HD:    O k c s             ms NS/EX/NF: O k c
 *   md any:   O k
 * k writes "k<key>", plus " b" and the key re-encoded as base64 when the
 * key is binary (item->key_binary, or the request's 'b' when item is NULL
 * or has no key). MN is bare "MN\r\n"; item may be NULL for non-hits. */
size_t meta_reply(char *dst, size_t cap, enum meta_code code,
                  const struct meta_request *req,
                  const struct meta_item *item);

/* me's answer for a found item (a missing one is "EN\r\n"):
 * "ME <key> exp=<exp> la=<la> cas=<cas> fetch=<yes|no> cls=<cls>
 * size=<size>\r\n". A binary key prints as base64 (no " b"). */
struct meta_debug {
    const unsigned char *key;
    size_t nkey;
    bool key_binary;
    int64_t exp;    /* -1 when it never expires, else now - exptime: so a
                       live item shows a NEGATIVE number (memcached quirk:
                       T100 then me gives exp=-100) */
    uint64_t la;    /* seconds since last access */
    uint64_t cas;
    bool fetched;
    uint32_t cls;   /* slab class (the engine's size class) */
    uint64_t size;  /* total item bytes, header included */
};
size_t meta_debug_line(char *dst, size_t cap, const struct meta_debug *d);

/*
 * What the daemon needs from the engine, per flag (request side):
 *   b      look up / store under the decoded bytes; remember "binary key"
 *          on the item so k and me echo base64
 *   v s f  value bytes, length, client flags
 *   c      the item's CAS (ms: the CAS assigned by the store)
 *   t      remaining TTL (exptime, now)          l  last access time
 *   h      fetched-before bit, read before this fetch sets it
 *   u      fetch without LRU bump / without setting "fetched"
 *   T      set exptime (mg: touch; md with I; ma on success; ms: TTL)
 *   N      mg/ma: create on miss under the item lock (mg: empty value,
 *          TTL N, answer W); ms (protocol.txt): A/P create on miss
 *   R      TTL below R and no token sent yet: answer W, set token-sent
 *   C      compare CAS (ms/md/ma) -> EX on mismatch, NF on miss
 *   E      store with this CAS instead of a fresh one
 *   I      ms: with C, store even if the CAS is older but mark stale;
 *          md: mark stale, clear token-sent, new CAS, T if given
 *   x      md: drop the value, keep the item (protocol.txt)
 *   M      ms: add/set/append/prepend/replace; ma: incr/decr
 *   D J    ma delta and initial value (decr stops at 0, incr wraps)
 *   item bits W X Z: token-sent and stale flags kept per item
 *   q O k  nothing from the engine (reply side only)
 *   P L    accepted and ignored (reserved by memcached's proxy)
 */

#endif
