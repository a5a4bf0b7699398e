/*
 * daemon/watch.c - see watch.h.
 */
#include "daemon/watch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/cache.h"
#include "lib/items.h"
#include "proto/token.h"
#include "proto/uri.h"

/* Longest line: an encoded key and the fixed fields. */
#define WATCH_KEY_MAX (3 * ITEM_KEY_MAX + 1)
#define WATCH_LINE_MAX (WATCH_KEY_MAX + 256)

struct watcher {
    unsigned flags;
    char *buf;          /* buf_bytes of the watch, whole lines */
    size_t len;
    uint64_t skipped;   /* lines lost since the last one that fit */
};

struct watch {
    struct cache *cache;
    size_t buf_bytes;
    pthread_mutex_t lock;       /* the watchers and their buffers */
    struct watcher *watchers[WATCH_MAX];
    _Atomic unsigned wanted;    /* every watcher's flags together */
    _Atomic uint64_t gid;
    _Atomic uint64_t written, sent, skipped;
};

static _Thread_local int current_fd = -1;

static const struct {
    const char *word;
    unsigned flag;
} FLAG_WORDS[] = {
    {"rawcmds", WATCH_RAWCMDS},       {"evictions", WATCH_EVICTIONS},
    {"fetchers", WATCH_FETCHERS},     {"mutations", WATCH_MUTATIONS},
    {"sysevents", WATCH_SYSEVENTS},   {"connevents", WATCH_CONNEVENTS},
    {"proxyreqs", WATCH_PROXYREQS},   {"proxyevents", WATCH_PROXYEVENTS},
    {"proxyuser", WATCH_PROXYUSER},   {"deletions", WATCH_DELETIONS},
};

unsigned watch_flag_of(const char *word, size_t n)
{
    for (size_t i = 0; i < sizeof(FLAG_WORDS) / sizeof(FLAG_WORDS[0]); i++)
        if (token_eq(word, n, FLAG_WORDS[i].word))
            return FLAG_WORDS[i].flag;
    return 0;
}

static bool wants(struct watch *w, unsigned flag)
{
    return (atomic_load_explicit(&w->wanted, memory_order_relaxed) &
            flag) != 0;
}

void watch_set_fd(int fd)
{
    current_fd = fd;
}

/* ------------------------------------------------------------ delivery */

/* Append one line to x, after a "skipped=" line if it lost some. Lock
 * held. */
static void deliver(struct watch *w, struct watcher *x, const char *line,
                    size_t n)
{
    char note[40];
    size_t nn = 0;
    if (x->skipped > 0)
        nn = (size_t)snprintf(note, sizeof(note), "skipped=%llu\n",
                              (unsigned long long)x->skipped);
    if (x->len + nn + n > w->buf_bytes) {
        x->skipped++;
        atomic_fetch_add_explicit(&w->skipped, 1, memory_order_relaxed);
        return;
    }
    memcpy(x->buf + x->len, note, nn);
    memcpy(x->buf + x->len + nn, line, n);
    x->len += nn + n;
    x->skipped = 0;
    atomic_fetch_add_explicit(&w->sent, 1, memory_order_relaxed);
}

/* One event line for the watchers of `flag`: memcached's "ts= gid= "
 * prefix, then fmt. */
static void emit_line(struct watch *w, unsigned flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void emit_line(struct watch *w, unsigned flag, const char *fmt, ...)
{
    char line[WATCH_LINE_MAX];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t gid = atomic_fetch_add_explicit(&w->gid, 1,
                                             memory_order_relaxed) + 1;
    /* memcached's "ts=%d.%d": microseconds without zero padding */
    int n = snprintf(line, sizeof(line), "ts=%d.%d gid=%llu ",
                     (int)ts.tv_sec, (int)(ts.tv_nsec / 1000),
                     (unsigned long long)gid);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (n <= 0 || (size_t)n >= sizeof(line))
        return;
    atomic_fetch_add_explicit(&w->written, 1, memory_order_relaxed);
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < WATCH_MAX; i++) {
        struct watcher *x = w->watchers[i];
        if (x != NULL && (x->flags & flag))
            deliver(w, x, line, (size_t)n);
    }
    pthread_mutex_unlock(&w->lock);
}

/* ------------------------------------------------------- engine events */

