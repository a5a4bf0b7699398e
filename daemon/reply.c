/*
 * daemon/reply.c - see reply.h.
 *
 * Text segments record an offset, not a pointer, so the text buffer may
 * move when it grows while earlier segments wait to be written.
 */
#include "daemon/reply.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define REPLY_IOV_MAX 256
/* Buffers larger than this are freed once their reply is out. */
#define REPLY_KEEP_BYTES (64 * 1024)
#define REPLY_KEEP_SEGS 1024

void reply_init(struct reply *r, struct cache *cache,
                struct buffer_stats *stats)
{
    memset(r, 0, sizeof(*r));
    r->cache = cache;
    r->stats = stats;
}

/* A buffer of the reply went from `from` bytes to `to` (0: none). */
static void account(struct reply *r, size_t from, size_t to)
{
    struct buffer_stats *bs = r->stats;
    if (from == 0 && to != 0)
        STAT_INC(bs, response_obj_count);
    else if (from != 0 && to == 0)
        STAT_SUB(bs, response_obj_count, 1);
    STAT_ADD(bs, response_obj_bytes, (uint64_t)to - (uint64_t)from);
}

static void free_buf(struct reply *r)
{
    account(r, r->cap, 0);
    free(r->buf);
    r->buf = NULL;
    r->cap = 0;
}

static void free_segs(struct reply *r)
{
    account(r, r->segs_cap * sizeof(*r->segs), 0);
    free(r->segs);
    r->segs = NULL;
    r->segs_cap = 0;
}

static void release_seg(struct reply *r, struct reply_seg *s)
{
    if (s->hold != NULL)
        cache_release(r->cache, s->hold);
    free(s->owned);
}

static void release_from(struct reply *r, size_t from)
{
    for (size_t i = from; i < r->nsegs; i++)
        release_seg(r, &r->segs[i]);
}

void reply_deinit(struct reply *r)
{
    release_from(r, r->first);
    free_buf(r);
    free_segs(r);
    memset(r, 0, sizeof(*r));
}

static struct reply_seg *new_seg(struct reply *r)
{
    if (r->nsegs == r->segs_cap) {
        size_t cap = r->segs_cap ? r->segs_cap * 2 : 64;
        struct reply_seg *s = realloc(r->segs, cap * sizeof(*s));
        if (s == NULL) {
            STAT_INC(r->stats, response_obj_oom);
            return NULL;
        }
        account(r, r->segs_cap * sizeof(*s), cap * sizeof(*s));
        r->segs = s;
        r->segs_cap = cap;
    }
    return &r->segs[r->nsegs++];
}

char *reply_reserve_grow(struct reply *r, size_t n)
{
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + n)
        cap *= 2;
    char *b = realloc(r->buf, cap);
    if (b == NULL) {
        STAT_INC(r->stats, response_obj_oom);
        return NULL;
    }
    account(r, r->cap, cap);
    r->buf = b;
    r->cap = cap;
    return r->buf + r->len;
}

void reply_commit_seg(struct reply *r, size_t used)
{
    struct reply_seg *s = new_seg(r);
    if (s == NULL)
        return; /* out of memory: the text is dropped */
    *s = (struct reply_seg){NULL, r->len, used, NULL, false, NULL};
    r->len += used;
    r->pending += used;
}

bool reply_text(struct reply *r, const char *s, size_t n)
{
    char *dst = reply_reserve(r, n);
    if (dst == NULL)
        return false;
    memcpy(dst, s, n);
    reply_commit(r, n);
    return true;
}

bool reply_item(struct reply *r, struct item *it, const char *value,
                size_t n, bool first_read)
{
    struct reply_seg *s = new_seg(r);
    if (s == NULL) {
        cache_release(r->cache, it);
        return false;
    }
    *s = (struct reply_seg){value, 0, n, it, first_read, NULL};
    r->pending += n;
    return true;
}

bool reply_owned(struct reply *r, void *mem, const char *p, size_t n)
{
    struct reply_seg *s = new_seg(r);
    if (s == NULL) {
        free(mem);
        return false;
    }
    *s = (struct reply_seg){p, 0, n, NULL, false, mem};
    r->pending += n;
    return true;
}

size_t reply_sent_count(const struct item *it, void *reply)
{
    const struct reply *r = reply;
    size_t n = 0;
    for (size_t i = r->first; i < r->sent_mark; i++)
        n += r->segs[i].hold == it && r->segs[i].first_read;
    return n;
}

