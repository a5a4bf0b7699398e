/*
 * daemon/main.c - zeekdb's entry point: all set-up, then the acceptor's
 * event loop, then teardown in the exact reverse order.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon/authfile.h"
#include "daemon/binary_sasl.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/maintainer.h"
#include "daemon/metrics.h"
#include "daemon/port_file.h"
#include "daemon/prefix_stats.h"
#include "daemon/rates.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/snapshotter.h"
#include "daemon/tls.h"
#include "daemon/udp.h"
#include "daemon/watch.h"
#include "daemon/worker.h"

/* Address space reserved for the arena beyond -m, so cache_memlimit can
 * raise the limit at run time; reserving costs no memory. */
#define RESERVE_MIN (1ull << 30)

struct runtime {
    struct settings settings;
    struct server srv;
    struct event_base *base;
    struct listener *listener;
    struct metrics *metrics;              /* NULL unless -o metrics_port */
    struct maintainer *maintainer;
    struct event *sig_term, *sig_int, *sig_hup, *sig_usr1;
};

static void fail(int code, const char *fmt, const char *arg)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), fmt, arg);
    log_fatal(msg);
    exit(code);
}

/* Started with 0, 1 or 2 closed, zeekdb would give those numbers to its
 * sockets and files, and log lines (written to 2) would land in them. */
static void reserve_std_fds(void)
{
    int fd;
    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
        ;
    if (fd > STDERR_FILENO)
        close(fd);
}

/* -d: into the background, as memcached goes. Its stdin and stdout
 * become /dev/null, and stderr too unless -v or -o log_file makes it the
 * log: a shell, pipe or ssh session that started the daemon is not held
 * open by it. */
static void daemonize(const struct settings *s)
{
    if (daemon(0, 1) != 0)
        fail(EX_OSERR, "cannot daemonize: %s", strerror(errno));
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return;
    (void)dup2(fd, STDIN_FILENO);
    (void)dup2(fd, STDOUT_FILENO);
    if (s->verbose == 0 && s->log_file == NULL)
        (void)dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct runtime *rt = arg;
    (void)what;
    log_info("signal %d: shutting down", (int)sig);
    event_base_loopbreak(rt->base);
}

/* -Y: memcached reloads its authfile on SIGHUP. */
static void reload_auth_file(struct authfile *auth)
{
    char err[4200];
    if (auth == NULL)
        return;
    if (authfile_reload(auth, err, sizeof(err)))
        log_info("SIGHUP: reloaded %s: %zu users", authfile_path(auth),
                 authfile_count(auth));
    else
        log_warn("SIGHUP: %s; keeping the users loaded before", err);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct runtime *rt = arg;
    (void)sig;
    (void)what;
    reload_auth_file(rt->srv.auth);
    /* Without -o log_file, logs go to stderr, which the supervisor owns. */
    if (log_file_path() == NULL)
        log_info("SIGHUP: nothing to reopen");
    else if (log_reopen() != 0)
        log_warn("SIGHUP: cannot reopen %s: %s; still logging to the old "
                 "file", log_file_path(), strerror(errno));
    else
        log_info("SIGHUP: reopened %s", log_file_path());
}

/* SIGUSR1: a snapshot now, written by the maintainer. */
static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;
    (void)sig;
    (void)what;
    if (srv->snapshotter == NULL) {
        log_warn("SIGUSR1: snapshots are off (no -o snapshot_path)");
        return;
    }
    log_info("SIGUSR1: writing a snapshot");
    snapshotter_request(srv->snapshotter);
    maintainer_wake(srv->maintainer);
}

/* The shutdown command, from a worker: the main loop does the work. */
static void request_shutdown(struct server *srv)
{
    (void)srv;
    kill(getpid(), SIGTERM);
}

static void check_startup_rules(const struct settings *s)
{
    if (getuid() == 0 && s->username == NULL)
        fail(EX_USAGE, "can't run as root without the -u switch%s", "");
    /* memcached's restartable cache: a config that has it expects a warm
     * restart and a SIGUSR1 that stops the daemon; say what zeekdb does. */
    if (s->memory_file != NULL)
        log_warn("-e %s: not used: zeekdb keeps items in memory; warm "
                 "restarts come from -o snapshot_path=FILE, written at "
                 "shutdown and on SIGUSR1 (which does not stop zeekdb)",
                 s->memory_file);
}

static void raise_fd_limit(int maxconns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)maxconns + SERVER_RESERVED_FDS;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want;
    if (rl.rlim_max < want)
        rl.rlim_max = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        log_warn("cannot raise the open files limit to %llu for -c %d",
                 (unsigned long long)want, maxconns);
}