static const char *store_status(enum cache_status st)
{
    switch (st) {
    case CACHE_OK: return "stored";
    case CACHE_EXISTS: return "exists";
    case CACHE_NOT_FOUND: return "not_found";
    case CACHE_TOO_LARGE: return "too_large";
    case CACHE_NO_MEMORY: return "no_memory";
    default: return "not_stored";
    }
}

static const char *store_cmd(enum cache_store_mode mode)
{
    switch (mode) {
    case CACHE_ADD: return "add";
    case CACHE_SET: return "set";
    case CACHE_REPLACE: return "replace";
    case CACHE_APPEND: return "append";
    case CACHE_PREPEND: return "prepend";
    case CACHE_CAS: return "cas";
    }
    return "na";
}

/* The key as memcached logs it, a C string in out. */
static void encode_key(char out[WATCH_KEY_MAX], const char *key, size_t nkey)
{
    out[uri_encode(out, key, nkey > ITEM_KEY_MAX ? ITEM_KEY_MAX : nkey)] =
        '\0';
}

static void on_cache_event(const struct cache_event *ev, void *arg)
{
    struct watch *w = arg;
    char key[WATCH_KEY_MAX];
    encode_key(key, ev->key, ev->nkey);
    switch (ev->kind) {
    case CACHE_EVENT_FETCH:
        emit_line(w, WATCH_FETCHERS,
                  "type=item_get key=%s status=%s clsid=%u cfd=%d size=%zu\n",
                  key, ev->found ? "found" : "not_found", ev->cls, current_fd,
                  ev->nvalue);
        break;
    case CACHE_EVENT_STORE:
        /* memcached prints the seconds left as unsigned, so an item
         * stored already expired shows a wrapped figure */
        emit_line(w, WATCH_MUTATIONS,
                  "type=item_store key=%s status=%s cmd=%s ttl=%u clsid=%u "
                  "cfd=%d size=%zu\n",
                  key, store_status(ev->status), store_cmd(ev->mode),
                  (unsigned)ev->expires_in, ev->cls, current_fd, ev->nvalue);
        break;
    case CACHE_EVENT_EVICT:
        emit_line(w, WATCH_EVICTIONS,
                  "type=eviction key=%s fetch=%s ttl=%lld la=%u clsid=%u "
                  "size=%zu\n",
                  key, ev->fetched ? "yes" : "no", (long long)ev->ttl,
                  (unsigned)ev->idle, ev->cls, ev->nvalue);
        break;
    case CACHE_EVENT_SLAB_MOVE:
        emit_line(w, WATCH_SYSEVENTS, "type=slab_move src=%u dst=%u\n",
                  ev->cls, ev->dst);
        break;
    case CACHE_EVENT_DELETE:
        emit_line(w, WATCH_DELETIONS,
                  "type=deleted key=%s cmd=%s clsid=%u size=%zu\n",
                  key, ev->meta ? "md" : "delete", ev->cls, ev->nvalue);
        break;
    }
}

/* What the cache must tell, for the flags watched now. Lock held. */
static void update_wanted(struct watch *w)
{
    unsigned flags = 0;
    for (int i = 0; i < WATCH_MAX; i++)
        if (w->watchers[i] != NULL)
            flags |= w->watchers[i]->flags;
    atomic_store(&w->wanted, flags);
    unsigned kinds = 0;
    if (flags & WATCH_FETCHERS)
        kinds |= CACHE_EVENT_FETCH;
    if (flags & WATCH_MUTATIONS)
        kinds |= CACHE_EVENT_STORE;
    if (flags & WATCH_EVICTIONS)
        kinds |= CACHE_EVENT_EVICT;
    if (flags & WATCH_DELETIONS)
        kinds |= CACHE_EVENT_DELETE;
    if (flags & WATCH_SYSEVENTS)
        kinds |= CACHE_EVENT_SLAB_MOVE;
    cache_observe(w->cache, kinds);
}

/* ------------------------------------------------------------ watchers */

struct watch *watch_create(struct cache *cache, size_t buf_bytes)
{
    struct watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->cache = cache;
    w->buf_bytes = buf_bytes;
    pthread_mutex_init(&w->lock, NULL);
    cache_set_observer(cache, on_cache_event, w);
    return w;
}

void watch_destroy(struct watch **wp)
{
    if (wp == NULL || *wp == NULL)
        return;
    struct watch *w = *wp;
    cache_observe(w->cache, 0);
    for (int i = 0; i < WATCH_MAX; i++) {
        if (w->watchers[i] != NULL) {
            free(w->watchers[i]->buf);
            free(w->watchers[i]);
        }
    }
    pthread_mutex_destroy(&w->lock);
    free(w);
    *wp = NULL;
}

