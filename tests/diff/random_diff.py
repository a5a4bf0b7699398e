#!/usr/bin/python3
"""Randomized differential test: generate seeded sessions of text and meta
protocol commands over a small key space, replay each on a fresh connection
to ZeekDB and to a reference memcached, and compare the masked replies.

Usage:
  random_diff.py [--seed S] [--sessions N] [--time-budget SECONDS] [-v]

Session i of a run uses seed S+i, so "--seed 1234 --sessions 1" replays the
session a report names. Defaults: --seed 1, --sessions $RANDOM_DIFF_SESSIONS
or 300.

Environment, exit status, server start-up and masking are run.py's: the
same ZEEKDB_BIN and MEMCACHED_BIN, exit 0 (no difference), 1 (some), 77
(memcached missing), 99 (a server that will not start).

Every step is one write() of one or more commands followed by a sentinel,
"mg rdiff:end Oe<n>"; its reply ends at the sentinel's "EN Oe<n>" line, at
the server's close, or after STEP_TIMEOUT seconds without it. After the
session a plain stats on a new connection tells how far the counters
clients watch (COUNTERS) moved, compared as one more reply. On a
difference the session is cut after the first step that differs, then
earlier steps that do not matter are dropped, and the result is printed
in the case-file format of tests/diff/README, ready to become a case.

What the generator deliberately leaves out, and why:
  - the meta flags listed in known-differences.txt (mg/ms/ma E, md x,
    ms s, ms N in append mode): ZeekDB follows the current protocol.txt,
    memcached 1.6.18 predates them; x on any meta command, which the
    current shared flag list accepts (proto/meta.h) and 1.6.18 refuses;
  - a retrieval command with a too-long key anywhere but first in a write:
    memcached 1.6.18 then drops the replies of the earlier commands of the
    same read (pipe-get-bad-key-drops-earlier-replies);
  - values of white space only: memcached 1.6.18's incr reads past them
    into whatever memory follows the item;
  - stored counters of 2^63 and more, whose parsing by memcached 1.6.18 is
    not trusted as a reference: incr deltas and ma D/J stay below 2^40,
    and a wrapping incr (up to 2^64-1) only follows a set of a small
    counter in the same write;
  - stats commands (each server reports its own internals), delayed flush_all and
    positive expiry that could pass during a session (timing);
  - more 1.6.18 quirks, each explained where the generator avoids it:
    long values that could be read as a command line, mg/ma N with b, T
    or t, ma T, arithmetic after a read in the same write.
"""

import argparse
import base64
import os
import random
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as diff  # noqa: E402

# Ends every write: a miss with an opaque no generated command can
# produce (generated ones are O1, O3, O7, O9 and Oabc), so its "EN Oe..."
# line marks the end of the write's replies even when data read as
# commands holds "mn" lines.
SENTINEL_KEY = b"rdiff:end"
STEP_TIMEOUT = 2.0        # seconds to wait for a step's sentinel
SESSION_BUDGET = 10.0     # seconds one session may take on one server
DEFAULT_BUDGET = 60.0     # seconds for the whole run; later seeds skipped
SHRINK_BUDGET = 20.0      # seconds spent shrinking one difference
MAX_SHRINK_RUNS = 80
MAX_STEPS = 40            # steps per session (plus the leading flush_all)
# no_lru_maintainer: memcached's LRU maintainer thread holds items for a
# moment while it moves them, and an incr/decr that meets such an item
# writes a shorter result into a new item instead of padding it in place:
# "0" rather than "0         ", at random. ZeekDB accepts and ignores it.
SERVER_EXTRA = ["-I", "1m", "-o", "no_lru_maintainer"]
ITEM_LIMIT = 1 << 20      # -I 1m
# ---------------------------------------------------------------- generator

KEYS = [b"a", b"b", b"c", b"k:1", b"n1", b"L" * 250]
BAD_KEY = b"B" * 251
BIN_KEYS = [b"bin key", b"b\0", b"\r\n"]
GOOD_FLAGS = [b"0", b"0", b"0", b"1", b"42", b"65535", b"4294967295"]
ODD_FLAGS = [b"4294967296", b"-1", b"abc", b"01", b"+5",
             b"18446744073709551615", b"9223372036854775808", b"1.5"]
