#!/usr/bin/python3
"""Key listing: lru_crawler metadump / mgdump and the crawler switches,
plus scripts/zeekdb-keys.

  /usr/bin/python3 tests/integration/test_keys.py
  /usr/bin/python3 tests/integration/test_keys.py Listing.test_metadump_format

The switch replies are memcached 1.6.18's; the listings are checked for
their format and for containing exactly the live keys.
"""

import os
import re
import select
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

META_RE = re.compile(rb"key=(\S+) exp=(-1|\d+) la=(\d+) cas=(\d+) "
                     rb"fetch=(yes|no) cls=(\d+) size=(\d+)\Z")
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
KEYS_SCRIPT = os.path.join(TOP, "scripts", "zeekdb-keys")


def metadump(client, what="all", timeout=None):
    """The listing's lines (without END) as bytes."""
    client.send(b"lru_crawler metadump " + what.encode() + b"\r\n")
    body = client.recv_until(b"END\r\n", timeout=timeout)
    lines = body[:-len(b"END\r\n")].split(b"\n")
    assert lines[-1] == b"", body[-200:]
    return lines[:-1]


def parse(line):
    m = META_RE.match(line)
    if m is None:
        raise AssertionError("bad metadump line %r" % line)
    key = urllib.parse.unquote_to_bytes(m.group(1).decode())
    return key, {"exp": int(m.group(2)), "la": int(m.group(3)),
                 "cas": int(m.group(4)), "fetch": m.group(5) == b"yes",
                 "cls": int(m.group(6)), "size": int(m.group(7))}


