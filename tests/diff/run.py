#!/usr/bin/python3
"""Differential test: replay scripted text-protocol sessions against the
server under test (ZeekDB) and against a reference memcached, and compare
the replies byte for byte after masking what legitimately differs.

Usage:
  run.py [--ref-only] [--case PATTERN]... [-v] [--check-corpus] [--list]

Environment:
  ZEEKDB_BIN     server under test (default: daemon/zeekdb, relative to the
                 current directory, i.e. the build directory)
  MEMCACHED_BIN  reference server (default: /usr/bin/memcached)

Exit status: 0 when every difference is listed in known-differences.txt,
1 when some is not, 77 (automake SKIP) when the reference is not installed,
99 on a hard error (bad corpus, a server that will not start).

The case format is described in tests/diff/README. Standard library only;
everything talks to 127.0.0.1 only; every loop is bounded in count and
time.
"""

import argparse
import fnmatch
import glob
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")
KNOWN_FILE = os.path.join(HERE, "known-differences.txt")

STEP_TIMEOUT = 2.0      # seconds to wait for one step's reply
SLOW_STEP_TIMEOUT = 0.5 # ... once a server has timed out SLOW_AFTER times
SLOW_AFTER = 5
RUN_BUDGET = 300.0      # seconds for the whole run; later cases fail
CASE_BUDGET = 20.0      # seconds one case may take on one server
QUIET = 0.15            # send/quiet: this long without a byte ends the reply
CHECK_QUIET = 0.05      # --check-corpus: extra wait after each step
MAX_STEPS = 2000        # per case
MAX_RESTARTS = 10       # server restarts after a crash, per server
RECV_CHUNK = 1 << 20
SERVER_FLAGS = ["-U", "0", "-t", "2", "-m", "64"]

NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]+$")
# A `stats conns` line is named after a file descriptor, which is each
# server's own: "<fd>:addr", "<fd>:state", ...
CONN_STAT_RE = re.compile(
    rb"^[0-9]+:(?=(addr|listen_addr|state|secs_since_last_cmd)$)")
# The stats counters a session must move as memcached's do, compared by
# random_diff.py and binary_diff.py once the server has answered every
# request of the session.
# Left out: bytes_read and bytes_written (a hang-up leaves unread bytes
# behind as timing has it), and what memcached's own threads move or what
# they change for later requests (get_expired, get_flushed, curr_items,
# reclaimed, expired_unfetched: memcached reclaims dead items at the LRU
# tails when it allocates or in the background, and a later get of such
# a key is then a plain miss).
COUNTERS = tuple(b"""cmd_get cmd_set cmd_flush cmd_touch cmd_meta get_hits
    get_misses delete_misses delete_hits incr_misses incr_hits decr_misses
    decr_hits cas_misses cas_hits cas_badval touch_hits touch_misses
    store_too_large store_no_memory total_items""".split())
# Per class in stats slabs: compared as sums, since each server has its
# own classes.
CLASS_COUNTERS = tuple(b"""get_hits cmd_set delete_hits incr_hits decr_hits
    cas_hits cas_badval touch_hits""".split())


class CorpusError(Exception):
    pass


# ---------------------------------------------------------------- corpus

