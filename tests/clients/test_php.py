#!/usr/bin/python3
"""PHP's memcached clients against the daemon under test: the memcached
extension (Debian php-memcached, on libmemcached) over the text and the
binary protocol, the memcache extension (php-memcache), and the session
handlers of both, which PHP sites keep their logins in. Each test runs one
scenario of php_client.php.

  /usr/bin/python3 tests/clients/test_php.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_php.py

The memcached extension's session handler speaks the binary protocol by
default and takes a lock per session with an add of a ".lock" key.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

SCENARIOS = ("memcached_text", "memcached_binary", "memcache_ext",
             "session_memcached", "session_memcache")


class Php(H.ScriptScenarioCase):
    interpreter = "php"
    script = os.path.join(HERE, "php_client.php")
    probe = ("-r", "exit(extension_loaded('memcached') && "
                   "extension_loaded('memcache') ? 0 : 1);")
    package = "php-cli php-memcached php-memcache"
    daemon_args = ("-I", "1m")

    def wire_item(self, key):
        with self.daemon.connect() as c:
            return c.get_item(key)

    def test_memcache_ext(self):
        self.run_scenario("memcache_ext")
        # php-memcache marks a serialized array with flag 1
        flags, data = self.wire_item(b"parr")
        self.assertEqual((flags, data), (1, b'a:1:{s:1:"a";i:1;}'))


Php.add_scenarios(SCENARIOS)


if __name__ == "__main__":
    H.main()
