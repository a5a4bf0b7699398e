/*
 * daemon/metrics.c - see metrics.h.
 *
 * A scrape runs on the main thread, between accepts: it sums the workers'
 * counters and merges their histograms exactly as `stats` does on a
 * worker, so it takes no lock a request would wait on beyond the ones
 * `stats` already takes.
 *
 * Page layout (text format 0.0.4): one family per general stat, named
 * zeekdb_<stats name> with the HELP and TYPE of its table row and one
 * sample; the INFO rows (version, libevent) as labels of a single
 * zeekdb_build_info gauge of value 1; then the latency histograms as one
 * family, zeekdb_request_duration_seconds{command="get"|...}; then the
 * per-class figures of `stats slabs` and `stats items`, one family per
 * field with a class="<id>" label on each sample.
 */
#include "daemon/metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/stats.h"
#include "daemon/stats_report.h"
#include "lib/histogram.h"

#define METRICS_PREFIX "zeekdb_"
#define METRICS_PATH "/metrics"
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4"
/* A scraper that stalls longer than this loses its connection, so a
 * stuck client cannot pin a socket on the main thread forever. */
#define METRICS_TIMEOUT_SEC 10
/* A scrape is a bare GET: anything bigger is not a Prometheus server. */
#define METRICS_MAX_HEADERS 8192
#define METRICS_MAX_BODY 1024
#define METRICS_BACKLOG 64
/* Room for "zeekdb_" and a stat name; stat names are short identifiers. */
#define METRICS_NAME_MAX 128

#define LATENCY_FAMILY METRICS_PREFIX "request_duration_seconds"
#define NS_PER_SEC UINT64_C(1000000000)

/* Histogram "le" bounds in nanoseconds: 1-2-5 steps from 10 us to 10 s,
 * which spans a cache hit on loopback to a request stuck behind a slow
 * client. lib/histogram's buckets are at most 1/16 wide, so each count is
 * within that of the exact one (histogram.h explains the rounding). */
static const uint64_t latency_bounds_ns[] = {
    UINT64_C(10000),      UINT64_C(20000),      UINT64_C(50000),
    UINT64_C(100000),     UINT64_C(200000),     UINT64_C(500000),
    UINT64_C(1000000),    UINT64_C(2000000),    UINT64_C(5000000),
    UINT64_C(10000000),   UINT64_C(20000000),   UINT64_C(50000000),
    UINT64_C(100000000),  UINT64_C(200000000),  UINT64_C(500000000),
    UINT64_C(1000000000), UINT64_C(2000000000), UINT64_C(5000000000),
    UINT64_C(10000000000),
};
#define LATENCY_NBOUNDS                                                       \
    (sizeof(latency_bounds_ns) / sizeof(latency_bounds_ns[0]))

struct metrics {
    struct server *srv;
    struct evhttp *http;
};

/* ---- rendering ------------------------------------------------------ */

/* Text escaped as the format asks: in HELP, backslash and newline; in a
 * label value, also the double quote. */
static void put_escaped(struct evbuffer *out, const char *s, bool label)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            evbuffer_add(out, "\\\\", 2);
        else if (*s == '\n')
            evbuffer_add(out, "\\n", 2);
        else if (*s == '"' && label)
            evbuffer_add(out, "\\\"", 2);
        else
            evbuffer_add(out, s, 1);
    }
}

/* zeekdb_<name>, with any byte a metric name may not hold turned into
 * '_': the names come from tables, but the policy's are lib/'s to pick. */
