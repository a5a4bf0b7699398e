#!/usr/bin/python3
"""The meta protocol (mg ms md ma mn me) over real sockets, replies
asserted to the exact bytes.

Expectations were checked against memcached 1.6.18; what follows the
newer protocol.txt instead (E, md x, ms N in append mode) runs only
against zeekdb.

  /usr/bin/python3 tests/integration/test_meta.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/integration/test_meta.py
"""

import base64
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

VERSION_RE = re.compile(rb"^VERSION [0-9A-Za-z._+-]+\r\n$")
BATCH = 10000


def ttl_tolerant(got, want):
    """got, with each t<n> token that is one below want's token at the
    same place raised to want's: a clock tick, not a wrong answer."""
    pat = re.compile(rb"(?<= )t(\d+)(?=[ \r])")
    wanted = [int(m.group(1)) for m in pat.finditer(want)]
    found = list(pat.finditer(got))
    if len(found) != len(wanted):
        return got
    out, last = b"", 0
    for m, w in zip(found, wanted):
        v = int(m.group(1))
        out += got[last:m.start(1)] + b"%d" % (w if v == w - 1 else v)
        last = m.end(1)
    return out + got[last:]


class MetaCase(H.SharedDaemonCase):
    """The shared daemon, plus exact-reply helpers for meta replies."""

    def expect(self, request, reply, conn=None):
        """Send request and a 'version' sentinel; the reply must be
        exactly `reply`, with nothing more before the sentinel, except
        that a remaining TTL (t<n>) may be one second lower than written:
        the server's clock may tick between two requests."""
        c = conn or self.c
        c.send(request + b"version\r\n")
        got = c.recv_until(b"VERSION ")[:-len(b"VERSION ")]
        c.recv_line()
        self.assertEqual(ttl_tolerant(got, reply), reply,
                         "request %r" % request[:200])

    def cas_of(self, key):
        self.c.send(b"mg %s c\r\n" % key)
        line = self.c.recv_line()
        m = re.match(rb"HD c(\d+)", line)
        self.assertIsNotNone(m, line)
        return int(m.group(1))

    def stat_delta(self, before, names):
        after = self.c.stats()
        return {n: int(after[n]) - int(before[n]) for n in names}