def decode_text(text, where):
    """Decode a step's TEXT into a list of parts: bytes, or ('cas', n)
    placeholders resolved per server at send time, or ('key',)."""
    parts = []
    buf = bytearray()
    i = 0
    n = len(text)
    simple = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "s": b" ",
              "\\": b"\\"}

    def one_escape(j):
        """Decode one escape starting after the backslash at j; return
        (bytes, next index)."""
        if j >= n:
            raise CorpusError("%s: dangling backslash" % where)
        c = text[j]
        if c in simple:
            return simple[c], j + 1
        if c == "x":
            h = text[j + 1:j + 3]
            if len(h) != 2 or not all(ch in "0123456789abcdefABCDEF"
                                      for ch in h):
                raise CorpusError("%s: bad \\x escape" % where)
            return bytes([int(h, 16)]), j + 3
        raise CorpusError("%s: unknown escape \\%s" % (where, c))

    while i < n:
        c = text[i]
        if c != "\\":
            buf += c.encode("utf-8")
            i += 1
            continue
        if i + 1 < n and text[i + 1] == "k":
            parts.append(bytes(buf))
            buf = bytearray()
            parts.append(("key",))
            i += 2
            continue
        if i + 1 < n and text[i + 1] == "c":
            m = re.match(r"\\c(\d+)", text[i:])
            if not m:
                raise CorpusError("%s: \\c needs a number" % where)
            parts.append(bytes(buf))
            buf = bytearray()
            parts.append(("cas", int(m.group(1))))
            i += len(m.group(0))
            continue
        if i + 1 < n and text[i + 1] == "{":
            m = re.match(r"\\\{(\d+):", text[i:])
            if not m:
                raise CorpusError("%s: bad \\{N:X} repeat" % where)
            count = int(m.group(1))
            j = i + len(m.group(0))
            if j < n and text[j] == "\\":
                unit, j = one_escape(j + 1)
            elif j < n:
                unit, j = text[j].encode("utf-8"), j + 1
            else:
                raise CorpusError("%s: bad \\{N:X} repeat" % where)
            if j >= n or text[j] != "}":
                raise CorpusError("%s: \\{N:X} needs a closing }" % where)
            if count > 16 << 20:
                raise CorpusError("%s: repeat too large" % where)
            buf += unit * count
            i = j + 1
            continue
        b, i = one_escape(i + 1)
        buf += b
    parts.append(bytes(buf))
    return [p for p in parts if p != b""]


class Step:
    __slots__ = ("kind", "parts", "until", "count", "seconds", "line", "src")

    def __init__(self, kind, line, src):
        self.kind = kind        # "send" or "sleep"
        self.line = line
        self.src = src          # the directive as written, for reports
        self.parts = []
        self.until = "lines"    # lines | end | close | quiet
        self.count = 1
        self.seconds = 0.0


class Case:
    def __init__(self, name, path, line):
        self.name = name
        self.path = path
        self.line = line
        self.steps = []


SEND_RE = re.compile(r"^send(?:/(\d+|end|close|quiet))?(?: (.*))?$")


def parse_file(path):
    cases = []
    cur = None
    with open(path, "r", encoding="utf-8") as f:
        lines = f.read().split("\n")
    if len(lines) > 200000:
        raise CorpusError("%s: too many lines" % path)
    for lineno, raw in enumerate(lines, 1):
        where = "%s:%d" % (os.path.basename(path), lineno)
        line = raw[:-1] if raw.endswith("\r") else raw
        if line.strip() == "" or line.lstrip().startswith("#"):
            continue
        if line.startswith("=== "):
            name = line[4:].strip()
            if not NAME_RE.match(name):
                raise CorpusError("%s: bad case name %r" % (where, name))
            cur = Case(name, path, lineno)
            cases.append(cur)
            continue
        if cur is None:
            raise CorpusError("%s: directive before the first '=== name'"
                              % where)
        if line.startswith("sleep "):
            st = Step("sleep", lineno, line)
            try:
                st.seconds = float(line[6:])
            except ValueError:
                raise CorpusError("%s: bad sleep" % where)
            if not 0 < st.seconds <= 2.0:
                raise CorpusError("%s: sleep must be in (0, 2]" % where)
            cur.steps.append(st)
            continue
        m = SEND_RE.match(line)
        if not m:
            raise CorpusError("%s: unknown directive %r" % (where, line))
        st = Step("send", lineno, line)
        mode = m.group(1)
        if mode is None:
            st.until, st.count = "lines", 1
        elif mode.isdigit():
            st.until, st.count = "lines", int(mode)
        else:
            st.until = mode
        st.parts = decode_text(m.group(2) or "", where)
        cur.steps.append(st)
        if len(cur.steps) > MAX_STEPS:
            raise CorpusError("%s: too many steps in %s" % (where, cur.name))
    return cases


def load_corpus():
    files = sorted(glob.glob(os.path.join(CASES_DIR, "*.txt")))
    if not files:
        raise CorpusError("no case files in %s" % CASES_DIR)
    cases = []
    seen = {}
    total_sleep = 0.0
    for path in files:
        for c in parse_file(path):
            if c.name in seen:
                raise CorpusError("case %s defined twice (%s and %s)"
                                  % (c.name, seen[c.name], path))
            seen[c.name] = path
            if not c.steps:
                raise CorpusError("case %s has no steps" % c.name)
            total_sleep += sum(s.seconds for s in c.steps)
            cases.append(c)
    if total_sleep > 10.0:
        raise CorpusError("sleeps add up to %.1f s (limit 10 s)" % total_sleep)
    return cases


