/*
 * Internal to daemon/settings*.c: the row descriptors built from
 * SETTINGS_TABLE and the few helpers that both the parser (settings.c)
 * and the `-h` text (settings_usage.c) read them with. Not for other
 * modules; settings.h is the public contract.
 */
#ifndef ZEEKDB_DAEMON_SETTINGS_TABLE_H
#define ZEEKDB_DAEMON_SETTINGS_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/settings.h"

enum setting_type {
    ST_BOOL, ST_COUNT, ST_INT, ST_OCTAL, ST_SIZE, ST_MB, ST_DOUBLE,
    ST_STRING, ST_LIST, ST_CHOICE, ST_HELP, ST_VERSION, ST_EXT,
    ST_IGNORED, ST_REFUSED,
};

/* One row of SETTINGS_TABLE; columns as described in settings.h. */
struct setting_desc {
    const char *field;
    enum setting_type type;
    char flag;
    const char *long_name;
    const char *okey;
    const char *stat;
    const char *def;
    const char *range;
    const char *arg;
    const char *help;
    size_t offset;
};

#define SETTINGS_COUNT_ROW(...) + 1
enum { SETTINGS_N_DESCS = 0 SETTINGS_TABLE(SETTINGS_COUNT_ROW) };
#undef SETTINGS_COUNT_ROW

/* Defined in settings.c, in table order. */
extern const struct setting_desc settings_descs[SETTINGS_N_DESCS];

/* The range column of a numeric row, split into its two sides. */
struct setting_bounds {
    char min[32];            /* empty: no lower bound */
    char max[32];            /* empty: no upper bound */
    bool min_excl;
};

static inline bool setting_is_intlike(enum setting_type t)
{
    return t == ST_INT || t == ST_OCTAL || t == ST_COUNT;
}

static inline bool setting_is_number(enum setting_type t)
{
    return setting_is_intlike(t) || t == ST_SIZE || t == ST_MB ||
           t == ST_DOUBLE;
}

/* Whether a row has a short or long option (else it is -o only). */
static inline bool setting_on_command_line(const struct setting_desc *d)
{
    return d->flag != 0 || d->long_name != NULL;
}

/* Splits d's range column into b. With implicit set, an int member
 * without an explicit bound gets the limits of int. */
void settings_bounds_of(const struct setting_desc *d, bool implicit,
                        struct setting_bounds *b);

/* "min 1k, max 1g", "greater than 1.0", or "" without bounds. */
void settings_bounds_text(const struct setting_bounds *b, char *buf,
                          size_t len);

/* "a, b, c": the accepted alternatives of a CHOICE range. */
void settings_choice_list(const char *range, char *buf, size_t len);

#endif /* ZEEKDB_DAEMON_SETTINGS_TABLE_H */