# Relative seconds that cannot run out during a session, or times already
# past (negative, or absolute and before now): all deterministic.
LIVE_EXP = [b"0", b"0", b"0", b"100", b"3600", b"2592000", b"2000000000"]
DEAD_EXP = [b"-1", b"-100", b"2592001", b"1000000000"]
ODD_EXP = [b"abc", b"2147483648", b"-2147483649", b"9223372036854775807",
           b"1.5", b"+5", b"007"]
# incr deltas stay below 2^40 (see the module comment); bad ones are refused.
DELTAS = [b"0", b"1", b"1", b"5", b"100", b"4294967296", b"1099511627775"]
BAD_DELTAS = [b"-1", b"abc", b"18446744073709551616", b"99999999999999999999",
              b"1.5", b"+1", b"0x10"]
DECR_ONLY = [b"18446744073709551615", b"9223372036854775808"]
NUMBERS = [b"0", b"1", b"9", b"10", b"99", b"100", b"123456", b"4294967295",
           b"4294967296", b"9999999999", b" 5", b"5 ", b"007", b"-5", b"1a",
           b"18446744073709551616"]
CAS_LITERALS = [b"0", b"1", b"99999999", b"abc", b"-1",
                b"18446744073709551615", b"18446744073709551616"]
TRICKY_VALUES = [b"\r\n", b"a\r\nb", b"END\r\n", b"VALUE a 0 1\r\nx",
                 b"mn\r\n", b"\r", b"\n", b"\0", b" ", b"get a\r\n"]
STORAGE = [b"set", b"add", b"replace", b"append", b"prepend"]
RETRIEVAL = [b"get", b"gets", b"gat", b"gats"]
MALFORMED = [b"foo", b"GET a", b"sets a", b"", b"   ", b"\t", b"incr a",
             b"incr", b"decr a", b"get", b"gets", b"gat", b"gat 0",
             b"delete", b"touch a", b"verbosity", b"flush_all 0 0",
             b"flush_all abc", b"version x", b"get\ta", b"get  a", b" get a",
             b"get a ", b"delete a 0", b"delete a 5", b"delete a noreply x",
             b"touch a abc", b"incr a 1 2", b"quit now", b"mn x",
             b"verbosity abc", b"verbosity 1 2 3", b"me", b"ms", b"ma",
             b"md", b"mg", b"mg a zz", b"ms a", b"ms a abc", b"mz a",
             b"ma a D", b"mg a v v", b"mg " + BAD_KEY + b" v"]
MG_FLAGS = [b"v", b"v", b"f", b"s", b"c", b"k", b"t", b"h", b"l", b"O1",
            b"Oabc", b"q", b"u", b"T0", b"T100", b"T-1", b"N0", b"N100",
            b"R30", b"b"]
MS_FLAGS = [b"c", b"k", b"O7", b"q", b"F0", b"F5", b"F4294967296", b"T0",
            b"T100", b"T-1", b"I", b"MS", b"ME", b"MA", b"MP", b"MR", b"Ma",
            b"Mx", b"CAS", b"b", b"N100"]
MD_FLAGS = [b"q", b"k", b"O9", b"CAS", b"I", b"T30", b"b"]
MA_FLAGS = [b"N0", b"N100", b"J0", b"J13", b"J1099511627775", b"D1", b"D100",
            b"D1099511627775", b"Dabc", b"D-1", b"D18446744073709551616",
            b"MI", b"M+", b"MD", b"M-", b"Mx", b"q", b"t", b"c", b"v", b"k",
            b"O3", b"CAS", b"b"]


# Data blocks longer than memcached's 2048-byte limit on a command line
# must never be read as one: memcached then hangs up, sending or not the
# replies queued before depending on how its reads fall. So a long value
# goes only with a correct length and valid fields.
LONG_VALUE = 1000
MS_BAD = {b"Ma", b"Mx", b"F4294967296"}


def is_long(value):
    return len(value) > LONG_VALUE


FLAG_LETTERS = (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                b"0123456789")


