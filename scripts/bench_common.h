/*
 * bench_common.h - helpers shared by the standalone benchmark clients
 * scripts/loadgen.c and scripts/hitratio.c (each still built alone, as
 * one .c file; this header sits next to them).
 *
 * Define BENCH_PROG (the program name, a string literal) before including:
 * every message starts with it. All functions are static inline, so a file
 * that uses only some of them builds without warnings; include once.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#ifndef BENCH_PROG
#error "define BENCH_PROG before including bench_common.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- time and the watchdog ------------------------------------------- */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void bench_on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = BENCH_PROG ": watchdog expired, giving up\n";
    ssize_t rc = write(2, msg, sizeof msg - 1);
    (void)rc;
    _exit(3);
}

/* SIGALRM after `secs` seconds ends the process with status 3. */
static inline void bench_watchdog(unsigned secs)
{
    signal(SIGALRM, bench_on_alarm);
    alarm(secs);
}

/* ---- options (exit 2 on a bad value) ---------------------------------- */

static inline long opt_long(const char *name, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, BENCH_PROG ": --%s must be an integer in %ld..%ld\n", name, lo, hi);
        exit(2);
    }
    return v;
}

static inline double opt_double(const char *name, const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || !(v >= lo && v <= hi)) {
        fprintf(stderr, BENCH_PROG ": --%s must be a number in %g..%g\n", name, lo, hi);
        exit(2);
    }
    return v;
}

/* --server HOST:PORT, loopback IPv4 only; `target` gets "host:port". */
static inline void opt_server(const char *s, struct sockaddr_in *addr, char *target, size_t tcap)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    size_t hl = colon ? (size_t)(colon - s) : 0;
    if (!colon || hl == 0 || hl >= sizeof host) {
        fprintf(stderr, BENCH_PROG ": --server wants HOST:PORT\n");
        exit(2);
    }
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)opt_long("server port", colon + 1, 1, 65535));
    if (inet_pton(AF_INET, host, &addr->sin_addr) != 1 ||
        (ntohl(addr->sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, BENCH_PROG ": only loopback IPv4 targets (127.x.x.x) are allowed\n");
        exit(2);
    }
    snprintf(target, tcap, "%s:%u", host, ntohs(addr->sin_port));
}

/* ---- the connection --------------------------------------------------- */

/* Blocking TCP connect with send/receive timeouts of timeout_ms (which
 * bound the connect too) and TCP_NODELAY; bufsz > 0 also sets both socket
 * buffer sizes. Returns the fd, or -1 with errno set. */
static inline int bench_connect(const struct sockaddr_in *addr, int timeout_ms, int bufsz)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bufsz > 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
    }
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---- replies ---------------------------------------------------------- */

/* The next CRLF-terminated line in buf[0..avail): 1 found (*len without
 * CRLF), 0 need more bytes, -1 malformed (bare LF, or no end in max). */
static inline int bench_line(const char *buf, size_t avail, size_t max, size_t *len)
{
    const char *nl = memchr(buf, '\n', avail);
    if (nl == NULL)
        return avail > max ? -1 : 0;
    if (nl == buf || nl[-1] != '\r')
        return -1;
    *len = (size_t)(nl - 1 - buf);
    return 1;
}

/* ERROR, NOT_STORED, SERVER_ERROR ..., CLIENT_ERROR ... */
static inline bool bench_is_error_line(const char *line, size_t len)
{
    return (len == 5 && memcmp(line, "ERROR", 5) == 0) ||
           (len == 10 && memcmp(line, "NOT_STORED", 10) == 0) ||
           (len >= 12 && memcmp(line, "SERVER_ERROR", 12) == 0) ||
           (len >= 12 && memcmp(line, "CLIENT_ERROR", 12) == 0);
}

/* Decimal digits at *p (before end) into *out; advances *p. */
static inline bool bench_parse_num(const char **p, const char *end, unsigned long long *out)
{
    const char *s = *p;
    unsigned long long v = 0;
    while (s < end && *s >= '0' && *s <= '9' && v < ULLONG_MAX / 10)
        v = v * 10 + (unsigned long long)(*s++ - '0');
    if (s == *p)
        return false;
    *out = v;
    *p = s;
    return true;
}

/* ---- server `stats` ---------------------------------------------------- */

/* A `STAT name value` the caller wants: stored as a long long at `off`. */
struct bench_stat_field {
    const char *name;
    size_t off;
};

/* One `stats` round trip on blocking fd (bounded by SO_RCVTIMEO): each of
 * the n fields found is stored into out; the others are left alone.
 * Returns 1 if the reply ended with END, 0 otherwise (ERROR, i.e. no
 * `stats`; a send or receive failure; a reply too long to end). */
static inline int bench_stats(int fd, const struct bench_stat_field *fields, size_t n, void *out)
{
    char buf[65536];
    size_t len = 0;
    int ok = 0;
    if (send(fd, "stats\r\n", 7, MSG_NOSIGNAL) == 7) {
        while (len < sizeof buf - 1) {
            ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
            if (r <= 0)
                break;
            len += (size_t)r;
            if (len >= 5 && memcmp(buf + len - 5, "END\r\n", 5) == 0) {
                ok = 1;
                break;
            }
            if (len >= 7 && memcmp(buf + len - 7, "ERROR\r\n", 7) == 0)
                break;
        }
    }
    buf[len] = '\0';
    char *save = NULL;
    for (char *l = strtok_r(buf, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
        char name[64];
        long long v;
        if (sscanf(l, "STAT %63s %lld", name, &v) != 2)
            continue;
        for (size_t i = 0; i < n; i++)
            if (strcmp(name, fields[i].name) == 0)
                *(long long *)((char *)out + fields[i].off) = v;
    }
    return ok;
}

#endif
