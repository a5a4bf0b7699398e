#!/usr/bin/python3
"""The Prometheus endpoint (-o metrics_port=PORT), scraped with curl.

zeekdb-only: skipped on memcached, and when ZEEKDB_ADDR points at an
external daemon (these tests need their own daemon flags).

  /usr/bin/python3 tests/integration/test_metrics.py
  /usr/bin/python3 tests/integration/test_metrics.py Scrape.test_format

The page is checked against the text exposition format 0.0.4 by a strict
parser written here, and its values against the `stats` reply taken right
after the scrape.
"""

import math
import os
import re
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

CURL = "/usr/bin/curl"
CURL_TIMEOUT = 5               # seconds, curl's own bound
START_ATTEMPTS = 3             # the metrics port may be taken meanwhile
CONTENT_TYPE = "text/plain; version=0.0.4"

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
SAMPLE_RE = re.compile(r"([^\s{]+)(?:\{(.*)\})? (\S+)(?: (-?\d+))?\Z")
LABEL_RE = re.compile(r'([^=,"]+)="((?:[^"\\\n]|\\[\\"n])*)"(,|\Z)')
COMMENT_RE = re.compile(r"# (HELP|TYPE) (\S+)(?: (.*))?\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
HIST_SUFFIXES = ("_bucket", "_sum", "_count")
LATENCY = "zeekdb_request_duration_seconds"


def skip_unless_own_zeekdb(test):
    if not H.is_zeekdb():
        test.skipTest("the metrics endpoint is zeekdb's")
    if H.external_addr():
        test.skipTest("needs its own daemon flags; ZEEKDB_ADDR is set")


def start_with_metrics(args=()):
    """A daemon serving metrics; (daemon, metrics port). Retries with a new
    metrics port when the daemon could not start (a port race)."""
    last = None
    for _ in range(START_ATTEMPTS):
        mport = H.free_port()
        d = H.Daemon(["-o", "metrics_port=%d" % mport] + list(args))
        try:
            return d.start(), mport
        except H.HarnessError as e:
            last = e
    raise last


def curl(port, path="/metrics", method=None):
    """(status, headers dict with lower-case names, body text)."""
    cmd = [H.require_tool(CURL), "-sS", "-i", "--noproxy", "*",
           "--max-time", str(CURL_TIMEOUT)]
    if method:
        cmd += ["-X", method]
    cmd.append("http://%s:%d%s" % (H.HOST, port, path))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=CURL_TIMEOUT * 2, check=False)
    if out.returncode != 0:
        raise AssertionError("curl failed (%d): %s"
                             % (out.returncode, out.stderr.decode()))
    head, sep, body = out.stdout.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("no header/body separator: %r" % out.stdout[:200])
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body.decode("utf-8")


# -- a strict reader of the text exposition format ------------------------

def parse_labels(text, where):
    """'a="x",b="y"' -> {'a': 'x', 'b': 'y'}, unescaped."""
    labels = {}
    pos = 0
    for _ in range(len(text) + 1):
        if pos == len(text):
            return labels
        m = LABEL_RE.match(text, pos)
        if not m:
            raise AssertionError("%s: bad labels %r" % (where, text))
        name, value = m.group(1), m.group(2)
        if not LABEL_NAME_RE.match(name) or name in labels:
            raise AssertionError("%s: bad or repeated label %r"
                                 % (where, name))
        labels[name] = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n"
                              else e.group(1), value)
        pos = m.end()
        if m.group(3) == "" and pos != len(text):
            raise AssertionError("%s: junk after labels %r" % (where, text))
    raise AssertionError("%s: labels never end" % where)


def family_of(name, types):
    """The family a sample belongs to, by its TYPE lines."""
    if name in types:
        return name
    for suffix in HIST_SUFFIXES:
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram",
                                                         "summary"):
            if suffix == "_bucket" and types[base] != "histogram":
                break
            return base
    raise AssertionError("sample %s has no # TYPE line before it" % name)


