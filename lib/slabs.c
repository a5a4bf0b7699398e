/*
 * lib/slabs.c - see slabs.h.
 *
 * Lock order: a class mutex may be held while the arena mutex is taken
 * (page grab); never the other way round. Callers hold no slabs lock when
 * they call in.
 */
#include "lib/slabs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct slab_class {
    pthread_mutex_t lock;
    size_t size;              /* chunk size, a multiple of the unit */
    uint32_t per_page;
    uint32_t free_head;       /* reference of the first free chunk */
    /* The newest page's chunks not handed out yet, taken in address order
     * after the free list's: a fresh page is not written through to
     * chain its chunks, so each chunk's first write is its item's own. */
    char *fresh;
    uint32_t fresh_left;
    uint64_t pages;
    uint64_t used;
    uint64_t nfree;
    uint64_t requested;
    /* A page being emptied to move to another class: its chunks are
     * taken off the free list and counted in `drained` as they free up. */
    char *draining;
    uint64_t drained;
};

/* The one page move in progress; only the mover thread touches it. */
struct page_move {
    unsigned src, dst;        /* 0: no move */
    char *page;
    uint64_t next_scan;       /* page index the next pick starts from */
};

struct slabs {
    char *region;             /* reserved address space, 2 MiB aligned */
    uint64_t reserve;         /* its length */
    uint64_t limit_max;       /* the highest limit it leaves room for */
    char *mapping;            /* what mmap returned, for munmap */
    uint64_t mapping_len;
    unsigned shift;           /* log2 of the reference unit */
    size_t page_size;
    unsigned nclasses;
    struct slab_class cls[SLABS_MAX_CLASSES + 1]; /* index 0 unused */

    struct page_move move;
    /* The move's public face, read by stats from any thread. */
    _Atomic bool moving;
    _Atomic uint64_t pages_moved;

    pthread_mutex_t lock;     /* guards the fields below */
    uint64_t limit;
    uint64_t npages;          /* pages handed to classes */
    uint64_t charged;         /* bytes charged from outside */
    uint64_t open_end;        /* region offset below which all is writable */
    uint64_t resident_end;    /* and below which slabs_prefault() has run */
    uint8_t *owner;           /* class of each page handed out */
};

static size_t round_up(size_t n, size_t unit)
{
    return (n + unit - 1) / unit * unit;
}

#define HUGE_PAGE (2u << 20)

/* PROT_NONE keeps the reservation free of commit charge; pages are made
 * writable one at a time as classes take them. The region starts on a
 * 2 MiB boundary and asks for transparent huge pages where the kernel
 * offers them on request: a fill (or a snapshot load) then takes one page
 * fault per 2 MiB instead of per 4 KiB, which on this class of machine was
 * a third of the load time. Pages are taken in address order, so at most
 * one huge page is partly used. */
static bool reserve_region(struct slabs *s)
{
    /* Whole 2 MiB blocks past the aligned start: make_writable() opens
     * a block at a time and must never reach beyond the mapping. */
    s->mapping_len = round_up(s->reserve, HUGE_PAGE) + HUGE_PAGE;
    s->mapping = mmap(NULL, s->mapping_len, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s->mapping == MAP_FAILED)
        return false;
    uintptr_t start = ((uintptr_t)s->mapping + HUGE_PAGE - 1) &
                      ~(uintptr_t)(HUGE_PAGE - 1);
    s->region = (char *)start;
#ifdef MADV_HUGEPAGE
    madvise(s->region, s->reserve, MADV_HUGEPAGE); /* a hint; may fail */
#endif
    return true;
}

/* The smallest unit (>= 4 bytes) whose 32-bit references span reserve. */
static unsigned pick_shift(uint64_t reserve)
{
    unsigned shift = 2;
    while ((reserve >> shift) >= UINT32_MAX)
        shift++;
    return shift;
}

/* Classes growing by the factor from the smallest chunk. */
static void ladder_classes(struct slabs *s, const struct slabs_config *cfg,
                           size_t largest)
{
    size_t unit = (size_t)1 << s->shift;
    size_t size = round_up(cfg->min_chunk, unit);
    unsigned i = 0;

    while (i < SLABS_MAX_CLASSES - 1 && size <= largest / cfg->factor) {
        s->cls[++i].size = size;
        size_t next = round_up((size_t)((double)size * cfg->factor), unit);
        size = next > size ? next : size + unit;
    }
    s->cls[++i].size = largest;
    s->nclasses = i;
}