class Listing(H.SharedDaemonCase):
    daemon_args = ("-m", "256")

    def test_switches_answer_as_memcached(self):
        cases = [
            (b"lru_crawler", b"ERROR\r\n"),
            (b"lru_crawler foo", b"ERROR\r\n"),
            (b"lru_crawler metadump", b"ERROR\r\n"),
            (b"lru_crawler metadump all extra", b"ERROR\r\n"),
            (b"lru_crawler metadump 0", b"BADCLASS invalid class id\r\n"),
            (b"lru_crawler metadump 64", b"BADCLASS invalid class id\r\n"),
            (b"lru_crawler metadump 1,abc", b"BADCLASS invalid class id\r\n"),
            (b"lru_crawler crawl all", b"OK\r\n"),
            (b"lru_crawler crawl 1,2", b"OK\r\n"),
            (b"lru_crawler crawl 99", b"BADCLASS invalid class id\r\n"),
            (b"lru_crawler sleep 100", b"OK\r\n"),
            (b"lru_crawler sleep abc",
             b"CLIENT_ERROR bad command line format\r\n"),
            (b"lru_crawler sleep 2000000",
             b"CLIENT_ERROR sleep must be one second or less\r\n"),
            (b"lru_crawler tocrawl 10", b"OK\r\n"),
            (b"lru_crawler tocrawl -1",
             b"CLIENT_ERROR bad command line format\r\n"),
            (b"lru_crawler enable extra", b"ERROR\r\n"),
        ]
        for line, want in cases:
            self.assertEqual(self.c.request(line + b"\r\n"), want, line)

    def test_disable_turns_listing_off(self):
        self.assertEqual(self.c.request(b"lru_crawler disable\r\n"),
                         b"OK\r\n")
        try:
            self.assertEqual(self.c.request(b"lru_crawler metadump all\r\n"),
                             b"CLIENT_ERROR lru crawler disabled\r\n")
            self.assertEqual(self.c.request(b"lru_crawler crawl all\r\n"),
                             b"CLIENT_ERROR lru crawler disabled\r\n")
        finally:
            self.assertEqual(self.c.request(b"lru_crawler enable\r\n"),
                             b"OK\r\n")
        self.assertEqual(self.c.request(b"lru_crawler enable\r\n"),
                         b"ERROR failed to start lru crawler thread\r\n")
        self.assertEqual(metadump(self.c), [])

    def test_metadump_format(self):
        before = int(time.time())
        self.c.request(b"set plain 0 0 3\r\nabc\r\n")
        self.c.request(b"set ttl 7 100 1\r\nx\r\n")
        self.c.request(b"set a%20b/c 0 0 1\r\ny\r\n")
        self.c.send(b"gets ttl\r\n")
        self.assertIn(b"VALUE ttl", self.c.recv_retrieval())
        items = dict(parse(l) for l in metadump(self.c))
        self.assertEqual(set(items), {b"plain", b"ttl", b"a%20b/c"})
        self.assertEqual(items[b"plain"]["exp"], -1)
        self.assertFalse(items[b"plain"]["fetch"])
        self.assertTrue(items[b"ttl"]["fetch"])
        self.assertTrue(before + 99 <= items[b"ttl"]["exp"]
                        <= int(time.time()) + 101)
        self.assertTrue(abs(items[b"ttl"]["la"] - time.time()) < 5)
        self.c.send(b"gets ttl\r\n")
        cas = re.search(rb"VALUE ttl 7 1 (\d+)",
                        self.c.recv_retrieval()).group(1)
        self.assertEqual(items[b"ttl"]["cas"], int(cas))
        for meta in items.values():
            self.assertGreaterEqual(meta["cls"], 1)
            self.assertGreater(meta["size"], 10)
        # the key is uri-encoded: '%' and '/' are escaped
        raw = b"\n".join(metadump(self.c))
        self.assertIn(b"key=a%2520b%2Fc ", raw)

    def test_class_filter(self):
        self.c.request(b"set small 0 0 1\r\nx\r\n")
        big = b"v" * 5000
        self.c.request(b"set big 0 0 %d\r\n%s\r\n" % (len(big), big))
        items = dict(parse(l) for l in metadump(self.c))
        small_cls = items[b"small"]["cls"]
        big_cls = items[b"big"]["cls"]
        self.assertNotEqual(small_cls, big_cls)
        only = [parse(l)[0] for l in metadump(self.c, str(small_cls))]
        self.assertEqual(only, [b"small"])
        both = [parse(l)[0] for l in
                metadump(self.c, "%d,%d" % (small_cls, big_cls))]
        self.assertEqual(sorted(both), [b"big", b"small"])
        self.assertEqual(sorted(parse(l)[0] for l in metadump(self.c, "hash")),
                         [b"big", b"small"])

    def test_expired_and_deleted_are_not_listed(self):
        self.c.request(b"set live 0 0 1\r\nx\r\n")
        self.c.request(b"set dead 0 -1 1\r\nx\r\n")
        self.c.request(b"set gone 0 0 1\r\nx\r\n")
        self.c.request(b"delete gone\r\n")
        self.assertEqual([parse(l)[0] for l in metadump(self.c)], [b"live"])

    @unittest.skipUnless(H.is_zeekdb(), "mgdump is newer than 1.6.18")
    def test_mgdump_replays_as_meta_gets(self):
        self.c.request(b"set k1 0 0 1\r\nx\r\n")
        self.c.request(b"set k2 0 0 1\r\ny\r\n")
        self.c.send(b"lru_crawler mgdump all\r\n")
        body = self.c.recv_until(b"EN\r\n")
        self.assertEqual(sorted(body.split(b"\r\n")[:-2]),
                         [b"mg k1", b"mg k2"])

    @unittest.skipUnless(H.is_zeekdb(), "1.6.18 drops what follows a dump")
    def test_pipelined_requests_after_a_listing_are_answered(self):
        self.c.request(b"set p 0 0 1\r\nx\r\n")
        self.c.send(b"lru_crawler metadump all\r\nget p\r\n")
        self.c.recv_until(b"END\r\n")
        self.assertEqual(self.c.recv_until(b"END\r\n"),
                         b"VALUE p 0 1\r\nx\r\nEND\r\n")

    @unittest.skipUnless(H.is_zeekdb(), "memcached's lists only COLD items")
    def test_cachedump_in_a_pipeline_keeps_its_place(self):
        self.c.request(b"set cd 0 0 2\r\nxy\r\n")
        cls = [k.split(":")[1] for k in self.c.stats("items")
               if k.endswith(":number")]
        self.c.send(b"".join(b"stats cachedump %s 0\r\n" % c.encode()
                             for c in cls) + b"get cd\r\n")
        dumps = b"".join(self.c.recv_until(b"END\r\n") for _ in cls)
        self.assertIn(b"ITEM cd [2 b; 0 s]\r\n", dumps)
        self.assertEqual(self.c.recv_until(b"END\r\n"),
                         b"VALUE cd 0 2\r\nxy\r\nEND\r\n")
        self.assertEqual(self.c.stats()["lru_crawler_running"], "0")

    def test_large_listing_streams_every_key_once(self):
        n = 60000
        batch = b"".join(b"set key:%d 0 0 10 noreply\r\n0123456789\r\n" % i
                         for i in range(n))
        self.c.send(batch)
        self.assertEqual(self.c.request(b"version\r\n")[:8], b"VERSION ")
        # a second client keeps writing while the first lists: the
        # listing must still hold every key that was there throughout
        writer = self.daemon.connect()
        self.addCleanup(writer.close)
        self.c.send(b"lru_crawler metadump all\r\n")
        for i in range(200):
            writer.send(b"set extra:%d 0 0 1 noreply\r\nx\r\n" % i)
        body = self.c.recv_until(b"END\r\n", timeout=60)
        keys = [parse(l)[0] for l in body[:-5].split(b"\n")[:-1]]
        self.assertEqual(len(keys), len(set(keys)), "a key listed twice")
        base = {k for k in keys if k.startswith(b"key:")}
        self.assertEqual(len(base), n)

    def test_listing_survives_a_client_that_stops_sending(self):
        self.c.request(b"set s 0 0 1\r\nx\r\n")
        self.c.send(b"lru_crawler metadump all\r\n")
        self.c.sock.shutdown(1)  # SHUT_WR: the listing must still arrive
        body = self.c.recv_until(b"END\r\n")
        self.assertIn(b"key=s ", body)