# memcached's lines for features zeekdb lacks: `stats` prints them as 0
# for tools that expect them; the metrics page leaves them out.
ALWAYS_ZERO = {
    "read_buf_bytes_free",
    "slab_reassign_chunk_rescues",
    "slab_reassign_inline_reclaim", "slab_reassign_busy_deletes",
    "log_worker_dropped", "unexpected_napi_ids",
    "round_robin_fallback", "slab_global_page_pool", "lru_bumps_dropped"}

# The per-class families, outside the general `stats` table.
CLASS_FAMILIES = ("zeekdb_slab_class_", "zeekdb_item_class_")


class Page:
    """A parsed /metrics page: types, helps, and samples as
    (name, labels dict, float value) in page order."""

    def __init__(self, text):
        self.types, self.helps, self.samples = {}, {}, []
        if not text.endswith("\n"):
            raise AssertionError("page must end with a newline")
        done, current = set(), None
        for n, line in enumerate(text[:-1].split("\n"), 1):
            where = "line %d %r" % (n, line[:120])
            if line.startswith("#"):
                self._comment(line, where, done, current)
                continue
            m = SAMPLE_RE.match(line)
            if not m:
                raise AssertionError("%s: not a sample" % where)
            name = m.group(1)
            if not NAME_RE.match(name):
                raise AssertionError("%s: bad metric name" % where)
            family = family_of(name, self.types)
            if family != current:
                if family in done:
                    raise AssertionError("%s: family %s split"
                                         % (where, family))
                if current is not None:
                    done.add(current)
                current = family
            labels = parse_labels(m.group(2) or "", where)
            try:
                value = float(m.group(3))
            except ValueError:
                raise AssertionError("%s: value is not a float" % where)
            self.samples.append((name, labels, value))

    def _comment(self, line, where, done, current):
        m = COMMENT_RE.match(line)
        if not m:
            return                      # a plain comment
        kind, name, rest = m.groups()
        if not NAME_RE.match(name):
            raise AssertionError("%s: bad metric name" % where)
        if kind == "TYPE":
            if rest not in TYPES:
                raise AssertionError("%s: unknown type" % where)
            if name in self.types or name in done or name == current:
                raise AssertionError("%s: TYPE after samples or twice" % where)
            self.types[name] = rest
        else:
            if name in self.helps:
                raise AssertionError("%s: HELP twice" % where)
            self.helps[name] = rest or ""

    def value(self, name, **labels):
        found = [v for n, ls, v in self.samples if n == name and ls == labels]
        if len(found) != 1:
            raise AssertionError("%d samples of %s%r" % (len(found), name,
                                                        labels))
        return found[0]

    def check_histograms(self):
        for family, kind in self.types.items():
            if kind == "histogram":
                self._check_histogram(family)

    def _check_histogram(self, family):
        series = {}
        for name, labels, value in self.samples:
            if family_of(name, self.types) != family:
                continue
            rest = {k: v for k, v in labels.items() if k != "le"}
            s = series.setdefault(tuple(sorted(rest.items())),
                                  {"buckets": [], "sum": None, "count": None})
            if name == family + "_bucket":
                if "le" not in labels:
                    raise AssertionError("%s bucket without le" % family)
                s["buckets"].append((float(labels["le"]), labels["le"], value))
            elif name == family + "_sum":
                s["sum"] = value
            elif name == family + "_count":
                s["count"] = value
            else:
                raise AssertionError("%s: stray sample %s" % (family, name))
        if not series:
            raise AssertionError("histogram %s has no samples" % family)
        for key, s in series.items():
            where = "%s%r" % (family, key)
            b = s["buckets"]
            if not b or b[-1][1] != "+Inf":
                raise AssertionError("%s: buckets must end with +Inf" % where)
            les = [le for le, _, _ in b]
            counts = [c for _, _, c in b]
            if les != sorted(set(les)):
                raise AssertionError("%s: le not ascending" % where)
            if counts != sorted(counts):
                raise AssertionError("%s: buckets not cumulative %r"
                                     % (where, counts))
            if s["sum"] is None or s["count"] is None:
                raise AssertionError("%s: no _sum or _count" % where)
            if counts[-1] != s["count"]:
                raise AssertionError("%s: +Inf %r != _count %r"
                                     % (where, counts[-1], s["count"]))
            if s["sum"] < 0 or math.isnan(s["sum"]):
                raise AssertionError("%s: bad _sum" % where)


