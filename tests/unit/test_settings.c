/*
 * Unit tests for daemon/settings.c: defaults, every flag, size suffixes,
 * -o lists, every error path, -h/-V, and `stats settings` enumeration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/settings.h"

/* The rest of the daemon is written against these exact members. */
#define ASSERT_MEMBER(field, type)                                         \
    _Static_assert(__builtin_types_compatible_p(                           \
                       __typeof__(((struct settings *)0)->field), type),    \
                   "struct settings: " #field " must be " #type)
ASSERT_MEMBER(port, int);
ASSERT_MEMBER(listen, char *);
ASSERT_MEMBER(socketpath, char *);
ASSERT_MEMBER(access_mask, int);
ASSERT_MEMBER(udpport, int);
ASSERT_MEMBER(maxconns, int);
ASSERT_MEMBER(num_threads, int);
ASSERT_MEMBER(maxbytes, uint64_t);
ASSERT_MEMBER(item_size_max, uint64_t);
ASSERT_MEMBER(factor, double);
ASSERT_MEMBER(chunk_size, int);
ASSERT_MEMBER(use_cas, bool);
ASSERT_MEMBER(evict_to_free, bool);
ASSERT_MEMBER(reqs_per_event, int);
ASSERT_MEMBER(verbose, int);
ASSERT_MEMBER(daemonize, bool);
ASSERT_MEMBER(pid_file, char *);
ASSERT_MEMBER(username, char *);
ASSERT_MEMBER(allow_shutdown, bool);
ASSERT_MEMBER(hashpower_init, int);
ASSERT_MEMBER(enable_debugtime, bool);
ASSERT_MEMBER(backlog, int);
ASSERT_MEMBER(lock_memory, int);
ASSERT_MEMBER(binding_protocol, char *);
ASSERT_MEMBER(flush_enabled, bool);
ASSERT_MEMBER(dump_enabled, bool);
ASSERT_MEMBER(idle_timeout, int);
ASSERT_MEMBER(eviction, char *);
ASSERT_MEMBER(enable_coredumps, bool);

struct fixture {
    struct settings s;
    char err[256];
    bool exit_now;
    char *out;             /* what -h / -V printed */
    size_t outlen;
    FILE *outf;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    settings_init(&f->s);
    f->outf = open_memstream(&f->out, &f->outlen);
    if (f->outf == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    settings_deinit(&f->s);
    fclose(f->outf);
    free(f->out);
    free(f);
    return 0;
}

/* argv is NULL-terminated and starts with the program name. */
static int parse_argv(struct fixture *f, char **argv)
{
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    f->err[0] = '\0';
    int rc = settings_parse(&f->s, argc, argv, f->outf, &f->exit_now,
                            f->err, sizeof(f->err));
    fflush(f->outf);
    return rc;
}

#define PARSE(f, ...) \
    parse_argv((f), (char *[]){ "zeekdb", __VA_ARGS__, NULL })

/* Parses and expects failure with msg somewhere in the error line. */
#define PARSE_FAILS(f, msg, ...) do {                                   \
        assert_int_equal(PARSE((f), __VA_ARGS__), -1);                  \
        if (strstr((f)->err, (msg)) == NULL)                            \
            fail_msg("error '%s' lacks '%s'", (f)->err, (msg));         \
        assert_null(strchr((f)->err, '\n'));                            \
    } while (0)

/* ---- defaults --------------------------------------------------------- */

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    const struct settings *s = &f->s;

    assert_int_equal(s->port, 11211);
    assert_string_equal(s->listen, "127.0.0.1");
    assert_null(s->socketpath);
    assert_int_equal(s->access_mask, 0700);
    assert_int_equal(s->udpport, 0);
    assert_int_equal(s->maxconns, 1024);
    assert_int_equal(s->num_threads, 4);
    assert_true(s->maxbytes == 64ULL * 1024 * 1024);
    assert_true(s->item_size_max == 1048576);
    assert_true(s->factor == 1.25);
    assert_int_equal(s->chunk_size, 48);
    assert_true(s->use_cas);
    assert_true(s->evict_to_free);
    assert_int_equal(s->reqs_per_event, 20);
    assert_int_equal(s->verbose, 0);
    assert_false(s->daemonize);
    assert_null(s->pid_file);
    assert_null(s->username);
    assert_false(s->allow_shutdown);
    assert_int_equal(s->hashpower_init, 0);
    assert_false(s->enable_debugtime);
    assert_int_equal(s->backlog, 1024);
    assert_int_equal(s->lock_memory, 0);
    assert_string_equal(s->binding_protocol, "auto");
    assert_string_equal(s->eviction, "sieve");
    assert_int_equal(s->idle_timeout, 0);
    assert_true(s->flush_enabled);
    assert_true(s->dump_enabled);
    assert_false(s->enable_coredumps);
}

static void test_no_arguments_keeps_defaults(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(parse_argv(f, (char *[]){ "zeekdb", NULL }), 0);
    assert_false(f->exit_now);
    assert_string_equal(f->err, "");
    assert_int_equal(f->s.port, 11211);
    assert_string_equal(f->s.listen, "127.0.0.1");
}

/* ---- every flag ------------------------------------------------------- */