class MetaGet(MetaCase):
    def test_miss_and_hit(self):
        self.expect(b"mg k v\r\n", b"EN\r\n")
        self.expect(b"ms k 2 F5 T100\r\nhi\r\n", b"HD\r\n")
        self.expect(b"mg k v\r\n", b"VA 2\r\nhi\r\n")
        self.expect(b"mg k\r\n", b"HD\r\n")
        self.expect(b"mg k s f t v\r\n", b"VA 2 s2 f5 t100\r\nhi\r\n")

    def test_echo_flags_in_request_order(self):
        self.expect(b"ms k 3\r\nabc\r\n", b"HD\r\n")
        cas = self.cas_of(b"k")
        self.expect(b"mg k O99 k c v s\r\n",
                    b"VA 3 O99 kk c%d s3\r\nabc\r\n" % cas)
        self.expect(b"mg nope O99 k c v s\r\n", b"EN O99 knope\r\n")

    def test_hit_before_and_last_access(self):
        self.expect(b"ms k 1\r\nx\r\n", b"HD\r\n")
        self.expect(b"mg k h l\r\n", b"HD h0 l0\r\n")
        self.expect(b"mg k h\r\n", b"HD h1\r\n")

    def test_no_bump_leaves_fetched_unset(self):
        self.expect(b"ms k 1\r\nx\r\n", b"HD\r\n")
        self.expect(b"mg k u h\r\n", b"HD h0\r\n")
        self.expect(b"mg k u h\r\n", b"HD h0\r\n")
        self.expect(b"mg k h\r\n", b"HD h0\r\n")
        self.expect(b"mg k h\r\n", b"HD h1\r\n")

    def test_vivify_and_touch_the_later_wins(self):
        # memcached 1.6.18: on a miss, N then T leaves T's TTL, T then N
        # leaves N's
        self.expect(b"mg a N30 T60 t\r\n", b"HD t60 W\r\n")
        self.expect(b"mg b T60 N30 t\r\n", b"HD t30 W\r\n")
        self.expect(b"mg a t\r\n", b"HD t60 Z\r\n")
        self.expect(b"mg b t\r\n", b"HD t30 Z\r\n")

    def test_ttl_order_matters(self):
        self.expect(b"ms k 1 T100\r\nx\r\n", b"HD\r\n")
        self.expect(b"mg k t T50\r\n", b"HD t100\r\n")
        self.expect(b"mg k T30 t\r\n", b"HD t30\r\n")
        self.expect(b"ms j 1\r\nx\r\n", b"HD\r\n")
        self.expect(b"mg j t\r\n", b"HD t-1\r\n")

    def test_touch_negative_expires_after_reply(self):
        self.expect(b"ms k 1\r\nx\r\n", b"HD\r\n")
        self.expect(b"mg k T-1 v\r\n", b"VA 1\r\nx\r\n")
        self.expect(b"mg k v\r\n", b"EN\r\n")

    def test_vivify_on_miss(self):
        self.expect(b"mg n t N30\r\n", b"HD t-1 W\r\n")
        self.expect(b"mg n N30 t\r\n", b"HD t30 Z\r\n")
        self.expect(b"mg m N30 t s v\r\n", b"VA 0 t30 s0 W\r\n\r\n")
        self.expect(b"mg m v\r\n", b"VA 0 Z\r\n\r\n")

    def test_recache(self):
        self.expect(b"ms k 1 T100\r\nx\r\n", b"HD\r\n")
        self.expect(b"mg k R30 v\r\n", b"VA 1\r\nx\r\n")
        self.expect(b"mg k v t T20 R30\r\n", b"VA 1 t100 W\r\nx\r\n")
        self.expect(b"mg k v t R30\r\n", b"VA 1 t20 Z\r\nx\r\n")

    def test_quiet(self):
        self.expect(b"mg nope q v\r\nmg nope q\r\nmn\r\n", b"MN\r\n")
        self.expect(b"ms k 1\r\nx\r\n", b"HD\r\n")
        self.expect(b"mg k q v\r\nmg k q\r\nmn\r\n",
                    b"VA 1\r\nx\r\nHD\r\nMN\r\n")

    def test_counters(self):
        self.expect(b"ms k 1\r\nx\r\n", b"HD\r\n")
        names = ("cmd_get", "get_hits", "get_misses", "cmd_touch",
                 "touch_hits")
        before = self.c.stats()
        self.expect(b"mg k v\r\nmg nope v\r\nmg k T30\r\nmg nope T30\r\n",
                    b"VA 1\r\nx\r\nEN\r\nHD\r\nEN\r\n")
        self.assertEqual(self.stat_delta(before, names),
                         {"cmd_get": 3, "get_hits": 1, "get_misses": 2,
                          "cmd_touch": 1, "touch_hits": 1})

    @unittest.skipUnless(H.is_zeekdb(), "E is newer than memcached 1.6.18")
    def test_explicit_cas_on_vivify(self):
        self.expect(b"mg n N30 E1234 c\r\n", b"HD c1234 W\r\n")


