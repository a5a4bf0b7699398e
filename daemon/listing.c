/*
 * daemon/listing.c - see listing.h.
 */
#include "daemon/listing.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/reply.h"
#include "lib/cache.h"
#include "proto/meta.h"
#include "proto/uri.h"

/* Hash buckets per step: about 1.5 items each at full load, so a step
 * holds each stripe for microseconds. */
#define BUCKETS_PER_STEP 256
#define CHUNK_BYTES (64 * 1024)
/* Made and not yet taken: the thread waits past this. With the reply's
 * own high-water mark, what a listing to a slow reader holds. */
#define QUEUE_MAX (1024 * 1024)
/* Longest line: the encoded key plus the fixed fields. */
#define LISTING_LINE_MAX (3 * ITEM_KEY_MAX + 160)

struct chunk {
    struct chunk *next;
    size_t len;
    char data[CHUNK_BYTES];
};

struct listing {
    struct cache *cache;
    enum listing_format fmt;
    uint64_t classes;
    uint64_t left; /* lines still to make */
    pthread_t thread;
    /* The thread's own. */
    uint64_t cursor;
    struct chunk *fill;                /* being filled */
    struct chunk *made, **made_tail;   /* full, not yet handed over */
    size_t made_bytes;
    /* Shared with the worker, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t taken; /* the worker took the queue, or stop */
    struct chunk *ready, **ready_tail;
    size_t ready_bytes;
    bool finished; /* ready holds the last lines (or they were taken) */
    bool stopping;
    bool waiter;   /* the worker found nothing and waits on wake_fd */
    bool woken;    /* wake_fd was written and not yet read */
    int wake_fd;   /* an eventfd, or -1: the worker asks again later */
};

static size_t meta_line(char *dst, const struct cache_item_info *info)
{
    size_t n = (size_t)sprintf(dst, "key=");
    n += uri_encode(dst + n, info->view.key, info->view.nkey);
    n += (size_t)sprintf(dst + n,
                         " exp=%" PRId64 " la=%" PRId64 " cas=%" PRIu64
                         " fetch=%s cls=%u size=%zu\n",
                         info->expires == 0 ? (int64_t)-1
                                            : (int64_t)info->expires,
                         (int64_t)info->atime, info->view.cas,
                         info->fetched ? "yes" : "no", info->cls,
                         info->total);
    return n;
}

/* A binary key goes out in base64 with the b flag, so the line can be
 * sent back as it is. */
static size_t mg_line(char *dst, const struct cache_item_info *info)
{
    size_t n = 3;
    memcpy(dst, "mg ", 3);
    if (info->key_binary) {
        n += meta_key_encode((const unsigned char *)info->view.key,
                             info->view.nkey, dst + n, LISTING_LINE_MAX - 16);
        memcpy(dst + n, " b", 2);
        n += 2;
    } else {
        memcpy(dst + n, info->view.key, info->view.nkey);
        n += info->view.nkey;
    }
    memcpy(dst + n, "\r\n", 2);
    return n + 2;
}

/* memcached's: the key as it is, the value's length, the expiry. */
static size_t cachedump_line(char *dst, const struct cache_item_info *info)
{
    return (size_t)sprintf(dst, "ITEM %.*s [%zu b; %" PRId64 " s]\r\n",
                           (int)info->view.nkey, info->view.key,
                           info->view.nbytes - 2, (int64_t)info->expires);
}

static size_t format_line(const struct listing *l, char *dst,
                          const struct cache_item_info *info)
{
    switch (l->fmt) {
    case LISTING_META:
        return meta_line(dst, info);
    case LISTING_MG:
        return mg_line(dst, info);
    case LISTING_CACHEDUMP:
        break;
    }
    return cachedump_line(dst, info);
}

static void made_append(struct listing *l, struct chunk *ch)
{
    ch->next = NULL;
    *l->made_tail = ch;
    l->made_tail = &ch->next;
    l->made_bytes += ch->len;
}

/* Room for one line: NULL when memory runs out, and the listing misses
 * the line, as a cache may. */
static char *room(struct listing *l)
{
    if (l->fill != NULL && CHUNK_BYTES - l->fill->len >= LISTING_LINE_MAX)
        return l->fill->data + l->fill->len;
    if (l->fill != NULL)
        made_append(l, l->fill);
    l->fill = malloc(sizeof(*l->fill));
    if (l->fill == NULL)
        return NULL;
    l->fill->len = 0;
    return l->fill->data;
}

