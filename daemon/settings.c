/*
 * Settings: defaults, command line parsing, validation and `stats
 * settings`, all driven by SETTINGS_TABLE in settings.h. The `-h` text
 * is in settings_usage.c; both read the descriptors in settings_table.h.
 *
 * Every value, defaults included, goes through set_value(), so a default
 * is written in the table exactly as a user would type it. Bounds are
 * text too, parsed with the setting's own parser, which lets error
 * messages quote them as written ("min 1k, max 1g").
 *
 * No mutable file-scope state: the only file-scope object is the const
 * descriptor array, settings_descs. getopt's own globals (optind,
 * opterr) are reset on every settings_parse() call.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include "daemon/settings.h"
#include "daemon/settings_table.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const struct setting_desc settings_descs[] = {
#define X(field, type, flag, lname, okey, stat, def, range, arg, help)     \
    { #field, ST_##type, flag, lname, okey, stat, def, range, arg, help,   \
      SETTINGS_OFFSET_##type(field) },
    SETTINGS_TABLE(X)
#undef X
};

/* getopt_long returns LONG_BASE + row index for long options, so rows
 * without a short letter work the same way. */
enum { LONG_BASE = 256 };

struct parse_ctx {
    struct settings *s;
    char *err;
    size_t errlen;
    bool check;              /* false while applying trusted defaults */
    bool seen[SETTINGS_N_DESCS]; /* given by the user during this parse */
};

union num {
    long long i;
    uint64_t u;
    double d;
};

