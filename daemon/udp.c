/*
 * daemon/udp.c - see udp.h.
 */
#include "daemon/udp.h"

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/worker.h"

/* Datagrams one readable event takes before the loop serves others. */
#define UDP_BATCH 32
#define UDP_DATAGRAM_MAX 65536

struct udp_worker {
    struct worker *worker;
    struct conn *conn;
    struct event *evs[UDP_SOCKETS_MAX];
    int nevs;
    /* the datagram being answered */
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    uint16_t request_id;
    char in[UDP_DATAGRAM_MAX];
    char out[UDP_HEADER_LEN + UDP_PAYLOAD_MAX];
};

/* ---------------------------------------------------------- the sockets */

struct opener {
    struct server *srv;
    char port[16];
};

static bool open_one(void *arg, char *spec, char *err, size_t errlen)
{
    struct opener *o = arg;
    struct server *srv = o->srv;
    char *host, *port;
    listener_split_host_port(spec, &host, &port); /* a TCP port: not ours */
    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_DGRAM};
    struct addrinfo *res;
    int rc = getaddrinfo(*host ? host : NULL, o->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return false;
    }
    bool ok = true;
    for (struct addrinfo *ai = res; ai != NULL && ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
                                           SOCK_CLOEXEC, ai->ai_protocol);
        int one = 1;
        if (fd >= 0 && ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (fd < 0 || srv->n_udp == UDP_SOCKETS_MAX ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            snprintf(err, errlen, "cannot listen on UDP %s port %s: %s", host,
                     o->port, srv->n_udp == UDP_SOCKETS_MAX
                                  ? "too many addresses" : strerror(errno));
            if (fd >= 0)
                close(fd);
            ok = false;
        } else {
            listener_mark(fd, srv->settings->sock_cookie_id);
            srv->udp_fds[srv->n_udp++] = fd;
            log_debug("<%d server listening (udp)", fd);
        }
    }
    freeaddrinfo(res);
    return ok;
}

bool udp_open(struct server *srv, char *err, size_t errlen)
{
    const struct settings *s = srv->settings;
    srv->n_udp = 0;
    if (s->udpport == 0 || s->socketpath != NULL)
        return true;
    struct opener o = {.srv = srv};
    /* -1: any free port, as memcached's -U -1 */
    snprintf(o.port, sizeof(o.port), "%d", s->udpport < 0 ? 0 : s->udpport);
    if (listener_each_address(s->listen, open_one, &o, err, errlen))
        return true;
    udp_close(srv);
    return false;
}

void udp_close(struct server *srv)
{
    for (int i = 0; i < srv->n_udp; i++)
        close(srv->udp_fds[i]);
    srv->n_udp = 0;
}

/* ------------------------------------------------------------ requests */

static void put16(char *p, uint16_t v)
{
    p[0] = (char)(v >> 8);
    p[1] = (char)v;
}

/* conn_run_datagram's flush: what is queued goes out as one message. */
static void send_message(struct conn *c, void *arg)
{
    struct udp_worker *u = arg;
    size_t pending = reply_pending(&c->reply);
    size_t count = (pending + UDP_PAYLOAD_MAX - 1) / UDP_PAYLOAD_MAX;
    if (count > UINT16_MAX)
        count = UINT16_MAX; /* past 91 MB a reply cannot be numbered */
    for (size_t seq = 0; seq < count; seq++) {
        size_t n = reply_take(&c->reply, u->out + UDP_HEADER_LEN,
                              UDP_PAYLOAD_MAX);
        put16(u->out, u->request_id);
        put16(u->out + 2, (uint16_t)seq);
        put16(u->out + 4, (uint16_t)count);
        put16(u->out + 6, 0);
        ssize_t w = sendto(u->fd, u->out, UDP_HEADER_LEN + n, 0,
                           (struct sockaddr *)&u->peer, u->peer_len);
        if (w > 0)
            STAT_ADD(worker_stats(u->worker), bytes_written, (uint64_t)w);
    }
    char drop[UDP_PAYLOAD_MAX];
    while (reply_pending(&c->reply) > 0) /* what could not be numbered */
        reply_take(&c->reply, drop, sizeof(drop));
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct udp_worker *u = arg;
    (void)what;
    for (int i = 0; i < UDP_BATCH; i++) {
        u->peer_len = sizeof(u->peer);
        ssize_t n = recvfrom(fd, u->in, sizeof(u->in), 0,
                             (struct sockaddr *)&u->peer, &u->peer_len);
        if (n < 0)
            return; /* EAGAIN: another worker took it, or none is left */
        STAT_ADD(worker_stats(u->worker), bytes_read, (uint64_t)n);
        const unsigned char *h = (const unsigned char *)u->in;
        /* too short for a frame, or one of several datagrams: dropped */
        if (n < UDP_HEADER_LEN || (h[4] << 8 | h[5]) != 1)
            continue;
        u->fd = fd;
        u->request_id = (uint16_t)(h[0] << 8 | h[1]);
        conn_run_datagram(u->conn, u->in + UDP_HEADER_LEN,
                          (size_t)n - UDP_HEADER_LEN, send_message, u);
    }
}

struct udp_worker *udp_worker_create(struct worker *w, struct server *srv)
{
    struct udp_worker *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return NULL;
    u->worker = w;
    u->conn = conn_create_datagram(w, srv);
    if (u->conn == NULL)
        goto fail;
    for (int i = 0; i < srv->n_udp; i++) {
        u->evs[i] = event_new(worker_base(w), srv->udp_fds[i],
                              EV_READ | EV_PERSIST, on_readable, u);
        if (u->evs[i] == NULL)
            goto fail;
        u->nevs = i + 1;
        if (event_add(u->evs[i], NULL) != 0)
            goto fail;
    }
    return u;
fail:
    udp_worker_destroy(&u);
    return NULL;
}

void udp_worker_destroy(struct udp_worker **up)
{
    if (up == NULL || *up == NULL)
        return;
    struct udp_worker *u = *up;
    for (int i = 0; i < u->nevs; i++)
        event_free(u->evs[i]);
    conn_destroy_datagram(u->conn);
    free(u);
    *up = NULL;
}
