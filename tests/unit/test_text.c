/*
 * tests/unit/test_text.c - proto/text.c against the behaviour of memcached
 * 1.6.18 as observed on the wire.
 *
 * Most cases are rows of one table: input bytes, expected status, expected
 * fields. Every row runs as its own cmocka test, on an exact-size heap copy
 * of the input so AddressSanitizer catches any read past len, and checks
 * that the input was not written. Each expected value below was checked
 * against the real memcached binary; the surprising ones say so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/text.h"
#include "tests/unit/proto_fixture.h"

/* Long keys built by the preprocessor so table rows stay literal. */
#define K10 "kkkkkkkkkk"
#define K50 K10 K10 K10 K10 K10
#define K250 K50 K50 K50 K50 K50
#define K251 K250 "k"

#define BAD "bad command line format"
#define USAGE "bad command line format.  Usage: delete <key> [noreply]"
#define BADEXP "invalid exptime argument"
#define BADDELTA "invalid numeric delta argument"

struct pcase {
    const char *name;
    const char *in;
    size_t inlen;
    enum text_status st;
    bool open;   /* no complete line: nothing consumed */
    size_t rest; /* bytes after the first line (not consumed) */
    enum text_cmd cmd;
    bool noreply;
    const char *err;
    const char *key;  /* expected first key; NULL = none */
    const char *keys; /* expected key list; NULL = none, "" = empty span */
    const char *arg;  /* expected argument text; NULL = none, "" = empty */
    uint32_t flags;
    int64_t exptime;
    bool has_exptime;
    uint32_t nbytes;
    uint64_t cas;
    uint64_t delta;
    uint32_t level;
};

#define IN(s) .in = (s), .inlen = sizeof(s) - 1
#define OK_(c) .st = TEXT_OK, .cmd = TEXT_CMD_##c
#define ERR_(c) .st = TEXT_ERROR, .cmd = TEXT_CMD_##c
#define CE_(c, msg) .st = TEXT_CLIENT_ERROR, .cmd = TEXT_CMD_##c, .err = (msg)
#define STORE(c, k, f, e, n) OK_(c), .key = (k), .flags = (f), .exptime = (e), .nbytes = (n)

