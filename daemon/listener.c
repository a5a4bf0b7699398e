/*
 * daemon/listener.c - see listener.h.
 */
#include "daemon/listener.h"

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/listen_fds.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/worker.h"

#define LISTENER_MAX 32
_Static_assert(LISTEN_FDS_MAX <= LISTENER_MAX,
               "every socket a service manager may pass must fit");
/* After running out of file descriptors, pause accepting this long. */
#define ACCEPT_BACKOFF_MS 100

static const char too_many[] = "ERROR Too many open connections\r\n";

struct listener {
    struct server *srv;
    struct event_base *base;
    int fds[LISTENER_MAX];
    bool plain[LISTENER_MAX]; /* -l notls:...: no TLS there under -Z */
    bool binding_plain;       /* the -l entry being bound is notls: */
    struct event *evs[LISTENER_MAX];
    int n;
    unsigned next_worker;
    struct event *backoff;
    uint64_t paused_at_us;  /* monotonic time accept was paused */
    /* Pauses since the last connection accepted, and when the first of
     * them began: one log line when they start, one when they end. */
    unsigned pauses;
    uint64_t out_since_us;
    char *unix_path;
    rel_time_t since;     /* when it started listening */
};

static void set_listening(struct listener *l, bool on)
{
    for (int i = 0; i < l->n; i++) {
        if (on)
            event_add(l->evs[i], NULL);
        else
            event_del(l->evs[i]);
    }
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Out of descriptors: stop accepting for ACCEPT_BACKOFF_MS, since every
 * attempt would fail the same way until some connection closes. */
static void pause_accepting(struct listener *l)
{
    set_listening(l, false);
    l->paused_at_us = mono_us();
    if (l->pauses++ == 0) {
        l->out_since_us = l->paused_at_us;
        log_warn("out of file descriptors: pausing accept, trying again "
                 "every %d ms", ACCEPT_BACKOFF_MS);
    }
    atomic_store(&l->srv->accepting, false);
    atomic_fetch_add(&l->srv->listen_disabled, 1);
    struct timeval tv = {0, ACCEPT_BACKOFF_MS * 1000};
    evtimer_add(l->backoff, &tv);
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    (void)fd;
    (void)what;
    set_listening(l, true);
    atomic_fetch_add(&l->srv->listen_disabled_us,
                     mono_us() - l->paused_at_us);
    atomic_store(&l->srv->accepting, true);
}

static void reject(struct listener *l, int fd)
{
    /* Count first: a client that sees the error may ask for stats at
     * once, on another connection. */
    atomic_fetch_add(&l->srv->rejected_conns, 1);
    ssize_t n = write(fd, too_many, sizeof(too_many) - 1);
    (void)n;
    close(fd);
    log_info("rejected a connection: -c %d reached",
             l->srv->settings->maxconns);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct listener *l = arg;
    (void)what;
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE)
            pause_accepting(l);
        return;
    }
    if (l->pauses > 0) {
        log_warn("accepting again after %.1f s out of file descriptors "
                 "(%u pauses)", (double)(mono_us() - l->out_since_us) / 1e6,
                 l->pauses);
        l->pauses = 0;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (atomic_load(&l->srv->curr_conns) >=
        (uint64_t)l->srv->settings->maxconns) {
        reject(l, fd);
        return;
    }
    struct server *srv = l->srv;
    struct worker *w = srv->workers[l->next_worker++ % (unsigned)srv->nworkers];
    if (!worker_dispatch(w, fd))
        close(fd);
}

static bool add_fd(struct listener *l, int fd, char *err, size_t errlen)
{
    if (l->n == LISTENER_MAX) {
        snprintf(err, errlen, "too many listening addresses");
        close(fd);
        return false;
    }
    l->fds[l->n] = fd;
    l->plain[l->n] = l->binding_plain;
    l->evs[l->n] = event_new(l->base, fd, EV_READ | EV_PERSIST, on_accept, l);
    if (l->evs[l->n] == NULL || event_add(l->evs[l->n], NULL) != 0) {
        snprintf(err, errlen, "cannot watch a listening socket");
        close(fd);
        return false;
    }
    l->n++;
    /* memcached's -vv line, in its words for -B */
    const char *b = l->srv->settings->binding_protocol;
    log_debug("<%d server listening (%s)", fd,
              strcmp(b, "auto") == 0 ? "auto-negotiate" : b);
    return true;
}