# -------------------------------------------------------------------------
class Scrape(unittest.TestCase):
    """One daemon with metrics on, shared by the tests of the class."""

    @classmethod
    def setUpClass(cls):
        cls.daemon, cls.mport = None, None
        if H.is_zeekdb() and not H.external_addr():
            cls.daemon, cls.mport = start_with_metrics()

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None:
            H.stop_checked(cls.daemon)

    def setUp(self):
        skip_unless_own_zeekdb(self)
        self.c = self.daemon.connect()
        self.addCleanup(self.c.close)

    def tearDown(self):
        if self.daemon is not None:
            self.assertTrue(self.daemon.alive(), "daemon died; stderr:\n%s"
                            % self.daemon.stderr()[-4000:])

    def traffic(self, n=20):
        for i in range(n):
            self.c.send(b"set k%d 0 0 3\r\nabc\r\n" % i)
            self.assertEqual(self.c.recv_line(), b"STORED\r\n")
        for i in range(n * 2):
            self.c.send(b"get k%d\r\n" % i)
            self.c.recv_retrieval()

    def scrape(self):
        status, headers, body = curl(self.mport)
        self.assertEqual(status, 200)
        return headers, Page(body)

    def test_status_and_content_type(self):
        status, headers, _ = curl(self.mport)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), CONTENT_TYPE)

    def test_format(self):
        self.traffic()
        _, page = self.scrape()
        self.assertGreater(len(page.samples), 50)
        for family in page.types:
            self.assertIn(family, page.helps, "no HELP for " + family)
        self.assertEqual(page.types.get(LATENCY), "histogram")
        page.check_histograms()

    def test_values_agree_with_stats(self):
        self.traffic()
        self.assertTrue(self.c.request(b"version\r\n").startswith(b"VERSION"))
        _, page = self.scrape()
        stats = self.c.stats()
        for name in ("cmd_get", "cmd_set", "get_hits", "get_misses",
                     "curr_items", "total_items", "limit_maxbytes", "bytes",
                     "evictions", "threads", "pid"):
            self.assertEqual(page.value("zeekdb_" + name), float(stats[name]),
                             name)
        # Connections of earlier tests may still be closing: a gauge that
        # can move between the two reads, so only its presence is exact.
        self.assertGreaterEqual(page.value("zeekdb_curr_connections"), 1.0)
        self.assertEqual(page.types["zeekdb_cmd_get"], "counter")
        self.assertEqual(page.types["zeekdb_curr_items"], "gauge")
        self.assertEqual(page.types["zeekdb_rusage_user"], "counter")
        info = [ls for n, ls, v in page.samples if n == "zeekdb_build_info"]
        self.assertEqual(info, [{"version": stats["version"],
                                 "libevent": stats["libevent"]}])
        self.assertEqual(page.value("zeekdb_build_info", **info[0]), 1.0)

    def test_every_general_stat_is_exported(self):
        """One table, two renderings: the same names on both sides."""
        _, page = self.scrape()
        stats = self.c.stats()
        exported = {n[len("zeekdb_"):] for n, t in page.types.items()
                    if t in ("counter", "gauge") and
                    not n.startswith(CLASS_FAMILIES)}
        exported.discard("build_info")
        self.assertEqual(exported,
                         set(stats) - {"version", "libevent"} - ALWAYS_ZERO)

    def test_per_class_figures_agree_with_stats_slabs_and_items(self):
        """`stats slabs` and `stats items` lines "<class>:<field>" become
        zeekdb_slab_class_<field> / zeekdb_item_class_<field>{class=...}."""
        self.traffic()
        big = b"v" * 3000  # a second slab class
        for i in range(5):
            self.c.send(b"set big%d 0 0 %d\r\n%s\r\n" % (i, len(big), big))
            self.assertEqual(self.c.recv_line(), b"STORED\r\n")
        slabs, items = self.c.stats("slabs"), self.c.stats("items")
        _, page = self.scrape()
        classes = {k.split(":")[0] for k in slabs if ":" in k}
        self.assertGreaterEqual(len(classes), 2)
        sampled = {ls["class"] for n, ls, v in page.samples
                   if n == "zeekdb_slab_class_chunk_size"}
        self.assertEqual(sampled, classes)
        stable = {"zeekdb_slab_class_": (slabs, "", (
                      "chunk_size", "chunks_per_page", "total_pages",
                      "used_chunks", "get_hits", "cmd_set")),
                  "zeekdb_item_class_": (items, "items:", (
                      "number", "mem_requested", "evicted"))}
        for family, (report, prefix, fields) in stable.items():
            for cls in classes:
                for field in fields:
                    key = "%s%s:%s" % (prefix, cls, field)
                    self.assertEqual(page.value(family + field, **{"class": cls}),
                                     float(report[key]), key)
        self.assertEqual(page.types["zeekdb_slab_class_get_hits"], "counter")
        self.assertEqual(page.types["zeekdb_slab_class_chunk_size"], "gauge")
        self.assertEqual(page.types["zeekdb_item_class_number"], "gauge")
        self.assertEqual(page.types["zeekdb_item_class_evicted"], "counter")
        # totals of the reports carry no class and are not exported
        self.assertNotIn("zeekdb_slab_class_active_slabs", page.types)

    def test_latency_histogram_counts_requests(self):
        self.traffic()
        _, page = self.scrape()
        latency = self.c.stats("latency")
        for group in ("get", "set", "delete", "incr", "touch", "other"):
            count = page.value(LATENCY + "_count", command=group)
            self.assertEqual(count, page.value(LATENCY + "_bucket",
                                               command=group, le="+Inf"))
            if group in ("get", "set"):
                self.assertEqual(count, float(latency[group + ":count"]))
                self.assertGreater(count, 0)
        page.check_histograms()

    def test_other_paths_are_404(self):
        for path in ("/nope", "/", "/metrics/x"):
            status, _, _ = curl(self.mport, path)
            self.assertEqual(status, 404, path)

    def test_query_string_is_ignored(self):
        status, _, body = curl(self.mport, "/metrics?name[]=x")
        self.assertEqual(status, 200)
        Page(body)

    def test_other_methods_are_405(self):
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            status, headers, _ = curl(self.mport, method=method)
            self.assertEqual(status, 405, method)
            self.assertEqual(headers.get("allow"), "GET")


