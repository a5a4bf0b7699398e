/*
 * loadgen_report.c - loadgen's options, its `stats` queries and the
 * RESULT lines it prints. See loadgen.c for the model.
 */
#include "loadgen.h"

/* ---- server stats ---------------------------------------------------- */

/* One `stats` round trip on a fresh blocking connection. Fields the
 * server does not report stay at -1. */
struct srvstats stats_query(const struct config *cfg)
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
    if (cfg->tls)                 /* the plain-socket query cannot speak it */
        return s;
    int fd = connect_to(cfg, false);
    if (fd < 0)
        return s;
    s.ok = bench_stats(fd, fields, sizeof fields / sizeof fields[0], &s) > 0;
    close(fd);
    return s;
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
"      --value-size-max N   values of value-size..N bytes (a hash of the key)\n"
"      --key-prefix C       first byte of every key, a-z    [k]\n"
"      --rate OPS           paced (open loop): offer OPS requests/s in all,\n"
"                           each conn on its own fixed schedule; latency\n"
"                           counts from the scheduled send time    [0: off]\n"
"                           (with --preload-only, paces the preload)\n"
"      --tls                every connection speaks TLS (no certificate\n"
"                           check; no server `stats` cross-check, no --fill)\n"
"      --fill               set new keys until the server evicts, then\n"
"                           report curr_items (memory efficiency)\n"
"      --fill-more F        with --fill: after the first eviction, set F x\n"
"                           as many fresh keys again, then report   [0]\n"
"      --preload-only       preload every key, report, skip the run\n"
"      --progress           a progress line on stderr every 5 s (fill, preload)\n"
"      --budget SECS        time allowed for preload or fill  [300]\n"
"      --verify-values      also check every value byte\n"
"      --timeout-ms N       give up on a silent connection  [2000]\n"
"      --seed N             RNG seed                        [1]\n"
"      --server-pid PID     report the server's CPU time per op (/proc)\n"
"SIGTERM or SIGINT ends the current phase early and still reports.\n"
"Prints a human summary on stderr and a RESULT line on stdout; exits 1 on\n"
"any error or timeout, 2 on bad usage, 3 if the watchdog fires.\n");
}

void parse_options(struct config *cfg, int argc, char **argv)
{
    enum { O_KSZ = 256, O_VSZ, O_PRE, O_NOPRE, O_FILL, O_VERIFY, O_TMO, O_SEED, O_PID,
           O_VMAX, O_KPFX, O_RATE, O_MORE, O_PONLY, O_PROG, O_BUDGET, O_TLS };
    static const struct option opts[] = {
        { "server", 1, 0, 's' }, { "threads", 1, 0, 't' }, { "conns", 1, 0, 'c' },
        { "duration", 1, 0, 'd' }, { "keys", 1, 0, 'k' }, { "key-size", 1, 0, O_KSZ },
        { "value-size", 1, 0, O_VSZ }, { "get-ratio", 1, 0, 'g' },
        { "pipeline", 1, 0, 'P' }, { "multiget", 1, 0, 'M' },
        { "preload", 0, 0, O_PRE }, { "no-preload", 0, 0, O_NOPRE },
        { "fill", 0, 0, O_FILL }, { "verify-values", 0, 0, O_VERIFY },
        { "timeout-ms", 1, 0, O_TMO }, { "seed", 1, 0, O_SEED },
        { "server-pid", 1, 0, O_PID }, { "value-size-max", 1, 0, O_VMAX },
        { "key-prefix", 1, 0, O_KPFX }, { "rate", 1, 0, O_RATE },
        { "fill-more", 1, 0, O_MORE }, { "preload-only", 0, 0, O_PONLY },
        { "progress", 0, 0, O_PROG }, { "budget", 1, 0, O_BUDGET },
        { "tls", 0, 0, O_TLS },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
    };
    *cfg = (struct config){ .threads = 1, .conns = 4, .pipeline = 1, .multiget = 1,
        .key_size = 32, .value_size = 100, .timeout_ms = 2000, .keys = 100000,
        .duration = 5, .get_ratio = 0.9, .preload = true, .seed = 1,
        .budget_s = PHASE_BUDGET_S };
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
        case O_VMAX: cfg->value_max = (int)opt_long("value-size-max", optarg, 1, 1048000); break;
        case O_KPFX:
            if (optarg[0] < 'a' || optarg[0] > 'z' || optarg[1] != '\0') {
                fprintf(stderr, "loadgen: --key-prefix must be one letter a-z\n");
                exit(2);
            }
            g_key_char = optarg[0];
            break;
        case O_RATE: cfg->rate = opt_double("rate", optarg, 0, 1e9); break;
        case O_MORE: cfg->fill_more = opt_double("fill-more", optarg, 0, 100); break;
        case O_PONLY: cfg->preload_only = cfg->preload = true; break;
        case O_PROG: cfg->progress = true; break;
        case O_BUDGET: cfg->budget_s = (unsigned)opt_long("budget", optarg, 1, 86400); break;
        case O_TLS: cfg->tls = true; break;
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
    if (cfg->value_max < cfg->value_size)
        cfg->value_max = cfg->value_size;
    if (cfg->fill) {              /* one connection, sequential fresh keys */
        cfg->threads = cfg->conns = 1;
        cfg->preload = cfg->preload_only = false;
    }
    if (cfg->rate > 0)
        cfg->interval_ns = (uint64_t)(1e9 * cfg->pipeline * cfg->threads * cfg->conns /
                                      cfg->rate);
    if (cfg->rate > 0)
        cfg->seq_interval_ns = (uint64_t)(1e9 * PRELOAD_DEPTH * cfg->threads * cfg->conns /
                                          cfg->rate);
}

