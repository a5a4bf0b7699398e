/*
 * daemon/path.h - file names given on the command line.
 */
#ifndef ZK_DAEMON_PATH_H
#define ZK_DAEMON_PATH_H

/* path made absolute against the current directory (a copy to free; NULL
 * when out of memory). Files opened again later (the snapshot, the log
 * file) need it: -d changes the working directory to / after start-up.
 * When the current directory cannot be read, the path is copied as is. */
char *path_absolute(const char *path);

#endif
