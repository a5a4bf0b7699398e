#!/usr/bin/python3
"""collectd's memcached plugin (Debian collectd-core) watching the daemon
under test, over TCP and over a unix socket, its readings written by the
csv plugin: the figures a dashboard fed by collectd would draw.

  /usr/bin/python3 tests/clients/test_collectd.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_collectd.py

The plugin sends "stats" every interval and looks each figure up by name
(a missing name is a missing graph, an unparsable one an error in its
log). Each test makes known traffic, then reads the plugin's last row of
each file and compares it with what the daemon's own stats said.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

READ_TIMEOUT = 20.0   # seconds for collectd to write the rows waited for
MEMORY_MB = 64

CONFIG = """
Hostname "zk"
FQDNLookup false
Interval 1
BaseDir "%(dir)s"
PIDFile "%(dir)s/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "%(dir)s/collectd.log"
</Plugin>
LoadPlugin memcached
LoadPlugin csv
<Plugin memcached>
  <Instance "cache">
%(where)s
  </Instance>
</Plugin>
<Plugin csv>
  DataDir "%(dir)s/csv"
  StoreRates false
</Plugin>
"""

# Files the plugin writes for memcached 1.6.18, each a graph.
FILES = (
    "df-cache", "memcached_command-flush", "memcached_command-get",
    "memcached_command-meta", "memcached_command-set",
    "memcached_command-touch", "memcached_connections-current",
    "memcached_items-current", "memcached_octets",
    "memcached_ops-decr_hits", "memcached_ops-decr_misses",
    "memcached_ops-delete_hits", "memcached_ops-delete_misses",
    "memcached_ops-evictions", "memcached_ops-hits",
    "memcached_ops-incr_hits", "memcached_ops-incr_misses",
    "memcached_ops-misses", "connections-opened", "percent-hitratio",
    "percent-incr_hitratio", "ps_count", "ps_cputime",
    "total_events-listen_disabled", "uptime",
)


class Collectd:
    """collectd in the foreground, reading one daemon; where is the
    instance's Host/Port or Socket lines."""

    def __init__(self, workdir, where):
        self.dir = workdir
        self.conf = os.path.join(workdir, "collectd.conf")
        with open(self.conf, "w") as f:
            f.write(CONFIG % {"dir": workdir, "where": where})
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [H.require_tool("/usr/sbin/collectd"), "-f", "-C", self.conf],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=H.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=H.STOP_TIMEOUT)

    def log(self):
        try:
            with open(os.path.join(self.dir, "collectd.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return "(no log)"

    def files(self):
        """{graph: path} of the csv files written so far."""
        out = {}
        for path in glob.glob(os.path.join(self.dir, "csv", "zk",
                                           "memcached-cache", "*")):
            name = os.path.basename(path)
            out[name[:-len("-YYYY-MM-DD")]] = path
        return out

    def last(self, graph):
        """The last row of a graph as {column: value}, or None."""
        path = self.files().get(graph)
        if path is None:
            return None
        with open(path) as f:
            lines = f.read().splitlines()
        if len(lines) < 2:
            return None
        head = lines[0].split(",")
        return {k: float(v) for k, v in zip(head, lines[-1].split(","))}

    def wait_for(self, graph, column, value):
        """True once the graph's last row has column == value."""
        def reached():
            row = self.last(graph)
            return row is not None and row.get(column) == value
        return H.wait_until(reached, READ_TIMEOUT, interval=0.1)


class CollectdCase(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zeekdb-collectd-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def watch(self, where):
        collectd = Collectd(self.tmp, where).start()
        self.addCleanup(collectd.stop)
        return collectd

    def assertAlive(self, collectd):
        self.assertIsNone(collectd.proc.poll(), collectd.log())
        self.assertNotIn("error", collectd.log().lower())


class OverTcp(CollectdCase):

    def setUp(self):
        super().setUp()
        self.daemon = H.Daemon(["-m", str(MEMORY_MB)]).start()
        self.addCleanup(H.stop_checked, self.daemon)
        self.c = self.daemon.connect()
        self.addCleanup(self.c.close)

    def traffic(self):
        """Known counts of every kind the plugin graphs."""
        c = self.c
        for i in range(100):
            self.assertEqual(c.request(b"set k%d 0 0 1000\r\n%s\r\n"
                                       % (i, b"v" * 1000)), b"STORED\r\n")
        for i in range(30):
            self.assertIsNotNone(c.get_item(b"k%d" % i))
        for i in range(20):
            self.assertIsNone(c.get_item(b"absent%d" % i))
        self.assertEqual(c.request(b"set n 0 0 1\r\n5\r\n"), b"STORED\r\n")
        self.assertEqual(c.request(b"incr n 3\r\n"), b"8\r\n")
        self.assertEqual(c.request(b"incr n 3\r\n"), b"11\r\n")
        self.assertEqual(c.request(b"incr none 3\r\n"), b"NOT_FOUND\r\n")
        self.assertEqual(c.request(b"decr n 1\r\n"), b"10\r\n")
        for _ in range(3):
            self.assertEqual(c.request(b"decr none 1\r\n"), b"NOT_FOUND\r\n")
        for i in range(5):
            self.assertEqual(c.request(b"delete k%d\r\n" % i),
                             b"DELETED\r\n")
        self.assertEqual(c.request(b"delete k0\r\n"), b"NOT_FOUND\r\n")
        self.assertEqual(c.request(b"touch k9 0\r\n"), b"TOUCHED\r\n")
        self.assertEqual(c.request(b"mn\r\n"), b"MN\r\n")

    def test_graphs_show_the_daemons_figures(self):
        self.traffic()
        stats = self.c.stats()
        self.assertEqual(stats["curr_items"], "96")
        collectd = self.watch('    Host "%s"\n    Port "%d"'
                              % self.daemon.addr)
        self.assertTrue(collectd.wait_for("memcached_items-current",
                                          "value", 96.0), collectd.log())
        self.assertTrue(H.wait_until(
            lambda: set(FILES) <= set(collectd.files()), READ_TIMEOUT),
            sorted(set(FILES) - set(collectd.files())))
        expect = {
            "memcached_command-get": float(stats["cmd_get"]),
            "memcached_command-set": float(stats["cmd_set"]),
            "memcached_command-touch": float(stats["cmd_touch"]),
            "memcached_command-meta": float(stats["cmd_meta"]),
            "memcached_ops-hits": 30.0,
            "memcached_ops-misses": 20.0,
            "memcached_ops-incr_hits": 2.0,
            "memcached_ops-incr_misses": 1.0,
            "memcached_ops-decr_hits": 1.0,
            "memcached_ops-decr_misses": 3.0,
            "memcached_ops-delete_hits": 5.0,
            "memcached_ops-delete_misses": 1.0,
            "memcached_ops-evictions": 0.0,
        }
        for graph, value in expect.items():
            self.assertEqual(collectd.last(graph), {
                "epoch": collectd.last(graph)["epoch"], "value": value},
                graph)
        self.assertEqual(expect["memcached_command-get"], 50.0)
        self.assertEqual(expect["memcached_command-set"], 101.0)
        df = collectd.last("df-cache")
        self.assertEqual(df["used"], float(stats["bytes"]))
        self.assertEqual(df["used"] + df["free"], MEMORY_MB * 1048576.0)
        self.assertEqual(collectd.last("ps_count")["threads"],
                         float(stats["threads"]))
        # collectd's own connection is counted with ours
        self.assertGreaterEqual(
            collectd.last("memcached_connections-current")["value"], 2.0)
        octets = collectd.last("memcached_octets")
        self.assertGreaterEqual(octets["rx"], float(stats["bytes_read"]))
        self.assertGreaterEqual(octets["tx"], float(stats["bytes_written"]))
        self.assertGreaterEqual(collectd.last("uptime")["value"],
                                float(stats["uptime"]))
        self.assertAlive(collectd)

    def test_graphs_follow_changes(self):
        collectd = self.watch('    Host "%s"\n    Port "%d"'
                              % self.daemon.addr)
        self.assertTrue(collectd.wait_for("memcached_items-current",
                                          "value", 0.0), collectd.log())
        for i in range(7):
            self.assertEqual(self.c.request(b"set x%d 0 0 2\r\nab\r\n" % i),
                             b"STORED\r\n")
        self.assertTrue(collectd.wait_for("memcached_items-current",
                                          "value", 7.0), collectd.log())
        self.assertEqual(self.c.request(b"flush_all\r\n"), b"OK\r\n")
        self.assertTrue(collectd.wait_for("memcached_command-flush",
                                          "value", 1.0), collectd.log())
        self.assertTrue(collectd.wait_for("memcached_items-current",
                                          "value", 0.0), collectd.log())
        self.assertAlive(collectd)


class OverUnixSocket(CollectdCase):

    def test_socket_instance(self):
        os.chmod(self.tmp, 0o777)  # the daemon may run as nobody
        path = os.path.join(self.tmp, "cache.sock")
        s = H.unix_daemon(self, path, ["-a", "0777"])
        s.sendall(b"set u 0 0 3\r\nabc\r\nget u\r\n")
        want = b"STORED\r\nVALUE u 0 3\r\nabc\r\nEND\r\n"
        got = b""
        for _ in range(100):
            if len(got) >= len(want):
                break
            got += s.recv(4096)
        self.assertEqual(got, want)
        collectd = self.watch('    Socket "%s"' % path)
        self.assertTrue(collectd.wait_for("memcached_items-current",
                                          "value", 1.0), collectd.log())
        self.assertTrue(collectd.wait_for("memcached_ops-hits",
                                          "value", 1.0), collectd.log())
        self.assertAlive(collectd)


if __name__ == "__main__":
    H.main()
