/*
 * daemon/log.c - see log.h. The level is process-wide: it is set once at
 * start and by the verbosity command, and read by every thread.
 */
#include "daemon/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_WARN;

void log_set_level(int level)
{
    atomic_store_explicit(&current_level, level, memory_order_relaxed);
}

int log_level(void)
{
    return atomic_load_explicit(&current_level, memory_order_relaxed);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if ((int)level > log_level())
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fputs per line keeps lines from different threads whole. */
    /* UTC time, then the syslog-style "name[pid]:" prefix */
    char when[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char out[1100];
    snprintf(out, sizeof(out), "%s zeekdb[%ld]: %s\n", when, (long)getpid(),
             line);
    fputs(out, stderr);
}