class MetaSet(MetaCase):
    @unittest.skipUnless(H.is_zeekdb(), "protocol.txt, newer than 1.6.18")
    def test_ms_s_returns_the_stored_size(self):
        self.expect(b"ms k 3 s\r\nabc\r\n", b"HD s3\r\n")
        self.expect(b"ms k 2 MA s\r\nde\r\n", b"HD s5\r\n")
        self.expect(b"ms k 2 MP s k\r\nxy\r\n", b"HD s7 kk\r\n")
        self.expect(b"ms k 1 ME s\r\nz\r\n", b"NS\r\n")
        self.expect(b"mg k v\r\n", b"VA 7\r\nxyabcde\r\n")

    def test_set_and_flags(self):
        self.expect(b"ms k 2 T0 F7 k O1\r\nhi\r\n", b"HD kk O1\r\n")
        self.expect(b"mg k f v\r\n", b"VA 2 f7\r\nhi\r\n")
        self.expect(b"ms k 0\r\n\r\n", b"HD\r\n")
        self.expect(b"mg k s v\r\n", b"VA 0 s0\r\n\r\n")

    def test_return_cas(self):
        self.c.send(b"ms k 1 c\r\nx\r\n")
        m = re.match(rb"HD c(\d+)\r\n", self.c.recv_line())
        self.assertIsNotNone(m)
        self.assertEqual(self.cas_of(b"k"), int(m.group(1)))

    def test_modes(self):
        self.expect(b"ms k 1 ME\r\na\r\n", b"HD\r\n")
        self.expect(b"ms k 1 ME\r\nb\r\n", b"NS\r\n")
        self.expect(b"ms k 1 MA\r\nc\r\n", b"HD\r\n")
        self.expect(b"ms k 1 MP\r\nd\r\n", b"HD\r\n")
        self.expect(b"mg k v\r\n", b"VA 3\r\ndac\r\n")
        self.expect(b"ms k 1 MR\r\ne\r\n", b"HD\r\n")
        self.expect(b"ms z 1 MR\r\ne\r\n", b"NS\r\n")
        self.expect(b"ms z 1 MA\r\ne\r\n", b"NS\r\n")
        self.expect(b"ms z 1 MP\r\ne\r\n", b"NS\r\n")
        self.expect(b"ms k 1 MS\r\nf\r\n", b"HD\r\n")
        self.expect(b"mg k v\r\n", b"VA 1\r\nf\r\n")

    def test_append_keeps_ttl_and_flags(self):
        self.expect(b"ms k 1 T100 F3\r\na\r\n", b"HD\r\n")
        self.expect(b"ms k 1 MA T5 F9\r\nb\r\n", b"HD\r\n")
        self.expect(b"mg k v t f\r\n", b"VA 2 t100 f3\r\nab\r\n")

    def test_compare_and_swap(self):
        self.expect(b"ms k 1\r\na\r\n", b"HD\r\n")
        cas = self.cas_of(b"k")
        names = ("cmd_set", "cas_hits", "cas_badval", "cas_misses")
        before = self.c.stats()
        self.expect(b"ms k 1 C%d\r\nb\r\n" % (cas + 100), b"EX\r\n")
        self.expect(b"ms k 1 C%d\r\nb\r\n" % cas, b"HD\r\n")
        self.expect(b"ms none 1 C5\r\nb\r\n", b"NF\r\n")
        self.expect(b"ms none 1 MR C5\r\nb\r\n", b"NF\r\n")
        self.expect(b"ms none 1 ME C5\r\nb\r\n", b"HD\r\n")
        self.assertEqual(self.stat_delta(before, names),
                         {"cmd_set": 5, "cas_hits": 1, "cas_badval": 1,
                          "cas_misses": 2})
        cas = self.cas_of(b"k")
        self.expect(b"ms k 1 MA C%d\r\nz\r\n" % (cas + 1), b"EX\r\n")
        self.expect(b"ms k 1 MA C%d\r\nz\r\n" % cas, b"HD\r\n")
        self.expect(b"mg k v\r\n", b"VA 2\r\nbz\r\n")

    def test_invalidate_with_older_cas_stores_stale(self):
        self.expect(b"ms k 1\r\na\r\n", b"HD\r\n")
        cas = self.cas_of(b"k")
        self.expect(b"ms k 1 I C%d\r\nb\r\n" % (cas + 1), b"EX\r\n")
        self.expect(b"ms k 1 I C%d\r\nb\r\n" % (cas - 1), b"HD\r\n")
        self.expect(b"mg k v\r\n", b"VA 1 X W\r\nb\r\n")
        self.expect(b"mg k v\r\n", b"VA 1 Z X\r\nb\r\n")
        self.expect(b"ms k 1\r\nc\r\n", b"HD\r\n")
        self.expect(b"mg k v\r\n", b"VA 1\r\nc\r\n")

    def test_quiet_hides_only_success(self):
        self.expect(b"ms k 1 q\r\na\r\nms k 1 ME q\r\nb\r\nmn\r\n",
                    b"NS\r\nMN\r\n")

    def test_bad_data_chunk_even_quiet(self):
        self.expect(b"ms k 2 q\r\nabcd\r\n",
                    b"CLIENT_ERROR bad data chunk\r\nERROR\r\n")
        self.expect(b"mg k v\r\n", b"EN\r\n")

    def test_counted_once_the_data_is_in(self):
        """cmd_set counts an ms when its data block has arrived, a bad
        one too, as memcached does; not one whose client hung up before
        the data ended. A daemon of its own: no other connection comes
        or goes while the test counts sets."""
        if H.external_addr():
            self.skipTest("needs its own daemon; ZEEKDB_ADDR is set")
        d = H.Daemon().start()
        self.addCleanup(H.stop_checked, d)
        c = d.connect()
        self.addCleanup(c.close)
        before = c.stats()
        other = d.connect()
        other.send(b"ms k 10 T5\r\nabc")
        addr = "tcp:127.0.0.1:%d" % other.sock.getsockname()[1]
        other.close()
        # The daemon has read all it sent once it has seen the close: its
        # connection is gone from stats conns. (Not a count against
        # `before`: the harness's start-up probe may still have been
        # closing when it was taken.)
        self.assertTrue(H.wait_until(
            lambda: addr not in c.stats("conns").values(), 10))
        c.send(b"ms k 2\r\nabcd\r\nms k 1\r\na\r\nmn\r\n")
        want = b"CLIENT_ERROR bad data chunk\r\nERROR\r\nHD\r\nMN\r\n"
        self.assertEqual(c.recv_exact(len(want)), want)
        self.assertEqual(int(c.stats()["cmd_set"]) - int(before["cmd_set"]),
                         2)

    def test_too_large_drops_old_value(self):
        self.expect(b"ms k 1\r\na\r\n", b"HD\r\n")
        big = 2 * 1024 * 1024
        self.expect(b"ms k %d MA\r\n%s\r\n" % (big, b"z" * big),
                    b"SERVER_ERROR object too large for cache\r\n")
        self.expect(b"mg k v\r\n", b"EN\r\n")

    def test_large_value(self):
        value = bytes(range(256)) * 3000 + b"\r\n" * 100
        self.expect(b"ms k %d T0\r\n%s\r\n" % (len(value), value), b"HD\r\n")
        self.expect(b"mg k s v\r\n",
                    b"VA %d s%d\r\n%s\r\n" % (len(value), len(value), value))

    @unittest.skipUnless(H.is_zeekdb(), "protocol.txt, newer than 1.6.18")
    def test_explicit_cas_and_append_vivify(self):
        self.expect(b"ms k 1 E4242 c\r\na\r\n", b"HD c4242\r\n")
        self.expect(b"mg k c v\r\n", b"VA 1 c4242\r\na\r\n")
        self.expect(b"ms v 1 MA N30\r\nx\r\n", b"HD\r\n")
        self.expect(b"mg v t v\r\n", b"VA 1 t30\r\nx\r\n")


