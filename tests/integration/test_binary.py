#!/usr/bin/python3
"""The binary protocol over real sockets: what tests/diff/binary_diff.py
cannot compare byte for byte (STAT, large values in pieces, the -B
choices, mixing with the text protocol on one daemon) and the counters
binary requests move.

  /usr/bin/python3 tests/integration/test_binary.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/integration/test_binary.py
"""

import os
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

OP = dict(GET=0x00, SET=0x01, ADD=0x02, REPLACE=0x03, DELETE=0x04,
          INCR=0x05, DECR=0x06, QUIT=0x07, NOOP=0x0a, VERSION=0x0b,
          GETK=0x0c, GETKQ=0x0d, STAT=0x10, SETQ=0x11, TOUCH=0x1c, GAT=0x1d)
HEADER = struct.Struct(">BBHBBHIIQ")
MIB = 1024 * 1024


def packet(op, key=b"", extras=b"", value=b"", cas=0, opaque=0):
    return HEADER.pack(0x80, op, len(key), len(extras), 0, 0,
                       len(extras) + len(key) + len(value), opaque,
                       cas) + extras + key + value


def set_packet(key, value, flags=0, exptime=0, op=OP["SET"], cas=0,
               opaque=0):
    return packet(op, key, struct.pack(">II", flags, exptime), value, cas,
                  opaque)


class Response:
    def __init__(self, raw):
        (magic, self.op, keylen, extlen, _, self.status, bodylen,
         self.opaque, self.cas) = HEADER.unpack(raw[:24])
        assert magic == 0x81, raw[:24]
        body = raw[24:]
        assert len(body) == bodylen
        self.extras = body[:extlen]
        self.key = body[extlen:extlen + keylen]
        self.value = body[extlen + keylen:]


class BinClient:
    def __init__(self, daemon):
        self.c = daemon.connect()

    def close(self):
        self.c.close()

    def send(self, data):
        self.c.send(data)

    def recv(self):
        head = self.c.recv_exact(24)
        bodylen = struct.unpack(">I", head[8:12])[0]
        return Response(head + self.c.recv_exact(bodylen, timeout=10))

    def call(self, data):
        self.send(data)
        return self.recv()

    def stats(self, group=b""):
        """{name: value} from a STAT; its end is a packet without a key."""
        self.send(packet(OP["STAT"], group, opaque=77))
        out = {}
        for _ in range(100000):
            r = self.recv()
            assert r.op == OP["STAT"] and r.opaque == 77, vars(r)
            if r.status != 0:
                return r
            if not r.key:
                assert not r.value
                return out
            out[r.key.decode()] = r.value.decode()
        raise AssertionError("no end of stats")