/* -r, as memcached: best effort, a warning when refused. */
static void raise_core_limit(const struct settings *s)
{
    if (!s->enable_coredumps)
        return;
    struct rlimit rl;
    if (getrlimit(RLIMIT_CORE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_CORE, &rl) != 0)
            log_warn("cannot raise the core file size limit");
    }
}

/* -k, best effort as in memcached. Last of all: locked before the
 * privileges drop, every later mapping (thread stacks) would count
 * against the unprivileged user's RLIMIT_MEMLOCK and could stop start-up;
 * now what runs is locked, or a warning says why not. */
static void lock_memory(const struct settings *s)
{
    if (s->lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        log_warn("cannot lock memory (-k): %s; running unlocked",
                 strerror(errno));
}

static struct cache *make_cache(const struct settings *s, struct clock *clk)
{
    struct cache_config cfg;
    uint32_t sizes[SETTINGS_SLAB_SIZES_MAX];
    char err[128];
    int nsizes = settings_slab_sizes(s, sizes, err, sizeof(err));
    cache_config_defaults(&cfg);
    if (nsizes > 0) { /* checked when parsed */
        cfg.class_sizes = sizes;
        cfg.nclass_sizes = (unsigned)nsizes;
    }
    cfg.limit = s->maxbytes;
    cfg.reserve = s->maxbytes > RESERVE_MIN ? s->maxbytes : RESERVE_MIN;
    cfg.item_size_max = s->item_size_max;
    cfg.chunk_min = (size_t)s->chunk_size;
    cfg.factor = s->factor;
    cfg.use_cas = s->use_cas;
    cfg.track_sizes = s->track_sizes;
    cfg.evict = s->evict_to_free;
    cfg.hashpower = (unsigned)s->hashpower_init;
    cfg.automove_window = (unsigned)s->slab_automove_window;
    cfg.automove_ratio = s->slab_automove_ratio;
    if (s->snapshot_path != NULL)
        cfg.expect_items = snapshotter_expected_items(s->snapshot_path,
                                                      s->maxbytes);
    cfg.policy = s->eviction;
    return cache_create(&cfg, clk);
}

static void drop_privileges(const char *user)
{
    if (getuid() != 0 || user == NULL)
        return;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL)
        fail(EX_NOUSER, "can't find the user %s to switch to", user);
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        fail(EX_OSERR, "failed to assume the identity of %s", user);
}

static void write_pid_file(const char *path)
{
    if (path == NULL)
        return;
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        log_warn("cannot write the pid file %s: %s", path, strerror(errno));
        return;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
}

/* memcached keeps the first character of -D (and prints just that). */
static void trim_delimiter(struct settings *s)
{
    if (s->prefix_delim == NULL || s->prefix_delim[0] == '\0')
        fail(EX_USAGE, "-D needs a delimiter character%s", "");
    s->prefix_delim[1] = '\0';
}

static void parse_args(struct runtime *rt, int argc, char **argv)
{
    char err[512];
    bool exit_now = false;
    settings_init(&rt->settings);
    if (settings_parse(&rt->settings, argc, argv, stdout, &exit_now, err,
                       sizeof(err)) != 0) {
        settings_deinit(&rt->settings);
        fail(EX_USAGE, "%s", err);
    }
    if (exit_now) {
        settings_deinit(&rt->settings);
        exit(0);
    }
    trim_delimiter(&rt->settings);
}

/* memcached's -vv table of its slab classes, for zeekdb's. */
static void log_slab_classes(struct cache *cache)
{
    for (unsigned i = 1; i <= cache_nclasses(cache); i++) {
        struct cache_class_stats cs;
        cache_class_stats(cache, i, &cs);
        log_debug("slab class %3u: chunk size %9zu perslab %7llu", i,
                  cs.chunk_size, (unsigned long long)cs.chunks_per_page);
    }
}

/* -o hashpower larger than -m can hold: the cache starts smaller. */
static void warn_small_table(struct cache *c, int asked)
{
    struct cache_stats cs;
    cache_stats(c, &cs);
    if (asked > 0 && cs.hash_power < (unsigned)asked)
        log_warn("-o hashpower=%d: a table that large does not fit in the "
                 "memory limit (-m); starting at %u, to grow with the items",
                 asked, cs.hash_power);
}

