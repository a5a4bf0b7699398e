#!/usr/bin/python3
"""SASL authentication on the binary protocol (-S), with Cyrus SASL: a
sasldb made with saslpasswd2 (Debian package sasl2-bin) and a
memcached.conf found through SASL_CONF_PATH, as memcached uses them.

  /usr/bin/python3 tests/integration/test_sasl.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/integration/test_sasl.py

Every wait is bounded by a socket timeout; only 127.0.0.1 is used.
"""

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

try:
    import pylibmc
    PYLIBMC_ERROR = None
except ImportError as e:      # a failure, not a skip: CI installs it
    PYLIBMC_ERROR = e

HEADER = struct.Struct(">BBHBBHIIQ")
AUTH_ERROR, AUTH_CONTINUE = 0x20, 0x21
LIST_MECHS, AUTH, STEP = 0x20, 0x21, 0x22
GET, QUIT, NOOP, VERSION, STAT = 0x00, 0x07, 0x0a, 0x0b, 0x10
PLAIN_OK = b"\0alice\0secret"


def packet(opcode, key=b"", value=b""):
    return HEADER.pack(0x80, opcode, len(key), 0, 0, 0, len(key) + len(value),
                       0, 0) + key + value


def sasl_dir(users):
    """A SASL configuration directory for application memcached: the PLAIN
    mechanism over a sasldb of users {name: password}, readable by the
    daemon after it drops to -u nobody."""
    saslpasswd2 = H.require_tool("saslpasswd2")
    d = tempfile.mkdtemp(prefix="zeekdb-sasl-", dir="/tmp")
    db = os.path.join(d, "sasldb2")
    for name, password in users.items():
        subprocess.run([saslpasswd2, "-p", "-a", "memcached", "-c", "-f", db,
                        name], input=password.encode(), check=True,
                       timeout=30, stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "memcached.conf"), "w") as f:
        f.write("mech_list: plain\nsasldb_path: %s\n" % db)
    for p in (d, db, os.path.join(d, "memcached.conf")):
        os.chmod(p, 0o755 if p == d else 0o644)
    return d


class BinClient:
    """Raw binary protocol requests, one response each."""

    def __init__(self, daemon):
        self.c = daemon.connect()

    def close(self):
        self.c.close()

    def request(self, opcode, key=b"", value=b""):
        """(status, body) of the response, or None when the server closed
        the connection instead."""
        self.c.send(packet(opcode, key, value))
        try:
            head = self.c.recv_exact(HEADER.size)
        except H.ConnectionClosed:
            return None
        fields = HEADER.unpack(head)
        return fields[5], self.c.recv_exact(fields[6])

    def closed(self):
        return self.c.closed_by_peer(timeout=2)


class SaslDaemonCase(unittest.TestCase):
    """A daemon of the class's own with -S and one user, alice (password
    secret); tests/clients use it too."""

    @classmethod
    def setUpClass(cls):
        if H.external_addr():
            raise unittest.SkipTest("needs its own daemon; ZEEKDB_ADDR is set")
        cls.conf = sasl_dir({"alice": "secret"})
        cls.daemon = H.Daemon(["-S"], env={"SASL_CONF_PATH": cls.conf})
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        H.stop_checked(cls.daemon)
        shutil.rmtree(cls.conf, ignore_errors=True)

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])