/* One alternative of a CHOICE range: "val", "val=display", "!val:reason". */
struct choice {
    bool refused;
    const char *val;
    size_t vlen;
    const char *extra;       /* display or reason, NULL if none */
    size_t elen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parse_ctx *c, const char *fmt, ...)
{
    if (c->err != NULL && c->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The member of s a row describes (rows without one: never called). */
static void *member(const struct settings *s, const struct setting_desc *d)
{
    return (char *)s + d->offset;
}

static bool is_string(enum setting_type t)
{
    return t == ST_STRING || t == ST_LIST || t == ST_CHOICE;
}

/* ---- value parsers ---------------------------------------------------- */

static int parse_llong(const char *t, int base, long long *out)
{
    char *end;

    if (*t == '\0' || isspace((unsigned char)*t))
        return -1;
    errno = 0;
    long long v = strtoll(t, &end, base);
    if (*end != '\0')
        return -1;
    if (errno != 0)
        return -2;
    *out = v;
    return 0;
}

/* A size is digits and an optional k/m/g/t suffix; unit scales a plain
 * number (1 for bytes, 1 MB for memcached's -m). Parsers return -1 for
 * bad syntax and -2 for a value too large for the type. */
static int parse_size(const char *t, uint64_t unit, uint64_t *out)
{
    static const char suffixes[] = "kmgt";
    uint64_t mul = unit;
    char *end;

    if (!isdigit((unsigned char)*t))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(t, &end, 10);
    bool overflow = errno != 0;
    if (*end != '\0') {
        const char *p = strchr(suffixes, tolower((unsigned char)*end));
        if (p == NULL || end[1] != '\0')
            return -1;
        mul = (uint64_t)1 << (10 * (p - suffixes + 1));
    }
    if (overflow || v > UINT64_MAX / mul)
        return -2;
    *out = (uint64_t)v * mul;
    return 0;
}

static int parse_double(const char *t, double *out)
{
    char *end;

    if (*t == '\0' || isspace((unsigned char)*t))
        return -1;
    errno = 0;
    double v = strtod(t, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Words at even indexes mean false, at odd ones true. */
static int parse_bool(const char *t, bool *out)
{
    static const char *const words[] = {
        "no", "yes", "off", "on", "false", "true", "0", "1",
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(t, words[i]) == 0) {
            *out = (i & 1) != 0;
            return 0;
        }
    }
    return -1;
}

static int num_parse(enum setting_type t, const char *text, union num *out)
{
    switch (t) {
    case ST_INT:
    case ST_COUNT:
        return parse_llong(text, 10, &out->i);
    case ST_OCTAL:
        return parse_llong(text, 8, &out->i);
    case ST_SIZE:
        return parse_size(text, 1, &out->u);
    case ST_MB:
        return parse_size(text, (uint64_t)1 << 20, &out->u);
    case ST_DOUBLE:
        return parse_double(text, &out->d);
    default:
        return -1;
    }
}

static int num_cmp(enum setting_type t, const union num *a, const union num *b)
{
    if (setting_is_intlike(t))
        return (a->i > b->i) - (a->i < b->i);
    if (t == ST_DOUBLE)
        return (a->d > b->d) - (a->d < b->d);
    return (a->u > b->u) - (a->u < b->u);
}

/* ---- range column ----------------------------------------------------- */

/* Splits the range column. With implicit set, an int member without an
 * explicit bound gets the limits of int, which it cannot exceed anyway. */
void settings_bounds_of(const struct setting_desc *d, bool implicit,
                        struct setting_bounds *b)
{
    const char *r = d->range != NULL ? d->range : "";
    const char *dots = strstr(r, "..");

    memset(b, 0, sizeof(*b));
    if (dots != NULL) {
        if (*r == '>') {
            b->min_excl = true;
            r++;
        }
        snprintf(b->min, sizeof(b->min), "%.*s", (int)(dots - r), r);
        snprintf(b->max, sizeof(b->max), "%s", dots + 2);
    }
    if (!implicit || !setting_is_intlike(d->type))
        return;
    if (b->min[0] == '\0' && d->type == ST_OCTAL)
        snprintf(b->min, sizeof(b->min), "0");
    else if (b->min[0] == '\0')
        snprintf(b->min, sizeof(b->min), "%d", INT_MIN);
    if (b->max[0] == '\0')
        snprintf(b->max, sizeof(b->max), d->type == ST_OCTAL ? "0%o" : "%d",
                 INT_MAX);
}

void settings_bounds_text(const struct setting_bounds *b, char *buf,
                          size_t len)
{
    const char *sep = "";

    buf[0] = '\0';
    if (b->min[0] != '\0') {
        snprintf(buf, len, "%s %s", b->min_excl ? "greater than" : "min",
                 b->min);
        sep = ", ";
    }
    if (b->max[0] != '\0') {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%smax %s", sep, b->max);
    }
}

static int check_range(struct parse_ctx *c, const struct setting_desc *d,
                       const char *label, const union num *v)
{
    struct setting_bounds b;
    union num lim;
    bool bad = false;
    char text[96];

    settings_bounds_of(d, true, &b);
    if (b.min[0] != '\0' && num_parse(d->type, b.min, &lim) == 0) {
        int cmp = num_cmp(d->type, v, &lim);
        bad = b.min_excl ? cmp <= 0 : cmp < 0;
    }
    if (!bad && b.max[0] != '\0' && num_parse(d->type, b.max, &lim) == 0)
        bad = num_cmp(d->type, v, &lim) > 0;
    if (!bad)
        return 0;
    settings_bounds_text(&b, text, sizeof(text));
    return fail(c, "%s: out of range (%s)", label, text);
}

/* Parses the alternative at p into ch; returns the next one or NULL. */
static const char *choice_next(const char *p, struct choice *ch)
{
    if (p == NULL || *p == '\0')
        return NULL;
    memset(ch, 0, sizeof(*ch));
    ch->refused = *p == '!';
    ch->val = p + ch->refused;
    ch->vlen = strcspn(ch->val, ch->refused ? ":|" : "=|");
    p = ch->val + ch->vlen;
    if (*p == ':' || *p == '=') {
        ch->extra = p + 1;
        /* a refusal reason runs to the end of the range */
        ch->elen = ch->refused ? strlen(ch->extra) : strcspn(ch->extra, "|");
        p = ch->extra + ch->elen;
    }
    return *p == '|' ? p + 1 : p;
}

static bool choice_is(const struct choice *ch, const char *val)
{
    return strlen(val) == ch->vlen && strncmp(ch->val, val, ch->vlen) == 0;
}

/* "a, b, c": the accepted alternatives, for messages and usage. */
void settings_choice_list(const char *range, char *buf, size_t len)
{
    struct choice ch;
    const char *p = range;
    size_t used = 0;

    buf[0] = '\0';
    while ((p = choice_next(p, &ch)) != NULL && used < len) {
        if (ch.refused)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "%s%.*s",
                                 used ? ", " : "", (int)ch.vlen, ch.val);
    }
}

/* ---- storing values --------------------------------------------------- */

static int set_bool(struct parse_ctx *c, const struct setting_desc *d,
                    const char *label, bool *p, const char *val)
{
    bool v;

    if (val == NULL) {            /* a flag: flip the default */
        if (parse_bool(d->def, &v) != 0)
            return fail(c, "%s: bad default", d->field);
        *p = !v;
        return 0;
    }
    if (parse_bool(val, &v) != 0)
        return fail(c, "%s: not a boolean (use yes/no, on/off, true/false "
                    "or 1/0)", label);
    *p = v;
    return 0;
}

static int set_number(struct parse_ctx *c, const struct setting_desc *d,
                      const char *label, void *p, const char *val)
{
    union num v;
    int rc = num_parse(d->type, val, &v);

    if (rc == -2)
        return fail(c, "%s: out of range (too large)", label);
    if (rc != 0) {
        if (d->type == ST_SIZE || d->type == ST_MB)
            return fail(c, "%s: not a size (digits with an optional k, m, "
                        "g or t suffix)", label);
        return fail(c, "%s: not %s", label,
                    d->type == ST_OCTAL ? "an octal number" :
                    d->type == ST_DOUBLE ? "a number" : "an integer");
    }
    if (c->check && check_range(c, d, label, &v) != 0)
        return -1;
    if (setting_is_intlike(d->type))
        *(int *)p = (int)v.i;
    else if (d->type == ST_DOUBLE)
        *(double *)p = v.d;
    else
        *(uint64_t *)p = v.u;
    return 0;
}

static int check_choice(struct parse_ctx *c, const struct setting_desc *d,
                        const char *label, const char *val)
{
    struct choice ch;
    const char *p = d->range;
    char list[128];

    while ((p = choice_next(p, &ch)) != NULL) {
        if (!choice_is(&ch, val))
            continue;
        if (!ch.refused)
            return 0;
        return fail(c, "%s: not supported: %.*s", label, (int)ch.elen,
                    ch.extra != NULL ? ch.extra : "");
    }
    settings_choice_list(d->range, list, sizeof(list));
    return fail(c, "%s: unknown value, use one of: %s", label, list);
}

/* Validates val for a string row; for LIST every comma-separated item
 * must be non-empty. */
static int check_string(struct parse_ctx *c, const struct setting_desc *d,
                        const char *label, const char *val)
{
    if (*val == '\0')
        return fail(c, "%s: empty value", label);
    if (d->type == ST_CHOICE)
        return check_choice(c, d, label, val);
    if (d->type == ST_LIST && (val[0] == ',' || strstr(val, ",,") ||
                               val[strlen(val) - 1] == ','))
        return fail(c, "%s: empty item in list", label);
    return 0;
}

static int set_string(struct parse_ctx *c, const struct setting_desc *d,
                      const char *label, char **p, const char *val)
{
    char *copy;

    if (check_string(c, d, label, val) != 0)
        return -1;
    if (d->type == ST_LIST && c->seen[d - settings_descs] && *p != NULL) {
        size_t len = strlen(*p) + 1 + strlen(val) + 1;
        copy = malloc(len);
        if (copy != NULL)
            snprintf(copy, len, "%s,%s", *p, val);
    } else {
        copy = strdup(val);
    }
    if (copy == NULL)
        return fail(c, "%s: out of memory", label);
    free(*p);
    *p = copy;
    return 0;
}

/* Applies one occurrence of a row. name is how the user spelled it
 * ("-p", "--port", "-o hashpower"), sep what joins it to val in
 * messages, val the argument or NULL for a bare flag. */
static int set_value(struct parse_ctx *c, const struct setting_desc *d,
                     const char *name, char sep, const char *val)
{
    char label[160];
    void *p = member(c->s, d);
    int rc = 0;

    if (val != NULL)
        snprintf(label, sizeof(label), *val ? "%s%c%s" : "%s%c''%s", name,
                 sep, val);
    else
        snprintf(label, sizeof(label), "%s", name);

    if (d->type == ST_BOOL)
        rc = set_bool(c, d, label, p, val);
    else if (d->type == ST_COUNT && val == NULL)
        (*(int *)p)++;
    else if (setting_is_number(d->type))
        rc = set_number(c, d, label, p, val);
    else if (is_string(d->type))
        rc = set_string(c, d, label, p, val);
    else if (d->type == ST_REFUSED)
        rc = fail(c, "%s: not supported: zeekdb has no %s", name, d->help);
    if (rc == 0 && c->check)
        c->seen[d - settings_descs] = true;
    return rc;
}

/* ---- -o key[=value],... ----------------------------------------------- */

static const struct setting_desc *find_okey(const char *key)
{
    for (size_t i = 0; i < SETTINGS_N_DESCS; i++) {
        const struct setting_desc *d = &settings_descs[i];
        if (d->okey != NULL && strcmp(d->okey, key) == 0)
            return d;
    }
    return NULL;
}

static int parse_ext_item(struct parse_ctx *c, char *item);

/* memcached's no_modern: its 1.4 defaults, of which zeekdb has these.
 * Later -o items override them, as in memcached. */
static int parse_no_modern(struct parse_ctx *c)
{
    char items[][24] = {"slab_automove=0", "lru_crawler=no",
                        "lru_segmented=no"};
    int rc = 0;
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]) && rc == 0; i++)
        rc = parse_ext_item(c, items[i]);
    return rc;
}

