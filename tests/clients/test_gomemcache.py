#!/usr/bin/python3
"""gomemcache (Debian golang-github-bradfitz-gomemcache-dev), Go's
memcached client, against the daemon under test. The test builds
go_gomemcache_client.go with Debian's Go (golang-go) from the packaged
source, offline (GOPATH mode), and runs one scenario of it per test.

  /usr/bin/python3 tests/clients/test_gomemcache.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_gomemcache.py

gomemcache speaks the text protocol and reads replies strictly: a VALUE
line of any other shape, or a reply line it does not know, is an error.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

SCENARIOS = ("basics", "cas", "counters", "multi", "large", "expiry",
             "concurrent")
GOPATH = "/usr/share/gocode"   # where Debian puts Go library sources


class Gomemcache(H.BuiltClientCase):
    package = "golang-go golang-github-bradfitz-gomemcache-dev"
    daemon_args = ("-I", "1m")

    @classmethod
    def build(cls, build_dir):
        go = H.require_tool("go")
        binary = os.path.join(build_dir, "go_gomemcache_client")
        env = dict(os.environ, GOPATH=GOPATH, GO111MODULE="off",
                   GOCACHE=os.path.join(build_dir, "cache"),
                   HOME=build_dir, GOFLAGS="", CGO_ENABLED="0")
        cls.compile([go, "build", "-o", binary,
                     os.path.join(HERE, "go_gomemcache_client.go")], env)
        return binary


Gomemcache.add_scenarios(SCENARIOS)


if __name__ == "__main__":
    H.main()
