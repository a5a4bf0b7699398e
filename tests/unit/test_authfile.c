/*
 * tests/unit/test_authfile.c - daemon/authfile.c: memcached's user:password
 * file format, the checks, and reloads that fail keeping the old entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/authfile.h"

struct fixture {
    char path[64];
    char err[512];
    struct authfile *af;
};

static void write_file(struct fixture *f, const char *data, size_t n)
{
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

#define WRITE(f, s) write_file((f), (s), sizeof(s) - 1)

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->path, sizeof(f->path), "/tmp/zk_authfile_XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    authfile_close(&f->af);
    unlink(f->path);
    free(f);
    return 0;
}

static bool check(struct authfile *af, const char *user, const char *pass)
{
    return authfile_check(af, user, strlen(user), pass, strlen(pass));
}

static void open_ok(struct fixture *f)
{
    f->af = authfile_open(f->path, f->err, sizeof(f->err));
    assert_non_null(f->af);
}

static void open_fails(struct fixture *f, const char *why)
{
    f->af = authfile_open(f->path, f->err, sizeof(f->err));
    assert_null(f->af);
    assert_non_null(strstr(f->err, why));
}

static void test_entries(void **state)
{
    struct fixture *f = *state;
    WRITE(f, "alice:secret\nbob:pw2\n");
    open_ok(f);
    assert_int_equal(authfile_count(f->af), 2);
    assert_true(check(f->af, "alice", "secret"));
    assert_true(check(f->af, "bob", "pw2"));
    assert_false(check(f->af, "alice", "pw2"));
    assert_false(check(f->af, "alice", "secre"));
    assert_false(check(f->af, "alice", "secrets"));
    assert_false(check(f->af, "ALICE", "secret"));
    assert_false(check(f->af, "carol", "secret"));
    assert_false(check(f->af, "", ""));
}

/* The password runs to the end of the line: colons and spaces are part
 * of it; a '\r' before the '\n' is not; the last line needs no '\n'. */
static void test_line_rules(void **state)
{
    struct fixture *f = *state;
    WRITE(f, "a:b:c\r\nsp:x y\nlast:word");
    open_ok(f);
    assert_int_equal(authfile_count(f->af), 3);
    assert_true(check(f->af, "a", "b:c"));
    assert_false(check(f->af, "a", "b:c\r"));
    assert_true(check(f->af, "sp", "x y"));
    assert_true(check(f->af, "last", "word"));
}

/* memcached reads only eight entries; every one counts here. */
static void test_more_than_eight(void **state)
{
    struct fixture *f = *state;
    WRITE(f, "u1:p\nu2:p\nu3:p\nu4:p\nu5:p\nu6:p\nu7:p\nu8:p\nu9:p\nu10:p\n");
    open_ok(f);
    assert_int_equal(authfile_count(f->af), 10);
    assert_true(check(f->af, "u10", "p"));
}

static void test_empty_file(void **state)
{
    struct fixture *f = *state;
    WRITE(f, "");
    open_ok(f);
    assert_int_equal(authfile_count(f->af), 0);
    assert_false(check(f->af, "a", "b"));
}

static void test_malformed(void **state)
{
    struct fixture *f = *state;
    WRITE(f, "alice:secret\nnocolon\n");
    open_fails(f, "line 2 is malformed");
}

/* An empty line is an entry without ':', as memcached finds it. */
static void test_empty_line(void **state)
{
    struct fixture *f = *state;
    WRITE(f, "alice:secret\n\nbob:pw\n");
    open_fails(f, "line 2 is malformed");
}

static void test_nul(void **state)
{
    struct fixture *f = *state;
    write_file(f, "al\0ce:secret\n", 13);
    open_fails(f, "line 1 is malformed");
}

static void test_missing(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    open_fails(f, "cannot open");
}

static void test_too_large(void **state)
{
    struct fixture *f = *state;
    size_t n = AUTHFILE_SIZE_MAX + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    big[0] = ':';
    write_file(f, big, n);
    free(big);
    open_fails(f, "at most");
}

/* A good reload replaces the entries; a bad one keeps them. */
static void test_reload(void **state)
{
    struct fixture *f = *state;
    WRITE(f, "alice:secret\n");
    open_ok(f);
    WRITE(f, "alice:new\n");
    assert_true(authfile_reload(f->af, f->err, sizeof(f->err)));
    assert_true(check(f->af, "alice", "new"));
    assert_false(check(f->af, "alice", "secret"));
    WRITE(f, "broken\n");
    assert_false(authfile_reload(f->af, f->err, sizeof(f->err)));
    assert_non_null(strstr(f->err, "malformed"));
    assert_true(check(f->af, "alice", "new"));
    unlink(f->path);
    assert_false(authfile_reload(f->af, f->err, sizeof(f->err)));
    assert_true(check(f->af, "alice", "new"));
}

/* The path is kept absolute: -d moves the daemon to / before a reload. */
static void test_path_absolute(void **state)
{
    struct fixture *f = *state;
    WRITE(f, "a:b\n");
    assert_int_equal(chdir("/tmp"), 0);
    f->af = authfile_open(f->path + strlen("/tmp/"), f->err, sizeof(f->err));
    assert_non_null(f->af);
    assert_string_equal(authfile_path(f->af), f->path);
    assert_int_equal(chdir("/"), 0);
    assert_true(authfile_reload(f->af, f->err, sizeof(f->err)));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_entries),     T(test_line_rules), T(test_more_than_eight),
        T(test_empty_file),  T(test_malformed),  T(test_empty_line),
        T(test_nul),         T(test_missing),    T(test_too_large),
        T(test_reload),      T(test_path_absolute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
