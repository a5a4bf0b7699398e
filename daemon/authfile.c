/*
 * daemon/authfile.c - see authfile.h.
 *
 * The entries live in one block: the file's bytes, then nothing else
 * points anywhere. A reload builds a new block and swaps it in under the
 * mutex, which the checks also take: authentication happens once per
 * connection, so a lock costs nothing that matters and keeps the swap
 * simple.
 */
#include "daemon/authfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/path.h"

struct auth_entry {
    const char *user;
    size_t nuser;
    const char *pass;
    size_t npass;
};

/* One loaded file: its bytes and the entries pointing into them. */
struct auth_table {
    char *data;
    struct auth_entry *entries;
    size_t count;
};

struct authfile {
    char *path;
    pthread_mutex_t lock;
    struct auth_table table; /* under lock */
};

static void table_free(struct auth_table *t)
{
    free(t->data);
    free(t->entries);
    memset(t, 0, sizeof(*t));
}

/* The whole file into a new buffer; *len its size. */
static char *read_all(const char *path, size_t *len, char *err,
                      size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > AUTHFILE_SIZE_MAX) {
        snprintf(err, errlen, "%s is not a regular file of at most %d bytes",
                 path, AUTHFILE_SIZE_MAX);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf != NULL && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "cannot read %s: %s", path,
                     n < 0 ? strerror(errno) : "it shrank while being read");
            free(buf);
            buf = NULL;
            goto out;
        }
        got += (size_t)n;
    }
    if (buf == NULL)
        snprintf(err, errlen, "out of memory reading %s", path);
    else
        *len = got;
out:
    close(fd);
    return buf;
}

/* Splits one line (without its '\n') into an entry. */
static bool parse_line(const char *line, size_t n, struct auth_entry *e)
{
    if (n > 0 && line[n - 1] == '\r')
        n--;
    const char *colon = memchr(line, ':', n);
    if (colon == NULL || memchr(line, '\0', n) != NULL)
        return false;
    e->user = line;
    e->nuser = (size_t)(colon - line);
    e->pass = colon + 1;
    e->npass = n - e->nuser - 1;
    return true;
}

static size_t count_lines(const char *data, size_t len)
{
    size_t lines = 0;
    for (const char *p = data; p < data + len; lines++) {
        const char *nl = memchr(p, '\n', (size_t)(data + len - p));
        p = nl != NULL ? nl + 1 : data + len;
    }
    return lines;
}

static bool table_parse(struct auth_table *t, const char *path, char *err,
                        size_t errlen)
{
    size_t len = 0;
    t->data = read_all(path, &len, err, errlen);
    if (t->data == NULL)
        return false;
    size_t lines = count_lines(t->data, len);
    t->entries = calloc(lines > 0 ? lines : 1, sizeof(*t->entries));
    if (t->entries == NULL) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return false;
    }
    const char *p = t->data, *end = t->data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end;
        if (!parse_line(p, (size_t)(eol - p), &t->entries[t->count])) {
            snprintf(err, errlen, "%s line %zu is malformed: it should be "
                     "user:password", path, t->count + 1);
            return false;
        }
        t->count++;
        p = nl != NULL ? nl + 1 : end;
    }
    return true;
}

struct authfile *authfile_open(const char *path, char *err, size_t errlen)
{
    struct authfile *af = calloc(1, sizeof(*af));
    if (af == NULL || (af->path = path_absolute(path)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(af);
        return NULL;
    }
    pthread_mutex_init(&af->lock, NULL);
    if (!table_parse(&af->table, af->path, err, errlen))
        authfile_close(&af);
    return af;
}

bool authfile_reload(struct authfile *af, char *err, size_t errlen)
{
    struct auth_table fresh = {0};
    if (!table_parse(&fresh, af->path, err, errlen)) {
        table_free(&fresh);
        return false;
    }
    pthread_mutex_lock(&af->lock);
    struct auth_table old = af->table;
    af->table = fresh;
    pthread_mutex_unlock(&af->lock);
    table_free(&old);
    return true;
}

void authfile_close(struct authfile **afp)
{
    struct authfile *af = *afp;
    if (af == NULL)
        return;
    table_free(&af->table);
    pthread_mutex_destroy(&af->lock);
    free(af->path);
    free(af);
    *afp = NULL;
}

/* Equal bytes, in a time that depends on n only. */
static bool same_bytes(const char *a, const char *b, size_t n)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool authfile_check(struct authfile *af, const char *user, size_t nuser,
                    const char *pass, size_t npass)
{
    bool ok = false;
    pthread_mutex_lock(&af->lock);
    for (size_t i = 0; i < af->table.count; i++) {
        const struct auth_entry *e = &af->table.entries[i];
        if (e->nuser == nuser && e->npass == npass) {
            bool u = same_bytes(e->user, user, nuser);
            bool p = same_bytes(e->pass, pass, npass);
            ok |= u & p;
        }
    }
    pthread_mutex_unlock(&af->lock);
    return ok;
}

size_t authfile_count(struct authfile *af)
{
    pthread_mutex_lock(&af->lock);
    size_t n = af->table.count;
    pthread_mutex_unlock(&af->lock);
    return n;
}

const char *authfile_path(const struct authfile *af)
{
    return af->path;
}