class Step:
    """One write: parts are bytes or ('cas', n) placeholders (run.resolve
    fills in the n-th CAS value the server has shown)."""
    __slots__ = ("parts", "last", "fixed")

    def __init__(self, parts, last=False, fixed=False):
        self.parts = parts
        self.last = last        # quit: read to the close, no sentinel
        self.fixed = fixed      # the leading flush_all; never shrunk away

    @property
    def src(self):
        return "send/quiet " + escape(self.parts)


def escape(parts):
    """The case-file TEXT of parts (tests/diff/README)."""
    out = []
    names = {13: "\\r", 10: "\\n", 9: "\\t", 0: "\\0", 92: "\\\\"}
    for p in parts:
        if not isinstance(p, bytes):
            out.append("\\c%d" % p[1])
            continue
        i = 0
        while i < len(p):
            run_len = 1
            while i + run_len < len(p) and p[i + run_len] == p[i]:
                run_len += 1
            b = p[i]
            if b in names:
                one = names[b]
            elif b == 32:
                one = "\\s" if i + run_len == len(p) else " "
            elif 33 <= b < 127:
                one = chr(b)
            else:
                one = "\\x%02x" % b
            if run_len > 8:
                out.append("\\{%d:%s}" % (run_len, one))
            else:
                out.append(one * run_len)
            i += run_len
    return "".join(out)


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def pick(self, seq):
        return self.r.choice(seq)

    def chance(self, p):
        return self.r.random() < p

    def key(self):
        return self.pick(KEYS)

    def flags(self, clean=False):
        return self.pick(ODD_FLAGS) if not clean and self.chance(0.05) else \
            self.pick(GOOD_FLAGS)

    def exptime(self, clean=False):
        x = self.r.random()
        if x < 0.04 and not clean:
            return self.pick(ODD_EXP)
        if x < 0.15:
            return self.pick(DEAD_EXP)
        return self.pick(LIVE_EXP)

    def value(self, for_concat=False):
        x = self.r.random()
        if x < 0.1:
            v = b""
        elif x < 0.35:
            v = bytes(self.r.choice(b"abcdefxyz0123456789")
                      for _ in range(self.r.randint(1, 20)))
        elif x < 0.55:
            v = self.pick(NUMBERS)
        elif x < 0.7:
            n = self.r.randint(1, 30)
            v = bytes(self.r.randrange(256) for _ in range(n))
        elif x < 0.85:
            v = self.pick(TRICKY_VALUES)
        elif x < 0.995:
            v = b"v" * self.r.randint(100, 3000)
        else:
            # Around the -I limit: what fits depends on the key length.
            v = b"z" * (ITEM_LIMIT - self.r.randint(0, 400))
        if v and not v.strip(b" \t\n\v\f\r"):
            # memcached 1.6.18's incr skips leading white space with
            # strtoull past the end of an all-white-space value and
            # parses whatever bytes follow the item in memory.
            v += b"."
        if v.isdigit() and len(v) > 12:
            v = v[:12]
        if for_concat and v and v.isdigit():
            v += b"x"   # appended digits could build a counter >= 2^63
        return v

    def data_block(self, value):
        """(declared length, bytes after the command line). Sometimes the
        length is wrong: too short leaves a tail that is read as commands;
        too long is padded so the next command still starts where the
        server will look for it."""
        n = len(value)
        if is_long(value) or not self.chance(0.06):
            return str(n).encode(), value + b"\r\n"
        x = self.r.random()
        if x < 0.4 and n > 0:
            return str(n - self.r.randint(1, min(n, 3))).encode(), \
                value + b"\r\n"
        if x < 0.8:
            extra = self.r.randint(1, 3)
            return str(n + extra).encode(), value + b"\r\n" + b"z" * extra
        return self.pick([b"-1", b"abc", b"", b"1.5"]), value + b"\r\n"

    def noreply(self):
        return b" noreply" if self.chance(0.15) else b""

    def cas_token(self, clean=False):
        if clean or self.chance(0.8):
            return ("cas", self.r.randint(1, 4))
        return self.pick(CAS_LITERALS)

    # -- commands; each returns (parts, must_be_first)

    def storage(self):
        cmd = self.pick(STORAGE)
        value = self.value(for_concat=cmd in (b"append", b"prepend"))
        clean = is_long(value)
        size, block = self.data_block(value)
        line = b"%s %s %s %s %s" % (cmd, self.key(), self.flags(clean),
                                    self.exptime(clean), size)
        return [line + self.noreply() + b"\r\n" + block], False

    def cas(self):
        value = self.value()
        clean = is_long(value)
        size, block = self.data_block(value)
        line = b"cas %s %s %s %s " % (self.key(), self.flags(clean),
                                      self.exptime(clean), size)
        return [line, self.cas_token(clean),
                self.noreply() + b"\r\n" + block], False

    def retrieval(self):
        cmd = self.pick(RETRIEVAL)
        keys = [self.key() for _ in range(self.r.randint(1, 5))]
        bad = self.chance(0.05)
        if bad:
            keys[self.r.randrange(len(keys))] = BAD_KEY
        words = [cmd] + ([self.exptime()] if cmd.startswith(b"gat") else [])
        return [b" ".join(words + keys) + b"\r\n"], bad

    def delete(self):
        return [b"delete %s%s\r\n" % (self.key(), self.noreply())], False

    def arith(self):
        cmd = self.pick([b"incr", b"decr"])
        x = self.r.random()
        if x < 0.1:
            delta = self.pick(BAD_DELTAS)
        elif x < 0.15 and cmd == b"decr":
            delta = self.pick(DECR_ONLY)
        else:
            delta = self.pick(DELTAS)
        return [b"%s %s %s%s\r\n" % (cmd, self.key(), delta,
                                      self.noreply())], False

    def counter_wrap(self):
        """incr past 2^64 on a counter just set below 2^63."""
        start = self.r.randint(0, 1000)
        back = self.r.randint(0, start)
        delta = (1 << 64) - back
        if delta >= 1 << 64:
            delta = (1 << 64) - 1 if start else 0
        text = b"%d" % start
        key = self.key()
        return [b"set %s 0 0 %d\r\n%s\r\nincr %s %d\r\n"
                % (key, len(text), text, key, delta)], False

    def touch(self):
        return [b"touch %s %s%s\r\n" % (self.key(), self.exptime(),
                                         self.noreply())], False

    def misc(self):
        return [self.pick([b"version\r\n", b"verbosity 1\r\n",
                           b"verbosity 0 noreply\r\n", b"verbosity 0\r\n",
                           b"flush_all\r\n", b"flush_all 0\r\n",
                           b"flush_all noreply\r\n"])], False

    def malformed(self):
        x = self.r.random()
        if x < 0.15:
            toks = b" ".join(self.pick([b"y", b"1", b"a", b"noreply"])
                             for _ in range(self.r.randint(5, 30)))
            return [b"%s %s\r\n" % (self.pick([b"get", b"set", b"incr",
                                              b"delete", b"touch", b"cas",
                                              b"mg", b"foo"]), toks)], False
        if x < 0.3:
            # A storage line the server may or may not accept: give it a
            # one-byte block either way.
            line = self.pick([b"set a 0 0 1 x", b"set a 0 0 1 noreply x",
                              b"set a 0 0", b"set a 0 1", b"set %s 0 0 1"
                              % BAD_KEY, b"cas a 0 0 1", b"append a 0 0 1 1",
                              b"set a 0 0 01", b"set a 0 0 +1",
                              b"set a 0 0 1 noreply noreply"])
            return [line + b"\r\na\r\n"], False
        line = self.pick(MALFORMED)
        return [line + b"\r\n"], line.startswith(b"mg " + BAD_KEY)

    def meta_key(self, flags):
        """A key; base64 of a binary one with a b flag. Binary keys (with
        a space or a NUL) are their own key space: memcached 1.6.18
        forgets that a key was binary when it appends to the item, and
        its k flag then shows the raw bytes, so a binary-key item is
        never appended to (see ms) and text keys never become binary."""
        if any(f[:1] == b"b" for f in flags):
            return base64.b64encode(self.pick(BIN_KEYS))
        return self.key()

    def meta_flags(self, pool, most, avoid=b""):
        """Flags from pool, sometimes repeated, sometimes any letter
        except E and x (see the module comment) and those in avoid."""
        flags = []
        for _ in range(self.r.randint(0, most)):
            f = self.pick(pool)
            if self.chance(0.05):
                letter = self.pick([c for c in FLAG_LETTERS
                                    if c not in b"Ex" + avoid])
                f = bytes([letter]) + self.pick([b"", b"", b"1", b"abc"])
            if f not in flags or self.chance(0.1):
                flags.append(f)
        return flags

    def flag_parts(self, flags):
        """Flags as parts; "CAS" becomes C followed by a CAS token."""
        parts = []
        for f in flags:
            if f == b"CAS":
                parts += [b" C", self.cas_token()]
            else:
                parts.append(b" " + f)
        return parts

    def mg(self):
        flags = self.meta_flags(MG_FLAGS, 4)
        if any(f[:1] == b"N" for f in flags):
            # memcached 1.6.18: an item mg N creates from a base64 key
            # forgets the key is binary (later k flags show it decoded,
            # without b); and on the item it creates it applies N, T and
            # reports t in the order of the flags on the line (so
            # "T100 t N0" answers t100 and leaves no TTL).
            flags = [f for f in flags if f[:1] not in (b"b", b"T")]
        parts = [b"mg " + self.meta_key(flags)] + self.flag_parts(flags)
        return parts + [b"\r\n"], False

    def ms(self):
        flags = self.meta_flags(MS_FLAGS, 4, avoid=b"sN")
        concat = b"MA" in flags or b"MP" in flags
        if concat:
            # ms N in append mode vivifies per the current protocol.txt,
            # not in 1.6.18 (meta-ms-append-vivify); no binary keys (see
            # meta_key).
            flags = [f for f in flags if f[:1] not in (b"N", b"b")]
        value = self.value(for_concat=concat)
        if is_long(value):
            # No flag error: the data block must not be read as a command.
            flags = list(dict.fromkeys(f for f in flags if f not in MS_BAD))
        size, block = self.data_block(value)
        parts = [b"ms %s %s" % (self.meta_key(flags), size)]
        return parts + self.flag_parts(flags) + [b"\r\n" + block], False

    def md(self):
        flags = self.meta_flags(MD_FLAGS, 3)
        parts = [b"md " + self.meta_key(flags)] + self.flag_parts(flags)
        return parts + [b"\r\n"], False

    def ma(self):
        # No T: memcached 1.6.18 applies it to the old item when the new
        # number is longer than the old value and needs a new item, so the
        # TTL change is lost or not by the digit count.
        flags = self.meta_flags(MA_FLAGS, 4, avoid=b"T")
        if any(f[:1] == b"N" for f in flags):
            # memcached 1.6.18: the item ma N creates forgets that its key
            # was base64 (as for mg N), and a t before N on the line
            # reports the TTL before N applies it (t-1).
            flags = [f for f in flags if f[:1] not in (b"b", b"t")]
        parts = [b"ma " + self.meta_key(flags)] + self.flag_parts(flags)
        return parts + [b"\r\n"], False

    def me(self):
        return [b"me %s\r\n" % self.key()], False

    KINDS = [("storage", 25), ("cas", 6), ("retrieval", 18), ("delete", 6),
             ("arith", 8), ("counter_wrap", 2), ("touch", 4), ("misc", 3),
             ("malformed", 7), ("mg", 8), ("ms", 8), ("md", 4), ("ma", 6),
             ("me", 1)]

    # A shorter counter keeps its length, padded with spaces, when
    # memcached updates it in place; it does not when a reply holding the
    # item is still queued from the same read: never after an mg (whatever
    # its flags), always after a text get (1.6.18 does not hold those
    # items). ZeekDB holds the item for either until the reply is written,
    # so no arithmetic follows a read in the same write.
    # A malformed line reads or counts too when memcached still takes it
    # for such a command ("get  a" with two spaces, "incr a 1 2").
    READS = {"retrieval", "mg"}
    READ_WORDS = {b"get", b"gets", b"gat", b"gats", b"mg"}
    ARITH = {"arith", "ma", "counter_wrap"}
    ARITH_WORDS = {b"incr", b"decr", b"ma"}

    @staticmethod
    def is_kind(kind, parts, kinds, words):
        if kind in kinds:
            return True
        head = parts[0] if parts and isinstance(parts[0], bytes) else b""
        first = head.split(None, 1)[:1]
        return kind == "malformed" and first != [] and first[0] in words

    def reads(self, kind, parts):
        return self.is_kind(kind, parts, self.READS, self.READ_WORDS)

    def counts(self, kind, parts):
        return self.is_kind(kind, parts, self.ARITH, self.ARITH_WORDS)

    def command(self):
        """(kind, parts, must_be_first)"""
        names = [k for k, _ in self.KINDS]
        weights = [w for _, w in self.KINDS]
        kind = self.r.choices(names, weights)[0]
        return (kind,) + getattr(self, kind)()

    def session(self):
        steps = [Step([b"flush_all\r\n"], fixed=True)]
        for _ in range(self.r.randint(3, MAX_STEPS)):
            kind, parts, first = self.command()
            read = self.reads(kind, parts)
            if not first and self.chance(0.25):
                for _ in range(self.r.randint(1, 3)):
                    kind, more, must_first = self.command()
                    if must_first or (read and self.counts(kind, more)):
                        continue
                    parts = parts + more
                    read = read or self.reads(kind, more)
            steps.append(Step(parts))
        if self.chance(0.05):
            steps.append(Step([b"quit\r\n"], last=True))
        return steps


