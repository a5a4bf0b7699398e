/*
 * lib/clock.h - the engine's coarse clock.
 *
 * Time inside the engine is a rel_time_t: whole seconds since a moment two
 * seconds before the clock was created, so 0 can mean "never expires" and 1
 * "already expired". One place (the daemon's timer, or a test) calls
 * clock_set_wall() about once a second; requests only read.
 */
#ifndef ZK_LIB_CLOCK_H
#define ZK_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef uint32_t rel_time_t;

/* memcached's limit: an exptime up to 30 days is relative, larger is a
 * unix timestamp. */
#define CLOCK_MAX_RELATIVE (60 * 60 * 24 * 30)

struct clock;

struct clock *clock_create(time_t wall_now);
void clock_destroy(struct clock **c);

/* Follow the wall clock; never moves the clock backwards. */
void clock_set_wall(struct clock *c, time_t wall_now);
/* Move the clock forward by seconds (tests, the debugtime command). */
void clock_advance(struct clock *c, uint32_t seconds);

rel_time_t clock_now(const struct clock *c);
/* The unix time at which the clock started counting (rel_time 0). */
time_t clock_epoch(const struct clock *c);
/* Unix time of now, as the clock sees it. */
time_t clock_wall(const struct clock *c);

/* An exptime as a client sends it (0 never, <= 30 days relative, else
 * absolute unix time, negative already expired) as a rel_time_t. */
rel_time_t clock_exptime(const struct clock *c, int64_t exptime);

#endif
