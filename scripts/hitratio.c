/*
 * hitratio.c - cache hit ratio under get-then-set-on-miss, memcached text
 * protocol.
 *
 * Not part of the daemon and not linked with it: a single self-contained
 * file, libc + libm only, built by scripts/bench-hitratio with
 *     cc -std=gnu11 -O2 -Wall -Wextra -Werror hitratio.c -lm
 *
 * Workload: R requests. Each picks a key, sends `get key` and, if the key
 * missed, `set key` with the key's value (a cache-aside client). Keys are
 * ranks 0..K-1 of a Zipf(alpha) distribution, drawn by binary search in a
 * precomputed inverse CDF table; with --scan-frac F, a share F of the
 * requests instead use one-time keys (`scan:0`, `scan:1`, ...) that never
 * come back. The random stream depends only on --seed, --alpha,
 * --scan-frac and --keys, so every daemon sees the same sequence of gets.
 *
 * A key's value size (100..4096 bytes, log-uniform), its flags and its
 * bytes are pure functions of the key, so a hit is checked byte for byte.
 *
 * Pipelining, on one connection so the server sees one order that does
 * not depend on timing: a batch is up to P gets. The sets for the misses
 * of batch n are written in front of the gets of batch n+1, in the same
 * write, so the server sees: sets(misses of n), gets(n+1), sets(misses of
 * n+1), ... A hot key can appear twice in a batch; when its first get
 * misses, a sequential client would have set it before the second get, so
 * the second get's reply (a miss caused only by the pipelining) is voided:
 * not counted, and that request moves to the front of the next batch,
 * behind the set. A voided get is a miss, which changes no cache state, so
 * every counted request sees the cache as a sequential client would, with
 * two bounded shifts: a miss is filled up to P-1 gets late, and a voided
 * request is served up to P-1 gets late. With -P 1 the order is strictly
 * get, set-on-miss, get, ... Server get_misses include the voided gets;
 * server get_hits must equal hits.
 *
 * The first --warmup-pct of the requests are excluded from hit_ratio (the
 * cache starts empty); full_ratio counts every request.
 *
 * Errors: `SERVER_ERROR out of memory...` replies to sets are counted as
 * oom_errors, apart from every other error reply (errors) and from wrong
 * values (bad_values). A malformed reply, a closed connection or no
 * progress for --timeout-ms ends the run (aborted=1). A SIGALRM watchdog
 * bounds the whole process.
 *
 * Output: one human line on stderr and one `RESULT key=value ...` line on
 * stdout. Exit status: 0 if errors, bad_values and aborted are all zero
 * (oom_errors do not count), 1 otherwise, 2 on bad usage, 3 if the
 * watchdog fires.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <poll.h>

#define BENCH_PROG "hitratio"
#include "bench_common.h"

#define VMIN 100               /* smallest value, bytes */
#define VMAX 4096              /* largest value, bytes */
#define SIZE_TAB 4096          /* log-uniform value sizes, indexed by hash */
#define PAT_ALPHABET 62
#define PAT_OFFSETS 64
#define MAX_PIPELINE 256
#define MAX_KEY 32             /* "scan:" + 19 digits fits */
#define RBUF_SIZE (512 * 1024)
#define MAX_LINE 1024          /* longest reply line we accept */

/* ---- configuration --------------------------------------------------- */

struct config {
    struct sockaddr_in addr;
    char target[80];
    long requests, keys;
    double alpha, scan_frac, warmup_pct;
    int pipeline, timeout_ms, max_seconds;
    uint64_t seed;
};

/* ---- deterministic helpers ------------------------------------------- */

static uint64_t mix64(uint64_t x)   /* splitmix64 finaliser */
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t rng_next(uint64_t *s)  /* splitmix64 */
{
    *s += 0x9E3779B97F4A7C15ull;
    return mix64(*s);
}

static double rng_unit(uint64_t *s)    /* uniform in [0, 1) */
{
    return (double)(rng_next(s) >> 11) * 0x1p-53;
}

/* ---- keys and values ------------------------------------------------- */

