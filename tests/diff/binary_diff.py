#!/usr/bin/python3
"""Differential test of the binary protocol: fixed and seeded random
sessions of binary requests, replayed on a fresh connection to ZeekDB and
to a reference memcached, responses compared packet by packet.

Usage:
  binary_diff.py [--seed S] [--sessions N] [--time-budget SECONDS] [-v]

Environment, exit status and server start-up are run.py's: ZEEKDB_BIN and
MEMCACHED_BIN, exit 0 (no difference), 1 (some), 77 (memcached missing),
99 (a server that will not start). Session i of a random run uses seed
S+i.

What is masked: CAS values become ordinals in order of appearance, so
equal and unequal CAS patterns must still match; the VERSION body. A
request naming a CAS ("the CAS last returned for key k") is resolved on
each server from that server's own replies.

Every step is one write of one or more requests followed by a NOOP with
an opaque of its own, which memcached always answers: a step's responses
end at that NOOP's, at the server's close, or after STEP_TIMEOUT. After
the session a text stats on a new connection tells how far the counters
clients watch moved (run.py's COUNTERS), compared as one more step.

Left out, each for its reason:
  - STAT (each server reports its own figures; its framing is checked by
    tests/integration/test_binary.py);
  - an unknown opcode with a body: memcached 1.6.18 then discards the
    body plus as many bytes again as the extras and key took, eating into
    the next request; zeekdb discards exactly the body;
  - the store_too_large and store_no_memory counters (COUNTERS says
    why);
  - stored counters of 2^63 and more, which memcached 1.6.18 may take for
    non-numeric (tests/diff/random_diff.py says more): no value of digits
    only is appended or prepended either. The fixed session "counters"
    wraps one that was set in the same write.
"""

import argparse
import os
import random
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as diff  # noqa: E402

STEP_TIMEOUT = 2.0
SESSION_BUDGET = 10.0
DEFAULT_BUDGET = 60.0
MAX_STEPS = 30
# no_lru_maintainer: as in random_diff.py, memcached's LRU maintainer
# thread holds items a moment while it moves them, and a counter changed
# then goes into a new item instead of being padded in place, at random.
SERVER_EXTRA = ["-I", "1m", "-o", "no_lru_maintainer"]
SENTINEL_OPAQUE = 0x5e5e0000
# memcached 1.6.18 counts a value refused for its size (or for want of
# memory) in store_too_large (store_no_memory) on the text and meta
# protocols only; protocol.txt defines both counters for every storage
# request, and zeekdb counts binary ones too.
COUNTERS = tuple(k for k in diff.COUNTERS
                 if k not in (b"store_too_large", b"store_no_memory")) + \
    tuple(b"slabs:" + k for k in diff.CLASS_COUNTERS)

OP = dict(GET=0x00, SET=0x01, ADD=0x02, REPLACE=0x03, DELETE=0x04,
          INCR=0x05, DECR=0x06, QUIT=0x07, FLUSH=0x08, GETQ=0x09, NOOP=0x0a,
          VERSION=0x0b, GETK=0x0c, GETKQ=0x0d, APPEND=0x0e, PREPEND=0x0f,
          STAT=0x10, SETQ=0x11, ADDQ=0x12, REPLACEQ=0x13, DELETEQ=0x14,
          INCRQ=0x15, DECRQ=0x16, QUITQ=0x17, FLUSHQ=0x18, APPENDQ=0x19,
          PREPENDQ=0x1a, VERBOSITY=0x1b, TOUCH=0x1c, GAT=0x1d, GATQ=0x1e,
          SASL_LIST=0x20, SASL_AUTH=0x21, GATK=0x23, GATKQ=0x24)


def packet(op, key=b"", extras=b"", value=b"", cas=0, opaque=0,
           keylen=None, extlen=None, bodylen=None, magic=0x80):
    """One request; the length fields may be forced to lie."""
    kl = len(key) if keylen is None else keylen
    el = len(extras) if extlen is None else extlen
    bl = len(extras) + len(key) + len(value) if bodylen is None else bodylen
    return struct.pack(">BBHBBHIIQ", magic, op, kl, el, 0, 0, bl, opaque,
                       cas) + extras + key + value


