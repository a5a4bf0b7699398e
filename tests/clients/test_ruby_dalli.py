#!/usr/bin/python3
"""Dalli (Debian ruby-dalli 3.0), Ruby's memcached client and the one
behind Rails' cache store, against the daemon under test. Dalli 3.0 speaks
the binary protocol only. Each test runs one scenario of
ruby_dalli_client.rb.

  /usr/bin/python3 tests/clients/test_ruby_dalli.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_ruby_dalli.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

SCENARIOS = ("basics", "counters", "cas_touch_multi", "large_and_stats")


class RubyDalli(H.ScriptScenarioCase):
    interpreter = "ruby"
    script = os.path.join(HERE, "ruby_dalli_client.rb")
    probe = ("-e", "require 'dalli'")
    package = "ruby ruby-dalli"
    daemon_args = ("-I", "1m")

    def test_basics(self):
        self.run_scenario("basics")
        # Dalli marks a Marshal-serialized value with flag 1
        with self.daemon.connect() as c:
            flags, data = c.get_item(b"obj")
        self.assertEqual(flags, 1)
        self.assertEqual(data[:2], b"\x04\x08")   # Marshal format 4.8


RubyDalli.add_scenarios(SCENARIOS)


if __name__ == "__main__":
    H.main()
