/*
 * loadgen.c - closed-loop load generator for the memcached text protocol.
 *
 * Not part of the daemon and not linked with it: a single self-contained
 * file, libc + pthreads only, built by scripts/bench with
 *     cc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread loadgen.c
 *
 * Model: T threads, each owning C non-blocking connections driven by one
 * poll() loop. A connection repeatedly writes one batch of P requests
 * (P = pipeline depth; a request is a "get" of M keys or a "set" of one
 * key), reads every reply of the batch, and records the batch latency
 * (first byte written -> last reply byte read, CLOCK_MONOTONIC) in a
 * per-thread log-linear histogram. Batches still in flight when the
 * duration ends are abandoned and not counted.
 *
 * Phases: optional preload (every key set once, 64 sets per batch), then
 * the measured run. Threads meet on a barrier between the two so the run
 * starts together; the main thread samples the server's `stats` before
 * and after, as an independent check of the client-side counts.
 * --fill instead sets fresh keys until the server reports evictions and
 * prints curr_items (items that fit in -m).
 *
 * Replies are verified: STORED for every set, VALUE lines whose keys are
 * an in-order subsequence of the requested keys, the announced length
 * equal to --value-size, data followed by CRLF, END closing each get
 * (with --verify-values, the value bytes too). Anything else counts as an
 * error; a malformed reply or no progress for --timeout-ms kills the
 * connection. A SIGALRM watchdog bounds the whole process.
 *
 * With --server-pid, the server's CPU time over the measured run is read
 * from /proc and reported per op: on a small, shared machine that is a
 * steadier measure of a server's efficiency than its throughput.
 *
 * Output: one human line on stderr and one `RESULT key=value ...` line on
 * stdout. Exit status 0 only if there were no errors.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/resource.h>

#define BENCH_PROG "loadgen"
#include "bench_common.h"

#define PRELOAD_DEPTH 64       /* sets per batch while preloading/filling */
#define FILL_CHECK_EVERY 2048  /* sets between two `stats` polls in --fill */
#define RBUF_SIZE (256 * 1024)
#define MAX_LINE 4096          /* longest reply line we accept */
#define PHASE_BUDGET_S 300     /* watchdog allowance for preload/fill */

/* ---- log-linear histogram ------------------------------------------- */
/*
 * Values in ns. Below 2^SUB_BITS one bucket per value; above, each power
 * of two is split into 2^SUB_BITS equal buckets, so the relative error is
 * below 1/64 (1.6 %). Bucket index layout:
 *   v < 64:              idx = v
 *   v in [64<<s, 128<<s): idx = (s + 1) * 64 + ((v >> s) & 63)
 */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_SHIFT 34      /* ~2^40 ns = 18 minutes, then clamped */
#define HIST_BUCKETS ((HIST_MAX_SHIFT + 2) * HIST_SUB)

