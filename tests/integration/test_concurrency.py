#!/usr/bin/python3
"""Concurrency stress against the real daemon: many clients on many
connections doing random get/set/delete/incr/append/gets/cas with a small
memory limit (so eviction runs), bounded to a few seconds. Each client owns
its keys and checks every reply exactly; shared keys are checked for shape.
Run it against a --enable-tsan or --enable-sanitizers build to have the
sanitizers check the daemon's threads (the daemon must exit cleanly)."""

import os
import random
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
import harness as H  # noqa: E402

CLIENTS = 12
SECONDS = float(os.environ.get("ZEEKDB_STRESS_SECONDS", "6"))
MAX_OPS_PER_CLIENT = 200000
VALUE_RE = re.compile(rb"^VALUE (\S+) (\d+) (\d+)( \d+)?\r\n$")


class Worker(threading.Thread):
    def __init__(self, daemon, wid, deadline):
        super().__init__(daemon=True)
        self.d = daemon
        self.wid = wid
        self.deadline = deadline
        self.rng = random.Random(wid)
        self.ops = 0
        self.error = None
        self.mine = {}  # key -> bytes value we last stored (may be evicted)
        self.oom = 0

    def run(self):
        try:
            with self.d.connect(timeout=20) as c:
                for _ in range(MAX_OPS_PER_CLIENT):
                    if time.monotonic() > self.deadline:
                        break
                    self.step(c)
                    self.ops += 1
        except Exception as e:  # reported by the test
            self.error = "client %d: %r" % (self.wid, e)

    def own_key(self):
        return b"w%d:k%d" % (self.wid, self.rng.randrange(1000))

    def step(self, c):
        op = self.rng.randrange(100)
        if op < 35:
            self.check_get(c, self.own_key())
        elif op < 65:
            key = self.own_key()
            # Two sizes, so the pressure falls on two slab classes that
            # both got pages before memory ran out.
            val = bytes([97 + self.wid]) * self.rng.choice((100, 1000))
            if self.store(c, b"set %s 7 0 %d\r\n%s\r\n" % (key, len(val), val)):
                self.mine[key] = val
            else:
                self.mine.pop(key, None)
        elif op < 72:
            key = self.own_key()
            r = c.request(b"delete %s\r\n" % key)
            if r not in (b"DELETED\r\n", b"NOT_FOUND\r\n"):
                raise AssertionError("delete: %r" % r)
            self.mine.pop(key, None)
        elif op < 80:
            key = b"w%d:n" % self.wid
            c.request(b"set %s 0 0 1\r\n5\r\n" % key)
            r = c.request(b"incr %s 10\r\n" % key)
            if r not in (b"15\r\n", b"NOT_FOUND\r\n"):
                raise AssertionError("incr: %r" % r)
        elif op < 85:
            self.shared(c)
        elif op < 90:
            self.append(c)
        else:
            self.check_cas(c)

    def store(self, c, req):
        """A set under memory pressure: STORED, or (strict memory limit,
        a class still waiting for a page) out of memory, after which the
        key is gone. Returns whether it was stored."""
        got = c.request(req)
        if got == b"SERVER_ERROR out of memory storing object\r\n":
            self.oom += 1
            return False
        if got != b"STORED\r\n":
            raise AssertionError("%r -> %r" % (req[:60], got))
        return True

    def expect(self, c, req, want):
        got = c.request(req)
        if got != want:
            raise AssertionError("%r -> %r, want %r" % (req[:60], got, want))

    def check_get(self, c, key):
        c.send(b"get %s\r\n" % key)
        reply = c.recv_retrieval()
        if reply == b"END\r\n":
            return  # a miss: deleted, or evicted under memory pressure
        head, rest = reply.split(b"\r\n", 1)
        m = VALUE_RE.match(head + b"\r\n")
        if not m or m.group(1) != key or m.group(2) != b"7":
            raise AssertionError("bad header %r" % head)
        val = rest[:int(m.group(3))]
        if key in self.mine and val != self.mine[key]:
            raise AssertionError("%r: got %d bytes, want %d" %
                                 (key, len(val), len(self.mine[key])))

    def shared(self, c):
        key = b"shared:%d" % self.rng.randrange(20)
        if self.rng.randrange(2):
            val = bytes([65 + self.wid]) * 100
            self.store(c, b"set %s 0 0 100\r\n%s\r\n" % (key, val))
            return
        c.send(b"get %s shared:0 shared:1\r\n" % key)
        reply = c.recv_retrieval()
        if not reply.endswith(b"END\r\n"):
            raise AssertionError("shared get: %r" % reply[-40:])
        for m in re.finditer(rb"VALUE \S+ 0 (\d+)\r\n", reply):
            if m.group(1) != b"100":
                raise AssertionError("shared value of %s bytes" % m.group(1))

    def append(self, c):
        key = self.own_key()
        # 100 + 900 bytes: the two sizes the other operations use.
        if not self.store(c, b"set %s 7 0 100\r\n%s\r\n" % (key, b"A" * 100)):
            self.mine.pop(key, None)
            return
        r = c.request(b"append %s 0 0 900\r\n%s\r\n" % (key, b"B" * 900))
        if r == b"STORED\r\n":
            self.mine[key] = b"A" * 100 + b"B" * 900
        elif r == b"NOT_STORED\r\n":
            self.mine.pop(key, None)  # evicted in between
        else:
            raise AssertionError("append: %r" % r)

    def check_cas(self, c):
        key = b"w%d:cas" % self.wid
        if not self.store(c, b"set %s 0 0 2\r\nv1\r\n" % key):
            return
        c.send(b"gets %s\r\n" % key)
        reply = c.recv_retrieval()
        m = VALUE_RE.match(reply.split(b"\r\n", 1)[0] + b"\r\n")
        if not m:
            return  # evicted in between
        unique = int(m.group(4))
        r = c.request(b"cas %s 0 0 2 %d\r\nv2\r\n" % (key, unique))
        if r == b"NOT_FOUND\r\n":
            return  # evicted under memory pressure in between
        if r != b"STORED\r\n":
            raise AssertionError("cas: %r" % r)
        r = c.request(b"cas %s 0 0 2 %d\r\nv3\r\n" % (key, unique))
        if r not in (b"EXISTS\r\n", b"NOT_FOUND\r\n"):
            raise AssertionError("stale cas: %r" % r)


