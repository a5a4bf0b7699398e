/*
 * daemon/port_file.c - see port_file.h.
 */
#include "daemon/port_file.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/server.h"

/* One socket's line; nothing for a UNIX socket. */
static void put_socket(FILE *f, const char *proto, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        fprintf(f, "%s INET: %u\n", proto,
                (unsigned)ntohs(((struct sockaddr_in *)&ss)->sin_port));
    else if (ss.ss_family == AF_INET6)
        fprintf(f, "%s INET6: %u\n", proto,
                (unsigned)ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

void port_file_write(const struct server *srv)
{
    const char *path = getenv("MEMCACHED_PORT_FILENAME");
    if (path == NULL || *path == '\0')
        return;
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.lck", path) >= (int)sizeof(tmp)) {
        log_warn("MEMCACHED_PORT_FILENAME: path too long");
        return;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        log_warn("cannot write the port file %s: %s", tmp, strerror(errno));
        return;
    }
    for (int i = 0; i < listener_count(srv->listener); i++)
        put_socket(f, "TCP", listener_fd(srv->listener, i));
    for (int i = 0; i < srv->n_udp; i++)
        put_socket(f, "UDP", srv->udp_fds[i]);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        log_warn("cannot write the port file %s: %s", path, strerror(errno));
}
