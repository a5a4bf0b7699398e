/* Unit tests for lib/items.c and the item layout in lib/items.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/items.h"

static void header_is_smaller_than_memcached(void **state)
{
    (void)state;
    /* The layout drawn in items.h; memcached 1.6 needs 48 + 8 (CAS). */
    assert_int_equal(ITEM_HEADER, 34);
    assert_int_equal(item_total(0, 0, true), 42);
    assert_true(item_total(0, 0, true) < 48 + 8);
    assert_true(item_total(0, 0, false) < 48);
    assert_int_equal(item_total(32, 102, true), 42 + 32 + 102);
}

static struct item *fresh(size_t nkey, size_t nbytes, bool cas)
{
    /* Items live 4-byte aligned in the arena; malloc is at least that. */
    struct item *it = malloc(item_total(nkey, nbytes, cas));
    assert_non_null(it);
    memset(it, 0xa5, item_total(nkey, nbytes, cas));
    return it;
}

static void init_sets_every_field(void **state)
{
    (void)state;
    for (int cas = 0; cas <= 1; cas++) {
        struct item *it = fresh(5, 7, cas);
        item_init(it, cas, 3, "hello", 5, 0xdeadbeef, 99, 7, 42);
        assert_int_equal(it->h_next, 0);
        assert_int_equal(it->prev, 0);
        assert_int_equal(it->next, 0);
        assert_int_equal(it->exptime, 99);
        assert_int_equal(item_atime(it), 42);
        assert_int_equal(it->nbytes, 7);
        assert_int_equal(it->flags, 0xdeadbeef);
        assert_int_equal(item_refcount(it), 1);
        assert_int_equal(it->clsid, 3);
        assert_int_equal(it->nkey, 5);
        assert_int_equal(item_iflags(it), 0);
        assert_int_equal(item_cas(it, cas), 0);
        assert_memory_equal(item_key(it, cas), "hello", 5);
        assert_ptr_equal(item_value(it, cas), item_key(it, cas) + 5);
        assert_true(item_key_eq(it, cas, "hello", 5));
        assert_false(item_key_eq(it, cas, "hellO", 5));
        assert_false(item_key_eq(it, cas, "hell", 4));
        free(it);
    }
}

static void cas_field_round_trips(void **state)
{
    (void)state;
    struct item *it = fresh(3, 2, true);
    item_init(it, true, 1, "abc", 3, 0, 0, 2, 1);
    item_set_cas(it, true, UINT64_MAX - 1);
    assert_true(item_cas(it, true) == UINT64_MAX - 1);
    assert_memory_equal(item_key(it, true), "abc", 3);
    /* Without CAS the field is absent and reads as 0. */
    item_set_cas(it, false, 77);
    assert_int_equal(item_cas(it, false), 0);
    free(it);
}

static void max_key_and_empty_value(void **state)
{
    (void)state;
    char key[ITEM_KEY_MAX];
    memset(key, 'k', sizeof(key));
    struct item *it = fresh(ITEM_KEY_MAX, 2, true);
    item_init(it, true, 1, key, ITEM_KEY_MAX, 0, 0, 2, 1);
    memcpy(item_value(it, true), "\r\n", 2);
    assert_int_equal(it->nkey, ITEM_KEY_MAX);
    assert_true(item_key_eq(it, true, key, ITEM_KEY_MAX));
    assert_memory_equal(item_value(it, true), "\r\n", 2);
    free(it);
}

static void refcount_and_flags(void **state)
{
    (void)state;
    struct item *it = fresh(1, 2, false);
    item_init(it, false, 1, "k", 1, 0, 0, 2, 1);
    assert_int_equal(item_ref(it), 2);
    assert_int_equal(item_unref(it), 1);
    assert_int_equal(item_unref(it), 0);
    item_flag_set(it, ITEM_LINKED | ITEM_FETCHED);
    item_flag_clear(it, ITEM_LINKED);
    assert_int_equal(item_iflags(it), ITEM_FETCHED);
    free(it);
}

static void expiry(void **state)
{
    (void)state;
    struct item *it = fresh(1, 2, false);
    item_init(it, false, 1, "k", 1, 0, 0, 2, 1);
    assert_false(item_expired(it, 1000000));
    it->exptime = 10;
    assert_false(item_expired(it, 9));
    assert_true(item_expired(it, 10));
    assert_true(item_expired(it, 11));
    free(it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_is_smaller_than_memcached),
        cmocka_unit_test(init_sets_every_field),
        cmocka_unit_test(cas_field_round_trips),
        cmocka_unit_test(max_key_and_empty_value),
        cmocka_unit_test(refcount_and_flags),
        cmocka_unit_test(expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