static void test_short_flags_with_values(void **state)
{
    struct fixture *f = *state;
    struct settings *s = &f->s;

    assert_int_equal(PARSE(f, "-p", "12345", "-U", "12346", "-s",
                           "/tmp/z.sock", "-a", "0755", "-c", "77", "-t",
                           "16", "-m", "128", "-I", "2m", "-f", "1.5", "-n",
                           "96", "-R", "5", "-b", "64", "-P", "/run/z.pid",
                           "-u", "nobody", "-B", "ascii", "-l", "::1"), 0);
    assert_false(f->exit_now);
    assert_int_equal(s->port, 12345);
    assert_int_equal(s->udpport, 12346);
    assert_string_equal(s->socketpath, "/tmp/z.sock");
    assert_int_equal(s->access_mask, 0755);
    assert_int_equal(s->maxconns, 77);
    assert_int_equal(s->num_threads, 16);
    assert_true(s->maxbytes == 128ULL << 20);
    assert_true(s->item_size_max == 2ULL << 20);
    assert_true(s->factor == 1.5);
    assert_int_equal(s->chunk_size, 96);
    assert_int_equal(s->reqs_per_event, 5);
    assert_int_equal(s->backlog, 64);
    assert_string_equal(s->pid_file, "/run/z.pid");
    assert_string_equal(s->username, "nobody");
    assert_string_equal(s->binding_protocol, "ascii");
    assert_string_equal(s->listen, "::1");
}

static void test_short_flags_without_values(void **state)
{
    struct fixture *f = *state;
    struct settings *s = &f->s;

    assert_int_equal(PARSE(f, "-C", "-M", "-d", "-A", "-k", "-r", "-F",
                           "-X"), 0);
    assert_false(s->use_cas);
    assert_false(s->evict_to_free);
    assert_true(s->daemonize);
    assert_true(s->allow_shutdown);
    assert_int_equal(s->lock_memory, 1);
    assert_true(s->enable_coredumps);
    assert_false(s->flush_enabled);
    assert_false(s->dump_enabled);
}

static void test_flags_can_be_clustered(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-dCp", "11300"), 0);
    assert_true(f->s.daemonize);
    assert_false(f->s.use_cas);
    assert_int_equal(f->s.port, 11300);
}

static void test_verbosity_counts(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-v"), 0);
    assert_int_equal(f->s.verbose, 1);
    f->s.verbose = 0;
    assert_int_equal(PARSE(f, "-vv"), 0);
    assert_int_equal(f->s.verbose, 2);
    f->s.verbose = 0;
    assert_int_equal(PARSE(f, "-vvv"), 0);
    assert_int_equal(f->s.verbose, 3);
    f->s.verbose = 0;
    assert_int_equal(PARSE(f, "-v", "--verbose", "-v"), 0);
    assert_int_equal(f->s.verbose, 3);
}

static void test_long_options(void **state)
{
    struct fixture *f = *state;
    struct settings *s = &f->s;

    assert_int_equal(PARSE(f, "--port=2000", "--listen=10.0.0.1",
                           "--memory-limit=256", "--threads=2",
                           "--conn-limit=9", "--max-item-size=512k",
                           "--udp-port", "2001", "--unix-socket=/s",
                           "--unix-mask=600", "--slab-growth-factor=2",
                           "--slab-min-size=64", "--max-reqs-per-event=7",
                           "--listen-backlog=10", "--protocol=auto",
                           "--pidfile=/p", "--user=u", "--daemon",
                           "--disable-cas", "--disable-evictions",
                           "--enable-shutdown", "--lock-memory",
                           "--verbose", "--enable-coredumps",
                           "--disable-flush-all", "--disable-dumping",
                           "--extended=hashpower=16"), 0);
    assert_int_equal(s->port, 2000);
    assert_string_equal(s->listen, "10.0.0.1");
    assert_true(s->maxbytes == 256ULL << 20);
    assert_int_equal(s->num_threads, 2);
    assert_int_equal(s->maxconns, 9);
    assert_true(s->item_size_max == 512 * 1024);
    assert_int_equal(s->udpport, 2001);
    assert_string_equal(s->socketpath, "/s");
    assert_int_equal(s->access_mask, 0600);
    assert_true(s->factor == 2.0);
    assert_int_equal(s->chunk_size, 64);
    assert_int_equal(s->reqs_per_event, 7);
    assert_int_equal(s->backlog, 10);
    assert_string_equal(s->binding_protocol, "auto");
    assert_string_equal(s->pid_file, "/p");
    assert_string_equal(s->username, "u");
    assert_true(s->daemonize);
    assert_false(s->use_cas);
    assert_false(s->evict_to_free);
    assert_true(s->allow_shutdown);
    assert_int_equal(s->lock_memory, 1);
    assert_int_equal(s->verbose, 1);
    assert_true(s->enable_coredumps);
    assert_false(s->flush_enabled);
    assert_false(s->dump_enabled);
    assert_int_equal(s->hashpower_init, 16);
}

static void test_typical_memcached_conf_line(void **state)
{
    struct fixture *f = *state;

    /* Debian's /etc/memcached.conf, as its wrapper passes it. */
    assert_int_equal(PARSE(f, "-d", "-m", "64", "-p", "11211", "-u",
                           "memcache", "-l", "127.0.0.1", "-P",
                           "/var/run/memcached/memcached.pid"), 0);
    assert_true(f->s.maxbytes == 64ULL << 20);
    assert_string_equal(f->s.username, "memcache");
}

static void test_ignored_memcached_flags_are_accepted(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-L", "-D", ":", "-e", "/dev/shm/mc", "-W",
                           "--enable-largepages", "--memory-file=/x",
                           "--disable-watch", "-N", "2", "--napi-ids=2"), 0);
    assert_string_equal(f->err, "");
    /* kept for stats settings and the start-up warning */
    assert_string_equal(f->s.memory_file, "/x");
}

static void test_repeated_string_replaces(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-P", "/a", "-P", "/b", "-u", "x", "-u", "y",
                           "-B", "ascii", "-B", "auto"), 0);
    assert_string_equal(f->s.pid_file, "/b");
    assert_string_equal(f->s.username, "y");
    assert_string_equal(f->s.binding_protocol, "auto");
}