/* Under the item's stripe. */
static void list_item(const struct cache_item_info *info, void *arg)
{
    struct listing *l = arg;
    if (l->left == 0 || !(l->classes & ((uint64_t)1 << info->cls)))
        return;
    char *dst = room(l);
    if (dst == NULL)
        return;
    l->fill->len += format_line(l, dst, info);
    l->left--;
}

/* Hands what was made to the worker; waits while the queue is full.
 * False when the listing is being stopped. */
static bool hand_over(struct listing *l, bool finished)
{
    pthread_mutex_lock(&l->mu);
    if (l->made != NULL) {
        *l->ready_tail = l->made;
        l->ready_tail = l->made_tail;
        l->ready_bytes += l->made_bytes;
        l->made = NULL;
        l->made_tail = &l->made;
        l->made_bytes = 0;
    }
    l->finished = finished;
    if (l->waiter && (l->ready != NULL || finished)) {
        uint64_t one = 1;
        l->waiter = false;
        /* nonblocking: only full after 2^64-2 unread wake-ups */
        l->woken = write(l->wake_fd, &one, sizeof(one)) == sizeof(one);
    }
    while (!l->stopping && l->ready_bytes > QUEUE_MAX)
        pthread_cond_wait(&l->taken, &l->mu);
    bool go_on = !l->stopping;
    pthread_mutex_unlock(&l->mu);
    return go_on;
}

static void *listing_main(void *arg)
{
    struct listing *l = arg;
    for (;;) {
        bool done = cache_scan_step(l->cache, &l->cursor, BUCKETS_PER_STEP,
                                    list_item, l) ||
                    l->left == 0;
        if (done && l->fill != NULL) {
            made_append(l, l->fill);
            l->fill = NULL;
        }
        if (!hand_over(l, done) || done)
            return NULL;
    }
}

static void free_chunks(struct chunk *ch)
{
    while (ch != NULL) {
        struct chunk *next = ch->next;
        free(ch);
        ch = next;
    }
}

struct listing *listing_start(struct cache *cache, enum listing_format fmt,
                              uint64_t classes, uint64_t limit)
{
    struct listing *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->cache = cache;
    l->fmt = fmt;
    l->classes = classes;
    l->left = limit > 0 ? limit : UINT64_MAX;
    l->made_tail = &l->made;
    l->ready_tail = &l->ready;
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->taken, NULL);
    if (pthread_create(&l->thread, NULL, listing_main, l) != 0) {
        if (l->wake_fd >= 0)
            close(l->wake_fd);
        pthread_cond_destroy(&l->taken);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return NULL;
    }
    (void)pthread_setname_np(l->thread, "zk-listing");
    return l;
}

enum listing_step listing_take(struct listing *l, struct reply *r)
{
    pthread_mutex_lock(&l->mu);
    struct chunk *got = l->ready;
    bool finished = l->finished;
    bool woken = l->woken;
    l->ready = NULL;
    l->ready_tail = &l->ready;
    l->ready_bytes = 0;
    l->woken = false;
    /* Nothing yet: the thread writes wake_fd when it hands something
     * over, so the worker need not ask again until then. */
    l->waiter = got == NULL && !finished && l->wake_fd >= 0;
    pthread_cond_signal(&l->taken);
    pthread_mutex_unlock(&l->mu);
    if (woken) {
        uint64_t n;
        (void)read(l->wake_fd, &n, sizeof(n)); /* readable no more */
    }
    bool any = got != NULL;
    while (got != NULL) {
        struct chunk *ch = got;
        got = ch->next;
        /* out of memory: lines lost, as above */
        (void)reply_owned(r, ch, ch->data, ch->len);
    }
    if (finished) {
        const char *end = l->fmt == LISTING_MG ? "EN\r\n" : "END\r\n";
        (void)reply_text(r, end, strlen(end));
        return LISTING_DONE;
    }
    return any ? LISTING_MORE : LISTING_WAIT;
}

int listing_wake_fd(const struct listing *l)
{
    return l->wake_fd;
}

void listing_stop(struct listing *l)
{
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_cond_signal(&l->taken);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    free_chunks(l->ready);
    free_chunks(l->made);
    free(l->fill);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    pthread_cond_destroy(&l->taken);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
