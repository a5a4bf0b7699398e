#!/usr/bin/python3
"""Text protocol authentication (-Y FILE): a connection must first send a
set whose data block is "<user> <password>", from a file of user:password
lines that SIGHUP reloads; before that every request is refused.

  /usr/bin/python3 tests/integration/test_auth.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/integration/test_auth.py

Every wait is bounded by a socket timeout; only 127.0.0.1 is used.
"""

import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

UNAUTH = b"CLIENT_ERROR unauthenticated\r\n"
FAILED = b"CLIENT_ERROR authentication failure\r\n"
BAD_FORMAT = b"CLIENT_ERROR bad authentication token format\r\n"
BAD_TERM = b"CLIENT_ERROR bad command line termination\r\n"


def token(user, password, key=b"auth"):
    data = user + b" " + password
    return b"set %s 0 0 %d\r\n%s\r\n" % (key, len(data), data)


class AuthFileDaemonCase(unittest.TestCase):
    """A daemon of the class's own with -Y and the users (the file's
    bytes) the class names; tests/clients use it too."""

    users = b""

    @classmethod
    def setUpClass(cls):
        if H.external_addr():
            raise unittest.SkipTest("needs its own daemon; ZEEKDB_ADDR is set")
        cls.path = H.users_file(cls.users)
        cls.daemon = H.Daemon(["-Y", cls.path]).start()

    @classmethod
    def tearDownClass(cls):
        H.stop_checked(cls.daemon)
        os.unlink(cls.path)