class Sasl(SaslDaemonCase):

    def client(self):
        b = BinClient(self.daemon)
        self.addCleanup(b.close)
        return b

    def test_mechanisms(self):
        self.assertEqual(self.client().request(LIST_MECHS), (0, b"PLAIN"))

    def test_plain_then_commands(self):
        b = self.client()
        self.assertEqual(b.request(AUTH, b"PLAIN", PLAIN_OK),
                         (0, b"Authenticated"))
        self.assertEqual(b.request(NOOP), (0, b""))
        self.assertEqual(b.request(GET, b"missing-key"), (1, b"Not found"))

    def test_version_before_authentication(self):
        status, body = self.client().request(VERSION)
        self.assertEqual(status, 0)
        self.assertTrue(body)

    def test_other_commands_refused_and_closed(self):
        for opcode, key in ((GET, b"k"), (NOOP, b""), (STAT, b""),
                            (QUIT, b"")):
            b = self.client()
            self.assertEqual(b.request(opcode, key),
                             (AUTH_ERROR, b"Auth failure."), opcode)
            self.assertTrue(b.closed(), opcode)

    def test_wrong_credentials_then_right(self):
        b = self.client()
        for value in (b"\0alice\0wrong", b"\0bob\0secret", b"alice"):
            self.assertEqual(b.request(AUTH, b"PLAIN", value),
                             (AUTH_ERROR, b"Auth failure."), value)
        self.assertEqual(b.request(AUTH, b"FOO", b"x"),
                         (AUTH_ERROR, b"Auth failure."))
        self.assertEqual(b.request(STEP, b"PLAIN", PLAIN_OK),
                         (AUTH_ERROR, b"Auth failure."))
        self.assertEqual(b.request(AUTH, b"PLAIN", PLAIN_OK),
                         (0, b"Authenticated"))

    def test_empty_plain_asks_for_more(self):
        b = self.client()
        self.assertEqual(b.request(AUTH, b"PLAIN"), (AUTH_CONTINUE, b""))
        self.assertEqual(b.request(AUTH, b"PLAIN", PLAIN_OK),
                         (0, b"Authenticated"))

    def test_failed_reauthentication_locks_out(self):
        b = self.client()
        self.assertEqual(b.request(AUTH, b"PLAIN", PLAIN_OK)[0], 0)
        self.assertEqual(b.request(AUTH, b"PLAIN", b"\0alice\0no")[0],
                         AUTH_ERROR)
        self.assertEqual(b.request(NOOP), (AUTH_ERROR, b"Auth failure."))
        self.assertTrue(b.closed())

    def test_value_split_across_writes(self):
        b = self.client()
        p = packet(AUTH, b"PLAIN", PLAIN_OK)
        for i in range(len(p)):
            b.c.send(p[i:i + 1])
        head = HEADER.unpack(b.c.recv_exact(HEADER.size))
        self.assertEqual(head[5], 0)
        self.assertEqual(b.c.recv_exact(head[6]), b"Authenticated")

    def test_stats_count_exchanges(self):
        b = self.client()
        b.request(AUTH, b"PLAIN", b"\0alice\0wrong")
        b.request(AUTH, b"PLAIN", PLAIN_OK)
        # text stats are refused under -S: read them the binary way
        b.c.send(packet(STAT))
        stats = {}
        for _ in range(1000):
            head = HEADER.unpack(b.c.recv_exact(HEADER.size))
            body = b.c.recv_exact(head[6])
            if head[2] == 0:
                break
            stats[body[:head[2]].decode()] = body[head[2]:].decode()
        self.assertGreaterEqual(int(stats["auth_cmds"]), 2)
        self.assertGreaterEqual(int(stats["auth_errors"]), 1)

    def test_text_protocol_is_not_served(self):
        with self.daemon.connect() as c:
            c.send(b"version\r\n")
            try:
                got = c.recv_line(timeout=1)
            except (socket.timeout, H.ConnectionClosed,
                    ConnectionResetError):
                return
            self.fail("text answered under -S: %r" % got)

    def test_pylibmc(self):
        if PYLIBMC_ERROR is not None:
            raise H.HarnessError("pylibmc is missing (Debian package "
                                 "python3-pylibmc): %s" % PYLIBMC_ERROR)
        host = "%s:%d" % self.daemon.addr
        mc = pylibmc.Client([host], binary=True, username="alice",
                            password="secret")
        self.assertTrue(mc.set("sasl-key", b"value"))
        self.assertEqual(mc.get("sasl-key"), b"value")
        bad = pylibmc.Client([host], binary=True, username="alice",
                             password="nope")
        with self.assertRaises(pylibmc.Error):
            bad.set("sasl-key", b"other")
        self.assertEqual(mc.get("sasl-key"), b"value")


class StartUp(unittest.TestCase):

    def setUp(self):
        if H.external_addr():
            self.skipTest("starts its own daemons; ZEEKDB_ADDR is set")

    def test_text_protocol_refused(self):
        for proto in ("ascii", "auto"):
            rc, err = H.run_daemon(["-S", "-B", proto])
            self.assertNotEqual(rc, 0, proto)


if __name__ == "__main__":
    H.main()