# ---------------------------------------------------------------- replay

def sentinel(n):
    return b"mg %s Oe%d\r\n" % (SENTINEL_KEY, n), b"EN Oe%d" % n


def ends_with(data, line):
    last = None
    for kind, chunk in diff.walk_lines(data):
        last = (kind, chunk)
    return last == ("line", line)


def read_step(sock, step, end_line, deadline):
    """(reply, marker or None, closed)."""
    data = bytearray()
    for _ in range(100000):
        if not step.last and ends_with(bytes(data), end_line):
            return bytes(data), None, False
        chunk = diff.recv_some(sock, deadline)
        if chunk is None:
            return bytes(data), "<timeout>", False
        if chunk == b"":
            return bytes(data), None if step.last else "<closed>", True
        data += chunk
    return bytes(data), "<too-many-reads>", False


def run_session(steps, server):
    """Replay steps on a fresh connection: a list of (step, reply,
    marker), ending with what arrives after a half-close and then how
    far the COUNTERS moved."""
    before = diff.counters(server)
    transcript = run_steps(steps, server)
    transcript.append((None, diff.counters_moved(before, diff.counters(server)),
                       None))
    return transcript


def run_steps(steps, server):
    transcript = []
    cas_seen = []
    end = time.monotonic() + SESSION_BUDGET
    sock, marker = diff.connect(server)
    if sock is None:
        return [(None, b"", marker)]
    closed = False
    try:
        for n, st in enumerate(steps):
            payload = diff.resolve(st.parts, None, cas_seen)
            request, end_line = sentinel(n)
            try:
                sock.sendall(payload if st.last else payload + request)
            except OSError as e:
                transcript.append((st, b"", "<send failed: %s>"
                                   % e.__class__.__name__))
                closed = True
                break
            dl = min(time.monotonic() + STEP_TIMEOUT, end)
            reply, marker, closed = read_step(sock, st, end_line, dl)
            diff.learn_cas(reply, cas_seen)
            transcript.append((st, reply, marker))
            if marker or closed:
                closed = True
                break
        if not closed:
            tail, marker = diff.read_to_eof(sock, STEP_TIMEOUT)
            transcript.append((None, tail, marker))
    finally:
        sock.close()
    return transcript


