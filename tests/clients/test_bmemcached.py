#!/usr/bin/python3
"""python-binary-memcached (Debian python3-binary-memcached, module
bmemcached), a pure Python client of the binary protocol, against the
daemon under test; then with SASL (-S), which it authenticates with
PLAIN.

  /usr/bin/python3 tests/clients/test_bmemcached.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_bmemcached.py

bmemcached 0.31 says in the client flags how it stored a value: bytes 16,
int 2, pickle 1, zlib-compressed |8 (for values over 128 bytes that
shrink), UTF-8 text 0. Its get_multi sends GETKQ per key and a NOOP,
set_multi SETQ and delete_multi DELETEQ the same way; incr and decr send
an initial value and an expiry, so a missing counter is created. The
tests read what it stored back over the text protocol too.
"""

import os
import sys
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402
from test_sasl import SaslDaemonCase  # noqa: E402

FLAG_PICKLE, FLAG_INT, FLAG_ZLIB, FLAG_BYTES = 1, 2, 8, 16
ALL_BYTES = bytes(range(256))
MULTI_KEYS = 200


def bmemcached():
    """The client module (a failure, not a skip, when missing)."""
    return H.require_module("bmemcached", "python3-binary-memcached")


class BinaryMemcached(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.bm = bmemcached()
        cls.daemon = H.Daemon(["-I", "1m"]).start()
        cls.server = "%s:%d" % cls.daemon.addr

    @classmethod
    def tearDownClass(cls):
        H.stop_checked(cls.daemon)

    def setUp(self):
        self.mc = self.bm.Client([self.server])
        self.addCleanup(self.mc.disconnect_all)
        self.assertTrue(self.mc.flush_all())
        self.raw = self.daemon.connect()
        self.addCleanup(self.raw.close)

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def test_types_round_trip_with_their_flags(self):
        values = {"bytes": (ALL_BYTES, FLAG_BYTES, ALL_BYTES),
                  "text": ("z\u00e9ro", 0, "z\u00e9ro".encode()),
                  "int": (42, FLAG_INT, b"42")}
        for key, (value, flags, wire) in values.items():
            self.assertTrue(self.mc.set(key, value))
            self.assertEqual(self.mc.get(key), value)
            self.assertEqual(self.raw.get_item(key.encode()), (flags, wire))
        obj = {"list": [1, 2, 3], "nested": {"a": None}}
        self.assertTrue(self.mc.set("obj", obj))
        self.assertEqual(self.mc.get("obj"), obj)
        self.assertEqual(self.raw.get_item(b"obj")[0], FLAG_PICKLE)

    def test_compressed_values(self):
        text = b"the same line again\n" * 500
        self.assertTrue(self.mc.set("z", text))
        flags, stored = self.raw.get_item(b"z")
        self.assertEqual(flags, FLAG_BYTES | FLAG_ZLIB)
        self.assertEqual(zlib.decompress(stored), text)
        self.assertEqual(self.mc.get("z"), text)

    def test_missing_key(self):
        self.assertIsNone(self.mc.get("absent"))
        self.assertEqual(self.mc.get("absent", default=b"d"), b"d")

    def test_add_replace_delete(self):
        self.assertTrue(self.mc.add("k", b"1"))
        self.assertFalse(self.mc.add("k", b"2"))
        self.assertTrue(self.mc.replace("k", b"3"))
        self.assertFalse(self.mc.replace("other", b"4"))
        self.assertEqual(self.mc.get("k"), b"3")
        self.assertTrue(self.mc.delete("k"))
        self.assertIsNone(self.mc.get("k"))
        self.assertEqual(self.raw.request(b"get k\r\n"), b"END\r\n")
        # a delete of a missing key is no error to bmemcached
        self.assertTrue(self.mc.delete("k"))

    def test_cas(self):
        self.assertTrue(self.mc.set("c", b"v1"))
        value, cas = self.mc.gets("c")
        self.assertEqual(value, b"v1")
        self.assertTrue(self.mc.cas("c", b"v2", cas))
        self.assertFalse(self.mc.cas("c", b"v3", cas))   # stale now
        self.assertEqual(self.mc.get("c"), b"v2")
        # the CAS is the one the text protocol shows
        self.raw.send(b"gets c\r\n")
        line = self.raw.recv_retrieval().split(b"\r\n")[0]
        self.assertEqual(int(line.split()[4]), self.mc.gets("c")[1])

    def test_counters(self):
        self.assertEqual(self.mc.incr("n", 5), 0)  # created at the default
        self.assertEqual(self.mc.incr("n", 5), 5)
        self.assertEqual(self.mc.decr("n", 2), 3)
        self.assertEqual(self.mc.decr("n", 10), 0)  # never below zero
        self.assertEqual(self.raw.get_item(b"n"), (0, b"0"))
        self.assertTrue(self.mc.set("big", 18446744073709551615))
        self.assertEqual(self.mc.incr("big", 1), 0)  # wraps at 2^64

    def test_multi_operations(self):
        items = {"m%d" % i: b"value %d" % i for i in range(MULTI_KEYS)}
        self.assertEqual(self.mc.set_multi(items), [])  # the keys that failed
        got = self.mc.get_multi(list(items) + ["missing"])
        self.assertEqual(got, items)
        stats = self.raw.stats()
        self.assertGreaterEqual(int(stats["curr_items"]), MULTI_KEYS)
        self.assertTrue(self.mc.delete_multi(list(items)[:50]))
        got = self.mc.get_multi(list(items))
        self.assertEqual(sorted(got), sorted(list(items)[50:]))

    def test_large_and_too_large_values(self):
        big = os.urandom(1000 * 1000)
        self.assertTrue(self.mc.set("big", big, compress_level=0))
        self.assertEqual(self.mc.get("big"), big)
        with self.assertRaises(self.bm.exceptions.MemcachedException) as e:
            self.mc.set("huge", os.urandom(1100 * 1000), compress_level=0)
        self.assertEqual(e.exception.code, 3)   # "Too large."
        self.assertIsNone(self.mc.get("huge"))

    def test_stats(self):
        self.mc.set("s", b"x")
        self.mc.get("s")
        stats = self.mc.stats()[self.server]
        self.assertEqual(int(stats["pid"]), self.daemon.proc.pid)
        self.assertGreaterEqual(int(stats["get_hits"]), 1)
        self.assertGreaterEqual(int(stats["curr_items"]), 1)
        self.assertEqual(self.mc.stats("settings")[self.server]["cas_enabled"],
                         b"yes")


class BinaryMemcachedSasl(SaslDaemonCase):
    """-S: bmemcached lists the mechanisms and authenticates with PLAIN
    before its first command."""

    @classmethod
    def setUpClass(cls):
        cls.bm = bmemcached()
        super().setUpClass()
        cls.server = "%s:%d" % cls.daemon.addr

    def test_authenticated_client_works(self):
        mc = self.bm.Client([self.server], "alice", "secret")
        self.addCleanup(mc.disconnect_all)
        self.assertTrue(mc.set("k", b"v"))
        self.assertEqual(mc.get("k"), b"v")
        self.assertEqual(mc.incr("n", 1), 0)
        self.assertEqual(mc.incr("n", 1), 1)

    def test_wrong_password_is_refused(self):
        mc = self.bm.Client([self.server], "alice", "wrong")
        self.addCleanup(mc.disconnect_all)
        with self.assertRaises(self.bm.exceptions.MemcachedException) as e:
            mc.set("k", b"v")
        self.assertEqual(e.exception.code, 0x20)   # "Auth failure."


if __name__ == "__main__":
    H.main()
