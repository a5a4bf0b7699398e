/*
 * tests/fuzz/fuzz_num.c - the command-line tokenizer (proto/token.h) and
 * memcached's number parsing (proto/num.c).
 *
 * The input up to its first '\n' is framed and split by token_line(),
 * with a token cap chosen by the first byte. The tokens must tile the
 * line as documented: in order, inside it, non-empty, free of spaces,
 * with only spaces between them, and all of the line covered unless the
 * cap was reached.
 *
 * Each token is then a number for all four num_* functions, compared
 * with a reference written the way memcached's safe_strto* helpers are:
 * libc's strtoull/strtoll on the NUL-terminated token, ERANGE and "no
 * digits" refused, the digits followed by the token's end or a space
 * character, and the LP64 truncations that proto/num.h describes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "proto/num.h"
#include "proto/token.h"
#include "tests/fuzz/fuzz.h"

#define TOKENS_CAP 24

/* A token as the C string memcached hands to strtoX. Tokens hold no NUL:
 * token_line() cuts the line at the first one. */
struct cstr {
    char s[4096];
    bool fits;
};

static void cstr_of(const struct token *tk, struct cstr *c)
{
    c->fits = tk->n < sizeof(c->s);
    if (c->fits) {
        memcpy(c->s, tk->p, tk->n);
        c->s[tk->n] = '\0';
    }
}

/* The end strtoX stopped at is acceptable: the string's end or a space
 * character, and at least one digit was read. */
static bool clean_end(const char *s, const char *end)
{
    return end != s && (*end == '\0' || isspace((unsigned char)*end));
}

static bool ref_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno == ERANGE || !clean_end(s, end))
        return false;
    /* memcached 1.6.18 looks for a '-' anywhere in the token, also past
     * the digits ("18446744073709551615\t-" is refused on the wire). */
    if ((long long)v < 0 && strchr(s, '-') != NULL)
        return false;
    *out = v;
    return true;
}

static bool ref_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == ERANGE || !clean_end(s, end))
        return false;
    *out = v;
    return true;
}

static void check_number(const struct token *tk)
{
    struct cstr c;
    uint64_t u64 = 7, ru64 = 0;
    uint32_t u32 = 7;
    int64_t i64 = 7, ri64 = 0;
    int32_t i32 = 7;
    bool ok;

    cstr_of(tk, &c);
    if (!c.fits)
        return;
    ok = ref_u64(c.s, &ru64);
    FUZZ_CHECK(num_u64(tk, &u64) == ok);
    FUZZ_CHECK(ok ? u64 == ru64 : u64 == 7);
    FUZZ_CHECK(num_u32(tk, &u32) == ok);
    FUZZ_CHECK(ok ? u32 == (uint32_t)ru64 : u32 == 7);
    ok = ref_i64(c.s, &ri64);
    FUZZ_CHECK(num_i64(tk, &i64) == ok);
    FUZZ_CHECK(ok ? i64 == ri64 : i64 == 7);
    FUZZ_CHECK(num_i32(tk, &i32) == ok);
    FUZZ_CHECK(ok ? i32 == (int32_t)(uint32_t)(uint64_t)ri64 : i32 == 7);
}

/* Where the framed line must end: at the first NUL, else before a
 * trailing '\r' when the line has more than one byte. */
static size_t framed_length(const char *buf, size_t nl)
{
    const char *nul = memchr(buf, '\0', nl);

    if (nl > 1 && buf[nl - 1] == '\r')
        nl--;
    if (nul != NULL && (size_t)(nul - buf) < nl)
        nl = (size_t)(nul - buf);
    return nl;
}

static bool all_spaces(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p != ' ')
            return false;
    return true;
}

static void check_tokens(const char *buf, size_t nl, const struct token *t,
                         size_t ntok, size_t cap, const char *end)
{
    const char *prev = buf;

    FUZZ_CHECK(end == buf + framed_length(buf, nl));
    FUZZ_CHECK(ntok <= cap);
    for (size_t i = 0; i < ntok; i++) {
        FUZZ_CHECK(t[i].n > 0 && t[i].p >= prev);
        FUZZ_CHECK(fuzz_inside(t[i].p, t[i].n, buf, end));
        FUZZ_CHECK(memchr(t[i].p, ' ', t[i].n) == NULL);
        FUZZ_CHECK(all_spaces(prev, t[i].p));
        FUZZ_CHECK(token_eq(t[i].p, t[i].n, "noreply") ==
                   (t[i].n == 7 && memcmp(t[i].p, "noreply", 7) == 0));
        prev = t[i].p + t[i].n;
    }
    if (ntok < cap)
        FUZZ_CHECK(all_spaces(prev, end));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct token t[TOKENS_CAP];
    const char *nl, *end;
    size_t n, cap, ntok;

    if (size == 0)
        return 0;
    nl = memchr(buf, '\n', size);
    n = nl != NULL ? (size_t)(nl - buf) : size;
    cap = 1 + data[0] % TOKENS_CAP;
    ntok = token_line(buf, n, t, cap, &end);
    check_tokens(buf, n, t, ntok, cap, end);
    for (size_t i = 0; i < ntok; i++)
        check_number(&t[i]);
    return 0;
}
