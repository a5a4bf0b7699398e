/*
 * lib/policy_random.c - evict a uniformly random item of the class.
 *
 * Each class keeps a dense array of the references of its items; an
 * item's position in the array is kept in its (policy-owned) prev field,
 * so unlink is a swap with the last entry. evict draws random positions
 * from a per-class xorshift64 generator, seeded at create with a fixed
 * seed so runs (and tests) are reproducible. Everything here, the
 * generator included, is guarded by the class mutex; hit does nothing.
 *
 * The array lives outside the slab arena (4 bytes per item, grown by
 * doubling). If it cannot grow (malloc failure, or 2^32-1 entries), the
 * item goes on the class's overflow list instead, marked by RANDOM_OVERFLOW
 * in pbits and linked through prev/next; evict offers overflow items
 * first, so the list drains. A cache never loses track of an item.
 *
 * Cost: link O(1) amortised, unlink O(1), hit O(1) with no lock,
 * evict O(tries).
 */
#include <pthread.h>
#include <stdlib.h>

#include "lib/policy.h"
#include "lib/policy_list.h"

#define RANDOM_SEED 0x9e3779b97f4a7c15ull
#define RANDOM_MIN_SLOTS 64
#define RANDOM_OVERFLOW 1u /* pbits: on the overflow list, not the array */

struct random_class {
    pthread_mutex_t lock;
    uint32_t *slots;      /* references of the indexed items */
    uint32_t n;           /* slots in use */
    uint32_t cap;         /* slots allocated */
    uint32_t max_slots;   /* the array never grows past this */
    uint64_t rng;         /* xorshift64 state, never 0 */
    struct plist overflow;
};

struct policy {
    struct slabs *slabs;
    struct random_class classes[SLABS_MAX_CLASSES + 1];
};

static struct policy *random_create(struct slabs *slabs)
{
    struct policy *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->slabs = slabs;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++) {
        struct random_class *rc = &p->classes[i];
        pthread_mutex_init(&rc->lock, NULL);
        rc->max_slots = UINT32_MAX;
        rc->rng = RANDOM_SEED + i; /* odd constant plus i: never 0 */
    }
    return p;
}

static void random_destroy(struct policy *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i <= SLABS_MAX_CLASSES; i++) {
        pthread_mutex_destroy(&p->classes[i].lock);
        free(p->classes[i].slots);
    }
    free(p);
}

/* Marsaglia's xorshift64 (13, 7, 17). */
static uint64_t next_random(struct random_class *rc)
{
    uint64_t x = rc->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rc->rng = x;
    return x;
}

static bool grow_locked(struct random_class *rc)
{
    if (rc->cap >= rc->max_slots)
        return false;
    uint64_t want = rc->cap == 0 ? RANDOM_MIN_SLOTS : (uint64_t)rc->cap * 2;
    if (want > rc->max_slots)
        want = rc->max_slots;
    uint32_t *slots = realloc(rc->slots, want * sizeof(*slots));
    if (slots == NULL)
        return false;
    rc->slots = slots;
    rc->cap = (uint32_t)want;
    return true;
}

static void link_locked(struct policy *p, struct random_class *rc,
                        struct item *it)
{
    if (rc->n == rc->cap && !grow_locked(rc)) {
        __atomic_store_n(&it->pbits, RANDOM_OVERFLOW, __ATOMIC_RELAXED);
        plist_push_head(&rc->overflow, p->slabs, it);
        return;
    }
    __atomic_store_n(&it->pbits, 0, __ATOMIC_RELAXED);
    it->prev = rc->n;
    it->next = 0;
    rc->slots[rc->n++] = slabs_ref(p->slabs, it);
}

static void random_link(struct policy *p, struct item *it, rel_time_t now)
{
    struct random_class *rc = &p->classes[it->clsid];
    pthread_mutex_lock(&rc->lock);
    item_set_atime(it, now); /* the store time, which flush_all compares */
    link_locked(p, rc, it);
    pthread_mutex_unlock(&rc->lock);
}

static void random_unlink_locked(struct policy *p, struct item *it)
{
    struct random_class *rc = &p->classes[it->clsid];
    if (__atomic_load_n(&it->pbits, __ATOMIC_RELAXED) & RANDOM_OVERFLOW) {
        plist_remove(&rc->overflow, p->slabs, it);
        return;
    }
    uint32_t pos = it->prev;
    uint32_t last = rc->slots[--rc->n];
    rc->slots[pos] = last;
    plist_at(p->slabs, last)->prev = pos; /* a no-op when it was last */
    it->prev = 0;
}

static void random_unlink(struct policy *p, struct item *it)
{
    struct random_class *rc = &p->classes[it->clsid];
    pthread_mutex_lock(&rc->lock);
    random_unlink_locked(p, it);
    pthread_mutex_unlock(&rc->lock);
}

static void random_hit(struct policy *p, struct item *it, rel_time_t now)
{
    (void)p;
    (void)it;
    (void)now;
}

/* Overflow items first (oldest first), then random draws; a draw may
 * repeat an item, which only costs a try. */
static bool random_evict(struct policy *p, unsigned cls, unsigned tries,
                         policy_take_fn take, void *ctx)
{
    struct random_class *rc = &p->classes[cls];
    bool taken = false;
    unsigned n = 0;
    pthread_mutex_lock(&rc->lock);
    uint32_t ref = rc->overflow.tail;
    for (; n < tries && ref != 0 && !taken; n++) {
        struct item *it = plist_at(p->slabs, ref);
        ref = it->prev; /* read first: take() may unlink it */
        taken = take(ctx, it);
    }
    for (; n < tries && rc->n > 0 && !taken; n++) {
        /* The high bits, scaled to [0, n): xorshift's low bits are its
         * weakest. */
        uint32_t pos = (uint32_t)(((next_random(rc) >> 32) * rc->n) >> 32);
        taken = take(ctx, plist_at(p->slabs, rc->slots[pos]));
    }
    pthread_mutex_unlock(&rc->lock);
    return taken;
}

static uint64_t random_count(struct policy *p, unsigned cls)
{
    struct random_class *rc = &p->classes[cls];
    pthread_mutex_lock(&rc->lock);
    uint64_t n = rc->n + rc->overflow.count;
    pthread_mutex_unlock(&rc->lock);
    return n;
}

const struct policy_ops policy_random = {
    .name = "random",
    .create = random_create,
    .destroy = random_destroy,
    .link = random_link,
    .unlink = random_unlink,
    .unlink_locked = random_unlink_locked,
    .hit = random_hit,
    .evict = random_evict,
    .count = random_count,
};
