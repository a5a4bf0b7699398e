/*
 * tests/unit/test_meta.c - proto/meta.c against the behaviour of memcached
 * 1.6.18 as observed on the wire.
 *
 * Most cases are rows of one table: input bytes, expected status, expected
 * fields. Every row runs as its own cmocka test on an exact-size heap copy
 * of the input, so AddressSanitizer catches any read past len, and checks
 * that the input was not written. Rows marked NEWER follow the current
 * protocol.txt where 1.6.18 answers differently (see proto/meta.h); every
 * other row's status and error text was checked against the real binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/meta.h"
#include "proto/text.h"
#include "tests/unit/proto_fixture.h"

#define K10 "kkkkkkkkkk"
#define K50 K10 K10 K10 K10 K10
#define K250 K50 K50 K50 K50 K50
#define K251 K250 "k"
/* 248 base64 symbols and two skipped dots: 250 bytes, 186 decoded. */
#define B62 "QUJD" "QUJD" "QUJD" "QUJD" "QUJD" "QUJD" "QUJD" "QUJD"
#define B248 B62 B62 B62 B62 B62 B62 B62 "QUJD" "QUJD" "QUJD" "QUJD" "QUJD" "QUJD"
#define O31 "Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define O32 O31 "a"
#define F17 "s t v c f k h l u q O1 T5 N5 R5 P L I"
#define F16 "s t v c f k h l u q O1 T5 N5 R5 P L"

#define BAD "bad command line format"
#define TOKEN "bad token in command line format"
#define DUP "duplicate flag"
#define INVALID "invalid flag"
#define INVDUP "invalid or duplicate flag"
#define DECODE "error decoding key"
#define MLEN "incorrect length for M token"
#define INITIAL "invalid numeric initial value"
#define DELTA "invalid numeric delta value"
#define OPAQUE "opaque token too long"
#define MG_LONG "options flags are too long"
#define LONG "options flags too long"
#define MS_MODE "invalid mode for ms M token"
#define MA_MODE "invalid mode for ma M token"

struct mcase {
    const char *name;
    const char *in;
    size_t inlen;
    enum meta_status st;
    size_t rest;   /* bytes after the first line */
    bool newer;    /* protocol.txt behaviour, 1.6.18 differs */
    enum meta_cmd cmd;
    const char *err;
    size_t swallow;
    const char *key;
    bool b64;
    size_t nbin;
    const char *order;  /* flags in client order; NULL = none */
    const char *opaque; /* NULL = absent, "" = empty */
    uint32_t datalen;
    int32_t ttl, vivify, recache;
    uint64_t cas, new_cas, delta, initial;
    uint32_t cflags;
    char mode;
    enum meta_op op; /* NONE = the command's default */
};

#define IN(s) .in = (s), .inlen = sizeof(s) - 1
#define OK_(c, k) .st = META_OK, .cmd = META_CMD_##c, .key = (k)
#define ERR_(c) .st = META_ERROR, .cmd = META_CMD_##c
#define CE_(c, msg) .st = META_CLIENT_ERROR, .cmd = META_CMD_##c, .err = (msg)
#define FL(s) .order = (s)
#define NEWER .newer = true