static void test_listen_repeated_appends(void **state)
{
    struct fixture *f = *state;

    /* The first -l replaces the default, later ones append. */
    assert_int_equal(PARSE(f, "-l", "0.0.0.0", "-l", "::1",
                           "--listen=fe80::1%eth0,10.1.1.1"), 0);
    assert_string_equal(f->s.listen, "0.0.0.0,::1,fe80::1%eth0,10.1.1.1");
    /* A new parse starts over. */
    assert_int_equal(PARSE(f, "-l", "192.168.0.1"), 0);
    assert_string_equal(f->s.listen, "192.168.0.1");
}

/* ---- sizes ------------------------------------------------------------ */

static void test_memory_limit_plain_number_is_megabytes(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-m", "1"), -1);   /* 1 MB < 2 * -I */
    assert_int_equal(PARSE(f, "-m", "2"), 0);
    assert_true(f->s.maxbytes == 2ULL << 20);
    assert_int_equal(PARSE(f, "-m", "4096"), 0);
    assert_true(f->s.maxbytes == 4096ULL << 20);
}

static void test_memory_limit_suffixes(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-m", "1g"), 0);
    assert_true(f->s.maxbytes == 1ULL << 30);
    assert_int_equal(PARSE(f, "-m", "64M"), 0);
    assert_true(f->s.maxbytes == 64ULL << 20);
    assert_int_equal(PARSE(f, "-m", "4096k"), 0);
    assert_true(f->s.maxbytes == 4ULL << 20);
    assert_int_equal(PARSE(f, "-m", "2G"), 0);
    assert_true(f->s.maxbytes == 2ULL << 30);
    assert_int_equal(PARSE(f, "-m", "1t"), 0);
    assert_true(f->s.maxbytes == 1ULL << 40);
}

static void test_item_size_suffixes(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-I", "1k"), 0);
    assert_true(f->s.item_size_max == 1024);
    assert_int_equal(PARSE(f, "-I", "1024"), 0);
    assert_true(f->s.item_size_max == 1024);
    assert_int_equal(PARSE(f, "-I", "5M"), 0);
    assert_true(f->s.item_size_max == 5ULL << 20);
    assert_int_equal(PARSE(f, "-m", "4g", "-I", "1g"), 0);
    assert_true(f->s.item_size_max == 1ULL << 30);
    assert_int_equal(PARSE(f, "-m", "4g", "-I", "1024m"), 0);
    assert_true(f->s.item_size_max == 1ULL << 30);
}

/* ---- -o --------------------------------------------------------------- */

static void test_extended_list(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-o", "hashpower=20,idle_timeout=30,"
                           "eviction=lru,enable_debugtime"), 0);
    assert_int_equal(f->s.hashpower_init, 20);
    assert_int_equal(f->s.idle_timeout, 30);
    assert_string_equal(f->s.eviction, "lru");
    assert_true(f->s.enable_debugtime);
}

static void test_extended_repeated_and_empty_items(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-o", "hashpower=13", "-o",
                           ",eviction=lru,,", "-o", "hashpower=14"), 0);
    assert_int_equal(f->s.hashpower_init, 14);
    assert_string_equal(f->s.eviction, "lru");
}

static void test_extended_bool_forms(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-o", "enable_debugtime"), 0);
    assert_true(f->s.enable_debugtime);
    assert_int_equal(PARSE(f, "-o", "no_enable_debugtime"), 0);
    assert_false(f->s.enable_debugtime);
    assert_int_equal(PARSE(f, "-o", "enable_debugtime=on"), 0);
    assert_true(f->s.enable_debugtime);
    assert_int_equal(PARSE(f, "-o", "enable_debugtime=0"), 0);
    assert_false(f->s.enable_debugtime);
    assert_int_equal(PARSE(f, "-o", "enable_debugtime=TRUE"), 0);
    assert_true(f->s.enable_debugtime);
    assert_int_equal(PARSE(f, "-o", "enable_debugtime=no"), 0);
    assert_false(f->s.enable_debugtime);
}

/* memcached's tunables kept to be shown: as given, in memcached's bounds. */
static void test_extended_memcached_tunables_echoed(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-o", "hot_max_factor=0.3,warm_max_factor=1.5,"
                           "slab_automove_ratio=0.5,slab_automove_window=10,"
                           "slab_automove_freeratio=0.02,"
                           "worker_logbuf_size=128,tail_repair_time=15,"
                           "read_buf_mem_limit=7,lru_crawler_sleep=50,"
                           "lru_crawler_tocrawl=9"), 0);
    assert_true(f->s.hot_max_factor == 0.3 && f->s.warm_max_factor == 1.5);
    assert_true(f->s.slab_automove_freeratio == 0.02);
    assert_int_equal(f->s.slab_automove_window, 10);
    assert_int_equal(f->s.worker_logbuf_size, 128);
    assert_int_equal(f->s.tail_repair_time, 15);
    assert_int_equal(f->s.read_buf_mem_limit, 7 << 20);
    assert_int_equal(f->s.lru_crawler_sleep, 50);
    assert_int_equal(f->s.lru_crawler_tocrawl, 9);
    static char *refused[] = {
        "hot_max_factor=0", "warm_max_factor=-1", "slab_automove_ratio=0",
        "slab_automove_ratio=1.5", "slab_automove_window=2",
        "lru_crawler_sleep=1000001", "hot_max_factor=abc",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_int_equal(PARSE(f, "-o", refused[i]), -1);
    /* taken as memcached takes it (freeratio), or where refusing gains
     * nothing (tail_repair_time 0, memcached's default; a small buffer) */
    assert_int_equal(PARSE(f, "-o", "slab_automove_freeratio=-1,"
                           "tail_repair_time=0,worker_logbuf_size=1"), 0);
}