class Filler(threading.Thread):
    """Pipelines many small items while the workers run, so the hash
    table grows (and migrates buckets) under concurrent load."""

    def __init__(self, daemon, count):
        super().__init__(daemon=True)
        self.d = daemon
        self.count = count
        self.error = None

    def run(self):
        try:
            with self.d.connect(timeout=30) as c:
                for base in range(0, self.count, 1000):
                    c.send(b"".join(b"set fill:%d 0 0 1 noreply\r\nf\r\n"
                                    % (base + i) for i in range(1000)))
                if not c.request(b"version\r\n").startswith(b"VERSION "):
                    raise AssertionError("filler lost sync")
        except Exception as e:
            self.error = "filler: %r" % e


class Concurrency(unittest.TestCase):
    def test_threads_are_named(self):
        """top -H, perf and gdb tell the threads apart by name."""
        want = ["zk-maintainer", "zk-worker-0", "zk-worker-1", "zk-worker-2"]
        d = H.Daemon(["-t", "3"]).start()
        try:
            # A reply means main is in its loop: every thread is started
            # and named (the port accepts before that).
            with d.connect() as c:
                self.assertTrue(c.request(b"version\r\n").startswith(b"VERSION "))
            names = []
            for _ in range(50):  # bounded: 5 s on a slow sanitizer build
                names = self.zk_thread_names(d.proc.pid)
                if names == want:
                    break
                time.sleep(0.1)
            self.assertEqual(names, want)
        finally:
            H.stop_checked(d)

    @staticmethod
    def zk_thread_names(pid):
        task = "/proc/%d/task" % pid
        names = []
        for t in os.listdir(task):
            try:
                with open(os.path.join(task, t, "comm")) as f:
                    names.append(f.read().strip())
            except FileNotFoundError:  # the thread ended meanwhile
                pass
        return sorted(n for n in names if n.startswith("zk-"))

    def test_many_clients_under_memory_pressure(self):
        d = H.Daemon(["-t", "4", "-m", "4", "-c", "256",
                      "-o", "hashpower=12"]).start()
        try:
            deadline = time.monotonic() + SECONDS
            workers = [Worker(d, i, deadline) for i in range(CLIENTS)]
            filler = Filler(d, 20000)
            for w in workers + [filler]:
                w.start()
            for w in workers + [filler]:
                w.join(SECONDS + 30)
                self.assertFalse(w.is_alive(), "a client hung")
            errors = [w.error for w in workers + [filler] if w.error]
            self.assertEqual(errors, [])
            total = sum(w.ops for w in workers)
            self.assertGreater(total, 1000)
            # Out of memory is allowed only while a class waits for a page.
            self.assertLess(sum(w.oom for w in workers), total // 100 + 5)
            with d.connect() as c:
                stats = c.stats()
            self.assertGreater(int(stats["evictions"]), 0)
            self.assertGreater(int(stats["cmd_set"]), 20000)
            # The table grew from 2^12 buckets while requests ran.
            self.assertGreater(int(stats["hash_power_level"]), 12)
            self.assertTrue(d.alive())
        finally:
            H.stop_checked(d)


if __name__ == "__main__":
    H.main()