struct hist {
    uint64_t count, max, sum;
    uint64_t b[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
    if (shift > HIST_MAX_SHIFT)
        return HIST_BUCKETS - 1;
    return ((shift + 1) << HIST_SUB_BITS) | (unsigned)((v >> shift) & (HIST_SUB - 1));
}

/* Midpoint of a bucket. */
static uint64_t hist_value(unsigned idx)
{
    if (idx < HIST_SUB)
        return idx;
    unsigned shift = (idx >> HIST_SUB_BITS) - 1;
    uint64_t lo = (uint64_t)(HIST_SUB + (idx & (HIST_SUB - 1))) << shift;
    return lo + (((uint64_t)1 << shift) >> 1);
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(struct hist *into, const struct hist *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
}

/* Value at percentile p (0 < p <= 100), in ns; 0 for an empty histogram. */
static uint64_t hist_pct(const struct hist *h, double p)
{
    if (h->count == 0)
        return 0;
    double want = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want || rank == 0)
        rank++;                       /* ceil, at least 1 */
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = hist_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

/* ---- configuration --------------------------------------------------- */

struct config {
    struct sockaddr_in addr;
    char target[80];           /* "host:port", for messages */
    int threads, conns, pipeline, multiget, key_size, value_size, timeout_ms;
    long keys;
    double duration, get_ratio;
    bool preload, fill, verify_values;
    uint64_t seed;
    long server_pid;           /* 0: do not sample the server's CPU */
};

/* xorshift64*: fast, good enough to pick keys. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Key `id` as exactly `ksz` bytes: 'k' then the id zero-padded. */
static void key_format(char *out, int ksz, long id)
{
    out[0] = 'k';
    for (int i = ksz - 1; i >= 1; i--) {
        out[i] = (char)('0' + id % 10);
        id /= 10;
    }
}

/* Every byte of key id's value is this letter, so a mixed-up value shows. */
static char value_char(long id)
{
    return (char)('a' + id % 26);
}

/* ---- connections ----------------------------------------------------- */

enum req_type { REQ_GET, REQ_SET };

struct req {
    uint8_t type;
    uint16_t nkeys;
    uint32_t first;            /* index of its first key in conn->keyids */
};

enum conn_state { C_IDLE, C_WRITE, C_READ, C_DEAD };

struct conn {
    int fd;
    enum conn_state st;
    char *wbuf;
    size_t wlen, woff, wcap;
    char *rbuf;
    size_t rlen, roff;
    struct req *reqs;
    int nreqs, cur, kpos;      /* cur: request whose reply is being read */
    long *keyids;
    size_t data_left;          /* value bytes + CRLF still to consume */
    char expect_ch;
    uint32_t batch_hits, batch_stored;  /* credited when the batch completes */
    uint64_t t_start, t_last;
};

struct counters {
    uint64_t batches, ops, gets, sets, keys, hits, stored, errors,
             bad_values, timeouts, conn_failures;
};

enum phase { PH_SEQ, PH_RUN };  /* SEQ: sequential sets (preload, fill) */

struct worker {
    const struct config *cfg;
    pthread_t tid;
    struct conn *conns;
    uint64_t rng;
    long seq_next, seq_end;
    uint64_t fill_next_check;
    bool fill_done;
    double elapsed;
    struct counters c;
    char first_error[160];
    struct hist hist;
};

static pthread_barrier_t g_preloaded, g_go;
static bool g_abort;           /* set before g_go if preload failed */

static void conn_fail(struct worker *w, struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void conn_fail(struct worker *w, struct conn *c, const char *fmt, ...)
{
    if (w->first_error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->first_error, sizeof w->first_error, fmt, ap);
        va_end(ap);
    }
    if (c != NULL && c->st != C_DEAD) {
        close(c->fd);
        c->fd = -1;
        c->st = C_DEAD;
        w->c.conn_failures++;
    }
}

static void note_error(struct worker *w, const char *line, size_t len)
{
    w->c.errors++;
    if (w->first_error[0] == '\0')
        snprintf(w->first_error, sizeof w->first_error, "server replied '%.*s'",
                 (int)(len > 100 ? 100 : len), line);
}

/* Blocking connect with a timeout; the socket is left blocking with
 * send/receive timeouts set, or made non-blocking. Returns fd or -1. */
static int connect_to(const struct config *cfg, bool nonblock)
{
    int fd = bench_connect(&cfg->addr, cfg->timeout_ms, 0);
    if (fd >= 0 && nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int conn_init(struct conn *c, const struct config *cfg)
{
    int depth = cfg->pipeline > PRELOAD_DEPTH ? cfg->pipeline : PRELOAD_DEPTH;
    int mkeys = cfg->multiget > 1 ? cfg->multiget : 1;
    size_t get_len = 8 + (size_t)mkeys * (size_t)(cfg->key_size + 1);
    size_t set_len = 48 + (size_t)cfg->key_size + (size_t)cfg->value_size;
    memset(c, 0, sizeof *c);
    c->wcap = (size_t)depth * (get_len > set_len ? get_len : set_len);
    c->wbuf = malloc(c->wcap);
    c->rbuf = malloc(RBUF_SIZE);
    c->reqs = calloc((size_t)depth, sizeof *c->reqs);
    c->keyids = calloc((size_t)depth * (size_t)mkeys, sizeof *c->keyids);
    if (!c->wbuf || !c->rbuf || !c->reqs || !c->keyids)
        return -1;
    c->fd = connect_to(cfg, true);
    c->st = c->fd < 0 ? C_DEAD : C_IDLE;
    return c->fd < 0 ? -1 : 0;
}

static void conn_deinit(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->wbuf);
    free(c->rbuf);
    free(c->reqs);
    free(c->keyids);
}

/* ---- building a batch ------------------------------------------------ */

static void append_set(struct conn *c, const struct config *cfg, long id)
{
    struct req *r = &c->reqs[c->nreqs++];
    r->type = REQ_SET;
    r->nkeys = 1;
    r->first = 0;
    char *p = c->wbuf + c->wlen;
    memcpy(p, "set ", 4);
    key_format(p + 4, cfg->key_size, id);
    p += 4 + cfg->key_size;
    p += sprintf(p, " 0 0 %d\r\n", cfg->value_size);
    memset(p, value_char(id), (size_t)cfg->value_size);
    p += cfg->value_size;
    memcpy(p, "\r\n", 2);
    c->wlen = (size_t)(p + 2 - c->wbuf);
}

static void append_get(struct conn *c, const struct config *cfg, uint64_t *rng,
                       uint32_t *kidx)
{
    struct req *r = &c->reqs[c->nreqs++];
    r->type = REQ_GET;
    r->nkeys = (uint16_t)cfg->multiget;
    r->first = *kidx;
    char *p = c->wbuf + c->wlen;
    memcpy(p, "get", 3);
    p += 3;
    for (int k = 0; k < cfg->multiget; k++) {
        long id = (long)(rng_next(rng) % (uint64_t)cfg->keys);
        c->keyids[(*kidx)++] = id;
        *p++ = ' ';
        key_format(p, cfg->key_size, id);
        p += cfg->key_size;
    }
    memcpy(p, "\r\n", 2);
    c->wlen = (size_t)(p + 2 - c->wbuf);
}

/* Fill c with the next batch; false when the phase has no more work. */
static bool build_batch(struct worker *w, struct conn *c, enum phase ph)
{
    const struct config *cfg = w->cfg;
    c->wlen = c->woff = 0;
    c->nreqs = c->cur = c->kpos = 0;
    c->data_left = 0;
    c->batch_hits = c->batch_stored = 0;
    if (ph == PH_SEQ) {
        for (int i = 0; i < PRELOAD_DEPTH && w->seq_next < w->seq_end; i++)
            append_set(c, cfg, w->seq_next++);
        return c->nreqs > 0;
    }
    uint32_t kidx = 0;
    uint64_t threshold = (uint64_t)(cfg->get_ratio * 4294967296.0);
    for (int i = 0; i < cfg->pipeline; i++) {
        if ((rng_next(&w->rng) >> 32) < threshold)
            append_get(c, cfg, &w->rng, &kidx);
        else
            append_set(c, cfg, (long)(rng_next(&w->rng) % (uint64_t)cfg->keys));
    }
    return true;
}

/* ---- parsing replies ------------------------------------------------- */

static bool line_is(const char *line, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len == n && memcmp(line, word, n) == 0;
}


/* "VALUE <key> <flags> <bytes>[ <cas>]" for the current get. 0 ok, -1 bad. */
static int on_value_line(struct worker *w, struct conn *c, const struct req *r,
                         const char *line, size_t len)
{
    const struct config *cfg = w->cfg;
    const char *end = line + len, *key = line + 6, *p = key;
    while (p < end && *p != ' ')
        p++;
    size_t klen = (size_t)(p - key);
    unsigned long long flags, bytes;
    if (p >= end)
        return -1;
    p++;
    if (!bench_parse_num(&p, end, &flags) || p >= end || *p++ != ' ' ||
        !bench_parse_num(&p, end, &bytes) || (p < end && *p != ' '))
        return -1;
    char want[256];
    bool found = false;
    while (c->kpos < r->nkeys && !found) {
        long id = c->keyids[r->first + (uint32_t)c->kpos++];
        key_format(want, cfg->key_size, id);
        found = klen == (size_t)cfg->key_size && memcmp(want, key, klen) == 0;
        c->expect_ch = value_char(id);
    }
    if (!found)
        return -1;
    c->batch_hits++;
    if (bytes != (unsigned long long)cfg->value_size)
        w->c.bad_values++;
    c->data_left = (size_t)bytes + 2;
    return 0;
}

/* One complete reply line for request c->cur. 0 ok, -1 protocol error. */
static int on_line(struct worker *w, struct conn *c, const char *line, size_t len)
{
    const struct req *r = &c->reqs[c->cur];
    if (r->type == REQ_SET) {
        if (line_is(line, len, "STORED"))
            c->batch_stored++;
        else if (bench_is_error_line(line, len))
            note_error(w, line, len);
        else
            return -1;
        c->cur++;
        return 0;
    }
    if (line_is(line, len, "END")) {
        c->cur++;
        c->kpos = 0;
        return 0;
    }
    if (len > 6 && memcmp(line, "VALUE ", 6) == 0)
        return on_value_line(w, c, r, line, len);
    if (!bench_is_error_line(line, len))
        return -1;
    note_error(w, line, len);
    c->cur++;
    c->kpos = 0;
    return 0;
}

/* Consume value bytes; the last two must be CRLF. */
static void skip_data(struct worker *w, struct conn *c)
{
    size_t avail = c->rlen - c->roff;
    size_t n = avail < c->data_left ? avail : c->data_left;
    const char *p = c->rbuf + c->roff;
    size_t body = c->data_left > 2 ? c->data_left - 2 : 0;  /* body bytes left */
    size_t nbody = n < body ? n : body;
    if (w->cfg->verify_values) {
        unsigned char bad = 0;
        for (size_t i = 0; i < nbody; i++)
            bad |= (unsigned char)(p[i] ^ c->expect_ch);
        if (bad)
            w->c.bad_values++;
    }
    for (size_t i = nbody; i < n; i++) {
        char want = (c->data_left - i == 2) ? '\r' : '\n';
        if (p[i] != want)
            w->c.bad_values++;
    }
    c->roff += n;
    c->data_left -= n;
}

/* Parse what has arrived. 1 batch complete, 0 need more, -1 bad reply. */
static int parse_replies(struct worker *w, struct conn *c)
{
    while (c->cur < c->nreqs) {
        if (c->data_left > 0) {
            skip_data(w, c);
            if (c->data_left > 0)
                return 0;
            continue;
        }
        const char *line = c->rbuf + c->roff;
        size_t len;
        int rc = bench_line(line, c->rlen - c->roff, MAX_LINE, &len);
        if (rc <= 0)
            return rc;
        c->roff += len + 2;
        if (on_line(w, c, line, len) < 0) {
            conn_fail(w, NULL, "unexpected reply '%.*s'", (int)(len > 100 ? 100 : len), line);
            return -1;
        }
    }
    return c->roff == c->rlen ? 1 : -1;  /* bytes beyond the batch: bad */
}

/* ---- the per-thread loop --------------------------------------------- */

static void batch_done(struct worker *w, struct conn *c, uint64_t now)
{
    hist_add(&w->hist, now - c->t_start);
    w->c.batches++;
    w->c.hits += c->batch_hits;
    w->c.stored += c->batch_stored;
    for (int i = 0; i < c->nreqs; i++) {
        w->c.ops++;
        w->c.keys += c->reqs[i].nkeys;
        if (c->reqs[i].type == REQ_GET)
            w->c.gets += c->reqs[i].nkeys;
        else
            w->c.sets++;
    }
    c->st = C_IDLE;
}

static void on_writable(struct worker *w, struct conn *c, uint64_t now)
{
    ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_fail(w, c, "send: %s", strerror(errno));
        return;
    }
    c->woff += (size_t)n;
    c->t_last = now;
    if (c->woff == c->wlen) {
        c->st = C_READ;
        c->rlen = c->roff = 0;
    }
}

static void on_readable(struct worker *w, struct conn *c, uint64_t now)
{
    if (c->roff > 0 && c->roff == c->rlen)
        c->rlen = c->roff = 0;
    if (c->rlen == RBUF_SIZE) {        /* partial line at the end: slide */
        memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
        c->rlen -= c->roff;
        c->roff = 0;
    }
    ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n == 0) {
        conn_fail(w, c, "connection closed by server");
        return;
    }
    if (n < 0) {
        conn_fail(w, c, "recv: %s", strerror(errno));
        return;
    }
    c->rlen += (size_t)n;
    c->t_last = now;
    int rc = parse_replies(w, c);
    if (rc < 0)
        conn_fail(w, c, "malformed reply");
    else if (rc > 0)
        batch_done(w, c, now);
}

static void fill_check(struct worker *w);

/* Start new batches on idle conns; false if nothing is left to do. */
static bool start_batches(struct worker *w, enum phase ph, uint64_t now)
{
    bool active = false;
    for (int i = 0; i < w->cfg->conns; i++) {
        struct conn *c = &w->conns[i];
        if (c->st == C_IDLE && !w->fill_done && build_batch(w, c, ph)) {
            c->st = C_WRITE;
            c->t_start = c->t_last = now;
            on_writable(w, c, now);
        }
        active |= c->st == C_WRITE || c->st == C_READ;
    }
    return active;
}

/* Run a phase until the deadline (PH_RUN) or until the work runs out. */
static void run_phase(struct worker *w, enum phase ph, uint64_t deadline)
{
    const struct config *cfg = w->cfg;
    struct pollfd pfd[cfg->conns];
    uint64_t timeout_ns = (uint64_t)cfg->timeout_ms * 1000000u;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline)
            break;
        if (cfg->fill && w->c.stored >= w->fill_next_check)
            fill_check(w);
        if (!start_batches(w, ph, now))
            break;
        for (int i = 0; i < cfg->conns; i++) {
            struct conn *c = &w->conns[i];
            pfd[i].fd = c->st == C_WRITE || c->st == C_READ ? c->fd : -1;
            pfd[i].events = c->st == C_WRITE ? POLLOUT : POLLIN;
            pfd[i].revents = 0;
        }
        uint64_t wait_ms = (deadline - now + 999999) / 1000000;
        if (poll(pfd, (nfds_t)cfg->conns, wait_ms > 100 ? 100 : (int)wait_ms) < 0 &&
            errno != EINTR) {
            conn_fail(w, NULL, "poll: %s", strerror(errno));
            break;
        }
        now = now_ns();
        for (int i = 0; i < cfg->conns; i++) {
            struct conn *c = &w->conns[i];
            if (pfd[i].revents && c->st == C_WRITE)
                on_writable(w, c, now);
            else if (pfd[i].revents && c->st == C_READ)
                on_readable(w, c, now);
            if ((c->st == C_WRITE || c->st == C_READ) && now - c->t_last > timeout_ns) {
                w->c.timeouts++;
                conn_fail(w, c, "no reply for %d ms", cfg->timeout_ms);
            }
        }
    }
}