/* memcached's bare forms: slab_automove alone is level 1; lru_crawler is
 * an on/off switch the crawler commands obey; no_modern sets several. */
static void test_extended_memcached_bare_forms(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-o", "slab_automove=0,slab_automove"), 0);
    assert_int_equal(f->s.slab_automove, 1);
    assert_int_equal(PARSE(f, "-o", "no_slab_automove"), 0);
    assert_int_equal(f->s.slab_automove, 0);
    assert_true(f->s.lru_crawler);
    assert_int_equal(PARSE(f, "-o", "no_lru_crawler"), 0);
    assert_false(f->s.lru_crawler);
    assert_int_equal(PARSE(f, "-o", "lru_crawler"), 0);
    assert_true(f->s.lru_crawler);
    assert_int_equal(PARSE(f, "-o", "hashpower"), -1);
    /* no_modern: memcached's old defaults, which later items override */
    assert_int_equal(PARSE(f, "-o", "no_modern"), 0);
    assert_int_equal(f->s.slab_automove, 0);
    assert_false(f->s.lru_crawler);
    assert_false(f->s.lru_segmented);
    assert_int_equal(PARSE(f, "-o", "no_modern,slab_automove=2"), 0);
    assert_int_equal(f->s.slab_automove, 2);
    assert_int_equal(PARSE(f, "-o", "no_modern=1"), -1);
}

static void test_extended_memcached_tunables_ignored(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-o", "modern,slab_reassign,slab_automove=1,"
                           "lru_crawler,no_lru_crawler,lru_maintainer,"
                           "hash_algorithm=murmur3,maxconns_fast,"
                           "no_hashexpand,hot_lru_pct=20,warm_lru_pct=40,"
                           "temporary_ttl=61,tail_repair_time=0,"
                           "slab_chunk_max=512,track_sizes,no_modern,"
                           "read_buf_mem_limit=0,lru_segmented"), 0);
    assert_true(f->s.track_sizes);
    /* the rest of memcached 1.6.18's -o keys (those only shown are in
     * test_extended_memcached_tunables_echoed), extstore tuning included
     * (inert there too without ext_path) */
    assert_int_equal(PARSE(f, "-o", "watcher_logbuf_size=256,"
                           "resp_obj_mem_limit=0,no_chunked_items,"
                           "no_inline_ascii_resp,drop_privileges,"
                           "no_drop_privileges,no_slab_automove"), 0);
    /* TLS options are taken without -Z, as memcached takes them */
    assert_int_equal(PARSE(f, "-o", "ssl_chain_cert=/c,ssl_key=/k,"
                           "ssl_keyformat=1,ssl_verify_mode=0,ssl_ca_cert=/a,"
                           "ssl_wbuf_size=16,ssl_session_cache,"
                           "ssl_kernel_tls,ssl_min_version=2,"
                           "ssl_ciphers=HIGH"), 0);
    assert_int_equal(PARSE(f, "-o", "ext_page_size=8,ext_wbuf_size=4,"
                           "ext_threads=1,ext_io_depth=1,ext_item_size=512,"
                           "ext_item_age=10,ext_low_ttl=0,"
                           "ext_recache_rate=2000,ext_compact_under=1,"
                           "ext_drop_under=1,ext_max_sleep=1,"
                           "ext_max_frag=0.8,ext_drop_unread"), 0);
}

/* ---- errors ----------------------------------------------------------- */

static void test_error_unknown_extended_key(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "'bogus_key'", "-o", "hashpower=20,bogus_key=1");
    PARSE_FAILS(f, "-o ext_path: not supported: zeekdb has no external "
                "storage", "-o", "ext_path=/mnt/x:1G");
    PARSE_FAILS(f, "'no_such'", "-o", "no_such");
}

static void test_error_extended_forms(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "-o hashpower: missing value", "-o", "hashpower");
    PARSE_FAILS(f, "-o no_hashpower: only on/off", "-o", "no_hashpower");
    assert_int_equal(PARSE(f, "-o", "slab_automove=2"), 0);
    assert_int_equal(f->s.slab_automove, 2);
    assert_int_equal(PARSE(f, "-o", "no_slab_automove"), 0);
    assert_int_equal(f->s.slab_automove, 0);
    PARSE_FAILS(f, "-o slab_automove=3: out of range", "-o",
                "slab_automove=3");
    assert_int_equal(PARSE(f, "-o", "hot_lru_pct=30,warm_lru_pct=50"), 0);
    assert_int_equal(f->s.hot_lru_pct, 30);
    assert_int_equal(f->s.warm_lru_pct, 50);
    PARSE_FAILS(f, "hot_lru_pct + warm_lru_pct cannot be more than 80% "
                "combined", "-o", "hot_lru_pct=41");
    PARSE_FAILS(f, "-o hot_lru_pct=80: out of range", "-o", "hot_lru_pct=80");
    PARSE_FAILS(f, "-o no_enable_debugtime: takes no value", "-o",
                "no_enable_debugtime=1");
    PARSE_FAILS(f, "-o enable_debugtime=maybe: not a boolean", "-o",
                "enable_debugtime=maybe");
    PARSE_FAILS(f, "-o eviction=mru: unknown value, use one of: lru, fifo, "
                "random, sieve, lfu", "-o",
                "eviction=mru");
    PARSE_FAILS(f, "-o idle_timeout=soon: not an integer", "-o",
                "idle_timeout=soon");
    PARSE_FAILS(f, "-o: missing argument", "-o");
}

static void test_error_unknown_option(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "unknown option '-x'", "-x");
    PARSE_FAILS(f, "unknown option '--bogus'", "--bogus");
    PARSE_FAILS(f, "unknown option '--port-number=1'", "--port-number=1");
    PARSE_FAILS(f, "unexpected argument 'modern'", "-m", "64", "modern");
    PARSE_FAILS(f, "unexpected argument '-x'", "-d", "--", "-x");
}

