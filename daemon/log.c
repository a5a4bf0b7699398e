/*
 * daemon/log.c - see log.h. The level is process-wide: it is set once at
 * start and by the verbosity command, and read by every thread.
 *
 * Every line is one write() to file descriptor 2. A log file is put in
 * place with dup2() onto that descriptor, so a reopen swaps the file under
 * threads that are writing without any lock, and whatever else writes to
 * stderr (libevent's warnings, a sanitizer's report) lands in it too.
 */
#include "daemon/log.h"
#include "daemon/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_WARN;
static char *log_path; /* set once, before any other thread starts */
/* While starting with a log file: the stderr zeekdb was started with, so
 * a start-up failure is also seen where it was started. */
static int startup_stderr = -1;

void log_set_level(int level)
{
    atomic_store_explicit(&current_level, level, memory_order_relaxed);
}

int log_level(void)
{
    return atomic_load_explicit(&current_level, memory_order_relaxed);
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
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
    int n = snprintf(out, sizeof(out), "%s zeekdb[%ld]: %s\n", when,
                     (long)getpid(), line);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(out)) { /* cut: still one whole line */
        n = sizeof(out) - 1;
        out[n - 1] = '\n';
    }
    /* One write per line keeps lines from different threads whole; with
     * O_APPEND, even against another process appending to the file. */
    write_all(STDERR_FILENO, out, (size_t)n);
}

static int open_onto_stderr(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    if (fd == STDERR_FILENO) /* fd 2 was closed: it is the file already */
        return fcntl(fd, F_SETFD, 0);
    int rc = dup2(fd, STDERR_FILENO); /* dup2 clears FD_CLOEXEC on fd 2 */
    int saved = errno;
    close(fd);
    errno = saved;
    return rc < 0 ? -1 : 0;
}

int log_open(const char *path)
{
    char *abs = path_absolute(path); /* for a reopen after -d */
    if (abs == NULL)
        return -1;
    if (startup_stderr < 0)
        startup_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (open_onto_stderr(abs) != 0) {
        int saved = errno;
        free(abs);
        errno = saved;
        return -1;
    }
    free(log_path);
    log_path = abs;
    return 0;
}

int log_reopen(void)
{
    return log_path == NULL ? 0 : open_onto_stderr(log_path);
}

const char *log_file_path(void)
{
    return log_path;
}


void log_fatal(const char *msg)
{
    char line[1100];
    int n = snprintf(line, sizeof(line), "zeekdb: %s\n", msg);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    write_all(STDERR_FILENO, line, len);
    if (startup_stderr >= 0)
        write_all(startup_stderr, line, len);
}

void log_started(void)
{
    if (startup_stderr >= 0)
        close(startup_stderr);
    startup_stderr = -1;
}