def store_extras(flags=0, exptime=0):
    return struct.pack(">II", flags, exptime)


def delta_extras(delta, initial=0, exptime=0xffffffff):
    return struct.pack(">QQI", delta, initial, exptime)


def sentinel(n):
    return packet(OP["NOOP"], opaque=SENTINEL_OPAQUE + n)


# A request is (name, key, build) where build(cas_of, opaque) returns its
# bytes; cas_of(key) is the CAS this server last returned for key (0 if
# none). Each request of a step gets its index as opaque, which is how
# responses are matched to requests.
def req(name, key=b"", extras=b"", value=b"", cas=None, **kw):
    def build(cas_of, opaque):
        c = cas_of(key) if cas == "last" else (cas or 0)
        return packet(OP[name], key=key, extras=extras, value=value, cas=c,
                      opaque=opaque, **kw)
    return (name, key, build)


def raw(data):
    """A request given as bytes (malformed on purpose)."""
    return ("raw", b"", lambda cas_of, opaque: data)


# ---------------------------------------------------------------- sessions

FIXED = {
    "get-miss-hit-kinds": [
        [req("GET", b"a"), req("GETK", b"a"), req("GETQ", b"a"),
         req("GETKQ", b"a")],
        [req("SET", b"a", store_extras(7), b"hello")],
        [req("GET", b"a"), req("GETK", b"a"), req("GETQ", b"a"),
         req("GETKQ", b"a")],
    ],
    "store-modes": [
        [req("ADD", b"k", store_extras(1), b"v1"),
         req("ADD", b"k", store_extras(2), b"v2"),
         req("REPLACE", b"nope", store_extras(), b"x"),
         req("REPLACE", b"k", store_extras(3), b"v3"),
         req("APPEND", b"k", value=b">"), req("PREPEND", b"k", value=b"<"),
         req("APPEND", b"nope", value=b"x"), req("GET", b"k")],
        [req("SETQ", b"q", store_extras(), b"quiet"),
         req("ADDQ", b"q", store_extras(), b"no"),
         req("REPLACEQ", b"q", store_extras(), b"yes"),
         req("APPENDQ", b"q", value=b"!"), req("GETQ", b"q")],
        [req("SET", b"empty", store_extras(), b""), req("GET", b"empty")],
    ],
    "cas": [
        [req("SET", b"c", store_extras(), b"1")],
        [req("SET", b"c", store_extras(), b"2", cas="last")],
        [req("SET", b"c", store_extras(), b"3", cas=12345)],
        [req("SET", b"none", store_extras(), b"3", cas=12345)],
        [req("ADD", b"c", store_extras(), b"4", cas="last")],
        [req("REPLACE", b"c", store_extras(), b"5", cas=1)],
        [req("APPEND", b"c", value=b"x", cas=1),
         req("GETK", b"c")],
        [req("APPEND", b"c", value=b"y", cas="last"), req("GET", b"c")],
        [req("DELETE", b"c", cas=1), req("DELETE", b"c", cas="last"),
         req("DELETE", b"c")],
    ],
    "delete": [
        [req("DELETE", b"d"), req("DELETEQ", b"d"),
         req("SET", b"d", store_extras(), b"x"), req("DELETEQ", b"d"),
         req("GET", b"d")],
    ],
    "counters": [
        [req("INCR", b"n", delta_extras(1)),
         req("INCR", b"n", delta_extras(5, 10, 0)),
         req("INCR", b"n", delta_extras(5, 10, 0)),
         req("DECR", b"n", delta_extras(100)),
         req("INCRQ", b"n", delta_extras(2)), req("GET", b"n")],
        [req("SET", b"w", store_extras(), b"18446744073709551615"),
         req("INCR", b"w", delta_extras(1)),
         req("SET", b"t", store_extras(), b"text"),
         req("INCR", b"t", delta_extras(1)),
         req("DECRQ", b"nope", delta_extras(1)),
         req("SET", b"z", store_extras(), b"10"),
         req("INCR", b"z", delta_extras(1), cas=7),
         req("INCR", b"z", delta_extras(1), cas="last")],
    ],
    "touch-gat": [
        [req("TOUCH", b"g", struct.pack(">I", 100)),
         req("GAT", b"g", struct.pack(">I", 100)),
         req("GATQ", b"g", struct.pack(">I", 100)),
         req("GATK", b"g", struct.pack(">I", 100))],
        [req("SET", b"g", store_extras(9), b"val")],
        [req("TOUCH", b"g", struct.pack(">I", 100)),
         req("GAT", b"g", struct.pack(">I", 100)),
         req("GATQ", b"g", struct.pack(">I", 100)),
         req("GATK", b"g", struct.pack(">I", 100)),
         req("GATKQ", b"g", struct.pack(">I", 100))],
    ],
    "admin": [
        [req("NOOP"), req("VERSION"), req("FLUSH"), req("FLUSHQ"),
         req("FLUSH", extras=struct.pack(">I", 0))],
        [req("SET", b"f", store_extras(), b"x"), req("FLUSH"),
         req("GET", b"f")],
        [req("VERBOSITY")],
        [req("SASL_LIST")],
        [req("STAT", b"nosuchgroup")],
        [req("STAT", b"reset")],
    ],
    "unknown-opcodes": [
        [raw(packet(0x30)), raw(packet(0xfe)), req("GET", b"still")],
    ],
    "too-large": [
        [req("SET", b"big", store_extras(), b"x" * (1024 * 1024 + 1)),
         req("GET", b"big")],
        [req("SET", b"big", store_extras(), b"small"),
         req("SET", b"big", store_extras(), b"x" * (2 * 1024 * 1024)),
         req("GET", b"big")],
    ],
    "quit": [[req("SET", b"x", store_extras(), b"1"), req("QUIT")]],
    "quitq": [[req("SETQ", b"x", store_extras(), b"1"), req("QUITQ")]],
    "bad-extras": [[req("GET", b"a", extras=b"1234")]],
    "bad-set-extras": [[req("SET", b"a", b"1234", b"v")]],
    "key-too-long": [[req("GET", b"K" * 251)]],
    "key-250": [[req("SET", b"K" * 250, store_extras(), b"v"),
                 req("GETK", b"K" * 250)]],
    "lengths-lie": [[raw(packet(OP["GET"], key=b"abc", bodylen=2))]],
    "bad-magic": [[raw(packet(OP["GET"], key=b"a", magic=0x81))]],
    "no-key-get": [[req("GET")]],
    "flush-key": [[req("FLUSH", b"k")]],
    "noop-body": [[req("NOOP", value=b"x")]],
    # memcached reads a STAT's key only: its value is the next request
    "stat-value-is-a-request": [
        [raw(packet(OP["STAT"], key=b"reset",
                    value=packet(OP["NOOP"], opaque=0x99)))],
    ],
    # items, slabs and sizes only by their whole name
    "stat-group-names": [
        [req("STAT", b"itemsX")], [req("STAT", b"slabsX")],
        [req("STAT", b"sizesX")], [req("STAT", b"detail")],
    ],
    # replies already answered go out before a bad magic closes
    "bad-magic-after-errors": [
        [req("DELETE", b"nokey"), req("NOOP"), raw(b"z" * 24)],
    ],
}