class MetaDelete(MetaCase):
    def test_delete(self):
        self.expect(b"ms k 1\r\na\r\n", b"HD\r\n")
        self.expect(b"md k k O7\r\n", b"HD kk O7\r\n")
        self.expect(b"md k\r\n", b"NF\r\n")
        self.expect(b"md k q\r\n", b"NF\r\n")
        self.expect(b"ms k 1\r\na\r\n", b"HD\r\n")
        self.expect(b"md k q\r\nmn\r\n", b"MN\r\n")

    def test_compare(self):
        self.expect(b"ms k 1\r\na\r\n", b"HD\r\n")
        cas = self.cas_of(b"k")
        self.expect(b"md k C%d\r\n" % (cas + 1), b"EX\r\n")
        self.expect(b"md k C%d\r\n" % cas, b"HD\r\n")

    def test_stale_while_revalidate(self):
        self.expect(b"ms k 3 T100\r\nold\r\n", b"HD\r\n")
        cas = self.cas_of(b"k")
        self.expect(b"md k I T30\r\n", b"HD\r\n")
        # the first client wins the refresh, everyone gets the old value
        self.c.send(b"mg k c t v\r\n")
        line = self.c.recv_line()
        m = re.match(rb"VA 3 c(\d+) t(29|30) X W\r\n$", line)
        self.assertIsNotNone(m, line)
        self.assertNotEqual(int(m.group(1)), cas)
        self.assertEqual(self.c.recv_exact(5), b"old\r\n")
        other = self.daemon.connect()
        self.addCleanup(other.close)
        self.expect(b"mg k v\r\n", b"VA 3 Z X\r\nold\r\n", conn=other)
        # the winner stores the fresh value; staleness is gone
        self.expect(b"ms k 3 T100\r\nnew\r\n", b"HD\r\n")
        self.expect(b"mg k v\r\n", b"VA 3\r\nnew\r\n", conn=other)

    def test_invalidate_missing_and_without_i(self):
        self.expect(b"md k I\r\n", b"NF\r\n")
        self.expect(b"ms k 1\r\na\r\n", b"HD\r\n")
        self.expect(b"md k T30\r\n", b"HD\r\n")  # T without I: a delete
        self.expect(b"mg k v\r\n", b"EN\r\n")

    def test_counters(self):
        self.expect(b"ms k 1\r\na\r\nms j 1\r\na\r\n", b"HD\r\nHD\r\n")
        names = ("delete_hits", "delete_misses")
        before = self.c.stats()
        self.expect(b"md k\r\nmd k\r\nmd j I\r\nmd j C1\r\n",
                    b"HD\r\nNF\r\nHD\r\nEX\r\n")
        self.assertEqual(self.stat_delta(before, names),
                         {"delete_hits": 1, "delete_misses": 2})

    @unittest.skipUnless(H.is_zeekdb(), "protocol.txt, newer than 1.6.18")
    def test_drop_value_keeps_item(self):
        self.expect(b"ms k 3 F4 T100\r\nabc\r\n", b"HD\r\n")
        self.expect(b"md k x E77\r\n", b"HD\r\n")
        self.expect(b"mg k s f t c v\r\n", b"VA 0 s0 f4 t100 c77\r\n\r\n")