/* ---- server stats ---------------------------------------------------- */

struct srvstats {
    long long curr_items, total_items, evictions, bytes, limit_maxbytes,
              cmd_get, get_hits, cmd_set;
    bool ok;
};

/* One `stats` round trip on a fresh blocking connection. Fields the
 * server does not report stay at -1. */
static struct srvstats stats_query(const struct config *cfg)
{
    static const struct bench_stat_field fields[] = {
        { "curr_items", offsetof(struct srvstats, curr_items) },
        { "total_items", offsetof(struct srvstats, total_items) },
        { "evictions", offsetof(struct srvstats, evictions) },
        { "bytes", offsetof(struct srvstats, bytes) },
        { "limit_maxbytes", offsetof(struct srvstats, limit_maxbytes) },
        { "cmd_get", offsetof(struct srvstats, cmd_get) },
        { "get_hits", offsetof(struct srvstats, get_hits) },
        { "cmd_set", offsetof(struct srvstats, cmd_set) },
    };
    struct srvstats s;
    memset(&s, 0xff, sizeof s);   /* every long long = -1 */
    s.ok = false;
    int fd = connect_to(cfg, false);
    if (fd < 0)
        return s;
    s.ok = bench_stats(fd, fields, sizeof fields / sizeof fields[0], &s) > 0;
    close(fd);
    return s;
}

