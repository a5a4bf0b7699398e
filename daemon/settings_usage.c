/*
 * The `-h` text, generated from the settings table: one row per command
 * line option, then the -o keys, then the memcached options zeekdb
 * refuses or ignores. Each row's help is followed by what the table
 * knows: the choices, the default and the bounds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "daemon/settings.h"
#include "daemon/settings_table.h"

#include <stdio.h>
#include <string.h>

/* Help text starts at USAGE_COL and wraps before USAGE_WIDTH. */
enum { USAGE_COL = 28, USAGE_WIDTH = 79 };

/* Prints left in the first column and text word-wrapped after it. */
static void print_wrapped(FILE *out, const char *left, const char *text)
{
    int col = fprintf(out, "%s", left);
    const char *p = text;

    if (col > USAGE_COL - 1) {
        fputc('\n', out);
        col = 0;
    }
    while (*p != '\0') {
        size_t w = strcspn(p, " ");
        if (col >= USAGE_COL && col + 1 + (int)w > USAGE_WIDTH) {
            fputc('\n', out);
            col = 0;
        }
        if (col < USAGE_COL)
            col += fprintf(out, "%*s", USAGE_COL - col, "");
        else
            col += fprintf(out, " ");
        col += fprintf(out, "%.*s", (int)w, p);
        p += w;
        p += strspn(p, " ");
    }
    fputc('\n', out);
}

/* The help text plus what the table knows: choices, default, bounds. */
static void describe(const struct setting_desc *d, char *buf, size_t len)
{
    struct setting_bounds b;
    char extra[160] = "";
    size_t used;

    used = (size_t)snprintf(buf, len, "%s", d->help != NULL ? d->help : "");
    if (d->type == ST_CHOICE) {
        settings_choice_list(d->range, extra, sizeof(extra));
        used += (size_t)snprintf(buf + used, len - used, ": %s", extra);
        extra[0] = '\0';
    }
    if (setting_is_number(d->type) && d->range != NULL) {
        settings_bounds_of(d, false, &b);
        settings_bounds_text(&b, extra, sizeof(extra));
    }
    if (d->def == NULL || used >= len || d->type == ST_COUNT ||
        (d->type == ST_BOOL && setting_on_command_line(d)))
        return;
    snprintf(buf + used, len - used, " (default: %s%s%s)", d->def,
             extra[0] != '\0' ? "; " : "", extra);
}

static void usage_row(FILE *out, const struct setting_desc *d)
{
    char left[64], arg[32] = "", text[512];

    if (d->arg != NULL)
        snprintf(arg, sizeof(arg), "%s<%s>", d->long_name || d->okey ? "="
                 : " ", d->arg);
    if (!setting_on_command_line(d))
        snprintf(left, sizeof(left), "   - %s%s", d->okey, arg);
    else if (d->long_name != NULL && d->flag != 0)
        snprintf(left, sizeof(left), "-%c, --%s%s", d->flag, d->long_name,
                 arg);
    else if (d->long_name != NULL)
        snprintf(left, sizeof(left), "    --%s%s", d->long_name, arg);
    else
        snprintf(left, sizeof(left), "-%c%s", d->flag, arg);
    describe(d, text, sizeof(text));
    print_wrapped(out, left, text);
}

/* "-S (SASL), -Z (TLS)" or "-L, -D" (flags), "modern, hashexpand"
 * (-o keys): the rows of one type, for the end of the usage text. */
static void list_rows(enum setting_type type, bool flags, char *buf,
                      size_t len)
{
    bool why = type == ST_REFUSED;
    size_t used = 0;
    char name[48];

    buf[0] = '\0';
    for (size_t i = 0; i < SETTINGS_N_DESCS && used < len; i++) {
        const struct setting_desc *d = &settings_descs[i];
        if (d->type != type || setting_on_command_line(d) != flags ||
            (!flags && d->okey == NULL)) /* a `stats settings` line only */
            continue;
        if (flags)
            snprintf(name, sizeof(name), "-%c", d->flag);
        else
            snprintf(name, sizeof(name), "%s", d->okey);
        used += (size_t)snprintf(buf + used, len - used, "%s%s%s%s%s",
                                 used ? ", " : "", name, why ? " (" : "",
                                 why ? d->help : "", why ? ")" : "");
    }
}

void settings_usage(FILE *out)
{
    char list[1024];

    if (out == NULL)
        out = stdout;
    fprintf(out, "zeekdb %s, a memcached-compatible cache daemon\n"
            "usage: zeekdb [options]\n", ZEEKDB_VERSION);
    for (size_t i = 0; i < SETTINGS_N_DESCS; i++) {
        const struct setting_desc *d = &settings_descs[i];
        if (setting_on_command_line(d) && d->type != ST_IGNORED &&
            d->type != ST_REFUSED)
            usage_row(out, d);
    }
    fprintf(out, "extended options (-o key=value,...; on/off options "
            "also take key and no_key):\n");
    for (size_t i = 0; i < SETTINGS_N_DESCS; i++) {
        const struct setting_desc *d = &settings_descs[i];
        if (!setting_on_command_line(d) && d->okey != NULL &&
            d->type != ST_IGNORED && d->type != ST_REFUSED)
            usage_row(out, d);
    }
    list_rows(ST_REFUSED, true, list, sizeof(list));
    print_wrapped(out, "refused, not supported:", list);
    list_rows(ST_REFUSED, false, list, sizeof(list));
    print_wrapped(out, "-o keys refused, not supported:", list);
    list_rows(ST_IGNORED, true, list, sizeof(list));
    print_wrapped(out, "memcached flags accepted and ignored:", list);
    list_rows(ST_IGNORED, false, list, sizeof(list));
    print_wrapped(out, "memcached -o keys accepted and ignored:", list);
}
