#!/usr/bin/python3
"""twemproxy (Debian nutcracker) in front of three daemons under test,
each key placed by ketama over md5: the proxy parses every reply, so
a reply framed even slightly differently from memcached's breaks it.

  /usr/bin/python3 tests/clients/test_twemproxy.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_twemproxy.py

nutcracker 0.5 forwards get, gets, set, add, replace, append, prepend,
cas, incr, decr, touch, delete and version, and closes the client's
connection on anything else (gat, stats, flush_all, meta commands). It
keeps one connection to each backend and pipelines every client's
requests over it, splitting a multi-key get by backend and merging the
replies back in the order of the keys. Tests reach the backends directly
for what the proxy does not forward (flush_all, stats) and to see where
a key was placed.
"""

import os
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

BACKENDS = 3
KEYS = 300
CLIENT_THREADS = 8
ROUNDS = 150                  # pipelined batches per client thread
RECONNECT_WAIT = 10.0         # seconds for the proxy to find a restarted backend
LOOKALIKE = b"x\r\nEND\r\nVALUE k 0 1\r\ny\r\n"

class Proxy(H.ThirdPartyServer):
    """nutcracker, its stats port too, with the daemons as its one pool.
    auto_eject_hosts is off, so a key stays on its backend while that
    backend restarts."""

    def __init__(self, daemons, workdir):
        self.daemons = daemons
        self.workdir = workdir
        super().__init__("nutcracker", self._command,
                         os.path.join(workdir, "nutcracker.log"))

    def _config(self, port):
        servers = "".join("   - %s:%d:1 node%d\n" % (d.addr + (i,))
                          for i, d in enumerate(self.daemons))
        path = os.path.join(self.workdir, "nutcracker.yml")
        with open(path, "w") as f:
            f.write("pool:\n"
                    "  listen: %s:%d\n"
                    "  hash: md5\n"
                    "  distribution: ketama\n"
                    "  timeout: 3000\n"
                    "  preconnect: false\n"
                    "  auto_eject_hosts: false\n"
                    "  server_retry_timeout: 200\n"
                    "  server_connections: 1\n"
                    "  servers:\n%s" % (H.HOST, port, servers))
        return path

    def _command(self, port):
        # a missing binary is a failure: CI installs Debian's nutcracker
        return [H.require_tool("/usr/sbin/nutcracker"), "-c",
                self._config(port), "-s", str(H.free_port()), "-a", H.HOST,
                "-o", self.log, "-v", "4"]


def blocks(reply):
    """The value blocks of a retrieval reply, read by their announced
    lengths, as (key, flags, data, cas or None); the reply must end with
    its one END."""
    out = []
    rest = reply
    for _ in range(100000):
        line, _, rest = rest.partition(b"\r\n")
        if line == b"END":
            if rest:
                raise AssertionError("bytes after END: %r" % rest[:100])
            return out
        f = line.split()
        if f[0] != b"VALUE" or len(f) not in (4, 5):
            raise AssertionError("not a VALUE line: %r" % line[:100])
        n = int(f[3])
        if rest[n:n + 2] != b"\r\n":
            raise AssertionError("value of %r not ended by CRLF" % f[1])
        out.append((f[1], int(f[2]), rest[:n],
                    int(f[4]) if len(f) == 5 else None))
        rest = rest[n + 2:]
    raise AssertionError("too many values")


def value_of(i):
    """Distinct values of many sizes, every one with bytes a careless
    framer would take for protocol."""
    return (b"v%d:" % i) + LOOKALIKE * (i % 4) + bytes(range(i % 256))