static void test_error_missing_argument(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "-p: missing argument", "-p");
    PARSE_FAILS(f, "--port: missing argument", "--port");
    PARSE_FAILS(f, "-l: missing argument", "-d", "-l");
    PARSE_FAILS(f, "--daemon: takes no argument", "--daemon=yes");
}

static void test_error_bad_numbers(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "-p abc: not an integer", "-p", "abc");
    PARSE_FAILS(f, "-p 12x: not an integer", "-p", "12x");
    PARSE_FAILS(f, "-p '': not an integer", "-p", "");
    PARSE_FAILS(f, "-p  1: not an integer", "-p", " 1");
    PARSE_FAILS(f, "--threads=4.5: not an integer", "--threads=4.5");
    PARSE_FAILS(f, "-f fast: not a number", "-f", "fast");
    PARSE_FAILS(f, "-f nan: not a number", "-f", "nan");
    PARSE_FAILS(f, "-f inf: not a number", "-f", "inf");
    PARSE_FAILS(f, "-a 0800: not an octal number", "-a", "0800");
    PARSE_FAILS(f, "-m 12q: not a size", "-m", "12q");
    PARSE_FAILS(f, "-m -5: not a size", "-m", "-5");
    PARSE_FAILS(f, "-m 1kb: not a size", "-m", "1kb");
    PARSE_FAILS(f, "-I m: not a size", "-I", "m");
    PARSE_FAILS(f, "-I 0x10: not a size", "-I", "0x10");
}

static void test_error_out_of_range(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "-p 70000: out of range (min -1, max 65535)", "-p",
                "70000");
    PARSE_FAILS(f, "-p -2: out of range (min -1, max 65535)", "-p", "-2");
    PARSE_FAILS(f, "-U 65536: out of range", "-U", "65536");
    PARSE_FAILS(f, "-U -2: out of range", "-U", "-2");
    /* memcached's "any free port" */
    assert_int_equal(PARSE(f, "-p", "-1", "-U", "-1"), 0);
    assert_int_equal(f->s.port, -1);
    assert_int_equal(f->s.udpport, -1);
    /* memcached 1.6: -U alone names the TCP port too; -U 0 does not */
    assert_int_equal(PARSE(f, "-U", "11222"), 0);
    assert_int_equal(f->s.port, 11222);
    assert_int_equal(PARSE(f, "-U", "11222", "-p", "0"), 0);
    assert_int_equal(f->s.port, 0);
    assert_int_equal(PARSE(f, "-p", "7"), 0);
    assert_int_equal(PARSE(f, "-U", "0"), 0);
    assert_int_equal(f->s.port, 7);
    PARSE_FAILS(f, "-t 0: out of range (min 1, max 1024)", "-t", "0");
    PARSE_FAILS(f, "-c 0: out of range (min 1", "-c", "0");
    PARSE_FAILS(f, "-c 99999999999: out of range (min 1, max 2147483647)",
                "-c", "99999999999");
    PARSE_FAILS(f, "-c 99999999999999999999: out of range", "-c",
                "99999999999999999999");
    PARSE_FAILS(f, "-R 0: out of range (min 1", "-R", "0");
    PARSE_FAILS(f, "-n 0: out of range (min 1, max 1048576)", "-n", "0");
    /* memcached takes any number; listen() makes a negative one the
     * system's maximum */
    assert_int_equal(PARSE(f, "-b", "-1"), 0);
    assert_int_equal(f->s.backlog, -1);
    PARSE_FAILS(f, "-a 1000: out of range (min 0, max 0777)", "-a", "1000");
    PARSE_FAILS(f, "-f 1.0: out of range (greater than 1.0)", "-f", "1.0");
    PARSE_FAILS(f, "-f 0.5: out of range (greater than 1.0)", "-f", "0.5");
    PARSE_FAILS(f, "-I 512: out of range (min 1k, max 1g)", "-I", "512");
    PARSE_FAILS(f, "-I 2g: out of range (min 1k, max 1g)", "-I", "2g");
    PARSE_FAILS(f, "-m 0: out of range (min 1m)", "-m", "0");
    PARSE_FAILS(f, "-m 99999999999999999g: out of range (too large)", "-m",
                "99999999999999999g");
    PARSE_FAILS(f, "-o hashpower=11: out of range (min 12, max 32)", "-o",
                "hashpower=11");
    PARSE_FAILS(f, "-o hashpower=33: out of range (min 12, max 32)", "-o",
                "hashpower=33");
    PARSE_FAILS(f, "-o idle_timeout=-1: out of range (min 0", "-o",
                "idle_timeout=-1");
}

static void test_error_item_size_over_half_memory(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "max item size (-I, 34603008 bytes) cannot exceed half "
                "of the memory limit (-m, 67108864 bytes)", "-I", "33m");
    assert_int_equal(PARSE(f, "-m", "64", "-I", "32m"), 0);
    PARSE_FAILS(f, "(-m, 1048576 bytes)", "-m", "1");
}

/* -o slab_sizes by memcached's rules and with its messages; each PARSE
 * names the list again, as the fixture keeps what the last one set. */
