/*
 * daemon/log.h - the daemon's one logging path: lines on stderr, or in
 * the file of -o log_file.
 *
 * Levels follow how much of the server an event affects and match -v:
 * warnings always, -v info (start-up, shutdown, rejected connections),
 * -vv debug (each connection, request and reply, as memcached's -vv
 * prints them: daemon/trace.h), -vvv trace (more of the same, for
 * whatever needs it).
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

/* Send stderr, and so every log line, to path (appending, created 0640
 * if missing). 0, or -1 with errno; stderr is unchanged on failure. Call
 * before other threads start. */
int log_open(const char *path);
/* Open the same path again (after a log rotation moved the old file);
 * 0 when there is no log file. -1 with errno: the old file stays. */
int log_reopen(void);
/* The log file's absolute path, or NULL for stderr. */
const char *log_file_path(void);
/* "zeekdb: <msg>" for a failure that ends the process: to stderr (the log
 * file, if any) and, until log_started(), also to the stderr zeekdb was
 * started with, so whoever started it sees why it stopped. */
void log_fatal(const char *msg);
/* Start-up is over: later lines go to the log file alone. */
void log_started(void);

#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