class MetaArithmetic(MetaCase):
    def test_a_change_in_place_resets_the_access_age(self):
        """incr and ma change the counter now: mg's l reads 0 after them
        (memcached's in-place change), while the item stays unfetched."""
        self.expect(b"set la 0 0 1\r\n5\r\n", b"STORED\r\n")
        self.expect(b"ma lb N0 J7\r\n", b"HD\r\n")
        time.sleep(2.2)
        self.expect(b"incr la 1\r\n", b"6\r\n")
        self.expect(b"ma lb\r\n", b"HD\r\n")
        self.expect(b"mg la l h\r\n", b"HD l0 h0\r\n")
        self.expect(b"mg lb l h\r\n", b"HD l0 h0\r\n")

    def test_incr_decr_vivify(self):
        self.expect(b"ma n\r\n", b"NF\r\n")
        self.expect(b"ma n q\r\n", b"NF\r\n")
        self.expect(b"ma n N0 J10 v\r\n", b"VA 2\r\n10\r\n")
        self.expect(b"ma n v\r\n", b"VA 2\r\n11\r\n")
        self.expect(b"ma n MD D5 v\r\n", b"VA 1\r\n6\r\n")
        self.expect(b"ma n MD D50 v\r\n", b"VA 1\r\n0\r\n")
        self.expect(b"ma n D18446744073709551615 v\r\n",
                    b"VA 20\r\n18446744073709551615\r\n")
        self.expect(b"ma n v\r\n", b"VA 1\r\n0\r\n")
        self.expect(b"ma n k O5\r\n", b"HD kn O5\r\n")

    def test_ttl_and_cas(self):
        self.expect(b"ma n N0 J1\r\n", b"HD\r\n")
        self.expect(b"ma n v T100 t\r\n", b"VA 1 t100\r\n2\r\n")
        cas = self.cas_of(b"n")
        self.expect(b"ma n C%d v\r\n" % (cas + 1), b"EX\r\n")
        self.expect(b"ma n C%d v c\r\n" % cas, b"VA 1 c%d\r\n3\r\n"
                    % (cas + 1))

    def test_quiet_shows_a_created_counter(self):
        self.expect(b"ma n N0 J7 q v\r\nma n q v\r\nmn\r\n",
                    b"VA 1\r\n7\r\nMN\r\n")

    def test_non_numeric(self):
        self.expect(b"ms s 3\r\nabc\r\n", b"HD\r\n")
        self.expect(b"ma s\r\n", b"CLIENT_ERROR cannot increment or "
                    b"decrement non-numeric value\r\n")

    def test_counters(self):
        self.expect(b"ms n 1\r\n5\r\n", b"HD\r\n")
        names = ("incr_hits", "incr_misses", "decr_hits", "decr_misses")
        before = self.c.stats()
        self.expect(b"ma n\r\nma n MD\r\nma x\r\nma x MD\r\nma y N0\r\n",
                    b"HD\r\nHD\r\nNF\r\nNF\r\nHD\r\n")
        self.assertEqual(self.stat_delta(before, names),
                         {"incr_hits": 1, "incr_misses": 1, "decr_hits": 1,
                          "decr_misses": 1})

    @unittest.skipUnless(H.is_zeekdb(), "E is newer than memcached 1.6.18")
    def test_explicit_cas(self):
        self.expect(b"ma n N0 J1 E50 c\r\n", b"HD c50\r\n")
        self.expect(b"ma n E60 c\r\n", b"HD c60\r\n")


