#!/usr/bin/python3
"""Cache::Memcached::Fast (Debian libcache-memcached-fast-perl) against the
daemon under test. Each test runs one scenario of perl_fast_client.pl.

  /usr/bin/python3 tests/clients/test_perl_fast.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_perl_fast.py
"""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

SCRIPT = os.path.join(HERE, "perl_fast_client.pl")
SCENARIOS = ("set_get", "get_multi", "incr_decr", "delete", "cas", "binary",
             "storage_modes", "touch_gat", "flush_all", "server_versions")


class PerlFast(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.perl = H.require_tool("perl")
        probe = subprocess.run([cls.perl, "-MCache::Memcached::Fast", "-e", "1"],
                               capture_output=True, timeout=20)
        if probe.returncode != 0:
            raise H.HarnessError(
                "Cache::Memcached::Fast is missing (Debian package "
                "libcache-memcached-fast-perl): %s" % probe.stderr.decode())
        cls.daemon = H.Daemon().start()

    @classmethod
    def tearDownClass(cls):
        H.stop_checked(cls.daemon)

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def run_scenario(self, name):
        p = subprocess.run([self.perl, SCRIPT, "%s:%d" % self.daemon.addr, name],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        oks = [l for l in out.splitlines() if l.startswith("ok ")]
        bad = [l for l in out.splitlines() if l.startswith("not ok ")]
        self.assertEqual((p.returncode, bad), (0, []),
                         "scenario %s:\n%s\n%s" % (name, out, p.stderr.decode()))
        self.assertGreater(len(oks), 1, out)


def _make(name):
    def test(self):
        self.run_scenario(name)
    test.__name__ = "test_" + name
    return test


for _name in SCENARIOS:
    setattr(PerlFast, "test_" + _name, _make(_name))


if __name__ == "__main__":
    H.main()