static const struct mcase cases[] = {
    /* ---- mn ---- */
    {"mn", IN("mn\r\n"), OK_(MN, NULL)},
    {"mn bare newline", IN("mn\n"), OK_(MN, NULL)},
    {"mn ignores arguments", IN("mn foo bar\r\n"), OK_(MN, NULL)},
    {"mn trailing space", IN("mn \r\n"), OK_(MN, NULL)},
    {"mn leading spaces", IN("   mn\r\n"), OK_(MN, NULL)},
    {"mn pipelined", IN("mn\r\nmn\r\n"), .rest = 4, OK_(MN, NULL)},

    /* ---- me ---- */
    {"me", IN("me foo\r\n"), OK_(ME, "foo")},
    {"me extra token", IN("me foo bar\r\n"), OK_(ME, "foo")},
    {"me base64", IN("me Zm9v b\r\n"), OK_(ME, "Zm9v"), .b64 = true, .nbin = 3, FL("b")},
    {"me base64 then more", IN("me Zm9v b x\r\n"), OK_(ME, "Zm9v"), .b64 = true, .nbin = 3, FL("b")},
    {"me b only right after key", IN("me Zm9v x b\r\n"), OK_(ME, "Zm9v")},
    {"me bb is not b", IN("me Zm9v bb\r\n"), OK_(ME, "Zm9v")},
    {"me bad base64", IN("me foo b\r\n"), CE_(ME, BAD)},
    {"me alone", IN("me\r\n"), CE_(ME, BAD)},
    {"me trailing space", IN("me \r\n"), CE_(ME, BAD)},
    {"me key 250", IN("me " K250 "\r\n"), OK_(ME, K250)},
    {"me key 251", IN("me " K251 "\r\n"), CE_(ME, BAD)},
    {"me NUL ends key", IN("me foo\0 b\r\n"), OK_(ME, "foo")},

    /* ---- mg: shapes ---- */
    {"mg alone", IN("mg\r\n"), ERR_(MG)},
    {"mg trailing space", IN("mg \r\n"), ERR_(MG)},
    {"mg no flags", IN("mg foo\r\n"), OK_(MG, "foo")},
    {"mg v", IN("mg foo v\r\n"), OK_(MG, "foo"), FL("v")},
    {"mg bare newline", IN("mg foo v\n"), OK_(MG, "foo"), FL("v")},
    {"mg return flags in order", IN("mg foo s t v c f k h l u q\r\n"), OK_(MG, "foo"), FL("stvcfkhluq")},
    {"mg reversed order", IN("mg foo q u l h k f c v t s\r\n"), OK_(MG, "foo"), FL("qulhkfcvts")},
    {"mg opaque", IN("mg foo O123\r\n"), OK_(MG, "foo"), FL("O"), .opaque = "123"},
    {"mg empty opaque", IN("mg foo O\r\n"), OK_(MG, "foo"), FL("O"), .opaque = ""},
    {"mg opaque 32 bytes", IN("mg foo " O31 "\r\n"), OK_(MG, "foo"), FL("O"), .opaque = O31 + 1},
    {"mg opaque 33 bytes", IN("mg foo " O32 "\r\n"), CE_(MG, OPAQUE)},
    {"mg flag error beats opaque", IN("mg foo " O32 " Tx\r\n"), CE_(MG, TOKEN)},
    {"mg T", IN("mg foo T30\r\n"), OK_(MG, "foo"), FL("T"), .ttl = 30},
    {"mg N", IN("mg foo N30\r\n"), OK_(MG, "foo"), FL("N"), .vivify = 30},
    {"mg R", IN("mg foo R30\r\n"), OK_(MG, "foo"), FL("R"), .recache = 30},
    {"mg anti-dogpile", IN("mg foo N30 R10 T60 v c\r\n"), OK_(MG, "foo"), FL("NRTvc"), .vivify = 30, .recache = 10, .ttl = 60},
    {"mg E", IN("mg foo E123\r\n"), NEWER, OK_(MG, "foo"), FL("E"), .new_cas = 123},
    {"mg T negative", IN("mg foo T-1\r\n"), OK_(MG, "foo"), FL("T"), .ttl = -1},
    {"mg T plus sign", IN("mg foo T+5\r\n"), OK_(MG, "foo"), FL("T"), .ttl = 5},
    {"mg T wraps 2^32+10", IN("mg foo T4294967306\r\n"), OK_(MG, "foo"), FL("T"), .ttl = 10},
    {"mg T 2^31 wraps negative", IN("mg foo T2147483648\r\n"), OK_(MG, "foo"), FL("T"), .ttl = INT32_MIN},
    {"mg T 2^63-1 wraps to -1", IN("mg foo T9223372036854775807\r\n"), OK_(MG, "foo"), FL("T"), .ttl = -1},
    {"mg T 2^63 out of range", IN("mg foo T9223372036854775808\r\n"), CE_(MG, TOKEN)},
    {"mg T empty", IN("mg foo T\r\n"), CE_(MG, TOKEN)},
    {"mg T letters", IN("mg foo Tx\r\n"), CE_(MG, TOKEN)},
    {"mg T trailing garbage", IN("mg foo T5x\r\n"), CE_(MG, TOKEN)},
    {"mg T tab then garbage", IN("mg foo T5\tjunk\r\n"), OK_(MG, "foo"), FL("T"), .ttl = 5},
    {"mg T trailing cr", IN("mg foo T5\r\r\n"), OK_(MG, "foo"), FL("T"), .ttl = 5},
    {"mg N empty", IN("mg foo N\r\n"), CE_(MG, TOKEN)},
    {"mg N letters", IN("mg foo Nx\r\n"), CE_(MG, TOKEN)},
    {"mg R empty", IN("mg foo R\r\n"), CE_(MG, TOKEN)},
    {"mg R letters", IN("mg foo Rx\r\n"), CE_(MG, TOKEN)},
    {"mg letters after plain flag ignored", IN("mg foo vxyz s\r\n"), OK_(MG, "foo"), FL("vs")},
    {"mg kbar is k", IN("mg foo kbar\r\n"), OK_(MG, "foo"), FL("k")},
    {"mg qq is q", IN("mg foo qq\r\n"), OK_(MG, "foo"), FL("q")},
    /* the shared flag list: meaningless here, still accepted */
    {"mg accepts C", IN("mg foo C1\r\n"), OK_(MG, "foo"), FL("C"), .cas = 1},
    {"mg accepts F", IN("mg foo F5\r\n"), OK_(MG, "foo"), FL("F"), .cflags = 5},
    {"mg accepts any M", IN("mg foo M1\r\n"), OK_(MG, "foo"), FL("M"), .mode = '1'},
    {"mg accepts D", IN("mg foo D5\r\n"), OK_(MG, "foo"), FL("D"), .delta = 5},
    {"mg accepts J", IN("mg foo J7\r\n"), OK_(MG, "foo"), FL("J"), .initial = 7},
    {"mg accepts I", IN("mg foo I\r\n"), OK_(MG, "foo"), FL("I")},
    {"mg accepts P and L", IN("mg foo Pxyz L\r\n"), OK_(MG, "foo"), FL("PL")},
    {"mg x", IN("mg foo x\r\n"), NEWER, OK_(MG, "foo"), FL("x")},
    /* bad flags */
    {"mg unknown flag", IN("mg foo zz\r\n"), CE_(MG, INVALID)},
    {"mg X is not a flag", IN("mg foo X\r\n"), CE_(MG, INVALID)},
    {"mg S is not a flag", IN("mg foo S5\r\n"), CE_(MG, INVALID)},
    {"mg e is not a flag", IN("mg foo e\r\n"), CE_(MG, INVALID)},
    {"mg a is not a flag", IN("mg foo a\r\n"), CE_(MG, INVALID)},
    {"mg digit is not a flag", IN("mg foo 5\r\n"), CE_(MG, INVALID)},
    {"mg control byte is not a flag", IN("mg foo \x01\r\n"), CE_(MG, INVALID)},
    {"mg duplicate", IN("mg foo v v\r\n"), CE_(MG, DUP)},
    {"mg duplicate by first letter", IN("mg foo vv v\r\n"), CE_(MG, DUP)},
    {"mg duplicate T", IN("mg foo T1 T2\r\n"), CE_(MG, DUP)},
    {"mg byte 0x80 is duplicate", IN("mg foo \x80\r\n"), CE_(MG, DUP)},
    {"mg byte 0x7f is duplicate", IN("mg foo \x7f\r\n"), CE_(MG, DUP)},
    {"mg unknown stops the scan", IN("mg foo Tx zz\r\n"), CE_(MG, INVALID)},
    {"mg unknown before duplicate", IN("mg foo zz v v\r\n"), CE_(MG, INVALID)},
    {"mg duplicate before unknown", IN("mg foo v v zz\r\n"), CE_(MG, DUP)},
    {"mg duplicate after bad arg", IN("mg foo Tx T1\r\n"), CE_(MG, DUP)},
    {"mg last arg error wins", IN("mg foo Tx Dx\r\n"), CE_(MG, DELTA)},
    {"mg last arg error wins 2", IN("mg foo Dx Tx\r\n"), CE_(MG, TOKEN)},
    {"mg bad F default text", IN("mg foo Fx\r\n"), CE_(MG, BAD)},
    {"mg bad F keeps earlier text", IN("mg foo Dx Fx\r\n"), CE_(MG, DELTA)},
    {"mg C letters", IN("mg foo Cx\r\n"), CE_(MG, TOKEN)},
    {"mg C negative", IN("mg foo C-1\r\n"), CE_(MG, TOKEN)},
    {"mg C max", IN("mg foo C18446744073709551615\r\n"), OK_(MG, "foo"), FL("C"), .cas = UINT64_MAX},
    {"mg C 2^64", IN("mg foo C18446744073709551616\r\n"), CE_(MG, TOKEN)},
    {"mg C -(2^64-1) is 1", IN("mg foo C-18446744073709551615\r\n"), OK_(MG, "foo"), FL("C"), .cas = 1},
    {"mg F wraps", IN("mg foo F4294967297\r\n"), OK_(MG, "foo"), FL("F"), .cflags = 1},
    {"mg F negative", IN("mg foo F-1\r\n"), CE_(MG, BAD)},
    {"mg F empty", IN("mg foo F\r\n"), CE_(MG, BAD)},
    {"mg J letters", IN("mg foo Jx\r\n"), CE_(MG, INITIAL)},
    {"mg J empty", IN("mg foo J\r\n"), CE_(MG, INITIAL)},
    {"mg D empty", IN("mg foo D\r\n"), CE_(MG, DELTA)},
    {"mg D negative", IN("mg foo D-1\r\n"), CE_(MG, DELTA)},
    {"mg M empty", IN("mg foo M\r\n"), CE_(MG, MLEN)},
    {"mg M too long", IN("mg foo MEE\r\n"), CE_(MG, MLEN)},
    /* base64 keys */
    {"mg b", IN("mg Zm9v b\r\n"), OK_(MG, "Zm9v"), FL("b"), .b64 = true, .nbin = 3},
    {"mg b last", IN("mg Zm9v k v b\r\n"), OK_(MG, "Zm9v"), FL("kvb"), .b64 = true, .nbin = 3},
    {"mg b binary bytes", IN("mg AAEC/w== b\r\n"), OK_(MG, "AAEC/w=="), FL("b"), .b64 = true, .nbin = 4},
    {"mg b one byte", IN("mg AA== b\r\n"), OK_(MG, "AA=="), FL("b"), .b64 = true, .nbin = 1},
    {"mg b pad in third place", IN("mg Zg=A b\r\n"), OK_(MG, "Zg=A"), FL("b"), .b64 = true, .nbin = 2},
    {"mg b skips other bytes", IN("mg Z!m9v b\r\n"), OK_(MG, "Z!m9v"), FL("b"), .b64 = true, .nbin = 3},
    {"mg b stops after padding", IN("mg Zg==Zm9v b\r\n"), OK_(MG, "Zg==Zm9v"), FL("b"), .b64 = true, .nbin = 1},
    {"mg b 250 bytes", IN("mg " B248 ".. b\r\n"), OK_(MG, B248 ".."), FL("b"), .b64 = true, .nbin = 186},
    {"mg b 252 bytes", IN("mg " B248 "QUJD b\r\n"), CE_(MG, BAD)},
    {"mg b not base64", IN("mg foo b\r\n"), CE_(MG, DECODE)},
    {"mg b all padding", IN("mg ==== b\r\n"), CE_(MG, DECODE)},
    {"mg b three pads", IN("mg A=== b\r\n"), CE_(MG, DECODE)},
    {"mg b five symbols", IN("mg Zm9=v b\r\n"), CE_(MG, DECODE)},
    {"mg b duplicate", IN("mg Zm9v b b\r\n"), CE_(MG, DUP)},
    {"mg b then bad T", IN("mg foo b Tx\r\n"), CE_(MG, TOKEN)},
    {"mg bad T then b", IN("mg foo Tx b\r\n"), CE_(MG, DECODE)},
    {"mg key not base64 without b", IN("mg Zm9v k\r\n"), OK_(MG, "Zm9v"), FL("k")},
    /* key length and token count */
    {"mg key 250", IN("mg " K250 " v\r\n"), OK_(MG, K250), FL("v")},
    {"mg key 251", IN("mg " K251 "\r\n"), CE_(MG, BAD)},
    {"mg key 251 beats token count", IN("mg " K251 " a b c d e f g h i j k l m n o p q r s t\r\n"), CE_(MG, BAD)},
    {"mg 17 flags", IN("mg foo " F17 "\r\n"), OK_(MG, "foo"), FL("stvcfkhluqOTNRPLI"), .opaque = "1", .ttl = 5, .vivify = 5, .recache = 5},
    {"mg 18 flags", IN("mg foo " F17 " F1\r\n"), CE_(MG, MG_LONG)},
    {"mg token count before flags", IN("mg foo " F17 " zz\r\n"), CE_(MG, MG_LONG)},
    {"mg 30 tokens", IN("mg foo a b c d e f g h i j k l m n o p q r s t u v w x y z A B\r\n"), CE_(MG, MG_LONG)},
    /* framing */
    {"mg leading spaces", IN("   mg foo s\r\n"), OK_(MG, "foo"), FL("s")},
    {"mg runs of spaces", IN("mg  foo   v  \r\n"), OK_(MG, "foo"), FL("v")},
    {"mg NUL ends the line", IN("mg foo s\0 zz\r\n"), OK_(MG, "foo"), FL("s")},
    {"mg one cr stripped", IN("mg foo s\r\r\n"), OK_(MG, "foo"), FL("s")},
    {"mg key with control bytes", IN("mg a\x01\xff v\r\n"), OK_(MG, "a\x01\xff"), FL("v")},
    {"mg tab is not a separator", IN("mg\tfoo\r\n"), ERR_(NONE)},
    {"mg pipelined", IN("mg foo v\r\nmg bar\r\n"), .rest = 8, OK_(MG, "foo"), FL("v")},
    {"unknown m command", IN("mx foo\r\n"), ERR_(NONE)},
    {"one letter m", IN("m foo\r\n"), ERR_(NONE)},
    {"three letter m", IN("mgg foo\r\n"), ERR_(NONE)},
    {"uppercase MG", IN("MG foo\r\n"), ERR_(NONE)},
    {"empty line", IN("\r\n"), ERR_(NONE)},
    {"spaces only", IN("   \r\n"), ERR_(NONE)},
    {"no newline yet", IN("mg foo v"), .st = META_NEED_MORE},
    {"nothing yet", IN(""), .st = META_NEED_MORE},

    /* ---- ms ---- */
    {"ms", IN("ms foo 2\r\n"), OK_(MS, "foo"), .datalen = 2},
    {"ms data not consumed", IN("ms foo 2\r\nhi\r\n"), .rest = 4, OK_(MS, "foo"), .datalen = 2},
    {"ms zero length", IN("ms foo 0\r\n"), OK_(MS, "foo"), .datalen = 0},
    {"ms all its flags", IN("ms foo 2 T30 F5 C9 k c O1 q I s\r\n"), OK_(MS, "foo"), .datalen = 2, FL("TFCkcOqIs"), .ttl = 30, .cflags = 5, .cas = 9, .opaque = "1"},
    {"ms E", IN("ms foo 2 E77\r\n"), NEWER, OK_(MS, "foo"), .datalen = 2, FL("E"), .new_cas = 77},
    {"ms N", IN("ms foo 2 MA N30\r\n"), OK_(MS, "foo"), .datalen = 2, FL("MN"), .mode = 'A', .op = META_OP_APPEND, .vivify = 30},
    {"ms mode S", IN("ms foo 2 MS\r\n"), OK_(MS, "foo"), .datalen = 2, FL("M"), .mode = 'S', .op = META_OP_SET},
    {"ms mode E", IN("ms foo 2 ME\r\n"), OK_(MS, "foo"), .datalen = 2, FL("M"), .mode = 'E', .op = META_OP_ADD},
    {"ms mode A", IN("ms foo 2 MA\r\n"), OK_(MS, "foo"), .datalen = 2, FL("M"), .mode = 'A', .op = META_OP_APPEND},
    {"ms mode P", IN("ms foo 2 MP\r\n"), OK_(MS, "foo"), .datalen = 2, FL("M"), .mode = 'P', .op = META_OP_PREPEND},
    {"ms mode R", IN("ms foo 2 MR\r\n"), OK_(MS, "foo"), .datalen = 2, FL("M"), .mode = 'R', .op = META_OP_REPLACE},
    {"ms mode s refused", IN("ms foo 2 Ms\r\n"), CE_(MS, MS_MODE), .swallow = 4},
    {"ms mode e refused", IN("ms foo 2 Me\r\n"), CE_(MS, MS_MODE), .swallow = 4},
    {"ms mode a refused", IN("ms foo 2 Ma\r\n"), CE_(MS, MS_MODE), .swallow = 4},
    {"ms mode p refused", IN("ms foo 2 Mp\r\n"), CE_(MS, MS_MODE), .swallow = 4},
    {"ms mode r refused", IN("ms foo 2 Mr\r\n"), CE_(MS, MS_MODE), .swallow = 4},
    {"ms mode X", IN("ms foo 2 MX\r\nhi\r\n"), .rest = 4, CE_(MS, MS_MODE), .swallow = 4},
    {"ms mode I is ma's", IN("ms foo 2 MI\r\n"), CE_(MS, MS_MODE), .swallow = 4},
    {"ms mode empty", IN("ms foo 2 M\r\n"), CE_(MS, MLEN), .swallow = 4},
    {"ms mode too long", IN("ms foo 2 MSS\r\n"), CE_(MS, MLEN), .swallow = 4},
    {"ms alone", IN("ms\r\n"), ERR_(MS)},
    {"ms no length", IN("ms foo\r\n"), CE_(MS, BAD)},
    {"ms length letters", IN("ms foo x\r\nhi\r\n"), .rest = 4, CE_(MS, BAD)},
    {"ms length negative", IN("ms foo -1\r\n"), CE_(MS, BAD)},
    {"ms length garbage", IN("ms foo 2x\r\n"), CE_(MS, BAD)},
    {"ms length INT_MAX-1", IN("ms foo 2147483646\r\n"), CE_(MS, BAD)},
    {"ms length INT_MAX-2", IN("ms foo 2147483645\r\n"), OK_(MS, "foo"), .datalen = 2147483645u},
    {"ms length wraps 2^32+2", IN("ms foo 4294967298\r\n"), OK_(MS, "foo"), .datalen = 2},
    {"ms length plus sign", IN("ms foo +2\r\n"), OK_(MS, "foo"), .datalen = 2},
    {"ms length tab junk", IN("ms foo 2\tx\r\n"), OK_(MS, "foo"), .datalen = 2},
    {"ms old S syntax", IN("ms foo S2\r\n"), CE_(MS, BAD)},
    {"ms S flag", IN("ms foo 2 S2\r\n"), CE_(MS, INVALID), .swallow = 4},
    {"ms unknown flag", IN("ms foo 2 zz\r\n"), CE_(MS, INVALID), .swallow = 4},
    {"ms duplicate", IN("ms foo 2 v v\r\n"), CE_(MS, DUP), .swallow = 4},
    {"ms T letters", IN("ms foo 2 Tx\r\n"), CE_(MS, TOKEN), .swallow = 4},
    {"ms F letters", IN("ms foo 2 Fx\r\n"), CE_(MS, BAD), .swallow = 4},
    {"ms F wraps", IN("ms foo 2 F4294967297\r\n"), OK_(MS, "foo"), .datalen = 2, FL("F"), .cflags = 1},
    {"ms C letters", IN("ms foo 2 Cx\r\n"), CE_(MS, TOKEN), .swallow = 4},
    {"ms C negative", IN("ms foo 2 C-1\r\n"), CE_(MS, TOKEN), .swallow = 4},
    {"ms C empty", IN("ms foo 2 C\r\n"), CE_(MS, TOKEN), .swallow = 4},
    {"ms q does not hide errors", IN("ms foo 2 q Tx\r\n"), CE_(MS, TOKEN), .swallow = 4},
    {"ms unknown stops scan", IN("ms foo 2 Tx zz\r\n"), CE_(MS, INVALID), .swallow = 4},
    {"ms last arg error wins", IN("ms foo 2 Tx Dx\r\n"), CE_(MS, DELTA), .swallow = 4},
    {"ms duplicate after bad arg", IN("ms foo 2 Dx T1 T2\r\n"), CE_(MS, DUP), .swallow = 4},
    {"ms b not base64", IN("ms foo 2 b\r\n"), CE_(MS, DECODE), .swallow = 4},
    {"ms b", IN("ms Zm9v 2 k c O9 b\r\n"), OK_(MS, "Zm9v"), .datalen = 2, FL("kcOb"), .opaque = "9", .b64 = true, .nbin = 3},
    {"ms opaque too long", IN("ms foo 2 " O32 "\r\n"), CE_(MS, OPAQUE), .swallow = 4},
    {"ms mode beats opaque", IN("ms foo 2 " O32 " MX\r\n"), CE_(MS, MS_MODE), .swallow = 4},
    {"ms flag error beats mode", IN("ms foo 2 MX Tx\r\n"), CE_(MS, TOKEN), .swallow = 4},
    {"ms swallow 102", IN("ms foo 100 zz\r\n"), CE_(MS, INVALID), .swallow = 102},
    {"ms swallow 2", IN("ms foo 0 zz\r\n"), CE_(MS, INVALID), .swallow = 2},
    {"ms key 250", IN("ms " K250 " 2\r\n"), OK_(MS, K250), .datalen = 2},
    {"ms key 251 swallows nothing", IN("ms " K251 " 2\r\n"), CE_(MS, BAD)},
    {"ms 16 flags", IN("ms foo 2 " F16 "\r\n"), OK_(MS, "foo"), .datalen = 2, FL("stvcfkhluqOTNRPL"), .opaque = "1", .ttl = 5, .vivify = 5, .recache = 5},
    {"ms 17 flags swallows nothing", IN("ms foo 2 " F17 "\r\n"), CE_(MS, LONG)},
    {"ms token count before length", IN("ms foo x " F17 "\r\n"), CE_(MS, LONG)},
    {"ms key before token count", IN("ms " K251 " 2 " F17 "\r\n"), CE_(MS, BAD)},

    /* ---- md ---- */
    {"md", IN("md foo\r\n"), OK_(MD, "foo")},
    {"md all its flags", IN("md foo C5 I T30 k O1 q\r\n"), OK_(MD, "foo"), FL("CITkOq"), .cas = 5, .ttl = 30, .opaque = "1"},
    {"md x", IN("md foo x\r\n"), NEWER, OK_(MD, "foo"), FL("x")},
    {"md E", IN("md foo E9\r\n"), NEWER, OK_(MD, "foo"), FL("E"), .new_cas = 9},
    {"md base64", IN("md Zm9vYmFy b k O5\r\n"), OK_(MD, "Zm9vYmFy"), FL("bkO"), .b64 = true, .nbin = 6, .opaque = "5"},
    {"md ignores M", IN("md foo MX\r\n"), OK_(MD, "foo"), FL("M"), .mode = 'X'},
    {"md unknown flag", IN("md foo zz\r\n"), CE_(MD, INVDUP)},
    {"md duplicate", IN("md foo v v\r\n"), CE_(MD, INVDUP)},
    {"md T letters", IN("md foo Tx\r\n"), CE_(MD, INVDUP)},
    {"md F letters", IN("md foo Fx\r\n"), CE_(MD, INVDUP)},
    {"md bad base64", IN("md foo b\r\n"), CE_(MD, INVDUP)},
    {"md M empty", IN("md foo M\r\n"), CE_(MD, INVDUP)},
    {"md opaque too long", IN("md foo " O32 "\r\n"), CE_(MD, OPAQUE)},
    {"md alone", IN("md\r\n"), ERR_(MD)},
    {"md key 250", IN("md " K250 "\r\n"), OK_(MD, K250)},
    {"md key 251", IN("md " K251 "\r\n"), CE_(MD, BAD)},
    {"md 17 flags", IN("md foo " F17 "\r\n"), OK_(MD, "foo"), FL("stvcfkhluqOTNRPLI"), .opaque = "1", .ttl = 5, .vivify = 5, .recache = 5},
    {"md 18 flags", IN("md foo " F17 " F1\r\n"), CE_(MD, LONG)},

    /* ---- ma ---- */
    {"ma", IN("ma foo\r\n"), OK_(MA, "foo")},
    {"ma all its flags", IN("ma foo D5 J10 N30 T60 v t c k O1 q\r\n"), OK_(MA, "foo"), FL("DJNTvtckOq"), .delta = 5, .initial = 10, .vivify = 30, .ttl = 60, .opaque = "1"},
    {"ma mode I", IN("ma foo MI\r\n"), OK_(MA, "foo"), FL("M"), .mode = 'I', .op = META_OP_INCR},
    {"ma mode +", IN("ma foo M+\r\n"), OK_(MA, "foo"), FL("M"), .mode = '+', .op = META_OP_INCR},
    {"ma mode D", IN("ma foo MD\r\n"), OK_(MA, "foo"), FL("M"), .mode = 'D', .op = META_OP_DECR},
    {"ma mode -", IN("ma foo M-\r\n"), OK_(MA, "foo"), FL("M"), .mode = '-', .op = META_OP_DECR},
    {"ma mode i refused", IN("ma foo Mi\r\n"), CE_(MA, MA_MODE)},
    {"ma mode d refused", IN("ma foo Md\r\n"), CE_(MA, MA_MODE)},
    {"ma mode X", IN("ma foo MX\r\n"), CE_(MA, MA_MODE)},
    {"ma mode E is ms's", IN("ma foo ME\r\n"), CE_(MA, MA_MODE)},
    {"ma mode empty", IN("ma foo M\r\n"), CE_(MA, INVDUP)},
    {"ma mode too long", IN("ma foo MII\r\n"), CE_(MA, INVDUP)},
    {"ma mode beats opaque", IN("ma foo MX " O32 "\r\n"), CE_(MA, MA_MODE)},
    {"ma opaque too long", IN("ma foo " O32 "\r\n"), CE_(MA, OPAQUE)},
    {"ma D max", IN("ma foo D18446744073709551615\r\n"), OK_(MA, "foo"), FL("D"), .delta = UINT64_MAX},
    {"ma D zero", IN("ma foo D0\r\n"), OK_(MA, "foo"), FL("D"), .delta = 0},
    {"ma D 2^64", IN("ma foo D18446744073709551616\r\n"), CE_(MA, INVDUP)},
    {"ma D negative", IN("ma foo D-1\r\n"), CE_(MA, INVDUP)},
    {"ma J letters", IN("ma foo Jx\r\n"), CE_(MA, INVDUP)},
    {"ma J max", IN("ma foo J18446744073709551615\r\n"), OK_(MA, "foo"), FL("J"), .initial = UINT64_MAX},
    {"ma E", IN("ma foo E5\r\n"), NEWER, OK_(MA, "foo"), FL("E"), .new_cas = 5},
    {"ma C", IN("ma foo C5\r\n"), OK_(MA, "foo"), FL("C"), .cas = 5},
    {"ma unknown flag", IN("ma foo zz\r\n"), CE_(MA, INVDUP)},
    {"ma duplicate", IN("ma foo v v\r\n"), CE_(MA, INVDUP)},
    {"ma base64", IN("ma Zm9vYmFy b k O5\r\n"), OK_(MA, "Zm9vYmFy"), FL("bkO"), .b64 = true, .nbin = 6, .opaque = "5"},
    {"ma alone", IN("ma\r\n"), ERR_(MA)},
    {"ma key 250", IN("ma " K250 "\r\n"), OK_(MA, K250)},
    {"ma key 251", IN("ma " K251 "\r\n"), CE_(MA, BAD)},
    {"ma 18 flags", IN("ma foo " F17 " F1\r\n"), CE_(MA, LONG)},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int parse_any(const char *buf, size_t len, void *req,
                     size_t *consumed)
{
    return (int)meta_parse(buf, len, req, consumed);
}

static bool case_has(const struct mcase *c, char f)
{
    return c->order != NULL && strchr(c->order, f) != NULL;
}

static enum meta_op default_op(const struct mcase *c)
{
    if (c->op != META_OP_NONE)
        return c->op;
    if (c->cmd == META_CMD_MS)
        return META_OP_SET;
    return c->cmd == META_CMD_MA ? META_OP_INCR : META_OP_NONE;
}

static void check_flags(const struct mcase *c, const struct meta_request *req)
{
    const char *order = c->order != NULL ? c->order : "";
    uint64_t want = 0;
    size_t i;

    for (i = 0; order[i] != '\0'; i++)
        want |= META_FLAG(order[i]);
    assert_int_equal(req->flags, want);
    assert_int_equal(req->norder, strlen(order));
    assert_memory_equal(req->order, order, req->norder);
}

static void check_ok(const struct mcase *c, const char *buf,
                     const struct meta_request *req)
{
    proto_assert_span(req->key, req->nkey, c->key);
    if (req->key != NULL)
        assert_true(req->key >= buf && req->key + req->nkey <= buf + c->inlen);
    assert_int_equal(req->key_b64, c->b64);
    assert_int_equal(req->nbinkey, c->nbin);
    check_flags(c, req);
    proto_assert_span(req->opaque, req->nopaque, c->opaque);
    assert_int_equal(req->datalen, c->datalen);
    assert_int_equal(req->ttl, c->ttl);
    assert_int_equal(req->vivify_ttl, c->vivify);
    assert_int_equal(req->recache, c->recache);
    assert_int_equal(req->cas, c->cas);
    assert_int_equal(req->new_cas, c->new_cas);
    assert_int_equal(req->delta, case_has(c, 'D') ? c->delta : 1);
    assert_int_equal(req->initial, c->initial);
    assert_int_equal(req->client_flags, c->cflags);
    assert_int_equal(req->mode, c->mode);
    assert_int_equal(req->op, default_op(c));
    assert_null(req->error);
    assert_int_equal(req->swallow, 0);
}

static void run_case(void **state)
{
    const struct mcase *c = *state;
    char *buf = proto_copy(c->in, c->inlen);
    struct meta_request req;
    size_t consumed = 12345;
    enum meta_status st;

    st = meta_parse(buf, c->inlen, &req, &consumed);
    assert_int_equal(st, c->st);
    if (st == META_NEED_MORE) {
        assert_int_equal(consumed, 0);
    } else {
        assert_int_equal(consumed, c->inlen - c->rest);
        assert_int_equal(req.cmd, c->cmd);
    }
    if (st == META_CLIENT_ERROR) {
        assert_non_null(req.error);
        assert_string_equal(req.error, c->err);
        assert_int_equal(req.swallow, c->swallow);
    } else if (st == META_OK) {
        check_ok(c, buf, &req);
    }
    assert_memory_equal(buf, c->in, c->inlen);
    free(buf);
}

/* ---------------------------------------------------------------------
 * Every prefix of a request is "need more"; the whole one parses.
 * --------------------------------------------------------------------- */

struct split_case {
    const char *in;
    size_t inlen;
    enum meta_status st;
    enum meta_cmd cmd;
};

#define SPLIT(s, status, c) {(s), sizeof(s) - 1, (status), META_CMD_##c}

static const struct split_case splits[] = {
    SPLIT("mn\r\n", META_OK, MN),
    SPLIT("me Zm9v b\r\n", META_OK, ME),
    SPLIT("mg foo s t v c f k h l O123 q\r\n", META_OK, MG),
    SPLIT("mg " K250 " v\r\n", META_OK, MG),
    SPLIT("mg AAEC/w== b k v\r\n", META_OK, MG),
    SPLIT("mg foo N30 R10 T-1\n", META_OK, MG),
    SPLIT("ms foo 5 T30 F4294967295 C18446744073709551615 MA I\r\n", META_OK, MS),
    SPLIT("md foo C5 I T30 q\r\n", META_OK, MD),
    SPLIT("ma foo D18446744073709551615 J1 N0 M- v\r\n", META_OK, MA),
    SPLIT("mg foo v v\r\n", META_CLIENT_ERROR, MG),
    SPLIT("ms foo 2 zz\r\n", META_CLIENT_ERROR, MS),
    SPLIT("mg " K251 "\r\n", META_CLIENT_ERROR, MG),
    SPLIT("mg\r\n", META_ERROR, MG),
    SPLIT("mz foo\r\n", META_ERROR, NONE),
};

static void test_every_prefix_needs_more(void **state)
{
    size_t i;
    struct meta_request req;

    (void)state;
    for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
        const struct split_case *s = &splits[i];

        proto_assert_split(s->in, s->inlen, s->st, META_NEED_MORE, parse_any,
                           &req);
        assert_int_equal(req.cmd, s->cmd);
    }
}