class Setting(unittest.TestCase):

    def test_off_by_default(self):
        skip_unless_own_zeekdb(self)
        d = H.Daemon().start()
        self.addCleanup(d.stop)
        with d.connect() as c:
            self.assertEqual(c.stats("settings")["metrics_port"], "0")

    def test_port_in_stats_settings(self):
        skip_unless_own_zeekdb(self)
        d, mport = start_with_metrics()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            self.assertEqual(c.stats("settings")["metrics_port"], str(mport))

    def test_port_taken_is_a_startup_error(self):
        skip_unless_own_zeekdb(self)
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(holder.close)
        holder.bind((H.HOST, 0))
        holder.listen(1)
        taken = holder.getsockname()[1]
        cmd = H.Daemon(["-o", "metrics_port=%d" % taken]).command(
            H.free_port())
        out = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=10, check=False)
        self.assertNotEqual(out.returncode, 0)
        err = out.stderr.decode()
        self.assertIn("cannot listen for metrics on 127.0.0.1 port %d" % taken,
                      err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_out_of_range_port_is_refused(self):
        skip_unless_own_zeekdb(self)
        cmd = H.Daemon(["-o", "metrics_port=65536"]).command(H.free_port())
        out = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=10, check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("metrics_port", out.stderr.decode())


if __name__ == "__main__":
    H.main()
