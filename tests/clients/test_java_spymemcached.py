#!/usr/bin/python3
"""spymemcached (Debian libspymemcached-java), a Java memcached client,
against the daemon under test over the text and the binary protocol. Each
test runs SpyClient.java in one mode (the JDK's source launcher compiles
it on the fly).

  /usr/bin/python3 tests/clients/test_java_spymemcached.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_java_spymemcached.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

JAR = "/usr/share/java/spymemcached.jar"


class JavaSpymemcached(H.ScriptScenarioCase):
    interpreter = "java"
    interpreter_args = ("-cp", JAR)
    script = os.path.join(HERE, "SpyClient.java")
    probe = ("-cp", JAR, os.path.join(HERE, "SpyClient.java"), "--probe")
    package = "default-jdk-headless libspymemcached-java"
    daemon_args = ("-I", "1m")
    SCENARIO_TIMEOUT = 120


JavaSpymemcached.add_scenarios(("text", "binary"))


if __name__ == "__main__":
    H.main()