class SharedWorker(unittest.TestCase):
    """A listing and the other connections of its worker (-t 1)."""

    def test_others_are_answered_while_a_listing_streams(self):
        d = H.Daemon(["-t", "1", "-m", "256"]).start()
        self.addCleanup(H.stop_checked, d)
        lister, other = d.connect(timeout=60), d.connect()
        self.addCleanup(lister.close)
        self.addCleanup(other.close)
        # about 30 MB of listing: long enough to see who goes first
        pad = b"x" * 200
        for start in range(0, 100000, 10000):
            lister.send(b"".join(b"set %s%d 0 0 1 noreply\r\nv\r\n"
                                 % (pad, i)
                                 for i in range(start, start + 10000)))
        self.assertEqual(lister.request(b"version\r\n")[:8], b"VERSION ")
        lister.send(b"lru_crawler metadump all\r\n")
        lister.recv_exact(1)  # it has begun
        other.send(b"version\r\n")
        # read both as fast as they come, keeping only the listing's tail,
        # so it never waits for its reader; the version must not wait for
        # the listing's end
        order, tails = [], {lister.sock: b"", other.sock: b""}
        ends = {lister.sock: ("listing", b"END\r\n"),
                other.sock: ("version", b"\r\n")}
        lister.sock.setblocking(False)
        other.sock.setblocking(False)
        deadline = time.monotonic() + 60
        while len(order) < 2 and time.monotonic() < deadline:
            ready, _, _ = select.select(list(tails), [], [], 1)
            for sock in ready:
                data = sock.recv(1 << 20)
                self.assertTrue(data, "connection closed")
                tails[sock] = (tails[sock] + data)[-16:]
                name, end = ends[sock]
                if tails[sock].endswith(end) and name not in order:
                    order.append(name)
        self.assertEqual(order, ["version", "listing"])


class Concurrent(unittest.TestCase):

    @unittest.skipUnless(H.is_zeekdb(), "memcached lists one at a time")
    def test_four_listings_at_once_then_busy(self):
        d = H.Daemon(["-m", "256"]).start()
        self.addCleanup(H.stop_checked, d)
        c = d.connect()
        self.addCleanup(c.close)
        # about 30 MB per listing: more than the server and the sockets
        # buffer, so a listing nobody reads stays under way
        pad = b"x" * 200
        for start in range(0, 100000, 10000):
            c.send(b"".join(b"set %s%d 0 0 1 noreply\r\nv\r\n" % (pad, i)
                            for i in range(start, start + 10000)))
        self.assertEqual(c.request(b"version\r\n")[:8], b"VERSION ")
        listers = []
        for _ in range(4):
            lister = d.connect()
            self.addCleanup(lister.close)
            lister.send(b"lru_crawler metadump all\r\n")
            self.assertEqual(lister.recv_exact(4), b"key=")
            listers.append(lister)
        self.assertEqual(c.stats()["lru_crawler_running"], "4")
        self.assertEqual(c.request(b"lru_crawler metadump all\r\n"),
                         b"BUSY currently processing crawler request\r\n")
        self.assertEqual(c.request(b"lru_crawler mgdump 1\r\n"),
                         b"BUSY currently processing crawler request\r\n")
        for lister in listers:
            lister.close()
        self.assertTrue(H.wait_until(
            lambda: c.stats()["lru_crawler_running"] == "0", 10))
        c.send(b"lru_crawler mgdump all\r\n")
        body = c.recv_until(b"EN\r\n", timeout=60)
        self.assertEqual(body.count(b"\r\n"), 100001)


class KeysScript(unittest.TestCase):
    def test_zeekdb_keys_lists_keys(self):
        if not os.access(KEYS_SCRIPT, os.X_OK):
            self.fail("scripts/zeekdb-keys missing")
        d = H.Daemon().start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            c.request(b"set alpha 0 0 1\r\nx\r\n")
            c.request(b"set sp%20ace 0 0 1\r\nx\r\n")
        out = subprocess.run([KEYS_SCRIPT, "-s", "%s:%d" % (H.HOST, d.port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=30, check=True)
        self.assertEqual(sorted(out.stdout.split(b"\n")[:-1]),
                         [b"alpha", b"sp%20ace"])


if __name__ == "__main__":
    H.main()