/* One request, and what its value must be. */
struct req {
    long id;                   /* Zipf rank, or scan sequence number */
    long index;                /* position in the request sequence */
    uint64_t h;                /* hash of the key: size, flags, bytes */
    uint32_t vlen, flags;
    uint8_t klen;
    bool scan;
    char key[MAX_KEY];
};

static uint16_t g_sizes[SIZE_TAB];
static char g_pattern[PAT_OFFSETS + VMAX];

static void values_init(void)
{
    static const char abc[PAT_ALPHABET + 1] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    double span = log((double)VMAX / VMIN);
    for (int i = 0; i < SIZE_TAB; i++) {
        long v = lround(VMIN * exp(span * (i + 0.5) / SIZE_TAB));
        g_sizes[i] = (uint16_t)(v < VMIN ? VMIN : v > VMAX ? VMAX : v);
    }
    for (size_t i = 0; i < sizeof g_pattern; i++)
        g_pattern[i] = abc[i % PAT_ALPHABET];
}

static int fmt_ulong(char *out, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Fill in everything derived from (scan, id). */
static void req_describe(struct req *r)
{
    const char *prefix = r->scan ? "scan:" : "key:";
    size_t plen = strlen(prefix);
    memcpy(r->key, prefix, plen);
    r->klen = (uint8_t)(plen + (size_t)fmt_ulong(r->key + plen, (unsigned long)r->id));
    r->h = mix64(((uint64_t)r->id << 1 | r->scan) ^ 0x5A17C0DEull);
    r->vlen = g_sizes[r->h % SIZE_TAB];
    r->flags = (uint32_t)(r->h >> 48);
}

/* A value is "<key>|" then the pattern from a key-chosen offset. */
static const char *value_tail(const struct req *r)
{
    return g_pattern + (r->h >> 20) % PAT_OFFSETS;
}

static bool value_ok(const struct req *r, const char *data)
{
    size_t tail = r->vlen - r->klen - 1u;
    return memcmp(data, r->key, r->klen) == 0 && data[r->klen] == '|' &&
           memcmp(data + r->klen + 1, value_tail(r), tail) == 0;
}

/* ---- Zipf sampler ---------------------------------------------------- */

struct gen {
    const struct config *cfg;
    double *cdf;               /* cdf[i] = P(rank <= i) */
    uint64_t rng, seq_hash;
    long next_index, scan_next;
};

static int gen_init(struct gen *g, const struct config *cfg)
{
    memset(g, 0, sizeof *g);
    g->cfg = cfg;
    g->cdf = malloc((size_t)cfg->keys * sizeof *g->cdf);
    if (g->cdf == NULL)
        return -1;
    double sum = 0;
    for (long i = 0; i < cfg->keys; i++) {
        sum += pow((double)(i + 1), -cfg->alpha);
        g->cdf[i] = sum;
    }
    for (long i = 0; i < cfg->keys; i++)
        g->cdf[i] /= sum;
    g->cdf[cfg->keys - 1] = 1.0;
    g->rng = mix64(cfg->seed ^ 0x68697472617469ull);
    g->seq_hash = 1469598103934665603ull;
    return 0;
}

/* Smallest rank whose cdf exceeds u. */
static long zipf_rank(const struct gen *g, double u)
{
    long lo = 0, hi = g->cfg->keys - 1;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (g->cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void gen_draw(struct gen *g, struct req *r)
{
    memset(r, 0, sizeof *r);
    r->scan = g->cfg->scan_frac > 0 && rng_unit(&g->rng) < g->cfg->scan_frac;
    r->id = r->scan ? g->scan_next++ : zipf_rank(g, rng_unit(&g->rng));
    req_describe(r);
    g->seq_hash = (g->seq_hash ^ (r->h + (uint64_t)r->scan)) * 1099511628211ull;
}

/* Next batch: the `ndefer` requests already at the front of `out`, then
 * fresh ones, up to `max` in all. Returns the batch size, 0 when every
 * request has been issued and served. */
static int gen_batch(struct gen *g, struct req *out, int ndefer, int max)
{
    int n = ndefer;
    while (n < max && g->next_index < g->cfg->requests) {
        gen_draw(g, &out[n]);
        out[n++].index = g->next_index++;
    }
    return n;
}

/* ---- tallies --------------------------------------------------------- */

struct tally {
    uint64_t gets, hits, w_gets, w_hits;     /* w_: after the warm-up */
    uint64_t w_zipf_gets, w_zipf_hits;
    uint64_t sets, stored, oom_errors, errors, bad_values, voided;
    long warm_n;
    char first_error[160], first_oom[160];
};

static void note(char *slot, size_t cap, const char *line, size_t len)
{
    if (slot[0] == '\0')
        snprintf(slot, cap, "%.*s", (int)(len > 120 ? 120 : len), line);
}

static void count_get(struct tally *t, const struct req *r, bool hit)
{
    t->gets++;
    t->hits += hit;
    if (r->index < t->warm_n)
        return;
    t->w_gets++;
    t->w_hits += hit;
    if (!r->scan) {
        t->w_zipf_gets++;
        t->w_zipf_hits += hit;
    }
}

/* ---- the connection -------------------------------------------------- */

enum result { RES_MISS, RES_HIT, RES_ERR, RES_VOID };

struct client {
    const struct config *cfg;
    int fd;
    char *wbuf, *rbuf;
    size_t wlen, woff, wcap, rlen, roff;
    /* the exchange in flight: sets first, then gets */
    struct req *sets, *gets;
    uint8_t *res;              /* per get */
    int nsets, ngets, cur;
    struct tally *t;
    char abort_reason[200];
};

static int client_init(struct client *c, const struct config *cfg, struct tally *t)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->t = t;
    c->wcap = (size_t)cfg->pipeline * (VMAX + 2 * MAX_KEY + 64) + 4096;
    c->wbuf = malloc(c->wcap);
    c->rbuf = malloc(RBUF_SIZE);
    c->sets = calloc(MAX_PIPELINE, sizeof *c->sets);
    c->gets = calloc(MAX_PIPELINE, sizeof *c->gets);
    c->res = calloc(MAX_PIPELINE, 1);
    c->fd = -1;
    if (!c->wbuf || !c->rbuf || !c->sets || !c->gets || !c->res)
        return -1;
    c->fd = bench_connect(&cfg->addr, cfg->timeout_ms,
                          4 << 20);  /* a whole batch each way: no partial writes */
    return c->fd < 0 ? -1 : 0;
}

static void client_deinit(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->wbuf);
    free(c->rbuf);
    free(c->sets);
    free(c->gets);
    free(c->res);
}

static void put(struct client *c, const void *p, size_t n)
{
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
}

static void put_set(struct client *c, const struct req *r)
{
    char head[MAX_KEY + 48];
    int n = snprintf(head, sizeof head, "set %.*s %u 0 %u\r\n", (int)r->klen, r->key,
                     r->flags, r->vlen);
    put(c, head, (size_t)n);
    put(c, r->key, r->klen);
    put(c, "|", 1);
    put(c, value_tail(r), r->vlen - r->klen - 1u);
    put(c, "\r\n", 2);
}

static void put_get(struct client *c, const struct req *r)
{
    put(c, "get ", 4);
    put(c, r->key, r->klen);
    put(c, "\r\n", 2);
}

/* ---- parsing replies ------------------------------------------------- */

static bool starts(const char *line, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && memcmp(line, word, n) == 0;
}


static int on_set_reply(struct client *c, const char *line, size_t len)
{
    struct tally *t = c->t;
    if (len == 6 && memcmp(line, "STORED", 6) == 0) {
        t->stored++;
    } else if (starts(line, len, "SERVER_ERROR out of memory")) {
        t->oom_errors++;
        note(t->first_oom, sizeof t->first_oom, line, len);
    } else if (bench_is_error_line(line, len)) {
        t->errors++;
        note(t->first_error, sizeof t->first_error, line, len);
    } else {
        return -1;
    }
    return 1;
}

/* "VALUE <key> <flags> <bytes>" + data + "\r\nEND\r\n" for get r, whose
 * header line is `len` bytes at `line` (without CRLF) and `avail` bytes are
 * buffered from `line` on. 1 consumed (sets *used), 0 need more, -1 bad. */
static int on_value(struct client *c, const struct req *r, const char *line, size_t len,
                    size_t avail, size_t *used)
{
    const char *end = line + len, *key = line + 6, *p = key;
    unsigned long long flags, bytes;
    while (p < end && *p != ' ')
        p++;
    size_t klen = (size_t)(p - key);
    if (p >= end || *p++ != ' ' || !bench_parse_num(&p, end, &flags) || p >= end ||
        *p++ != ' ' || !bench_parse_num(&p, end, &bytes) || p != end || bytes > (1u << 30))
        return -1;
    size_t need = len + 2 + (size_t)bytes + 2 + 5;
    if (need > RBUF_SIZE)
        return -1;
    if (avail < need)
        return 0;
    const char *data = line + len + 2;
    if (memcmp(data + bytes, "\r\nEND\r\n", 7) != 0)
        return -1;
    bool ok = klen == r->klen && memcmp(key, r->key, klen) == 0 && flags == r->flags &&
              bytes == r->vlen && value_ok(r, data);
    if (!ok) {
        c->t->bad_values++;
        note(c->t->first_error, sizeof c->t->first_error, line, len);
    }
    *used = need;
    return ok ? 1 : 2;
}

/* Parse the reply for c->cur. 1 consumed, 0 need more, -1 malformed. */
static int parse_one(struct client *c)
{
    const char *line = c->rbuf + c->roff;
    size_t avail = c->rlen - c->roff, len;
    int lrc = bench_line(line, avail, MAX_LINE, &len);
    if (lrc <= 0)
        return lrc;
    size_t used = len + 2;
    if (c->cur < c->nsets) {
        int rc = on_set_reply(c, line, len);
        if (rc > 0)
            c->roff += used;
        return rc;
    }
    int gi = c->cur - c->nsets;
    const struct req *r = &c->gets[gi];
    int rc = 1;
    if (len == 3 && memcmp(line, "END", 3) == 0) {
        c->res[gi] = RES_MISS;
    } else if (starts(line, len, "VALUE ")) {
        rc = on_value(c, r, line, len, avail, &used);
        if (rc <= 0)
            return rc;
        c->res[gi] = rc == 1 ? RES_HIT : RES_ERR;
        rc = 1;
    } else if (bench_is_error_line(line, len)) {
        c->t->errors++;
        note(c->t->first_error, sizeof c->t->first_error, line, len);
        c->res[gi] = RES_ERR;
    } else {
        return -1;
    }
    c->roff += used;
    return 1;
}

/* ---- one exchange ---------------------------------------------------- */

static int fail(struct client *c, const char *what)
{
    snprintf(c->abort_reason, sizeof c->abort_reason, "%s", what);
    return -1;
}

/* One recv (blocking up to SO_RCVTIMEO unless `flags` has MSG_DONTWAIT),
 * then parse what arrived. 1 progress, 0 nothing yet, -1 aborted. */
static int do_recv(struct client *c, int flags)
{
    if (c->roff == c->rlen) {
        c->roff = c->rlen = 0;
    } else if (RBUF_SIZE - c->rlen < 64 * 1024) {
        memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
        c->rlen -= c->roff;
        c->roff = 0;
    }
    ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, flags);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n == 0)
        return fail(c, "connection closed by the server");
    if (n < 0)
        return fail(c, strerror(errno));
    c->rlen += (size_t)n;
    int total = c->nsets + c->ngets, rc = 0;
    while (c->cur < total && (rc = parse_one(c)) > 0)
        c->cur++;
    if (c->cur < total && rc < 0) {
        char msg[200];
        const char *l = c->rbuf + c->roff;
        size_t left = c->rlen - c->roff;
        snprintf(msg, sizeof msg, "malformed reply '%.60s'", left ? l : "");
        for (char *q = msg; *q; q++)
            if (*q == '\r' || *q == '\n')
                *q = ' ';
        return fail(c, msg);
    }
    if (c->cur == total && c->roff != c->rlen)
        return fail(c, "bytes beyond the expected replies");
    return 1;
}