/* The same request followed by arbitrary bytes gives the same request. */
static void test_trailing_bytes_do_not_change_result(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
        const struct split_case *s = &splits[i];
        struct meta_request a, b;

        proto_assert_tail(s->in, s->inlen, s->st, parse_any, &a, &b);
        assert_memory_equal(&a, &b, sizeof(a));
    }
}

static void test_oversized_without_newline(void **state)
{
    static const size_t sizes[] = {2047, 2048, 2049, 5000};
    size_t i, consumed;
    struct meta_request req;

    (void)state;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *buf = malloc(sizes[i]);
        assert_non_null(buf);
        memset(buf, 'k', sizes[i]);
        memcpy(buf, "mg ", 3);
        consumed = 7;
        assert_int_equal(meta_parse(buf, sizes[i], &req, &consumed),
                         sizes[i] <= META_LINE_MAX ? META_NEED_MORE : META_CLOSE);
        assert_int_equal(consumed, 0);
        free(buf);
    }
}

/* "mn\rd" is one four-byte token, not the meta command mn: memcached
 * 1.6.18 hangs up on "mn\rd H HTTP/1.1\r\n" like on any HTTP request
 * line, where the daemon used to answer ERROR from the meta parser. */
static void test_cr_inside_first_token_is_not_meta(void **state)
{
    static const char line[] = "mn\rd H HTTP/1.1\r\n";
    char *buf = proto_copy(line, sizeof(line) - 1);
    struct text_request req;
    size_t consumed;

    (void)state;
    assert_false(meta_is_meta_line(buf, sizeof(line) - 1));
    assert_int_equal(text_parse(buf, sizeof(line) - 1, &req, &consumed),
                     TEXT_CLOSE);
    assert_false(meta_is_meta_line(buf, 3)); /* "mn\r": cannot tell yet */
    assert_false(meta_is_meta_line("mn\r\r\n", 5));
    assert_true(meta_is_meta_line("mn\r\n", 4));
    free(buf);
}