/* The explicit sizes, each rounded up to the unit and to 8 bytes (as
 * memcached aligns its chunks); false unless they rise and stay under
 * the largest class. */
static bool explicit_classes(struct slabs *s, const struct slabs_config *cfg,
                             size_t largest)
{
    size_t unit = (size_t)1 << s->shift;
    unsigned i = 0;
    if (unit < 8)
        unit = 8;
    if (cfg->nsizes > SLABS_MAX_CLASSES - 1)
        return false;
    for (unsigned k = 0; k < cfg->nsizes; k++) {
        size_t size = round_up(cfg->sizes[k], unit);
        if (size >= largest || (i > 0 && size <= s->cls[i].size))
            return false;
        s->cls[++i].size = size;
    }
    s->cls[++i].size = largest;
    s->nclasses = i;
    return true;
}

static bool init_classes(struct slabs *s, const struct slabs_config *cfg)
{
    size_t unit = (size_t)1 << s->shift;
    size_t largest = cfg->item_size_max / unit * unit;

    if (cfg->nsizes == 0)
        ladder_classes(s, cfg, largest);
    else if (!explicit_classes(s, cfg, largest))
        return false;
    for (unsigned i = 1; i <= s->nclasses; i++)
        s->cls[i].per_page = (uint32_t)(s->page_size / s->cls[i].size);
    return true;
}

