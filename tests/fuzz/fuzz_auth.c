/*
 * tests/fuzz/fuzz_auth.c - the authentication token parser
 * (proto/auth.c).
 *
 * Whatever the input, the result must be one of the documented statuses
 * with its documented consumption: nothing for NEED_MORE and CLOSE, a
 * span inside the input otherwise, with the user and the password
 * non-empty, space-free and inside the request. Parsing just the bytes a
 * request took must give the same answer (what follows a request never
 * changes it), and a request line is only waited for while no '\n' has
 * come and fewer than AUTH_LINE_MAX + 1 bytes have.
 */
#include <string.h>

#include "proto/auth.h"
#include "tests/fuzz/fuzz.h"

static void check_word(const char *p, size_t n, const char *lo,
                       const char *hi)
{
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(fuzz_inside(p, n, lo, hi));
    FUZZ_CHECK(memchr(p, ' ', n) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct auth_token tok, again;
    size_t used = 1, used2 = 1;
    enum auth_status st = auth_parse(buf, size, &tok, &used);

    FUZZ_CHECK(st >= AUTH_NEED_MORE && st <= AUTH_TOKEN);
    if (memchr(buf, '\n', size) == NULL)
        FUZZ_CHECK(st == (size > AUTH_LINE_MAX ? AUTH_CLOSE
                                               : AUTH_NEED_MORE));
    if (st == AUTH_NEED_MORE || st == AUTH_CLOSE) {
        FUZZ_CHECK(used == 0);
        return 0;
    }
    FUZZ_CHECK(used > 0 && used <= size);
    FUZZ_CHECK(auth_parse(buf, used, &again, &used2) == st);
    FUZZ_CHECK(used2 == used);
    if (st != AUTH_TOKEN)
        return 0;
    check_word(tok.user, tok.nuser, buf, buf + used);
    check_word(tok.pass, tok.npass, buf, buf + used);
    FUZZ_CHECK(tok.user + tok.nuser <= tok.pass);
    FUZZ_CHECK(fuzz_offset(again.user, buf) == fuzz_offset(tok.user, buf));
    FUZZ_CHECK(again.npass == tok.npass);
    return 0;
}