static int do_send(struct client *c)
{
    ssize_t w = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return fail(c, strerror(errno));
    if (w > 0)
        c->woff += (size_t)w;
    return 0;
}

/* Write wbuf, read and parse every expected reply. 0 ok, -1 aborted.
 * While a write is pending, poll() for both directions (the server may
 * block on its replies until we read them); once it is all written, plain
 * blocking reads bounded by SO_RCVTIMEO, which saves a syscall per read. */
static int exchange(struct client *c)
{
    int total = c->nsets + c->ngets;
    c->woff = 0;
    c->cur = 0;
    if (do_send(c) < 0)
        return -1;
    while (c->cur < total) {
        if (c->woff == c->wlen) {
            int rc = do_recv(c, 0);
            if (rc < 0)
                return -1;
            if (rc == 0 && errno != EINTR)
                return fail(c, "no reply before --timeout-ms");
            continue;
        }
        struct pollfd pfd = { c->fd, POLLIN | POLLOUT, 0 };
        int n = poll(&pfd, 1, c->cfg->timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(c, strerror(errno));
        if (n == 0)
            return fail(c, "no progress before --timeout-ms");
        if ((pfd.revents & POLLOUT) && do_send(c) < 0)
            return -1;
        if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && do_recv(c, MSG_DONTWAIT) < 0)
            return -1;
    }
    return 0;
}