class MetaMisc(MetaCase):
    def test_noop_and_debug(self):
        self.expect(b"mn\r\n", b"MN\r\n")
        self.expect(b"me k\r\n", b"EN\r\n")
        self.expect(b"ms k 3 T100\r\nabc\r\n", b"HD\r\n")
        cas = self.cas_of(b"k")
        self.c.send(b"me k\r\n")
        line = self.c.recv_line()
        self.assertRegex(line, rb"^ME k exp=-(99|100) la=[01] cas=%d "
                         rb"fetch=yes cls=\d+ size=\d+\r\n$" % cas)

    def test_base64_binary_keys(self):
        raw = b"\x00\x01 \r\n\xff"
        b64 = base64.b64encode(raw)
        self.expect(b"ms %s 2 b k\r\nhi\r\n" % b64, b"HD k%s b\r\n" % b64)
        self.expect(b"mg %s b k v\r\n" % b64, b"VA 2 k%s b\r\nhi\r\n" % b64)
        self.expect(b"mg %s k v\r\n" % b64, b"EN k%s\r\n" % b64)
        self.assertRegex(self.c.request(b"me %s b\r\n" % b64),
                         rb"^ME %s exp=-1 " % re.escape(b64))
        self.expect(b"ma %s b N0 J3 k v\r\n" % base64.b64encode(b"\x01\x02"),
                    b"VA 1 kAQI= b\r\n3\r\n")
        self.expect(b"md %s b k\r\n" % b64, b"HD k%s b\r\n" % b64)
        self.expect(b"mg %s b v\r\n" % b64, b"EN\r\n")

    def test_errors(self):
        self.expect(b"mz k\r\n", b"ERROR\r\n")
        self.expect(b"mg k zz\r\n", b"CLIENT_ERROR invalid flag\r\n")
        self.expect(b"ms k 1 MX\r\na\r\n",
                    b"CLIENT_ERROR invalid mode for ms M token\r\n")
        self.expect(b"ma k MX\r\n",
                    b"CLIENT_ERROR invalid mode for ma M token\r\n")
        self.expect(b"mg %s v\r\n" % (b"k" * 251),
                    b"CLIENT_ERROR bad command line format\r\n")

    def test_mixed_text_and_meta_pipeline(self):
        self.expect(b"set a 0 0 1\r\n1\r\nms b 1\r\n2\r\nget a b\r\n"
                    b"mg a v\r\nincr a 5\r\nma a v\r\ndelete b\r\nmd b\r\n"
                    b"mn\r\n",
                    b"STORED\r\nHD\r\nVALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\n"
                    b"END\r\nVA 1\r\n1\r\n6\r\nVA 1\r\n7\r\nDELETED\r\n"
                    b"NF\r\nMN\r\n")

    def test_split_request_every_byte(self):
        req = b"ms k 3 T0 k\r\nabc\r\nmg k v k\r\n"
        for b in req:
            self.c.send(bytes([b]))
        self.assertEqual(self.c.recv_exact(21), b"HD kk\r\nVA 3 kk\r\nabc\r\n")