static void test_slab_sizes(void **state)
{
    struct fixture *f = *state;
    uint32_t sizes[SETTINGS_SLAB_SIZES_MAX];
    char err[128];

    assert_int_equal(settings_slab_sizes(&f->s, sizes, err, sizeof(err)), 0);
    assert_int_equal(PARSE(f, "-o", "slab_sizes=96-200--304"), 0);
    assert_int_equal(settings_slab_sizes(&f->s, sizes, err, sizeof(err)), 3);
    assert_int_equal(sizes[0], 96);
    assert_int_equal(sizes[1], 200);
    assert_int_equal(sizes[2], 304);
    assert_int_equal(PARSE(f, "-n", "100", "-o", "slab_sizes=100-109"), 0);
    PARSE_FAILS(f, "slab size 99 is out of valid range",
                "-n", "100", "-o", "slab_sizes=99-200");
    PARSE_FAILS(f, "slab size 524289 is out of valid range",
                "-n", "48", "-o", "slab_sizes=100-524289");
    PARSE_FAILS(f, "slab size 300000 is out of valid range",
                "-I", "256k", "-o", "slab_sizes=100-300000");
    PARSE_FAILS(f, "slab size 1x is out of valid range",
                "-I", "1m", "-o", "slab_sizes=100-1x");
    PARSE_FAILS(f, "slab size 50 cannot be lower than or equal to a "
                "previous class size", "-o", "slab_sizes=100-50");
    PARSE_FAILS(f, "slab size 108 must be at least 8 bytes larger than "
                "previous class", "-o", "slab_sizes=100-108");
    PARSE_FAILS(f, "slab_sizes: no size given", "-o", "slab_sizes=-");
    char many[SETTINGS_SLAB_SIZES_MAX * 8 + 16] = "slab_sizes=";
    for (int i = 0; i <= SETTINGS_SLAB_SIZES_MAX; i++)
        sprintf(many + strlen(many), "%s%d", i ? "-" : "", 64 + 16 * i);
    PARSE_FAILS(f, "too many slab classes specified", "-o", many);
    strrchr(many, '-')[0] = '\0'; /* one fewer is the most there may be */
    assert_int_equal(PARSE(f, "-o", many), 0);
    assert_int_equal(settings_slab_sizes(&f->s, sizes, err, sizeof(err)),
                     SETTINGS_SLAB_SIZES_MAX);
}

static void test_error_binding_protocol(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-B", "binary"), 0);
    assert_string_equal(f->s.binding_protocol, "binary");
    assert_int_equal(PARSE(f, "--protocol=ascii"), 0);
    assert_string_equal(f->s.binding_protocol, "ascii");
    PARSE_FAILS(f, "-B http: unknown value, use one of: auto, ascii, binary",
                "-B", "http");
    PARSE_FAILS(f, "-B ASCII: unknown value", "-B", "ASCII");
}

/* -Y makes the protocol ascii unless -B says otherwise, and then only
 * ascii is allowed; UDP has no connection to authenticate. */
static void test_auth_file_rules(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-Y", "/etc/zeekdb-users"), 0);
    assert_string_equal(f->s.auth_file, "/etc/zeekdb-users");
    assert_string_equal(f->s.binding_protocol, "ascii");
    assert_int_equal(PARSE(f, "--auth-file=/u", "-B", "ascii"), 0);
    assert_string_equal(f->s.binding_protocol, "ascii");
    PARSE_FAILS(f, "-Y: the binary protocol cannot be allowed", "-Y", "/u",
                "-B", "binary");
    PARSE_FAILS(f, "-Y: the binary protocol cannot be allowed", "-B", "auto",
                "-Y", "/u");
    PARSE_FAILS(f, "-Y: UDP cannot be used", "-Y", "/u", "-U", "11211");
    assert_int_equal(PARSE(f, "-Y", "/u", "-U", "0"), 0);
}

/* -Z: memcached's options, its numeric ssl_min_version, and a certificate
 * it cannot start without. */
static void test_tls_rules(void **state)
{
    struct fixture *f = *state;

    /* settings carry over from parse to parse here: the refusals first */
    PARSE_FAILS(f, "'notls' is valid only with -Z", "-l", "notls:127.0.0.1");
    PARSE_FAILS(f, "'notls' is valid only with -Z", "-l",
                "127.0.0.1,notls:127.0.0.1:11212");
    PARSE_FAILS(f, "-Z needs a certificate", "-Z");
    assert_int_equal(PARSE(f, "-Z", "-o", "ssl_chain_cert=/c.pem,"
                           "ssl_min_version=3,ssl_verify_mode=2"), 0);
    assert_true(f->s.ssl_enabled);
    assert_string_equal(f->s.ssl_chain_cert, "/c.pem");
    assert_string_equal(f->s.ssl_min_version, "3");
    assert_int_equal(f->s.ssl_verify_mode, 2);
    assert_int_equal(f->s.ssl_wbuf_kb, 16);
    PARSE_FAILS(f, "ssl_min_version", "-Z", "-o",
                "ssl_chain_cert=/c,ssl_min_version=tlsv1.2");
    PARSE_FAILS(f, "ssl_verify_mode", "-o", "ssl_verify_mode=4");
    assert_int_equal(PARSE(f, "-Z", "-o", "ssl_chain_cert=/c", "-l",
                           "127.0.0.1,notls:127.0.0.1:11212"), 0);
    PARSE_FAILS(f, "ssl_keyformat", "-o", "ssl_keyformat=3");
}

/* -S makes the protocol binary unless -B says otherwise, and then only
 * binary is allowed; -Y's text token excludes it. */
static void test_sasl_rules(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-S"), 0);
    assert_true(f->s.sasl);
    assert_string_equal(f->s.binding_protocol, "binary");
    /* settings carry over from parse to parse here: -Y last */
    PARSE_FAILS(f, "-S: the text protocol cannot be allowed", "-S", "-B",
                "ascii");
    PARSE_FAILS(f, "-S: the text protocol cannot be allowed", "-B", "auto",
                "--enable-sasl");
    PARSE_FAILS(f, "-S and -Y cannot be used together", "-S", "-Y", "/u");
}