static int listener_open_tcp(const struct addrinfo *ai, int backlog)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
                    SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

void listener_split_host_port(char *spec, char **host, char **port)
{
    listener_strip_notls(&spec);
    *port = NULL;
    if (spec[0] == '[') {
        char *close_br = strchr(spec, ']');
        *host = spec + 1;
        if (close_br != NULL) {
            *close_br = '\0';
            if (close_br[1] == ':')
                *port = close_br + 2;
        }
        return;
    }
    *host = spec;
    char *colon = strchr(spec, ':');
    /* One colon is host:port; more is a bare IPv6 address. */
    if (colon != NULL && strchr(colon + 1, ':') == NULL) {
        *colon = '\0';
        *port = colon + 1;
    }
}

bool listener_open_resolved(const char *host, const char *port, int backlog,
                            const char *what,
                            bool (*take)(void *arg, int fd, char *err,
                                         size_t errlen),
                            void *arg, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE,
                             .ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return false;
    }
    bool ok = true;
    for (struct addrinfo *ai = res; ai != NULL && ok; ai = ai->ai_next) {
        int fd = listener_open_tcp(ai, backlog);
        if (fd < 0) {
            snprintf(err, errlen, "cannot listen%s on %s port %s: %s", what,
                     host, port, strerror(errno));
            ok = false;
        } else {
            ok = take(arg, fd, err, errlen);
        }
    }
    freeaddrinfo(res);
    return ok;
}

void listener_mark(int fd, int id)
{
    uint32_t mark = (uint32_t)id;
    if (id != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0)
        log_warn("sock_cookie_id %d: cannot mark socket %d: %s", id, fd,
                 strerror(errno));
}

static bool take_fd(void *arg, int fd, char *err, size_t errlen)
{
    struct listener *l = arg;
    listener_mark(fd, l->srv->settings->sock_cookie_id);
    return add_fd(l, fd, err, errlen);
}

static bool bind_tcp(struct listener *l, char *spec, char *err, size_t errlen)
{
    char *host, *port, defport[16];
    l->binding_plain = listener_strip_notls(&spec);
    listener_split_host_port(spec, &host, &port);
    if (port == NULL) {
        int p = l->srv->settings->port;
        if (p == 0) /* memcached: -p 0 is no TCP */
            return true;
        snprintf(defport, sizeof(defport), "%d", p < 0 ? 0 : p);
        port = defport;
    }
    bool ok = listener_open_resolved(host, port, l->srv->settings->backlog,
                                     "", take_fd, l, err, errlen);
    l->binding_plain = false;
    return ok;
}

bool listener_strip_notls(char **spec)
{
    if (strncmp(*spec, "notls:", 6) != 0)
        return false;
    *spec += 6;
    return true;
}

/* Port and address of a socket's local end; false if it has none. */
static bool local_end(int fd, struct sockaddr_storage *ss)
{
    socklen_t len = sizeof(*ss);
    return getsockname(fd, (struct sockaddr *)ss, &len) == 0 &&
           (ss->ss_family == AF_INET || ss->ss_family == AF_INET6);
}

/* The listening end ls took the connection whose local end is c: same
 * port, and the same address unless ls listens on every address. */
static bool same_listener(const struct sockaddr_storage *ls,
                          const struct sockaddr_storage *c)
{
    if (ls->ss_family != c->ss_family)
        return false;
    if (ls->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ls, *b = (const void *)c;
        return a->sin_port == b->sin_port &&
               (a->sin_addr.s_addr == htonl(INADDR_ANY) ||
                a->sin_addr.s_addr == b->sin_addr.s_addr);
    }
    const struct sockaddr_in6 *a = (const void *)ls, *b = (const void *)c;
    return a->sin6_port == b->sin6_port &&
           (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) ||
            memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0);
}

bool listener_accepted_plain(const struct listener *l, int fd)
{
    struct sockaddr_storage c, ls;
    if (!local_end(fd, &c))
        return false;
    for (int i = 0; i < l->n; i++)
        if (l->plain[i] && local_end(l->fds[i], &ls) && same_listener(&ls, &c))
            return true;
    return false;
}