def load_known():
    known = {}
    if not os.path.exists(KNOWN_FILE):
        return known
    with open(KNOWN_FILE, "r", encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, reason = line.partition(":")
            name, reason = name.strip(), reason.strip()
            if not sep or not NAME_RE.match(name) or not reason:
                raise CorpusError("known-differences.txt:%d: want "
                                  "'case-name: reason'" % lineno)
            known[name] = reason
    return known


# ---------------------------------------------------------------- servers

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Server:
    def __init__(self, label, binary, extra):
        self.label = label
        self.binary = binary
        self.extra = extra
        self.proc = None
        self.port = None
        self.log = None
        self.restarts = 0
        self.timeouts = 0

    def argv(self):
        a = [self.binary, "-p", str(self.port), "-l", "127.0.0.1"]
        a += SERVER_FLAGS + list(self.extra)
        if os.geteuid() == 0:
            a += ["-u", "nobody"]
        return a

    def start(self):
        for _attempt in range(5):
            self.port = free_port()
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=self.log)
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", self.port),
                                             timeout=0.5).close()
                    return
                except OSError:
                    time.sleep(0.05)
            self.stop()
        raise RuntimeError("%s (%s) did not start listening on 127.0.0.1:%d:"
                           " %s" % (self.label, self.binary, self.port,
                                    self.log_text()))

    def log_text(self):
        if self.log is None:
            return ""
        try:
            self.log.seek(0)
            return self.log.read()[-2000:].decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ensure(self):
        """Restart after a crash; returns a note when it did."""
        if self.alive():
            return None
        code = self.proc.returncode if self.proc else None
        if self.restarts >= MAX_RESTARTS:
            raise RuntimeError("%s died too often" % self.label)
        self.restarts += 1
        note = "%s exited (status %s), restarted: %s" % (
            self.label, code, self.log_text().strip()[-300:])
        self.start()
        return note

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


def stats_lines(sock, group):
    """The STAT lines of `stats GROUP` as (name, value) pairs."""
    sock.sendall(b"stats%s\r\n" % (b" " + group if group else b""))
    data = b""
    deadline = time.monotonic() + STEP_TIMEOUT
    for _ in range(1000):
        if data.endswith(b"END\r\n"):
            break
        chunk = recv_some(sock, deadline)
        if not chunk:
            break
        data += chunk
    for line in data.split(b"\r\n"):
        f = line.split(b" ")
        if len(f) == 3 and f[0] == b"STAT":
            yield f[1], f[2]


def counters(server):
    """The COUNTERS of a plain stats, and the CLASS_COUNTERS of stats
    slabs summed over the classes (as "slabs:NAME"); {} when it fails."""
    sock, _ = connect(server)
    if sock is None:
        return {}
    found = {}
    try:
        for name, value in stats_lines(sock, b""):
            if name in COUNTERS:
                found[name] = int(value)
        for name, value in stats_lines(sock, b"slabs"):
            name = name.split(b":", 1)[-1]
            if name in CLASS_COUNTERS:
                key = b"slabs:" + name
                found[key] = found.get(key, 0) + int(value)
    except OSError:
        return {}
    finally:
        sock.close()
    return found


def counters_moved(before, after, names=None):
    """One reply-like line: how far each counter of names (all of them
    by default) moved."""
    if names is None:
        names = COUNTERS + tuple(b"slabs:" + n for n in CLASS_COUNTERS)
    return b" ".join(b"%s%+d" % (k, after.get(k, -1) - before.get(k, 0))
                     for k in names) + b"\r\n"


def executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def start_both(ref, test):
    """Start both servers; None, or what went wrong (both stopped)."""
    try:
        ref.start()
        test.start()
    except (RuntimeError, OSError) as e:
        ref.stop()
        test.stop()
        return "error starting servers: %s" % e
    return None


# ---------------------------------------------------------------- replay

