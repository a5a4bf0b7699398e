#!/usr/bin/python3
"""Cache::Memcached (Debian libcache-memcached-perl, the classic pure-Perl
client) against the daemon under test. Each test runs one scenario of
perl_cache_memcached_client.pl; some then check on a raw connection the
bytes the module stored (its flags: 1 Storable, 2 gzip).

  /usr/bin/python3 tests/clients/test_perl_cache_memcached.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_perl_cache_memcached.py
"""

import gzip
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

SCENARIOS = ("set_get", "get_multi", "storage_modes", "incr_decr", "delete",
             "storable", "compress", "namespace", "stats", "missing_keys",
             "expiry", "flush_all", "key_limit")
F_STORABLE, F_COMPRESS = 1, 2
GZIP_MAGIC = b"\x1f\x8b"


class PerlCacheMemcached(H.PerlScenarioCase):
    script = os.path.join(HERE, "perl_cache_memcached_client.pl")
    module = "Cache::Memcached"
    package = "libcache-memcached-perl"
    daemon_args = ("-I", "1m")

    def wire_item(self, key):
        """(flags, data) of key on the wire, or None for a miss."""
        with self.daemon.connect() as c:
            return c.get_item(key)

    def test_storable(self):
        self.run_scenario("storable")
        for key in (b"ref_hash", b"ref_array", b"ref_scalar", b"ref_bin"):
            flags, data = self.wire_item(key)
            self.assertEqual(flags, F_STORABLE, key)
            # nfreeze: network order, Storable binary major version 2
            self.assertEqual(data[0], 2 << 1 | 1, key)
        self.assertEqual(self.wire_item(b"plain"), (0, b"not a ref"))

    def test_compress(self):
        self.run_scenario("compress")
        text = b"compressible text line " * 15000
        flags, data = self.wire_item(b"z_text")
        self.assertEqual(flags, F_COMPRESS)
        self.assertEqual(data[:2], GZIP_MAGIC)
        self.assertLess(len(data), len(text) // 20)
        self.assertEqual(gzip.decompress(data), text)
        flags, data = self.wire_item(b"z_huge")
        self.assertEqual(flags, F_COMPRESS)
        self.assertLess(len(data), 1 << 20)
        self.assertEqual(gzip.decompress(data), b"".join(
            b"line %d of a long document\n" % i for i in range(1, 120001)))
        self.assertIsNone(self.wire_item(b"z_huge_raw"))
        self.assertEqual(self.wire_item(b"z_small"), (0, b"short text"))
        flags, data = self.wire_item(b"z_noise")
        self.assertEqual((flags, len(data)), (0, 20000))
        flags, data = self.wire_item(b"z_ref")
        self.assertEqual(flags, F_STORABLE | F_COMPRESS)
        self.assertEqual(gzip.decompress(data)[0], 2 << 1 | 1)
        self.assertEqual(self.wire_item(b"z_off"), (0, text))

    def test_namespace(self):
        self.run_scenario("namespace")
        self.assertEqual(self.wire_item(b"app1:foo"), (0, b"baz!"))
        self.assertEqual(self.wire_item(b"app1:k2"), (0, b"v2"))
        self.assertEqual(self.wire_item(b"app1:count"), (0, b"6"))
        self.assertIsNone(self.wire_item(b"foo"))
        self.assertIsNone(self.wire_item(b"app1:k1"))

    def test_incr_decr(self):
        self.run_scenario("incr_decr")
        self.assertEqual(self.wire_item(b"n"), (0, b"4294967296"))
        self.assertEqual(self.wire_item(b"s"), (0, b"abc"))


PerlCacheMemcached.add_scenarios(SCENARIOS)


if __name__ == "__main__":
    H.main()
