/*
 * loadgen.c - load generator for the memcached text protocol, closed
 * loop or paced (open loop, --rate).
 *
 * Not part of the daemon and not linked with it: libc, pthreads and
 * OpenSSL (for --tls) only,
 * built by scripts/bench with
 *     cc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread loadgen.c loadgen_report.c \
 *        -lssl -lcrypto
 * (loadgen.h is what the two share; loadgen_report.c holds the options,
 * the `stats` queries and the RESULT lines).
 *
 * Model: T threads, each owning C non-blocking connections driven by one
 * ppoll() loop. A connection repeatedly writes one batch of P requests
 * (P = pipeline depth; a request is a "get" of M keys or a "set" of one
 * key), reads every reply of the batch, and records the batch latency
 * (first byte written -> last reply byte read, CLOCK_MONOTONIC) in a
 * per-thread log-linear histogram (bench_hist.h). Batches still in flight
 * when the duration ends are abandoned and not counted.
 *
 * Closed loop (the default) a connection sends its next batch as soon as
 * the previous one is answered, so it measures capacity; its latencies
 * hide queueing (a slow reply delays the requests behind it, which are
 * then never sent late, "coordinated omission"). Paced (--rate OPS) each
 * connection gets a fixed schedule, one batch every
 * threads * conns * P / OPS seconds, the connections staggered evenly over
 * one interval. A batch is sent at its scheduled time, or as soon as the
 * connection is free if it is behind, and its latency is measured from
 * the scheduled time, so time spent waiting behind a slow reply counts.
 * `late_pct` is the share of batches sent more than 1 ms after their
 * schedule; the achieved rate (ops_per_sec) falling below the offered one
 * (offered_ops_per_sec) means the server could not keep up.
 *
 * Phases: optional preload (every key set once, 64 sets per batch), then
 * the measured run. Threads meet on a barrier between the two so the run
 * starts together; the main thread samples the server's `stats` before
 * and after, as an independent check of the client-side counts.
 * --fill instead sets fresh keys until the server reports evictions and
 * prints curr_items (items that fit in -m); --fill-more F then goes on
 * with F times as many fresh keys again (memory use under eviction).
 * --preload-only stops after the preload (filling N items for scale and
 * snapshot measurements). Values are --value-size bytes, or spread over
 * --value-size..--value-size-max by a hash of the key id. SIGTERM or
 * SIGINT ends the current phase early and still reports.
 *
 * Replies are verified: STORED for every set, VALUE lines whose keys are
 * an in-order subsequence of the requested keys, the announced length
 * equal to the key's value length, data followed by CRLF, END closing each get
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
#include "loadgen.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

/* ---- keys and values ------------------------------------------------ */

char g_key_char = 'k';  /* first byte of every key (--key-prefix) */
static volatile sig_atomic_t g_stop;  /* SIGTERM/SIGINT: end the phase, report */

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
    out[0] = g_key_char;
    for (int i = ksz - 1; i >= 1; i--) {
        out[i] = (char)('0' + id % 10);
        id /= 10;
    }
}

/* Length of key id's value: fixed, or spread over value_size..value_max
 * by a hash of the id, so a get can check it without remembering sets. */