def resolve(parts, case, cas_seen):
    out = bytearray()
    for p in parts:
        if isinstance(p, bytes):
            out += p
        elif p[0] == "key":
            out += case.name.encode()
        else:
            idx = p[1]
            if 1 <= idx <= len(cas_seen):
                out += cas_seen[idx - 1]
            else:
                out += b"0"   # unknown: the case will see the difference
    return bytes(out)


def recv_some(sock, deadline):
    """One recv with a deadline: bytes, b'' on EOF, None on timeout."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    r, _, _ = select.select([sock], [], [], left)
    if not r:
        return None
    try:
        return sock.recv(RECV_CHUNK)
    except (ConnectionResetError, ConnectionAbortedError):
        return b""


def step_timeout(server):
    return STEP_TIMEOUT if server.timeouts < SLOW_AFTER else SLOW_STEP_TIMEOUT


def collect(sock, st, case_deadline, timeout):
    """Read one step's reply. Returns (bytes, marker or None, closed)."""
    data = bytearray()
    deadline = min(time.monotonic() + timeout, case_deadline)
    if st.until == "lines" and st.count == 0:
        return b"", None, False
    for _ in range(100000):
        if st.until == "lines" and data.count(b"\r\n") >= st.count:
            return bytes(data), None, False
        if st.until == "end" and reply_complete(data):
            return bytes(data), None, False
        if st.until == "quiet":
            dl = min(time.monotonic() + QUIET, deadline)
        else:
            dl = deadline
        chunk = recv_some(sock, dl)
        if chunk is None:
            if st.until == "quiet" and time.monotonic() < deadline:
                return bytes(data), None, False
            return bytes(data), "<timeout>", False
        if chunk == b"":
            return bytes(data), "<closed>", True
        data += chunk
    return bytes(data), "<too-many-reads>", False


def reply_complete(data):
    """send/end: the reply is whole when its last line (data blocks
    skipped) is END."""
    last = None
    for kind, chunk in walk_lines(bytes(data)):
        last = (kind, chunk)
    return last is not None and last == ("line", b"END")


def drain_after(sock, wait):
    data = bytearray()
    deadline = time.monotonic() + wait
    for _ in range(1000):
        chunk = recv_some(sock, deadline)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def connect(server):
    """(socket, None), or (None, a "<connect failed ...>" marker)."""
    try:
        sock = socket.create_connection(("127.0.0.1", server.port),
                                        timeout=5.0)
    except OSError as e:
        return None, "<connect failed: %s>" % e
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(5.0)
    return sock, None


