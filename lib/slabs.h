/*
 * lib/slabs.h - the slab arena: the memory items live in.
 *
 * One region of address space is reserved up front and handed out in pages
 * (1 MiB, or the largest item size if that is larger). A page is assigned
 * to one size class when that class runs out of free chunks, and is then
 * cut into equal chunks. Classes grow by `factor` from `min_chunk` plus the
 * item header, rounded to the arena's unit, or take the explicit `sizes`;
 * the last class always holds the largest item.
 *
 * Budget: everything charged to the arena, item pages and whatever else a
 * caller charges with slabs_charge() (the hash table's buckets), stays at or
 * under the limit, but for one thing: slabs_alloc_store() gives a class
 * with no page its first one past it, so at most one page per class over.
 * Allocation failure is an ordinary NULL result.
 *
 * References: a chunk is also addressable by a 32-bit reference, its offset
 * in units of the arena's alignment (4 bytes for arenas up to 16 GiB, 8 up
 * to 32 GiB, ...). Reference 0 is never a chunk, so it can mean "none".
 *
 * Locking: one mutex per class guards its free list and counters; a page
 * grab takes the arena mutex briefly. Both are leaves in the lock order.
 */
#ifndef ZK_LIB_SLABS_H
#define ZK_LIB_SLABS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLABS_MAX_CLASSES 63 /* class ids are 1..63; 0 means "none" */
#define SLABS_MIN_PAGE (1024 * 1024)

struct slabs;

struct slabs_config {
    uint64_t limit;        /* bytes: pages plus charges never exceed this */
    uint64_t reserve;      /* bytes of address space to reserve (>= limit);
                              0 means the limit. Room to raise the limit. */
    size_t item_size_max;  /* the largest chunk; page size is max(1 MiB, it) */
    size_t min_chunk;      /* smallest chunk, header included */
    double factor;         /* growth factor between classes, > 1 */
    const uint32_t *sizes; /* or these chunk sizes, ascending, each under */
    unsigned nsizes;       /* item_size_max; 0: min_chunk and factor */
};

struct slabs_class_stats {
    size_t chunk_size;
    uint64_t pages;
    uint64_t chunks_per_page;
    uint64_t used_chunks;
    uint64_t free_chunks;
    uint64_t requested;    /* bytes callers asked for in used chunks */
};

struct slabs *slabs_create(const struct slabs_config *cfg);
void slabs_destroy(struct slabs **s);

/* The smallest class whose chunks hold size bytes; 0 if none does. */
unsigned slabs_class_for(const struct slabs *s, size_t size);
unsigned slabs_nclasses(const struct slabs *s);
size_t slabs_chunk_size(const struct slabs *s, unsigned cls);
size_t slabs_page_size(const struct slabs *s);
size_t slabs_largest_chunk(const struct slabs *s);

/* A chunk of class cls for an object of `size` bytes, or NULL when the
 * class has no free chunk and no page can be added within the limit. */
void *slabs_alloc(struct slabs *s, unsigned cls, size_t size);
/* The same for a client's store: a class with no page at all gets its
 * first one even past the limit, as memcached grants it. With every page
 * taken by other sizes, a store of a new size would otherwise fail
 * (SERVER_ERROR out of memory) until a page is moved, where memcached
 * stores it and evicts within the class from then on. */
void *slabs_alloc_store(struct slabs *s, unsigned cls, size_t size);
/* slabs_alloc() of n chunks of class cls for objects of sizes[0..n-1]
 * bytes, under one lock: the chunks for sizes[0..k-1] in out[0..k-1],
 * returning k (< n only when the class ran out, as slabs_alloc() would). */
size_t slabs_alloc_many(struct slabs *s, unsigned cls, const size_t *sizes,
                        size_t n, void **out);
void slabs_free(struct slabs *s, void *chunk, unsigned cls, size_t size);

/* Charge or return bytes against the limit for memory outside the pages. */
bool slabs_charge(struct slabs *s, uint64_t bytes);
/* Make the next `bytes` of the arena that pages will come from resident
 * now (never past the limit), without writing to them: a bulk load run
 * beside this, or a store that takes a new page, finds its memory already
 * zeroed by the kernel. Safe to run on another thread while pages are
 * taken. What an earlier call made resident is skipped, so calling it
 * often costs little. Returns early, between 2 MiB blocks, once *stop
 * (if not NULL) is true. */
void slabs_prefault(struct slabs *s, uint64_t bytes, const _Atomic bool *stop);
void slabs_uncharge(struct slabs *s, uint64_t bytes);

/* Change the limit at run time; false if above the reservation. Lowering
 * it stops new pages being added; pages already given out stay. */
bool slabs_set_limit(struct slabs *s, uint64_t limit);
uint64_t slabs_limit(struct slabs *s);
uint64_t slabs_used(struct slabs *s);       /* pages + charges */
uint64_t slabs_charged(struct slabs *s);    /* charges alone */
uint64_t slabs_pages_total(struct slabs *s);

void slabs_class_stats(struct slabs *s, unsigned cls,
                       struct slabs_class_stats *out);

/*
 * Moving a page from one class to another, for a class that needs memory
 * when every page is taken. One move at a time, driven by one thread:
 * slabs_move_start() takes a page of src out of service (its free chunks
 * leave the free list, chunks freed later stay out); the caller empties
 * the chunks still in use (slabs_move_page() says where they are); once
 * all are free, slabs_move_try_finish() gives the page to dst.
 */
/* The class with the most pages other than `except`, if it has at least
 * two; else 0. */
unsigned slabs_fattest_class(struct slabs *s, unsigned except);
bool slabs_move_start(struct slabs *s, unsigned src, unsigned dst);
bool slabs_move_page(struct slabs *s, char **page, size_t *chunk_size,
                     uint32_t *nchunks);
bool slabs_move_try_finish(struct slabs *s);
bool slabs_moving(const struct slabs *s);
uint64_t slabs_pages_moved(const struct slabs *s);

uint32_t slabs_ref(const struct slabs *s, const void *chunk);
void *slabs_ptr(const struct slabs *s, uint32_t ref);
/* True if p points into a chunk of this arena (for tests and checks). */
bool slabs_owns(const struct slabs *s, const void *p);

#endif