/* --fill: stop issuing sets once the server has evicted: it says so in
 * `evictions`, or it holds fewer items than the fresh keys it stored
 * (nothing expires, so a missing item was evicted). */
static void fill_check(struct worker *w)
{
    struct srvstats s = stats_query(w->cfg);
    w->fill_next_check = w->c.stored + FILL_CHECK_EVERY;
    if (!s.ok || (s.evictions < 0 && s.curr_items < 0)) {
        conn_fail(w, NULL, "stats query failed or lacks evictions/curr_items");
        w->fill_done = true;
    } else if (s.evictions > 0 ||
               (s.curr_items >= 0 && (uint64_t)s.curr_items < w->c.stored)) {
        w->fill_done = true;
    }
}

/* ---- threads --------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct config *cfg = w->cfg;
    for (int i = 0; i < cfg->conns; i++)
        if (conn_init(&w->conns[i], cfg) < 0) {
            w->c.conn_failures++;
            conn_fail(w, NULL, "connect to %s: %s", cfg->target, strerror(errno));
        }
    if (cfg->preload || cfg->fill)
        run_phase(w, PH_SEQ, now_ns() + (uint64_t)PHASE_BUDGET_S * 1000000000u);
    if (cfg->preload && w->seq_next < w->seq_end)
        conn_fail(w, NULL, "preload did not complete");
    pthread_barrier_wait(&g_preloaded);
    pthread_barrier_wait(&g_go);
    if (!cfg->fill && !g_abort) {
        memset(&w->c, 0, sizeof w->c);    /* count the measured run only */
        memset(&w->hist, 0, sizeof w->hist);
        uint64_t t0 = now_ns();
        run_phase(w, PH_RUN, t0 + (uint64_t)(cfg->duration * 1e9));
        w->elapsed = (double)(now_ns() - t0) / 1e9;
    }
    for (int i = 0; i < cfg->conns; i++)
        conn_deinit(&w->conns[i]);
    return NULL;
}