/* ---- reporting ------------------------------------------------------- */

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds (user + system, all threads) used so far by process pid,
 * from /proc/PID/stat fields 14 and 15; -1 if unknown. */
double proc_cpu_seconds(long pid)
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

int report_run(const struct config *cfg, const struct worker *ws,
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
           "client_cpu_pct=%.0f server_cpu_pct=%.0f server_us_per_op=%.2f "
           "offered_ops_per_sec=%.0f late_pct=%.2f\n",
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
           c->ops && cpu.server >= 0 ? 1e6 * cpu.server / (double)c->ops : -1,
           cfg->rate, c->batches ? 100.0 * (double)c->late / (double)c->batches : 0);
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

int report_fill(const struct config *cfg, const struct worker *w)
{
    struct srvstats s = stats_query(cfg);
    double mb = s.limit_maxbytes > 0 ? (double)s.limit_maxbytes / 1048576.0 : 0;
    printf("RESULT mode=fill sets=%llu curr_items=%lld evictions=%lld bytes=%lld "
           "limit_maxbytes=%lld items_per_mb=%.0f errors=%llu sets_at_eviction=%llu\n",
           (unsigned long long)w->c.stored, s.curr_items, s.evictions, s.bytes,
           s.limit_maxbytes, mb > 0 ? (double)s.curr_items / mb : 0,
           (unsigned long long)w->c.errors, (unsigned long long)w->sets_at_eviction);
    fprintf(stderr, "loadgen %s: fill: %lld items held in %.0f MiB (%.0f items/MiB) "
            "after %llu sets, evictions %lld\n", cfg->target, s.curr_items, mb,
            mb > 0 ? (double)s.curr_items / mb : 0, (unsigned long long)w->c.stored,
            s.evictions);
    if (!w->fill_done)
        fprintf(stderr, "loadgen: fill ended before the server evicted anything\n");
    return s.ok && w->fill_done && !w->first_error[0] ? 0 : 1;
}

/* --preload-only: how fast every key was set. */
int report_preload(const struct config *cfg, const struct worker *ws, double secs)
{
    unsigned long long sets = 0, errors = 0;
    for (int i = 0; i < cfg->threads; i++) {
        sets += ws[i].c.stored;
        errors += ws[i].c.errors + ws[i].c.conn_failures + ws[i].c.timeouts;
    }
    struct srvstats s = stats_query(cfg);
    printf("RESULT mode=preload sets=%llu secs=%.2f sets_per_sec=%.0f errors=%llu "
           "curr_items=%lld evictions=%lld bytes=%lld\n", sets, secs,
           secs > 0 ? (double)sets / secs : 0, errors, s.curr_items, s.evictions, s.bytes);
    fprintf(stderr, "loadgen %s: preload: %llu sets in %.2fs; server holds %lld items\n",
            cfg->target, sets, secs, s.curr_items);
    return errors || sets < (unsigned long long)cfg->keys ? 1 : 0;
}