READS = ("GET", "GETK", "GETQ", "GETKQ", "TOUCH", "GAT", "GATQ", "GATK",
         "GATKQ")
ARITH = ("INCR", "DECR", "INCRQ", "DECRQ")


def random_session(rng):
    """Steps of 1 to 4 requests. A counter that gets shorter is padded
    with spaces when updated in place, which happens only while no
    response holds the item. Both servers hold a read's item until its
    response is written (at the end of the step, or at a NOOP), but after
    a read that is not the item's first, memcached 1.6.18's LRU may hold
    it a while longer, depending on its maintainer thread's timing; so no
    arithmetic follows a read in the same or the previous step (the fixed
    cases are in tests/integration/test_binary.py)."""
    keys = [b"a", b"b", b"n", b"k:1"]
    steps = []
    prev_read = False
    for _ in range(rng.randint(1, MAX_STEPS)):
        step = []
        for _ in range(rng.randint(1, 4)):
            r = random_request(rng, keys)
            if r[0] in ARITH and (prev_read or
                                  any(x[0] in READS for x in step)):
                continue
            step.append(r)
        prev_read = any(x[0] in READS for x in step)
        steps.append(step or [req("NOOP")])
    return steps


def random_value(rng):
    kind = rng.random()
    if kind < 0.4:
        # below 2^63: memcached 1.6.18 may take larger stored counters
        # for non-numeric (see random_diff.py)
        return b"%d" % rng.choice([0, 1, 9, 42, 2 ** 32, 2 ** 62])
    if kind < 0.6:
        return b""
    v = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    if not v.strip(b" \t\n\v\f\r"):
        # memcached 1.6.18's incr reads past a value of white space only
        # into whatever follows the item (see random_diff.py)
        v += b"."
    return v