/* ---- the run --------------------------------------------------------- */

static bool same_key(const struct req *a, const struct req *b)
{
    return a->id == b->id && a->scan == b->scan;
}

/* After an exchange: count the gets, void a miss whose key already missed
 * earlier in the batch, and queue the sets (for real misses) and the
 * voided requests (to retry). Returns the number voided; they are moved
 * to the front of c->gets, the sets to c->sets (c->nsets). */
static int settle(struct client *c)
{
    int nvoid = 0, nsets = 0;
    for (int j = 0; j < c->ngets; j++) {
        const struct req *r = &c->gets[j];
        for (int i = 0; i < j && c->res[j] == RES_MISS; i++)
            if ((c->res[i] == RES_MISS || c->res[i] == RES_VOID) && same_key(&c->gets[i], r))
                c->res[j] = RES_VOID;
        if (c->res[j] == RES_VOID) {
            c->t->voided++;
            continue;
        }
        count_get(c->t, r, c->res[j] == RES_HIT);
        if (c->res[j] == RES_MISS)
            c->sets[nsets++] = *r;
    }
    for (int j = 0; j < c->ngets; j++)   /* in order; nvoid <= j */
        if (c->res[j] == RES_VOID)
            c->gets[nvoid++] = c->gets[j];
    c->nsets = nsets;
    return nvoid;
}

