/*
 * daemon/snapshotter.c - see snapshotter.h.
 *
 * Threads: snapshotter_step() and _write_now() run on one thread at a time
 * (the maintainer, or main at shutdown) and own the writer and the scan
 * cursor. Tickets and the figures for `stats` are shared with workers and
 * main, under `lock`.
 */
#include "daemon/snapshotter.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/path.h"
#include "daemon/snapshot_ahead.h"
#include "lib/cache.h"
#include "lib/slabs.h"
#include "lib/snapshot.h"

/* One step: scan buckets until this much is buffered or this much time
 * has passed, then write it out. A 1 GiB cache is written in a few
 * seconds of 10 ms maintainer periods, and no step holds the maintainer
 * for long. */
#define STEP_BYTES (4u << 20)
#define STEP_NS (3 * 1000 * 1000)
/* Loading threads at most; more than the cores only adds contention. */
#define LOAD_THREADS_MAX 8
#define SCAN_BUCKETS 64

struct snapshotter {
    struct cache *cache;
    char *path;
    unsigned interval;

    /* Owned by the stepping thread. */
    struct snapshot_writer *writer;
    uint64_t cursor;
    uint64_t serving;          /* tickets up to this one are answered by
                                  the snapshot in progress */
    uint64_t started_ns;
    time_t last_start;
    uint64_t changes_at_start;
    bool add_failed;
    int add_errno;

    pthread_mutex_t lock;
    uint64_t requested;        /* last ticket handed out */
    uint64_t answered;         /* last ticket answered */
    bool last_ok;
    char last_why[160];
    struct snapshotter_stats stats;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct snapshotter *snapshotter_create(struct cache *cache, const char *path,
                                       unsigned interval)
{
    struct snapshotter *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->path = path_absolute(path)) == NULL) {
        free(s);
        return NULL;
    }
    s->cache = cache;
    s->interval = interval;
    s->last_start = time(NULL);
    s->changes_at_start = cache_changes(cache);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void snapshotter_destroy(struct snapshotter **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    struct snapshotter *s = *sp;
    snapshot_writer_abort(&s->writer);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
    *sp = NULL;
}

/* ---------------------------------------------------------------- load */

static void log_refused(struct snapshotter *s, const struct snapshot_error *e)
{
    char aside[4096];
    const char *fate = "left in place (cannot rename it)";
    if (snapshot_quarantine(s->path, time(NULL), aside, sizeof(aside)) == 0)
        fate = aside;
    if (e->block < 0)
        log_warn("snapshot %s refused: %s at offset %llu (file header): %s; "
                 "moved to %s", s->path, snapshot_fault_name(e->fault),
                 (unsigned long long)e->offset, e->detail, fate);
    else
        log_warn("snapshot %s refused: %s at offset %llu (block %lld): %s; "
                 "moved to %s", s->path, snapshot_fault_name(e->fault),
                 (unsigned long long)e->offset, (long long)e->block,
                 e->detail, fate);
}

/* A dump that was killed leaves "<path>.tmp.<pid>" behind; at start
 * nothing else can be writing one, so they all go. */
static void remove_stale_temporaries(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    char prefix[512];
    snprintf(prefix, sizeof(prefix), "%s.tmp.", base);
    if (slash == dir)
        dir[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else
        strcpy(dir, ".");
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            log_warn("snapshot: removed %s/%s left by an interrupted dump",
                     dir, e->d_name);
    }
    closedir(d);
}

/* The slab classes that found no memory, shared by the loading threads.
 * Such a class is full for the rest of the load (nothing is evicted or
 * freed meanwhile), so its later records are only counted; the other
 * classes go on filling the pages they have. Until one is full no record
 * needs its class looked up. */
struct full_classes {
    _Atomic bool any;
    _Atomic bool cls[CACHE_CLASSES_MAX + 1];
};

/* Most of a load is the kernel zeroing the items' fresh memory on first
 * touch. A thread of its own makes that memory resident ahead of the
 * loaders, so the two overlap. Items take about their record's bytes plus
 * a slab class's rounding (under 1/8 with the default -f 1.25). */