def read_to_eof(sock, timeout):
    """End of a session: half-close, then read up to the server's close,
    so any late or surplus reply shows up. Returns (bytes, marker)."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    tail = bytearray()
    dl = time.monotonic() + timeout
    for _ in range(1000):
        chunk = recv_some(sock, dl)
        if chunk is None:
            return bytes(tail), "<no eof after half-close>"
        if chunk == b"":
            break
        tail += chunk
    return bytes(tail), "<eof>"


def run_both(ref, test, replay, budget):
    """replay(server) on both servers at once, one thread each; returns
    (reference result, result under test), None for a thread still
    running after budget seconds."""
    results = {}

    def worker(srv, key):
        results[key] = replay(srv)

    th = [threading.Thread(target=worker, args=(ref, "ref")),
          threading.Thread(target=worker, args=(test, "test"))]
    for t in th:
        t.start()
    for t in th:
        t.join(budget)
    return results.get("ref"), results.get("test")


def run_case(case, server, check=False):
    """Replay one case; returns a list of (step, raw reply, marker)."""
    transcript = []
    cas_seen = []
    start = time.monotonic()
    case_deadline = start + CASE_BUDGET
    sock, marker = connect(server)
    if sock is None:
        return [(None, b"", marker)], []
    closed = False
    warnings = []
    try:
        for st in case.steps:
            if time.monotonic() > case_deadline:
                transcript.append((st, b"", "<case time budget exceeded>"))
                break
            if st.kind == "sleep":
                time.sleep(st.seconds)
                continue
            if closed:
                transcript.append((st, b"", "<not sent: connection closed>"))
                break
            payload = resolve(st.parts, case, cas_seen)
            try:
                if payload:
                    sock.sendall(payload)
            except OSError as e:
                transcript.append((st, b"", "<send failed: %s>"
                                   % e.__class__.__name__))
                break
            reply, marker, closed = collect(sock, st, case_deadline,
                                            step_timeout(server))
            if (check and st.until == "lines" and marker is None
                    and reply.count(b"\r\n") != st.count):
                warnings.append("line %d: send/%d got %d lines at once"
                                % (st.line, st.count, reply.count(b"\r\n")))
            if check and marker is None and not closed:
                extra = drain_after(sock, CHECK_QUIET)
                if extra:
                    warnings.append("line %d: %d unexpected extra bytes "
                                    "after the reply (count too low?): %r"
                                    % (st.line, len(extra), extra[:80]))
                    reply += extra
            if marker == "<timeout>":
                warnings.append("line %d: timed out (reply so far %r)"
                                % (st.line, reply[:80]))
            learn_cas(reply, cas_seen)
            transcript.append((st, reply, marker))
            if marker == "<timeout>":
                # The transcript already differs or the case is wrong:
                # stop here rather than stall on every later step.
                server.timeouts += 1
                closed = True
                break
        if not closed:
            tail, marker = read_to_eof(sock, step_timeout(server))
            if marker != "<eof>":
                server.timeouts += 1
            transcript.append((None, tail, marker))
    finally:
        sock.close()
    return transcript, warnings


VALUE_RE = re.compile(rb"^VALUE (\S+) (\S+) (\d+)(?: (\S+))?$")
# Meta protocol reply lines: a two-letter code, then flag tokens; VA is
# followed by a data block of its size.
META_VA_RE = re.compile(rb"^VA (\d+)(?: |$)")
META_LINE_RE = re.compile(rb"^(VA|HD|EN|NF|NS|EX)(?: |$)")
ME_LINE_RE = re.compile(rb"^ME \S+ exp=")


def data_size(line):
    """Length of the data block after a VALUE or VA line, else None."""
    m = VALUE_RE.match(line) or META_VA_RE.match(line)
    if m is None:
        return None
    return int(m.group(3) if m.re is VALUE_RE else m.group(1))


def meta_cas_tokens(line):
    """CAS values shown in a meta reply line (c<cas>) or an me line
    (cas=<cas>), as (start, end) spans of the digits."""
    spans = []
    if META_LINE_RE.match(line):
        pos = 0
        for tok in line.split(b" ")[1:]:
            pos = line.index(tok, pos)
            if re.match(rb"^c\d+$", tok):
                spans.append((pos + 1, pos + len(tok)))
            pos += len(tok)
    elif ME_LINE_RE.match(line):
        m = re.search(rb" cas=(\d+)", line)
        if m:
            spans.append(m.span(1))
    return spans


def walk_lines(data):
    """Yield (kind, bytes) over a reply: ('line', line-without-CRLF) or
    ('data', raw data block incl. CRLF) or ('rest', trailing partial)."""
    i = 0
    n = len(data)
    for _ in range(n + 1):
        if i >= n:
            return
        j = data.find(b"\r\n", i)
        if j < 0:
            yield "rest", data[i:]
            return
        line = data[i:j]
        yield "line", line
        i = j + 2
        size = data_size(line)
        if size is not None:
            if i + size + 2 > n:
                yield "rest", data[i:]
                return
            yield "data", data[i:i + size + 2]
            i += size + 2


def learn_cas(reply, cas_seen):
    for kind, chunk in walk_lines(reply):
        if kind == "line":
            m = VALUE_RE.match(chunk)
            if m and m.group(4) is not None and m.group(4) not in cas_seen:
                cas_seen.append(m.group(4))
            for a, b in meta_cas_tokens(chunk):
                if chunk[a:b] not in cas_seen:
                    cas_seen.append(chunk[a:b])


def mask_meta(line, cas_labels):
    """Mask a meta reply line: CAS values as labels (shared with VALUE
    lines), remaining TTL (t<n>, not t-1) and last access (l<n>) as
    times; in an me line exp, la and cas likewise, and cls and size,
    which depend on each server's item layout."""
    for a, b in reversed(meta_cas_tokens(line)):
        cas = line[a:b]
        if cas not in cas_labels:
            cas_labels[cas] = b"<cas%d>" % (len(cas_labels) + 1)
        line = line[:a] + cas_labels[cas] + line[b:]
    if META_LINE_RE.match(line):
        line = re.sub(rb" t\d+(?= |$)", b" t<t>", line)
        line = re.sub(rb" l\d+(?= |$)", b" l<l>", line)
    else:
        line = re.sub(rb" exp=-?\d+", lambda m: m.group(0) if
                      m.group(0) == b" exp=-1" else b" exp=<t>", line)
        line = re.sub(rb" la=\d+", b" la=<l>", line)
        line = re.sub(rb" cls=\d+", b" cls=<v>", line)
        line = re.sub(rb" size=\d+", b" size=<v>", line)
    return line


