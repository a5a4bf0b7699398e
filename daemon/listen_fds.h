/*
 * daemon/listen_fds.h - listening sockets handed over by a service
 * manager (socket activation).
 *
 * systemd, and tools that speak its protocol, open the sockets named by a
 * unit's ListenStream= lines and start the daemon with them as descriptors
 * 3, 4, ..., announced by LISTEN_PID (the daemon's pid) and LISTEN_FDS
 * (how many). The manager keeps them open across a restart, so clients
 * connecting while zeekdb restarts wait in the backlog instead of being
 * refused. The protocol is a few environment variables, so no library is
 * needed for it.
 */
#ifndef ZK_DAEMON_LISTEN_FDS_H
#define ZK_DAEMON_LISTEN_FDS_H

#include <stddef.h>

#define LISTEN_FDS_START 3
#define LISTEN_FDS_MAX 32 /* as many as the listener watches */

/* How many sockets were passed to this process (0: none, or they were
 * meant for another pid), starting at LISTEN_FDS_START, each checked to be
 * a listening stream socket and made non-blocking and close-on-exec. The
 * variables are removed from the environment either way. -1 with a reason
 * in err when they are malformed or a descriptor is not such a socket. */
int listen_fds_take(char *err, size_t errlen);

#endif
