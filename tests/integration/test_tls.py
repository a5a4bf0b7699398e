#!/usr/bin/python3
"""TLS on the TCP listeners (-Z, -o ssl_chain_cert=...,ssl_key=...): the
whole protocol through TLS, large values both ways, a reader that stops
reading, refresh_certs, client certificates, and what -Z refuses.

  /usr/bin/python3 tests/integration/test_tls.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/integration/test_tls.py

Certificates are made for the run with the openssl tool (Debian package
openssl). Every wait is bounded by a socket timeout; only 127.0.0.1 is
used.
"""

import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

try:
    from pymemcache.client.base import Client as PyClient
    PYMEMCACHE_ERROR = None
except ImportError as e:      # a failure, not a skip: CI installs it
    PYMEMCACHE_ERROR = e


class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate,
    in a directory the daemon can read after dropping to -u nobody."""

    def __init__(self):
        self.openssl = H.require_tool("openssl")
        self.dir = tempfile.mkdtemp(prefix="zeekdb-tls-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                 "2", "-subj", "/CN=zeekdb test CA", "-keyout",
                 self.path("ca.key"), "-out", self.path("ca.crt"))
        self.server = self.issue("server", "/CN=127.0.0.1")
        self.server2 = self.issue("server2", "/CN=127.0.0.1")
        self.client = self.issue("client", "/CN=client")
        for name in os.listdir(self.dir):
            os.chmod(self.path(name), 0o644)

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, *args):
        subprocess.run([self.openssl] + list(args), check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def issue(self, name, subject):
        key, csr, crt = (self.path(name + ext)
                         for ext in (".key", ".csr", ".crt"))
        self.run("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                 "-keyout", key, "-out", csr)
        self.run("x509", "-req", "-in", csr, "-CA", self.path("ca.crt"),
                 "-CAkey", self.path("ca.key"), "-CAcreateserial", "-days",
                 "2", "-out", crt)
        return crt, key

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def tls_args(self, extra=""):
        crt, key = self.server
        return ["-Z", "-o", "ssl_chain_cert=%s,ssl_key=%s%s"
                % (crt, key, extra)]

    def context(self, cert=None, version=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.path("ca.crt"))
        ctx.check_hostname = False
        if cert is not None:
            ctx.load_cert_chain(*cert)
        if version is not None:
            ctx.maximum_version = version
        return ctx


def tls_client(daemon, ctx, timeout=H.DEFAULT_TIMEOUT):
    """A harness Client whose socket speaks TLS (handshake done)."""
    c = H.Client(daemon.addr, timeout=timeout)
    c.sock = ctx.wrap_socket(c.sock)
    return c


def fingerprint(c):
    return c.sock.getpeercert(binary_form=True)


class TlsCase(unittest.TestCase):
    extra = ""

    @classmethod
    def setUpClass(cls):
        if H.external_addr():
            raise unittest.SkipTest("needs its own daemon; ZEEKDB_ADDR is set")
        cls.pki = Pki()
        cls.daemon = H.Daemon(cls.pki.tls_args(cls.extra)).start()

    @classmethod
    def tearDownClass(cls):
        H.stop_checked(cls.daemon)
        cls.pki.cleanup()

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def client(self, **kw):
        c = tls_client(self.daemon, self.pki.context(**kw))
        self.addCleanup(c.close)
        return c


class Protocol(TlsCase):

    def test_text_and_meta(self):
        c = self.client()
        self.assertEqual(c.request(b"set k 5 0 3\r\nabc\r\n"), b"STORED\r\n")
        self.assertEqual(c.get_item(b"k"), (5, b"abc"))
        self.assertEqual(c.request(b"incr n 1\r\n"), b"NOT_FOUND\r\n")
        self.assertEqual(c.request(b"mn\r\n"), b"MN\r\n")
        c.send(b"mg k v f\r\n")
        self.assertEqual(c.recv_line(), b"VA 3 f5\r\n")
        self.assertEqual(c.recv_line(), b"abc\r\n")
        self.assertTrue(c.request(b"version\r\n").startswith(b"VERSION "))

    def test_large_values_both_ways(self):
        c = self.client()
        value = bytes(range(256)) * 4000          # ~1 MB, every byte value
        c.send(b"set big 0 0 %d\r\n%s\r\n" % (len(value), value))
        self.assertEqual(c.recv_line(), b"STORED\r\n")
        for _ in range(3):
            self.assertEqual(c.get_item(b"big"), (0, value))

    def test_pipeline_of_thousands(self):
        c = self.client()
        self.assertEqual(c.request(b"set p 0 0 1\r\nx\r\n"), b"STORED\r\n")
        n = 5000
        c.send(b"get p\r\n" * n)
        want = b"VALUE p 0 1\r\nx\r\nEND\r\n" * n
        self.assertEqual(c.recv_exact(len(want), timeout=30), want)

    def test_request_split_byte_by_byte(self):
        c = self.client()
        req = b"set s 0 0 5\r\nhello\r\n"
        for i in range(len(req)):
            c.send(req[i:i + 1])
        self.assertEqual(c.recv_line(), b"STORED\r\n")
        self.assertEqual(c.get_item(b"s"), (0, b"hello"))

    def test_reader_that_stops_reading(self):
        """Replies back up in TLS while the client reads nothing; all of
        them arrive, in order, once it reads again."""
        c = self.client()
        value = b"v" * 100000
        c.send(b"set r 0 0 %d\r\n%s\r\n" % (len(value), value))
        self.assertEqual(c.recv_line(), b"STORED\r\n")
        n = 200                                    # ~20 MB of replies
        c.sock.settimeout(10)
        c.sock.sendall(b"get r\r\n" * n)
        time.sleep(0.5)
        one = b"VALUE r 0 %d\r\n%s\r\nEND\r\n" % (len(value), value)
        # TLS hands out one record (16 KB) per recv: gather the chunks
        # rather than grow one buffer 1200 times
        chunks, got, deadline = [], 0, time.monotonic() + 60
        while got < len(one) * n and time.monotonic() < deadline:
            chunks.append(c.sock.recv(1 << 20))
            self.assertTrue(chunks[-1], "closed after %d bytes" % got)
            got += len(chunks[-1])
        self.assertEqual(b"".join(chunks), one * n)
        self.assertEqual(c.request(b"mn\r\n"), b"MN\r\n")

    def test_many_clients(self):
        clients = [self.client() for _ in range(20)]
        for i, c in enumerate(clients):
            c.send(b"set m%d 0 0 2\r\n%02d\r\n" % (i, i))
        for c in clients:
            self.assertEqual(c.recv_line(), b"STORED\r\n")
        for i, c in enumerate(clients):
            self.assertEqual(c.get_item(b"m%d" % i), (0, b"%02d" % i))

    def test_binary_protocol(self):
        c = self.client()
        noop = bytes([0x80, 0x0a]) + bytes(22)
        c.send(noop)
        head = c.recv_exact(24)
        self.assertEqual(head[:2], bytes([0x81, 0x0a]))

    def test_plain_text_client_is_dropped_and_counted(self):
        before = int(self.client().stats()["ssl_handshake_errors"])
        plain = self.daemon.connect()
        self.addCleanup(plain.close)
        plain.send(b"version\r\n")
        self.assertTrue(plain.closed_by_peer())
        self.assertTrue(H.wait_until(
            lambda: int(self.client().stats()["ssl_handshake_errors"]) >
            before, 5))

    def test_stats(self):
        c = self.client()
        s = c.stats()
        self.assertIn("ssl_handshake_errors", s)
        self.assertLess(int(s["time_since_server_cert_refresh"]), 3600)
        names = list(s)
        self.assertEqual(names.index("time_since_server_cert_refresh"),
                         names.index("ssl_handshake_errors") + 1)
        settings = c.stats("settings")
        crt, key = self.pki.server
        self.assertEqual(settings["ssl_enabled"], "yes")
        self.assertEqual(settings["ssl_chain_cert"], crt)
        self.assertEqual(settings["ssl_key"], key)
        self.assertEqual(settings["ssl_verify_mode"], "0")
        self.assertEqual(settings["ssl_ca_cert"], "NULL")
        self.assertEqual(settings["ssl_wbuf_size"], "16384")
        self.assertEqual(settings["ssl_min_version"], "tlsv1.2")

    def test_pymemcache(self):
        if PYMEMCACHE_ERROR is not None:
            raise H.HarnessError("pymemcache is missing (Debian package "
                                 "python3-pymemcache): %s" % PYMEMCACHE_ERROR)
        mc = PyClient(self.daemon.addr, connect_timeout=5, timeout=10,
                      tls_context=self.pki.context(), default_noreply=False)
        self.addCleanup(mc.close)
        self.assertTrue(mc.set("py", b"through tls"))
        self.assertEqual(mc.get("py"), b"through tls")
        self.assertEqual(mc.get_many(["py", "none"]), {"py": b"through tls"})


class Refresh(TlsCase):
    """refresh_certs loads the files again, for new connections only."""

    def test_refresh_certs(self):
        crt, key = self.pki.server
        first = self.client()
        old = fingerprint(first)
        shutil.copy(crt, crt + ".orig")
        shutil.copy(key, key + ".orig")
        self.addCleanup(lambda: (os.replace(crt + ".orig", crt),
                                 os.replace(key + ".orig", key)))
        shutil.copy(self.pki.server2[0], crt)
        shutil.copy(self.pki.server2[1], key)
        self.assertEqual(first.request(b"refresh_certs\r\n"), b"OK\r\n")
        second = self.client()
        self.assertNotEqual(fingerprint(second), old)
        # the connection made before goes on with its session
        self.assertEqual(first.request(b"mn\r\n"), b"MN\r\n")

    def test_refresh_failure_keeps_the_certificate(self):
        if not H.is_zeekdb():
            self.skipTest("memcached 1.6.18 refuses every handshake after a "
                          "refresh_certs that failed")
        c = self.client()
        before = fingerprint(c)
        crt, key = self.pki.server
        os.rename(key, key + ".away")
        self.addCleanup(os.rename, key + ".away", key)
        reply = c.request(b"refresh_certs\r\n")
        self.assertTrue(reply.startswith(b"Error loading the key: %s : "
                                         % key.encode()), reply)
        self.assertEqual(fingerprint(self.client()), before)


class ClientCertificates(TlsCase):
    """ssl_verify_mode=2 with ssl_ca_cert: no certificate, no session."""

    @classmethod
    def setUpClass(cls):
        if H.external_addr():
            raise unittest.SkipTest("needs its own daemon; ZEEKDB_ADDR is set")
        cls.pki = Pki()
        cls.daemon = H.Daemon(cls.pki.tls_args(
            ",ssl_verify_mode=2,ssl_ca_cert=%s" % cls.pki.path("ca.crt")))
        cls.daemon.start()

    def test_with_certificate(self):
        c = self.client(cert=self.pki.client)
        self.assertEqual(c.request(b"mn\r\n"), b"MN\r\n")

    def test_without_certificate(self):
        # TLS 1.3 finishes the client's side of the handshake before the
        # server has looked at the certificate: the refusal comes next
        try:
            c = self.client()
            c.send(b"mn\r\n")
            got = c.recv_line()
        except (ssl.SSLError, OSError, H.ConnectionClosed):
            return
        self.fail("served without a client certificate: %r" % got)


class MinVersion(TlsCase):
    extra = ",ssl_min_version=3"

    def test_tls12_refused(self):
        with self.assertRaises((ssl.SSLError, OSError)):
            self.client(version=ssl.TLSVersion.TLSv1_2)
        c = self.client()
        self.assertEqual(c.sock.version(), "TLSv1.3")


class Plain(unittest.TestCase):
    """Without -Z there is no TLS; with it, a unix socket stays plain."""

    def test_refresh_certs_without_tls(self):
        if H.external_addr():
            self.skipTest("needs its own daemon; ZEEKDB_ADDR is set")
        d = H.Daemon().start()
        self.addCleanup(H.stop_checked, d)
        with d.connect() as c:
            self.assertEqual(c.request(b"refresh_certs\r\n"),
                             b"Error TLS not enabled\r\n")

    def test_notls_listener(self):
        """-l notls:ADDR:PORT: that listener stays plain under -Z."""
        if H.external_addr():
            self.skipTest("needs its own daemon; ZEEKDB_ADDR is set")
        pki = Pki()
        self.addCleanup(pki.cleanup)
        plain_port = H.free_port()
        d = H.Daemon(pki.tls_args() + ["-l", "notls:%s:%d" % (H.HOST,
                                                             plain_port)])
        d.start()
        self.addCleanup(H.stop_checked, d)
        with H.Client((H.HOST, plain_port)) as plain:
            self.assertEqual(plain.request(b"mn\r\n"), b"MN\r\n")
        c = tls_client(d, pki.context())
        self.addCleanup(c.close)
        self.assertEqual(c.request(b"mn\r\n"), b"MN\r\n")

    def test_authentication_over_tls(self):
        """-Y and -Z together: the token goes through TLS."""
        if H.external_addr():
            self.skipTest("needs its own daemon; ZEEKDB_ADDR is set")
        pki = Pki()
        self.addCleanup(pki.cleanup)
        users = H.users_file(b"alice:secret\n")
        self.addCleanup(os.unlink, users)
        d = H.Daemon(pki.tls_args() + ["-Y", users]).start()
        self.addCleanup(H.stop_checked, d)
        c = tls_client(d, pki.context())
        self.addCleanup(c.close)
        self.assertEqual(c.request(b"mn\r\n"),
                         b"CLIENT_ERROR unauthenticated\r\n")
        self.assertEqual(c.request(b"set a 0 0 12\r\nalice secret\r\n"),
                         b"STORED\r\n")
        self.assertEqual(c.request(b"mn\r\n"), b"MN\r\n")

    def test_unix_socket_is_plain(self):
        if H.external_addr():
            self.skipTest("needs its own daemon; ZEEKDB_ADDR is set")
        pki = Pki()
        self.addCleanup(pki.cleanup)
        # in /tmp: memcached makes it after dropping to -u nobody
        path = "/tmp/zeekdb-tls-test-%d.sock" % os.getpid()
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        s = H.unix_daemon(self, path, pki.tls_args())
        s.sendall(b"mn\r\n")
        self.assertEqual(s.recv(100), b"MN\r\n")


class StartUp(unittest.TestCase):

    def setUp(self):
        if H.external_addr():
            self.skipTest("starts its own daemons; ZEEKDB_ADDR is set")
        self.pki = Pki()
        self.addCleanup(self.pki.cleanup)

    def test_no_certificate(self):
        rc, err = H.run_daemon(["-Z"])
        self.assertNotEqual(rc, 0)

    def test_missing_certificate(self):
        rc, err = H.run_daemon(["-Z", "-o", "ssl_chain_cert=/nonexistent"])
        self.assertNotEqual(rc, 0)
        self.assertIn("/nonexistent", err)

    def test_notls_without_tls(self):
        rc, err = H.run_daemon(["-l", "notls:%s:%d" % (H.HOST, H.free_port())])
        self.assertNotEqual(rc, 0)
        self.assertIn("notls", err)

    def test_key_of_another_certificate(self):
        crt, _ = self.pki.server
        _, key = self.pki.server2
        rc, err = H.run_daemon(
            ["-Z", "-o", "ssl_chain_cert=%s,ssl_key=%s" % (crt, key)])
        self.assertNotEqual(rc, 0)


if __name__ == "__main__":
    H.main()