def mask(reply, cas_labels):
    """Mask what legitimately differs: CAS values (as per-case labels, so
    equal/unequal CAS still compares), STAT values, the version string,
    and in meta replies times and item layout (see mask_meta)."""
    out = bytearray()
    for kind, chunk in walk_lines(reply):
        if kind != "line":
            out += chunk
            continue
        m = VALUE_RE.match(chunk)
        if m and m.group(4) is not None:
            cas = m.group(4)
            if cas not in cas_labels:
                cas_labels[cas] = b"<cas%d>" % (len(cas_labels) + 1)
            chunk = chunk[:m.start(4)] + cas_labels[cas]
        elif chunk.startswith(b"STAT "):
            fields = chunk.split(b" ", 2)
            if len(fields) == 3:
                name = CONN_STAT_RE.sub(b"<fd>:", fields[1])
                chunk = fields[0] + b" " + name + b" <v>"
        elif chunk.startswith(b"VERSION "):
            chunk = b"VERSION <v>"
        elif META_LINE_RE.match(chunk) or ME_LINE_RE.match(chunk):
            chunk = mask_meta(chunk, cas_labels)
        out += chunk + b"\r\n"
    return bytes(out)


def masked_transcript(transcript):
    labels = {}
    return [(st, mask(reply, labels), marker)
            for st, reply, marker in transcript]


def show(b, limit=600):
    r = repr(bytes(b))[2:-1]
    if len(r) > limit:
        r = r[:limit] + "...(%d bytes)" % len(b)
    return r


def print_transcript(label, tr):
    print("  --- %s" % label)
    for st, reply, marker in tr:
        src = st.src if st is not None else "(end of session)"
        if len(src) > 120:
            src = src[:120] + "..."
        print("    %-50s -> %s%s" % (src, show(reply),
                                       " " + marker if marker else ""))


