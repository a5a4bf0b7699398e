/*
 * daemon/log.h - the daemon's one logging path: lines on stderr.
 *
 * Levels follow how much of the server an event affects and match -v:
 * warnings always, -v info (start-up, shutdown, rejected connections),
 * -vv debug (each connection), -vvv trace (each request).
 */
#ifndef ZK_DAEMON_LOG_H
#define ZK_DAEMON_LOG_H

enum log_level {
    LOG_WARN = 0,
    LOG_INFO = 1,
    LOG_DEBUG = 2,
    LOG_TRACE = 3,
};

void log_set_level(int level);
int log_level(void);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