/* Drive every request; the sets for a batch's misses ride with the next
 * batch. Each turn settles at least one get (the first get of a key in a
 * batch is never voided) or sends only sets, after which none are left,
 * so the loop ends after at most 2 * requests + 1 turns. */
static int run(struct client *c, struct gen *g)
{
    int ndefer = 0;
    c->nsets = 0;
    for (;;) {
        int ngets = gen_batch(g, c->gets, ndefer, c->cfg->pipeline);
        if (ngets == 0 && c->nsets == 0)
            return 0;
        c->wlen = 0;
        for (int i = 0; i < c->nsets; i++)
            put_set(c, &c->sets[i]);
        for (int i = 0; i < ngets; i++)
            put_get(c, &c->gets[i]);
        c->ngets = ngets;
        c->t->sets += (uint64_t)c->nsets;
        if (exchange(c) < 0)
            return -1;
        ndefer = settle(c);
    }
}

struct srvstats {
    long long curr_items, evictions, get_hits, get_misses, limit_maxbytes;
};

/* `stats` on the run's connection; fields not reported stay -1. */
static struct srvstats query_stats(struct client *c)
{
    struct srvstats s = { -1, -1, -1, -1, -1 };
    static const struct bench_stat_field fields[] = {
        { "curr_items", offsetof(struct srvstats, curr_items) },
        { "evictions", offsetof(struct srvstats, evictions) },
        { "get_hits", offsetof(struct srvstats, get_hits) },
        { "get_misses", offsetof(struct srvstats, get_misses) },
        { "limit_maxbytes", offsetof(struct srvstats, limit_maxbytes) },
    };
    bench_stats(c->fd, fields, sizeof fields / sizeof fields[0], &s);
    return s;
}

