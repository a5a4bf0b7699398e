#!/usr/bin/python3
"""Warm restarts: -o snapshot_path, the snapshot command, SIGUSR1,
periodic snapshots, loading at start, damaged files and kill -9 safety.

zeekdb-only (memcached has no snapshots); skipped against memcached or an
external daemon.

  /usr/bin/python3 tests/integration/test_snapshot.py
  /usr/bin/python3 tests/integration/test_snapshot.py Restart.test_round_trip
"""

import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402


def skip_unless_own_zeekdb(test):
    if not H.is_zeekdb():
        test.skipTest("snapshots are zeekdb's")
    if H.external_addr():
        test.skipTest("needs its own daemon flags; ZEEKDB_ADDR is set")


def workdir(test):
    """A directory the daemon (running as nobody under root) can write."""
    d = tempfile.mkdtemp(prefix="zeekdb-snap-")
    os.chmod(d, 0o777)
    test.addCleanup(shutil.rmtree, d, True)
    return d


def snap_daemon(path, *extra):
    return H.Daemon(["-o", "snapshot_path=%s" % path] + list(extra))


def store_many(client, items, batch=2000):
    """items: list of (key, flags, exptime, value); all with noreply, then a
    version round trip to know they are in."""
    for i in range(0, len(items), batch):
        out = b"".join(b"set %s %d %d %d noreply\r\n%s\r\n"
                       % (k, f, e, len(v), v) for k, f, e, v in
                       items[i:i + batch])
        client.send(out)
    assert client.request(b"version\r\n").startswith(b"VERSION ")


def gets_many(client, keys, batch=200):
    """{key: (flags, value, cas)} for the keys that hit."""
    found = {}
    for i in range(0, len(keys), batch):
        client.send(b"gets " + b" ".join(keys[i:i + batch]) + b"\r\n")
        body = client.recv_retrieval(timeout=30)
        pos = 0
        while True:
            m = re.compile(rb"VALUE (\S+) (\d+) (\d+) (\d+)\r\n").match(
                body, pos)
            if m is None:
                break
            start = m.end()
            n = int(m.group(3))
            found[m.group(1)] = (int(m.group(2)), body[start:start + n],
                                 int(m.group(4)))
            pos = start + n + 2
        assert body[pos:] == b"END\r\n", body[pos:pos + 100]
    return found


def wait_for(pred, timeout, what):
    if not H.wait_until(pred, timeout):
        raise AssertionError("timed out waiting for " + what)