static bool bind_unix(struct listener *l, const char *path, char *err,
                      size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "unix socket path too long: %s", path);
        return false;
    }
    strcpy(sun.sun_path, path);
    unlink(path); /* a stale socket from an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t old = umask(0777 & ~(mode_t)l->srv->settings->access_mask);
    int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc != 0 || listen(fd, l->srv->settings->backlog) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    l->unix_path = strdup(path);
    return add_fd(l, fd, err, errlen);
}

bool listener_each_address(const char *list,
                           bool (*fn)(void *arg, char *spec, char *err,
                                      size_t errlen),
                           void *arg, char *err, size_t errlen)
{
    char *copy = strdup(list != NULL ? list : "127.0.0.1");
    if (copy == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    bool ok = true;
    char *save = NULL;
    for (char *spec = strtok_r(copy, ",", &save); spec != NULL && ok;
         spec = strtok_r(NULL, ",", &save))
        ok = fn(arg, spec, err, errlen);
    free(copy);
    return ok;
}

static bool bind_tcp_cb(void *arg, char *spec, char *err, size_t errlen)
{
    return bind_tcp(arg, spec, err, errlen);
}

/* Sockets from a service manager replace -p, -l and -s: the unit's
 * ListenStream= lines name the addresses. 0 when there are none. */
static int take_passed(struct listener *l, char *err, size_t errlen)
{
    int n = listen_fds_take(err, errlen);
    for (int i = 0; i < n; i++)
        if (!add_fd(l, LISTEN_FDS_START + i, err, errlen))
            return -1;
    if (n > 0)
        log_info("listening on %d socket%s from the service manager; -p, "
                 "-l and -s are not used", n, n == 1 ? "" : "s");
    return n;
}

static bool bind_all(struct listener *l, char *err, size_t errlen)
{
    const struct settings *s = l->srv->settings;
    int passed = take_passed(l, err, errlen);
    if (passed != 0)
        return passed > 0;
    if (s->socketpath != NULL) /* memcached: -s replaces TCP */
        return bind_unix(l, s->socketpath, err, errlen);
    return listener_each_address(s->listen, bind_tcp_cb, l, err, errlen);
}

struct listener *listener_create(struct server *srv, struct event_base *base,
                                 char *err, size_t errlen)
{
    struct listener *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->srv = srv;
    l->base = base;
    l->since = clock_now(srv->clock);
    l->backoff = evtimer_new(base, on_backoff, l);
    if (l->backoff == NULL || !bind_all(l, err, errlen)) {
        listener_destroy(&l);
        return NULL;
    }
    atomic_store(&srv->accepting, true);
    return l;
}

void listener_destroy(struct listener **lp)
{
    if (lp == NULL || *lp == NULL)
        return;
    struct listener *l = *lp;
    for (int i = 0; i < l->n; i++) {
        event_free(l->evs[i]);
        close(l->fds[i]);
    }
    if (l->backoff != NULL)
        event_free(l->backoff);
    if (l->unix_path != NULL) {
        unlink(l->unix_path);
        free(l->unix_path);
    }
    free(l);
    *lp = NULL;
}

void listener_format_addr(const struct sockaddr_storage *ss, socklen_t len,
                          char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?", port[8] = "0";
    if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
        snprintf(out, cap, "unix:%s", len > sizeof(sa_family_t)
                                          ? sun->sun_path : "");
        return;
    }
    getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), port,
                sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(out, cap, ss->ss_family == AF_INET6 ? "tcp6:[%s]:%s"
                                                 : "tcp:%s:%s", host, port);
}

int listener_fd(const struct listener *l, int i)
{
    return i >= 0 && i < l->n ? l->fds[i] : -1;
}

int listener_count(const struct listener *l)
{
    return l != NULL ? l->n : 0;
}

void listener_describe(struct listener *l, rel_time_t now,
                       void (*emit)(const char *name, const char *value,
                                    void *arg),
                       void *arg)
{
    char key[32], addr[128], secs[16];
    for (int i = 0; i < l->n; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        if (getsockname(l->fds[i], (struct sockaddr *)&ss, &len) != 0)
            continue;
        listener_format_addr(&ss, len, addr, sizeof(addr));
        snprintf(key, sizeof(key), "%d:addr", l->fds[i]);
        emit(key, addr, arg);
        snprintf(key, sizeof(key), "%d:state", l->fds[i]);
        emit(key, "conn_listening", arg);
        snprintf(key, sizeof(key), "%d:secs_since_last_cmd", l->fds[i]);
        snprintf(secs, sizeof(secs), "%u", now > l->since ? now - l->since
                                                          : 0);
        emit(key, secs, arg);
    }
}