static int parse_ext_item(struct parse_ctx *c, char *item)
{
    char name[96];
    char *val = strchr(item, '=');
    const struct setting_desc *d;
    bool negated = false;

    if (val != NULL)
        *val++ = '\0';
    if (val == NULL && strcmp(item, "no_modern") == 0)
        return parse_no_modern(c);
    snprintf(name, sizeof(name), "-o %s", item);
    d = find_okey(item);
    if (d == NULL && strncmp(item, "no_", 3) == 0) {
        d = find_okey(item + 3);
        negated = d != NULL;
    }
    if (d == NULL)
        return fail(c, "unknown -o option '%s'", item);
    /* no_key: off for an on/off option, 0 for a level that may be 0
     * (memcached's no_slab_automove) */
    bool level0 = d->type == ST_INT && d->range != NULL && d->range[0] == '0';
    if (negated && d->type != ST_BOOL && d->type != ST_IGNORED && !level0)
        return fail(c, "%s: only on/off options take a no_ prefix", name);
    if (negated && val != NULL)
        return fail(c, "%s: takes no value", name);
    if (d->type == ST_IGNORED)
        return 0;
    if (negated && level0)
        return set_value(c, d, name, '=', "0");
    if (negated || (val == NULL && d->type == ST_BOOL))
        return set_value(c, d, name, '=', negated ? "no" : "yes");
    /* memcached reads a bare slab_automove as level 1 */
    if (val == NULL && strcmp(d->okey, "slab_automove") == 0)
        return set_value(c, d, name, '=', "1");
    if (val == NULL)
        return fail(c, "%s: missing value (%s=<%s>)", name, item,
                    d->arg != NULL ? d->arg : "value");
    return set_value(c, d, name, '=', val);
}

