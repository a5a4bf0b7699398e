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

void thread_stats_reset(struct thread_stats *ts)
{
#define THREAD_STATS_ZERO(name, kind, help)                                   \
    atomic_store_explicit(&ts->name, 0, memory_order_relaxed);
    THREAD_STATS(THREAD_STATS_ZERO)
#undef THREAD_STATS_ZERO
}

void thread_stats_foreach(const struct thread_stats_sum *sum,
                          thread_stats_emit_fn emit, void *arg)
{
#define THREAD_STATS_EMIT(name, kind, help)                                   \
    emit(#name, STAT_##kind, help, sum->name, arg);
    THREAD_STATS(THREAD_STATS_EMIT)
#undef THREAD_STATS_EMIT
}
