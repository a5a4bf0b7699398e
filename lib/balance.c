/*
 * lib/balance.c - see balance.h.
 */
#include "lib/balance.h"

#include <stdlib.h>

/* One class over the window, kept as samples come and go. */
struct class_sums {
    uint64_t last_evictions; /* the counter at the latest sample */
    uint64_t age;            /* victim ages in the window, summed */
    unsigned evicting;       /* samples in the window that saw evictions */
};

struct balance {
    unsigned nclasses;
    unsigned window;
    double ratio;
    unsigned cur;             /* the row the next sample goes in */
    unsigned filled;          /* samples taken, up to window */
    bool primed;              /* sums[].last_evictions hold a sample */
    struct class_sums *sums;  /* [nclasses + 1] */
    uint32_t *age;            /* [window][nclasses + 1] */
    uint8_t *evicted;         /* [window][nclasses + 1] */
};

struct balance *balance_create(unsigned nclasses, unsigned window,
                               double ratio)
{
    if (nclasses == 0 || window == 0 || window > BALANCE_WINDOW_MAX ||
        !(ratio > 0 && ratio <= 1))
        return NULL;
    struct balance *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    size_t cells = (size_t)window * (nclasses + 1);
    b->nclasses = nclasses;
    b->window = window;
    b->ratio = ratio;
    b->sums = calloc(nclasses + 1, sizeof(*b->sums));
    b->age = calloc(cells, sizeof(*b->age));
    b->evicted = calloc(cells, sizeof(*b->evicted));
    if (b->sums == NULL || b->age == NULL || b->evicted == NULL)
        balance_destroy(&b);
    return b;
}

void balance_destroy(struct balance **bp)
{
    if (bp == NULL || *bp == NULL)
        return;
    free((*bp)->sums);
    free((*bp)->age);
    free((*bp)->evicted);
    free(*bp);
    *bp = NULL;
}

/* The sample goes in the oldest row; the sums drop that row's figures
 * and take the new ones. */
static void record(struct balance *b, const struct balance_class *cls)
{
    size_t row = (size_t)b->cur * (b->nclasses + 1);
    for (unsigned i = 1; i <= b->nclasses; i++) {
        struct class_sums *cs = &b->sums[i];
        uint8_t evicted = b->primed && cls[i].evictions > cs->last_evictions;
        cs->last_evictions = cls[i].evictions;
        cs->age += cls[i].victim_age;
        cs->age -= b->age[row + i];
        cs->evicting += evicted;
        cs->evicting -= b->evicted[row + i];
        b->age[row + i] = cls[i].victim_age;
        b->evicted[row + i] = evicted;
    }
    b->primed = true;
    b->cur = (b->cur + 1) % b->window;
    if (b->filled < b->window)
        b->filled++;
}

/* Whether the latest sample saw class i evict. */
static bool evicting_now(const struct balance *b, unsigned i)
{
    unsigned last = (b->cur + b->window - 1) % b->window;
    return b->evicted[(size_t)last * (b->nclasses + 1) + i] != 0;
}

/* Class i over the window: its average victim age and how many samples
 * saw it evict. */
static void summarize(const struct balance *b, unsigned i, double *age,
                      unsigned *evicting)
{
    *age = (double)b->sums[i].age / b->window;
    *evicting = b->sums[i].evicting;
}

/* Enough pages to give one and keep two. */
static bool can_give(const struct balance_class *c)
{
    return c->pages >= BALANCE_MIN_SOURCE_PAGES;
}

/* Two pages' worth of chunks unused, and no eviction in the window. */
static bool has_spare(const struct balance_class *c, unsigned evicting)
{
    return can_give(c) && evicting == 0 && c->per_page > 0 &&
           c->free_chunks >= 2 * c->per_page;
}

/* Memory nobody uses: the class with the most free chunks that has two
 * pages' worth and has not evicted in the window, to the class evicting
 * now with the youngest victims. It moves without waiting for the window
 * to fill: free chunks cost nothing to give (a page move copies what
 * lives on the page into them). */
static bool spare_move(const struct balance *b,
                       const struct balance_class *cls, unsigned *src,
                       unsigned *dst)
{
    unsigned spare = 0, young = 0;
    for (unsigned i = 1; i <= b->nclasses; i++) {
        double age;
        unsigned evicting;
        summarize(b, i, &age, &evicting);
        if (has_spare(&cls[i], evicting) &&
            (spare == 0 || cls[i].free_chunks > cls[spare].free_chunks))
            spare = i;
        if (evicting_now(b, i) &&
            (young == 0 || cls[i].victim_age < cls[young].victim_age))
            young = i;
    }
    if (spare == 0 || young == 0)
        return false;
    *src = spare;
    *dst = young;
    return true;
}

/* Live memory: once the window has filled, from the class whose victims
 * are oldest on average to the one that evicted in more than half of the
 * window and still does, with the youngest, when those are younger than
 * ratio times the others. */
static bool age_move(const struct balance *b, const struct balance_class *cls,
                     unsigned *src, unsigned *dst)
{
    if (b->filled < b->window)
        return false;
    unsigned young = 0, old = 0;
    double young_age = 0, old_age = 0;
    for (unsigned i = 1; i <= b->nclasses; i++) {
        double age;
        unsigned evicting;
        summarize(b, i, &age, &evicting);
        if (evicting > b->window / 2 && evicting_now(b, i) &&
            (young == 0 || age < young_age)) {
            young = i;
            young_age = age;
        }
        if (can_give(&cls[i]) && (old == 0 || age > old_age)) {
            old = i;
            old_age = age;
        }
    }
    if (young == 0 || old == 0 || old == young ||
        !(young_age < old_age * b->ratio))
        return false;
    *src = old;
    *dst = young;
    return true;
}

bool balance_sample(struct balance *b, const struct balance_class *cls,
                    unsigned *src, unsigned *dst)
{
    record(b, cls);
    return spare_move(b, cls, src, dst) || age_move(b, cls, src, dst);
}
