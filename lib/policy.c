/*
 * lib/policy.c - the registry of eviction policies.
 */
#include "lib/policy.h"

#include <stddef.h>
#include <string.h>

static const struct policy_ops *const policies[] = {
    &policy_lru,
    &policy_fifo,
    &policy_random,
    &policy_sieve,
    &policy_lfu,
};

const struct policy_ops *policy_find(const char *name)
{
    for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
        if (strcmp(policies[i]->name, name) == 0)
            return policies[i];
    return NULL;
}