static void test_error_empty_strings(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "-s '': empty value", "-s", "");
    PARSE_FAILS(f, "-l '': empty value", "-l", "");
    PARSE_FAILS(f, "-l ,a: empty item", "-l", ",a");
    PARSE_FAILS(f, "-l a,,b: empty item", "-l", "a,,b");
    PARSE_FAILS(f, "-l a,: empty item", "-l", "a,");
    PARSE_FAILS(f, "-B '': empty value", "-B", "");
}

static void test_error_tolerates_null_buffers(void **state)
{
    struct fixture *f = *state;
    char *argv[] = { "zeekdb", "-p", "x", NULL };
    char small[8];

    assert_int_equal(settings_parse(&f->s, 3, argv, f->outf, NULL, NULL, 0),
                     -1);
    assert_int_equal(settings_parse(&f->s, 3, argv, f->outf, NULL, small,
                                    sizeof(small)), -1);
    assert_string_equal(small, "-p x: n");
}

/* ---- -h and -V -------------------------------------------------------- */

static void test_help_sets_exit_now(void **state)
{
    struct fixture *f = *state;

    /* -h stops parsing: the bad option after it is never looked at. */
    assert_int_equal(PARSE(f, "-p", "1", "-h", "-p", "nonsense"), 0);
    assert_true(f->exit_now);
    assert_int_equal(f->s.port, 1);
    assert_non_null(strstr(f->out, "usage: zeekdb"));
}

static void test_help_lists_every_option(void **state)
{
    struct fixture *f = *state;
    static const char *const expect[] = {
        "-p, --port=<num>", "-U, --udp-port=<num>", "-s, --unix-socket",
        "-a, --unix-mask", "-A, --enable-shutdown", "-l, --listen=<addr>",
        "-d, --daemon", "-r, --enable-coredumps", "-u, --user=<user>",
        "-m, --memory-limit=<num>", "-M, --disable-evictions",
        "-c, --conn-limit=<num>", "-k, --lock-memory", "-v, --verbose",
        "-h, --help", "-V, --version", "-P, --pidfile=<file>",
        "-f, --slab-growth-factor", "-n, --slab-min-size", "-t, --threads",
        "-R, --max-reqs-per-event", "-C, --disable-cas",
        "-b, --listen-backlog", "-B, --protocol=<name>",
        "-I, --max-item-size", "-F, --disable-flush-all",
        "-X, --disable-dumping", "-o, --extended", "hashpower=<num>",
        "idle_timeout=<sec>", "eviction=<name>", "enable_debugtime",
        "default: 11211", "default: 64m", "min 1k, max 1g",
        "eviction=<name>", "auto, ascii, binary", "-S, --enable-sasl",
        "-Z, --enable-ssl", "ssl_chain_cert=<file>", "-L, -N", "-e, --memory-file=<file>", "-W, --disable-watch", "-D <char>", "modern", "read_buf_mem_limit",
    };

    assert_int_equal(PARSE(f, "--help"), 0);
    assert_true(f->exit_now);
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        if (strstr(f->out, expect[i]) == NULL)
            fail_msg("usage lacks '%s'", expect[i]);
}

static void test_usage_fits_80_columns(void **state)
{
    struct fixture *f = *state;
    const char *line;

    settings_usage(f->outf);
    fflush(f->outf);
    line = f->out;
    assert_non_null(line);
    while (*line != '\0') {
        size_t len = strcspn(line, "\n");
        if (len >= 80)
            fail_msg("usage line too long: %.*s", (int)len, line);
        line += len + (line[len] == '\n');
    }
}

static void test_version_sets_exit_now(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-V"), 0);
    assert_true(f->exit_now);
    assert_string_equal(f->out, "zeekdb " ZEEKDB_VERSION "\n");
    assert_int_equal(PARSE(f, "--version"), 0);
    assert_true(f->exit_now);
}

/* ---- stats settings --------------------------------------------------- */

struct stat_buf {
    char text[2048];
    size_t used;
};

static void collect_stat(const char *name, const char *value, void *arg)
{
    struct stat_buf *b = arg;

    b->used += (size_t)snprintf(b->text + b->used, sizeof(b->text) - b->used,
                                "%s %s\n", name, value);
}

/* The lines of memcached's tunables that zeekdb keeps only to show, at
 * their defaults, then of options it accepts and ignores: what it does
 * instead, whatever was asked (settings.h). They follow stat_key_prefix
 * (-D). */
#define IGNORED_STATS                                                        \
    "slab_automove_ratio 0.80\n"                                              \
    "slab_automove_window 30\n"                                               \
    "tail_repair_time 0\n"                                                    \
    "read_buf_mem_limit 0\n"                                                  \
    "maxconns_fast yes\n"                                                     \
    "hash_algorithm xxh3\n"                                                   \
    "slab_reassign yes\n"                                                     \
    "lru_maintainer_thread yes\n"                                             \
    "inline_ascii_response no\n"

static void test_stats_defaults_match_memcached(void **state)
{
    struct fixture *f = *state;
    struct stat_buf b = { .used = 0 };

    settings_foreach_stat(&f->s, collect_stat, &b);
    assert_string_equal(b.text,
                        "maxbytes 67108864\n"
                        "maxconns 1024\n"
                        "tcpport 11211\n"
                        "udpport 0\n"
                        "inter 127.0.0.1\n"
                        "verbosity 0\n"
                        "evictions on\n"
                        "domain_socket NULL\n"
                        "umask 700\n"
                        "shutdown_command no\n"
                        "growth_factor 1.25\n"
                        "chunk_size 48\n"
                        "num_threads 4\n"
                        "reqs_per_event 20\n"
                        "cas_enabled yes\n"
                        "tcp_backlog 1024\n"
                        "binding_protocol auto-negotiate\n"
                        "item_size_max 1048576\n"
                        "hashpower_init 0\n"
                        "flush_enabled yes\n"
                        "dump_enabled yes\n"
                        "idle_timeout 0\n"
                        "eviction_policy sieve\n"
                        "metrics_port 0\n"
                        "snapshot_path NULL\n"
                        "snapshot_interval 300\n"
                        "snapshot_strict no\n"
                        "log_file NULL\n"
                        "lru_crawler yes\n"
                        "track_sizes no\n"
                        "enable_debugtime no\n"
                        "daemonize no\n"
                        "enable_coredumps no\n"
                        "username NULL\n"
                        "pid_file NULL\n"
                        "lock_memory 0\n"
                        "auth_enabled_sasl no\n"
                        "stat_key_prefix :\n"
                        "watch_enabled yes\n"
                        IGNORED_STATS);
}