/* ---- options --------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
"usage: hitratio [options]\n"
"  -s, --server HOST:PORT   target (loopback only)          [127.0.0.1:11211]\n"
"  -n, --requests N         gets issued (sets follow misses)   [2000000]\n"
"  -k, --keys N             Zipf key space                      [600000]\n"
"  -a, --alpha A            Zipf exponent, 0..3                 [0.99]\n"
"      --scan-frac F        share of one-time scan keys, 0..0.9 [0]\n"
"  -w, --warmup-pct P       leading requests left out of hit_ratio [20]\n"
"  -P, --pipeline N         gets per batch, 1..%d              [64]\n"
"      --seed N             RNG seed                            [1]\n"
"      --timeout-ms N       give up when the server is silent   [5000]\n"
"      --max-seconds N      watchdog for the whole run          [1800]\n"
"Prints a human summary on stderr and a RESULT line on stdout; exits 1 on\n"
"errors, bad values or an aborted run (not on out-of-memory set replies),\n"
"2 on bad usage, 3 if the watchdog fires.\n", MAX_PIPELINE);
}

static void parse_options(struct config *cfg, int argc, char **argv)
{
    enum { O_SCAN = 256, O_SEED, O_TMO, O_MAXS };
    static const struct option opts[] = {
        { "server", 1, 0, 's' }, { "requests", 1, 0, 'n' }, { "keys", 1, 0, 'k' },
        { "alpha", 1, 0, 'a' }, { "scan-frac", 1, 0, O_SCAN },
        { "warmup-pct", 1, 0, 'w' }, { "pipeline", 1, 0, 'P' },
        { "seed", 1, 0, O_SEED }, { "timeout-ms", 1, 0, O_TMO },
        { "max-seconds", 1, 0, O_MAXS }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
    };
    *cfg = (struct config){ .requests = 2000000, .keys = 600000, .alpha = 0.99,
        .warmup_pct = 20, .pipeline = 64, .timeout_ms = 5000, .max_seconds = 1800,
        .seed = 1 };
    opt_server("127.0.0.1:11211", &cfg->addr, cfg->target, sizeof cfg->target);
    int o;
    while ((o = getopt_long(argc, argv, "s:n:k:a:w:P:h", opts, NULL)) != -1) {
        switch (o) {
        case 's': opt_server(optarg, &cfg->addr, cfg->target, sizeof cfg->target); break;
        case 'n': cfg->requests = opt_long("requests", optarg, 1, 1000000000L); break;
        case 'k': cfg->keys = opt_long("keys", optarg, 1, 100000000L); break;
        case 'a': cfg->alpha = opt_double("alpha", optarg, 0, 3); break;
        case O_SCAN: cfg->scan_frac = opt_double("scan-frac", optarg, 0, 0.9); break;
        case 'w': cfg->warmup_pct = opt_double("warmup-pct", optarg, 0, 90); break;
        case 'P': cfg->pipeline = (int)opt_long("pipeline", optarg, 1, MAX_PIPELINE); break;
        case O_SEED: cfg->seed = (uint64_t)opt_long("seed", optarg, 0, LONG_MAX); break;
        case O_TMO: cfg->timeout_ms = (int)opt_long("timeout-ms", optarg, 10, 60000); break;
        case O_MAXS: cfg->max_seconds = (int)opt_long("max-seconds", optarg, 1, 86400); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc) {
        usage(stderr);
        exit(2);
    }
}

/* ---- reporting ------------------------------------------------------- */

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0;
}