static void metric_name(char *buf, size_t len, const char *name)
{
    int n = snprintf(buf, len, METRICS_PREFIX "%s", name);
    size_t end = n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
    for (size_t i = sizeof(METRICS_PREFIX) - 1; i < end; i++) {
        char c = buf[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == ':';
        if (!ok)
            buf[i] = '_';
    }
}

static void put_family(struct evbuffer *out, const char *name,
                       const char *type, const char *help)
{
    evbuffer_add_printf(out, "# HELP %s ", name);
    put_escaped(out, help, false);
    evbuffer_add_printf(out, "\n# TYPE %s %s\n", name, type);
}

struct page {
    struct evbuffer *out;
    /* Labels of zeekdb_build_info, gathered from the INFO lines, which
     * come in the middle of the report; NULL if out of memory. */
    struct evbuffer *info;
};

static void render_line(const struct stat_line *line, void *arg)
{
    struct page *p = arg;
    if (line->kind == STAT_INFO) {
        if (p->info == NULL)
            return;
        if (evbuffer_get_length(p->info) > 0)
            evbuffer_add(p->info, ",", 1);
        evbuffer_add_printf(p->info, "%s=\"", line->name);
        put_escaped(p->info, line->value, true);
        evbuffer_add(p->info, "\"", 1);
        return;
    }
    char name[METRICS_NAME_MAX];
    metric_name(name, sizeof(name), line->name);
    put_family(p->out, name,
               line->kind == STAT_COUNTER ? "counter" : "gauge", line->help);
    /* The `stats` text is already a valid sample value: an integer, or
     * seconds with a fraction for rusage_*. */
    evbuffer_add_printf(p->out, "%s %s\n", name, line->value);
}

static void render_build_info(struct page *p)
{
    if (p->info == NULL)
        return;
    put_family(p->out, METRICS_PREFIX "build_info", "gauge",
               "versions of the daemon and its libraries; always 1");
    evbuffer_add_printf(p->out, METRICS_PREFIX "build_info{");
    evbuffer_add_buffer(p->out, p->info);
    evbuffer_add_printf(p->out, "} 1\n");
}

/* ns as exact decimal seconds without trailing zeros: 10000 gives
 * "0.00001", 10^10 gives "10". */
static void format_seconds(uint64_t ns, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, ns / NS_PER_SEC,
                     ns % NS_PER_SEC);
    if (n <= 0 || (size_t)n >= len)
        return;
    /* Stops at the '.' at the latest: the integer part is never empty. */
    while (buf[n - 1] == '0')
        buf[--n] = '\0';
    if (buf[n - 1] == '.')
        buf[--n] = '\0';
}

static void render_latency_group(struct evbuffer *out, const char *group,
                                 const struct histogram_snapshot *snap)
{
    uint64_t cumulative[LATENCY_NBOUNDS];
    char le[32];
    size_t n = histogram_buckets(snap, latency_bounds_ns, LATENCY_NBOUNDS,
                                 cumulative);
    uint64_t count = histogram_count(snap);
    for (size_t i = 0; i < n; i++) {
        format_seconds(latency_bounds_ns[i], le, sizeof(le));
        evbuffer_add_printf(out,
                            LATENCY_FAMILY "_bucket{command=\"%s\",le=\"%s\"}"
                            " %" PRIu64 "\n", group, le, cumulative[i]);
    }
    evbuffer_add_printf(out,
                        LATENCY_FAMILY "_bucket{command=\"%s\",le=\"+Inf\"}"
                        " %" PRIu64 "\n", group, count);
    format_seconds(histogram_sum(snap), le, sizeof(le));
    evbuffer_add_printf(out, LATENCY_FAMILY "_sum{command=\"%s\"} %s\n",
                        group, le);
    evbuffer_add_printf(out, LATENCY_FAMILY "_count{command=\"%s\"} %" PRIu64
                        "\n", group, count);
}

static void render_latency(struct server *srv, struct evbuffer *out)
{
    /* 4.7 KB: fine on the main thread's stack, and no allocation. */
    struct histogram_snapshot snap;
    put_family(out, LATENCY_FAMILY, "histogram",
               "request latency by command group, from the worker's loop "
               "waking for the event that finished the request to its reply "
               "being queued");
    for (int g = 0; g < LAT__COUNT; g++) {
        stats_latency_snapshot(srv, (enum latency_group)g, &snap);
        render_latency_group(out, stats_latency_group_name(
                                      (enum latency_group)g), &snap);
    }
}

/* ---- per slab class -------------------------------------------------- */

/* `stats slabs` and `stats items` print "<class>:<field> <value>" (items
 * with an "items:" prefix) class after class. Here each field becomes a
 * family, zeekdb_slab_class_<field> or zeekdb_item_class_<field>, with one
 * sample per class labelled class="<id>". A family's samples must be
 * together, so the lines are collected first and written field by field. */