void reply_drop_unsent(struct reply *r)
{
    size_t keep = r->sent_mark;
    /* a segment partly written goes out whole */
    if (keep < r->first + (r->first_done > 0))
        keep = r->first + (r->first_done > 0);
    release_from(r, keep);
    for (size_t i = keep; i < r->nsegs; i++)
        r->pending -= r->segs[i].len - (i == r->first ? r->first_done : 0);
    r->nsegs = keep;
    /* text queued after the mark may have extended the segment before it:
     * cut that back too, unless it has been written */
    if (keep == r->sent_mark && keep > r->first) {
        struct reply_seg *s = &r->segs[keep - 1];
        size_t done = keep - 1 == r->first ? r->first_done : 0;
        size_t len = r->mark_len > done ? r->mark_len : done;
        if (s->ptr == NULL && s->len > len) {
            r->pending -= s->len - len;
            s->len = len;
        }
    }
}

size_t reply_ready(const struct reply *r)
{
    if (!r->held)
        return r->pending;
    size_t n = 0;
    for (size_t i = r->first; i < r->sent_mark; i++) {
        size_t len = i + 1 == r->sent_mark ? r->mark_len : r->segs[i].len;
        size_t done = i == r->first ? r->first_done : 0;
        n += len > done ? len - done : 0;
    }
    return n;
}

/* At most `limit` bytes, in the order queued. */
static size_t fill_iov(struct reply *r, struct iovec *iov, size_t limit)
{
    size_t n = 0;
    for (size_t i = r->first; i < r->nsegs && n < REPLY_IOV_MAX && limit > 0;
         i++) {
        const struct reply_seg *s = &r->segs[i];
        const char *base = s->ptr != NULL ? s->ptr : r->buf + s->off;
        size_t skip = i == r->first ? r->first_done : 0;
        size_t len = s->len - skip < limit ? s->len - skip : limit;
        if (len == 0)
            continue; /* an empty segment: only holds an item */
        iov[n].iov_base = (void *)(base + skip);
        iov[n].iov_len = len;
        limit -= len;
        n++;
    }
    return n;
}

/* Account for `done` bytes written, releasing finished segments (an
 * empty one, which only holds an item, as soon as the bytes before it are
 * out). */
static void advance(struct reply *r, size_t done)
{
    r->pending -= done;
    while (r->first < r->nsegs) {
        struct reply_seg *s = &r->segs[r->first];
        size_t left = s->len - r->first_done;
        if (done < left) {
            r->first_done += done;
            return;
        }
        done -= left;
        release_seg(r, s);
        r->first++;
        r->first_done = 0;
    }
}

static void start_over(struct reply *r);

enum reply_io reply_flush(struct reply *r, int fd, size_t *written)
{
    struct iovec iov[REPLY_IOV_MAX];
    size_t ready;
    *written = 0;
    while ((ready = reply_ready(r)) > 0) {
        size_t n = fill_iov(r, iov, ready);
        ssize_t w = writev(fd, iov, (int)n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? REPLY_AGAIN
                                                           : REPLY_ERROR;
        }
        *written += (size_t)w;
        advance(r, (size_t)w);
    }
    if (r->pending == 0)
        start_over(r);
    return REPLY_DONE;
}

size_t reply_peek(struct reply *r, char *dst, size_t cap)
{
    size_t got = 0;
    size_t ready = reply_ready(r);
    if (cap > ready)
        cap = ready;
    for (size_t i = r->first; i < r->nsegs && got < cap; i++) {
        const struct reply_seg *s = &r->segs[i];
        const char *base = s->ptr != NULL ? s->ptr : r->buf + s->off;
        size_t skip = i == r->first ? r->first_done : 0;
        size_t k = s->len - skip < cap - got ? s->len - skip : cap - got;
        memcpy(dst + got, base + skip, k);
        got += k;
    }
    return got;
}

void reply_consume(struct reply *r, size_t n)
{
    advance(r, n);
    if (r->pending == 0)
        start_over(r);
}

size_t reply_take(struct reply *r, char *dst, size_t cap)
{
    size_t got = reply_peek(r, dst, cap);
    reply_consume(r, got);
    return got;
}

/* All out: start the buffers over, giving back what one large reply
 * made them grow to. */
static void start_over(struct reply *r)
{
    release_from(r, r->first); /* empty segments that only hold items */
    r->len = 0;
    r->nsegs = 0;
    r->first = 0;
    r->first_done = 0;
    r->sent_mark = r->mark_len = 0;
    if (r->cap > REPLY_KEEP_BYTES)
        free_buf(r);
    if (r->segs_cap > REPLY_KEEP_SEGS)
        free_segs(r);
}