static void test_is_meta_line(void **state)
{
#define L(s) (s), sizeof(s) - 1
    static const struct {
        const char *s;
        size_t n;
        bool yes;
    } lc[] = {
        {L("mg foo"), true}, {L("mn\r\n"), true},  {L("mn\n"), true},
        {L("  ms k 1"), true}, {L("mx foo"), true}, {L("me\0"), true},
        {L("mg"), false},     {L("m"), false},      {L(""), false},
        {L("mgg foo"), false}, {L("get foo"), false}, {L("MG foo"), false},
        {L("   "), false},    {L("m\tfoo"), false},
    };
#undef L
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lc) / sizeof(lc[0]); i++) {
        char *buf = proto_copy(lc[i].s, lc[i].n);
        assert_int_equal(meta_is_meta_line(buf, lc[i].n), lc[i].yes);
        free(buf);
    }
}

/* ---------------------------------------------------------------------
 * base64 keys
 * --------------------------------------------------------------------- */

static void test_key_decode(void **state)
{
    static const struct {
        const char *in;
        const char *out;
        size_t nout; /* 0 = error */
    } dc[] = {
        {"Zm9v", "foo", 3},        {"Zm9vYmFy", "foobar", 6}, {"Zm8=", "fo", 2},
        {"Zg==", "f", 1},          {"Zh==", "f", 1},          {"AAEC/w==", "\0\1\2\377", 4},
        {"Zg=A", "f\0", 2},        {"Z!m9v", "foo", 3},       {"Z.m.9.v", "foo", 3},
        {"Zg==Zm9v", "f", 1},      {"+/+/", "\373\377\277", 3},
        {"foo", NULL, 0},          {"====", NULL, 0},         {"A===", NULL, 0},
        {"Zm9=v", NULL, 0},        {"", NULL, 0},             {"!!!!", NULL, 0},
        {"Zm9vY", NULL, 0},        {"Zm9", NULL, 0},
    };
    unsigned char out[META_BINKEY_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(dc) / sizeof(dc[0]); i++) {
        size_t n = strlen(dc[i].in);
        char *buf = proto_copy(dc[i].in, n);
        assert_int_equal(meta_key_decode(buf, n, out, sizeof(out)), dc[i].nout);
        if (dc[i].nout != 0)
            assert_memory_equal(out, dc[i].out, dc[i].nout);
        free(buf);
    }
    /* the output must fit */
    assert_int_equal(meta_key_decode("Zm9vYmFy", 8, out, 5), 0);
    assert_int_equal(meta_key_decode("Zm9vYmFy", 8, out, 6), 6);
}