static const struct pcase cases[] = {
    /* ---- storage commands ---- */
    {"set basic", IN("set k 0 0 5\r\n"), STORE(SET, "k", 0, 0, 5)},
    {"set with data after", IN("set k 0 0 5\r\nhello\r\n"), .rest = 7, STORE(SET, "k", 0, 0, 5)},
    {"set all fields", IN("set foo 123 456 789\r\n"), STORE(SET, "foo", 123, 456, 789)},
    {"add", IN("add k 1 2 3\r\n"), STORE(ADD, "k", 1, 2, 3)},
    {"replace", IN("replace k 1 2 3\r\n"), STORE(REPLACE, "k", 1, 2, 3)},
    {"append", IN("append k 1 2 3\r\n"), STORE(APPEND, "k", 1, 2, 3)},
    {"prepend", IN("prepend k 1 2 3\r\n"), STORE(PREPEND, "k", 1, 2, 3)},
    {"set noreply", IN("set k 0 0 5 noreply\r\n"), STORE(SET, "k", 0, 0, 5), .noreply = true},
    {"add noreply", IN("add k 0 0 5 noreply\r\n"), STORE(ADD, "k", 0, 0, 5), .noreply = true},
    {"set sixth token not noreply is ignored", IN("set k 0 0 1 junk\r\n"), STORE(SET, "k", 0, 0, 1)},
    {"set sixth token numeric ignored", IN("set k 0 0 1 2\r\n"), STORE(SET, "k", 0, 0, 1)},
    {"set zero bytes", IN("set k 0 0 0\r\n"), STORE(SET, "k", 0, 0, 0)},
    {"set without cr", IN("set k 0 0 5\n"), STORE(SET, "k", 0, 0, 5)},
    {"set runs of spaces", IN("set   k  7 0   5   \r\n"), STORE(SET, "k", 7, 0, 5)},
    {"set leading spaces", IN("   set k 0 0 5\r\n"), STORE(SET, "k", 0, 0, 5)},
    {"set NUL ends the command", IN("set a 0 0 1\0junk\r\n"), STORE(SET, "a", 0, 0, 1)},
    {"set NUL inside noreply", IN("set k 0 0 1 noreply\0\r\n"), STORE(SET, "k", 0, 0, 1), .noreply = true},
    {"set too few tokens", IN("set k 0 0\r\n"), ERR_(SET)},
    {"set alone", IN("set\r\n"), ERR_(SET)},
    {"set key only", IN("set k\r\n"), ERR_(SET)},
    {"set too many tokens", IN("set k 0 0 1 noreply extra\r\n"), ERR_(SET)},
    {"set 23-token cap", IN("set k 0 0 1 z z z z z z z z z z z z z z z z z z z z z z z z z z\r\n"), ERR_(SET)},
    {"set uppercase is unknown", IN("SET k 0 0 1\r\n"), ERR_(NONE)},
    {"set tab is not a separator", IN("set\tk 0 0 1\r\n"), ERR_(NONE)},
    {"set key 250", IN("set " K250 " 0 0 1\r\n"), STORE(SET, K250, 0, 0, 1)},
    {"set key 251", IN("set " K251 " 0 0 1\r\n"), CE_(SET, BAD)},
    {"set key 251 noreply", IN("set " K251 " 0 0 1 noreply\r\n"), CE_(SET, BAD), .noreply = true},
    {"set key 251 beats bad number", IN("set " K251 " x 0 1\r\n"), CE_(SET, BAD)},
    {"set key with tab", IN("set a\tb 0 0 1\r\n"), STORE(SET, "a\tb", 0, 0, 1)},
    {"set key with control bytes", IN("set a\x01\x7f\xff 0 0 1\r\n"), STORE(SET, "a\x01\x7f\xff", 0, 0, 1)},
    {"set key with inner cr", IN("set a\rb 0 0 1\r\n"), STORE(SET, "a\rb", 0, 0, 1)},
    /* flags: safe_strtoul on LP64 */
    {"flags max 32-bit", IN("set k 4294967295 0 1\r\n"), STORE(SET, "k", 4294967295u, 0, 1)},
    {"flags 2^32 wraps to 0", IN("set k 4294967296 0 1\r\n"), STORE(SET, "k", 0, 0, 1)},
    {"flags 2^32+5 wraps", IN("set k 4294967301 0 1\r\n"), STORE(SET, "k", 5, 0, 1)},
    {"flags 2^64-1 wraps", IN("set k 18446744073709551615 0 1\r\n"), STORE(SET, "k", 4294967295u, 0, 1)},
    {"flags 2^63 wraps to 0", IN("set k 9223372036854775808 0 1\r\n"), STORE(SET, "k", 0, 0, 1)},
    {"flags 2^64 out of range", IN("set k 18446744073709551616 0 1\r\n"), CE_(SET, BAD)},
    {"flags negative", IN("set k -1 0 1\r\n"), CE_(SET, BAD)},
    {"flags -2^63", IN("set k -9223372036854775808 0 1\r\n"), CE_(SET, BAD)},
    {"flags minus zero", IN("set k -0 0 1\r\n"), STORE(SET, "k", 0, 0, 1)},
    {"flags -(2^64-1) is 1", IN("set k -18446744073709551615 0 1\r\n"), STORE(SET, "k", 1, 0, 1)},
    {"flags plus sign", IN("set k +7 0 1\r\n"), STORE(SET, "k", 7, 0, 1)},
    {"flags trailing garbage", IN("set k 1x 0 1\r\n"), CE_(SET, BAD)},
    {"flags hex", IN("set k 0x1 0 1\r\n"), CE_(SET, BAD)},
    {"flags letters", IN("set k x 0 1\r\n"), CE_(SET, BAD)},
    {"flags lone plus", IN("set k + 0 1\r\n"), CE_(SET, BAD)},
    {"flags lone minus", IN("set k - 0 1\r\n"), CE_(SET, BAD)},
    {"flags tab then garbage", IN("set k 5\tjunk 0 1\r\n"), STORE(SET, "k", 5, 0, 1)},
    {"flags leading tab", IN("set k \t9 0 1\r\n"), STORE(SET, "k", 9, 0, 1)},
    {"flags trailing cr", IN("set k 5\r 0 1\r\n"), STORE(SET, "k", 5, 0, 1)},
    {"flags minus after space char", IN("set k 18446744073709551615\t- 0 1\r\n"), CE_(SET, BAD)},
    {"flags big with tab", IN("set k 18446744073709551614\t 0 1\r\n"), STORE(SET, "k", 4294967294u, 0, 1)},
    /* exptime: safe_strtol on LP64, wrapped to 32 bits */
    {"exptime negative", IN("set k 0 -5 1\r\n"), STORE(SET, "k", 0, -5, 1)},
    {"exptime 2^31 wraps negative", IN("set k 0 2147483648 1\r\n"), STORE(SET, "k", 0, INT32_MIN, 1)},
    {"exptime 2^32 wraps to 0", IN("set k 0 4294967296 1\r\n"), STORE(SET, "k", 0, 0, 1)},
    {"exptime -2^31-1 wraps positive", IN("set k 0 -2147483649 1\r\n"), STORE(SET, "k", 0, INT32_MAX, 1)},
    {"exptime 2^63-1 wraps to -1", IN("set k 0 9223372036854775807 1\r\n"), STORE(SET, "k", 0, -1, 1)},
    {"exptime -2^63 wraps to 0", IN("set k 0 -9223372036854775808 1\r\n"), STORE(SET, "k", 0, 0, 1)},
    {"exptime 2^63 out of range", IN("set k 0 9223372036854775808 1\r\n"), CE_(SET, BAD)},
    {"exptime -2^63-1 out of range", IN("set k 0 -9223372036854775809 1\r\n"), CE_(SET, BAD)},
    {"exptime letters", IN("set k 0 x 1\r\n"), CE_(SET, BAD)},
    {"exptime 30 days", IN("set k 0 2592000 1\r\n"), STORE(SET, "k", 0, 2592000, 1)},
    /* bytes */
    {"bytes negative", IN("set k 0 0 -1\r\n"), CE_(SET, BAD)},
    {"bytes INT_MAX-2", IN("set k 0 0 2147483645\r\n"), STORE(SET, "k", 0, 0, 2147483645u)},
    {"bytes INT_MAX-1", IN("set k 0 0 2147483646\r\n"), CE_(SET, BAD)},
    {"bytes INT_MAX", IN("set k 0 0 2147483647\r\n"), CE_(SET, BAD)},
    {"bytes 2^31", IN("set k 0 0 2147483648\r\n"), CE_(SET, BAD)},
    {"bytes 2^32-1 is -1", IN("set k 0 0 4294967295\r\n"), CE_(SET, BAD)},
    {"bytes 2^32+1 wraps to 1", IN("set k 0 0 4294967297\r\n"), STORE(SET, "k", 0, 0, 1)},
    {"bytes garbage", IN("set k 0 0 1x\r\n"), CE_(SET, BAD)},
    {"bytes noreply silent error", IN("set k 0 0 x noreply\r\n"), CE_(SET, BAD), .noreply = true},
    {"bytes is noreply", IN("set k 0 0 noreply\r\n"), CE_(SET, BAD), .noreply = true},
    /* cas */
    {"cas basic", IN("cas k 0 0 5 99\r\n"), STORE(CAS, "k", 0, 0, 5), .cas = 99},
    {"cas noreply", IN("cas k 1 2 5 99 noreply\r\n"), STORE(CAS, "k", 1, 2, 5), .cas = 99, .noreply = true},
    {"cas max", IN("cas k 0 0 1 18446744073709551615\r\n"), STORE(CAS, "k", 0, 0, 1), .cas = UINT64_MAX},
    {"cas zero", IN("cas k 0 0 1 0\r\n"), STORE(CAS, "k", 0, 0, 1), .cas = 0},
    {"cas missing value is ERROR", IN("cas k 0 0 5\r\n"), ERR_(CAS)},
    {"cas too many", IN("cas k 0 0 5 1 noreply x\r\n"), ERR_(CAS)},
    {"cas letters", IN("cas k 0 0 1 x\r\n"), CE_(CAS, BAD)},
    {"cas negative", IN("cas k 0 0 1 -1\r\n"), CE_(CAS, BAD)},
    {"cas 2^64", IN("cas k 0 0 1 18446744073709551616\r\n"), CE_(CAS, BAD)},
    {"cas value is noreply", IN("cas k 0 0 1 noreply\r\n"), CE_(CAS, BAD), .noreply = true},
    {"cas key 251", IN("cas " K251 " 0 0 1 1\r\n"), CE_(CAS, BAD)},

    /* ---- retrieval ---- */
    {"get one", IN("get k\r\n"), OK_(GET), .key = "k", .keys = "k"},
    {"get three", IN("get a b c\r\n"), OK_(GET), .key = "a", .keys = "a b c"},
    {"get spaces", IN("get  a   b  \r\n"), OK_(GET), .key = "a", .keys = "a   b"},
    {"get without cr", IN("get k\n"), OK_(GET), .key = "k", .keys = "k"},
    {"gets", IN("gets a b\r\n"), OK_(GETS), .key = "a", .keys = "a b"},
    {"bget is get", IN("bget k\r\n"), OK_(GET), .key = "k", .keys = "k"},
    {"get noreply is a key", IN("get noreply\r\n"), OK_(GET), .key = "noreply", .keys = "noreply"},
    {"get past 23 tokens", IN("get a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n"), OK_(GET),
     .key = "a", .keys = "a b c d e f g h i j k l m n o p q r s t u v w x y z"},
    {"get key 250", IN("get " K250 "\r\n"), OK_(GET), .key = K250, .keys = K250},
    {"get key 251", IN("get " K251 "\r\n"), CE_(GET, BAD), .keys = ""},
    {"get key 251 in middle", IN("get a " K251 " b\r\n"), CE_(GET, BAD), .keys = "a "},
    {"get key 251 past 23 tokens", IN("get a b c d e f g h i j k l m n o p q r s t u v w x y " K251 "\r\n"),
     CE_(GET, BAD), .keys = "a b c d e f g h i j k l m n o p q r s t u v w x y "},
    {"get NUL ends keys", IN("get a\0b\r\n"), OK_(GET), .key = "a", .keys = "a"},
    {"get only one cr stripped", IN("get q\r\r\n"), OK_(GET), .key = "q\r", .keys = "q\r"},
    {"get control chars key", IN("get a\tb\x01\r\n"), OK_(GET), .key = "a\tb\x01", .keys = "a\tb\x01"},
    {"get alone", IN("get\r\n"), ERR_(GET)},
    {"get trailing spaces only", IN("get   \r\n"), ERR_(GET)},
    {"gets alone", IN("gets\r\n"), ERR_(GETS)},
    {"bget alone", IN("bget\r\n"), ERR_(GET)},
    {"geta unknown", IN("geta k\r\n"), ERR_(NONE)},
    {"gat", IN("gat 10 a b\r\n"), OK_(GAT), .exptime = 10, .key = "a", .keys = "a b"},
    {"gats negative", IN("gats -1 a\r\n"), OK_(GATS), .exptime = -1, .key = "a", .keys = "a"},
    {"gat without keys", IN("gat 10\r\n"), OK_(GAT), .exptime = 10, .keys = ""},
    {"gat wraps exptime", IN("gat 4294967306 k\r\n"), OK_(GAT), .exptime = 10, .key = "k", .keys = "k"},
    {"gat bad exptime", IN("gat x k\r\n"), CE_(GAT, BADEXP)},
    {"gat bad exptime beats long key", IN("gat x " K251 "\r\n"), CE_(GAT, BADEXP)},
    {"gat long key", IN("gat 1 " K251 "\r\n"), CE_(GAT, BAD), .keys = ""},
    {"gat long key after two", IN("gat 1 a  b " K251 " c\r\n"), CE_(GAT, BAD), .exptime = 1,
     .keys = "a  b "},
    {"gat alone", IN("gat\r\n"), ERR_(GAT)},
    {"gats alone", IN("gats\r\n"), ERR_(GATS)},

    /* ---- delete ---- */
    {"delete", IN("delete k\r\n"), OK_(DELETE), .key = "k"},
    {"delete noreply", IN("delete k noreply\r\n"), OK_(DELETE), .key = "k", .noreply = true},
    {"delete legacy 0", IN("delete k 0\r\n"), OK_(DELETE), .key = "k"},
    {"delete legacy 0 noreply", IN("delete k 0 noreply\r\n"), OK_(DELETE), .key = "k", .noreply = true},
    {"delete hold time", IN("delete k 5\r\n"), CE_(DELETE, USAGE)},
    {"delete 00", IN("delete k 00\r\n"), CE_(DELETE, USAGE)},
    {"delete hold time noreply", IN("delete k 5 noreply\r\n"), CE_(DELETE, USAGE), .noreply = true},
    {"delete noreply then 0", IN("delete k noreply 0\r\n"), CE_(DELETE, USAGE)},
    {"delete 0 0", IN("delete k 0 0\r\n"), CE_(DELETE, USAGE)},
    {"delete alone", IN("delete\r\n"), ERR_(DELETE)},
    {"delete too many", IN("delete a b c d\r\n"), ERR_(DELETE)},
    {"delete key 250", IN("delete " K250 "\r\n"), OK_(DELETE), .key = K250},
    {"delete key 251", IN("delete " K251 "\r\n"), CE_(DELETE, BAD)},
    {"delete key 251 noreply", IN("delete " K251 " noreply\r\n"), CE_(DELETE, BAD), .noreply = true},
    {"delete key 251 hold", IN("delete " K251 " 5\r\n"), CE_(DELETE, USAGE)},
    {"delete tab in key", IN("delete k\t0\r\n"), OK_(DELETE), .key = "k\t0"},

    /* ---- incr / decr ---- */
    {"incr", IN("incr k 1\r\n"), OK_(INCR), .key = "k", .delta = 1},
    {"decr noreply", IN("decr k 5 noreply\r\n"), OK_(DECR), .key = "k", .delta = 5, .noreply = true},
    {"incr max", IN("incr k 18446744073709551615\r\n"), OK_(INCR), .key = "k", .delta = UINT64_MAX},
    {"incr 2^63", IN("incr k 9223372036854775808\r\n"), OK_(INCR), .key = "k", .delta = 9223372036854775808u},
    {"incr 2^64", IN("incr k 18446744073709551616\r\n"), CE_(INCR, BADDELTA)},
    {"incr negative", IN("incr k -1\r\n"), CE_(INCR, BADDELTA)},
    {"incr -2^63", IN("incr k -9223372036854775808\r\n"), CE_(INCR, BADDELTA)},
    {"incr minus zero", IN("incr k -0\r\n"), OK_(INCR), .key = "k", .delta = 0},
    {"incr -(2^64-1) is 1", IN("incr k -18446744073709551615\r\n"), OK_(INCR), .key = "k", .delta = 1},
    {"incr letters", IN("incr k x\r\n"), CE_(INCR, BADDELTA)},
    {"decr letters", IN("decr k 1a\r\n"), CE_(DECR, BADDELTA)},
    {"incr letters noreply", IN("incr k x noreply\r\n"), CE_(INCR, BADDELTA), .noreply = true},
    {"incr delta is noreply", IN("incr k noreply\r\n"), CE_(INCR, BADDELTA), .noreply = true},
    {"incr tab after", IN("incr k 1\t\r\n"), OK_(INCR), .key = "k", .delta = 1},
    {"incr tab garbage", IN("incr k 5\tx\r\n"), OK_(INCR), .key = "k", .delta = 5},
    {"incr extra token ignored", IN("incr k 1 foo\r\n"), OK_(INCR), .key = "k", .delta = 1},
    {"incr missing delta", IN("incr k\r\n"), ERR_(INCR)},
    {"decr too many", IN("decr k 1 2 3\r\n"), ERR_(DECR)},
    {"incr key 251", IN("incr " K251 " 1\r\n"), CE_(INCR, BAD)},
    {"incr key 251 beats bad delta", IN("incr " K251 " x\r\n"), CE_(INCR, BAD)},

    /* ---- touch ---- */
    {"touch", IN("touch k 10\r\n"), OK_(TOUCH), .key = "k", .exptime = 10},
    {"touch negative", IN("touch k -5\r\n"), OK_(TOUCH), .key = "k", .exptime = -5},
    {"touch noreply", IN("touch k 10 noreply\r\n"), OK_(TOUCH), .key = "k", .exptime = 10, .noreply = true},
    {"touch wraps", IN("touch k 4294967296\r\n"), OK_(TOUCH), .key = "k", .exptime = 0},
    {"touch bad exptime", IN("touch k x\r\n"), CE_(TOUCH, BADEXP)},
    {"touch bad exptime noreply", IN("touch k x noreply\r\n"), CE_(TOUCH, BADEXP), .noreply = true},
    {"touch missing", IN("touch k\r\n"), ERR_(TOUCH)},
    {"touch too many", IN("touch k 10 noreply extra\r\n"), ERR_(TOUCH)},
    {"touch key 251", IN("touch " K251 " 10\r\n"), CE_(TOUCH, BAD)},

    /* ---- flush_all ---- */
    {"flush_all", IN("flush_all\r\n"), OK_(FLUSH_ALL)},
    {"flush_all noreply", IN("flush_all noreply\r\n"), OK_(FLUSH_ALL), .noreply = true},
    {"flush_all 0", IN("flush_all 0\r\n"), OK_(FLUSH_ALL), .has_exptime = true, .exptime = 0},
    {"flush_all 10", IN("flush_all 10\r\n"), OK_(FLUSH_ALL), .has_exptime = true, .exptime = 10},
    {"flush_all -1", IN("flush_all -1\r\n"), OK_(FLUSH_ALL), .has_exptime = true, .exptime = -1},
    {"flush_all 10 noreply", IN("flush_all 10 noreply\r\n"), OK_(FLUSH_ALL), .has_exptime = true,
     .exptime = 10, .noreply = true},
    {"flush_all extra ignored", IN("flush_all 10 20\r\n"), OK_(FLUSH_ALL), .has_exptime = true, .exptime = 10},
    {"flush_all bad delay", IN("flush_all x\r\n"), CE_(FLUSH_ALL, BADEXP)},
    {"flush_all noreply first", IN("flush_all noreply 10\r\n"), CE_(FLUSH_ALL, BADEXP)},
    {"flush_all bad delay noreply", IN("flush_all x noreply\r\n"), CE_(FLUSH_ALL, BADEXP), .noreply = true},
    {"flush_all too many", IN("flush_all 1 2 3\r\n"), ERR_(FLUSH_ALL)},

    /* ---- verbosity ---- */
    {"verbosity", IN("verbosity 1\r\n"), OK_(VERBOSITY), .level = 1},
    {"verbosity noreply", IN("verbosity 1 noreply\r\n"), OK_(VERBOSITY), .level = 1, .noreply = true},
    {"verbosity extra ignored", IN("verbosity 1 2\r\n"), OK_(VERBOSITY), .level = 1},
    {"verbosity wraps", IN("verbosity 4294967297\r\n"), OK_(VERBOSITY), .level = 1},
    {"verbosity alone", IN("verbosity\r\n"), ERR_(VERBOSITY)},
    {"verbosity too many", IN("verbosity 1 2 3\r\n"), ERR_(VERBOSITY)},
    {"verbosity letters", IN("verbosity x\r\n"), CE_(VERBOSITY, BAD)},
    {"verbosity negative", IN("verbosity -1\r\n"), CE_(VERBOSITY, BAD)},
    {"verbosity noreply only", IN("verbosity noreply\r\n"), CE_(VERBOSITY, BAD), .noreply = true},

    /* ---- version, quit, shutdown, stats ---- */
    {"version", IN("version\r\n"), OK_(VERSION)},
    {"version ignores args", IN("version foo bar\r\n"), OK_(VERSION)},
    {"version leading spaces", IN("  version\r\n"), OK_(VERSION)},
    {"version uppercase", IN("VERSION\r\n"), ERR_(NONE)},
    {"quit", IN("quit\r\n"), OK_(QUIT)},
    {"quit ignores args", IN("quit foo\r\n"), OK_(QUIT)},
    {"quit pipelined", IN("quit\r\nget a\r\n"), .rest = 7, OK_(QUIT)},
    {"shutdown", IN("shutdown\r\n"), OK_(SHUTDOWN), .arg = ""},
    {"shutdown graceful", IN("shutdown graceful\r\n"), OK_(SHUTDOWN), .arg = "graceful"},
    {"shutdown graceful spaces", IN("shutdown  graceful  \r\n"), OK_(SHUTDOWN), .arg = "graceful"},
    {"shutdown two args", IN("shutdown graceful x\r\n"), OK_(SHUTDOWN), .arg = "graceful x"},
    {"shutdown noreply is a mode", IN("shutdown noreply\r\n"), OK_(SHUTDOWN), .arg = "noreply"},
    {"stats", IN("stats\r\n"), OK_(STATS), .arg = ""},
    {"stats trailing spaces", IN("stats   \r\n"), OK_(STATS), .arg = ""},
    {"stats slabs", IN("stats slabs\r\n"), OK_(STATS), .arg = "slabs"},
    {"stats detail on", IN("stats detail on\r\n"), OK_(STATS), .arg = "detail on"},
    {"stats spaces kept inside", IN("stats  cachedump  1   2  \r\n"), OK_(STATS), .arg = "cachedump  1   2"},
    {"stats past 23 tokens", IN("stats reset a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n"),
     OK_(STATS), .arg = "reset a b c d e f g h i j k l m n o p q r s t u v w x y z"},
    {"stats noreply not special", IN("stats noreply\r\n"), OK_(STATS), .arg = "noreply"},

    /* ---- cache_memlimit, debugtime ---- */
    {"cache_memlimit", IN("cache_memlimit 64\r\n"), OK_(CACHE_MEMLIMIT), .level = 64, .arg = "64"},
    {"cache_memlimit small", IN("cache_memlimit 4\r\n"), OK_(CACHE_MEMLIMIT), .level = 4, .arg = "4"},
    {"cache_memlimit noreply", IN("cache_memlimit 64 noreply\r\n"), OK_(CACHE_MEMLIMIT), .level = 64,
     .arg = "64", .noreply = true},
    {"cache_memlimit extra ignored", IN("cache_memlimit 64 65\r\n"), OK_(CACHE_MEMLIMIT), .level = 64,
     .arg = "64"},
    {"cache_memlimit alone", IN("cache_memlimit\r\n"), ERR_(CACHE_MEMLIMIT)},
    {"cache_memlimit bad is ERROR", IN("cache_memlimit x\r\n"), ERR_(CACHE_MEMLIMIT)},
    {"cache_memlimit bad noreply", IN("cache_memlimit x noreply\r\n"), ERR_(CACHE_MEMLIMIT), .noreply = true},
    {"cache_memlimit too many", IN("cache_memlimit 1 2 3\r\n"), ERR_(CACHE_MEMLIMIT)},
    {"debugtime", IN("debugtime 5\r\n"), OK_(DEBUGTIME), .level = 5, .exptime = 5, .arg = "5"},
    {"debugtime negative", IN("debugtime -3\r\n"), OK_(DEBUGTIME), .level = 4294967293u, .exptime = -3,
     .arg = "-3"},
    {"debugtime pause", IN("debugtime p\r\n"), OK_(DEBUGTIME), .arg = "p"},
    {"debugtime resume", IN("debugtime r\r\n"), OK_(DEBUGTIME), .arg = "r"},
    {"debugtime alone", IN("debugtime\r\n"), ERR_(DEBUGTIME)},
    {"debugtime letters", IN("debugtime x\r\n"), OK_(DEBUGTIME), .arg = "x",
     .err = BAD},

    /* ---- lru_crawler: the daemon reads the sub-command words ---- */
    {"lru_crawler metadump", IN("lru_crawler metadump all\r\n"), OK_(LRU_CRAWLER), .arg = "metadump all"},
    {"lru_crawler alone", IN("lru_crawler\r\n"), ERR_(LRU_CRAWLER)},
    /* ---- slabs: two or three words, read by the daemon ---- */
    {"slabs reassign", IN("slabs reassign 1 2\r\n"), OK_(SLABS), .arg = "reassign 1 2"},
    {"slabs automove noreply", IN("slabs automove 1 noreply\r\n"), OK_(SLABS), .arg = "automove 1 noreply"},
    {"slabs alone", IN("slabs\r\n"), ERR_(SLABS)},
    {"slabs one word", IN("slabs automove\r\n"), ERR_(SLABS)},
    {"slabs four words", IN("slabs reassign 1 2 3\r\n"), ERR_(SLABS)},
    {"lru tune", IN("lru tune 10 25 0.1 2\r\n"), OK_(LRU), .arg = "tune 10 25 0.1 2"},
    {"lru alone", IN("lru\r\n"), ERR_(LRU)},
    {"snapshot", IN("snapshot\r\n"), OK_(SNAPSHOT)},
    {"snapshot with argument", IN("snapshot now\r\n"), ERR_(SNAPSHOT)},
    {"refresh_certs", IN("refresh_certs\r\n"), OK_(REFRESH_CERTS)},
    /* memcached looks at nothing after the command word */
    {"refresh_certs with arguments", IN("refresh_certs x y\r\n"),
     OK_(REFRESH_CERTS)},
    /* ---- watch: the daemon reads the stream words ---- */
    {"watch alone", IN("watch\r\n"), OK_(WATCH), .arg = ""},
    {"watch streams", IN("watch fetchers mutations\r\n"), OK_(WATCH), .arg = "fetchers mutations"},

    /* ---- framing, unknown commands, HTTP ---- */
    {"empty buffer", IN(""), .st = TEXT_NEED_MORE},
    {"no newline", IN("get k"), .st = TEXT_NEED_MORE},
    {"cr without newline", IN("get k\r"), .st = TEXT_NEED_MORE},
    {"bare newline", IN("\n"), ERR_(NONE)},
    {"bare crlf", IN("\r\n"), ERR_(NONE)},
    {"only spaces", IN("   \r\n"), ERR_(NONE)},
    {"one byte command", IN("x\r\n"), ERR_(NONE)},
    {"one byte g", IN("g k\r\n"), ERR_(NONE)},
    {"unknown", IN("foo\r\n"), ERR_(NONE)},
    {"unknown with args", IN("foo bar baz\r\n"), ERR_(NONE)},
    {"NUL first", IN("\0get k\r\n"), ERR_(NONE)},
    {"pipelined first line only", IN("get a\r\nget b\r\n"), .rest = 7, OK_(GET), .key = "a", .keys = "a"},
    {"error then more", IN("bogus\r\nget b\r\n"), .rest = 7, ERR_(NONE)},
    {"meta mn not here", IN("mn\r\n"), ERR_(NONE)},
    {"meta mg not here", IN("mg k v\r\n"), ERR_(NONE)},
    {"http GET closes", IN("GET / HTTP/1.1\r\n"), .st = TEXT_CLOSE},
    {"http POST closes", IN("POST / HTTP/1.0\r\n"), .st = TEXT_CLOSE},
    {"http mget closes", IN("mget / HTTP/1.1\r\n"), .st = TEXT_CLOSE},
    {"http bare prefix closes", IN("foo HTTP/\r\n"), .st = TEXT_CLOSE},
    {"http prefix only", IN("zz HTTP/1.1x\r\n"), .st = TEXT_CLOSE},
    {"http not last", IN("foo HTTP/ x\r\n"), ERR_(NONE)},
    {"http s branch", IN("sget / HTTP/1.1\r\n"), ERR_(NONE)},
    {"http a branch", IN("ab HTTP/1.1\r\n"), ERR_(NONE)},
    {"http one byte command", IN("x HTTP/1.1\r\n"), ERR_(NONE)},
    {"http meta-shaped", IN("mz HTTP/1.1\r\n"), ERR_(NONE)},
    {"http lowercase", IN("foo http/1.1\r\n"), ERR_(NONE)},
    {"http 23rd token", IN("foo z z z z z z z z z z z z z z z z z z z z z HTTP/1.1 more\r\n"), .st = TEXT_CLOSE},
    {"http 24th token", IN("foo z z z z z z z z z z z z z z z z z z z z z z HTTP/1.1 more\r\n"), ERR_(NONE)},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int parse_any(const char *buf, size_t len, void *req,
                     size_t *consumed)
{
    return (int)text_parse(buf, len, req, consumed);
}

/* Pointers in the request point into the input, never elsewhere. */
static void assert_inside(const char *buf, size_t len, const char *p, size_t n)
{
    if (p == NULL)
        return;
    assert_true(p >= buf && p <= buf + len);
    assert_true(n <= (size_t)(buf + len - p));
}

static size_t first_line_len(const struct pcase *c)
{
    return c->inlen - c->rest;
}

static void check_fields(const struct pcase *c, const char *buf,
                         const struct text_request *req)
{
    assert_int_equal(req->cmd, c->cmd);
    assert_int_equal(req->noreply, c->noreply);
    assert_int_equal(req->swallow, 0);
    if (c->err != NULL) {
        /* A client error, or a debugtime number the daemon may reject. */
        assert_non_null(req->error);
        assert_string_equal(req->error, c->err);
    } else {
        assert_null(req->error);
    }
    /* A too-long retrieval key: the keys before it, for the daemon to
     * look up as memcached does. */
    if (c->st == TEXT_CLIENT_ERROR && c->keys != NULL)
        proto_assert_span(req->keys, req->keys_len, c->keys);
    if (c->st != TEXT_OK)
        return;
    proto_assert_span(req->key, req->nkey, c->key);
    proto_assert_span(req->keys, req->keys_len, c->keys);
    proto_assert_span(req->arg, req->narg, c->arg);
    assert_inside(buf, c->inlen, req->key, req->nkey);
    assert_inside(buf, c->inlen, req->keys, req->keys_len);
    assert_inside(buf, c->inlen, req->arg, req->narg);
    assert_int_equal(req->flags, c->flags);
    assert_int_equal(req->exptime, c->exptime);
    assert_int_equal(req->has_exptime, c->has_exptime);
    assert_int_equal(req->nbytes, c->nbytes);
    assert_int_equal(req->cas, c->cas);
    assert_int_equal(req->delta, c->delta);
    assert_int_equal(req->level, c->level);
}

/* One table row: parse an exact-size heap copy so ASan sees overreads. */
static void run_case(void **state)
{
    const struct pcase *c = *state;
    char *buf = proto_copy(c->in, c->inlen);
    struct text_request req;
    size_t consumed = 12345;
    enum text_status st;

    st = text_parse(buf, c->inlen, &req, &consumed);
    assert_int_equal(st, c->st);
    if (c->st == TEXT_NEED_MORE || c->open)
        assert_int_equal(consumed, 0);
    else
        assert_int_equal(consumed, first_line_len(c));
    if (c->st != TEXT_NEED_MORE)
        check_fields(c, buf, &req);
    assert_memory_equal(buf, c->in, c->inlen);
    free(buf);
}

/* ---------------------------------------------------------------------
 * Every prefix of a request is "need more"; the whole one parses.
 * --------------------------------------------------------------------- */

struct split_case {
    const char *in;
    size_t inlen;
    enum text_status st;
    enum text_cmd cmd;
};

#define SPLIT(s, status, c) {(s), sizeof(s) - 1, (status), TEXT_CMD_##c}

static const struct split_case splits[] = {
    SPLIT("set k 0 0 5\r\n", TEXT_OK, SET),
    SPLIT("set somekey 4294967295 -1 1024 noreply\r\n", TEXT_OK, SET),
    SPLIT("cas k 1 2 3 18446744073709551615 noreply\r\n", TEXT_OK, CAS),
    SPLIT("add k 0 0 1\n", TEXT_OK, ADD),
    SPLIT("get a b c d\r\n", TEXT_OK, GET),
    SPLIT("gets " K250 "\r\n", TEXT_OK, GETS),
    SPLIT("gat 100 a b\r\n", TEXT_OK, GAT),
    SPLIT("delete k 0 noreply\r\n", TEXT_OK, DELETE),
    SPLIT("incr counter 18446744073709551615\r\n", TEXT_OK, INCR),
    SPLIT("touch k -1 noreply\r\n", TEXT_OK, TOUCH),
    SPLIT("flush_all 10 noreply\r\n", TEXT_OK, FLUSH_ALL),
    SPLIT("stats detail dump\r\n", TEXT_OK, STATS),
    SPLIT("version\r\n", TEXT_OK, VERSION),
    SPLIT("verbosity 1 noreply\r\n", TEXT_OK, VERBOSITY),
    SPLIT("set " K251 " 0 0 1\r\n", TEXT_CLIENT_ERROR, SET),
    SPLIT("delete k 5\r\n", TEXT_CLIENT_ERROR, DELETE),
    SPLIT("cas k 0 0 5\r\n", TEXT_ERROR, CAS),
    SPLIT("bogus command\r\n", TEXT_ERROR, NONE),
    SPLIT("GET / HTTP/1.1\r\n", TEXT_CLOSE, NONE),
};

static void test_every_prefix_needs_more(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
        const struct split_case *s = &splits[i];
        struct text_request full;

        proto_assert_split(s->in, s->inlen, s->st, TEXT_NEED_MORE, parse_any,
                           &full);
        assert_int_equal(full.cmd, s->cmd);
    }
}

