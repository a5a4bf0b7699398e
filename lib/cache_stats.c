/*
 * lib/cache_stats.c - the cache's figures for `stats`, `stats items`,
 * `stats slabs` and the metrics page, and `stats reset`. See cache.h.
 *
 * Counters are read with relaxed loads while requests move them, so a
 * report is a near-instant view, not a snapshot taken under a lock.
 */
#include "lib/cache.h"

#include <stdatomic.h>

#include "lib/assoc.h"
#include "lib/cache_internal.h"
#include "lib/policy.h"
#include "lib/slabs.h"

static uint64_t load(_Atomic uint64_t *ctr)
{
    return atomic_load_explicit(ctr, memory_order_relaxed);
}

/* The policy's view of class cls by segment; a policy without segments
 * has all its items in COLD (policy.h). */
static void class_segments(struct cache *c, unsigned cls,
                           struct policy_class_stats *out)
{
    if (c->pops->class_stats != NULL) {
        c->pops->class_stats(c->policy, cls, out);
        return;
    }
    *out = (struct policy_class_stats){0};
    out->items[POLICY_SEG_COLD] = c->pops->count(c->policy, cls);
    out->tail_atime[POLICY_SEG_COLD] =
        c->pops->oldest != NULL ? c->pops->oldest(c->policy, cls) : 0;
}

rel_time_t class_victim_atime(struct cache *c, unsigned cls)
{
    struct policy_class_stats ps;
    class_segments(c, cls, &ps);
    return ps.tail_atime[POLICY_SEG_COLD];
}

void cache_stats(struct cache *c, struct cache_stats *out)
{
    *out = (struct cache_stats){
        .curr_items = assoc_count(c->assoc),
        .total_items = load(&c->total_items) - load(&c->total_items_reset),
        .bytes = load(&c->bytes),
        .bytes_peak = load(&c->bytes_peak),
        .limit_maxbytes = slabs_limit(c->slabs),
        .hash_bytes = assoc_bytes(c->assoc),
        .hash_power = assoc_power(c->assoc),
        .hash_growing = assoc_is_growing(c->assoc),
    };
    out->slabs_moved = slabs_pages_moved(c->slabs) -
                       load(&c->slabs_moved_reset);
    out->move_running = slabs_moving(c->slabs);
    out->move_evictions = load(&c->move_evictions);
    out->move_rescues = load(&c->move_rescues);
    out->move_busy = load(&c->move_busy);
    for (unsigned i = 1; i <= SLABS_MAX_CLASSES; i++) {
        struct class_counters *cc = &c->per_class[i];
        out->evictions += load(&cc->evictions);
        out->reclaimed += load(&cc->reclaimed);
        out->expired_unfetched += load(&cc->expired_unfetched);
        out->evicted_unfetched += load(&cc->evicted_unfetched);
        out->crawler_reclaimed += load(&cc->crawler_reclaimed);
        out->crawler_items_checked += load(&cc->crawler_items_checked);
        out->reflocked += load(&cc->reflocked);
        out->direct_reclaims += load(&cc->direct_reclaims);
    }
    for (unsigned i = 1; i <= slabs_nclasses(c->slabs); i++) {
        struct policy_class_stats seg;
        class_segments(c, i, &seg);
        out->evicted_active += seg.evicted_active;
        out->moves_to_cold += seg.moves_to_cold;
        out->moves_to_warm += seg.moves_to_warm;
        out->moves_within_lru += seg.moves_within_lru;
    }
}

/* The per-class counters, zeroed one by one: an eviction racing the
 * reset may survive it or be lost, as with the request counters. */
_Static_assert(sizeof(struct class_counters) == 11 * sizeof(uint64_t),
               "a counter added to struct class_counters: reset it here");
static void reset_class(struct class_counters *cc)
{
    _Atomic uint64_t *fields[] = {
        &cc->evictions, &cc->evicted_nonzero, &cc->evicted_time,
        &cc->reclaimed, &cc->crawler_reclaimed, &cc->expired_unfetched,
        &cc->evicted_unfetched, &cc->outofmemory, &cc->reflocked,
        &cc->crawler_items_checked, &cc->direct_reclaims,
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        atomic_store_explicit(fields[i], 0, memory_order_relaxed);
}

void cache_stats_reset(struct cache *c)
{
    atomic_store(&c->total_items_reset, load(&c->total_items));
    atomic_store(&c->slabs_moved_reset, slabs_pages_moved(c->slabs));
    atomic_store(&c->move_evictions, 0);
    atomic_store(&c->move_rescues, 0);
    atomic_store(&c->move_busy, 0);
    for (unsigned i = 1; i <= SLABS_MAX_CLASSES; i++)
        reset_class(&c->per_class[i]);
    if (c->pops->reset_stats != NULL)
        c->pops->reset_stats(c->policy);
}

unsigned cache_nclasses(struct cache *c)
{
    return slabs_nclasses(c->slabs);
}

void cache_class_stats(struct cache *c, unsigned cls,
                       struct cache_class_stats *out)
{
    struct slabs_class_stats ss;
    slabs_class_stats(c->slabs, cls, &ss);
    struct class_counters *cc = &c->per_class[cls];
    *out = (struct cache_class_stats){
        .chunk_size = ss.chunk_size,
        .chunks_per_page = ss.chunks_per_page,
        .pages = ss.pages,
        .used_chunks = ss.used_chunks,
        .free_chunks = ss.free_chunks,
        .requested = ss.requested,
        .evictions = load(&cc->evictions),
        .reclaimed = load(&cc->reclaimed),
        .expired_unfetched = load(&cc->expired_unfetched),
        .evicted_unfetched = load(&cc->evicted_unfetched),
        .outofmemory = load(&cc->outofmemory),
        .evicted_nonzero = load(&cc->evicted_nonzero),
        .evicted_time = load(&cc->evicted_time),
        .crawler_reclaimed = load(&cc->crawler_reclaimed),
        .reflocked = load(&cc->reflocked),
        .crawler_items_checked = load(&cc->crawler_items_checked),
        .direct_reclaims = load(&cc->direct_reclaims),
    };
    class_segments(c, cls, &out->seg);
    out->seg.items[POLICY_SEG_TEMP] = load(&c->temp_items[cls]);
    for (int s = 0; s < POLICY_NSEGS; s++)
        out->items += out->seg.items[s];
}

void cache_policy_stats(struct cache *c, policy_stat_fn emit, void *arg)
{
    if (c->pops->stats != NULL)
        c->pops->stats(c->policy, emit, arg);
}

enum cache_sizes_status cache_sizes_enable(struct cache *c)
{
    if (!c->use_cas)
        return CACHE_SIZES_NO_CAS;
    if (!size_hist_enable(c->sizes))
        return CACHE_SIZES_NO_MEMORY;
    return CACHE_SIZES_ON;
}

void cache_sizes_disable(struct cache *c)
{
    size_hist_disable(c->sizes);
}

bool cache_sizes_enabled(struct cache *c)
{
    return size_hist_enabled(c->sizes);
}

void cache_sizes_report(struct cache *c, size_hist_emit_fn emit, void *arg)
{
    size_hist_report(c->sizes, emit, arg);
}
