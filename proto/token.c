/*
 * proto/token.c - memcached's command-line framing and space tokenizer.
 */
#include "proto/token.h"

#include <string.h>

static size_t split(const char *s, const char *end, struct token *t,
                    size_t cap)
{
    size_t ntok = 0;

    while (s < end && ntok < cap) {
        const char *e = s;
        if (*s == ' ') {
            s++;
            continue;
        }
        while (e < end && *e != ' ')
            e++;
        t[ntok].p = s;
        t[ntok].n = (size_t)(e - s);
        ntok++;
        s = e;
    }
    return ntok;
}

size_t token_line(const char *buf, size_t nl, struct token *t, size_t cap,
                  const char **end)
{
    const char *nul;
    size_t n = nl;

    if (n > 1 && buf[n - 1] == '\r')
        n--;
    nul = memchr(buf, '\0', n);
    if (nul != NULL)
        n = (size_t)(nul - buf);
    *end = buf + n;
    return split(buf, buf + n, t, cap);
}

bool token_is(const struct token *tk, const char *word)
{
    size_t n = strlen(word);

    return tk->n == n && memcmp(tk->p, word, n) == 0;
}