/* The same request followed by arbitrary bytes gives the same request. */
static void test_trailing_bytes_do_not_change_result(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
        const struct split_case *s = &splits[i];
        struct text_request a, b;

        proto_assert_tail(s->in, s->inlen, s->st, parse_any, &a, &b);
        assert_int_equal(a.cmd, b.cmd);
        assert_int_equal(a.nkey, b.nkey);
        assert_ptr_equal(a.key, b.key);
        assert_int_equal(a.nbytes, b.nbytes);
        assert_int_equal(a.keys_len, b.keys_len);
    }
}

/* ---------------------------------------------------------------------
 * Oversized lines
 * --------------------------------------------------------------------- */

static enum text_status parse_heap(const char *src, size_t n, size_t *consumed,
                                   struct text_request *req)
{
    char *buf = proto_copy(src, n);
    enum text_status st;

    st = text_parse(buf, n, req, consumed);
    free(buf);
    return st;
}

/* prefix, then filler repeated up to n bytes total, no newline. */
static char *fill(const char *prefix, const char *filler, size_t n)
{
    char *buf = malloc(n);
    size_t np = strlen(prefix), nf = strlen(filler), i;

    assert_non_null(buf);
    memcpy(buf, prefix, np);
    for (i = np; i < n; i++)
        buf[i] = filler[(i - np) % nf];
    return buf;
}

