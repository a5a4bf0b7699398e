/*
 * lib/topk.c - see topk.h.
 *
 * Layout, all sized at create, never reallocated:
 * - slots[0..used): the tracked entries, dense (decay compacts them), the
 *   key stored inline.
 * - heap[0..used): slot numbers, a binary min-heap on count; each slot
 *   knows its heap position. heap[0] is the replacement victim. Counts
 *   only grow between decays, so a record only ever sifts down; halving
 *   every count keeps the heap order (x <= y implies x/2 <= y/2).
 * - index[0..mask]: linear probing, 0 = empty, else slot number + 1,
 *   probing from the low bits of the slot's 32-bit hash. At least twice as
 *   many buckets as slots, so it is at most half full. A removal shifts
 *   the following run back (no tombstones), so a probe always stops at
 *   the first empty bucket.
 * - order[0..used): scratch for topk_snapshot().
 *
 * Why decay keeps the guarantees (D(x) as in topk.h). Invariant: when the
 * sketch is full an untracked key has D(x) <= min count, otherwise
 * D(x) = 0. A replacement gives the new key error = min >= D(x) before
 * the weight is added, so both bounds hold. Halving: floor(D/2) <=
 * floor(min/2) = the new minimum, floor(c/2) >= floor(D/2), and
 * floor(c/2) - ceil(e/2) <= floor((c - e)/2) <= floor(D/2). An entry is
 * dropped only when its count was <= 1, so the old minimum was <= 1 and
 * every untracked key now has D(x) = 0, as a non-full sketch requires.
 *
 * Lock: one mutex per sketch, the only lock; the _locked functions need it.
 */
#include "lib/topk.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define TOPK_NONE UINT32_MAX

struct slot {
    uint64_t count;
    uint64_t error;
    uint32_t hash;
    uint32_t heap_pos;
    uint8_t nkey;
    char key[TOPK_KEY_MAX];
};

struct topk {
    pthread_mutex_t lock;
    uint32_t capacity;
    uint32_t used;
    uint32_t mask;           /* index buckets - 1 */
    uint64_t total;          /* sum of slots[].count */
    struct slot *slots;
    uint32_t *heap;
    uint32_t *index;
    uint32_t *order;
};

/* ---- index ---- */

static uint32_t index_find(const struct topk *t, uint32_t hash,
                           const char *key, size_t nkey)
{
    for (uint32_t b = hash & t->mask;; b = (b + 1) & t->mask) {
        uint32_t v = t->index[b];
        if (v == 0)
            return TOPK_NONE;
        const struct slot *s = &t->slots[v - 1];
        if (s->hash == hash && s->nkey == nkey && memcmp(s->key, key, nkey) == 0)
            return v - 1;
    }
}

static void index_insert(struct topk *t, uint32_t slot)
{
    uint32_t b = t->slots[slot].hash & t->mask;
    while (t->index[b] != 0)
        b = (b + 1) & t->mask;
    t->index[b] = slot + 1;
}

/* Empty the bucket holding `slot`, then pull back every entry of the run
 * after it that would otherwise sit before its home bucket. */
static void index_remove(struct topk *t, uint32_t slot)
{
    uint32_t hole = t->slots[slot].hash & t->mask;
    while (t->index[hole] != slot + 1)
        hole = (hole + 1) & t->mask;
    t->index[hole] = 0;
    for (uint32_t b = (hole + 1) & t->mask; t->index[b] != 0;
         b = (b + 1) & t->mask) {
        uint32_t home = t->slots[t->index[b] - 1].hash & t->mask;
        if (((b - home) & t->mask) >= ((b - hole) & t->mask)) {
            t->index[hole] = t->index[b];
            t->index[b] = 0;
            hole = b;
        }
    }
}

/* ---- heap ---- */

static uint64_t heap_count(const struct topk *t, uint32_t pos)
{
    return t->slots[t->heap[pos]].count;
}