/* Every length 1..60 and every byte value survive encode then decode. */
static void test_key_round_trip(void **state)
{
    unsigned char src[64], back[64];
    char enc[96];
    size_t n, i;

    (void)state;
    for (n = 1; n <= 60; n++) {
        for (i = 0; i < n; i++)
            src[i] = (unsigned char)(i * 37 + n * 11);
        assert_int_equal(meta_key_encode(src, n, enc, sizeof(enc)), (n + 2) / 3 * 4);
        assert_int_equal(meta_key_decode(enc, (n + 2) / 3 * 4, back, sizeof(back)), n);
        assert_memory_equal(src, back, n);
    }
    assert_int_equal(meta_key_encode((const unsigned char *)"foo", 3, enc, 3), 0);
    assert_int_equal(meta_key_encode((const unsigned char *)"f", 1, enc, 4), 4);
    assert_memory_equal(enc, "Zg==", 4);
}

/* ---------------------------------------------------------------------
 * Composers: exact bytes, as memcached 1.6.18 wrote them
 * --------------------------------------------------------------------- */

static void parse_str(const char *line, struct meta_request *req)
{
    size_t consumed;

    assert_int_equal(meta_parse(line, strlen(line), req, &consumed), META_OK);
}

static void expect_reply(const char *line, enum meta_code code,
                         const struct meta_item *it, const char *want)
{
    struct meta_request req;
    char out[META_REPLY_MAX];
    size_t n = strlen(want), cap;

    parse_str(line, &req);
    assert_int_equal(meta_reply(out, sizeof(out), code, &req, it), n);
    assert_memory_equal(out, want, n);
    for (cap = 0; cap < n; cap++)
        assert_int_equal(meta_reply(out, cap, code, &req, it), 0);
    assert_int_equal(meta_reply(out, n, code, &req, it), n);
}

