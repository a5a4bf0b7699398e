#!/usr/bin/python3
"""memcached's UDP protocol (-U PORT): the 8-byte frame header (request
id, sequence number, datagram count, reserved), replies cut into
datagrams of at most 1392 bytes after it, and what is dropped.

  /usr/bin/python3 tests/integration/test_udp.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/integration/test_udp.py

Every wait is bounded by a socket timeout; only 127.0.0.1 is used.
"""

import os
import socket
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

FRAME = struct.Struct(">HHHH")
PAYLOAD_MAX = 1392
QUIET = 0.5          # seconds without a datagram: the reply is over


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((H.HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Udp(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if H.external_addr():
            raise unittest.SkipTest("needs its own daemon; ZEEKDB_ADDR is set")
        cls.udp_port = free_udp_port()
        cls.daemon = H.Daemon(["-U", str(cls.udp_port)]).start()

    @classmethod
    def tearDownClass(cls):
        H.stop_checked(cls.daemon)

    def setUp(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(self.s.close)
        self.tcp = self.daemon.connect()
        self.addCleanup(self.tcp.close)

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def exchange(self, payload, rid=7, seq=0, count=1, wait=QUIET):
        """Send one datagram; every datagram that comes back before a quiet
        spell, as (request id, seq, count, reserved, payload)."""
        self.s.sendto(FRAME.pack(rid, seq, count, 0) + payload,
                      (H.HOST, self.udp_port))
        self.s.settimeout(wait)
        got = []
        for _ in range(10000):
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                break
            got.append(FRAME.unpack(data[:8]) + (data[8:],))
        return got

    def message(self, payload, rid=7):
        """The reply as one message: its datagrams in order, numbered
        0..count-1, all with the request's id."""
        got = self.exchange(payload, rid)
        self.assertTrue(got, payload)
        count = got[0][2]
        self.assertEqual(sorted(g[1] for g in got), list(range(count)))
        for g in got:
            self.assertEqual((g[0], g[2], g[3]), (rid, count, 0))
            self.assertLessEqual(len(g[4]), PAYLOAD_MAX)
        return b"".join(g[4] for g in sorted(got, key=lambda g: g[1]))

    def test_requests_and_replies(self):
        self.assertEqual(self.message(b"set u 5 0 3\r\nabc\r\n", rid=1),
                         b"STORED\r\n")
        self.assertEqual(self.message(b"get u\r\n", rid=65535),
                         b"VALUE u 5 3\r\nabc\r\nEND\r\n")
        self.assertEqual(self.message(b"set u 1 0 2 noreply\r\nhi\r\n"
                                      b"get u\r\n"),
                         b"VALUE u 1 2\r\nhi\r\nEND\r\n")
        self.assertEqual(self.message(b"bogus\r\n"), b"ERROR\r\n")
        self.assertTrue(self.message(b"version\r\n").startswith(b"VERSION "))

    def test_watch_is_refused_over_udp(self):
        # a datagram has no connection to stream a log to: zeekdb says
        # so, where memcached 1.6.18 answers nothing
        if not H.is_zeekdb():
            self.skipTest("memcached 1.6.18 answers nothing")
        self.assertEqual(self.message(b"watch\r\n"), b"ERROR\r\n")
        self.assertEqual(self.tcp.stats()["log_watchers"], "0")
        self.assertTrue(self.message(b"version\r\n").startswith(b"VERSION "))

    def test_metadump_answers_nothing_over_udp(self):
        # as memcached 1.6.18: a listing has no datagram to go into
        self.assertEqual(self.message(b"set listed 0 0 1\r\nx\r\n"),
                         b"STORED\r\n")
        self.assertEqual(self.exchange(b"lru_crawler metadump all\r\n"), [])
        self.assertTrue(self.message(b"version\r\n").startswith(b"VERSION "))
        self.assertEqual(self.tcp.stats()["lru_crawler_running"], "0")

    def test_stats_cachedump_over_udp(self):
        self.assertEqual(self.message(b"set udpdump 0 0 3\r\nabc\r\n"),
                         b"STORED\r\n")
        cls = [k.split(":")[1] for k in self.tcp.stats("items")
               if k.endswith(":number")]
        reply = b"".join(self.message(b"stats cachedump %s 0\r\n"
                                      % c.encode()) for c in cls)
        self.assertTrue(reply.endswith(b"END\r\n"), reply)
        if H.is_zeekdb():  # memcached's lists only its COLD items
            self.assertIn(b"ITEM udpdump [3 b; 0 s]\r\n", reply)

    def test_udp_and_tcp_share_items(self):
        self.assertEqual(self.message(b"set shared 9 0 4\r\nudp!\r\n"),
                         b"STORED\r\n")
        self.assertEqual(self.tcp.get_item(b"shared"), (9, b"udp!"))
        self.assertEqual(self.tcp.request(b"set shared 3 0 3\r\ntcp\r\n"),
                         b"STORED\r\n")
        self.assertEqual(self.message(b"get shared\r\n"),
                         b"VALUE shared 3 3\r\ntcp\r\nEND\r\n")

    def test_a_large_reply_is_cut_into_numbered_datagrams(self):
        value = bytes(range(256)) * 20   # 5120 bytes
        self.assertEqual(self.tcp.request(b"set big 0 0 %d\r\n%s\r\n"
                                          % (len(value), value)),
                         b"STORED\r\n")
        got = self.exchange(b"get big\r\n", rid=42)
        want = b"VALUE big 0 %d\r\n%s\r\nEND\r\n" % (len(value), value)
        self.assertEqual(len(got), -(-len(want) // PAYLOAD_MAX))
        self.assertEqual(b"".join(g[4] for g in sorted(got,
                                                       key=lambda g: g[1])),
                         want)
        self.assertTrue(all(len(g[4]) == PAYLOAD_MAX
                            for g in sorted(got, key=lambda g: g[1])[:-1]))

    def test_what_is_dropped(self):
        # a request in several datagrams, a frame too short, a value cut
        # short by the datagram's end: no reply at all
        self.assertEqual(self.exchange(b"get u\r\n", count=2), [])
        self.s.sendto(b"\x00\x01", (H.HOST, self.udp_port))
        self.assertTrue(self.message(b"version\r\n").startswith(b"VERSION "))
        self.assertEqual(self.exchange(b"set cut 0 0 10\r\nabc\r\n"), [])
        self.assertIsNone(self.tcp.get_item(b"cut"))
        if H.is_zeekdb():
            # the next datagram starts afresh (memcached 1.6.18 keeps
            # waiting for the rest of the value and eats it)
            self.assertTrue(self.message(b"version\r\n")
                            .startswith(b"VERSION "))

    def test_libmemcached_stores_over_udp(self):
        # memccp --udp: libmemcached's UDP client (sets with noreply)
        tool = H.require_tool("memccp")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "viaudp.txt")
            with open(path, "wb") as f:
                f.write(b"sent over udp")
            p = subprocess.run([tool, "--servers=%s:%d" % (H.HOST,
                                                           self.udp_port),
                                "--udp", path], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
        stored = H.wait_until(
            lambda: self.tcp.get_item(b"viaudp.txt") is not None, 5)
        self.assertTrue(stored)
        self.assertEqual(self.tcp.get_item(b"viaudp.txt"),
                         (0, b"sent over udp"))

    def test_settings_show_the_port(self):
        self.assertEqual(int(self.tcp.stats("settings")["udpport"]),
                         self.udp_port)


if __name__ == "__main__":
    H.main()