static void test_stats_after_parse(void **state)
{
    struct fixture *f = *state;
    struct stat_buf b = { .used = 0 };

    assert_int_equal(PARSE(f, "-m", "1g", "-c", "10", "-p", "1", "-U", "2",
                           "-l", "::1", "-l", "10.0.0.1", "-vv", "-M", "-s",
                           "/tmp/s", "-a", "644", "-A", "-f", "2", "-n",
                           "32", "-t", "8", "-R", "3", "-C", "-b", "5",
                           "-B", "ascii", "-I", "4m", "-o",
                           "hashpower=16,idle_timeout=9,eviction=lru,"
                           "metrics_port=9150,enable_debugtime,"
                           "hot_lru_pct=30,modern",
                           "-F", "-X", "-d", "-r", "-u", "nobody", "-P",
                           "/tmp/p", "-k", "-D", "#"), 0);
    settings_foreach_stat(&f->s, collect_stat, &b);
    assert_string_equal(b.text,
                        "maxbytes 1073741824\n"
                        "maxconns 10\n"
                        "tcpport 1\n"
                        "udpport 2\n"
                        "inter ::1,10.0.0.1\n"
                        "verbosity 2\n"
                        "evictions off\n"
                        "domain_socket /tmp/s\n"
                        "umask 644\n"
                        "shutdown_command yes\n"
                        "growth_factor 2.00\n"
                        "chunk_size 32\n"
                        "num_threads 8\n"
                        "reqs_per_event 3\n"
                        "cas_enabled no\n"
                        "tcp_backlog 5\n"
                        "binding_protocol ascii\n"
                        "item_size_max 4194304\n"
                        "hashpower_init 16\n"
                        "flush_enabled no\n"
                        "dump_enabled no\n"
                        "idle_timeout 9\n"
                        "eviction_policy lru\n"
                        "metrics_port 9150\n"
                        "snapshot_path NULL\n"
                        "snapshot_interval 300\n"
                        "snapshot_strict no\n"
                        "log_file NULL\n"
                        "lru_crawler yes\n"
                        "track_sizes no\n"
                        "enable_debugtime yes\n"
                        "daemonize yes\n"
                        "enable_coredumps yes\n"
                        "username nobody\n"
                        "pid_file /tmp/p\n"
                        "lock_memory 1\n"
                        "auth_enabled_sasl no\n"
                        "stat_key_prefix #\n"
                        "watch_enabled yes\n"
                        IGNORED_STATS);
}

/* ---- lifecycle -------------------------------------------------------- */

static void test_deinit_frees_and_is_idempotent(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(PARSE(f, "-s", "/x", "-P", "/y", "-u", "z"), 0);
    settings_deinit(&f->s);
    assert_null(f->s.listen);
    assert_null(f->s.socketpath);
    assert_null(f->s.pid_file);
    assert_null(f->s.username);
    assert_null(f->s.binding_protocol);
    assert_null(f->s.eviction);
    settings_deinit(&f->s);      /* teardown calls it a third time */
}

static void test_failed_parse_leaves_valid_struct(void **state)
{
    struct fixture *f = *state;

    PARSE_FAILS(f, "-p x", "-P", "/pid", "-p", "x");
    assert_string_equal(f->s.pid_file, "/pid");    /* freed by teardown */
    assert_int_equal(f->s.port, 11211);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_no_arguments_keeps_defaults),
        T(test_short_flags_with_values),
        T(test_short_flags_without_values),
        T(test_flags_can_be_clustered),
        T(test_verbosity_counts),
        T(test_long_options),
        T(test_typical_memcached_conf_line),
        T(test_ignored_memcached_flags_are_accepted),
        T(test_repeated_string_replaces),
        T(test_listen_repeated_appends),
        T(test_memory_limit_plain_number_is_megabytes),
        T(test_memory_limit_suffixes),
        T(test_item_size_suffixes),
        T(test_extended_list),
        T(test_extended_repeated_and_empty_items),
        T(test_extended_bool_forms),
        T(test_extended_memcached_tunables_echoed),
        T(test_extended_memcached_bare_forms),
    T(test_extended_memcached_tunables_ignored),
        T(test_error_unknown_extended_key),
        T(test_error_extended_forms),
        T(test_error_unknown_option),
        T(test_error_missing_argument),
        T(test_error_bad_numbers),
        T(test_error_out_of_range),
        T(test_error_item_size_over_half_memory),
        T(test_slab_sizes),
        T(test_error_binding_protocol),
        T(test_auth_file_rules),
        T(test_tls_rules),
        T(test_sasl_rules),
        T(test_error_empty_strings),
        T(test_error_tolerates_null_buffers),
        T(test_help_sets_exit_now),
        T(test_help_lists_every_option),
        T(test_usage_fits_80_columns),
        T(test_version_sets_exit_now),
        T(test_stats_defaults_match_memcached),
        T(test_stats_after_parse),
        T(test_deinit_frees_and_is_idempotent),
        T(test_failed_parse_leaves_valid_struct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
