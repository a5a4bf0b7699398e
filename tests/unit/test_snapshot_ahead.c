/* Unit tests for daemon/snapshot_ahead.c: a snapshot's blocks read and
 * checked on their own thread, handed to the loader in file order; a
 * damaged block ends them with the reader's verdict; a loader that stops
 * early, or before taking anything, leaves no thread behind. */
#include "tests/unit/snapshot_fixture.h"

#include "daemon/snapshot_ahead.h"

/* Blocks of `per` records: every record handed out once, in order. */
static uint64_t take_all(struct snapshot_reader *r, uint64_t per,
                         uint64_t *blocks)
{
    struct snapshot_ahead *a = snapshot_ahead_start(r);
    struct snapshot_block *b;
    struct snapshot_record rec;
    struct gen g;
    uint64_t n = 0;
    assert_non_null(a);
    *blocks = 0;
    while (snapshot_ahead_next(a, &b)) {
        uint64_t in_block = 0;
        while (snapshot_block_next(b, &rec)) {
            assert_record_equal(&rec, gen_record(&g, n++, 40, 300));
            in_block++;
        }
        assert_true(in_block <= per);
        (*blocks)++;
    }
    assert_false(snapshot_ahead_next(a, &b)); /* stays at the end */
    snapshot_ahead_stop(&a);
    assert_null(a);
    return n;
}

/* n records in blocks of `per`: all of them, in order, then a sound end. */
static void read_ahead_whole(const struct tmp *t, uint64_t n, uint64_t per)
{
    struct snapshot_reader *r;
    uint64_t blocks;
    write_stream(t->path, n, per, NULL);
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    assert_int_equal(take_all(r, per, &blocks), n);
    assert_int_equal(blocks, (n + per - 1) / per);
    assert_int_equal(snapshot_reader_status(r, NULL), SNAPSHOT_OK);
    snapshot_reader_close(&r);
}

static void blocks_come_in_file_order(void **state)
{
    read_ahead_whole(*state, 2000, 70);
}

static void an_empty_file_has_no_blocks(void **state)
{
    read_ahead_whole(*state, 0, 1);
}

/* A byte of block 3's payload flipped: blocks 0..2 come, then the end,
 * and the reader names the block. */
static void a_damaged_block_ends_them(void **state)
{
    struct tmp *t = *state;
    struct snapshot_reader *r;
    struct snapshot_error err;
    struct layout l;
    uint64_t blocks;
    size_t n;
    write_stream(t->path, 1000, 100, NULL);
    unsigned char *b = slurp(t->path, &n);
    parse_layout(b, n, &l);
    b[l.off[3] + BHDR + 7] ^= 0x10;
    spill(t->path, b, n);
    free(b);
    assert_int_equal(snapshot_reader_open(&r, t->path, NULL), SNAPSHOT_OK);
    assert_int_equal(take_all(r, 100, &blocks), 300);
    assert_int_equal(blocks, 3);
    assert_int_equal(snapshot_reader_status(r, &err), SNAPSHOT_BAD_CHECKSUM);
    assert_int_equal(err.block, 3);
    snapshot_reader_close(&r);
}

/* Stopped after one block (the thread is then waiting for a free slot,
 * or reading), and stopped before any: it leaves (ASan, TSan). */
static void stopping_early_leaves_no_thread(void **state)
{
    struct tmp *t = *state;
    struct snapshot_reader *r;
    struct snapshot_block *b;
    write_stream(t->path, 3000, 50, NULL);
    for (int round = 0; round < 20; round++) {
        assert_int_equal(snapshot_reader_open(&r, t->path, NULL),
                         SNAPSHOT_OK);
        struct snapshot_ahead *a = snapshot_ahead_start(r);
        assert_non_null(a);
        if (round % 2 == 0)
            assert_true(snapshot_ahead_next(a, &b));
        snapshot_ahead_stop(&a);
        assert_null(a);
        snapshot_reader_close(&r);
    }
    struct snapshot_ahead *none = NULL;
    snapshot_ahead_stop(&none); /* tolerated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(blocks_come_in_file_order,
                                        tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(an_empty_file_has_no_blocks,
                                        tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(a_damaged_block_ends_them,
                                        tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(stopping_early_leaves_no_thread,
                                        tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