struct slabs *slabs_create(const struct slabs_config *cfg)
{
    if (cfg->factor <= 1.0 || cfg->min_chunk == 0 ||
        cfg->item_size_max < cfg->min_chunk)
        return NULL;
    struct slabs *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->page_size = cfg->item_size_max > SLABS_MIN_PAGE ? cfg->item_size_max
                                                        : SLABS_MIN_PAGE;
    uint64_t reserve = cfg->reserve > cfg->limit ? cfg->reserve : cfg->limit;
    s->limit_max = round_up(reserve, s->page_size);
    /* and room for the first pages that may go past the limit */
    s->reserve = s->limit_max + (uint64_t)SLABS_MAX_CLASSES * s->page_size;
    s->shift = pick_shift(s->reserve);
    s->limit = cfg->limit;
    if (!init_classes(s, cfg)) {
        free(s);
        return NULL;
    }
    if (!reserve_region(s)) {
        free(s);
        return NULL;
    }
    s->owner = calloc(s->reserve / s->page_size, 1);
    if (s->owner == NULL) {
        munmap(s->mapping, s->mapping_len);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    for (unsigned i = 1; i <= s->nclasses; i++)
        pthread_mutex_init(&s->cls[i].lock, NULL);
    return s;
}

void slabs_destroy(struct slabs **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    struct slabs *s = *sp;
    for (unsigned i = 1; i <= s->nclasses; i++)
        pthread_mutex_destroy(&s->cls[i].lock);
    pthread_mutex_destroy(&s->lock);
    munmap(s->mapping, s->mapping_len);
    free(s->owner);
    free(s);
    *sp = NULL;
}

unsigned slabs_class_for(const struct slabs *s, size_t size)
{
    if (size == 0 || size > s->cls[s->nclasses].size)
        return 0;
    /* Binary search: classes are sorted by size. */
    unsigned lo = 1, hi = s->nclasses;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (s->cls[mid].size >= size)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

unsigned slabs_nclasses(const struct slabs *s) { return s->nclasses; }
size_t slabs_page_size(const struct slabs *s) { return s->page_size; }

size_t slabs_chunk_size(const struct slabs *s, unsigned cls)
{
    return cls >= 1 && cls <= s->nclasses ? s->cls[cls].size : 0;
}

size_t slabs_largest_chunk(const struct slabs *s)
{
    return s->cls[s->nclasses].size;
}

uint32_t slabs_ref(const struct slabs *s, const void *chunk)
{
    if (chunk == NULL)
        return 0;
    return (uint32_t)(((const char *)chunk - s->region) >> s->shift) + 1;
}

void *slabs_ptr(const struct slabs *s, uint32_t ref)
{
    if (ref == 0)
        return NULL;
    return s->region + ((uint64_t)(ref - 1) << s->shift);
}

bool slabs_owns(const struct slabs *s, const void *p)
{
    const char *c = p;
    return c >= s->region && c < s->region + s->reserve;
}

/* Make region offsets [from, to) writable; s->lock held. Pages are
 * taken in address order, so everything below open_end already is, and
 * most calls cost nothing: an mprotect() takes the address space's write
 * lock, and would wait there for a prefault populating the next block. */
static bool open_range_locked(struct slabs *s, uint64_t from, uint64_t to)
{
    if (to <= s->open_end)
        return true;
    if (from < s->open_end)
        from = s->open_end;
    if (mprotect(s->region + from, to - from, PROT_READ | PROT_WRITE) != 0)
        return false;
    if (from == s->open_end)
        s->open_end = to;
    return true;
}

/* Open a page for writing: its whole 2 MiB block at once, so the block
 * is one mapping when it is first touched and can be a huge page. The
 * rest of the block costs nothing until the next page is taken from it. */
static bool make_writable(struct slabs *s, char *page)
{
    uint64_t from = (uint64_t)(page - s->region);
    uint64_t to = from + s->page_size;
    if (s->page_size < HUGE_PAGE) {
        from = from / HUGE_PAGE * HUGE_PAGE;
        to = from + HUGE_PAGE;
    }
    return open_range_locked(s, from, to);
}

/* Take a fresh page for class cls within the budget, or NULL. */
/* With `first`, the page is a class's first and may go past the limit
 * (slabs_alloc_store), by at most one page per class in all. */
static char *grab_page(struct slabs *s, unsigned cls, bool first)
{
    char *page = NULL;
    pthread_mutex_lock(&s->lock);
    uint64_t used = s->npages * s->page_size + s->charged;
    uint64_t offset = s->npages * s->page_size;
    uint64_t limit = s->limit;
    if (first)
        limit += (uint64_t)s->nclasses * s->page_size;
    if (used + s->page_size <= limit &&
        offset + s->page_size <= s->reserve) {
        page = s->region + offset;
        if (make_writable(s, page))
            s->owner[s->npages++] = (uint8_t)cls;
        else
            page = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    return page;
}

/* Cut a page into the class's free list; class lock held. */
static void carve_page_locked(struct slabs *s, struct slab_class *c,
                              char *page)
{
    /* Chain the chunks back to front so the list hands them out in
     * address order. */
    for (uint32_t i = c->per_page; i-- > 0;) {
        char *chunk = page + (size_t)i * c->size;
        memcpy(chunk, &c->free_head, sizeof(uint32_t));
        c->free_head = slabs_ref(s, chunk);
    }
    c->pages++;
    c->nfree += c->per_page;
}

/* Only when the class has no fresh chunk left: a new page is all zero. */
static bool add_page_locked(struct slabs *s, struct slab_class *c,
                            bool first_ok)
{
    char *page = grab_page(s, (unsigned)(c - s->cls),
                           first_ok && c->pages == 0);
    if (page == NULL)
        return false;
    c->fresh = page;
    c->fresh_left = c->per_page;
    c->pages++;
    c->nfree += c->per_page;
    return true;
}

/* Class lock held. */
static void *take_chunk_locked(struct slabs *s, struct slab_class *c,
                               size_t size, bool first_ok)
{
    void *chunk;
    if (c->free_head != 0) {
        chunk = slabs_ptr(s, c->free_head);
        memcpy(&c->free_head, chunk, sizeof(uint32_t));
    } else if (c->fresh_left > 0 || add_page_locked(s, c, first_ok)) {
        chunk = c->fresh;
        c->fresh += c->size;
        c->fresh_left--;
    } else {
        return NULL;
    }
    c->nfree--;
    c->used++;
    c->requested += size;
    return chunk;
}

static void *alloc_chunk(struct slabs *s, unsigned cls, size_t size,
                         bool first_ok)
{
    if (cls < 1 || cls > s->nclasses)
        return NULL;
    struct slab_class *c = &s->cls[cls];
    pthread_mutex_lock(&c->lock);
    void *chunk = take_chunk_locked(s, c, size, first_ok);
    pthread_mutex_unlock(&c->lock);
    return chunk;
}

size_t slabs_alloc_many(struct slabs *s, unsigned cls, const size_t *sizes,
                        size_t n, void **out)
{
    if (cls < 1 || cls > s->nclasses)
        return 0;
    struct slab_class *c = &s->cls[cls];
    size_t k = 0;
    pthread_mutex_lock(&c->lock);
    for (; k < n; k++) {
        out[k] = take_chunk_locked(s, c, sizes[k], false);
        if (out[k] == NULL)
            break;
    }
    pthread_mutex_unlock(&c->lock);
    return k;
}

void *slabs_alloc(struct slabs *s, unsigned cls, size_t size)
{
    return alloc_chunk(s, cls, size, false);
}

void *slabs_alloc_store(struct slabs *s, unsigned cls, size_t size)
{
    return alloc_chunk(s, cls, size, true);
}

static bool in_page(const struct slabs *s, const char *page, const void *p)
{
    return page != NULL && (const char *)p >= page &&
           (const char *)p < page + s->page_size;
}

void slabs_free(struct slabs *s, void *chunk, unsigned cls, size_t size)
{
    struct slab_class *c = &s->cls[cls];
    pthread_mutex_lock(&c->lock);
    if (in_page(s, c->draining, chunk)) {
        /* Leaving: not back on the free list, and not written to, so the
         * mover can still read what the chunk held. */
        c->drained++;
        c->used--;
        c->requested -= size;
        pthread_mutex_unlock(&c->lock);
        return;
    }
    memcpy(chunk, &c->free_head, sizeof(uint32_t));
    c->free_head = slabs_ref(s, chunk);
    c->nfree++;
    c->used--;
    c->requested -= size;
    pthread_mutex_unlock(&c->lock);
}

void slabs_prefault(struct slabs *s, uint64_t bytes, const _Atomic bool *stop)
{
#ifdef MADV_POPULATE_WRITE
    pthread_mutex_lock(&s->lock);
    uint64_t from = s->npages * s->page_size;
    uint64_t room = s->limit > from + s->charged
                        ? s->limit - from - s->charged : 0;
    if (bytes > room)
        bytes = room;
    uint64_t start = from / HUGE_PAGE * HUGE_PAGE;
    uint64_t end = round_up(from + bytes, HUGE_PAGE);
    if (end > s->reserve)
        end = s->reserve / HUGE_PAGE * HUGE_PAGE;
    if (start < s->resident_end)
        start = s->resident_end; /* never given back: resident still */
    /* One mprotect() for the whole range, before the loader needs any of
     * it, so that neither thread changes the mapping while the other
     * faults pages in. */
    bool open = start < end && open_range_locked(s, start, end);
    pthread_mutex_unlock(&s->lock);
    /* A block at a time, so the loader's first pages are ready soon. */
    for (uint64_t off = start; open && off < end; off += HUGE_PAGE) {
        if (stop != NULL && atomic_load_explicit(stop, memory_order_relaxed))
            return;
        if (madvise(s->region + off, HUGE_PAGE, MADV_POPULATE_WRITE) != 0)
            return; /* a hint: the load faults its pages in itself */
        pthread_mutex_lock(&s->lock);
        if (s->resident_end < off + HUGE_PAGE)
            s->resident_end = off + HUGE_PAGE;
        pthread_mutex_unlock(&s->lock);
    }
#else
    (void)s;
    (void)bytes;
    (void)stop;
#endif
}

bool slabs_charge(struct slabs *s, uint64_t bytes)
{
    bool ok;
    pthread_mutex_lock(&s->lock);
    ok = s->npages * s->page_size + s->charged + bytes <= s->limit;
    if (ok)
        s->charged += bytes;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void slabs_uncharge(struct slabs *s, uint64_t bytes)
{
    pthread_mutex_lock(&s->lock);
    s->charged -= bytes < s->charged ? bytes : s->charged;
    pthread_mutex_unlock(&s->lock);
}

bool slabs_set_limit(struct slabs *s, uint64_t limit)
{
    if (limit > s->limit_max)
        return false;
    pthread_mutex_lock(&s->lock);
    s->limit = limit;
    pthread_mutex_unlock(&s->lock);
    return true;
}

static uint64_t read_locked_u64(struct slabs *s, uint64_t *field)
{
    pthread_mutex_lock(&s->lock);
    uint64_t v = *field;
    pthread_mutex_unlock(&s->lock);
    return v;
}

uint64_t slabs_limit(struct slabs *s)
{
    return read_locked_u64(s, &s->limit);
}

uint64_t slabs_charged(struct slabs *s)
{
    return read_locked_u64(s, &s->charged);
}

uint64_t slabs_pages_total(struct slabs *s)
{
    return read_locked_u64(s, &s->npages);
}

uint64_t slabs_used(struct slabs *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t v = s->npages * s->page_size + s->charged;
    pthread_mutex_unlock(&s->lock);
    return v;
}

void slabs_class_stats(struct slabs *s, unsigned cls,
                       struct slabs_class_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (cls < 1 || cls > s->nclasses)
        return;
    struct slab_class *c = &s->cls[cls];
    pthread_mutex_lock(&c->lock);
    out->chunk_size = c->size;
    out->pages = c->pages;
    out->chunks_per_page = c->per_page;
    out->used_chunks = c->used;
    out->free_chunks = c->nfree;
    out->requested = c->requested;
    pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------ page moves */

unsigned slabs_fattest_class(struct slabs *s, unsigned except)
{
    unsigned best = 0;
    uint64_t most = 1; /* a class keeps its last page */
    for (unsigned i = 1; i <= s->nclasses; i++) {
        if (i == except)
            continue;
        pthread_mutex_lock(&s->cls[i].lock);
        uint64_t pages = s->cls[i].pages;
        pthread_mutex_unlock(&s->cls[i].lock);
        if (pages > most) {
            most = pages;
            best = i;
        }
    }
    return best;
}

/* A page owned by cls, searching from where the last search stopped so
 * successive moves take different pages. */
static char *pick_page(struct slabs *s, unsigned cls)
{
    char *page = NULL;
    pthread_mutex_lock(&s->lock);
    for (uint64_t n = 0; n < s->npages && page == NULL; n++) {
        uint64_t i = (s->move.next_scan + n) % s->npages;
        if (s->owner[i] == cls) {
            page = s->region + i * s->page_size;
            s->move.next_scan = i + 1;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return page;
}

/* Take the page's free chunks off the class's free list, and its fresh
 * ones if it is the newest page; class lock held. */
static void pull_free_chunks_locked(struct slabs *s, struct slab_class *c)
{
    if (c->fresh_left > 0 && in_page(s, c->draining, c->fresh)) {
        c->nfree -= c->fresh_left;
        c->drained += c->fresh_left;
        c->fresh_left = 0;
    }
    uint32_t *link = &c->free_head;
    while (*link != 0) {
        char *chunk = slabs_ptr(s, *link);
        if (in_page(s, c->draining, chunk)) {
            memcpy(link, chunk, sizeof(uint32_t));
            c->nfree--;
            c->drained++;
        } else {
            link = (uint32_t *)chunk; /* the chunk's first word links on */
        }
    }
}

bool slabs_move_start(struct slabs *s, unsigned src, unsigned dst)
{
    if (s->move.src != 0 || src == dst || src < 1 || src > s->nclasses ||
        dst < 1 || dst > s->nclasses)
        return false;
    char *page = pick_page(s, src);
    if (page == NULL)
        return false;
    struct slab_class *c = &s->cls[src];
    pthread_mutex_lock(&c->lock);
    c->draining = page;
    c->drained = 0;
    pull_free_chunks_locked(s, c);
    pthread_mutex_unlock(&c->lock);
    s->move.src = src;
    s->move.dst = dst;
    s->move.page = page;
    atomic_store_explicit(&s->moving, true, memory_order_relaxed);
    return true;
}

bool slabs_move_page(struct slabs *s, char **page, size_t *chunk_size,
                     uint32_t *nchunks)
{
    if (s->move.src == 0)
        return false;
    *page = s->move.page;
    *chunk_size = s->cls[s->move.src].size;
    *nchunks = s->cls[s->move.src].per_page;
    return true;
}

bool slabs_move_try_finish(struct slabs *s)
{
    if (s->move.src == 0)
        return false;
    struct slab_class *from = &s->cls[s->move.src];
    pthread_mutex_lock(&from->lock);
    bool done = from->drained == from->per_page;
    if (done) {
        from->draining = NULL;
        from->pages--;
    }
    pthread_mutex_unlock(&from->lock);
    if (!done)
        return false;
    char *page = s->move.page;
    /* Chunk boundaries change: clear what the old items left behind. */
    memset(page, 0, s->page_size);
    pthread_mutex_lock(&s->lock);
    s->owner[(uint64_t)(page - s->region) / s->page_size] =
        (uint8_t)s->move.dst;
    pthread_mutex_unlock(&s->lock);
    struct slab_class *to = &s->cls[s->move.dst];
    pthread_mutex_lock(&to->lock);
    carve_page_locked(s, to, page);
    pthread_mutex_unlock(&to->lock);
    s->move = (struct page_move){.next_scan = s->move.next_scan};
    atomic_fetch_add_explicit(&s->pages_moved, 1, memory_order_relaxed);
    atomic_store_explicit(&s->moving, false, memory_order_relaxed);
    return true;
}

bool slabs_moving(const struct slabs *s)
{
    return atomic_load_explicit(&s->moving, memory_order_relaxed);
}

uint64_t slabs_pages_moved(const struct slabs *s)
{
    return atomic_load_explicit(&s->pages_moved, memory_order_relaxed);
}