class Auth(AuthFileDaemonCase):

    users = b"alice:secret\nbob:pw:with:colons\n"

    def setUp(self):
        self.c = self.daemon.connect()
        self.addCleanup(self.c.close)

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def login(self, c, user=b"alice", password=b"secret"):
        self.assertEqual(c.request(token(user, password)), b"STORED\r\n")

    def test_every_request_refused_until_authenticated(self):
        for req in (b"get foo\r\n", b"version\r\n", b"stats\r\n",
                    b"quit\r\n", b"mn\r\n", b"ms k 2\r\n", b"\r\n",
                    b"add k 0 0 12\r\n", b"set k 0 0\r\n",
                    b"set k 0 0 -1\r\n", b"flush_all\r\n"):
            self.assertEqual(self.c.request(req), UNAUTH, req)
        # still open, and a token still works on it
        self.login(self.c)
        self.assertEqual(self.c.request(b"version\r\n")[:8], b"VERSION ")

    def test_token_then_the_whole_protocol(self):
        self.login(self.c)
        self.assertEqual(self.c.request(b"set k 0 0 1\r\nv\r\n"),
                         b"STORED\r\n")
        self.assertEqual(self.c.get_item(b"k"), (0, b"v"))
        self.assertEqual(self.c.request(b"mn\r\n"), b"MN\r\n")
        # once in, a set is a set again, whatever its data looks like
        self.assertEqual(self.c.request(token(b"alice", b"wrong", b"k")),
                         b"STORED\r\n")
        self.assertEqual(self.c.get_item(b"k"), (0, b"alice wrong"))

    def test_the_token_is_not_stored(self):
        self.login(self.c)
        self.assertIsNone(self.c.get_item(b"auth"))

    def test_key_flags_exptime_and_noreply_are_ignored(self):
        data = b"bob pw:with:colons"
        req = b"set any 99 -1 %d noreply\r\n%s\r\n" % (len(data), data)
        self.assertEqual(self.c.request(req), b"STORED\r\n")

    def test_wrong_password_then_right_one(self):
        self.assertEqual(self.c.request(token(b"alice", b"secrex")), FAILED)
        self.assertEqual(self.c.request(token(b"alice", b"secre")), FAILED)
        self.assertEqual(self.c.request(token(b"carol", b"secret")), FAILED)
        self.assertEqual(self.c.request(token(b"Alice", b"secret")), FAILED)
        self.assertEqual(self.c.request(b"get k\r\n"), UNAUTH)
        self.login(self.c)

    def test_malformed_tokens(self):
        self.assertEqual(self.c.request(b"set a 0 0 5\r\nalice\r\n"),
                         BAD_FORMAT)
        self.assertEqual(self.c.request(b"set a 0 0 12\r\nalice\tsecret\r\n"),
                         BAD_FORMAT)
        self.assertEqual(self.c.request(b"set a 0 0 12\r\nalice secretXX"),
                         BAD_TERM)
        self.login(self.c)

    def test_token_split_across_writes(self):
        req = token(b"alice", b"secret")
        for i in range(len(req)):
            self.c.send(req[i:i + 1])
        self.assertEqual(self.c.recv_line(), b"STORED\r\n")

    def test_pipelined_requests_each_answered(self):
        if not H.is_zeekdb():
            self.skipTest("memcached 1.6.18 answers only the last request "
                          "of a read before authentication")
        self.c.send(b"get a\r\n" + token(b"alice", b"bad") + b"version\r\n" +
                    token(b"alice", b"secret") + b"mn\r\n")
        self.assertEqual(self.c.recv_line(), UNAUTH)
        self.assertEqual(self.c.recv_line(), FAILED)
        self.assertEqual(self.c.recv_line(), UNAUTH)
        self.assertEqual(self.c.recv_line(), b"STORED\r\n")
        self.assertEqual(self.c.recv_line(), b"MN\r\n")

    def test_binary_request_is_text_before_authentication(self):
        header = bytes([0x80, 0x0a]) + bytes(22)   # binary noop
        self.assertEqual(self.c.request(header + b"\r\n"), UNAUTH)

    def test_junk_without_line_end_closes(self):
        self.c.send(b"x" * 1500)
        self.assertEqual(self.c.request(b"\r\n"), UNAUTH)
        self.c.send(b"x" * 2100)
        self.assertTrue(self.c.closed_by_peer())

    def test_token_too_large_closes(self):
        n = 16382
        data = b"alice secret " + b"a" * (n - 13)
        self.c.send(b"set a 0 0 %d\r\n%s\r\n" % (n, data))
        self.assertEqual(self.c.recv_line(), b"STORED\r\n")
        c2 = self.daemon.connect()
        self.addCleanup(c2.close)
        try:     # memcached hangs up once the block overflows its buffer
            c2.send(b"set a 0 0 %d\r\n%s\r\n" % (n + 1, data + b"a"))
        except (BrokenPipeError, ConnectionResetError):
            return
        self.assertTrue(c2.closed_by_peer())

    def test_stats_count_checked_tokens(self):
        other = self.daemon.connect()
        self.addCleanup(other.close)
        self.login(other)
        before = other.stats()
        self.assertEqual(self.c.request(token(b"alice", b"nope")), FAILED)
        self.assertEqual(self.c.request(b"get k\r\n"), UNAUTH)
        self.assertEqual(self.c.request(b"set a 0 0 1\r\nx\r\n"), BAD_FORMAT)
        self.login(self.c)
        after = other.stats()
        self.assertEqual(int(after["auth_cmds"]) - int(before["auth_cmds"]), 2)
        self.assertEqual(
            int(after["auth_errors"]) - int(before["auth_errors"]), 1)

    def test_stats_settings(self):
        self.login(self.c)
        s = self.c.stats("settings")
        self.assertEqual(s["auth_enabled_ascii"], self.path)
        self.assertEqual(s["auth_enabled_sasl"], "no")
        self.assertEqual(s["binding_protocol"], "ascii")