enum watch_added watch_add(struct watch *w, unsigned flags,
                           struct watcher **out)
{
    *out = NULL;
    struct watcher *x = calloc(1, sizeof(*x));
    if (x == NULL || (x->buf = malloc(w->buf_bytes)) == NULL) {
        free(x);
        return WATCH_FAILED;
    }
    x->flags = flags;
    pthread_mutex_lock(&w->lock);
    int slot = -1;
    for (int i = 0; i < WATCH_MAX && slot < 0; i++)
        if (w->watchers[i] == NULL)
            slot = i;
    if (slot >= 0) {
        w->watchers[slot] = x;
        update_wanted(w);
    }
    pthread_mutex_unlock(&w->lock);
    if (slot < 0) {
        free(x->buf);
        free(x);
        return WATCH_TOO_MANY;
    }
    *out = x;
    return WATCH_ADDED;
}

void watch_remove(struct watch *w, struct watcher *x)
{
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < WATCH_MAX; i++) {
        if (w->watchers[i] == x)
            w->watchers[i] = NULL;
    }
    update_wanted(w);
    pthread_mutex_unlock(&w->lock);
    free(x->buf);
    free(x);
}

size_t watch_take(struct watch *w, struct watcher *x, char *dst, size_t cap)
{
    pthread_mutex_lock(&w->lock);
    size_t n = x->len;
    if (n > cap) {
        /* whole lines only */
        const char *end = memrchr(x->buf, '\n', cap);
        n = end != NULL ? (size_t)(end - x->buf) + 1 : 0;
    }
    memcpy(dst, x->buf, n);
    memmove(x->buf, x->buf + n, x->len - n);
    x->len -= n;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void watch_stats(struct watch *w, struct watch_stats *out)
{
    uint64_t watchers = 0;
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < WATCH_MAX; i++)
        watchers += w->watchers[i] != NULL;
    pthread_mutex_unlock(&w->lock);
    *out = (struct watch_stats){
        .watchers = watchers,
        .written = atomic_load(&w->written),
        .sent = atomic_load(&w->sent),
        .skipped = atomic_load(&w->skipped),
    };
}

/* ------------------------------------------------------- other events */

/* memcached's rip= and rport=, and its transport word. */
static const char *peer_of(int fd, char *rip, size_t cap, unsigned *rport)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    snprintf(rip, cap, "unix");
    *rport = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return "local";
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, rip, (socklen_t)cap);
        *rport = ntohs(in->sin_port);
        return "tcp";
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, rip, (socklen_t)cap);
        *rport = ntohs(in6->sin6_port);
        return "tcp";
    }
    return "local";
}

/* conn_new, or conn_close with its reason */
static void conn_line(struct watch *w, int fd, const char *type,
                      const char *reason)
{
    if (!wants(w, WATCH_CONNEVENTS))
        return;
    char rip[64];
    unsigned rport;
    const char *transport = peer_of(fd, rip, sizeof(rip), &rport);
    emit_line(w, WATCH_CONNEVENTS,
              "type=%s rip=%s rport=%u transport=%s%s%s cfd=%d\n", type, rip,
              rport, transport, reason != NULL ? " reason=" : "",
              reason != NULL ? reason : "", fd);
}

void watch_conn_new(struct watch *w, int fd)
{
    conn_line(w, fd, "conn_new", NULL);
}

void watch_conn_close(struct watch *w, int fd, enum watch_close why)
{
    static const char *const reasons[] = {
        [WATCH_CLOSE_ERROR] = "error", [WATCH_CLOSE_NORMAL] = "normal",
        [WATCH_CLOSE_IDLE] = "idle_timeout",
        [WATCH_CLOSE_SHUTDOWN] = "shutdown",
    };
    conn_line(w, fd, "conn_close", reasons[why]);
}

void watch_store_refused(struct watch *w, const char *key, size_t nkey,
                         bool too_large, enum cache_store_mode mode)
{
    if (!wants(w, WATCH_MUTATIONS))
        return;
    char k[WATCH_KEY_MAX];
    encode_key(k, key, nkey);
    emit_line(w, WATCH_MUTATIONS,
              "type=item_store key=%s status=%s cmd=%s ttl=0 clsid=0 cfd=%d "
              "size=0\n",
              k, too_large ? "too_large" : "no_memory", store_cmd(mode),
              current_fd);
}