/* ---- options --------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
"usage: loadgen [options]\n"
"  -s, --server HOST:PORT   target (loopback only)  [127.0.0.1:11211]\n"
"  -t, --threads N          client threads                  [1]\n"
"  -c, --conns N            connections per thread          [4]\n"
"  -d, --duration SECS      measured run, 0.1..3600          [5]\n"
"  -k, --keys N             key space                       [100000]\n"
"      --key-size N         bytes per key, 4..250           [32]\n"
"      --value-size N       bytes per value, 1..1048000     [100]\n"
"  -g, --get-ratio F        share of requests that are gets [0.9]\n"
"  -P, --pipeline N         requests written per batch      [1]\n"
"  -M, --multiget N         keys per get line               [1]\n"
"      --preload | --no-preload  set every key before the run [preload]\n"
"      --fill               set new keys until the server evicts, then\n"
"                           report curr_items (memory efficiency)\n"
"      --verify-values      also check every value byte\n"
"      --timeout-ms N       give up on a silent connection  [2000]\n"
"      --seed N             RNG seed                        [1]\n"
"      --server-pid PID     report the server's CPU time per op (/proc)\n"
"Prints a human summary on stderr and a RESULT line on stdout; exits 1 on\n"
"any error or timeout, 2 on bad usage, 3 if the watchdog fires.\n");
}

static void parse_options(struct config *cfg, int argc, char **argv)
{
    enum { O_KSZ = 256, O_VSZ, O_PRE, O_NOPRE, O_FILL, O_VERIFY, O_TMO, O_SEED, O_PID };
    static const struct option opts[] = {
        { "server", 1, 0, 's' }, { "threads", 1, 0, 't' }, { "conns", 1, 0, 'c' },
        { "duration", 1, 0, 'd' }, { "keys", 1, 0, 'k' }, { "key-size", 1, 0, O_KSZ },
        { "value-size", 1, 0, O_VSZ }, { "get-ratio", 1, 0, 'g' },
        { "pipeline", 1, 0, 'P' }, { "multiget", 1, 0, 'M' },
        { "preload", 0, 0, O_PRE }, { "no-preload", 0, 0, O_NOPRE },
        { "fill", 0, 0, O_FILL }, { "verify-values", 0, 0, O_VERIFY },
        { "timeout-ms", 1, 0, O_TMO }, { "seed", 1, 0, O_SEED },
        { "server-pid", 1, 0, O_PID },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
    };
    *cfg = (struct config){ .threads = 1, .conns = 4, .pipeline = 1, .multiget = 1,
        .key_size = 32, .value_size = 100, .timeout_ms = 2000, .keys = 100000,
        .duration = 5, .get_ratio = 0.9, .preload = true, .seed = 1 };
    opt_server("127.0.0.1:11211", &cfg->addr, cfg->target, sizeof cfg->target);
    int o;
    while ((o = getopt_long(argc, argv, "s:t:c:d:k:g:P:M:h", opts, NULL)) != -1) {
        switch (o) {
        case 's': opt_server(optarg, &cfg->addr, cfg->target, sizeof cfg->target); break;
        case 't': cfg->threads = (int)opt_long("threads", optarg, 1, 64); break;
        case 'c': cfg->conns = (int)opt_long("conns", optarg, 1, 1000); break;
        case 'd': cfg->duration = opt_double("duration", optarg, 0.1, 3600); break;
        case 'k': cfg->keys = opt_long("keys", optarg, 1, 1000000000L); break;
        case O_KSZ: cfg->key_size = (int)opt_long("key-size", optarg, 4, 250); break;
        case O_VSZ: cfg->value_size = (int)opt_long("value-size", optarg, 1, 1048000); break;
        case 'g': cfg->get_ratio = opt_double("get-ratio", optarg, 0, 1); break;
        case 'P': cfg->pipeline = (int)opt_long("pipeline", optarg, 1, 1024); break;
        case 'M': cfg->multiget = (int)opt_long("multiget", optarg, 1, 1024); break;
        case O_PRE: cfg->preload = true; break;
        case O_NOPRE: cfg->preload = false; break;
        case O_FILL: cfg->fill = true; break;
        case O_VERIFY: cfg->verify_values = true; break;
        case O_TMO: cfg->timeout_ms = (int)opt_long("timeout-ms", optarg, 10, 60000); break;
        case O_SEED: cfg->seed = (uint64_t)opt_long("seed", optarg, 0, LONG_MAX); break;
        case O_PID: cfg->server_pid = opt_long("server-pid", optarg, 1, INT_MAX); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc) {
        usage(stderr);
        exit(2);
    }
    char probe[32];
    int digits = snprintf(probe, sizeof probe, "%ld", cfg->keys - 1);
    if (digits > cfg->key_size - 1) {
        fprintf(stderr, "loadgen: --key-size %d too small for %ld keys\n",
                cfg->key_size, cfg->keys);
        exit(2);
    }
    if (cfg->fill) {              /* one connection, sequential fresh keys */
        cfg->threads = cfg->conns = 1;
        cfg->preload = false;
    }
}

