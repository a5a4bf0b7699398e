/* Unit tests for daemon/prefix_stats.c ("stats detail"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/prefix_stats.h"

struct dump {
    char text[1024];
    size_t len;
};

static void collect(const char *line, size_t len, void *arg)
{
    struct dump *d = arg;
    assert_true(d->len + len < sizeof(d->text));
    memcpy(d->text + d->len, line, len);
    d->len += len;
    d->text[d->len] = '\0';
}

static void counts_only_while_enabled(void **state)
{
    (void)state;
    struct prefix_stats *ps = prefix_stats_create(':');
    assert_non_null(ps);
    assert_false(prefix_stats_enabled(ps));
    prefix_stats_record(ps, "a:1", 3, PREFIX_GET);
    prefix_stats_enable(ps, true);
    prefix_stats_record(ps, "a:1", 3, PREFIX_GET);
    prefix_stats_record(ps, "a:2", 3, PREFIX_GET);
    prefix_stats_record(ps, "a:1", 3, PREFIX_HIT);
    prefix_stats_record(ps, "b:x:y", 5, PREFIX_SET);
    prefix_stats_record(ps, "nodelim", 7, PREFIX_SET);
    prefix_stats_record(ps, "b:", 2, PREFIX_DEL);
    prefix_stats_enable(ps, false);
    prefix_stats_record(ps, "a:1", 3, PREFIX_GET);
    struct dump d = {.len = 0};
    prefix_stats_dump(ps, collect, &d);
    assert_string_equal(d.text,
                        "PREFIX b get 0 hit 0 set 1 del 1\r\n"
                        "PREFIX a get 2 hit 1 set 0 del 0\r\n");
    prefix_stats_destroy(&ps);
    assert_null(ps);
    prefix_stats_destroy(&ps);
}

static void empty_prefix_and_other_delimiter(void **state)
{
    (void)state;
    struct prefix_stats *ps = prefix_stats_create('/');
    prefix_stats_enable(ps, true);
    prefix_stats_record(ps, "/x", 2, PREFIX_GET);
    prefix_stats_record(ps, "a:b", 3, PREFIX_GET);
    struct dump d = {.len = 0};
    prefix_stats_dump(ps, collect, &d);
    assert_string_equal(d.text, "PREFIX  get 1 hit 0 set 0 del 0\r\n");
    prefix_stats_destroy(&ps);
}

static void clear_forgets_every_prefix(void **state)
{
    (void)state;
    struct prefix_stats *ps = prefix_stats_create(':');
    prefix_stats_enable(ps, true);
    prefix_stats_record(ps, "a:1", 3, PREFIX_GET);
    prefix_stats_record(ps, "b:1", 3, PREFIX_SET);
    prefix_stats_clear(ps);
    assert_true(prefix_stats_enabled(ps));
    struct dump d = {.len = 0};
    prefix_stats_dump(ps, collect, &d);
    assert_int_equal(d.len, 0);
    prefix_stats_record(ps, "a:2", 3, PREFIX_DEL); /* counts anew */
    prefix_stats_dump(ps, collect, &d);
    assert_string_equal(d.text, "PREFIX a get 0 hit 0 set 0 del 1\r\n");
    prefix_stats_destroy(&ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_only_while_enabled),
        cmocka_unit_test(empty_prefix_and_other_delimiter),
        cmocka_unit_test(clear_forgets_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
