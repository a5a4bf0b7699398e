/* Unit tests for proto/uri.c: unreserved bytes kept, everything else
 * (space, '%', control and high bytes) as upper-case %XX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/uri.h"

static void check(const char *key, size_t nkey, const char *want)
{
    char out[3 * 256 + 1];
    assert_true(nkey <= 256);
    size_t n = uri_encode(out, key, nkey);
    out[n] = '\0';
    assert_int_equal(n, strlen(want));
    assert_string_equal(out, want);
}

static void unreserved_bytes_stay(void **state)
{
    (void)state;
    check("AZaz09-._~", 10, "AZaz09-._~");
    check("", 0, "");
}

static void other_bytes_are_escaped(void **state)
{
    (void)state;
    check("k%20x", 5, "k%2520x");
    check("a b:c/d", 7, "a%20b%3Ac%2Fd");
    check("\0\r\n\x7f\x80\xff", 6, "%00%0D%0A%7F%80%FF");
}

static void every_byte_round_trips(void **state)
{
    (void)state;
    char key[256], out[3 * 256];
    for (int i = 0; i < 256; i++)
        key[i] = (char)i;
    size_t n = uri_encode(out, key, sizeof(key));
    /* 66 unreserved bytes, 190 escaped */
    assert_int_equal(n, 66 + 3 * 190);
    char back[256];
    size_t m = 0;
    for (size_t i = 0; i < n; m++) {
        if (out[i] == '%') {
            unsigned v = 0;
            for (int d = 1; d <= 2; d++) {
                char h = out[i + d];
                assert_true((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'));
                v = v * 16 + (unsigned)(h <= '9' ? h - '0' : h - 'A' + 10);
            }
            back[m] = (char)v;
            i += 3;
        } else {
            back[m] = out[i++];
        }
    }
    assert_int_equal(m, sizeof(key));
    assert_memory_equal(back, key, sizeof(key));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unreserved_bytes_stay),
        cmocka_unit_test(other_bytes_are_escaped),
        cmocka_unit_test(every_byte_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