class MetaBatch(MetaCase):
    def test_ten_thousand_quiet_sets_then_gets(self):
        sets = b"".join(b"ms key:%d %d q\r\nvalue-%d\r\n"
                        % (i, len(b"value-%d" % i), i) for i in range(BATCH))
        self.c.send(sets + b"mn\r\n")
        self.assertEqual(self.c.recv_line(timeout=60), b"MN\r\n")
        gets = b"".join(b"mg key:%d k v q\r\n" % i for i in range(BATCH))
        self.c.send(gets + b"mn\r\n")
        want = b"".join(b"VA %d kkey:%d\r\nvalue-%d\r\n"
                        % (len(b"value-%d" % i), i, i) for i in range(BATCH))
        self.assertEqual(self.c.recv_exact(len(want), timeout=60), want)
        self.assertEqual(self.c.recv_line(), b"MN\r\n")

    def test_quiet_misses_between_hits(self):
        self.expect(b"ms a 1 q\r\n1\r\nms c 1 q\r\n3\r\n", b"")
        self.expect(b"mg a v q k\r\nmg b v q k\r\nmg c v q k\r\nmn\r\n",
                    b"VA 1 ka\r\n1\r\nVA 1 kc\r\n3\r\nMN\r\n")


class MetaHolds(unittest.TestCase):
    """A meta get's reply holds its item until it is written, with a value
    or without one; then the item is let go, so deleting it frees its
    memory."""

    def test_replies_let_go_of_items(self):
        d = H.Daemon().start()
        self.addCleanup(H.stop_checked, d)
        c = d.connect()
        self.addCleanup(c.close)
        value = b"v" * 3000
        c.send(b"".join(b"ms h%d %d q\r\n%s\r\n" % (i, len(value), value)
                        for i in range(300)) + b"mn\r\n")
        self.assertEqual(c.recv_line(timeout=30), b"MN\r\n")
        for flags in (b"", b" s", b" v", b" k t q"):
            c.send(b"".join(b"mg h%d%s\r\n" % (i, flags)
                            for i in range(300)) + b"mn\r\n")
            c.recv_until(b"MN\r\n", timeout=30)
        c.send(b"".join(b"md h%d q\r\n" % i for i in range(300)) +
               b"mn\r\n")
        self.assertEqual(c.recv_line(timeout=30), b"MN\r\n")
        slabs = c.stats("slabs")
        used = {k: v for k, v in slabs.items()
                if k.endswith(":used_chunks") and v != "0"}
        self.assertEqual(used, {})
        self.assertEqual(c.stats()["curr_items"], "0")


if __name__ == "__main__":
    H.main()