#define CLASS_FIELD_MAX 40
#define CLASS_VALUE_MAX 24

struct class_sample {
    char field[CLASS_FIELD_MAX];
    unsigned cls;
    char value[CLASS_VALUE_MAX];
};

struct class_lines {
    struct class_sample *v;
    size_t n, cap;
    bool failed;      /* out of memory: the section is left out */
};

static void collect_class_line(const char *name, const char *value,
                               void *arg)
{
    struct class_lines *cl = arg;
    struct class_sample smp;
    int used = 0;
    if (strncmp(name, "items:", 6) == 0)
        name += 6;
    /* Report totals such as active_slabs have no class: not exported. */
    if (cl->failed || sscanf(name, "%u:%n", &smp.cls, &used) != 1 ||
        used == 0 || strlen(name + used) >= sizeof(smp.field) ||
        strlen(value) >= sizeof(smp.value))
        return;
    if (cl->n == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 256;
        struct class_sample *v = realloc(cl->v, cap * sizeof(*v));
        if (v == NULL) {
            cl->failed = true;
            return;
        }
        cl->v = v;
        cl->cap = cap;
    }
    strcpy(smp.field, name + used);
    strcpy(smp.value, value);
    cl->v[cl->n++] = smp;
}

static int by_field_then_class(const void *a, const void *b)
{
    const struct class_sample *x = a, *y = b;
    int c = strcmp(x->field, y->field);
    return c != 0 ? c : (x->cls > y->cls) - (x->cls < y->cls);
}

/* Fields that only ever grow; the rest (sizes, counts held, ages) are
 * gauges. */
static bool class_field_is_counter(const char *field)
{
    static const char *const counters[] = {
        "get_hits", "cmd_set", "delete_hits", "incr_hits", "decr_hits",
        "cas_hits", "cas_badval", "touch_hits", "evicted",
        "evicted_nonzero", "outofmemory", "tailrepairs", "reclaimed",
        "expired_unfetched", "evicted_unfetched", "evicted_active",
        "crawler_reclaimed", "crawler_items_checked", "lrutail_reflocked",
        "moves_to_cold", "moves_to_warm", "moves_within_lru",
        "direct_reclaims", "hits_to_hot", "hits_to_warm", "hits_to_cold",
        "hits_to_temp",
    };
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        if (strcmp(field, counters[i]) == 0)
            return true;
    return false;
}

static void render_class_report(struct server *srv, struct evbuffer *out,
                                void (*report)(struct server *,
                                               stats_emit_fn, void *),
                                const char *family, const char *command)
{
    struct class_lines cl = {0};
    report(srv, collect_class_line, &cl);
    if (!cl.failed && cl.n > 0) /* none before the first item: v is NULL */
        qsort(cl.v, cl.n, sizeof(*cl.v), by_field_then_class);
    for (size_t i = 0; !cl.failed && i < cl.n; i++) {
        char name[METRICS_NAME_MAX], help[96];
        char base[METRICS_NAME_MAX];
        snprintf(base, sizeof(base), "%s_%s", family, cl.v[i].field);
        metric_name(name, sizeof(name), base);
        if (i == 0 || strcmp(cl.v[i].field, cl.v[i - 1].field) != 0) {
            snprintf(help, sizeof(help), "`%s` %s, per slab class", command,
                     cl.v[i].field);
            put_family(out, name,
                       class_field_is_counter(cl.v[i].field) ? "counter"
                                                             : "gauge",
                       help);
        }
        evbuffer_add_printf(out, "%s{class=\"%u\"} %s\n", name, cl.v[i].cls,
                            cl.v[i].value);
    }
    free(cl.v);
}

void metrics_render(struct server *srv, struct evbuffer *out)
{
    struct page p = {out, evbuffer_new()};
    stats_report_general_lines(srv, render_line, &p);
    render_build_info(&p);
    render_latency(srv, out);
    render_class_report(srv, out, stats_report_slabs, "slab_class",
                        "stats slabs");
    render_class_report(srv, out, stats_report_items, "item_class",
                        "stats items");
    if (p.info != NULL)
        evbuffer_free(p.info);
}

