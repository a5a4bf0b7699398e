/*
 * daemon/prefix_stats.c - see prefix_stats.h.
 *
 * A chained hash table of prefixes that only grows while enabled; like
 * memcached it keeps what it counted when switched off.
 */
#include "daemon/prefix_stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_BUCKETS 256
#define PREFIX_MAX 250

struct prefix {
    struct prefix *next;      /* hash chain */
    struct prefix *newer;     /* insertion order, newest first */
    uint64_t counts[PREFIX_DEL + 1];
    size_t len;
    char name[];
};

struct prefix_stats {
    char delimiter;
    _Atomic bool enabled;
    pthread_mutex_t lock;     /* guards everything below */
    struct prefix *buckets[PREFIX_BUCKETS];
    struct prefix *newest;
};

struct prefix_stats *prefix_stats_create(char delimiter)
{
    struct prefix_stats *ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        return NULL;
    ps->delimiter = delimiter;
    pthread_mutex_init(&ps->lock, NULL);
    return ps;
}

static void free_all_locked(struct prefix_stats *ps)
{
    for (struct prefix *p = ps->newest, *next; p != NULL; p = next) {
        next = p->newer;
        free(p);
    }
    ps->newest = NULL;
    memset(ps->buckets, 0, sizeof(ps->buckets));
}

void prefix_stats_destroy(struct prefix_stats **psp)
{
    if (psp == NULL || *psp == NULL)
        return;
    struct prefix_stats *ps = *psp;
    free_all_locked(ps);
    pthread_mutex_destroy(&ps->lock);
    free(ps);
    *psp = NULL;
}

void prefix_stats_clear(struct prefix_stats *ps)
{
    pthread_mutex_lock(&ps->lock);
    free_all_locked(ps);
    pthread_mutex_unlock(&ps->lock);
}

void prefix_stats_enable(struct prefix_stats *ps, bool on)
{
    atomic_store_explicit(&ps->enabled, on, memory_order_relaxed);
}

bool prefix_stats_enabled(const struct prefix_stats *ps)
{
    return atomic_load_explicit(&((struct prefix_stats *)ps)->enabled,
                                memory_order_relaxed);
}

static unsigned bucket_of(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a: short strings, few entries */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h % PREFIX_BUCKETS;
}

/* The entry for name, created if new; lock held. NULL without memory. */
static struct prefix *find_locked(struct prefix_stats *ps, const char *name,
                                  size_t len)
{
    struct prefix **head = &ps->buckets[bucket_of(name, len)];
    for (struct prefix *p = *head; p != NULL; p = p->next)
        if (p->len == len && memcmp(p->name, name, len) == 0)
            return p;
    struct prefix *p = calloc(1, sizeof(*p) + len);
    if (p == NULL)
        return NULL;
    memcpy(p->name, name, len);
    p->len = len;
    p->next = *head;
    *head = p;
    p->newer = ps->newest;
    ps->newest = p;
    return p;
}

void prefix_stats_record(struct prefix_stats *ps, const char *key,
                         size_t nkey, enum prefix_op op)
{
    if (!prefix_stats_enabled(ps))
        return;
    const char *d = memchr(key, ps->delimiter, nkey);
    if (d == NULL || d - key > PREFIX_MAX)
        return;
    pthread_mutex_lock(&ps->lock);
    struct prefix *p = find_locked(ps, key, (size_t)(d - key));
    if (p != NULL)
        p->counts[op]++;
    pthread_mutex_unlock(&ps->lock);
}

void prefix_stats_dump(struct prefix_stats *ps,
                       void (*emit)(const char *line, size_t len, void *arg),
                       void *arg)
{
    char line[PREFIX_MAX + 128];
    pthread_mutex_lock(&ps->lock);
    for (const struct prefix *p = ps->newest; p != NULL; p = p->newer) {
        int n = snprintf(line, sizeof(line),
                         "PREFIX %.*s get %llu hit %llu set %llu del %llu\r\n",
                         (int)p->len, p->name,
                         (unsigned long long)p->counts[PREFIX_GET],
                         (unsigned long long)p->counts[PREFIX_HIT],
                         (unsigned long long)p->counts[PREFIX_SET],
                         (unsigned long long)p->counts[PREFIX_DEL]);
        emit(line, (size_t)n, arg);
    }
    pthread_mutex_unlock(&ps->lock);
}