/* ---- reporting ------------------------------------------------------- */

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds (user + system, all threads) used so far by process pid,
 * from /proc/PID/stat fields 14 and 15; -1 if unknown. */
static double proc_cpu_seconds(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');   /* the command name may hold spaces */
    unsigned long long ut, st;
    if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct cpu_use {
    double client, server;     /* seconds during the measured run */
};

/* Everything the threads measured, added up. */
struct totals {
    struct counters c;
    struct hist h;
    double rate, krate, secs;  /* ops/s and keys/s summed over threads */
};

static void sum_workers(const struct config *cfg, const struct worker *ws, struct totals *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < cfg->threads; i++) {
        const struct worker *w = &ws[i];
        const uint64_t *src = (const uint64_t *)&w->c;
        uint64_t *dst = (uint64_t *)&t->c;   /* struct counters is all uint64_t */
        for (size_t f = 0; f < sizeof t->c / sizeof(uint64_t); f++)
            dst[f] += src[f];
        hist_merge(&t->h, &w->hist);
        if (w->elapsed > 0) {
            t->rate += (double)w->c.ops / w->elapsed;
            t->krate += (double)w->c.keys / w->elapsed;
        }
        t->secs = w->elapsed > t->secs ? w->elapsed : t->secs;
    }
}