def random_cas(rng):
    return rng.choice([None, None, None, "last", "last", 1])


def random_request(rng, keys):
    k = rng.choice(keys)
    q = rng.random() < 0.3
    r = rng.random()
    if r < 0.25:
        name = rng.choice(["GET", "GETK", "GETQ", "GETKQ"])
        return req(name, k)
    if r < 0.5:
        name = rng.choice(["SET", "ADD", "REPLACE"]) + ("Q" if q else "")
        return req(name, k, store_extras(rng.choice([0, 1, 2 ** 32 - 1])),
                   random_value(rng), cas=random_cas(rng))
    if r < 0.6:
        name = rng.choice(["APPEND", "PREPEND"]) + ("Q" if q else "")
        value = random_value(rng)
        if value.isdigit():
            # digits joined to a counter could make one of 2^63 or more
            value += b"."
        return req(name, k, value=value, cas=random_cas(rng))
    if r < 0.7:
        return req("DELETE" + ("Q" if q else ""), k, cas=random_cas(rng))
    if r < 0.85:
        name = rng.choice(["INCR", "DECR"]) + ("Q" if q else "")
        exp = rng.choice([0, 0xffffffff, 0xffffffff])
        return req(name, k, delta_extras(rng.choice([0, 1, 7, 2 ** 40]),
                                         rng.choice([0, 5]), exp),
                   cas=rng.choice([None, None, "last", 3]))
    if r < 0.95:
        name = rng.choice(["TOUCH", "GAT", "GATQ", "GATK", "GATKQ"])
        return req(name, k, struct.pack(">I", rng.choice([0, 1000])))
    return req(rng.choice(["NOOP", "FLUSH", "FLUSHQ"]))


# ---------------------------------------------------------------- replay

def read_packets(sock, want_opaque, deadline):
    """Responses up to the NOOP with want_opaque: (packets, marker)."""
    buf = bytearray()
    out = []
    for _ in range(100000):
        while len(buf) >= 24:
            bodylen = struct.unpack(">I", buf[8:12])[0]
            if len(buf) < 24 + bodylen:
                break
            pkt = bytes(buf[:24 + bodylen])
            del buf[:24 + bodylen]
            if pkt[1] == OP["NOOP"] and \
                    struct.unpack(">I", pkt[12:16])[0] == want_opaque:
                return out, None
            out.append(pkt)
        chunk = diff.recv_some(sock, deadline)
        if chunk is None:
            return out, "<timeout; %d bytes pending>" % len(buf)
        if chunk == b"":
            return out, "<closed%s>" % (
                "; %d bytes pending" % len(buf) if buf else "")
        buf += chunk
    return out, "<too many packets>"


def learn_cas(step, packets, cas_by_key):
    """Remember each successful response's CAS for its request's key."""
    for pkt in packets:
        opaque = struct.unpack(">I", pkt[12:16])[0]
        status = struct.unpack(">H", pkt[6:8])[0]
        cas = struct.unpack(">Q", pkt[16:24])[0]
        if opaque < len(step) and status == 0 and cas != 0:
            cas_by_key[step[opaque][1]] = cas


