/*
 * daemon/stats_order.c - a stats reply in memcached's order.
 */
#include "daemon/stats_order.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* More than any reply has: the general one is about 110 lines. */
#define LINES_MAX 192

struct line {
    char name[48];
    char value[128];
    bool sent;
};

struct stats_lines {
    struct line l[LINES_MAX];
    size_t n;
};

struct stats_lines *stats_lines_begin(void)
{
    static _Thread_local struct stats_lines ls; /* ~34 KB: not the stack */
    ls.n = 0;
    return &ls;
}

static struct line *find(struct stats_lines *ls, const char *name)
{
    for (size_t i = 0; i < ls->n; i++)
        if (strcmp(ls->l[i].name, name) == 0)
            return &ls->l[i];
    return NULL;
}

void stats_lines_put(const char *name, const char *value, void *arg)
{
    struct stats_lines *ls = arg;
    struct line *l = find(ls, name);
    if (l == NULL) {
        if (ls->n == LINES_MAX)
            return;
        l = &ls->l[ls->n++];
        snprintf(l->name, sizeof(l->name), "%s", name);
        l->sent = false;
    }
    snprintf(l->value, sizeof(l->value), "%s", value);
}

const char *stats_lines_value(struct stats_lines *ls, const char *name)
{
    struct line *l = find(ls, name);
    return l != NULL ? l->value : NULL;
}

void stats_lines_send(struct stats_lines *ls, const struct stats_order *order,
                      size_t norder, stats_emit_fn emit, void *arg)
{
    for (size_t i = 0; i < norder; i++) {
        struct line *l = find(ls, order[i].name);
        if (l != NULL) {
            emit(l->name, l->value, arg);
            l->sent = true;
        } else if (order[i].absent != NULL) {
            emit(order[i].name, order[i].absent, arg);
        }
    }
    for (size_t i = 0; i < ls->n; i++)
        if (!ls->l[i].sent)
            emit(ls->l[i].name, ls->l[i].value, arg);
}