static void heap_set(struct topk *t, uint32_t pos, uint32_t slot)
{
    t->heap[pos] = slot;
    t->slots[slot].heap_pos = pos;
}

static void heap_sift_down(struct topk *t, uint32_t pos)
{
    uint32_t slot = t->heap[pos];
    uint64_t c = t->slots[slot].count;
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= t->used)
            break;
        if (child + 1 < t->used && heap_count(t, child + 1) < heap_count(t, child))
            child++;
        if (heap_count(t, child) >= c)
            break;
        heap_set(t, pos, t->heap[child]);
        pos = child;
    }
    heap_set(t, pos, slot);
}

static void heap_sift_up(struct topk *t, uint32_t pos)
{
    uint32_t slot = t->heap[pos];
    uint64_t c = t->slots[slot].count;
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (heap_count(t, parent) <= c)
            break;
        heap_set(t, pos, t->heap[parent]);
        pos = parent;
    }
    heap_set(t, pos, slot);
}

/* Rebuild index and heap from slots[0..used). */
static void rebuild_locked(struct topk *t)
{
    memset(t->index, 0, ((size_t)t->mask + 1) * sizeof(*t->index));
    for (uint32_t i = 0; i < t->used; i++) {
        index_insert(t, i);
        heap_set(t, i, i);
    }
    for (uint32_t i = t->used / 2; i-- > 0;)
        heap_sift_down(t, i);
}

/* ---- lifecycle ---- */

struct topk *topk_create(unsigned capacity)
{
    if (capacity == 0 || capacity > TOPK_MAX_CAPACITY)
        return NULL;
    struct topk *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    uint32_t buckets = 2;
    while (buckets < 2 * capacity)
        buckets *= 2;
    t->capacity = capacity;
    t->mask = buckets - 1;
    t->slots = calloc(capacity, sizeof(*t->slots));
    t->heap = calloc(capacity, sizeof(*t->heap));
    t->order = calloc(capacity, sizeof(*t->order));
    t->index = calloc(buckets, sizeof(*t->index));
    if (t->slots == NULL || t->heap == NULL || t->order == NULL ||
        t->index == NULL || pthread_mutex_init(&t->lock, NULL) != 0)
        goto fail;
    return t;
fail:
    free(t->slots);
    free(t->heap);
    free(t->order);
    free(t->index);
    free(t);
    return NULL;
}

void topk_destroy(struct topk **t)
{
    if (t == NULL || *t == NULL)
        return;
    struct topk *k = *t;
    pthread_mutex_destroy(&k->lock);
    free(k->slots);
    free(k->heap);
    free(k->order);
    free(k->index);
    free(k);
    *t = NULL;
}

/* ---- record ---- */

/* A new key: a free slot if any (error 0, sifted up from the last heap
 * position), else the minimum's slot (error = that minimum, sifted down
 * from the root). */
static void record_new_locked(struct topk *t, uint32_t hash, const char *key,
                              size_t nkey, uint32_t weight)
{
    bool fresh = t->used < t->capacity;
    uint32_t slot = fresh ? t->used : t->heap[0];
    uint64_t base = 0;
    if (fresh) {
        t->used++;
        heap_set(t, slot, slot);
    } else {
        base = t->slots[slot].count;
        index_remove(t, slot);
    }
    struct slot *s = &t->slots[slot];
    s->count = base + weight;
    s->error = base;
    s->hash = hash;
    s->nkey = (uint8_t)nkey;
    memcpy(s->key, key, nkey);
    index_insert(t, slot);
    if (fresh)
        heap_sift_up(t, s->heap_pos);
    else
        heap_sift_down(t, 0);
}

void topk_record(struct topk *t, const char *key, size_t nkey,
                 uint32_t weight)
{
    if (nkey > TOPK_KEY_MAX || weight == 0)
        return;
    uint32_t hash = (uint32_t)XXH3_64bits(key, nkey);
    pthread_mutex_lock(&t->lock);
    uint32_t slot = index_find(t, hash, key, nkey);
    if (slot == TOPK_NONE) {
        record_new_locked(t, hash, key, nkey, weight);
    } else {
        t->slots[slot].count += weight;
        heap_sift_down(t, t->slots[slot].heap_pos);
    }
    t->total += weight;
    pthread_mutex_unlock(&t->lock);
}

