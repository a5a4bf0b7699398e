#!/usr/bin/python3
"""pymemcache (Debian python3-pymemcache) against the daemon under test.

  /usr/bin/python3 tests/clients/test_pymemcache.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_pymemcache.py
  ZEEKDB_ADDR=127.0.0.1:11211 /usr/bin/python3 tests/clients/test_pymemcache.py
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402
from test_auth import AuthFileDaemonCase  # noqa: E402

try:
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheClientError
    IMPORT_ERROR = None
except ImportError as e:      # a failure, not a skip: CI installs it
    IMPORT_ERROR = e

NKEYS = 3000
ALL_BYTES = bytes(range(256))


def value_for(i):
    """Distinct binary values covering every byte, some empty, some large."""
    if i % 500 == 0:
        return b""
    if i % 97 == 0:
        return ALL_BYTES * 64 + b"%d" % i          # 16 KB and a bit
    rot = i % 256
    return ALL_BYTES[rot:] + ALL_BYTES[:rot] + b"\r\n%d\r\n" % i


class PyMemcache(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if IMPORT_ERROR is not None:
            raise H.HarnessError("pymemcache is missing (Debian package "
                                 "python3-pymemcache): %s" % IMPORT_ERROR)
        cls.daemon = H.Daemon().start()

    @classmethod
    def tearDownClass(cls):
        H.stop_checked(cls.daemon)

    def setUp(self):
        self.mc = Client(self.daemon.addr, connect_timeout=5, timeout=10,
                         no_delay=True, default_noreply=False)
        self.addCleanup(self.mc.close)
        self.assertTrue(self.mc.flush_all())

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def test_set_get_thousands_of_binary_values(self):
        for i in range(NKEYS):
            self.assertTrue(self.mc.set("key:%d" % i, value_for(i), flags=i % 7))
        for i in range(NKEYS):
            self.assertEqual(self.mc.get("key:%d" % i), value_for(i), i)
        self.assertIsNone(self.mc.get("key:missing"))

    def test_every_single_byte_value(self):
        for b in range(256):
            self.assertTrue(self.mc.set("byte:%d" % b, bytes([b])))
        got = self.mc.get_many(["byte:%d" % b for b in range(256)])
        self.assertEqual(got, {"byte:%d" % b: bytes([b]) for b in range(256)})

    def test_set_many_get_many(self):
        values = {"many:%d" % i: value_for(i) for i in range(NKEYS)}
        items = list(values.items())
        for start in range(0, len(items), 250):
            failed = self.mc.set_many(dict(items[start:start + 250]))
            self.assertEqual(failed, [])
        keys = list(values)
        got = {}
        for start in range(0, len(keys), 100):
            got.update(self.mc.get_many(keys[start:start + 100] + ["many:nope"]))
        self.assertEqual(len(got), NKEYS)
        self.assertEqual(got, values)

    def test_add_replace_append_prepend(self):
        self.assertFalse(self.mc.replace("k", b"x"))
        self.assertTrue(self.mc.add("k", b"x"))
        self.assertFalse(self.mc.add("k", b"y"))
        self.assertTrue(self.mc.replace("k", b"m"))
        self.assertTrue(self.mc.append("k", b"\x00z"))
        self.assertTrue(self.mc.prepend("k", b"a\xff"))
        self.assertEqual(self.mc.get("k"), b"a\xffm\x00z")
        self.assertFalse(self.mc.append("nope", b"z"))

    def test_gets_cas(self):
        self.assertEqual(self.mc.gets("c"), (None, None))
        self.assertIsNone(self.mc.cas("c", b"v", b"1"))       # NOT_FOUND
        self.assertTrue(self.mc.set("c", ALL_BYTES))
        value, token = self.mc.gets("c")
        self.assertEqual(value, ALL_BYTES)
        self.assertTrue(token.isdigit())
        self.assertTrue(self.mc.cas("c", b"new", token))
        self.assertFalse(self.mc.cas("c", b"newer", token))   # EXISTS
        self.assertEqual(self.mc.get("c"), b"new")
        _, token2 = self.mc.gets("c")
        self.assertNotEqual(token, token2)
        many = self.mc.gets_many(["c", "nope"])
        self.assertEqual(list(many), ["c"])
        self.assertEqual(many["c"], (b"new", token2))

    def test_incr_decr(self):
        self.assertIsNone(self.mc.incr("n", 1))
        self.assertIsNone(self.mc.decr("n", 1))
        self.assertTrue(self.mc.set("n", b"10"))
        self.assertEqual(self.mc.incr("n", 5), 15)
        self.assertEqual(self.mc.decr("n", 20), 0)
        self.assertEqual(self.mc.incr("n", 2 ** 64 - 1), 2 ** 64 - 1)
        self.assertEqual(self.mc.incr("n", 1), 0)
        for i in range(1, 1001):
            self.assertEqual(self.mc.incr("n", 1), i)
        self.assertEqual(int(self.mc.get("n")), 1000)
        self.assertTrue(self.mc.set("s", b"text"))
        with self.assertRaises(MemcacheClientError):
            self.mc.incr("s", 1)

    def test_touch_delete(self):
        self.assertFalse(self.mc.touch("t", 100))
        self.assertTrue(self.mc.set("t", b"v", expire=100))
        self.assertTrue(self.mc.touch("t", 0))
        self.assertTrue(self.mc.touch("t", -1))     # expires it
        self.assertIsNone(self.mc.get("t"))
        self.assertTrue(self.mc.set("t", b"v"))
        self.assertTrue(self.mc.delete("t"))
        self.assertFalse(self.mc.delete("t"))
        self.assertIsNone(self.mc.get("t"))

    def test_delete_many_and_flush_all(self):
        keys = ["d:%d" % i for i in range(NKEYS)]
        for start in range(0, NKEYS, 500):
            self.assertEqual(self.mc.set_many(
                {k: b"v" for k in keys[start:start + 500]}), [])
        self.assertTrue(self.mc.delete_many(keys[:1000]))
        self.assertEqual(self.mc.get_many(keys[:1000]), {})
        self.assertEqual(len(self.mc.get_many(keys[1000:1100])), 100)
        self.assertTrue(self.mc.flush_all())
        self.assertEqual(self.mc.get_many(keys[1000:1100]), {})

    def test_stats(self):
        before = self.mc.stats()
        for i in range(100):
            self.mc.set("st:%d" % i, b"x")
        for i in range(150):
            self.mc.get("st:%d" % i)
        after = self.mc.stats()

        def delta(name):
            return after[name] - before[name]
        self.assertEqual(delta(b"cmd_set"), 100)
        self.assertEqual(delta(b"get_hits"), 100)
        self.assertEqual(delta(b"get_misses"), 50)
        # flushed items may be counted until they are reaped (memcached)
        self.assertGreaterEqual(after[b"curr_items"], 100)
        self.assertIn(b"version", after)
        settings = self.mc.stats("settings")
        self.assertIn(b"maxconns", settings)
        self.assertTrue(self.mc.version())

    def test_large_value(self):
        big = ALL_BYTES * 4000       # ~1 MB minus a bit, under -I 1m
        self.assertTrue(self.mc.set("big", big))
        self.assertEqual(self.mc.get("big"), big)



class PyMemcacheAuth(AuthFileDaemonCase):
    """-Y: pymemcache authenticates the way the protocol says, with a plain
    set of "<user> <password>"; until then every call is refused."""

    users = b"app:s3cret\n"

    @classmethod
    def setUpClass(cls):
        if IMPORT_ERROR is not None:
            raise H.HarnessError("pymemcache is missing (Debian package "
                                 "python3-pymemcache): %s" % IMPORT_ERROR)
        super().setUpClass()

    def client(self):
        mc = Client(self.daemon.addr, connect_timeout=5, timeout=10,
                    default_noreply=False)
        self.addCleanup(mc.close)
        return mc

    def test_refused_then_authenticated(self):
        mc = self.client()
        with self.assertRaisesRegex(MemcacheClientError, "unauthenticated"):
            mc.get("k")
        with self.assertRaisesRegex(MemcacheClientError, "failure"):
            mc.set("auth", b"app wrong")
        self.assertTrue(mc.set("auth", b"app s3cret"))
        self.assertTrue(mc.set("k", b"value", expire=60))
        self.assertEqual(mc.get("k"), b"value")
        self.assertEqual(mc.incr("n", 1), None)
        self.assertTrue(mc.add("n", b"41"))
        self.assertEqual(mc.incr("n", 1), 42)
        self.assertTrue(mc.delete("k"))
        self.assertIsNone(mc.get("k"))


if __name__ == "__main__":
    H.main()