def run_session(steps, server):
    """Replay a session; a list of (packets, marker) per step, then no
    packets and how far the counters moved (run.py's COUNTERS)."""
    before = diff.counters(server)
    transcript = run_steps(steps, server)
    moved = diff.counters_moved(before, diff.counters(server), COUNTERS)
    transcript.append(([], "counters: " + moved.decode().rstrip()))
    return transcript


def run_steps(steps, server):
    sock, marker = diff.connect(server)
    if sock is None:
        return [([], marker)]
    cas_by_key = {}
    transcript = []
    deadline = time.monotonic() + SESSION_BUDGET
    try:
        flush = packet(OP["FLUSH"]) + sentinel(0)
        sock.sendall(flush)
        read_packets(sock, SENTINEL_OPAQUE, time.monotonic() + STEP_TIMEOUT)
        for i, step in enumerate(steps, 1):
            data = b"".join(build(lambda k: cas_by_key.get(k, 0), n)
                            for n, (_, _, build) in enumerate(step))
            sock.sendall(data + sentinel(i))
            pkts, marker = read_packets(
                sock, SENTINEL_OPAQUE + i,
                min(deadline, time.monotonic() + STEP_TIMEOUT))
            learn_cas(step, pkts, cas_by_key)
            transcript.append((pkts, marker))
            if marker is not None:
                break
    except OSError as e:
        transcript.append(([], "<%s>" % e))
    finally:
        sock.close()
    return transcript


def mask(transcript):
    """CAS values to ordinals; the VERSION body to a placeholder."""
    seen = {}
    out = []
    for pkts, marker in transcript:
        masked = []
        for p in pkts:
            cas = struct.unpack(">Q", p[16:24])[0]
            if cas:
                cas = seen.setdefault(cas, len(seen) + 1)
            head, body = p[:16], p[24:]
            if p[1] == OP["VERSION"]:
                head, body = head[:8] + head[12:], b"<version>"
            masked.append((head.hex(), cas, body))
        out.append((masked, marker))
    return out


def show(label, steps, transcript):
    print("  %s:" % label)
    for i, (pkts, marker) in enumerate(transcript):
        names = [n for n, _, _ in steps[i]] if i < len(steps) else []
        print("    step %d %s" % (i + 1, names))
        for head, cas, body in pkts:
            print("      %s cas#%s %r" % (head, cas, body[:80]))
        if marker:
            print("      %s" % marker)


def compare(name, steps, ref, test, verbose):
    r, t = mask(run_session(steps, ref)), mask(run_session(steps, test))
    if r == t:
        if verbose:
            print("same: %s" % name)
        return True
    print("DIFFERENT: %s" % name)
    show("memcached", steps, r)
    show("zeekdb", steps, t)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sessions", type=int,
                    default=int(os.environ.get("BINARY_DIFF_SESSIONS", 200)))
    ap.add_argument("--time-budget", type=float, default=DEFAULT_BUDGET)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    ref_bin = os.environ.get("MEMCACHED_BIN", "/usr/bin/memcached")
    test_bin = os.environ.get("ZEEKDB_BIN", os.path.join("daemon", "zeekdb"))
    if not diff.executable(ref_bin):
        print("SKIP: reference %s not installed" % ref_bin)
        return 77
    ref = diff.Server("memcached", ref_bin, SERVER_EXTRA)
    test = diff.Server("zeekdb", test_bin, SERVER_EXTRA)
    err = diff.start_both(ref, test)
    if err:
        print(err)
        return 99
    failed = 0
    ran = 0
    stop_at = time.monotonic() + args.time_budget
    try:
        for name, steps in FIXED.items():
            ran += 1
            failed += not compare(name, steps, ref, test, args.verbose)
            for s in (ref, test):
                s.ensure()
        for i in range(args.sessions):
            if time.monotonic() > stop_at:
                print("time budget spent after %d random sessions" % i)
                break
            seed = args.seed + i
            ran += 1
            steps = random_session(random.Random(seed))
            failed += not compare("seed %d" % seed, steps, ref, test,
                                  args.verbose)
            for s in (ref, test):
                s.ensure()
    finally:
        ref.stop()
        test.stop()
    print("%d sessions, %d different" % (ran, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
