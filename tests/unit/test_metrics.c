/*
 * Unit tests for daemon/metrics.c's renderer: the exact Prometheus text
 * for a made-up report, so escaping, name cleaning, build_info, the
 * histogram lines and the per-class families are checked byte for byte
 * without a daemon.
 *
 * The .c is included (STYLE rule 17) and the daemon functions it calls
 * are replaced by the fakes below, which stand in for a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/metrics.c"

/* ---- fakes for what metrics.c calls ---------------------------------- */

static const struct stat_line fake_lines[] = {
    {"cmd_get", STAT_COUNTER, "keys \\ asked\nfor", "5"},
    {"version", STAT_INFO, "daemon version", "1.2 \"x\"\\"},
    {"rusage_user", STAT_COUNTER, "user CPU", "0.250000"},
    {"curr_items", STAT_GAUGE, "items", "7"},
    {"libevent", STAT_INFO, "libevent version", "2.1"},
    {"odd-name.x", STAT_COUNTER, "from a policy", "1"},
};

void stats_report_general_lines(struct server *srv, stats_line_fn emit,
                                void *arg)
{
    (void)srv;
    for (size_t i = 0; i < sizeof(fake_lines) / sizeof(fake_lines[0]); i++)
        emit(&fake_lines[i], arg);
}

/* get: 15 us twice and 3 s once; every other group empty. */
void stats_latency_snapshot(struct server *srv, enum latency_group g,
                            struct histogram_snapshot *out)
{
    static struct histogram h;
    (void)srv;
    histogram_snapshot_init(out);
    if (g != LAT_GET)
        return;
    histogram_init(&h);
    histogram_record_n(&h, 15000, 2);
    histogram_record(&h, UINT64_C(3000000000));
    histogram_merge(out, &h);
}

/* Two classes, reported class after class as `stats slabs` does, with
 * its totals at the end; `stats items` with its "items:" prefix. */
static bool fake_no_classes; /* a fresh daemon: no class holds a page */

void stats_report_slabs(struct server *srv, stats_emit_fn emit, void *arg)
{
    (void)srv;
    if (fake_no_classes) {
        emit("active_slabs", "0", arg);
        emit("total_malloced", "0", arg);
        return;
    }
    emit("3:chunk_size", "96", arg);
    emit("3:get_hits", "4", arg);
    emit("12:chunk_size", "1184", arg);
    emit("12:get_hits", "0", arg);
    emit("active_slabs", "2", arg);
    emit("total_malloced", "2097152", arg);
}

void stats_report_items(struct server *srv, stats_emit_fn emit, void *arg)
{
    (void)srv;
    if (fake_no_classes)
        return;
    emit("items:3:number", "10", arg);
    emit("items:3:evicted", "1", arg);
    emit("items:12:number", "2", arg);
    emit("items:12:evicted", "0", arg);
}

const char *stats_latency_group_name(enum latency_group g)
{
    static const char *const names[] = {"get", "set", "delete", "incr",
                                        "touch", "other"};
    return names[g];
}

void listener_split_host_port(char *spec, char **host, char **port)
{
    *host = spec;
    *port = NULL;
}

bool listener_open_resolved(const char *host, const char *port, int backlog,
                            const char *what,
                            bool (*take)(void *arg, int fd, char *err,
                                         size_t errlen),
                            void *arg, char *err, size_t errlen)
{
    (void)host;
    (void)port;
    (void)backlog;
    (void)what;
    (void)take;
    (void)arg;
    snprintf(err, errlen, "not in this test");
    return false;
}

