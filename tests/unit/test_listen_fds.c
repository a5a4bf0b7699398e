/*
 * Unit tests for daemon/listen_fds.c: the LISTEN_PID/LISTEN_FDS handover
 * of listening sockets, with real sockets put on descriptors 3 and up.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/listen_fds.h"

/* A loopback socket on descriptor `at`; listening if `listen_on`. */
static void socket_at(int at, bool listen_on)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    if (listen_on)
        assert_int_equal(listen(fd, 4), 0);
    if (fd != at) {
        assert_int_equal(dup2(fd, at), at);
        close(fd);
    }
}

static void set_env(long pid, const char *fds)
{
    char p[32];
    snprintf(p, sizeof(p), "%ld", pid);
    assert_int_equal(setenv("LISTEN_PID", p, 1), 0);
    assert_int_equal(setenv("LISTEN_FDS", fds, 1), 0);
    assert_int_equal(setenv("LISTEN_FDNAMES", "a:b", 1), 0);
}

static void assert_env_gone(void)
{
    assert_null(getenv("LISTEN_PID"));
    assert_null(getenv("LISTEN_FDS"));
    assert_null(getenv("LISTEN_FDNAMES"));
}

static int teardown(void **state)
{
    (void)state;
    for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + 4; fd++)
        close(fd);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return 0;
}

static void none_without_the_variables(void **state)
{
    (void)state;
    char err[128] = "";
    assert_int_equal(listen_fds_take(err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void two_sockets_are_taken_and_made_nonblocking(void **state)
{
    (void)state;
    char err[128] = "";
    socket_at(LISTEN_FDS_START, true);
    socket_at(LISTEN_FDS_START + 1, true);
    set_env((long)getpid(), "2");
    assert_int_equal(listen_fds_take(err, sizeof(err)), 2);
    for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + 2; fd++) {
        assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    }
    assert_env_gone();
}

/* Meant for another process (a parent that did not clear them): ignored,
 * and cleared so no child sees them either. */
static void another_pid_means_none(void **state)
{
    (void)state;
    char err[128] = "";
    socket_at(LISTEN_FDS_START, true);
    set_env((long)getpid() + 1, "1");
    assert_int_equal(listen_fds_take(err, sizeof(err)), 0);
    assert_env_gone();
}

static void malformed_count_is_an_error(void **state)
{
    (void)state;
    const char *bad[] = {"", "x", "-1", "2x", "33", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[128] = "";
        set_env((long)getpid(), bad[i]);
        assert_int_equal(listen_fds_take(err, sizeof(err)), -1);
        assert_non_null(strstr(err, "LISTEN_FDS="));
        assert_env_gone();
    }
}

static void a_socket_not_listening_is_an_error(void **state)
{
    (void)state;
    char err[128] = "";
    socket_at(LISTEN_FDS_START, true);
    socket_at(LISTEN_FDS_START + 1, false);
    set_env((long)getpid(), "2");
    assert_int_equal(listen_fds_take(err, sizeof(err)), -1);
    assert_string_equal(err, "descriptor 4 from the service manager is not "
                             "a listening stream socket");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(none_without_the_variables, teardown),
        cmocka_unit_test_teardown(two_sockets_are_taken_and_made_nonblocking,
                                  teardown),
        cmocka_unit_test_teardown(another_pid_means_none, teardown),
        cmocka_unit_test_teardown(malformed_count_is_an_error, teardown),
        cmocka_unit_test_teardown(a_socket_not_listening_is_an_error,
                                  teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
