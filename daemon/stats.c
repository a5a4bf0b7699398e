/*
 * daemon/stats.c - see stats.h.
 */
#include "daemon/stats.h"

#include <string.h>

void thread_stats_add_to(struct thread_stats *ts, struct thread_stats_sum *sum)
{
#define THREAD_STATS_ADD(name, kind, help)                                    \
    sum->name += atomic_load_explicit(&ts->name, memory_order_relaxed);
    THREAD_STATS(THREAD_STATS_ADD)
#undef THREAD_STATS_ADD
}

void class_stats_add_to(struct thread_stats *ts, unsigned cls,
                        struct class_stats_sum *sum)
{
    struct class_thread_stats *cs = &ts->classes[cls];
#define CLASS_STATS_ADD(name, help)                                           \
    sum->name += atomic_load_explicit(&cs->name, memory_order_relaxed);
    CLASS_STATS(CLASS_STATS_ADD)
#undef CLASS_STATS_ADD
    for (int s = 0; s < POLICY_NSEGS; s++)
        sum->hits[s] += atomic_load_explicit(&cs->hits[s],
                                             memory_order_relaxed);
}

void buffer_stats_add_to(struct buffer_stats *bs,
                         struct buffer_stats_sum *sum)
{
#define BUFFER_STATS_ADD(name, kind, help)                                    \
    sum->name += atomic_load_explicit(&bs->name, memory_order_relaxed);
    BUFFER_STATS(BUFFER_STATS_ADD)
#undef BUFFER_STATS_ADD
}

static void class_stats_reset(struct class_thread_stats *cs)
{
#define CLASS_STATS_ZERO(name, help)                                          \
    atomic_store_explicit(&cs->name, 0, memory_order_relaxed);
    CLASS_STATS(CLASS_STATS_ZERO)
#undef CLASS_STATS_ZERO
    for (int s = 0; s < POLICY_NSEGS; s++)
        atomic_store_explicit(&cs->hits[s], 0, memory_order_relaxed);
}

void thread_stats_reset(struct thread_stats *ts)
{
#define THREAD_STATS_ZERO(name, kind, help)                                   \
    atomic_store_explicit(&ts->name, 0, memory_order_relaxed);
    THREAD_STATS(THREAD_STATS_ZERO)
#undef THREAD_STATS_ZERO
    for (unsigned cls = 0; cls <= CACHE_CLASSES_MAX; cls++)
        class_stats_reset(&ts->classes[cls]);
}

void thread_stats_foreach(const struct thread_stats_sum *sum,
                          thread_stats_emit_fn emit, void *arg)
{
#define THREAD_STATS_EMIT(name, kind, help)                                   \
    emit(#name, STAT_##kind, help, sum->name, arg);
    THREAD_STATS(THREAD_STATS_EMIT)
#undef THREAD_STATS_EMIT
}

void buffer_stats_foreach(const struct buffer_stats_sum *sum,
                          thread_stats_emit_fn emit, void *arg)
{
#define BUFFER_STATS_EMIT(name, kind, help)                                   \
    emit(#name, STAT_##kind, help, sum->name, arg);
    BUFFER_STATS(BUFFER_STATS_EMIT)
#undef BUFFER_STATS_EMIT
}

void class_stats_foreach(const struct class_stats_sum *sum,
                         thread_stats_emit_fn emit, void *arg)
{
    uint64_t get_hits = 0;
    for (int s = 0; s < POLICY_NSEGS; s++)
        get_hits += sum->hits[s];
    emit("get_hits", STAT_COUNTER, "keys found by get, gets", get_hits, arg);
#define CLASS_STATS_EMIT(name, help)                                          \
    emit(#name, STAT_COUNTER, help, sum->name, arg);
    CLASS_STATS(CLASS_STATS_EMIT)
#undef CLASS_STATS_EMIT
}