def compare(steps, ref, test):
    """Run steps on both servers at once; (first difference or None,
    reference transcript, test transcript)."""
    for srv in (ref, test):
        note = srv.ensure()
        if note:
            print("note: %s" % note)
    tr_ref, tr_test = diff.run_both(ref, test,
                                    lambda srv: run_session(steps, srv),
                                    SESSION_BUDGET + 30)
    if tr_ref is None or tr_test is None:
        return (0, None, None), [], []
    d = diff.first_difference(diff.masked_transcript(tr_ref),
                              diff.masked_transcript(tr_test))
    return d, tr_ref, tr_test


def shrink(steps, ref, test, first_index):
    """Cut the session after the first differing step, then drop earlier
    steps one at a time while the session still differs. A difference
    after the last step (what came after the half-close, or the
    counters) may lose any step but the leading flush_all."""
    end = time.monotonic() + SHRINK_BUDGET
    cur = steps[:first_index + 1]
    runs = 0
    i = len(cur) - 2 if first_index < len(steps) else len(cur) - 1
    while i >= 1 and runs < MAX_SHRINK_RUNS and time.monotonic() < end:
        cand = cur[:i] + cur[i + 1:]
        runs += 1
        d, _, _ = compare(cand, ref, test)
        if d is not None:
            cur = cand
        i -= 1
    return cur


