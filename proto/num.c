/*
 * proto/num.c - memcached's safe_strto* number parsing on LP64; the rules
 * and their quirks are in proto/num.h.
 */
#include "proto/num.h"

#include <string.h>

struct number {
    bool neg;
    bool overflow; /* magnitude does not fit in 64 bits (ERANGE) */
    uint64_t mag;
};

static bool is_c_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* strtoX's grammar on one token; false when there are no digits or the
 * digits are followed by something other than whitespace. */
static bool scan_number(const struct token *tk, struct number *num)
{
    size_t i = 0;

    num->neg = false;
    num->overflow = false;
    num->mag = 0;
    while (i < tk->n && is_c_space(tk->p[i]))
        i++;
    if (i < tk->n && (tk->p[i] == '+' || tk->p[i] == '-'))
        num->neg = tk->p[i++] == '-';
    if (i == tk->n || !is_digit(tk->p[i]))
        return false;
    for (; i < tk->n && is_digit(tk->p[i]); i++) {
        unsigned d = (unsigned)(tk->p[i] - '0');
        if (num->mag > (UINT64_MAX - d) / 10)
            num->overflow = true;
        else
            num->mag = num->mag * 10 + d;
    }
    return i == tk->n || is_c_space(tk->p[i]);
}

bool num_u64(const struct token *tk, uint64_t *out)
{
    struct number num;
    uint64_t v;

    if (!scan_number(tk, &num) || num.overflow)
        return false;
    v = num.neg ? (uint64_t)0 - num.mag : num.mag;
    if (v > (uint64_t)INT64_MAX && memchr(tk->p, '-', tk->n) != NULL)
        return false;
    *out = v;
    return true;
}

bool num_u32(const struct token *tk, uint32_t *out)
{
    uint64_t v;

    if (!num_u64(tk, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

bool num_i64(const struct token *tk, int64_t *out)
{
    struct number num;

    if (!scan_number(tk, &num) || num.overflow)
        return false;
    if (num.neg) {
        if (num.mag > (uint64_t)INT64_MAX + 1)
            return false;
        *out = num.mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
                                                  : -(int64_t)num.mag;
    } else {
        if (num.mag > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)num.mag;
    }
    return true;
}

bool num_i32(const struct token *tk, int32_t *out)
{
    int64_t v;

    if (!num_i64(tk, &v))
        return false;
    *out = (int32_t)(uint32_t)(uint64_t)v;
    return true;
}
