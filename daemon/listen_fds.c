/*
 * daemon/listen_fds.c - see listen_fds.h.
 */
#include "daemon/listen_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* A whole decimal number in [0, max]; false for anything else. */
static bool parse_count(const char *s, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

static bool is_listening_stream(int fd)
{
    int type = 0, listening = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
        type != SOCK_STREAM)
        return false;
    len = sizeof(listening);
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
           listening != 0;
}

static bool prepare(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fd_fl = fcntl(fd, F_GETFD);
    return fl >= 0 && fd_fl >= 0 &&
           fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
           fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) == 0;
}

int listen_fds_take(char *err, size_t errlen)
{
    const char *pid_s = getenv("LISTEN_PID");
    const char *fds_s = getenv("LISTEN_FDS");
    long long pid = 0, n = 0;
    bool ours = pid_s != NULL && fds_s != NULL &&
                parse_count(pid_s, 0x7fffffffLL, &pid) && pid == getpid();
    bool valid = ours && parse_count(fds_s, LISTEN_FDS_MAX, &n);
    if (ours && !valid) /* before unsetenv(), which may free fds_s */
        snprintf(err, errlen, "LISTEN_FDS=%s from the service manager is "
                 "not a count of 0..%d sockets", fds_s, LISTEN_FDS_MAX);
    /* Not for children (nothing here forks, but a -d parent would). */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (!ours)
        return 0;
    if (!valid)
        return -1;
    for (int i = 0; i < (int)n; i++) {
        int fd = LISTEN_FDS_START + i;
        if (!is_listening_stream(fd) || !prepare(fd)) {
            snprintf(err, errlen, "descriptor %d from the service manager "
                     "is not a listening stream socket", fd);
            return -1;
        }
    }
    return (int)n;
}