static int value_len(const struct config *cfg, long id)
{
    if (cfg->value_max <= cfg->value_size)
        return cfg->value_size;
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    return cfg->value_size + (int)(x % (uint64_t)(cfg->value_max - cfg->value_size + 1));
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
    SSL *ssl;                  /* --tls */
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
    uint64_t t_start, t_last;  /* t_start: scheduled send time when paced */
    uint64_t t_sched;          /* paced: when the next batch is due */
};
enum phase { PH_SEQ, PH_RUN };  /* SEQ: sequential sets (preload, fill) */
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
int connect_to(const struct config *cfg, bool nonblock)
{
    int fd = bench_connect(&cfg->addr, cfg->timeout_ms, 0);
    if (fd >= 0 && nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static SSL_CTX *g_tls;         /* --tls: one client context */

/* --tls: a blocking handshake, then the socket goes non-blocking. */
static int tls_connect(struct conn *c, const struct config *cfg)
{
    int fd = connect_to(cfg, false);
    if (fd < 0)
        return -1;
    c->ssl = SSL_new(g_tls);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1 ||
        SSL_connect(c->ssl) != 1) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int conn_init(struct conn *c, const struct config *cfg)
{
    int depth = cfg->pipeline > PRELOAD_DEPTH ? cfg->pipeline : PRELOAD_DEPTH;
    int mkeys = cfg->multiget > 1 ? cfg->multiget : 1;
    size_t get_len = 8 + (size_t)mkeys * (size_t)(cfg->key_size + 1);
    size_t set_len = 48 + (size_t)cfg->key_size + (size_t)cfg->value_max;
    memset(c, 0, sizeof *c);
    c->wcap = (size_t)depth * (get_len > set_len ? get_len : set_len);
    c->wbuf = malloc(c->wcap);
    c->rbuf = malloc(RBUF_SIZE);
    c->reqs = calloc((size_t)depth, sizeof *c->reqs);
    c->keyids = calloc((size_t)depth * (size_t)mkeys, sizeof *c->keyids);
    if (!c->wbuf || !c->rbuf || !c->reqs || !c->keyids)
        return -1;
    c->fd = cfg->tls ? tls_connect(c, cfg) : connect_to(cfg, true);
    c->st = c->fd < 0 ? C_DEAD : C_IDLE;
    return c->fd < 0 ? -1 : 0;
}

static void conn_deinit(struct conn *c)
{
    SSL_free(c->ssl);
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
    int vlen = value_len(cfg, id);
    p += sprintf(p, " 0 0 %d\r\n", vlen);
    memset(p, value_char(id), (size_t)vlen);
    p += vlen;
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
    long id = 0;
    while (c->kpos < r->nkeys && !found) {
        id = c->keyids[r->first + (uint32_t)c->kpos++];
        key_format(want, cfg->key_size, id);
        found = klen == (size_t)cfg->key_size && memcmp(want, key, klen) == 0;
        c->expect_ch = value_char(id);
    }
    if (!found)
        return -1;
    c->batch_hits++;
    if (bytes != (unsigned long long)value_len(cfg, id))
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

/* send()/recv() through the session: -1 with errno EAGAIN when it must
 * wait, 0 when the peer is gone. */
static ssize_t tls_io(SSL *ssl, void *buf, size_t len, bool writing)
{
    size_t n = 0;
    int rc = writing ? SSL_write_ex(ssl, buf, len, &n)
                     : SSL_read_ex(ssl, buf, len, &n);
    if (rc == 1)
        return (ssize_t)n;
    int e = SSL_get_error(ssl, rc);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    errno = ECONNRESET;
    return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static void on_writable(struct worker *w, struct conn *c, uint64_t now)
{
    ssize_t n = c->ssl ? tls_io(c->ssl, c->wbuf + c->woff, c->wlen - c->woff, true)
                       : send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
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
    ssize_t n = c->ssl ? tls_io(c->ssl, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, false)
                       : recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, 0);
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

/* Start new batches on idle conns; false if nothing is left to do.
 * Paced (--rate), an idle conn waits for its scheduled time; *next_due
 * gets the earliest such time. The batch's latency then counts from
 * the scheduled time, not from when it could actually be sent. */
static bool start_batches(struct worker *w, enum phase ph, uint64_t now,
                          uint64_t *next_due)
{
    const struct config *cfg = w->cfg;
    bool active = false;
    bool paced = cfg->rate > 0 && (ph == PH_RUN || cfg->preload_only);
    uint64_t interval = ph == PH_RUN ? cfg->interval_ns : cfg->seq_interval_ns;
    for (int i = 0; i < w->cfg->conns; i++) {
        struct conn *c = &w->conns[i];
        if (c->st == C_IDLE && paced && c->t_sched > now) {
            if (c->t_sched < *next_due)
                *next_due = c->t_sched;
            active = true;
            continue;
        }
        if (c->st == C_IDLE && !w->fill_done && build_batch(w, c, ph)) {
            c->st = C_WRITE;
            c->t_start = c->t_last = now;
            if (paced) {
                c->t_start = c->t_sched;
                c->t_sched += interval;
                if (now - c->t_start > LATE_NS)
                    w->c.late++;
            }
            on_writable(w, c, now);
        }
        active |= c->st == C_WRITE || c->st == C_READ;
    }
    return active;
}

/* --progress, from the first thread only: sets done so far (estimated
 * from its own share when preloading with several threads). */
static void progress(struct worker *w, uint64_t now)
{
    if (!w->cfg->progress || w->index != 0 || now < w->next_progress)
        return;
    if (w->next_progress != 0)
        fprintf(stderr, "loadgen %s: %s: about %llu sets so far\n", w->cfg->target,
                w->cfg->fill ? "fill" : "preload",
                (unsigned long long)(w->c.stored * (uint64_t)w->cfg->threads));
    w->next_progress = now + PROGRESS_NS;
}

/* Run a phase until the deadline (PH_RUN) or until the work runs out. */
static void run_phase(struct worker *w, enum phase ph, uint64_t deadline)
{
    const struct config *cfg = w->cfg;
    struct pollfd pfd[cfg->conns];
    uint64_t timeout_ns = (uint64_t)cfg->timeout_ms * 1000000u;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline || g_stop)
            break;
        if (cfg->fill && w->c.stored >= w->fill_next_check)
            fill_check(w);
        if (ph == PH_SEQ)
            progress(w, now);
        uint64_t next_due = deadline;
        if (!start_batches(w, ph, now, &next_due))
            break;
        for (int i = 0; i < cfg->conns; i++) {
            struct conn *c = &w->conns[i];
            pfd[i].fd = c->st == C_WRITE || c->st == C_READ ? c->fd : -1;
            pfd[i].events = c->st == C_WRITE ? POLLOUT : POLLIN;
            pfd[i].revents = 0;
        }
        uint64_t wait_ns = next_due > now ? next_due - now : 0;
        if (wait_ns > 100000000u)
            wait_ns = 100000000u;
        struct timespec ts = { (time_t)(wait_ns / 1000000000u), (long)(wait_ns % 1000000000u) };
        if (ppoll(pfd, (nfds_t)cfg->conns, &ts, NULL) < 0 && errno != EINTR) {
            conn_fail(w, NULL, "poll: %s", strerror(errno));
            break;
        }
        now = now_ns();
        for (int i = 0; i < cfg->conns; i++) {
            struct conn *c = &w->conns[i];
            /* decrypted bytes waiting in the session: the socket is quiet */
            if (c->ssl && c->st == C_READ && SSL_pending(c->ssl) > 0)
                pfd[i].revents |= POLLIN;
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
        w->fill_evicted = true;
        w->sets_at_eviction = w->c.stored;
        w->fill_next_check = UINT64_MAX;
        long more = (long)((double)w->c.stored * w->cfg->fill_more);
        if (more > 0 && w->seq_end - w->seq_next > more)
            w->seq_end = w->seq_next + more;   /* --fill-more, then stop */
        w->fill_done = more <= 0;
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
    uint64_t t0 = now_ns();
    int total = cfg->threads * cfg->conns;
    for (int i = 0; i < cfg->conns && cfg->preload_only; i++)   /* paced preload */
        w->conns[i].t_sched = t0 + cfg->seq_interval_ns *
            (uint64_t)(w->index * cfg->conns + i) / (uint64_t)total;
    if (cfg->preload || cfg->fill)
        run_phase(w, PH_SEQ, now_ns() + (uint64_t)cfg->budget_s * 1000000000u);
    if (cfg->fill && w->fill_evicted)
        w->fill_done = true;             /* --fill-more sets done too */
    if (cfg->preload && w->seq_next < w->seq_end)
        conn_fail(w, NULL, "preload did not complete");
    pthread_barrier_wait(&g_preloaded);
    pthread_barrier_wait(&g_go);
    if (!cfg->fill && !cfg->preload_only && !g_abort) {
        memset(&w->c, 0, sizeof w->c);    /* count the measured run only */
        memset(&w->hist, 0, sizeof w->hist);
        t0 = now_ns();
        /* Paced: spread the conns' first batches over one interval. */
        for (int i = 0; i < cfg->conns; i++)
            w->conns[i].t_sched = t0 + cfg->interval_ns *
                (uint64_t)(w->index * cfg->conns + i) / (uint64_t)total;
        run_phase(w, PH_RUN, t0 + (uint64_t)(cfg->duration * 1e9));
        w->elapsed = (double)(now_ns() - t0) / 1e9;
    }
    for (int i = 0; i < cfg->conns; i++)
        conn_deinit(&w->conns[i]);
    return NULL;
}
static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

int main(int argc, char **argv)
{
    struct config cfg;
    parse_options(&cfg, argc, argv);
    bench_watchdog((unsigned)(cfg.duration + cfg.budget_s + 2 * cfg.timeout_ms / 1000 + 30));
    struct sigaction sa = { .sa_handler = on_stop };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    uint64_t t_begin = now_ns();
    if (cfg.tls && cfg.fill) {
        fprintf(stderr, "loadgen: --fill needs the server's stats, which --tls "
                "cannot query\n");
        return 2;
    }
    if (cfg.tls && (g_tls = SSL_CTX_new(TLS_client_method())) == NULL) {
        fprintf(stderr, "loadgen: cannot create a TLS context\n");
        return 1;
    }
    if (g_tls != NULL)
        SSL_CTX_set_mode(g_tls, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    struct worker *ws = calloc((size_t)cfg.threads, sizeof *ws);
    if (ws == NULL)
        return 1;
    pthread_barrier_init(&g_preloaded, NULL, (unsigned)cfg.threads + 1);
    pthread_barrier_init(&g_go, NULL, (unsigned)cfg.threads + 1);
    long share = (cfg.keys + cfg.threads - 1) / cfg.threads;
    for (int i = 0; i < cfg.threads; i++) {
        struct worker *w = &ws[i];
        w->cfg = &cfg;
        w->index = i;
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
    double preload_secs = (double)(now_ns() - t_begin) / 1e9;
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

    int rc = cfg.fill ? report_fill(&cfg, &ws[0])
           : cfg.preload_only ? report_preload(&cfg, ws, preload_secs)
           : report_run(&cfg, ws, before, after, cpu);
    for (int i = 0; i < cfg.threads; i++) {
        if (ws[i].first_error[0])
            fprintf(stderr, "loadgen: thread %d: %s\n", i, ws[i].first_error);
        free(ws[i].conns);
    }
    free(ws);
    SSL_CTX_free(g_tls);
    return g_abort ? 1 : rc;
}