struct long_case {
    const char *prefix;
    const char *filler;
    size_t n;
    enum text_status st;
};

static void test_oversized_without_newline(void **state)
{
    static const struct long_case lc[] = {
        {"", "x", 2048, TEXT_NEED_MORE},
        {"", "x", 2049, TEXT_CLOSE},
        {"", "x", 100000, TEXT_CLOSE},
        {"set ", "a", 2049, TEXT_CLOSE},
        {"set ", "a", 2048, TEXT_NEED_MORE},
        {"get ", "a ", 2049, TEXT_NEED_MORE},
        {"gets ", "a ", 5000, TEXT_NEED_MORE},
        {"get ", "a", 70000, TEXT_NEED_MORE},
        {"  get ", "a ", 3000, TEXT_NEED_MORE},
        {"gat 0 ", "a ", 3000, TEXT_CLOSE},
        {"gats 0 ", "a ", 3000, TEXT_CLOSE},
        {"get\t", "a ", 3000, TEXT_CLOSE},
        {"GET ", "a ", 3000, TEXT_CLOSE},
        {"getx ", "a ", 3000, TEXT_CLOSE},
        {"bget ", "a ", 3000, TEXT_CLOSE},
        {"", " ", 3000, TEXT_CLOSE},
    };
    size_t i, consumed;
    struct text_request req;

    (void)state;
    for (i = 0; i < sizeof(lc) / sizeof(lc[0]); i++) {
        char *buf = fill(lc[i].prefix, lc[i].filler, lc[i].n);
        consumed = 7;
        assert_int_equal(parse_heap(buf, lc[i].n, &consumed, &req), lc[i].st);
        assert_int_equal(consumed, 0);
        free(buf);
    }
}