class Twemproxy(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if H.external_addr():
            raise unittest.SkipTest("needs three daemons of its own; "
                                    "ZEEKDB_ADDR is set")
        cls.tmp = tempfile.TemporaryDirectory(prefix="zeekdb-twem-")
        os.chmod(cls.tmp.name, 0o777)   # the daemons may run as nobody
        cls.daemons = []
        for i in range(BACKENDS):
            args = []
            if H.is_zeekdb():   # snapshots: a restarted backend comes back warm
                args = ["-o", "snapshot_path=%s/node%d.snap,snapshot_interval=0"
                        % (cls.tmp.name, i)]
            cls.daemons.append(H.Daemon(args).start())
        cls.proxy = Proxy(cls.daemons, cls.tmp.name).start()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for d in cls.daemons:
            H.stop_checked(d)
        cls.tmp.cleanup()

    def setUp(self):
        for d in self.daemons:
            with d.connect() as c:
                self.assertEqual(c.request(b"flush_all\r\n"), b"OK\r\n")
        self.c = self.proxy.connect()
        self.addCleanup(self.c.close)

    def tearDown(self):
        self.assertTrue(self.proxy.alive(), self.proxy.log_text())
        for d in self.daemons:
            self.assertTrue(d.alive(), d.stderr()[-4000:])

    # helpers ----------------------------------------------------------------
    def set_all(self, n, flags=7):
        """Store keys k:0..k:n-1 through the proxy in one pipelined write."""
        batch = b"".join(b"set k:%d %d 0 %d\r\n%s\r\n"
                         % (i, flags, len(value_of(i)), value_of(i))
                         for i in range(n))
        self.c.send(batch)
        for i in range(n):
            self.assertEqual(self.c.recv_line(), b"STORED\r\n", i)

    def homes(self, key):
        """Indexes of the backends holding key, asked directly."""
        found = []
        for i, d in enumerate(self.daemons):
            with d.connect() as c:
                if c.get_item(key) is not None:
                    found.append(i)
        return found

    def req(self, data):
        return self.c.request(data)

    # tests -----------------------------------------------------------------
    def test_keys_spread_over_every_backend_each_on_one(self):
        self.set_all(KEYS)
        per_backend = [0] * BACKENDS
        for i in range(KEYS):
            homes = self.homes(b"k:%d" % i)
            self.assertEqual(len(homes), 1, (i, homes))
            per_backend[homes[0]] += 1
        # 300 keys over three equal ketama nodes: each gets about 100
        self.assertTrue(all(n >= 30 for n in per_backend), per_backend)

    def test_multiget_across_backends_is_merged_into_one_reply(self):
        # nutcracker 0.5 does not keep the keys' order when it merges the
        # backends' replies (the same with memcached behind it), so the
        # blocks are compared as a multiset
        self.set_all(KEYS)
        keys = [b"k:%d" % i for i in range(0, KEYS, 3)] + [b"missing:1"] + \
               [b"k:%d" % i for i in range(KEYS - 1, 0, -7)] + [b"missing:2"]
        want = sorted((k, 7, value_of(int(k[2:])), None)
                      for k in keys if k.startswith(b"k:"))
        self.c.send(b"get " + b" ".join(keys) + b"\r\n")
        self.assertEqual(sorted(blocks(self.c.recv_retrieval())), want)

    def test_gets_tokens_are_each_backends_own_and_cas_uses_them(self):
        self.set_all(30)
        keys = [b"k:%d" % i for i in range(30)]
        self.c.send(b"gets " + b" ".join(keys) + b"\r\n")
        tokens = {k: cas for k, _, _, cas in blocks(self.c.recv_retrieval())}
        self.assertEqual(sorted(tokens), sorted(keys))
        for k in keys[:10]:
            d = self.daemons[self.homes(k)[0]]
            with d.connect() as direct:
                direct.send(b"gets %s\r\n" % k)
                (_, _, _, cas), = blocks(direct.recv_retrieval())
                self.assertEqual(cas, tokens[k], k)
        k = keys[0]
        cas = b"cas %s 1 0 3 %d\r\nnew\r\n"
        self.assertEqual(self.req(cas % (k, tokens[k])), b"STORED\r\n")
        self.assertEqual(self.req(cas % (k, tokens[k])), b"EXISTS\r\n")
        self.assertEqual(self.req(cas % (b"missing", 1)), b"NOT_FOUND\r\n")
        self.assertEqual(self.c.get_item(k), (1, b"new"))

    def test_every_forwarded_command_replies_as_memcached(self):
        exchanges = [
            (b"add a 1 0 1\r\nA\r\n", b"STORED\r\n"),
            (b"add a 1 0 1\r\nB\r\n", b"NOT_STORED\r\n"),
            (b"replace nope 0 0 1\r\nx\r\n", b"NOT_STORED\r\n"),
            (b"replace a 2 0 2\r\nAA\r\n", b"STORED\r\n"),
            (b"append a 0 0 1\r\n>\r\n", b"STORED\r\n"),
            (b"prepend a 0 0 1\r\n<\r\n", b"STORED\r\n"),
            (b"append nope 0 0 1\r\nx\r\n", b"NOT_STORED\r\n"),
            (b"get a\r\n", b"VALUE a 2 4\r\n<AA>\r\nEND\r\n"),
            (b"set n 0 0 2\r\n10\r\n", b"STORED\r\n"),
            (b"incr n 5\r\n", b"15\r\n"),
            (b"decr n 100\r\n", b"0\r\n"),
            (b"incr n 18446744073709551615\r\n", b"18446744073709551615\r\n"),
            (b"incr n 1\r\n", b"0\r\n"),
            (b"incr a 1\r\n", b"CLIENT_ERROR cannot increment or decrement "
                              b"non-numeric value\r\n"),
            (b"incr nope 1\r\n", b"NOT_FOUND\r\n"),
            (b"touch a 100\r\n", b"TOUCHED\r\n"),
            (b"touch nope 100\r\n", b"NOT_FOUND\r\n"),
            (b"delete a\r\n", b"DELETED\r\n"),
            (b"delete a\r\n", b"NOT_FOUND\r\n"),
            (b"get a\r\n", b"END\r\n"),
        ]
        for data, want in exchanges:
            self.c.send(data)
            got = self.c.recv_retrieval() if data.startswith(b"get ") \
                else self.c.recv_line()
            self.assertEqual(got, want, data)
        self.assertTrue(self.req(b"version\r\n").startswith(b"VERSION "))

    def test_noreply_commands_take_effect_and_send_nothing(self):
        self.c.send(b"set q 3 0 2 noreply\r\nhi\r\n"
                    b"append q 0 0 1 noreply\r\n!\r\n"
                    b"set n 0 0 1 noreply\r\n5\r\n"
                    b"incr n 2 noreply\r\n"
                    b"delete gone noreply\r\n"
                    b"get q n\r\n")
        self.assertEqual(self.c.recv_retrieval(),
                         b"VALUE q 3 3\r\nhi!\r\nVALUE n 0 1\r\n7\r\nEND\r\n")

    def test_empty_large_and_too_large_values(self):
        big = bytes(range(256)) * (900 * 1024 // 256)
        for key, data in ((b"empty", b""), (b"one", b"\n"), (b"big", big)):
            self.assertEqual(self.req(b"set %s 0 0 %d\r\n%s\r\n"
                                      % (key, len(data), data)),
                             b"STORED\r\n", key)
            self.assertEqual(self.c.get_item(key), (0, data), key)
        huge = b"h" * (2 * 1024 * 1024)
        self.assertEqual(self.req(b"set huge 0 0 %d\r\n%s\r\n"
                                  % (len(huge), huge)),
                         b"SERVER_ERROR object too large for cache\r\n")
        # the proxy's connection to that backend is still in step
        self.assertIsNone(self.c.get_item(b"huge"))
        self.assertEqual(self.c.get_item(b"big"), (0, big))

    def test_longest_key_passes_through(self):
        key = b"K" * 250
        self.assertEqual(self.req(b"set %s 0 0 1\r\nv\r\n" % key), b"STORED\r\n")
        self.assertEqual(self.c.get_item(key), (0, b"v"))
        self.assertEqual(self.homes(key).__len__(), 1)

    def test_many_clients_pipelined_over_one_backend_connection(self):
        errors = []

        def client(t):
            try:
                with self.proxy.connect() as c:
                    for r in range(ROUNDS):
                        v = b"t%d-r%d" % (t, r)
                        c.send(b"set c:%d:%d 0 0 %d\r\n%s\r\n"
                               b"incr ctr:%d 1\r\n"
                               b"get c:%d:%d ctr:%d\r\n"
                               % (t, r % 10, len(v), v, t, t, r % 10, t))
                        self.assertEqual(c.recv_line(), b"STORED\r\n")
                        got = c.recv_line()
                        if r == 0:
                            self.assertEqual(got, b"NOT_FOUND\r\n")
                            c.send(b"set ctr:%d 0 0 1\r\n0\r\n" % t)
                        else:
                            self.assertEqual(got, b"%d\r\n" % r)
                        rest = c.recv_retrieval()
                        if r == 0:
                            self.assertEqual(c.recv_line(), b"STORED\r\n")
                        want = b"VALUE c:%d:%d 0 %d\r\n%s\r\n" % (
                            t, r % 10, len(v), v)
                        self.assertTrue(rest.startswith(want), rest)
            except Exception as e:  # reported by the main thread
                errors.append((t, repr(e)))

        threads = [threading.Thread(target=client, args=(t,))
                   for t in range(CLIENT_THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        self.assertFalse(any(th.is_alive() for th in threads), "client hung")
        self.assertEqual(errors, [])
        for t in range(CLIENT_THREADS):
            self.assertEqual(self.req(b"incr ctr:%d 0\r\n" % t),
                             b"%d\r\n" % (ROUNDS - 1), t)
        # every client went through the proxy's single connection per
        # backend: each backend saw at most that one, plus this test's
        for d in self.daemons:
            with d.connect() as c:
                self.assertLessEqual(int(c.stats()["curr_connections"]), 3)

    def test_restarted_backend_is_found_again(self):
        """SIGTERM one backend and start it on the same port: the proxy
        reconnects, and (zeekdb, with a snapshot) the keys are back."""
        self.set_all(60)
        home = [self.homes(b"k:%d" % i) for i in range(60)]
        node = max(range(BACKENDS), key=lambda n: home.count([n]))
        on_node = [i for i in range(60) if home[i] == [node]]
        self.assertTrue(on_node)
        self.assertEqual(self.daemons[node].restart(), 0)

        def served():
            try:
                with self.proxy.connect() as c:
                    c.send(b"get k:%d\r\n" % on_node[0])
                    return c.recv_retrieval().endswith(b"END\r\n")
            except (OSError, H.ConnectionClosed):
                return False
        self.assertTrue(H.wait_until(served, RECONNECT_WAIT, 0.1),
                        self.proxy.log_text())
        with self.proxy.connect() as c:
            for i in on_node:
                got = c.get_item(b"k:%d" % i)
                if H.is_zeekdb():
                    self.assertEqual(got, (7, value_of(i)), i)
                else:   # memcached 1.6.18 restarts empty
                    self.assertIsNone(got, i)
            i = on_node[0]
            self.assertEqual(c.request(b"set k:%d 0 0 1\r\nz\r\n" % i),
                             b"STORED\r\n")
            self.assertEqual(c.get_item(b"k:%d" % i), (0, b"z"))
        self.assertEqual(self.homes(b"k:%d" % on_node[0]), [node])


if __name__ == "__main__":
    H.main()
