#!/usr/bin/python3
"""python-memcached (Debian python3-memcache, the pure-Python client of
many Django and older Python sites) against the daemon under test.

  /usr/bin/python3 tests/clients/test_python_memcached.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_python_memcached.py

It pickles what is not bytes or text (flag 1), stores str as UTF-8 (flag
16 in 1.59), int as digits (flag 2), and reads a line it does not expect
as an error: every reply must be exactly memcached's.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

try:
    import memcache
    IMPORT_ERROR = None
except ImportError as e:      # a failure, not a skip: CI installs it
    IMPORT_ERROR = e


class PythonMemcached(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if IMPORT_ERROR is not None:
            raise H.HarnessError("python-memcached is missing (Debian "
                                 "package python3-memcache): %s" % IMPORT_ERROR)
        cls.daemon = H.Daemon(["-I", "1m"]).start()

    @classmethod
    def tearDownClass(cls):
        H.stop_checked(cls.daemon)

    def setUp(self):
        self.mc = memcache.Client(["%s:%d" % self.daemon.addr],
                                  cache_cas=True, socket_timeout=5)
        self.addCleanup(self.mc.disconnect_all)
        self.mc.flush_all()

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def wire(self, key):
        with self.daemon.connect() as c:
            return c.get_item(key)

    def test_types_round_trip_with_their_flags(self):
        cases = {"s": "héllo", "b": b"\x00\xff\r\nEND\r\n", "i": 42,
                 "l": 2 ** 70, "o": {"x": [1, 2], "y": None}}
        for k, v in cases.items():
            self.assertTrue(self.mc.set(k, v), k)
        for k, v in cases.items():
            self.assertEqual(self.mc.get(k), v, k)
        self.assertEqual(self.wire(b"b"), (0, b"\x00\xff\r\nEND\r\n"))
        self.assertEqual(self.wire(b"i"), (2, b"42"))
        self.assertEqual(self.wire(b"o")[0], 1)   # pickled

    def test_storage_modes(self):
        self.assertFalse(self.mc.replace("k", "x"))
        self.assertTrue(self.mc.add("k", "a"))
        self.assertFalse(self.mc.add("k", "b"))
        self.assertTrue(self.mc.replace("k", "m"))
        self.assertTrue(self.mc.append("k", ">"))
        self.assertTrue(self.mc.prepend("k", "<"))
        self.assertEqual(self.mc.get("k"), "<m>")
        self.assertFalse(self.mc.append("nope", "x"))

    def test_counters(self):
        self.assertIsNone(self.mc.incr("n"))
        self.assertTrue(self.mc.set("n", 10))
        self.assertEqual(self.mc.incr("n", 5), 15)
        self.assertEqual(self.mc.decr("n", 100), 0)
        self.assertTrue(self.mc.set("t", "abc"))
        # the client turns memcached's CLIENT_ERROR line into int() failing
        with self.assertRaises(ValueError) as cm:
            self.mc.incr("t")
        self.assertIn("CLIENT_ERROR cannot increment or decrement "
                      "non-numeric value", str(cm.exception))
        self.assertEqual(self.mc.get("t"), "abc")

    def test_cas(self):
        self.assertTrue(self.mc.set("c", "one"))
        self.assertEqual(self.mc.gets("c"), "one")
        self.assertTrue(self.mc.cas("c", "two"))
        self.assertFalse(self.mc.cas("c", "three"))   # token used up
        self.mc.gets("c")
        other = memcache.Client(["%s:%d" % self.daemon.addr])
        self.addCleanup(other.disconnect_all)
        self.assertTrue(other.set("c", "theirs"))
        self.assertFalse(self.mc.cas("c", "mine"))
        self.assertEqual(self.mc.get("c"), "theirs")

    def test_multi_with_prefix_and_delete(self):
        values = {"k%d" % i: i for i in range(300)}
        self.assertEqual(self.mc.set_multi(values, key_prefix="p:"), [])
        got = self.mc.get_multi(list(values) + ["nope"], key_prefix="p:")
        self.assertEqual(got, values)
        self.assertEqual(self.mc.delete_multi(["k1", "k2"], key_prefix="p:"),
                         1)
        self.assertNotIn("k1", self.mc.get_multi(["k1", "k3"],
                                                 key_prefix="p:"))
        self.assertTrue(self.mc.delete("p:k3"))
        self.assertIsNone(self.mc.get("p:k3"))

    def test_touch_and_expiry(self):
        self.assertTrue(self.mc.set("e", "v", time=1000))
        self.assertTrue(self.mc.touch("e", 2000))
        self.assertFalse(self.mc.touch("nope", 10))
        self.assertTrue(self.mc.set("gone", "v", time=-1))
        self.assertIsNone(self.mc.get("gone"))

    def test_sizes_and_keys(self):
        big = "x" * (1024 * 1024 - 1024)
        self.assertTrue(self.mc.set("big", big))
        self.assertEqual(self.mc.get("big"), big)
        # the client checks SERVER_MAX_VALUE_LENGTH (1 MiB) itself
        self.assertFalse(self.mc.set("huge", "x" * (2 * 1024 * 1024)))
        k250 = "k" * 250
        self.assertTrue(self.mc.set(k250, "edge"))
        self.assertEqual(self.mc.get(k250), "edge")
        with self.assertRaises(memcache.Client.MemcachedKeyLengthError):
            self.mc.set("k" * 251, "no")

    def test_noreply_and_stats(self):
        self.assertTrue(self.mc.set("nr", "v", noreply=True))
        self.assertEqual(self.mc.get("nr"), "v")
        stats = dict(self.mc.get_stats()[0][1])
        with self.daemon.connect() as c:
            self.assertEqual(stats["pid"], c.stats()["pid"])
        self.assertGreaterEqual(int(stats["curr_items"]), 1)


if __name__ == "__main__":
    H.main()
