/*
 * daemon/stats.c - see stats.h.
 */
#include "daemon/stats.h"

#include <string.h>

void thread_stats_add_to(struct thread_stats *ts, struct thread_stats_sum *sum)
{
#define THREAD_STATS_ADD(name, help)                                          \
    sum->name += atomic_load_explicit(&ts->name, memory_order_relaxed);
    THREAD_STATS(THREAD_STATS_ADD)
#undef THREAD_STATS_ADD
}

void thread_stats_reset(struct thread_stats *ts)
{
#define THREAD_STATS_ZERO(name, help)                                         \
    atomic_store_explicit(&ts->name, 0, memory_order_relaxed);
    THREAD_STATS(THREAD_STATS_ZERO)
#undef THREAD_STATS_ZERO
}

void thread_stats_foreach(const struct thread_stats_sum *sum,
                          void (*emit)(const char *name, uint64_t value,
                                       void *arg),
                          void *arg)
{
#define THREAD_STATS_EMIT(name, help) emit(#name, sum->name, arg);
    THREAD_STATS(THREAD_STATS_EMIT)
#undef THREAD_STATS_EMIT
}