static const unsigned char KFOO[] = "foo";

static void test_reply_mg(void **state)
{
    struct meta_item it = {.key = KFOO, .nkey = 3, .size = 2, .cas = 1,
                           .ttl = -1, .last_access = 29, .fetched = true};

    (void)state;
    expect_reply("mg foo s t v c f k h l O123 q\r\n", META_R_VA, &it,
                 "VA 2 s2 t-1 c1 f0 kfoo h1 l29 O123\r\n");
    expect_reply("mg foo O9 k\r\n", META_R_HD, &it, "HD O9 kfoo\r\n");
    expect_reply("mg foo\r\n", META_R_HD, &it, "HD\r\n");
    expect_reply("mg foo v\r\n", META_R_VA, &it, "VA 2\r\n");
    it.ttl = 5;
    it.fetched = false;
    it.token_sent = true;
    expect_reply("mg foo t h\r\n", META_R_HD, &it, "HD t5 h0 Z\r\n");
    it.token_sent = false;
    it.stale = true;
    it.won = true;
    expect_reply("mg foo c\r\n", META_R_HD, &it, "HD c1 X W\r\n");
    it.stale = false;
    expect_reply("mg foo N30 v\r\n", META_R_VA, &it, "VA 2 W\r\n");
    it.won = false;
    it.ttl = -211; /* printed modulo 2^32, as memcached does */
    expect_reply("mg foo t\r\n", META_R_HD, &it, "HD t4294967085\r\n");
    it.client_flags = UINT32_MAX;
    it.cas = UINT64_MAX;
    expect_reply("mg foo f c\r\n", META_R_HD, &it,
                 "HD f4294967295 c18446744073709551615\r\n");
    it.key_binary = true;
    expect_reply("mg Zm9v b k\r\n", META_R_HD, &it, "HD kZm9v b\r\n");
}

