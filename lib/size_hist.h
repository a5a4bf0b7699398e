/*
 * lib/size_hist.h - memcached's item size histogram (`stats sizes`):
 * how many items are linked, by their size in bytes rounded up to a
 * multiple of 32.
 *
 * Off by default, since it costs a shared counter update per store and
 * per removal. Turned on (`stats sizes_enable`, -o track_sizes), it
 * counts the items linked from then on; the cache marks each item it
 * counted (ITEM_SIZED) and takes away only marked items, so the figures
 * stay exact whatever else changes about an item. Turned off, it stops
 * counting new items but still takes away marked ones as they go, so
 * turned on again it goes on from exact figures: the marked items still
 * linked, from any period it was on. (memcached instead starts again
 * from zero, telling items apart by CAS, which drifts when an item's CAS
 * changes in place.)
 *
 * Threads: any thread may add, remove, enable, disable or report at any
 * time; every counter is atomic.
 *
 * Memory: one 8-byte counter per 32 bytes of the largest item (256 KiB
 * with -I 1m), allocated the first time it is turned on and kept until
 * size_hist_destroy(), so a racing update never touches freed memory.
 */
#ifndef ZK_LIB_SIZE_HIST_H
#define ZK_LIB_SIZE_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIZE_HIST_GRAIN 32

struct size_hist;

/* Items up to item_max bytes get a bucket; larger ones are not counted.
 * NULL when out of memory. Starts off. */
struct size_hist *size_hist_create(size_t item_max);
void size_hist_destroy(struct size_hist **h);

/* false when the counters cannot be allocated (it stays off). */
bool size_hist_enable(struct size_hist *h);
void size_hist_disable(struct size_hist *h);
bool size_hist_enabled(const struct size_hist *h);

/* An item of `bytes` in all is linked: true when it was counted (on,
 * and not larger than item_max), and must be marked. */
bool size_hist_add(struct size_hist *h, size_t bytes);
/* A marked item of `bytes` is unlinked. */
void size_hist_remove(struct size_hist *h, size_t bytes);

/* Each bucket holding items, smallest first: its upper bound in bytes
 * (a multiple of 32) and its count. Nothing while off. */
typedef void (*size_hist_emit_fn)(size_t size, uint64_t count, void *arg);
void size_hist_report(const struct size_hist *h, size_hist_emit_fn emit,
                      void *arg);

#endif
