/*
 * lib/balance.h - which slab class should give a page to which: the
 * automover's age balancing (memcached's slab_automove=1).
 *
 * Memory stays in the classes an earlier workload filled: a class that
 * can evict its own items never runs out of chunks, so nothing moves a
 * page to it, however young the items it throws out and however old
 * those other classes keep. Once a second the cache hands every class's
 * figures to balance_sample(); over the last `window` samples, a class
 * that evicted in more than half of them and in the latest, with the
 * youngest victims on average, takes a page from the class whose victims
 * are oldest on average, when its own are younger than `ratio` times
 * those (once it stops evicting, pages stop coming); no such decision
 * until the window has filled, so one burst does not move live memory.
 * Spare memory goes first and at once: a class with two pages' worth of
 * free chunks and no eviction in the window gives to the class evicting
 * now with the youngest victims. At most one move a sample.
 *
 * Pure bookkeeping: no locks, no cache; one thread at a time.
 */
#ifndef ZK_LIB_BALANCE_H
#define ZK_LIB_BALANCE_H

#include <stdbool.h>
#include <stdint.h>

#define BALANCE_WINDOW_MAX 3600
#define BALANCE_MIN_SOURCE_PAGES 3 /* a source keeps two pages */

struct balance;

/* One class at one sample. */
struct balance_class {
    uint64_t evictions;    /* ever, a counter that only grows */
    uint32_t victim_age;   /* seconds since the next victim's last access,
                              0 when the class holds no item */
    uint64_t pages;
    uint64_t free_chunks;
    uint64_t per_page;     /* chunks a page holds */
};

/* Classes 1..nclasses; window samples (1..BALANCE_WINDOW_MAX); ratio in
 * (0, 1]. NULL on bad arguments or out of memory. */
struct balance *balance_create(unsigned nclasses, unsigned window,
                               double ratio);
void balance_destroy(struct balance **b);

/* Take one sample, cls[1..nclasses] (cls[0] unused). Returns true with
 * the classes a page should move between. */
bool balance_sample(struct balance *b, const struct balance_class *cls,
                    unsigned *src, unsigned *dst);

#endif