/* memcached tolerates at most 100 leading spaces before "get ". */
static void test_oversized_leading_spaces(void **state)
{
    size_t spaces, consumed;
    struct text_request req;

    (void)state;
    for (spaces = 0; spaces <= 102; spaces++) {
        size_t n = 3000;
        char *buf = malloc(n);
        enum text_status want = spaces <= 100 ? TEXT_NEED_MORE : TEXT_CLOSE;
        size_t i;

        assert_non_null(buf);
        memset(buf, ' ', spaces);
        memcpy(buf + spaces, "get ", 4);
        for (i = spaces + 4; i < n; i++)
            buf[i] = (i % 2) ? 'k' : ' ';
        assert_int_equal(parse_heap(buf, n, &consumed, &req), want);
        free(buf);
    }
}

/* With its newline present, a long line is parsed like any other. */
static void test_long_line_with_newline(void **state)
{
    size_t n = 4 + 3000 + 9, consumed;
    char *buf = malloc(n);
    struct text_request req;

    (void)state;
    assert_non_null(buf);
    memcpy(buf, "set ", 4);
    memset(buf + 4, 'a', 3000);
    memcpy(buf + 3004, " 0 0 1\r\n\n", 9);
    assert_int_equal(text_parse(buf, n, &req, &consumed), TEXT_CLIENT_ERROR);
    assert_string_equal(req.error, BAD);
    assert_int_equal(consumed, n - 1);

    /* 3000 spaces then one key */
    memcpy(buf, "get ", 4);
    memset(buf + 4, ' ', 3000);
    memcpy(buf + 3004, "k\r\n", 3);
    assert_int_equal(text_parse(buf, 3007, &req, &consumed), TEXT_OK);
    assert_int_equal(consumed, 3007);
    assert_int_equal(req.nkey, 1);
    assert_ptr_equal(req.key, buf + 3004);
    assert_int_equal(req.keys_len, 1);
    free(buf);
}

