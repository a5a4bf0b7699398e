/*
 * lib/clock.c - see clock.h. The clock is a single atomic counter so that
 * any thread may read it without a lock.
 */
#include "lib/clock.h"

#include <stdatomic.h>
#include <stdlib.h>

/* memcached starts its clock at 2 so that 1 can mean "expired" and 0
 * "never" while every real time is larger than both. */
#define CLOCK_START 2

struct clock {
    time_t epoch;             /* immutable after create */
    _Atomic uint32_t now;     /* seconds since epoch */
    _Atomic uint32_t skew;    /* seconds added by clock_advance */
};

struct clock *clock_create(time_t wall_now)
{
    struct clock *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->epoch = wall_now - CLOCK_START;
    atomic_init(&c->now, CLOCK_START);
    atomic_init(&c->skew, 0);
    return c;
}

void clock_destroy(struct clock **c)
{
    if (c == NULL || *c == NULL)
        return;
    free(*c);
    *c = NULL;
}

void clock_set_wall(struct clock *c, time_t wall_now)
{
    time_t rel = wall_now - c->epoch;
    if (rel < CLOCK_START)
        rel = CLOCK_START;
    uint32_t next = (uint32_t)rel + atomic_load(&c->skew);
    uint32_t cur = atomic_load_explicit(&c->now, memory_order_relaxed);
    /* Only the timer thread stores here, but clock_advance may race: keep
     * the larger value so time never runs backwards. */
    while (next > cur &&
           !atomic_compare_exchange_weak(&c->now, &cur, next))
        ;
}

void clock_advance(struct clock *c, uint32_t seconds)
{
    atomic_fetch_add(&c->skew, seconds);
    atomic_fetch_add(&c->now, seconds);
}

rel_time_t clock_now(const struct clock *c)
{
    return atomic_load_explicit(&c->now, memory_order_relaxed);
}

time_t clock_epoch(const struct clock *c)
{
    return c->epoch;
}

time_t clock_wall(const struct clock *c)
{
    return c->epoch + (time_t)clock_now(c);
}

rel_time_t clock_exptime(const struct clock *c, int64_t exptime)
{
    if (exptime == 0)
        return 0;
    if (exptime < 0)
        return 1;
    if (exptime > CLOCK_MAX_RELATIVE) {
        /* An absolute time; one at or before our epoch is already past. */
        if (exptime <= (int64_t)c->epoch)
            return 1;
        int64_t rel = exptime - (int64_t)c->epoch;
        return rel > UINT32_MAX ? UINT32_MAX : (rel_time_t)rel;
    }
    uint64_t rel = (uint64_t)exptime + clock_now(c);
    return rel > UINT32_MAX ? UINT32_MAX : (rel_time_t)rel;
}