static long long delta(long long before, long long after)
{
    return before >= 0 && after >= 0 ? after - before : -1;
}

static int report_run(const struct config *cfg, const struct worker *ws,
                      struct srvstats before, struct srvstats after, struct cpu_use cpu)
{
    static struct totals t;
    sum_workers(cfg, ws, &t);
    const struct counters *c = &t.c;
    double hit = c->gets ? 100.0 * (double)c->hits / (double)c->gets : 0;
    double p50 = us(hist_pct(&t.h, 50)), p99 = us(hist_pct(&t.h, 99));
    double p999 = us(hist_pct(&t.h, 99.9));
    unsigned long long problems = c->errors + c->bad_values + c->timeouts + c->conn_failures;
    printf("RESULT ops_per_sec=%.0f keys_per_sec=%.0f p50_us=%.1f p99_us=%.1f "
           "p999_us=%.1f max_us=%.1f mean_us=%.1f secs=%.2f batches=%llu ops=%llu "
           "gets=%llu sets=%llu hits=%llu hit_pct=%.2f errors=%llu bad_values=%llu "
           "timeouts=%llu conn_failures=%llu server_cmd_get=%lld server_cmd_set=%lld "
           "client_cpu_pct=%.0f server_cpu_pct=%.0f server_us_per_op=%.2f\n",
           t.rate, t.krate, p50, p99, p999, us(t.h.max),
           t.h.count ? us(t.h.sum / t.h.count) : 0, t.secs,
           (unsigned long long)c->batches, (unsigned long long)c->ops,
           (unsigned long long)c->gets, (unsigned long long)c->sets,
           (unsigned long long)c->hits, hit, (unsigned long long)c->errors,
           (unsigned long long)c->bad_values, (unsigned long long)c->timeouts,
           (unsigned long long)c->conn_failures,
           delta(before.cmd_get, after.cmd_get), delta(before.cmd_set, after.cmd_set),
           t.secs > 0 ? 100.0 * cpu.client / t.secs : 0,
           t.secs > 0 && cpu.server >= 0 ? 100.0 * cpu.server / t.secs : -1,
           c->ops && cpu.server >= 0 ? 1e6 * cpu.server / (double)c->ops : -1);
    fprintf(stderr, "loadgen %s: %.0f ops/s (%.0f keys/s) over %.2fs, %dx%d conns, "
            "pipeline %d, %d keys/get; batch latency p50 %.1fus p99 %.1fus "
            "p99.9 %.1fus; get hits %.2f%%; problems %llu\n", cfg->target, t.rate,
            t.krate, t.secs, cfg->threads, cfg->conns, cfg->pipeline, cfg->multiget,
            p50, p99, p999, hit, problems);
    if (problems)
        fprintf(stderr, "loadgen: errors %llu, bad values %llu, timeouts %llu, "
                "dead conns %llu\n", (unsigned long long)c->errors,
                (unsigned long long)c->bad_values, (unsigned long long)c->timeouts,
                (unsigned long long)c->conn_failures);
    if (c->batches == 0)
        fprintf(stderr, "loadgen: no batch completed\n");
    return problems || !c->batches ? 1 : 0;
}