class Reload(unittest.TestCase):
    """SIGHUP reads the file again; a file that cannot be read or parsed
    leaves the users loaded before."""

    def setUp(self):
        if H.external_addr():
            self.skipTest("needs its own daemon; ZEEKDB_ADDR is set")
        self.path = H.users_file(b"alice:one\n")
        self.addCleanup(lambda: os.path.exists(self.path) and
                        os.unlink(self.path))
        self.daemon = H.Daemon(["-Y", self.path]).start()
        self.addCleanup(H.stop_checked, self.daemon)
        # Its listeners take connections before it has read the file
        # (after -u): a test must not change the file before then.
        self.assertTrue(H.wait_until(
            lambda: self.answer(b"alice", b"one") == b"STORED\r\n", 10))

    def answer(self, user, password):
        with self.daemon.connect() as c:
            return c.request(token(user, password))

    def reloaded(self, user, password):
        self.daemon.signal(signal.SIGHUP)
        return H.wait_until(
            lambda: self.answer(user, password) == b"STORED\r\n", 10)

    def test_reload_replaces_users(self):
        self.assertEqual(self.answer(b"alice", b"one"), b"STORED\r\n")
        H.write_users(self.path, b"alice:two\ncarol:three\n")
        self.assertTrue(self.reloaded(b"alice", b"two"))
        self.assertEqual(self.answer(b"alice", b"one"), FAILED)
        self.assertEqual(self.answer(b"carol", b"three"), b"STORED\r\n")

    def test_logins_during_reloads(self):
        """Workers check tokens while the main thread swaps the users in:
        every answer is one of the two files' (run under TSan in CI)."""
        H.write_users(self.path, b"alice:one\nbob:two\n")
        errors = []

        def logins():
            try:
                for _ in range(40):
                    a = self.answer(b"alice", b"one")
                    if a != b"STORED\r\n":
                        errors.append(a)
            except Exception as e:     # reported below, not lost
                errors.append(repr(e))

        threads = [threading.Thread(target=logins) for _ in range(4)]
        for t in threads:
            t.start()
        for i in range(20):
            H.write_users(self.path, b"alice:one\n" if i % 2 else
                        b"alice:one\nbob:two\n")
            self.daemon.signal(signal.SIGHUP)
            time.sleep(0.01)
        for t in threads:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])
        self.assertTrue(self.daemon.alive())

    def test_bad_file_keeps_users(self):
        for bad in (b"alice:two\nno colon here\n", None):
            if bad is None:
                os.unlink(self.path)
            else:
                H.write_users(self.path, bad)
            self.daemon.signal(signal.SIGHUP)
            if H.is_zeekdb():
                self.assertTrue(H.wait_until(
                    lambda: self.daemon.stderr().count("keeping the users")
                    == (1 if bad else 2), 10), self.daemon.stderr())
            else:
                time.sleep(1.5)    # memcached reloads on its 1 s clock tick
            self.assertEqual(self.answer(b"alice", b"one"), b"STORED\r\n")
            self.assertEqual(self.answer(b"alice", b"two"), FAILED)
        H.write_users(self.path, b"alice:two\n")
        self.assertTrue(self.reloaded(b"alice", b"two"))


class StartUp(unittest.TestCase):
    """What -Y refuses to start with."""

    def setUp(self):
        if H.external_addr():
            self.skipTest("starts its own daemons; ZEEKDB_ADDR is set")
        self.path = H.users_file(b"alice:secret\n")
        self.addCleanup(os.unlink, self.path)

    def test_binary_protocol_refused(self):
        for proto in ("binary", "auto"):
            rc, err = H.run_daemon(["-Y", self.path, "-B", proto])
            self.assertNotEqual(rc, 0)
            self.assertIn("BINARY" if not H.is_zeekdb() else "binary", err)

    def test_udp_refused(self):
        rc, err = H.run_daemon(["-Y", self.path, "-U",
                                   str(H.free_port())])
        self.assertNotEqual(rc, 0)
        self.assertIn("UDP", err)

    def test_missing_file_refused(self):
        rc, err = H.run_daemon(["-Y", self.path + ".missing"])
        self.assertNotEqual(rc, 0)
        self.assertIn(self.path + ".missing", err)

    def test_malformed_file_refused(self):
        H.write_users(self.path, b"alice:secret\nnocolon\n")
        rc, err = H.run_daemon(["-Y", self.path])
        self.assertNotEqual(rc, 0)
        self.assertIn("malformed", err)


if __name__ == "__main__":
    H.main()