static void start_engine(struct runtime *rt)
{
    struct server *srv = &rt->srv;
    srv->settings = &rt->settings;
    srv->started = time(NULL);
    srv->clock = clock_create(srv->started);
    srv->cache = srv->clock ? make_cache(&rt->settings, srv->clock) : NULL;
    srv->prefix = prefix_stats_create(rt->settings.prefix_delim[0]);
    srv->rates = rates_create();
    size_t watch_buf = (size_t)rt->settings.watcher_logbuf_kb * 1024;
    srv->watch = srv->cache ? watch_create(srv->cache, watch_buf) : NULL;
    if (srv->cache == NULL || srv->prefix == NULL || srv->rates == NULL ||
        srv->watch == NULL)
        fail(EX_SOFTWARE, "cannot create a cache of %s: check -m, -I, -f "
             "and -n", "that size");
    if (log_level() >= LOG_DEBUG)
        log_slab_classes(srv->cache);
    warn_small_table(srv->cache, rt->settings.hashpower_init);
    srv->request_shutdown = request_shutdown;
    atomic_store(&srv->slab_automove, rt->settings.slab_automove);
    atomic_store(&srv->crawler_off, !rt->settings.lru_crawler);
    atomic_store(&srv->crawler_sleep, (uint32_t)rt->settings.lru_crawler_sleep);
    atomic_store(&srv->crawler_tocrawl,
                 (uint32_t)rt->settings.lru_crawler_tocrawl);
    atomic_store(&srv->hot_max_factor, rt->settings.hot_max_factor);
    atomic_store(&srv->warm_max_factor, rt->settings.warm_max_factor);
    cache_set_automove(srv->cache, rt->settings.slab_automove != 0);
    if (rt->settings.temporary_ttl >= 0)
        cache_set_temp_lru(srv->cache, true,
                           (uint32_t)rt->settings.temporary_ttl);
    cache_set_lru_shares(srv->cache, (unsigned)rt->settings.hot_lru_pct,
                         (unsigned)rt->settings.warm_lru_pct);
    if (!rt->settings.lru_segmented)
        cache_set_lru_flat(srv->cache, true);
}

/* Warm restart: load the snapshot before any client can connect. */
static void load_snapshot(struct runtime *rt)
{
    const struct settings *s = &rt->settings;
    if (s->snapshot_path == NULL)
        return;
    rt->srv.snapshotter = snapshotter_create(rt->srv.cache, s->snapshot_path,
                                             (unsigned)s->snapshot_interval);
    if (rt->srv.snapshotter == NULL)
        fail(EX_OSERR, "out of memory%s", "");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = (unsigned)(cpus > 0 ? cpus : 1);
    if (threads > (unsigned)s->num_threads)
        threads = (unsigned)s->num_threads;
    if (!snapshotter_load(rt->srv.snapshotter, s->snapshot_strict, threads))
        fail(EX_DATAERR, "refusing to start: the snapshot is damaged "
             "(-o snapshot_strict)%s", "");
}

static void start_network(struct runtime *rt)
{
    char err[512];
    rt->base = event_base_new();
    if (rt->base == NULL)
        fail(EX_OSERR, "cannot create an event loop%s", "");
    rt->listener = listener_create(&rt->srv, rt->base, err, sizeof(err));
    if (rt->listener == NULL)
        fail(EX_OSERR, "%s", err);
    rt->srv.listener = rt->listener;
    if (!udp_open(&rt->srv, err, sizeof(err)))
        fail(EX_OSERR, "%s", err);
    port_file_write(&rt->srv);
    if (rt->settings.metrics_port != 0) {
        rt->metrics = metrics_start(&rt->srv, rt->base, err, sizeof(err));
        if (rt->metrics == NULL)
            fail(EX_OSERR, "%s", err);
    }
}

static void start_threads(struct runtime *rt)
{
    struct server *srv = &rt->srv;
    int n = rt->settings.num_threads;
    srv->workers = calloc((size_t)n, sizeof(*srv->workers));
    if (srv->workers == NULL)
        fail(EX_OSERR, "out of memory%s", "");
    for (int i = 0; i < n; i++) {
        srv->workers[i] = worker_create(srv, i);
        if (srv->workers[i] == NULL || !worker_start(srv->workers[i]))
            fail(EX_OSERR, "cannot start worker threads%s", "");
        srv->nworkers = i + 1;
    }
    rt->maintainer = maintainer_start(srv);
    if (rt->maintainer == NULL)
        fail(EX_OSERR, "cannot start the maintainer thread%s", "");
    srv->maintainer = rt->maintainer;
}

static void watch_signals(struct runtime *rt)
{
    signal(SIGPIPE, SIG_IGN);
    rt->sig_term = evsignal_new(rt->base, SIGTERM, on_stop_signal, rt);
    rt->sig_int = evsignal_new(rt->base, SIGINT, on_stop_signal, rt);
    rt->sig_hup = evsignal_new(rt->base, SIGHUP, on_hup, rt);
    rt->sig_usr1 = evsignal_new(rt->base, SIGUSR1, on_usr1, &rt->srv);
    if (!rt->sig_term || !rt->sig_int || !rt->sig_hup || !rt->sig_usr1 ||
        event_add(rt->sig_term, NULL) || event_add(rt->sig_int, NULL) ||
        event_add(rt->sig_hup, NULL) || event_add(rt->sig_usr1, NULL))
        fail(EX_OSERR, "cannot watch signals%s", "");
}

