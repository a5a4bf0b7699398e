/*
 * daemon/main.c - process entry point (placeholder until the daemon lands:
 * parses the settings, prints help or version).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "daemon/settings.h"

int main(int argc, char **argv)
{
    struct settings s;
    char err[256];
    bool exit_now = false;
    settings_init(&s);
    if (settings_parse(&s, argc, argv, stdout, &exit_now, err,
                       sizeof(err)) != 0) {
        fprintf(stderr, "zeekdb: %s\n", err);
        settings_deinit(&s);
        return EX_USAGE;
    }
    if (!exit_now)
        settings_usage(stdout);
    settings_deinit(&s);
    return 0;
}