static int parse_extended(struct parse_ctx *c, const char *list)
{
    char *copy = strdup(list);
    char *save = NULL;
    int rc = 0;

    if (copy == NULL)
        return fail(c, "-o: out of memory");
    for (char *item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
         item = strtok_r(NULL, ",", &save))
        rc = parse_ext_item(c, item);
    free(copy);
    return rc;
}

/* ---- getopt ----------------------------------------------------------- */

/* optstring holds "+:" then up to two bytes per row; longopts up to one
 * entry per row plus the terminator. */
static void build_getopt(char *optstring, struct option *longopts)
{
    size_t n = 0, k = 0;

    optstring[n++] = '+';        /* stop at the first non-option */
    optstring[n++] = ':';        /* report a missing argument as ':' */
    for (size_t i = 0; i < SETTINGS_N_DESCS; i++) {
        const struct setting_desc *d = &settings_descs[i];
        if (d->flag != 0) {
            optstring[n++] = d->flag;
            if (d->arg != NULL)
                optstring[n++] = ':';
        }
        if (d->long_name != NULL) {
            longopts[k++] = (struct option){
                d->long_name, d->arg != NULL ? required_argument : no_argument,
                NULL, LONG_BASE + (int)i };
        }
    }
    optstring[n] = '\0';
    longopts[k] = (struct option){ NULL, 0, NULL, 0 };
}

