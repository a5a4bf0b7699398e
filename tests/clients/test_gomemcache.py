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
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

SCENARIOS = ("basics", "cas", "counters", "multi", "large", "expiry",
             "concurrent")
GOPATH = "/usr/share/gocode"   # where Debian puts Go library sources
BUILD_TIMEOUT = 300


class Gomemcache(H.ScriptScenarioCase):
    package = "golang-go golang-github-bradfitz-gomemcache-dev"
    probe = None      # the build in setUpClass needs the library
    daemon_args = ("-I", "1m")

    @classmethod
    def setUpClass(cls):
        go = H.require_tool("go")
        cls.build_dir = tempfile.mkdtemp(prefix="zeekdb-go-")
        binary = os.path.join(cls.build_dir, "go_gomemcache_client")
        env = dict(os.environ, GOPATH=GOPATH, GO111MODULE="off",
                   GOCACHE=os.path.join(cls.build_dir, "cache"),
                   HOME=cls.build_dir, GOFLAGS="", CGO_ENABLED="0")
        p = subprocess.run([go, "build", "-o", binary,
                            os.path.join(HERE, "go_gomemcache_client.go")],
                           env=env, capture_output=True,
                           timeout=BUILD_TIMEOUT)
        if p.returncode != 0:
            raise H.HarnessError("cannot build the Go client (Debian "
                                 "packages %s): %s"
                                 % (cls.package, p.stderr.decode()))
        cls.interpreter = binary
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.build_dir, ignore_errors=True)


Gomemcache.add_scenarios(SCENARIOS)


if __name__ == "__main__":
    H.main()
