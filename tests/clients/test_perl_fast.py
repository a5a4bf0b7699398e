#!/usr/bin/python3
"""Cache::Memcached::Fast (Debian libcache-memcached-fast-perl) against the
daemon under test. Each test runs one scenario of perl_fast_client.pl.

  /usr/bin/python3 tests/clients/test_perl_fast.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_perl_fast.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

SCENARIOS = ("set_get", "get_multi", "incr_decr", "delete", "cas", "binary",
             "storage_modes", "touch_gat", "flush_all", "server_versions")


class PerlFast(H.PerlScenarioCase):
    script = os.path.join(HERE, "perl_fast_client.pl")
    module = "Cache::Memcached::Fast"
    package = "libcache-memcached-fast-perl"


PerlFast.add_scenarios(SCENARIOS)


if __name__ == "__main__":
    H.main()