def report(seed, steps, tr_ref, tr_test, d):
    print("%s seed %d (replay: random_diff.py --seed %d --sessions 1)"
          % ("DIFFERENCE" if d is not None else "session", seed, seed))
    if d is not None:
        i, a, b = d
        print("  first at write %d (masked):" % (i + 1))
        for label, x in (("memcached", a), ("zeekdb", b)):
            print("    %-9s: %s%s" % (label, diff.show(x[1], 800) if x
                                      else "<none>",
                                      " " + x[2] if x and x[2] else ""))
    print("  session (case-file TEXT, one write per line):")
    for st in steps:
        print("    " + (st.src if not st.last else "send/close "
                        + escape(st.parts)))
    for label, tr in (("memcached", tr_ref), ("zeekdb", tr_test)):
        print("  --- %s" % label)
        for st, reply, marker in tr:
            what = "(end of session)" if st is None else escape(st.parts)
            if len(what) > 100:
                what = what[:100] + "..."
            print("    %-40s -> %s%s" % (what, diff.show(reply, 400),
                                         " " + marker if marker else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1,
                    help="seed of the first session (session i: seed+i)")
    ap.add_argument("--sessions", type=int,
                    default=int(os.environ.get("RANDOM_DIFF_SESSIONS", 300)))
    ap.add_argument("--time-budget", type=float, default=DEFAULT_BUDGET,
                    help="seconds; sessions not started by then are skipped")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every session's transcript")
    args = ap.parse_args()

    ref_bin = os.environ.get("MEMCACHED_BIN", "/usr/bin/memcached")
    if not diff.executable(ref_bin):
        print("SKIP: reference memcached not found at %s" % ref_bin)
        return 77
    test_bin = os.environ.get("ZEEKDB_BIN", "daemon/zeekdb")
    if not diff.executable(test_bin):
        print("server under test not found: %s" % os.path.abspath(test_bin))
        return 99
    ref = diff.Server("memcached", ref_bin, SERVER_EXTRA)
    test = diff.Server("zeekdb", test_bin, SERVER_EXTRA)
    t0 = time.monotonic()
    err = diff.start_both(ref, test)
    if err:
        print(err)
        return 99

    ran = commands = 0
    failed = []
    try:
        for seed in range(args.seed, args.seed + max(args.sessions, 0)):
            if time.monotonic() - t0 > args.time_budget:
                print("note: time budget of %.0f s reached; seeds %d.. "
                      "not run" % (args.time_budget, seed))
                break
            steps = Gen(seed).session()
            ran += 1
            commands += len(steps)
            d, tr_ref, tr_test = compare(steps, ref, test)
            if args.verbose:
                report(seed, steps, tr_ref, tr_test, d)
            if d is None:
                continue
            failed.append(seed)
            idx = d[0]
            if not args.no_shrink and tr_ref:
                steps = shrink(steps, ref, test, idx)
                d2, tr_ref2, tr_test2 = compare(steps, ref, test)
                if d2 is not None:
                    d, tr_ref, tr_test = d2, tr_ref2, tr_test2
            report(seed, steps, tr_ref, tr_test, d)
    finally:
        ref.stop()
        test.stop()
    print("%d sessions (%d writes) in %.1f s: %d differ%s"
          % (ran, commands, time.monotonic() - t0, len(failed),
             (" (seeds %s)" % " ".join(map(str, failed))) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
