/* Unit tests for lib/clock.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/clock.h"

#define T0 1700000000

static void starts_at_two_and_follows_wall(void **state)
{
    (void)state;
    struct clock *c = clock_create(T0);
    assert_non_null(c);
    assert_int_equal(clock_now(c), 2);
    assert_int_equal(clock_epoch(c), T0 - 2);
    clock_set_wall(c, T0 + 10);
    assert_int_equal(clock_now(c), 12);
    assert_int_equal(clock_wall(c), T0 + 10);
    clock_destroy(&c);
    assert_null(c);
    clock_destroy(&c); /* tolerates NULL */
}

static void never_runs_backwards(void **state)
{
    (void)state;
    struct clock *c = clock_create(T0);
    clock_set_wall(c, T0 + 100);
    clock_set_wall(c, T0 + 50);
    assert_int_equal(clock_now(c), 102);
    clock_destroy(&c);
}

static void advance_survives_wall_updates(void **state)
{
    (void)state;
    struct clock *c = clock_create(T0);
    clock_advance(c, 3600);
    assert_int_equal(clock_now(c), 3602);
    clock_set_wall(c, T0 + 1);
    assert_int_equal(clock_now(c), 3603);
    clock_destroy(&c);
}

static void exptime_semantics(void **state)
{
    (void)state;
    struct clock *c = clock_create(T0);
    clock_set_wall(c, T0 + 8); /* now = 10 */
    assert_int_equal(clock_exptime(c, 0), 0);
    assert_int_equal(clock_exptime(c, -1), 1);
    assert_int_equal(clock_exptime(c, INT64_MIN), 1);
    assert_int_equal(clock_exptime(c, 1), 11);
    assert_int_equal(clock_exptime(c, CLOCK_MAX_RELATIVE),
                     10 + CLOCK_MAX_RELATIVE);
    /* One past 30 days is an absolute unix time, long ago: expired. */
    assert_int_equal(clock_exptime(c, CLOCK_MAX_RELATIVE + 1), 1);
    assert_int_equal(clock_exptime(c, T0 - 2), 1);
    assert_int_equal(clock_exptime(c, T0 + 100), 102);
    assert_int_equal(clock_exptime(c, INT64_MAX), UINT32_MAX);
    clock_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_at_two_and_follows_wall),
        cmocka_unit_test(never_runs_backwards),
        cmocka_unit_test(advance_survives_wall_updates),
        cmocka_unit_test(exptime_semantics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