static const struct setting_desc *find_flag(int ch)
{
    for (size_t i = 0; i < SETTINGS_N_DESCS; i++)
        if (settings_descs[i].flag != 0 && settings_descs[i].flag == ch)
            return &settings_descs[i];
    return NULL;
}

static int bad_option(struct parse_ctx *c, int ch, int opt, const char *arg)
{
    if (ch == ':' && opt >= LONG_BASE)
        return fail(c, "--%s: missing argument",
                    settings_descs[opt - LONG_BASE].long_name);
    if (ch == ':')
        return fail(c, "-%c: missing argument", opt);
    if (opt >= LONG_BASE)
        return fail(c, "--%s: takes no argument",
                    settings_descs[opt - LONG_BASE].long_name);
    if (opt != 0)
        return fail(c, "unknown option '-%c' (see -h)", opt);
    return fail(c, "unknown option '%s' (see -h)", arg);
}

/* Handles one option returned by getopt_long. */
static int apply_option(struct parse_ctx *c, int ch, FILE *out,
                        bool *exit_now)
{
    const struct setting_desc *d;
    char name[64];
    char sep = '=';

    if (ch >= LONG_BASE) {
        d = &settings_descs[ch - LONG_BASE];
        snprintf(name, sizeof(name), "--%s", d->long_name);
    } else {
        d = find_flag(ch);
        if (d == NULL)
            return fail(c, "unknown option '-%c' (see -h)", ch);
        snprintf(name, sizeof(name), "-%c", ch);
        sep = ' ';
    }
    switch (d->type) {
    case ST_HELP:
        settings_usage(out);
        *exit_now = true;
        return 0;
    case ST_VERSION:
        fprintf(out, "zeekdb %s\n", ZEEKDB_VERSION);
        *exit_now = true;
        return 0;
    case ST_EXT:
        return parse_extended(c, optarg);
    default:
        return set_value(c, d, name, sep, d->arg != NULL ? optarg : NULL);
    }
}

/* Authentication tied to one protocol: without -B the protocol becomes
 * `want`, as memcached makes it; a -B that allows another is refused. */
static int require_protocol(struct parse_ctx *c, const char *want,
                            const char *refusal)
{
    const struct setting_desc *b = find_flag('B');

    if (!c->seen[b - settings_descs])
        return set_value(c, b, "-B", ' ', want);
    if (strcmp(c->s->binding_protocol, want) != 0)
        return fail(c, "%s", refusal);
    return 0;
}

/* -Y: the token is a text protocol request, so the binary protocol would
 * be a way around it, and UDP has no connection to authenticate. Without
 * -B the protocol becomes ascii, as memcached makes it. */
static int validate_auth(struct parse_ctx *c)
{
    const struct settings *s = c->s;

    if (s->auth_file == NULL)
        return 0;
    if (s->udpport != 0)
        return fail(c, "-Y: UDP cannot be used with text protocol "
                    "authentication (-U 0 turns it off)");
    return require_protocol(c, "ascii", "-Y: the binary protocol cannot be "
                            "allowed with text protocol authentication "
                            "(-B ascii)");
}

/* memcached's -l notls:ADDR (a plain listener) only makes sense with -Z. */
static bool listen_has_notls(const char *list)
{
    for (const char *p = list; p != NULL; p = strchr(p, ',')) {
        p += *p == ',';
        if (strncmp(p, "notls:", 6) == 0)
            return true;
    }
    return false;
}

/* -S: SASL is a binary protocol exchange, so the protocol becomes binary
 * unless -B says otherwise, and then only binary is allowed, as memcached
 * has it; -Y's token is a text request, so the two exclude each other. */