/* ---- aging ---- */

void topk_decay(struct topk *t)
{
    pthread_mutex_lock(&t->lock);
    uint32_t kept = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < t->used; i++) {
        struct slot *s = &t->slots[i];
        uint64_t c = s->count / 2;
        uint64_t e = s->error / 2 + (s->error & 1);
        if (c == 0)
            continue;
        s->count = c;
        s->error = e < c ? e : c;
        total += c;
        if (kept != i)
            t->slots[kept] = *s;
        kept++;
    }
    bool dropped = kept != t->used;
    t->used = kept;
    t->total = total;
    if (dropped)
        rebuild_locked(t);
    pthread_mutex_unlock(&t->lock);
}

void topk_reset(struct topk *t)
{
    pthread_mutex_lock(&t->lock);
    t->used = 0;
    t->total = 0;
    memset(t->index, 0, ((size_t)t->mask + 1) * sizeof(*t->index));
    pthread_mutex_unlock(&t->lock);
}

/* ---- reading ---- */

/* Highest count first, then lowest error, then key bytes, shorter first. */
static int order_cmp(uint64_t ca, uint64_t ea, const char *ka, size_t na,
                     uint64_t cb, uint64_t eb, const char *kb, size_t nb)
{
    if (ca != cb)
        return ca > cb ? -1 : 1;
    if (ea != eb)
        return ea < eb ? -1 : 1;
    int r = memcmp(ka, kb, na < nb ? na : nb);
    if (r != 0)
        return r;
    return (na > nb) - (na < nb);
}

static int slot_cmp(const void *a, const void *b, void *arg)
{
    const struct slot *slots = arg;
    const struct slot *x = &slots[*(const uint32_t *)a];
    const struct slot *y = &slots[*(const uint32_t *)b];
    return order_cmp(x->count, x->error, x->key, x->nkey,
                     y->count, y->error, y->key, y->nkey);
}

static int entry_cmp(const void *a, const void *b)
{
    const struct topk_entry *x = a, *y = b;
    return order_cmp(x->count, x->error, x->key, x->nkey,
                     y->count, y->error, y->key, y->nkey);
}

size_t topk_snapshot(struct topk *t, struct topk_entry *out, size_t max)
{
    pthread_mutex_lock(&t->lock);
    for (uint32_t i = 0; i < t->used; i++)
        t->order[i] = i;
    qsort_r(t->order, t->used, sizeof(*t->order), slot_cmp, t->slots);
    size_t n = t->used < max ? t->used : max;
    for (size_t i = 0; i < n; i++) {
        const struct slot *s = &t->slots[t->order[i]];
        out[i].count = s->count;
        out[i].error = s->error;
        out[i].nkey = s->nkey;
        memcpy(out[i].key, s->key, s->nkey);
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

uint64_t topk_total(struct topk *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t total = t->total;
    pthread_mutex_unlock(&t->lock);
    return total;
}

/* By key only: equal keys become neighbours. */
static int key_cmp(const void *a, const void *b)
{
    const struct topk_entry *x = a, *y = b;
    return order_cmp(0, 0, x->key, x->nkey, 0, 0, y->key, y->nkey);
}

size_t topk_merge(struct topk_entry *e, size_t n, size_t max)
{
    if (n == 0)
        return 0;
    qsort(e, n, sizeof(*e), key_cmp);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        if (key_cmp(&e[w], &e[i]) == 0) {
            e[w].count += e[i].count;
            e[w].error += e[i].error;
        } else if (++w != i) {
            e[w] = e[i];
        }
    }
    n = w + 1;
    qsort(e, n, sizeof(*e), entry_cmp);
    return n < max ? n : max;
}