/* A 128 KiB get line: every key comes back, in order. */
static void test_get_128k_keys(void **state)
{
    const size_t nkeys = 128 * 1024 / 8;
    size_t cap = 4 + nkeys * 8 + 2, n = 0, i, consumed, seen = 0, nk;
    char *buf = malloc(cap);
    const char *cur, *end, *k;
    struct text_request req;

    (void)state;
    assert_non_null(buf);
    memcpy(buf, "get ", 4);
    n = 4;
    for (i = 0; i < nkeys; i++)
        n += (size_t)sprintf(buf + n, "k%06zu ", i);
    buf[n - 1] = '\r';
    buf[n++] = '\n';
    assert_true(n > 128 * 1024);
    assert_int_equal(text_parse(buf, n - 1, &req, &consumed), TEXT_NEED_MORE);
    assert_int_equal(text_parse(buf, n, &req, &consumed), TEXT_OK);
    assert_int_equal(consumed, n);
    assert_int_equal(req.cmd, TEXT_CMD_GET);
    cur = req.keys;
    end = req.keys + req.keys_len;
    while (text_next_key(&cur, end, &k, &nk)) {
        char want[16];
        snprintf(want, sizeof(want), "k%06zu", seen);
        assert_int_equal(nk, 7);
        assert_memory_equal(k, want, 7);
        seen++;
    }
    assert_int_equal(seen, nkeys);
    free(buf);
}