class Binary(H.SharedDaemonCase):

    def setUp(self):
        super().setUp()
        self.b = BinClient(self.daemon)
        self.addCleanup(self.b.close)

    def test_stat_groups_end_with_an_empty_packet(self):
        general = self.b.stats()
        for name in ("pid", "uptime", "curr_items", "cmd_get", "version"):
            self.assertIn(name, general)
        self.assertEqual(general["pid"], self.c.stats()["pid"])
        self.assertIn("maxconns", self.b.stats(b"settings"))
        self.assertEqual(self.b.call(set_packet(b"st", b"v")).status, 0)
        self.assertTrue(any(k.endswith(":number")
                            for k in self.b.stats(b"items")))
        self.assertIn("active_slabs", self.b.stats(b"slabs"))
        missing = self.b.stats(b"nosuchgroup")
        self.assertEqual((missing.status, missing.value), (1, b"Not found"))
        # the connection goes on
        self.assertEqual(self.b.call(packet(OP["NOOP"])).status, 0)

    def test_stat_detail_dump_is_one_stat(self):
        self.assertEqual(self.c.request(b"stats detail on\r\n"), b"OK\r\n")
        self.addCleanup(self.c.request, b"stats detail off\r\n")
        self.b.call(set_packet(b"pre:1", b"v"))
        self.b.call(packet(OP["GET"], b"pre:1"))
        self.b.call(packet(OP["GET"], b"other:2"))
        self.b.send(packet(OP["STAT"], b"detail dump", opaque=3))
        r = self.b.recv()
        self.assertEqual((r.status, r.key), (0, b"detailed"))
        lines = r.value.split(b"\r\n")
        self.assertEqual(lines[-2:], [b"END", b""])
        self.assertIn(b"PREFIX pre get 1 hit 1 set 1 del 0", lines)
        self.assertIn(b"PREFIX other get 1 hit 0 set 0 del 0", lines)
        end = self.b.recv()
        self.assertEqual((end.status, end.key, end.value), (0, b"", b""))

    def test_large_value_in_pieces(self):
        value = bytes(range(256)) * (900 * 1024 // 256)
        data = set_packet(b"big", value, flags=5)
        for i in range(0, len(data), 64 * 1024):   # one write at a time
            self.b.send(data[i:i + 64 * 1024])
            time.sleep(0.001)
        self.assertEqual(self.b.recv().status, 0)
        r = self.b.call(packet(OP["GET"], b"big"))
        self.assertEqual((r.status, r.extras, len(r.value)),
                         (0, struct.pack(">I", 5), len(value)))
        self.assertEqual(r.value, value)
        # the same item over the text protocol
        self.assertEqual(self.c.get_item(b"big"), (5, value))

    def test_too_large_is_refused_and_the_stream_stays_in_step(self):
        r = self.b.call(set_packet(b"huge", b"x" * (2 * MIB)))
        self.assertEqual((r.status, r.value), (3, b"Too large."))
        r = self.b.call(packet(OP["VERSION"]))
        self.assertEqual(r.status, 0)

    def test_quiet_multiget_answers_hits_then_noop(self):
        keys = [b"mk:%d" % i for i in range(100)]
        self.b.send(b"".join(set_packet(k, k, op=OP["SETQ"])
                             for k in keys[::2]))
        self.b.send(b"".join(packet(OP["GETKQ"], k, opaque=i)
                             for i, k in enumerate(keys)) +
                    packet(OP["NOOP"], opaque=1000))
        got = []
        for _ in range(200):
            r = self.b.recv()
            if r.op == OP["NOOP"]:
                break
            self.assertEqual((r.status, r.key, r.value),
                             (0, keys[r.opaque], keys[r.opaque]))
            got.append(r.key)
        self.assertEqual(r.opaque, 1000)
        self.assertEqual(got, keys[::2])

    def test_text_and_binary_share_items_and_cas(self):
        self.assertEqual(self.c.request(b"set shared 9 0 3\r\nabc\r\n"),
                         b"STORED\r\n")
        r = self.b.call(packet(OP["GET"], b"shared"))
        self.assertEqual((r.status, r.extras, r.value),
                         (0, struct.pack(">I", 9), b"abc"))
        self.c.send(b"gets shared\r\n")
        line = self.c.recv_retrieval().split(b"\r\n")[0]
        self.assertEqual(int(line.split()[4]), r.cas)
        stale = self.b.call(set_packet(b"shared", b"new", cas=r.cas + 1))
        self.assertEqual(stale.status, 2)
        ok = self.b.call(set_packet(b"shared", b"new", cas=r.cas))
        self.assertEqual(ok.status, 0)
        self.assertNotEqual(ok.cas, r.cas)
        self.assertEqual(self.c.get_item(b"shared"), (0, b"new"))

    def test_counters_move_as_memcached_counts(self):
        before = self.c.stats()
        self.b.call(set_packet(b"ctr", b"1"))
        self.b.call(packet(OP["GET"], b"ctr"))
        self.b.call(packet(OP["GET"], b"nope"))
        self.b.call(packet(OP["TOUCH"], b"ctr", struct.pack(">I", 100)))
        self.b.call(packet(OP["GAT"], b"nope", struct.pack(">I", 100)))
        self.b.call(packet(OP["INCR"], b"ctr",
                           struct.pack(">QQI", 1, 0, 0xffffffff)))
        self.b.call(packet(OP["DELETE"], b"ctr"))
        after = self.c.stats()

        def delta(name):
            return int(after[name]) - int(before[name])
        self.assertEqual([delta(n) for n in (
            "cmd_set", "cmd_get", "get_hits", "get_misses", "cmd_touch",
            "touch_hits", "touch_misses", "incr_hits", "delete_hits")],
            [1, 2, 1, 1, 2, 1, 1, 1, 1])

    def test_counter_size_shows_when_replies_let_go(self):
        # A counter that loses digits keeps its size (space-padded) when
        # nobody else holds the item. A reply holds its item, with a value
        # or without (TOUCH), until memcached writes it out: at the end of
        # the batch, or at a NOOP, which writes out everything queued.
        decr = packet(OP["DECR"], b"pad", struct.pack(">QQI", 98, 0,
                                                      0xffffffff))
        get = packet(OP["GETK"], b"pad")
        noop = packet(OP["NOOP"])
        for name, between, answers, padded in (
                ("get", [packet(OP["GET"], b"pad")], 1, False),
                ("touch", [packet(OP["TOUCH"], b"pad", b"\0\0\0\0")], 1,
                 False),
                ("get, noop", [get, noop], 2, True),
                ("quiet get, noop", [packet(OP["GETKQ"], b"pad"), noop], 2,
                 True),
                ("nothing", [], 0, True)):
            self.assertEqual(self.b.call(set_packet(b"pad", b"99")).status, 0)
            self.b.send(b"".join(between) + decr)
            replies = [self.b.recv() for _ in range(answers + 1)]
            self.assertEqual((replies[-1].status, replies[-1].value),
                             (0, struct.pack(">Q", 1)), name)
            self.assertEqual(self.c.get_item(b"pad"),
                             (0, b"1 " if padded else b"1"), name)

    def test_bad_request_is_answered_then_closed(self):
        r = self.b.call(packet(OP["GET"], b"k" * 251))
        self.assertEqual((r.status, r.value), (4, b"Invalid arguments"))
        self.assertTrue(self.b.c.closed_by_peer(5))
        # others are not affected
        self.assertEqual(self.c.request(b"version\r\n")[:8], b"VERSION ")

    def test_quit(self):
        r = self.b.call(packet(OP["QUIT"], opaque=5))
        self.assertEqual((r.op, r.status, r.opaque), (OP["QUIT"], 0, 5))
        self.assertTrue(self.b.c.closed_by_peer(5))


class Choice(unittest.TestCase):
    """-B: which protocol a connection may speak."""

    def daemon(self, proto):
        if H.external_addr():
            self.skipTest("needs its own daemon flags; ZEEKDB_ADDR is set")
        d = H.Daemon(["-B", proto]).start()
        self.addCleanup(d.stop)
        return d

    def test_ascii_only_reads_a_binary_request_as_text(self):
        d = self.daemon("ascii")
        with d.connect() as c:
            c.send(packet(OP["GET"], b"foo") + b"\r\nversion\r\n")
            self.assertEqual(c.recv_line(), b"ERROR\r\n")
            self.assertEqual(c.recv_line()[:8], b"VERSION ")

    def test_binary_only_serves_binary(self):
        d = self.daemon("binary")
        b = BinClient(d)
        self.addCleanup(b.close)
        self.assertEqual(b.call(packet(OP["VERSION"])).status, 0)
        with d.connect() as c:   # a text line is not a request
            c.send(b"get foo bar baz qux quux corge\r\n")
            self.assertTrue(c.closed_by_peer(5))


class WithoutCas(unittest.TestCase):
    """-C: memcached has nowhere to keep a request's CAS, so a binary store
    with one is a plain store. (Only the statuses are checked: memcached
    1.6.18 -C loses items to later reads.)"""

    def test_request_cas_is_ignored_by_stores(self):
        if H.external_addr():
            self.skipTest("needs its own daemon flags; ZEEKDB_ADDR is set")
        d = H.Daemon(["-C"]).start()
        self.addCleanup(d.stop)
        b = BinClient(d)
        self.addCleanup(b.close)
        for op, cas, status in (("SET", 12345, 0),     # missing: stored
                                ("SET", 99, 0),        # present: stored
                                ("ADD", 7, 2),         # present: exists
                                ("REPLACE", 7, 0)):    # present: replaced
            r = b.call(set_packet(b"nocas", b"v", op=OP[op], cas=cas))
            self.assertEqual(r.status, status, op)
        r = b.call(set_packet(b"nocas-2", b"v", op=OP["REPLACE"], cas=7))
        self.assertEqual(r.status, 1)   # missing: not found


if __name__ == "__main__":
    H.main()