static void teardown(struct runtime *rt)
{
    struct server *srv = &rt->srv;
    metrics_stop(&rt->metrics);
    /* The main loop has stopped, so nothing is accepted any more; the
     * listener outlives the workers because `stats conns` on a worker
     * describes its sockets. */
    for (int i = 0; i < srv->nworkers; i++)
        worker_stop(srv->workers[i]);
    srv->listener = NULL;
    listener_destroy(&rt->listener);
    maintainer_stop(&rt->maintainer);
    srv->maintainer = NULL;
    /* Nothing changes the cache any more: the final snapshot. */
    if (srv->snapshotter != NULL)
        snapshotter_write_now(srv->snapshotter);
    snapshotter_destroy(&srv->snapshotter);
    for (int i = 0; i < srv->nworkers; i++)
        worker_destroy(&srv->workers[i]);
    free(srv->workers);
    udp_close(srv);
    event_free(rt->sig_usr1);
    event_free(rt->sig_hup);
    event_free(rt->sig_int);
    event_free(rt->sig_term);
    event_base_free(rt->base);
    rates_destroy(&srv->rates);
    prefix_stats_destroy(&srv->prefix);
    watch_destroy(&srv->watch);
    cache_destroy(&srv->cache);
    clock_destroy(&srv->clock);
    authfile_close(&srv->auth);
    tls_destroy(&srv->tls);
    if (rt->settings.pid_file != NULL)
        unlink(rt->settings.pid_file);
    settings_deinit(&rt->settings);
}

/* -Y: read once the privileges are dropped, so the file the daemon
 * starts with is one it can reload on SIGHUP. */
static void open_auth_file(struct runtime *rt)
{
    char err[4200];
    if (rt->settings.auth_file == NULL)
        return;
    rt->srv.auth = authfile_open(rt->settings.auth_file, err, sizeof(err));
    if (rt->srv.auth == NULL)
        fail(EX_CONFIG, "-Y: %s", err);
    if (authfile_count(rt->srv.auth) == 0)
        log_warn("-Y: %s has no users: no client can authenticate",
                 authfile_path(rt->srv.auth));
}

/* -S: once, before any connection. */
static void start_sasl(const struct settings *s)
{
    char err[512];
    if (s->sasl && !binary_sasl_init(err, sizeof(err)))
        fail(EX_CONFIG, "-S: %s", err);
}

/* -Z: loaded before -u takes effect, like memcached, since keys are often
 * readable by root only (refresh_certs then runs as the -u user). */
static void start_tls(struct runtime *rt)
{
    char err[4200];
    if (!rt->settings.ssl_enabled)
        return;
    rt->srv.tls = tls_create(&rt->settings, err, sizeof(err));
    if (rt->srv.tls == NULL)
        fail(EX_CONFIG, "-Z: error %s", err);
}

/* -o log_file: from here on every log line goes there. */
static void open_log_file(const char *path)
{
    char why[4200];
    if (path == NULL || log_open(path) == 0)
        return;
    snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
    fail(EX_CANTCREAT, "cannot open the log file %s", why);
}

int main(int argc, char **argv)
{
    static struct runtime rt;
    /* SIGUSR1's and SIGHUP's default action ends the process: ignore
     * them until the main loop watches them (a snapshot load can take
     * seconds, and a reload can be asked for meanwhile). */
    signal(SIGUSR1, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    reserve_std_fds();
    parse_args(&rt, argc, argv);
    log_set_level(rt.settings.verbose);
    open_log_file(rt.settings.log_file);
    check_startup_rules(&rt.settings);
    raise_fd_limit(rt.settings.maxconns);
    raise_core_limit(&rt.settings);
    start_engine(&rt);
    load_snapshot(&rt);
    start_tls(&rt);
    start_sasl(&rt.settings);
    start_network(&rt);
    drop_privileges(rt.settings.username);
    open_auth_file(&rt);
    if (rt.settings.daemonize)
        daemonize(&rt.settings);
    write_pid_file(rt.settings.pid_file);
    watch_signals(&rt);
    start_threads(&rt);
    lock_memory(&rt.settings);
    log_info("zeekdb %s ready", ZEEKDB_VERSION);
    log_started();
#ifdef HAVE_SYSTEMD
    sd_notify(0, "READY=1");
#endif
    event_base_dispatch(rt.base);
#ifdef HAVE_SYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
    teardown(&rt);
    return 0;
}