def first_difference(ta, tb):
    for i in range(max(len(ta), len(tb))):
        a = ta[i] if i < len(ta) else None
        b = tb[i] if i < len(tb) else None
        if a is None or b is None or a[1] != b[1] or a[2] != b[2]:
            return i, a, b
    return None


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref-only", action="store_true",
                    help="compare two reference servers (validates corpus)")
    ap.add_argument("--case", action="append", default=[],
                    help="run only cases matching this name or glob")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print both transcripts of every case run")
    ap.add_argument("--check-corpus", action="store_true",
                    help="after each step wait briefly for surplus bytes "
                         "and report steps whose reply spec looks wrong")
    ap.add_argument("--list", action="store_true", help="list case names")
    ap.add_argument("--extra-test-flags", default="",
                    help="extra flags for the server under test "
                         "(e.g. -C, to prove the test can fail)")
    args = ap.parse_args()

    try:
        cases = load_corpus()
        known = load_known()
    except (CorpusError, OSError) as e:
        print("corpus error: %s" % e)
        return 99
    names = {c.name for c in cases}
    for k in known:
        if k not in names:
            print("warning: known-differences.txt lists unknown case %s" % k)
    if args.list:
        for c in cases:
            print(c.name)
        return 0
    if args.case:
        cases = [c for c in cases
                 if any(fnmatch.fnmatchcase(c.name, p) for p in args.case)]
        if not cases:
            print("no case matches %s" % " ".join(args.case))
            return 99

    ref_bin = os.environ.get("MEMCACHED_BIN", "/usr/bin/memcached")
    if not executable(ref_bin):
        print("SKIP: reference memcached not found at %s (set MEMCACHED_BIN,"
              " or apt-get install memcached)" % ref_bin)
        return 77
    if args.ref_only:
        test_bin, test_label = ref_bin, "test(ref)"
    else:
        test_bin = os.environ.get("ZEEKDB_BIN", "daemon/zeekdb")
        test_label = "zeekdb"
        if not executable(test_bin):
            print("server under test not found: %s (set ZEEKDB_BIN, build "
                  "it, or use --ref-only)" % os.path.abspath(test_bin))
            return 99

    ref = Server("memcached", ref_bin, [])
    test = Server(test_label, test_bin, args.extra_test_flags.split())
    t0 = time.monotonic()
    err = start_both(ref, test)
    if err:
        print(err)
        return 99
    print("reference: %s on 127.0.0.1:%d" % (ref_bin, ref.port))
    print("under test: %s on 127.0.0.1:%d" % (test_bin, test.port))

    identical = 0
    excused = []
    failed = []
    fixed = []
    corpus_warnings = []
    try:
        for case in cases:
            if time.monotonic() - t0 > RUN_BUDGET:
                print("FAIL %s: not run, the run exceeded %d s"
                      % (case.name, RUN_BUDGET))
                failed.append(case.name)
                continue
            for srv in (ref, test):
                note = srv.ensure()
                if note:
                    print("note: before %s: %s" % (case.name, note))
            res_ref, res_test = run_both(
                ref, test, lambda srv: run_case(case, srv, args.check_corpus),
                CASE_BUDGET + 30)
            if res_ref is None or res_test is None:
                print("FAIL %s: replay thread hung" % case.name)
                failed.append(case.name)
                continue
            tr_ref, warn_ref = res_ref
            tr_test, _warn_test = res_test
            for w in warn_ref:
                corpus_warnings.append("%s: %s" % (case.name, w))
            mr = masked_transcript(tr_ref)
            mt = masked_transcript(tr_test)
            diff = first_difference(mr, mt)
            if args.verbose:
                print("=== %s (%s:%d)" % (case.name,
                                         os.path.basename(case.path),
                                         case.line))
                print_transcript("memcached", tr_ref)
                print_transcript(test_label, tr_test)
            if diff is None:
                identical += 1
                if case.name in known:
                    fixed.append(case.name)
                continue
            if case.name in known:
                excused.append(case.name)
                if args.verbose:
                    print("  known difference: %s" % known[case.name])
                continue
            failed.append(case.name)
            i, a, b = diff
            st = (a or b)[0]
            src = st.src if st is not None else "(end of session)"
            print("FAIL %s (%s:%d) at %s" % (
                case.name, os.path.basename(case.path),
                st.line if st is not None else case.line, src[:200]))
            print("  memcached: %s%s" % (show(a[1]) if a else "<none>",
                                          " " + a[2] if a and a[2] else ""))
            print("  %-9s: %s%s" % (test_label, show(b[1]) if b else "<none>",
                                    " " + b[2] if b and b[2] else ""))
            if a and b and a[1] != b[1]:
                la, lb = a[1].split(b"\r\n"), b[1].split(b"\r\n")
                for j in range(min(len(la), len(lb), 100000)):
                    if la[j] != lb[j]:
                        break
                else:
                    j = min(len(la), len(lb))
                print("  first differing line %d: memcached %s | %s %s" % (
                    j + 1, show(la[j], 200) if j < len(la) else "<none>",
                    test_label, show(lb[j], 200) if j < len(lb) else "<none>"))
    finally:
        ref.stop()
        test.stop()

    elapsed = time.monotonic() - t0
    for w in corpus_warnings:
        print("corpus warning: %s" % w)
    if fixed and not args.ref_only:
        print("note: listed in known-differences.txt but now identical: %s"
              % " ".join(fixed))
    if excused:
        print("known differences (listed, not failures): %s"
              % " ".join(excused))
    print("%d cases in %.1f s: %d identical, %d known differences, "
          "%d unlisted differences" % (len(cases), elapsed, identical,
                                       len(excused), len(failed)))
    passed = identical + len(excused)
    print("%d passed, %d failed" % (passed, len(failed)))
    if args.check_corpus and corpus_warnings:
        return 1
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
