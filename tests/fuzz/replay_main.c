/*
 * tests/fuzz/replay_main.c - main() for the fuzz targets outside the
 * --enable-fuzz build: runs LLVMFuzzerTestOneInput() once on every file
 * named on the command line and on every file in a named directory, so
 * `make check` replays each target's committed seed corpus under any
 * compiler and any build (ASan+UBSan included) as a regression suite.
 *
 * Arguments starting with '-' are libFuzzer options and are ignored, so
 * one command line (tests/fuzz/replay's) suits both builds. Each input is
 * an exact-size heap copy, so AddressSanitizer catches a read past its
 * end. A failed invariant aborts; no input at all is a failure too, so a
 * corpus that went missing does not pass unnoticed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

/* Reads the whole file; false when it cannot. */
static bool slurp(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    bool ok;

    if (f == NULL)
        return false;
    ok = fstat(fileno(f), &st) == 0 && st.st_size >= 0;
    *size = ok ? (size_t)st.st_size : 0;
    *data = ok ? malloc(*size > 0 ? *size : 1) : NULL;
    ok = *data != NULL && fread(*data, 1, *size, f) == *size;
    fclose(f);
    if (!ok)
        free(*data);
    return ok;
}

static bool replay_file(const char *path)
{
    uint8_t *data;
    size_t size;

    if (!slurp(path, &data, &size)) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return false;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return true;
}

static bool skip_entry(const struct dirent *e)
{
    return e->d_name[0] == '.';
}

/* Every regular file in dir, in name order; adds to *count. */
static bool replay_dir(const char *dir, size_t *count)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    bool ok = n >= 0;
    char path[4096];
    struct stat st;

    if (!ok)
        fprintf(stderr, "%s: cannot list: %s\n", dir, strerror(errno));
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (ok && !skip_entry(names[i]) && stat(path, &st) == 0 &&
            S_ISREG(st.st_mode)) {
            ok = replay_file(path);
            *count += ok;
        }
        free(names[i]);
    }
    free(names);
    return ok;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    struct stat st;

    for (int i = 1; i < argc; i++) {
        bool ok;
        if (argv[i][0] == '-')
            continue;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            ok = replay_dir(argv[i], &count);
        } else {
            ok = replay_file(argv[i]);
            count += ok;
        }
        if (!ok)
            return 1;
    }
    printf("%s: %zu inputs replayed\n", argv[0], count);
    return count > 0 ? 0 : 1;
}