class Restart(unittest.TestCase):
    def setUp(self):
        skip_unless_own_zeekdb(self)
        self.dir = workdir(self)
        self.path = os.path.join(self.dir, "cache.snap")

    def test_round_trip(self):
        rnd = random.Random(7)
        items = []
        for i in range(100000):
            key = b"k:%d" % i
            flags = rnd.choice([0, 1, 4294967295, rnd.randrange(1 << 32)])
            value = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0,
                                                                          40)))
            if i % 50 == 0:
                value += b"\r\n\x00binary\r\n" * 3
            exptime = 0 if i % 3 else rnd.choice([1000, 5000, 100000])
            items.append((key, flags, exptime, value))
        # these expire while the daemon is down
        short = [(b"short:%d" % i, 0, 2, b"x") for i in range(100)]
        d = snap_daemon(self.path).start()
        started = time.time()
        with d.connect() as c:
            store_many(c, items + short)
            before = gets_many(c, [k for k, _, _, _ in items])
        self.assertEqual(len(before), len(items))
        H.stop_checked(d)
        self.assertTrue(os.path.exists(self.path))
        time.sleep(2.5)
        d = snap_daemon(self.path).start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            after = gets_many(c, [k for k, _, _, _ in items])
            self.assertEqual(after, before)  # values, flags and CAS
            for key, flags, _, value in items[:200]:
                self.assertEqual(after[key][:2], (flags, value))
            self.assertEqual(gets_many(c, [k for k, _, _, _ in short]), {})
            # CAS still works against the restored values, and new CAS
            # values do not collide with restored ones
            key = items[1][0]
            cas = after[key][2]
            self.assertEqual(c.request(b"cas %s 0 0 1 %d\r\nz\r\n"
                                       % (key, cas + 1)), b"EXISTS\r\n")
            self.assertEqual(c.request(b"cas %s 0 0 1 %d\r\nz\r\n"
                                       % (key, cas)), b"STORED\r\n")
            new_cas = gets_many(c, [key])[key][2]
            self.assertGreater(new_cas, max(v[2] for v in before.values()))
            # TTLs kept: an item set with 1000 s expires about 1000 s after
            # it was stored, not 1000 s after the restart
            ttl_key = next(k for k, _, e, _ in items if e == 1000)
            c.send(b"lru_crawler metadump all\r\n")
            dump = c.recv_until(b"END\r\n", timeout=60)
            exp = int(re.search(rb"key=" + re.escape(ttl_key).replace(
                b":", b"%3A") + rb" exp=(\d+)", dump).group(1))
            self.assertLessEqual(exp, int(started) + 1001)
            self.assertGreater(exp, int(started) + 990)
        self.assertIn(b"loaded: %d items" % len(items),
                      d.stderr().encode())

    def test_snapshot_command_and_stats(self):
        d = snap_daemon(self.path, "-o", "snapshot_interval=0").start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            st = c.stats()
            self.assertEqual(st["snapshot_last_time"], "0")
            self.assertEqual(st["snapshot_in_progress"], "0")
            store_many(c, [(b"a%d" % i, 0, 0, b"v" * 100) for i in range(500)])
            self.assertEqual(c.request(b"snapshot\r\n", timeout=30),
                             b"OK\r\n")
            st = c.stats()
            self.assertEqual(st["snapshot_last_items"], "500")
            self.assertGreater(int(st["snapshot_last_bytes"]), 500 * 100)
            self.assertGreater(int(st["snapshot_last_time"]), 0)
            self.assertEqual(st["snapshot_failures"], "0")
            self.assertEqual(c.request(b"snapshot extra\r\n"), b"ERROR\r\n")
            # requests pipelined behind the command are answered after it
            c.send(b"snapshot\r\nget a1\r\n")
            self.assertEqual(c.recv_line(timeout=30), b"OK\r\n")
            self.assertEqual(c.recv_retrieval(),
                             b"VALUE a1 0 100\r\n" + b"v" * 100 + b"\r\nEND\r\n")
        self.assertEqual(glob.glob(self.path + ".tmp*"), [])

    def test_relative_path_is_resolved_at_start(self):
        # -d moves to / after the load: later snapshots must still go to
        # the file that was loaded, so the path is made absolute at start
        d = H.Daemon(["-o", "snapshot_path=rel.snap,snapshot_interval=0"],
                     cwd=self.dir).start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            self.assertEqual(c.request(b"snapshot\r\n", timeout=30),
                             b"OK\r\n")
        self.assertTrue(os.path.exists(os.path.join(self.dir, "rel.snap")))
        self.assertIn("snapshot %s/rel.snap" % self.dir, d.stderr())

    def test_snapshot_command_without_path(self):
        d = H.Daemon().start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            self.assertEqual(c.request(b"snapshot\r\n"),
                             b"SERVER_ERROR snapshots are off: start with "
                             b"-o snapshot_path=FILE\r\n")
            self.assertEqual(c.stats()["snapshot_last_time"], "0")

    def test_write_failure_is_reported(self):
        blocked = os.path.join(self.dir, "no-such-dir", "cache.snap")
        d = snap_daemon(blocked, "-o", "snapshot_interval=0").start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            reply = c.request(b"snapshot\r\n", timeout=30)
            self.assertTrue(reply.startswith(b"SERVER_ERROR snapshot failed: "),
                            reply)
            self.assertEqual(c.stats()["snapshot_failures"], "1")

    def test_sigusr1_writes_one(self):
        d = snap_daemon(self.path, "-o", "snapshot_interval=0").start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            store_many(c, [(b"u%d" % i, 0, 0, b"v") for i in range(50)])
            d.signal(signal.SIGUSR1)
            wait_for(lambda: c.stats()["snapshot_last_items"] == "50", 20,
                     "the SIGUSR1 snapshot")
        self.assertTrue(os.path.exists(self.path))

    def test_periodic_then_kill_keeps_last_interval(self):
        d = snap_daemon(self.path, "-o", "snapshot_interval=1").start()
        self.addCleanup(d.kill)
        with d.connect() as c:
            store_many(c, [(b"p%d" % i, 3, 0, b"val%d" % i)
                           for i in range(1000)])
            wait_for(lambda: c.stats()["snapshot_last_items"] == "1000", 20,
                     "a periodic snapshot holding the writes")
        d.kill()
        d = snap_daemon(self.path, "-o", "snapshot_interval=1").start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            got = gets_many(c, [b"p%d" % i for i in range(1000)])
            self.assertEqual(len(got), 1000)
            self.assertEqual(got[b"p7"][:2], (3, b"val7"))

    def test_smaller_memory_limit_loads_up_to_it(self):
        d = snap_daemon(self.path, "-m", "64").start()
        value = b"x" * 1000
        with d.connect() as c:
            store_many(c, [(b"m%d" % i, 0, 0, value) for i in range(40000)])
            stored = int(c.stats()["curr_items"])
        H.stop_checked(d)
        self.assertGreater(stored, 30000)
        d = snap_daemon(self.path, "-m", "8").start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            st = c.stats()
            loaded = int(st["curr_items"])
            self.assertGreater(loaded, 3000)
            self.assertLess(loaded, stored)
            self.assertEqual(st["evictions"], "0")
        log = d.stderr()
        self.assertRegex(log, r"%d items left out" % (stored - loaded))

    def test_smaller_memory_limit_fills_every_class(self):
        # four sizes interleaved, 16 MB of each, into -m 8: every class
        # that got pages fills them, even after another found no memory
        sizes = (400, 2000, 10000, 50000)
        d = snap_daemon(self.path, "-m", "128").start()
        with d.connect() as c:
            for size in sizes:
                n = 16000000 // size
                store_many(c, [(b"s%d-%d" % (size, i), 0, 0, b"v" * size)
                               for i in range(n)], batch=200)
            stored = int(c.stats()["curr_items"])
        H.stop_checked(d)
        self.assertEqual(stored, sum(16000000 // s for s in sizes))
        d = snap_daemon(self.path, "-m", "8").start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            loaded = int(c.stats()["curr_items"])
            slabs = c.stats("slabs")
        classes = {name.split(":")[0] for name in slabs if ":" in name}
        with_pages = [k for k in classes
                      if int(slabs[k + ":total_pages"]) > 0]
        self.assertEqual(len(with_pages), len(sizes), slabs)
        for k in with_pages:
            self.assertEqual(slabs[k + ":free_chunks"], "0",
                             "class %s: %s of %s chunks free" % (
                                 k, slabs[k + ":free_chunks"],
                                 slabs[k + ":total_chunks"]))
        self.assertRegex(d.stderr(), r"%d items left out" % (stored - loaded))


class Damaged(unittest.TestCase):
    def setUp(self):
        skip_unless_own_zeekdb(self)
        self.dir = workdir(self)
        self.path = os.path.join(self.dir, "cache.snap")
        d = snap_daemon(self.path).start()
        with d.connect() as c:
            store_many(c, [(b"d%d" % i, 0, 0, b"v" * 50) for i in range(3000)])
        H.stop_checked(d)
        self.size = os.path.getsize(self.path)

    def corrupt_at(self, offset):
        with open(self.path, "r+b") as f:
            f.seek(offset)
            b = f.read(1)
            f.seek(offset)
            f.write(bytes([b[0] ^ 0x5A]))

    def check_refused(self, fault):
        d = snap_daemon(self.path).start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            self.assertEqual(c.stats()["curr_items"], "0")
        log = d.stderr()
        self.assertIn("refused: %s at offset" % fault, log)
        aside = glob.glob(self.path + ".bad-*")
        self.assertEqual(len(aside), 1, log)
        self.assertFalse(os.path.exists(self.path))

    def test_flipped_body_byte(self):
        self.corrupt_at(self.size // 2)
        self.check_refused("bad_checksum")

    def test_flipped_magic(self):
        self.corrupt_at(0)
        self.check_refused("bad_magic")

    def test_truncated(self):
        with open(self.path, "r+b") as f:
            f.truncate(self.size - 100)
        self.check_refused("truncated")

    def test_bytes_after_the_last_block(self):
        # found only once every item has been loaded: all of them go
        with open(self.path, "ab") as f:
            f.write(b"\0")
        self.check_refused("bad_record")

    def test_strict_refuses_to_start(self):
        self.corrupt_at(self.size // 2)
        cmd = snap_daemon(self.path, "-o", "snapshot_strict").command(
            H.free_port())
        out = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=30, check=False)
        self.assertNotEqual(out.returncode, 0)
        err = out.stderr.decode()
        self.assertIn("bad_checksum", err)
        self.assertIn("refusing to start", err)
        self.assertEqual(len(glob.glob(self.path + ".bad-*")), 1)


class CrashSafety(unittest.TestCase):
    def test_kill_during_dump_keeps_previous(self):
        skip_unless_own_zeekdb(self)
        directory = workdir(self)
        path = os.path.join(directory, "cache.snap")
        # about 100 MB: a dump takes a few hundred ms, long enough to be
        # killed in the middle, short enough to load fast under TSan
        args = ["-m", "200", "-o", "snapshot_interval=0"]
        d = snap_daemon(path, *args).start()
        value = b"y" * 4000
        n = 25000
        with d.connect() as c:
            store_many(c, [(b"c%d" % i, 0, 0, value) for i in range(n)],
                       batch=500)
            self.assertEqual(c.request(b"snapshot\r\n", timeout=120),
                             b"OK\r\n")
        d.kill()
        killed_mid_dump = 0
        for delay in (0.0, 0.005, 0.01, 0.02, 0.05, 0.1):
            d = snap_daemon(path, *args).start()
            with d.connect() as c:
                # the previous file loads in full: the old one, or the
                # next one if that dump had finished before the kill
                self.assertIn(c.stats()["curr_items"], (str(n), str(n + 1)))
                self.assertEqual(glob.glob(path + ".tmp*"), [],
                                 "a crashed dump's file was not removed")
                c.request(b"set extra 0 0 1\r\nz\r\n")
                c.send(b"snapshot\r\n")
                time.sleep(delay)
                if glob.glob(path + ".tmp*"):
                    killed_mid_dump += 1
                d.kill()
        self.assertGreater(killed_mid_dump, 0, "never killed during a dump")
        d = snap_daemon(path, *args).start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            self.assertIn(c.stats()["curr_items"], (str(n), str(n + 1)))
            got = gets_many(c, [b"c0", b"c%d" % (n - 1)])
            self.assertEqual(got[b"c0"][1], value)


if __name__ == "__main__":
    H.main()