/* ---------------------------------------------------------------------
 * text_next_key
 * --------------------------------------------------------------------- */

static void test_next_key(void **state)
{
    static const char s[] = "  ab c   def ";
    const char *cur = s, *end = s + sizeof(s) - 1, *k = NULL;
    size_t nk = 0;

    (void)state;
    assert_true(text_next_key(&cur, end, &k, &nk));
    assert_ptr_equal(k, s + 2);
    assert_int_equal(nk, 2);
    assert_true(text_next_key(&cur, end, &k, &nk));
    assert_ptr_equal(k, s + 5);
    assert_int_equal(nk, 1);
    assert_true(text_next_key(&cur, end, &k, &nk));
    assert_ptr_equal(k, s + 9);
    assert_int_equal(nk, 3);
    assert_false(text_next_key(&cur, end, &k, &nk));
    assert_false(text_next_key(&cur, end, &k, &nk));

    cur = s;
    assert_false(text_next_key(&cur, s, &k, &nk)); /* empty range */
    cur = NULL;
    assert_false(text_next_key(&cur, NULL, &k, &nk)); /* never walked */
}

/* ---------------------------------------------------------------------
 * Replies and composers: exact bytes
 * --------------------------------------------------------------------- */

static void test_reply_strings(void **state)
{
    static const struct {
        enum text_reply r;
        const char *s;
    } want[] = {
        {TEXT_R_STORED, "STORED\r\n"},
        {TEXT_R_NOT_STORED, "NOT_STORED\r\n"},
        {TEXT_R_EXISTS, "EXISTS\r\n"},
        {TEXT_R_NOT_FOUND, "NOT_FOUND\r\n"},
        {TEXT_R_DELETED, "DELETED\r\n"},
        {TEXT_R_TOUCHED, "TOUCHED\r\n"},
        {TEXT_R_OK, "OK\r\n"},
        {TEXT_R_END, "END\r\n"},
        {TEXT_R_RESET, "RESET\r\n"},
        {TEXT_R_ERROR, "ERROR\r\n"},
        {TEXT_R_ERR_NON_NUMERIC,
         "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
        {TEXT_R_ERR_BAD_CHUNK, "CLIENT_ERROR bad data chunk\r\n"},
        {TEXT_R_ERR_BAD_FORMAT, "CLIENT_ERROR bad command line format\r\n"},
        {TEXT_R_ERR_TOO_LARGE, "SERVER_ERROR object too large for cache\r\n"},
        {TEXT_R_ERR_OOM_STORE, "SERVER_ERROR out of memory storing object\r\n"},
        {TEXT_R_ERR_TOO_MANY_CONNS, "ERROR Too many open connections\r\n"},
    };
    size_t i, n;
    const char *s;

    (void)state;
    assert_int_equal(sizeof(want) / sizeof(want[0]), TEXT_R__COUNT);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        s = text_reply_str(want[i].r, &n);
        assert_non_null(s);
        assert_int_equal(n, strlen(want[i].s));
        assert_memory_equal(s, want[i].s, n);
    }
    s = text_reply_str(TEXT_R__COUNT, &n);
    assert_null(s);
    assert_int_equal(n, 0);
}