bool listener_each_address(const char *list,
                           bool (*fn)(void *arg, char *spec, char *err,
                                      size_t errlen),
                           void *arg, char *err, size_t errlen)
{
    (void)list;
    (void)fn;
    (void)arg;
    snprintf(err, errlen, "not in this test");
    return false;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

/* ---- tests ----------------------------------------------------------- */

/* The page as a NUL-terminated string; the caller frees it. */
static char *render_page(void)
{
    struct evbuffer *out = evbuffer_new();
    assert_non_null(out);
    metrics_render(NULL, out);
    size_t len = evbuffer_get_length(out);
    char *text = malloc(len + 1);
    assert_non_null(text);
    evbuffer_remove(out, text, len);
    text[len] = '\0';
    evbuffer_free(out);
    return text;
}

static void general_lines_and_build_info(void **state)
{
    (void)state;
    char *page = render_page();
    const char *want =
        "# HELP zeekdb_cmd_get keys \\\\ asked\\nfor\n"
        "# TYPE zeekdb_cmd_get counter\n"
        "zeekdb_cmd_get 5\n"
        "# HELP zeekdb_rusage_user user CPU\n"
        "# TYPE zeekdb_rusage_user counter\n"
        "zeekdb_rusage_user 0.250000\n"
        "# HELP zeekdb_curr_items items\n"
        "# TYPE zeekdb_curr_items gauge\n"
        "zeekdb_curr_items 7\n"
        "# HELP zeekdb_odd_name_x from a policy\n"
        "# TYPE zeekdb_odd_name_x counter\n"
        "zeekdb_odd_name_x 1\n"
        "# HELP zeekdb_build_info versions of the daemon and its libraries; "
        "always 1\n"
        "# TYPE zeekdb_build_info gauge\n"
        "zeekdb_build_info{version=\"1.2 \\\"x\\\"\\\\\",libevent=\"2.1\"} 1\n"
        "# HELP zeekdb_request_duration_seconds ";
    assert_memory_equal(page, want, strlen(want));
    free(page);
}

/* Each field is one family whose samples are together, classes in
 * numeric order; counters and gauges told apart; totals left out. */
static void per_class_families(void **state)
{
    (void)state;
    char *page = render_page();
    const char *want =
        "# HELP zeekdb_slab_class_chunk_size `stats slabs` chunk_size, per "
        "slab class\n"
        "# TYPE zeekdb_slab_class_chunk_size gauge\n"
        "zeekdb_slab_class_chunk_size{class=\"3\"} 96\n"
        "zeekdb_slab_class_chunk_size{class=\"12\"} 1184\n"
        "# HELP zeekdb_slab_class_get_hits `stats slabs` get_hits, per slab "
        "class\n"
        "# TYPE zeekdb_slab_class_get_hits counter\n"
        "zeekdb_slab_class_get_hits{class=\"3\"} 4\n"
        "zeekdb_slab_class_get_hits{class=\"12\"} 0\n"
        "# HELP zeekdb_item_class_evicted `stats items` evicted, per slab "
        "class\n"
        "# TYPE zeekdb_item_class_evicted counter\n"
        "zeekdb_item_class_evicted{class=\"3\"} 1\n"
        "zeekdb_item_class_evicted{class=\"12\"} 0\n"
        "# HELP zeekdb_item_class_number `stats items` number, per slab "
        "class\n"
        "# TYPE zeekdb_item_class_number gauge\n"
        "zeekdb_item_class_number{class=\"3\"} 10\n"
        "zeekdb_item_class_number{class=\"12\"} 2\n";
    const char *at = strstr(page, "# HELP zeekdb_slab_class_");
    assert_non_null(at);
    assert_string_equal(at, want);
    assert_null(strstr(page, "active_slabs"));
    assert_null(strstr(page, "total_malloced"));
    free(page);
}

/* Before any item there is no class to report: no per-class family, and
 * no sort of an empty (NULL) list, which UBSan would stop. */
static void no_classes_no_families(void **state)
{
    (void)state;
    fake_no_classes = true;
    char *page = render_page();
    fake_no_classes = false;
    assert_null(strstr(page, "_class_"));
    const char *tail = "_count{command=\"other\"} 0\n";
    assert_string_equal(page + strlen(page) - strlen(tail), tail);
    free(page);
}

static void latency_histogram(void **state)
{
    (void)state;
    char *page = render_page();
    static const char *const want[] = {
        "# TYPE zeekdb_request_duration_seconds histogram\n"
        "zeekdb_request_duration_seconds_bucket{command=\"get\","
        "le=\"0.00001\"} 0\n"
        "zeekdb_request_duration_seconds_bucket{command=\"get\","
        "le=\"0.00002\"} 2\n",
        "{command=\"get\",le=\"2\"} 2\n"
        "zeekdb_request_duration_seconds_bucket{command=\"get\",le=\"5\"} 3\n"
        "zeekdb_request_duration_seconds_bucket{command=\"get\",le=\"10\"} 3\n"
        "zeekdb_request_duration_seconds_bucket{command=\"get\",le=\"+Inf\"}"
        " 3\n"
        "zeekdb_request_duration_seconds_sum{command=\"get\"} 3.00003\n"
        "zeekdb_request_duration_seconds_count{command=\"get\"} 3\n"
        "zeekdb_request_duration_seconds_bucket{command=\"set\","
        "le=\"0.00001\"} 0\n",
        "zeekdb_request_duration_seconds_sum{command=\"other\"} 0\n"
        "zeekdb_request_duration_seconds_count{command=\"other\"} 0\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_non_null(strstr(page, want[i]));
    /* 19 bounds + "+Inf" per group, six groups; the per-class families
     * follow straight after. */
    size_t buckets = 0;
    for (const char *p = page; (p = strstr(p, "_bucket{")) != NULL; p++)
        buckets++;
    assert_int_equal(buckets, 6 * (LATENCY_NBOUNDS + 1));
    assert_non_null(strstr(page, "_count{command=\"other\"} 0\n"
                                 "# HELP zeekdb_slab_class_chunk_size "));
    free(page);
}

static void seconds_are_exact_decimals(void **state)
{
    (void)state;
    static const struct {
        uint64_t ns;
        const char *text;
    } cases[] = {
        {0, "0"},
        {1, "0.000000001"},
        {10000, "0.00001"},
        {1500000, "0.0015"},
        {UINT64_C(1000000000), "1"},
        {UINT64_C(10000000000), "10"},
        {UINT64_C(12345678901), "12.345678901"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        format_seconds(cases[i].ns, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(general_lines_and_build_info),
        cmocka_unit_test(latency_histogram),
        cmocka_unit_test(per_class_families),
        cmocka_unit_test(no_classes_no_families),
        cmocka_unit_test(seconds_are_exact_decimals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
