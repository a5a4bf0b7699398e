/*
 * proto/token.c - memcached's command-line framing and space tokenizer.
 */
#include "proto/token.h"

#include <string.h>

bool token_eq(const char *p, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(p, word, n) == 0;
}

bool token_is(const struct token *tk, const char *word)
{
    return token_eq(tk->p, tk->n, word);
}