static void test_reply_mg_miss(void **state)
{
    struct meta_request req;
    char out[64];

    (void)state;
    expect_reply("mg nokey k O1 v\r\n", META_R_EN, NULL, "EN knokey O1\r\n");
    expect_reply("mg nokey v s t c\r\n", META_R_EN, NULL, "EN\r\n");
    /* a binary key comes back re-encoded, not as sent */
    expect_reply("mg Zg=A b k\r\n", META_R_EN, NULL, "EN kZgA= b\r\n");
    expect_reply("mg Zm9vYmFy b k O5\r\n", META_R_EN, NULL, "EN kZm9vYmFy b O5\r\n");
    /* a hit needs the item */
    parse_str("mg foo v\r\n", &req);
    assert_int_equal(meta_reply(out, sizeof(out), META_R_VA, &req, NULL), 0);
    assert_int_equal(meta_reply(out, sizeof(out), META_R_HD, &req, NULL), 0);
    assert_int_equal(meta_reply(out, sizeof(out), (enum meta_code)99, &req, NULL), 0);
}

static void test_reply_ms(void **state)
{
    struct meta_item it = {.cas = 19};

    (void)state;
    expect_reply("ms Zm9v 2 k c O9 b\r\n", META_R_HD, &it, "HD kZm9v b c19 O9\r\n");
    it.cas = 0;
    expect_reply("ms foo 2 c ME k O1\r\n", META_R_NS, &it, "NS c0 kfoo O1\r\n");
    expect_reply("ms foo 2 c C1 k\r\n", META_R_EX, NULL, "EX c0 kfoo\r\n");
    expect_reply("ms foo 2 k c O9 t f s\r\n", META_R_NF, NULL, "NF kfoo c0 O9\r\n");
    expect_reply("ms foo 2 T5\r\n", META_R_HD, NULL, "HD\r\n");
    /* s: the stored size, on success only (protocol.txt) */
    it.size = 5;
    expect_reply("ms foo 2 MA s k\r\n", META_R_HD, &it, "HD s5 kfoo\r\n");
    expect_reply("ms foo 2 ME s k\r\n", META_R_NS, &it, "NS kfoo\r\n");
}

