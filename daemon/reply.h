/*
 * daemon/reply.h - a connection's queue of outgoing bytes.
 *
 * Reply text (status lines, VALUE headers) is appended to one growable
 * buffer; values are queued as references to the item itself, whose
 * reference the queue holds until the bytes are on the wire. reply_flush()
 * sends everything queued with writev, as few calls as the kernel allows.
 */
#ifndef ZK_DAEMON_REPLY_H
#define ZK_DAEMON_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/stats.h"
#include "lib/cache.h"

struct reply_seg {
    const char *ptr;   /* value bytes, or NULL for text at buf + off */
    size_t off;
    size_t len;
    struct item *hold; /* released once the segment is written */
    bool first_read;   /* hold was read for the first time */
    void *owned;       /* freed once the segment is written */
};

struct reply {
    struct cache *cache;
    struct buffer_stats *stats; /* the worker's, for response_obj_* */
    char *buf;
    size_t len, cap;
    struct reply_seg *segs;
    size_t nsegs, segs_cap;
    size_t first;      /* first segment not fully written */
    size_t first_done; /* bytes of it already written */
    size_t pending;    /* bytes queued and not yet written */
    size_t sent_mark;  /* segments before it memcached would have sent */
    size_t mark_len;   /* length then of the segment before the mark, which
                          later text may extend */
    bool held;         /* write only what is before the mark (reply_hold) */
};

enum reply_io {
    REPLY_DONE,  /* everything written */
    REPLY_AGAIN, /* the socket is full; wait for it to drain */
    REPLY_ERROR, /* the peer is gone */
};

void reply_init(struct reply *r, struct cache *cache,
                struct buffer_stats *stats);
void reply_deinit(struct reply *r);

/* The slow halves of reply_reserve() and reply_commit(): grow the text
 * buffer; start a new text segment. */
char *reply_reserve_grow(struct reply *r, size_t n);
void reply_commit_seg(struct reply *r, size_t used);

/* Room for n bytes of text; write at most n, then reply_commit() what was
 * used. NULL when memory runs out. Inline, like reply_commit(): a get
 * calls each twice, and the calls cost about 24 instructions per get
 * (callgrind). */
static inline char *reply_reserve(struct reply *r, size_t n)
{
    if (r->len + n > r->cap)
        return reply_reserve_grow(r, n);
    return r->buf + r->len;
}

static inline void reply_commit(struct reply *r, size_t used)
{
    struct reply_seg *last;
    if (used == 0)
        return;
    last = r->nsegs > r->first ? &r->segs[r->nsegs - 1] : NULL;
    /* Text right after text extends the same segment. */
    if (last != NULL && last->ptr == NULL && last->off + last->len == r->len) {
        last->len += used;
        r->len += used;
        r->pending += used;
        return;
    }
    reply_commit_seg(r, used);
}
bool reply_text(struct reply *r, const char *s, size_t n);
/* Queue n bytes at value, which lie inside it; takes over the caller's
 * reference to it. first_read: the request read it for the first time
 * (see reply_sent_count). */
bool reply_item(struct reply *r, struct item *it, const char *value,
                size_t n, bool first_read);
/* Queue n bytes at p, which lie inside mem (from malloc), without copying
 * them; takes mem over and frees it once they are written. */
bool reply_owned(struct reply *r, void *mem, const char *p, size_t n);

/* memcached writes a text get's reply, and everything queued before it,
 * before it reads the next request, and lets go of the items then; so it
 * does at a meta mn and a binary noop. Otherwise it holds them until the
 * batch's replies are written, as zeekdb always does. What a client can
 * see of that is the size of a counter after incr or decr (lib/cache.h,
 * struct cache_sent_refs), and what a hang-up leaves unwritten
 * (reply_drop_unsent). Those places call reply_mark_sent();
 * reply_sent_count(it, r), the cache_sent_refs callback, counts r's
 * references to it held for segments before the mark. Only first reads
 * count: for a later one memcached's LRU takes a reference of its own and
 * keeps it a while (when the item is in its COLD segment, where items
 * soon are). */
static inline void reply_mark_sent(struct reply *r)
{
    r->sent_mark = r->nsegs;
    r->mark_len = r->nsegs > 0 ? r->segs[r->nsegs - 1].len : 0;
}
size_t reply_sent_count(const struct item *it, void *reply);
/* memcached hangs up on some requests (a line too long, an HTTP request)
 * without writing what it had not written yet: keep only the segments
 * before the mark, letting go of the rest; the caller writes those. */
void reply_drop_unsent(struct reply *r);

static inline size_t reply_pending(const struct reply *r)
{
    return r->pending;
}

/* memcached writes nothing while it waits for the rest of a data block,
 * but what it wrote before, up to the sent mark: while `on`, the writing
 * calls below stop at the mark, and the rest waits. */
static inline void reply_hold(struct reply *r, bool on)
{
    r->held = on;
}

/* The bytes the next write may take: all pending ones, or those before
 * the sent mark while held. */
size_t reply_ready(const struct reply *r);

/* Write what is ready; *written gets the byte count. REPLY_DONE once
 * reply_ready() is 0. */
enum reply_io reply_flush(struct reply *r, int fd, size_t *written);
/* Copy up to cap queued bytes to dst and drop them from the queue, as if
 * written (UDP replies are cut into datagrams); returns the count. */
size_t reply_take(struct reply *r, char *dst, size_t cap);
/* reply_take() in two steps: copy up to cap queued bytes without taking
 * them, then take the first n (at most what was copied). */
size_t reply_peek(struct reply *r, char *dst, size_t cap);
void reply_consume(struct reply *r, size_t n);

#endif
