/*
 * tests/fuzz/fuzz.h - what every fuzz target shares: libFuzzer's entry
 * point and the invariant check.
 *
 * A target is one file with LLVMFuzzerTestOneInput(). The --enable-fuzz
 * build links it with libFuzzer; the ordinary build links it with
 * tests/fuzz/replay_main.c, which runs it over the committed seed corpus
 * in `make check`. A broken invariant aborts, which libFuzzer reports as
 * a crash and saves the input, and which fails `make check`.
 */
#ifndef ZK_TESTS_FUZZ_FUZZ_H
#define ZK_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
    abort();
}

#define FUZZ_CHECK(cond)                                                     \
    ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

/* p[0..n) lies inside [lo, hi); NULL is inside only with n == 0. */
static inline int fuzz_inside(const char *p, size_t n, const char *lo,
                              const char *hi)
{
    if (p == NULL)
        return n == 0;
    return p >= lo && p <= hi && n <= (size_t)(hi - p);
}

/* Offset of p from base plus one, 0 for NULL: pointers into two copies
 * of the same bytes compare equal this way. */
static inline uint64_t fuzz_offset(const char *p, const char *base)
{
    return p == NULL ? 0 : (uint64_t)(p - base) + 1;
}

#endif