static void test_reply_md_ma_mn(void **state)
{
    struct meta_item it = {.size = 1, .cas = 39, .ttl = -1};

    (void)state;
    expect_reply("md Zm9vYmFy b k O5\r\n", META_R_NF, NULL, "NF kZm9vYmFy b O5\r\n");
    expect_reply("md foo C1 k q\r\n", META_R_EX, NULL, "EX kfoo\r\n");
    expect_reply("md foo s t c f\r\n", META_R_HD, NULL, "HD\r\n");
    expect_reply("ma nokey3 N0 J5 v t c k O1\r\n", META_R_VA, &it,
                 "VA 1 t-1 c39 knokey3 O1\r\n");
    expect_reply("ma cnt N0 q\r\n", META_R_HD, &it, "HD\r\n");
    expect_reply("ma nokey3 v t c k O1 C1\r\n", META_R_EX, NULL, "EX knokey3 O1\r\n");
    expect_reply("ma nokey v t c k O1\r\n", META_R_NF, NULL, "NF knokey O1\r\n");
    expect_reply("mn\r\n", META_R_MN, NULL, "MN\r\n");
}

static void expect_debug(const struct meta_debug *d, const char *want)
{
    char out[META_REPLY_MAX];
    size_t n = strlen(want), cap;

    assert_int_equal(meta_debug_line(out, sizeof(out), d), n);
    assert_memory_equal(out, want, n);
    for (cap = 0; cap < n; cap++)
        assert_int_equal(meta_debug_line(out, cap, d), 0);
}

static void test_debug_line(void **state)
{
    static const unsigned char kbin[] = "foobar";
    struct meta_debug d = {.key = KFOO, .nkey = 3, .exp = -1, .la = 0,
                           .cas = 1, .fetched = true, .cls = 1, .size = 64};

    (void)state;
    expect_debug(&d, "ME foo exp=-1 la=0 cas=1 fetch=yes cls=1 size=64\r\n");
    d.key = kbin;
    d.nkey = 6;
    d.key_binary = true;
    d.exp = -100;
    d.cas = 38;
    d.fetched = false;
    d.size = 67;
    expect_debug(&d, "ME Zm9vYmFy exp=-100 la=0 cas=38 fetch=no cls=1 size=67\r\n");
    d.exp = 25;
    d.la = 58;
    d.cls = 63;
    d.size = UINT64_MAX;
    expect_debug(&d, "ME Zm9vYmFy exp=25 la=58 cas=38 fetch=no cls=63 size=18446744073709551615\r\n");
}

/* Every command parses to itself at least once in the table. */
static void test_every_command_covered(void **state)
{
    bool seen[META_CMD__COUNT] = {false};
    size_t i;
    int c;

    (void)state;
    for (i = 0; i < NCASES; i++) {
        if (cases[i].st == META_OK)
            seen[cases[i].cmd] = true;
    }
    for (c = META_CMD_NONE + 1; c < META_CMD__COUNT; c++)
        assert_true(seen[c]);
}

static const struct CMUnitTest others[] = {
    cmocka_unit_test(test_every_prefix_needs_more),
    cmocka_unit_test(test_trailing_bytes_do_not_change_result),
    cmocka_unit_test(test_oversized_without_newline),
    cmocka_unit_test(test_is_meta_line),
    cmocka_unit_test(test_cr_inside_first_token_is_not_meta),
    cmocka_unit_test(test_key_decode),
    cmocka_unit_test(test_key_round_trip),
    cmocka_unit_test(test_reply_mg),
    cmocka_unit_test(test_reply_mg_miss),
    cmocka_unit_test(test_reply_ms),
    cmocka_unit_test(test_reply_md_ma_mn),
    cmocka_unit_test(test_debug_line),
    cmocka_unit_test(test_every_command_covered),
};

int main(void)
{
    return proto_run_table("meta", cases, NCASES, sizeof(cases[0]), run_case,
                           others, sizeof(others) / sizeof(others[0]));
}