/* ---- HTTP ----------------------------------------------------------- */

/* A short plain-text error page. Not evhttp_send_error(), which drops the
 * headers set before it (405 must carry Allow). */
static void send_status(struct evhttp_request *req, int code,
                        const char *reason)
{
    struct evbuffer *body = evbuffer_new();
    if (body != NULL)
        evbuffer_add_printf(body, "%d %s\n", code, reason);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "text/plain");
    evhttp_send_reply(req, code, reason, body);
    if (body != NULL)
        evbuffer_free(body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct metrics *m = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    if (path == NULL || strcmp(path, METRICS_PATH) != 0) {
        send_status(req, HTTP_NOTFOUND, "Not Found");
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        evhttp_add_header(headers, "Allow", "GET");
        send_status(req, HTTP_BADMETHOD, "Method Not Allowed");
        return;
    }
    struct evbuffer *body = evbuffer_new();
    if (body == NULL) {
        send_status(req, HTTP_INTERNAL, "Internal Server Error");
        return;
    }
    metrics_render(m->srv, body);
    evhttp_add_header(headers, "Content-Type", METRICS_CONTENT_TYPE);
    evhttp_send_reply(req, HTTP_OK, "OK", body);
    evbuffer_free(body);
}

/* Listen on metrics_port at every address one -l entry resolves to (its
 * own port, if any, is the cache's and is ignored). */
static bool take_socket(void *arg, int fd, char *err, size_t errlen)
{
    struct metrics *m = arg;
    if (evhttp_accept_socket_with_handle(m->http, fd) != NULL)
        return true;
    /* evhttp owns the socket only once it accepted it. */
    close(fd);
    snprintf(err, errlen, "cannot watch a metrics socket");
    return false;
}

static bool bind_spec(struct metrics *m, char *spec, char *err,
                      size_t errlen)
{
    char *host, *cache_port, port[16];
    listener_split_host_port(spec, &host, &cache_port);
    snprintf(port, sizeof(port), "%d", m->srv->settings->metrics_port);
    return listener_open_resolved(host, port, METRICS_BACKLOG, " for metrics",
                                  take_socket, m, err, errlen);
}

/* The same addresses as the cache: with the default -l 127.0.0.1 the
 * page is no more exposed than the cache itself. A -s unix socket replaces
 * the cache's TCP listeners, not these, which still follow -l. */
static bool bind_spec_cb(void *arg, char *spec, char *err, size_t errlen)
{
    return bind_spec(arg, spec, err, errlen);
}

static bool bind_all(struct metrics *m, char *err, size_t errlen)
{
    return listener_each_address(m->srv->settings->listen, bind_spec_cb, m,
                                 err, errlen);
}

struct metrics *metrics_start(struct server *srv, struct event_base *base,
                              char *err, size_t errlen)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->srv = srv;
    m->http = evhttp_new(base);
    if (m->http == NULL) {
        snprintf(err, errlen, "cannot create the metrics HTTP server");
        metrics_stop(&m);
        return NULL;
    }
    /* Every method reaches on_request, so all but GET get 405 rather
     * than evhttp's 501 for the ones it does not allow by default. */
    evhttp_set_allowed_methods(m->http, (ev_uint16_t)~0u);
    evhttp_set_timeout(m->http, METRICS_TIMEOUT_SEC);
    evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
    evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
    evhttp_set_gencb(m->http, on_request, m);
    if (!bind_all(m, err, errlen)) {
        metrics_stop(&m);
        return NULL;
    }
    log_info("metrics on port %d at " METRICS_PATH,
             srv->settings->metrics_port);
    return m;
}

void metrics_stop(struct metrics **mp)
{
    if (mp == NULL || *mp == NULL)
        return;
    struct metrics *m = *mp;
    /* Closes the listening sockets and any scrape connection. */
    if (m->http != NULL)
        evhttp_free(m->http);
    free(m);
    *mp = NULL;
}