struct prefaulter {
    struct cache *cache;
    uint64_t bytes;
    _Atomic bool stop;  /* the load is over: the rest can fault on demand */
    bool started;
    pthread_t thread;
};

static uint64_t prefault_bytes(const struct snapshot_summary *sum)
{
    return sum->record_bytes + sum->record_bytes / 8;
}

static void *prefault(void *arg)
{
    struct prefaulter *pf = arg;
    /* Only on a core nothing else wants: the read-ahead thread shares the
     * other core with this one, and the loader waits on it, while pages
     * this thread has not reached yet the loader faults in itself. */
    struct sched_param idle = {0};
    (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
    cache_prefault(pf->cache, pf->bytes, &pf->stop);
    return NULL;
}

/* Started once the first loader has its first block: started with the
 * load, its page population and the reading of the first blocks into
 * fresh buffers slowed each other down, by 20-40 ms of a 1M-item load. */
static void prefaulter_start(struct prefaulter *pf)
{
    pf->started = pthread_create(&pf->thread, NULL, prefault, pf) == 0;
    if (pf->started)
        (void)pthread_setname_np(pf->thread, "zk-prefault");
}

static void prefaulter_stop(struct prefaulter *pf)
{
    atomic_store(&pf->stop, true);
    if (pf->started)
        pthread_join(pf->thread, NULL);
}

/* One loading thread: whole blocks at a time, until the file ends. */
struct loader {
    struct snapshotter *s;
    struct snapshot_reader *r;
    struct full_classes *full;
    struct prefaulter *pf; /* the first loader's to start, else NULL */
    pthread_t thread;
    uint64_t loaded, bytes, expired, left_out;
};

static void block_taken(struct loader *l)
{
    if (l->pf != NULL)
        prefaulter_start(l->pf);
    l->pf = NULL;
}

static void count_one(struct loader *l, const struct cache_restore_item *it,
                      enum cache_status st)
{
    switch (st) {
    case CACHE_OK:
        l->loaded++;
        l->bytes += it->nkey + it->nvalue;
        break;
    case CACHE_NO_MEMORY:
        atomic_store_explicit(&l->full->cls[cache_class_of(
                                  l->s->cache, it->nkey, it->nvalue,
                                  it->flags)],
                              true, memory_order_relaxed);
        atomic_store_explicit(&l->full->any, true, memory_order_relaxed);
        l->left_out++;
        break;
    case CACHE_TOO_LARGE:
        l->left_out++; /* -I is smaller than when it was saved */
        break;
    default:
        l->expired++;
        break;
    }
}

static bool in_full_class(struct loader *l, const struct snapshot_record *r)
{
    unsigned cls = cache_class_of(l->s->cache, r->nkey, r->nvalue, r->flags);
    return atomic_load_explicit(&l->full->cls[cls], memory_order_relaxed);
}

/* Up to CACHE_RESTORE_BATCH records of b into the cache; false at the
 * block's end. */
static bool restore_some(struct loader *l, struct snapshot_block *b)
{
    struct cache_restore_item it[CACHE_RESTORE_BATCH];
    enum cache_status st[CACHE_RESTORE_BATCH];
    struct snapshot_record rec;
    bool any_full = atomic_load_explicit(&l->full->any, memory_order_relaxed);
    size_t n = 0, seen = 0;
    const unsigned char *batch_start = b->pos;
    while (seen < CACHE_RESTORE_BATCH && snapshot_block_next(b, &rec)) {
        seen++;
        if (any_full && in_full_class(l, &rec)) {
            l->left_out++;
            continue;
        }
        it[n++] = (struct cache_restore_item){
            .key = rec.key, .nkey = rec.nkey,
            .value = rec.value, .nvalue = rec.nvalue,
            .flags = rec.flags, .expires = (time_t)rec.expires,
            .atime = (time_t)rec.atime, .cas = rec.cas, .bits = rec.bits,
        };
    }
    /* the next batch's records arrive while this one is restored */
    snapshot_block_prefetch(b, (size_t)(b->pos - batch_start));
    if (n > 0)
        cache_restore_batch(l->s->cache, it, n, st);
    for (size_t i = 0; i < n; i++)
        count_one(l, &it[i], st[i]);
    return seen == CACHE_RESTORE_BATCH;
}

static void *load_blocks(void *arg)
{
    struct loader *l = arg;
    struct snapshot_block b = {0};
    while (snapshot_reader_next_block(l->r, &b)) {
        block_taken(l);
        while (restore_some(l, &b))
            ;
    }
    snapshot_block_free(&b);
    return NULL;
}

/* One loader, the blocks read and checked ahead of it on another core. */
static void load_read_ahead(struct loader *l)
{
    struct snapshot_ahead *a = snapshot_ahead_start(l->r);
    struct snapshot_block *b;
    if (a == NULL) {
        load_blocks(l);
        return;
    }
    while (snapshot_ahead_next(a, &b)) {
        block_taken(l);
        while (restore_some(l, b))
            ;
    }
    snapshot_ahead_stop(&a);
}

/* Threads pay off when there are bytes to share out: each new item's
 * memory is zeroed by the kernel on first touch, the bulk of a load of
 * large items. Small items are bound by per-item work under the shared
 * slab, policy and counter cache lines, where a second thread only adds
 * contention, and one loader has the read-ahead thread and the
 * prefaulter beside it. Measured with 1M items: 1 KB values, 2 threads
 * 1.79 s vs 1 thread 2.37 s (medians of 5); 100 B values, 1.00 s vs
 * 0.80 s, with batched restores 0.60 s vs 0.31 s (medians of 8), and
 * with pipelined ones 165 ms vs 143.5 ms (5M items: 905.5 vs 670.5). */
#define LOAD_PARALLEL_MIN_ITEM 512

static unsigned load_threads(const struct snapshot_summary *sum,
                             unsigned threads)
{
    if (threads < 1 || sum->items == 0 ||
        sum->item_bytes / sum->items < LOAD_PARALLEL_MIN_ITEM)
        return 1;
    return threads;
}

/* Restore every record with up to `threads` threads (the load runs before
 * the workers start, so the cores are free), the first of them starting
 * pf; totals in *sum. */
static void load_records(struct snapshotter *s, struct snapshot_reader *r,
                         unsigned threads, struct prefaulter *pf,
                         struct loader *sum)
{
    struct loader l[LOAD_THREADS_MAX];
    struct full_classes full;
    unsigned started = 0;
    atomic_init(&full.any, false);
    for (size_t i = 0; i <= CACHE_CLASSES_MAX; i++)
        atomic_init(&full.cls[i], false);
    if (threads > LOAD_THREADS_MAX)
        threads = LOAD_THREADS_MAX;
    for (unsigned i = 0; i < threads; i++) {
        l[i] = (struct loader){.s = s, .r = r, .full = &full};
        /* the first one runs here; a thread that cannot start is
         * simply not used */
        if (i == 0 ||
            pthread_create(&l[i].thread, NULL, load_blocks, &l[i]) == 0) {
            if (i > 0)
                (void)pthread_setname_np(l[i].thread, "zk-loader");
            started = i + 1;
        }
        else
            break;
    }
    l[0].pf = pf;
    if (started == 1)
        load_read_ahead(&l[0]);
    else
        load_blocks(&l[0]);
    *sum = (struct loader){0};
    for (unsigned i = 0; i < started; i++) {
        if (i > 0)
            pthread_join(l[i].thread, NULL);
        sum->loaded += l[i].loaded;
        sum->bytes += l[i].bytes;
        sum->expired += l[i].expired;
        sum->left_out += l[i].left_out;
    }
}

/* A record's bytes (its header, key and value) are close to an item's
 * (header, CAS, key, value, "\r\n"), so the records that fit the limit
 * are about the items that will. */
static uint64_t items_that_fit(const struct snapshot_summary *sum,
                               uint64_t limit)
{
    if (sum->items == 0)
        return 0;
    uint64_t per_item = sum->record_bytes / sum->items;
    uint64_t fit = limit / (per_item > 0 ? per_item : 1);
    return fit < sum->items ? fit : sum->items;
}

uint64_t snapshotter_expected_items(const char *path, uint64_t limit)
{
    struct snapshot_reader *r = NULL;
    struct snapshot_summary sum = {0};
    if (snapshot_reader_open(&r, path, NULL) == SNAPSHOT_OK)
        snapshot_reader_info(r, &sum);
    snapshot_reader_close(&r);
    return items_that_fit(&sum, limit);
}

bool snapshotter_load(struct snapshotter *s, bool strict, unsigned threads)
{
    uint64_t t0 = mono_ns();
    remove_stale_temporaries(s->path);
    struct snapshot_reader *r = NULL;
    struct snapshot_error err;
    enum snapshot_fault f = snapshot_reader_open(&r, s->path, &err);
    if (f == SNAPSHOT_MISSING) {
        log_warn("snapshot %s: no file yet, starting empty", s->path);
        return true;
    }
    if (f != SNAPSHOT_OK) {
        log_refused(s, &err);
        if (strict)
            return false;
        log_warn("starting empty");
        return true;
    }
    struct loader n;
    struct snapshot_summary sum;
    snapshot_reader_info(r, &sum);
    cache_expect(s->cache,
                 items_that_fit(&sum, slabs_limit(cache_slabs(s->cache))));
    struct prefaulter pf = {.cache = s->cache, .bytes = prefault_bytes(&sum)};
    load_records(s, r, load_threads(&sum, threads), &pf, &n);
    prefaulter_stop(&pf);
    f = snapshot_reader_status(r, &err);
    snapshot_reader_close(&r);
    if (f != SNAPSHOT_OK) {
        /* The file is checked as it loads: a damaged block, or an end
         * that does not add up, refuses it. What came before is sound,
         * but it is not the whole snapshot. */
        cache_clear(s->cache);
        log_refused(s, &err);
        if (strict)
            return false;
        log_warn("starting empty");
        return true;
    }
    uint64_t ms = (mono_ns() - t0) / 1000000u;
    log_warn("snapshot %s loaded: %llu items, %llu bytes of keys and "
             "values in %llu ms; %llu expired while down", s->path,
             (unsigned long long)n.loaded, (unsigned long long)n.bytes,
             (unsigned long long)ms, (unsigned long long)n.expired);
    if (n.left_out > 0)
        log_warn("snapshot %s: %llu items left out: the memory limit (-m) "
                 "or item size limit (-I) is smaller than when it was saved",
                 s->path, (unsigned long long)n.left_out);
    s->changes_at_start = cache_changes(s->cache);
    return true;
}

/* ------------------------------------------------------------- tickets */

uint64_t snapshotter_request(struct snapshotter *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t t = ++s->requested;
    pthread_mutex_unlock(&s->lock);
    return t;
}

bool snapshotter_done(struct snapshotter *s, uint64_t ticket, bool *ok,
                      char *why, size_t cap)
{
    pthread_mutex_lock(&s->lock);
    bool done = s->answered >= ticket;
    if (done) {
        *ok = s->last_ok;
        snprintf(why, cap, "%s", s->last_why);
    }
    pthread_mutex_unlock(&s->lock);
    return done;
}

void snapshotter_stats(struct snapshotter *s, struct snapshotter_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

/* --------------------------------------------------------------- write */

/* Under the item's stripe: copy it into the writer's buffer. */
static void add_item(const struct cache_item_info *info, void *arg)
{
    struct snapshotter *s = arg;
    if (s->add_failed)
        return;
    struct snapshot_record rec = {
        .key = info->view.key, .nkey = info->view.nkey,
        .value = info->view.value, .nvalue = info->view.nbytes - 2,
        .flags = info->view.flags, .expires = (int64_t)info->expires,
        .cas = info->view.cas, .atime = (int64_t)info->atime,
        .bits = info->bits,
    };
    if (snapshot_writer_add(s->writer, &rec) != 0) {
        s->add_failed = true;
        s->add_errno = errno;
    }
}

static bool begin(struct snapshotter *s, time_t now)
{
    char err[256];
    pthread_mutex_lock(&s->lock);
    s->serving = s->requested;
    s->stats.in_progress = true;
    pthread_mutex_unlock(&s->lock);
    s->cursor = 0;
    s->add_failed = false;
    s->started_ns = mono_ns();
    s->last_start = now;
    s->changes_at_start = cache_changes(s->cache);
    if (snapshot_writer_open(&s->writer, s->path, now, err, sizeof(err)) == 0)
        return true;
    log_warn("snapshot %s: %s", s->path, err);
    return false;
}

/* Record the outcome and answer every ticket the snapshot served. */
static void finish(struct snapshotter *s, bool ok, const char *why,
                   const struct snapshot_summary *sum)
{
    pthread_mutex_lock(&s->lock);
    s->stats.in_progress = false;
    if (ok) {
        s->stats.last_time = time(NULL);
        s->stats.last_duration_us = (mono_ns() - s->started_ns) / 1000u;
        s->stats.last_items = sum->items;
        s->stats.last_bytes = sum->file_bytes;
    } else {
        s->stats.failures++;
    }
    s->last_ok = ok;
    snprintf(s->last_why, sizeof(s->last_why), "%s", ok ? "" : why);
    if (s->answered < s->serving)
        s->answered = s->serving;
    pthread_mutex_unlock(&s->lock);
    if (ok)
        log_info("snapshot %s written: %llu items, %llu bytes in %llu ms",
                 s->path, (unsigned long long)sum->items,
                 (unsigned long long)sum->file_bytes,
                 (unsigned long long)s->stats.last_duration_us / 1000u);
    else
        log_warn("snapshot %s failed: %s", s->path, why);
}

static void fail_with(struct snapshotter *s, const char *what, int err)
{
    char why[160];
    snprintf(why, sizeof(why), "%s: %s", what, strerror(err));
    snapshot_writer_abort(&s->writer);
    finish(s, false, why, NULL);
}

/* Scan and write for a bounded time; true when the scan is complete. */
static bool scan_some(struct snapshotter *s, bool bounded)
{
    uint64_t until = mono_ns() + STEP_NS;
    bool done = false;
    while (!done && !s->add_failed &&
           snapshot_writer_buffered(s->writer) < STEP_BYTES &&
           (!bounded || mono_ns() < until))
        done = cache_scan_step(s->cache, &s->cursor, SCAN_BUCKETS, add_item,
                               s);
    return done;
}

/* One step of the snapshot in progress. False when it has ended. */
static bool advance(struct snapshotter *s, bool bounded)
{
    bool done = scan_some(s, bounded);
    if (s->add_failed) {
        fail_with(s, "out of memory copying items", s->add_errno);
        return false;
    }
    if (snapshot_writer_flush(s->writer) != 0) {
        fail_with(s, "write", errno);
        return false;
    }
    if (!done)
        return true;
    char err[256];
    struct snapshot_summary sum;
    if (snapshot_writer_commit(&s->writer, &sum, err, sizeof(err)) != 0)
        finish(s, false, err, NULL);
    else
        finish(s, true, NULL, &sum);
    return false;
}

static bool due(struct snapshotter *s, time_t now)
{
    pthread_mutex_lock(&s->lock);
    bool asked = s->requested > s->answered;
    pthread_mutex_unlock(&s->lock);
    if (asked)
        return true;
    return s->interval > 0 && now - s->last_start >= (time_t)s->interval &&
           cache_changes(s->cache) != s->changes_at_start;
}

bool snapshotter_step(struct snapshotter *s, time_t now)
{
    if (s->writer == NULL) {
        if (!due(s, now))
            return false;
        if (!begin(s, now)) {
            finish(s, false, "cannot create the temporary file", NULL);
            return false;
        }
    }
    return advance(s, true);
}

bool snapshotter_write_now(struct snapshotter *s)
{
    if (s->writer != NULL)
        snapshot_writer_abort(&s->writer);
    if (!begin(s, time(NULL))) {
        finish(s, false, "cannot create the temporary file", NULL);
        return false;
    }
    while (advance(s, false))
        ;
    return s->last_ok;
}