static int report(const struct config *cfg, const struct client *c, const struct gen *g,
                  double secs, struct srvstats s, bool aborted)
{
    const struct tally *t = c->t;
    double rps = secs > 0 ? (double)t->gets / secs : 0;
    double ops = secs > 0 ? (double)(t->gets + t->sets) / secs : 0;
    printf("RESULT requests=%ld gets=%llu hits=%llu misses=%llu hit_ratio=%.4f "
           "full_ratio=%.4f zipf_ratio=%.4f measured_gets=%llu measured_hits=%llu "
           "sets=%llu stored=%llu oom_errors=%llu errors=%llu bad_values=%llu voided=%llu "
           "aborted=%d elapsed=%.2f rps=%.0f ops_per_sec=%.0f curr_items=%lld "
           "evictions=%lld server_get_hits=%lld server_get_misses=%lld "
           "limit_maxbytes=%lld seq_hash=%016llx\n",
           cfg->requests, (unsigned long long)t->gets, (unsigned long long)t->hits,
           (unsigned long long)(t->gets - t->hits), ratio(t->w_hits, t->w_gets),
           ratio(t->hits, t->gets), ratio(t->w_zipf_hits, t->w_zipf_gets),
           (unsigned long long)t->w_gets, (unsigned long long)t->w_hits,
           (unsigned long long)t->sets, (unsigned long long)t->stored,
           (unsigned long long)t->oom_errors, (unsigned long long)t->errors,
           (unsigned long long)t->bad_values, (unsigned long long)t->voided,
           aborted ? 1 : 0, secs, rps, ops,
           s.curr_items, s.evictions, s.get_hits, s.get_misses, s.limit_maxbytes,
           (unsigned long long)g->seq_hash);
    fprintf(stderr, "hitratio %s: alpha %.2f scan %.2f keys %ld: hit ratio %.2f%% "
            "(full run %.2f%%) over %llu gets in %.2fs (%.0f gets/s); sets %llu, "
            "oom %llu, errors %llu, bad values %llu\n", cfg->target, cfg->alpha,
            cfg->scan_frac, cfg->keys, 100 * ratio(t->w_hits, t->w_gets),
            100 * ratio(t->hits, t->gets), (unsigned long long)t->gets, secs, rps,
            (unsigned long long)t->sets, (unsigned long long)t->oom_errors,
            (unsigned long long)t->errors, (unsigned long long)t->bad_values);
    if (t->first_oom[0])
        fprintf(stderr, "hitratio: first out-of-memory reply: %s\n", t->first_oom);
    if (t->first_error[0])
        fprintf(stderr, "hitratio: first error: %s\n", t->first_error);
    if (aborted)
        fprintf(stderr, "hitratio: run aborted: %s\n", c->abort_reason);
    return aborted || t->errors || t->bad_values ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct config cfg;
    static struct tally t;
    struct client c;
    struct gen g;
    parse_options(&cfg, argc, argv);
    bench_watchdog((unsigned)cfg.max_seconds);
    values_init();
    t.warm_n = (long)((double)cfg.requests * cfg.warmup_pct / 100.0);
    if (gen_init(&g, &cfg) < 0) {
        fprintf(stderr, "hitratio: out of memory for the Zipf table\n");
        return 1;
    }
    if (client_init(&c, &cfg, &t) < 0) {
        fprintf(stderr, "hitratio: cannot connect to %s: %s\n", cfg.target, strerror(errno));
        return 1;
    }
    uint64_t t0 = now_ns();
    bool aborted = run(&c, &g) < 0;
    double secs = (double)(now_ns() - t0) / 1e9;
    struct srvstats s = { -1, -1, -1, -1, -1 };
    if (!aborted)
        s = query_stats(&c);
    int rc = report(&cfg, &c, &g, secs, s, aborted);
    client_deinit(&c);
    free(g.cdf);
    return rc;
}