/* Writes through the composer with cap exact and exact - 1. */
static void expect_exact(size_t (*call)(char *, size_t, const void *),
                         const void *arg, const char *want, size_t nwant)
{
    char buf[512];

    memset(buf, '#', sizeof(buf));
    assert_int_equal(call(buf, nwant, arg), nwant);
    assert_memory_equal(buf, want, nwant);
    assert_int_equal(buf[nwant], '#');
    assert_int_equal(call(buf, nwant - 1, arg), 0);
    assert_int_equal(call(buf, 0, arg), 0);
    assert_int_equal(call(buf, sizeof(buf), arg), nwant);
}

struct vh_args {
    const char *key;
    size_t nkey;
    uint32_t flags, nbytes;
    bool with_cas;
    uint64_t cas;
};

static size_t call_vh(char *dst, size_t cap, const void *p)
{
    const struct vh_args *a = p;
    return text_value_header(dst, cap, a->key, a->nkey, a->flags, a->nbytes,
                             a->with_cas, a->cas);
}

static void test_value_header(void **state)
{
    static const struct {
        struct vh_args a;
        const char *want;
    } vc[] = {
        {{"foo", 3, 0, 5, false, 0}, "VALUE foo 0 5\r\n"},
        {{"foo", 3, 7, 0, true, 0}, "VALUE foo 7 0 0\r\n"},
        {{"k", 1, 4294967295u, 4294967295u, true, UINT64_MAX},
         "VALUE k 4294967295 4294967295 18446744073709551615\r\n"},
        {{"a\tb\x01", 4, 1, 2, true, 3}, "VALUE a\tb\x01 1 2 3\r\n"},
        {{"keyx", 3, 10, 100, false, 99}, "VALUE key 10 100\r\n"},
        {{K250, 250, 4294967295u, 4294967295u, true, UINT64_MAX},
         "VALUE " K250 " 4294967295 4294967295 18446744073709551615\r\n"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vc) / sizeof(vc[0]); i++)
        expect_exact(call_vh, &vc[i].a, vc[i].want, strlen(vc[i].want));
    /* the largest possible header fits in TEXT_VALUE_HEADER_MAX */
    assert_true(strlen(vc[5].want) <= TEXT_VALUE_HEADER_MAX);
}

struct two_str {
    const char *a, *b;
};

static size_t call_stat(char *dst, size_t cap, const void *p)
{
    const struct two_str *s = p;
    return text_stat_line(dst, cap, s->a, s->b);
}

static size_t call_client(char *dst, size_t cap, const void *p)
{
    return text_client_error(dst, cap, p);
}

static size_t call_server(char *dst, size_t cap, const void *p)
{
    return text_server_error(dst, cap, p);
}

static size_t call_number(char *dst, size_t cap, const void *p)
{
    return text_number_line(dst, cap, *(const uint64_t *)p);
}

static void test_line_composers(void **state)
{
    static const struct two_str st1 = {"pid", "1234"};
    static const struct two_str st2 = {"version", "1.6.18 zeek"};
    static const struct two_str st3 = {"x", ""};
    static const uint64_t n0 = 0, n1 = 42, nmax = UINT64_MAX, n10 = 10;

    (void)state;
    expect_exact(call_stat, &st1, "STAT pid 1234\r\n", 15);
    expect_exact(call_stat, &st2, "STAT version 1.6.18 zeek\r\n", 26);
    expect_exact(call_stat, &st3, "STAT x \r\n", 9);
    expect_exact(call_number, &n0, "0\r\n", 3);
    expect_exact(call_number, &n1, "42\r\n", 4);
    expect_exact(call_number, &n10, "10\r\n", 4);
    expect_exact(call_number, &nmax, "18446744073709551615\r\n", 22);
    expect_exact(call_client, "bad data chunk", "CLIENT_ERROR bad data chunk\r\n", 29);
    expect_exact(call_client, BADDELTA, "CLIENT_ERROR invalid numeric delta argument\r\n", 45);
    expect_exact(call_server, "out of memory", "SERVER_ERROR out of memory\r\n", 28);
    expect_exact(call_server, "", "SERVER_ERROR \r\n", 15);
}

static void test_data_block_ok(void **state)
{
    static const struct {
        const char *d;
        size_t n;
        bool ok;
    } dc[] = {
        {"hello\r\n", 7, true},  {"\r\n", 2, true},     {"hello\n\r", 7, false},
        {"hello\r", 6, false},   {"hellox\n", 7, false}, {"\n", 1, false},
        {"", 0, false},          {"\r\n\r\n", 4, true},  {"hel\r\nlo", 7, false},
        {"a\r\n", 3, true},      {"ab\r", 3, false},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(dc) / sizeof(dc[0]); i++) {
        char *buf = proto_copy(dc[i].d, dc[i].n);
        assert_int_equal(text_data_block_ok(buf, dc[i].n), dc[i].ok);
        free(buf);
    }
}

/* Every command in the header's table parses to itself at least once, so a
 * command added to TEXT_COMMANDS without a handler fails here. */
static void test_every_command_covered(void **state)
{
    bool seen[TEXT_CMD__COUNT] = {false};
    size_t i;
    int c;

    (void)state;
    for (i = 0; i < NCASES; i++) {
        if (cases[i].st == TEXT_OK)
            seen[cases[i].cmd] = true;
    }
    for (c = TEXT_CMD_NONE + 1; c < TEXT_CMD__COUNT; c++)
        assert_true(seen[c]);
}

static const struct CMUnitTest others[] = {
    cmocka_unit_test(test_every_prefix_needs_more),
    cmocka_unit_test(test_trailing_bytes_do_not_change_result),
    cmocka_unit_test(test_oversized_without_newline),
    cmocka_unit_test(test_oversized_leading_spaces),
    cmocka_unit_test(test_long_line_with_newline),
    cmocka_unit_test(test_get_128k_keys),
    cmocka_unit_test(test_next_key),
    cmocka_unit_test(test_reply_strings),
    cmocka_unit_test(test_value_header),
    cmocka_unit_test(test_line_composers),
    cmocka_unit_test(test_data_block_ok),
    cmocka_unit_test(test_every_command_covered),
};

int main(void)
{
    return proto_run_table("text", cases, NCASES, sizeof(cases[0]), run_case,
                           others, sizeof(others) / sizeof(others[0]));
}
