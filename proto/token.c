/*
 * proto/token.c - memcached's command-line framing and space tokenizer.
 */
#include "proto/token.h"

#include <string.h>

bool token_is(const struct token *tk, const char *word)
{
    size_t n = strlen(word);

    return tk->n == n && memcmp(tk->p, word, n) == 0;
}