static int validate_sasl(struct parse_ctx *c)
{
    if (!c->s->sasl)
        return 0;
    if (c->s->auth_file != NULL)
        return fail(c, "-S and -Y cannot be used together: SASL needs the "
                    "binary protocol, -Y the text protocol");
    return require_protocol(c, "binary", "-S: the text protocol cannot be "
                            "allowed with SASL (-B binary)");
}

/* memcached's largest chunk: half its 1 MB slab page. */
#define SLAB_SIZE_MAX (512 * 1024)

int settings_slab_sizes(const struct settings *s,
                        uint32_t out[SETTINGS_SLAB_SIZES_MAX], char *err,
                        size_t errlen)
{
    const char *p = s->slab_sizes;
    unsigned long long last = 0;
    int n = 0;
    if (p == NULL)
        return 0;
    while (*p != '\0') {
        size_t len = strcspn(p, "-");
        char tok[32];
        long long v;
        if (len == 0) { /* "a--b": empty steps are skipped, as memcached */
            p++;
            continue;
        }
        snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
        p += len;
        if (len >= sizeof(tok) || parse_llong(tok, 10, &v) != 0 ||
            v < s->chunk_size || v > SLAB_SIZE_MAX ||
            (uint64_t)v >= s->item_size_max) {
            snprintf(err, errlen, "slab size %s is out of valid range", tok);
            return -1;
        }
        if ((unsigned long long)v <= last) {
            snprintf(err, errlen, "slab size %lld cannot be lower than or "
                     "equal to a previous class size", v);
            return -1;
        }
        if ((unsigned long long)v <= last + 8) {
            snprintf(err, errlen, "slab size %lld must be at least 8 bytes "
                     "larger than previous class", v);
            return -1;
        }
        if (n == SETTINGS_SLAB_SIZES_MAX) {
            snprintf(err, errlen, "too many slab classes specified");
            return -1;
        }
        out[n++] = (uint32_t)v;
        last = (unsigned long long)v;
    }
    if (n == 0) {
        snprintf(err, errlen, "slab_sizes: no size given");
        return -1;
    }
    return n;
}

/* Rules that involve more than one setting. */
static bool given(const struct parse_ctx *c, int flag)
{
    const struct setting_desc *d = find_flag(flag);
    return d != NULL && c->seen[d - settings_descs];
}

/* memcached 1.6: a UDP port given without -p is the TCP port too (-U -1
 * with it: each takes a free port of its own). */
static void udp_port_implies_tcp(struct parse_ctx *c)
{
    if (given(c, 'U') && !given(c, 'p') && c->s->udpport != 0)
        c->s->port = c->s->udpport;
}

static int validate(struct parse_ctx *c)
{
    const struct settings *s = c->s;
    uint32_t sizes[SETTINGS_SLAB_SIZES_MAX];
    char why[128];

    if (validate_sasl(c) != 0 || validate_auth(c) != 0)
        return -1;
    if (!s->ssl_enabled && listen_has_notls(s->listen))
        return fail(c, "-l notls:ADDR: 'notls' is valid only with -Z (TLS)");
    if (s->ssl_enabled && s->ssl_chain_cert == NULL)
        return fail(c, "-Z needs a certificate: -o ssl_chain_cert=FILE "
                    "(and ssl_key=FILE unless the key is in that file)");
    if (s->item_size_max > s->maxbytes / 2)
        return fail(c, "max item size (-I, %" PRIu64 " bytes) cannot exceed "
                    "half of the memory limit (-m, %" PRIu64 " bytes)",
                    s->item_size_max, s->maxbytes);
    if (settings_slab_sizes(s, sizes, why, sizeof(why)) < 0)
        return fail(c, "%s", why);
    if (s->hot_lru_pct + s->warm_lru_pct > 80)
        return fail(c, "hot_lru_pct + warm_lru_pct cannot be more than 80%% "
                    "combined");
    return 0;
}