static int report_fill(const struct config *cfg, const struct worker *w)
{
    struct srvstats s = stats_query(cfg);
    double mb = s.limit_maxbytes > 0 ? (double)s.limit_maxbytes / 1048576.0 : 0;
    printf("RESULT mode=fill sets=%llu curr_items=%lld evictions=%lld bytes=%lld "
           "limit_maxbytes=%lld items_per_mb=%.0f errors=%llu\n",
           (unsigned long long)w->c.stored, s.curr_items, s.evictions, s.bytes,
           s.limit_maxbytes, mb > 0 ? (double)s.curr_items / mb : 0,
           (unsigned long long)w->c.errors);
    fprintf(stderr, "loadgen %s: fill: %lld items held in %.0f MiB (%.0f items/MiB) "
            "after %llu sets, evictions %lld\n", cfg->target, s.curr_items, mb,
            mb > 0 ? (double)s.curr_items / mb : 0, (unsigned long long)w->c.stored,
            s.evictions);
    if (!w->fill_done)
        fprintf(stderr, "loadgen: fill ended before the server evicted anything\n");
    return s.ok && w->fill_done && !w->first_error[0] ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct config cfg;
    parse_options(&cfg, argc, argv);
    bench_watchdog((unsigned)(cfg.duration + PHASE_BUDGET_S + 2 * cfg.timeout_ms / 1000 + 30));

    struct worker *ws = calloc((size_t)cfg.threads, sizeof *ws);
    if (ws == NULL)
        return 1;
    pthread_barrier_init(&g_preloaded, NULL, (unsigned)cfg.threads + 1);
    pthread_barrier_init(&g_go, NULL, (unsigned)cfg.threads + 1);
    long share = (cfg.keys + cfg.threads - 1) / cfg.threads;
    for (int i = 0; i < cfg.threads; i++) {
        struct worker *w = &ws[i];
        w->cfg = &cfg;
        w->rng = (cfg.seed + 1) * 0x9E3779B97F4A7C15ull + (uint64_t)i * 0xBF58476D1CE4E5B9ull;
        w->conns = calloc((size_t)cfg.conns, sizeof *w->conns);
        w->seq_next = share * i < cfg.keys ? share * i : cfg.keys;
        w->seq_end = share * (i + 1) < cfg.keys ? share * (i + 1) : cfg.keys;
        if (w->conns == NULL || pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            fprintf(stderr, "loadgen: cannot start thread %d\n", i);
            return 1;
        }
    }
    pthread_barrier_wait(&g_preloaded);
    for (int i = 0; i < cfg.threads; i++)
        if (ws[i].first_error[0])
            g_abort = true;
    if (g_abort)
        fprintf(stderr, "loadgen: setup or preload failed; measured run skipped\n");
    struct srvstats before = stats_query(&cfg);
    struct cpu_use cpu = { -cpu_seconds(), -1 };
    double srv0 = cfg.server_pid ? proc_cpu_seconds(cfg.server_pid) : -1;
    pthread_barrier_wait(&g_go);
    for (int i = 0; i < cfg.threads; i++)
        pthread_join(ws[i].tid, NULL);
    cpu.client += cpu_seconds();
    double srv1 = cfg.server_pid ? proc_cpu_seconds(cfg.server_pid) : -1;
    if (srv0 >= 0 && srv1 >= 0)
        cpu.server = srv1 - srv0;
    struct srvstats after = stats_query(&cfg);

    int rc = cfg.fill ? report_fill(&cfg, &ws[0]) : report_run(&cfg, ws, before, after, cpu);
    for (int i = 0; i < cfg.threads; i++) {
        if (ws[i].first_error[0])
            fprintf(stderr, "loadgen: thread %d: %s\n", i, ws[i].first_error);
        free(ws[i].conns);
    }
    free(ws);
    return g_abort ? 1 : rc;
}
