/*
 * loadgen.h - what scripts/loadgen.c (connections, the event loop, main)
 * and scripts/loadgen_report.c (options, server stats, RESULT lines)
 * share. Built together by scripts/bench:
 *     cc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread loadgen.c loadgen_report.c
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/resource.h>

#define BENCH_PROG "loadgen"
#include "bench_common.h"
#include "bench_hist.h"

#define PRELOAD_DEPTH 64       /* sets per batch while preloading/filling */
#define FILL_CHECK_EVERY 2048  /* sets between two `stats` polls in --fill */
#define RBUF_SIZE (256 * 1024)
#define MAX_LINE 4096          /* longest reply line we accept */
#define PHASE_BUDGET_S 300     /* default allowance for preload/fill */
#define LATE_NS 1000000        /* paced: a batch sent this late counts as late */
#define PROGRESS_NS 5000000000ull  /* --progress: a line every 5 s */

struct config {
    struct sockaddr_in addr;
    char target[80];           /* "host:port", for messages */
    int threads, conns, pipeline, multiget, key_size, value_size, timeout_ms;
    int value_max;             /* values are value_size..value_max bytes */
    long keys;
    double duration, get_ratio;
    double rate;               /* offered ops/s over all conns; 0: closed loop */
    uint64_t interval_ns;      /* paced: between two batches of one conn */
    uint64_t seq_interval_ns;  /* the same for preload batches (--preload-only) */
    double fill_more;          /* --fill: extra fresh sets after the first
                                  eviction, as a share of the sets before it */
    unsigned budget_s;         /* time allowed for preload or fill */
    bool preload, fill, verify_values, preload_only, progress;
    bool tls;                  /* --tls: every connection speaks TLS */
    uint64_t seed;
    long server_pid;           /* 0: do not sample the server's CPU */
};

extern char g_key_char;        /* first byte of every key (--key-prefix) */

struct counters {
    uint64_t batches, ops, gets, sets, keys, hits, stored, errors,
             bad_values, timeouts, conn_failures, late;
};

struct conn;

struct worker {
    const struct config *cfg;
    pthread_t tid;
    int index;
    struct conn *conns;
    uint64_t rng;
    long seq_next, seq_end;
    uint64_t fill_next_check, next_progress, sets_at_eviction;
    bool fill_done, fill_evicted;
    double elapsed;
    struct counters c;
    char first_error[160];
    struct hist hist;
};

struct srvstats {
    long long curr_items, total_items, evictions, bytes, limit_maxbytes,
              cmd_get, get_hits, cmd_set;
    bool ok;
};

struct cpu_use {
    double client, server;     /* seconds during the measured run */
};

/* loadgen.c */
int connect_to(const struct config *cfg, bool nonblock);

/* loadgen_report.c */
struct srvstats stats_query(const struct config *cfg);
void parse_options(struct config *cfg, int argc, char **argv);
double cpu_seconds(void);
double proc_cpu_seconds(long pid);
int report_run(const struct config *cfg, const struct worker *ws,
               struct srvstats before, struct srvstats after, struct cpu_use cpu);
int report_fill(const struct config *cfg, const struct worker *w);
int report_preload(const struct config *cfg, const struct worker *ws, double secs);

#endif
