/*
 * daemon/port_file.h - memcached's port file.
 *
 * With MEMCACHED_PORT_FILENAME in the environment, the ports the daemon
 * listens on are written to that file once it listens: one line per
 * socket, "TCP INET: 11211" ("INET6" for IPv6, "UDP" for datagrams), TCP
 * first. It is written to "<name>.lck" and renamed, so a reader never
 * sees half of it. Test suites start memcached with -p -1 (any free port)
 * and read the ports from there; they can start zeekdb the same way.
 */
#ifndef ZK_DAEMON_PORT_FILE_H
#define ZK_DAEMON_PORT_FILE_H

struct server;

/* Nothing without the variable; a file that cannot be written is logged
 * and start-up goes on, as with memcached. */
void port_file_write(const struct server *srv);

#endif
