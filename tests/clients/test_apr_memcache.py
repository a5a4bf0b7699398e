#!/usr/bin/python3
"""APR-util's memcache client (Debian libaprutil1-dev), the one Apache
httpd's mod_socache_memcache keeps SSL sessions and other shared data
with, against the daemon under test. The test builds
apr_memcache_client.c with the system compiler and runs one scenario of
it per test.

  /usr/bin/python3 tests/clients/test_apr_memcache.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_apr_memcache.py

apr_memcache reads replies by their first word and a VALUE line by its
fields; a server that answered differently would make it report an error
or hand back the wrong bytes. Its stats call parses memcached's own
names, so a renamed or missing line shows as a zero.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

SCENARIOS = ("basics", "counters", "multi", "large", "expiry", "stats")


def config_flags(tool, *args):
    p = subprocess.run([H.require_tool(tool)] + list(args),
                       capture_output=True, timeout=20, check=True)
    return p.stdout.decode().split()


class AprMemcache(H.BuiltClientCase):
    package = "libaprutil1-dev"
    daemon_args = ("-m", "64")

    @classmethod
    def build(cls, build_dir):
        binary = os.path.join(build_dir, "apr_memcache_client")
        try:
            flags = (config_flags("apr-1-config", "--cflags", "--cppflags",
                                  "--includes") +
                     config_flags("apu-1-config", "--includes"))
            libs = (config_flags("apu-1-config", "--link-ld") +
                    config_flags("apr-1-config", "--link-ld"))
        except subprocess.CalledProcessError as e:
            raise H.HarnessError("apr-1-config/apu-1-config failed (Debian "
                                 "package %s): %s" % (cls.package, e))
        cls.compile([H.require_tool("cc"), "-std=gnu11", "-O1"] + flags +
                    ["-o", binary,
                     os.path.join(HERE, "apr_memcache_client.c")] + libs)
        return binary


AprMemcache.add_scenarios(SCENARIOS)


if __name__ == "__main__":
    H.main()
