/*
 * lib/slabs.c - see slabs.h.
 *
 * Lock order: a class mutex may be held while the arena mutex is taken
 * (page grab); never the other way round. Callers hold no slabs lock when
 * they call in.
 */
#include "lib/slabs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct slab_class {
    pthread_mutex_t lock;
    size_t size;              /* chunk size, a multiple of the unit */
    uint32_t per_page;
    uint32_t free_head;       /* reference of the first free chunk */
    uint64_t pages;
    uint64_t used;
    uint64_t nfree;
    uint64_t requested;
};

struct slabs {
    char *region;             /* reserved address space */
    uint64_t reserve;         /* its length */
    unsigned shift;           /* log2 of the reference unit */
    size_t page_size;
    unsigned nclasses;
    struct slab_class cls[SLABS_MAX_CLASSES + 1]; /* index 0 unused */

    pthread_mutex_t lock;     /* guards the fields below */
    uint64_t limit;
    uint64_t npages;          /* pages handed to classes */
    uint64_t charged;         /* bytes charged from outside */
};

static size_t round_up(size_t n, size_t unit)
{
    return (n + unit - 1) / unit * unit;
}

/* The smallest unit (>= 4 bytes) whose 32-bit references span reserve. */
static unsigned pick_shift(uint64_t reserve)
{
    unsigned shift = 2;
    while ((reserve >> shift) >= UINT32_MAX)
        shift++;
    return shift;
}

static void init_classes(struct slabs *s, const struct slabs_config *cfg)
{
    size_t unit = (size_t)1 << s->shift;
    size_t largest = cfg->item_size_max / unit * unit;
    size_t size = round_up(cfg->min_chunk, unit);
    unsigned i = 0;

    while (i < SLABS_MAX_CLASSES - 1 && size <= largest / cfg->factor) {
        s->cls[++i].size = size;
        size_t next = round_up((size_t)((double)size * cfg->factor), unit);
        size = next > size ? next : size + unit;
    }
    s->cls[++i].size = largest;
    s->nclasses = i;
    for (i = 1; i <= s->nclasses; i++) {
        struct slab_class *c = &s->cls[i];
        c->per_page = (uint32_t)(s->page_size / c->size);
        pthread_mutex_init(&c->lock, NULL);
    }
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
    s->reserve = round_up(reserve, s->page_size);
    s->shift = pick_shift(s->reserve);
    s->limit = cfg->limit;
    /* PROT_NONE keeps the reservation free of commit charge; pages are
     * made writable one at a time as classes take them. */
    s->region = mmap(NULL, s->reserve, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s->region == MAP_FAILED) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    init_classes(s, cfg);
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
    munmap(s->region, s->reserve);
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

/* Take a fresh page for the budget, or NULL. */
static char *grab_page(struct slabs *s)
{
    char *page = NULL;
    pthread_mutex_lock(&s->lock);
    uint64_t used = s->npages * s->page_size + s->charged;
    uint64_t offset = s->npages * s->page_size;
    if (used + s->page_size <= s->limit &&
        offset + s->page_size <= s->reserve) {
        page = s->region + offset;
        if (mprotect(page, s->page_size, PROT_READ | PROT_WRITE) == 0)
            s->npages++;
        else
            page = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    return page;
}

/* Cut a new page into the class's free list; class lock held. */
static bool add_page_locked(struct slabs *s, struct slab_class *c)
{
    char *page = grab_page(s);
    if (page == NULL)
        return false;
    /* Chain the chunks back to front so the list hands them out in
     * address order. */
    for (uint32_t i = c->per_page; i-- > 0;) {
        char *chunk = page + (size_t)i * c->size;
        memcpy(chunk, &c->free_head, sizeof(uint32_t));
        c->free_head = slabs_ref(s, chunk);
    }
    c->pages++;
    c->nfree += c->per_page;
    return true;
}

void *slabs_alloc(struct slabs *s, unsigned cls, size_t size)
{
    if (cls < 1 || cls > s->nclasses)
        return NULL;
    struct slab_class *c = &s->cls[cls];
    void *chunk = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->free_head != 0 || add_page_locked(s, c)) {
        chunk = slabs_ptr(s, c->free_head);
        memcpy(&c->free_head, chunk, sizeof(uint32_t));
        c->nfree--;
        c->used++;
        c->requested += size;
    }
    pthread_mutex_unlock(&c->lock);
    return chunk;
}

void slabs_free(struct slabs *s, void *chunk, unsigned cls, size_t size)
{
    struct slab_class *c = &s->cls[cls];
    pthread_mutex_lock(&c->lock);
    memcpy(chunk, &c->free_head, sizeof(uint32_t));
    c->free_head = slabs_ref(s, chunk);
    c->nfree++;
    c->used--;
    c->requested -= size;
    pthread_mutex_unlock(&c->lock);
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
    if (limit > s->reserve)
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