int settings_parse(struct settings *s, int argc, char **argv, FILE *out,
                   bool *exit_now, char *err, size_t errlen)
{
    struct parse_ctx c = { .s = s, .err = err, .errlen = errlen,
                           .check = true };
    char optstring[2 * SETTINGS_N_DESCS + 3];
    struct option longopts[SETTINGS_N_DESCS + 1];
    bool exit_dummy = false;
    int ch;

    if (exit_now == NULL)
        exit_now = &exit_dummy;
    *exit_now = false;
    if (out == NULL)
        out = stdout;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    build_getopt(optstring, longopts);
    optind = 0;                   /* glibc: restart from scratch */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        int rc = (ch == '?' || ch == ':')
            ? bad_option(&c, ch, optopt, argv[optind - 1])
            : apply_option(&c, ch, out, exit_now);
        if (rc != 0)
            return -1;
        if (*exit_now)
            return 0;
    }
    if (optind < argc)
        return fail(&c, "unexpected argument '%s'", argv[optind]);
    udp_port_implies_tcp(&c);
    return validate(&c);
}

void settings_init(struct settings *s)
{
    char err[160];
    struct parse_ctx c = { .s = s, .err = err, .errlen = sizeof(err),
                           .check = false };

    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < SETTINGS_N_DESCS; i++) {
        const struct setting_desc *d = &settings_descs[i];
        if (d->def != NULL && d->type != ST_IGNORED)
            (void)set_value(&c, d, d->field, '=', d->def);
    }
}

void settings_deinit(struct settings *s)
{
    for (size_t i = 0; i < SETTINGS_N_DESCS; i++) {
        if (is_string(settings_descs[i].type)) {
            char **p = member(s, &settings_descs[i]);
            free(*p);
            *p = NULL;
        }
    }
}

/* ---- stats settings --------------------------------------------------- */

static const char *bool_word(const struct setting_desc *d, bool v,
                             char *buf, size_t len)
{
    const char *words = d->range != NULL ? d->range : "yes|no";
    size_t first = strcspn(words, "|");

    if (v)
        snprintf(buf, len, "%.*s", (int)first, words);
    else
        snprintf(buf, len, "%s", words[first] ? words + first + 1 : "");
    return buf;
}

/* What `stats settings` shows for a CHOICE value: its =display if any. */
static const char *choice_display(const struct setting_desc *d,
                                  const char *val, char *buf, size_t len)
{
    struct choice ch;
    const char *p = d->range;

    if (val == NULL)
        return "NULL";
    while ((p = choice_next(p, &ch)) != NULL) {
        if (!ch.refused && ch.extra != NULL && choice_is(&ch, val)) {
            snprintf(buf, len, "%.*s", (int)ch.elen, ch.extra);
            return buf;
        }
    }
    return val;
}

static const char *stat_text(const struct settings *s,
                             const struct setting_desc *d,
                             char *buf, size_t len)
{
    if (d->type == ST_IGNORED) /* no member: the fixed value (settings.h) */
        return d->def != NULL ? d->def : "NULL";

    const void *p = member(s, d);
    if (d->type == ST_BOOL)
        return bool_word(d, *(const bool *)p, buf, len);
    if (d->type == ST_CHOICE)
        return choice_display(d, *(char *const *)p, buf, len);
    if (is_string(d->type))
        return *(char *const *)p != NULL ? *(char *const *)p : "NULL";
    if (d->type == ST_DOUBLE)
        snprintf(buf, len, "%.2f", *(const double *)p);
    else if (d->type == ST_OCTAL)
        snprintf(buf, len, "%o", (unsigned)*(const int *)p);
    else if (setting_is_intlike(d->type))
        snprintf(buf, len, "%d", *(const int *)p);
    else
        snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p);
    return buf;
}

const char *settings_okey_text(const struct settings *s, const char *okey,
                               char *buf, size_t len)
{
    const struct setting_desc *d = find_okey(okey);
    return d != NULL ? stat_text(s, d, buf, len) : NULL;
}

void settings_foreach_stat(const struct settings *s,
                           void (*cb)(const char *name, const char *value,
                                      void *arg),
                           void *arg)
{
    char buf[64];

    for (size_t i = 0; i < SETTINGS_N_DESCS; i++) {
        const struct setting_desc *d = &settings_descs[i];
        if (d->stat != NULL)
            cb(d->stat, stat_text(s, d, buf, sizeof(buf)), arg);
    }
}
