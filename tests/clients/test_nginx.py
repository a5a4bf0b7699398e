#!/usr/bin/python3
"""nginx's memcached module (Debian nginx-light) serving pages out of the
daemon under test: the way many sites put a cache in front of their
application, with the application writing pages and nginx reading them.

  /usr/bin/python3 tests/clients/test_nginx.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_nginx.py

For each request nginx sends "get <key>" (the key escaped by nginx) and
reads one "VALUE <key> <flags> <bytes>" block by its length up to the
"END" that must follow it: a reply framed differently, a key echoed
differently or a value one byte off is an error page. A miss is a 404.
memcached_gzip_flag marks values whose client flags have that bit as
gzipped. One location reaches the daemon through an upstream that keeps
its connections, so many requests share one.
"""

import gzip
import http.client
import os
import shutil
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

HTTP_TIMEOUT = 10.0
CLIENT_THREADS = 8
REQUESTS_PER_THREAD = 50
GZIP_FLAG = 2

CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log info;
events { worker_connections 128; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    upstream cache {
        server %(daemon)s;
        keepalive 4;
    }
    server {
        listen %(host)s:%(port)d;
        default_type text/plain;
        location /page/ {
            set $memcached_key "$uri";
            memcached_gzip_flag %(gzip_flag)d;
            memcached_pass %(daemon)s;
        }
        location /kept/ {
            set $memcached_key "$uri";
            memcached_pass cache;
        }
        location /app/ {
            set $memcached_key "$uri";
            memcached_pass %(daemon)s;
            error_page 404 = @application;
        }
        location @application {
            return 200 "rendered by the application\\n";
        }
    }
}
"""


class Nginx(H.ThirdPartyServer):
    """nginx in one process, everything it writes kept in workdir."""

    def __init__(self, daemon, workdir):
        self.daemon = daemon
        self.workdir = workdir
        super().__init__("nginx", self._command,
                         os.path.join(workdir, "error.log"))

    def _command(self, port):
        conf = os.path.join(self.workdir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONFIG % {
                "dir": self.workdir, "host": H.HOST, "port": port,
                "daemon": "%s:%d" % self.daemon.addr,
                "gzip_flag": GZIP_FLAG})
        return [H.require_tool("/usr/sbin/nginx"), "-p", self.workdir,
                "-c", conf, "-e", self.log]

    def fetch(self, path):
        """(status, headers, body) of GET path."""
        conn = http.client.HTTPConnection(H.HOST, self.port,
                                          timeout=HTTP_TIMEOUT)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()


class NginxMemcachedModule(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zeekdb-nginx-")
        cls.daemon = H.Daemon().start()
        cls.nginx = Nginx(cls.daemon, cls.tmp).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        H.stop_checked(cls.daemon)
        shutil.rmtree(cls.tmp, True)

    def setUp(self):
        self.c = self.daemon.connect()
        self.addCleanup(self.c.close)
        self.assertEqual(self.c.request(b"flush_all\r\n"), b"OK\r\n")

    def tearDown(self):
        self.assertTrue(self.nginx.alive(), self.nginx.log_text())
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def store(self, key, value, flags=0, exptime=0):
        self.assertEqual(
            self.c.request(b"set %s %d %d %d\r\n%s\r\n"
                           % (key, flags, exptime, len(value), value)),
            b"STORED\r\n")

    def test_page_served_from_the_cache(self):
        self.store(b"/page/home", b"<html>home</html>\n")
        status, headers, body = self.nginx.fetch("/page/home")
        self.assertEqual((status, body), (200, b"<html>home</html>\n"))
        self.assertEqual(headers.get("Content-Type"), "text/plain")
        self.assertNotIn("Content-Encoding", headers)

    def test_miss_is_not_found(self):
        status, _, _ = self.nginx.fetch("/page/absent")
        self.assertEqual(status, 404)
        # counted as a miss of the key nginx asked for
        self.store(b"/page/other", b"x")
        self.assertEqual(self.nginx.fetch("/page/other")[0], 200)
        stats = self.c.stats()
        self.assertGreaterEqual(int(stats["get_misses"]), 1)
        self.assertGreaterEqual(int(stats["get_hits"]), 1)

    def test_large_binary_value_byte_for_byte(self):
        # protocol look-alikes inside, and larger than nginx's buffers
        value = (b"\r\nEND\r\nVALUE /page/big 0 5\r\n" + bytes(range(256))) \
            * 2000
        self.store(b"/page/big", value)
        status, headers, body = self.nginx.fetch("/page/big")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["Content-Length"]), len(value))
        self.assertEqual(body, value)

    def test_empty_value(self):
        self.store(b"/page/empty", b"")
        self.assertEqual(self.nginx.fetch("/page/empty")[::2], (200, b""))

    def test_gzip_flag_marks_compressed_pages(self):
        text = b"compressed page\n" * 100
        self.store(b"/page/z", gzip.compress(text), flags=GZIP_FLAG | 1)
        status, headers, body = self.nginx.fetch("/page/z")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Encoding"), "gzip")
        self.assertEqual(gzip.decompress(body), text)
        self.store(b"/page/plain", text, flags=1)
        status, headers, body = self.nginx.fetch("/page/plain")
        self.assertNotIn("Content-Encoding", headers)
        self.assertEqual(body, text)

    def test_changes_show_on_the_next_request(self):
        self.store(b"/page/n", b"1")
        self.assertEqual(self.nginx.fetch("/page/n")[2], b"1")
        self.assertEqual(self.c.request(b"incr /page/n 41\r\n"), b"42\r\n")
        self.assertEqual(self.nginx.fetch("/page/n")[2], b"42")
        self.assertEqual(self.c.request(b"append /page/n 0 0 1\r\n!\r\n"),
                         b"STORED\r\n")
        self.assertEqual(self.nginx.fetch("/page/n")[2], b"42!")
        self.assertEqual(self.c.request(b"delete /page/n\r\n"),
                         b"DELETED\r\n")
        self.assertEqual(self.nginx.fetch("/page/n")[0], 404)
        self.store(b"/page/n", b"gone", exptime=-1)
        self.assertEqual(self.nginx.fetch("/page/n")[0], 404)

    def test_miss_falls_back_to_the_application(self):
        status, _, body = self.nginx.fetch("/app/report")
        self.assertEqual((status, body), (200, b"rendered by the application\n"))
        self.store(b"/app/report", b"cached report")
        self.assertEqual(self.nginx.fetch("/app/report")[::2],
                         (200, b"cached report"))

    def test_kept_connections_serve_many_clients(self):
        for i in range(20):
            self.store(b"/kept/%d" % i, b"value %d " % i * (i + 1))
        before = int(self.c.stats()["total_connections"])
        errors = []

        def client(t):
            try:
                for r in range(REQUESTS_PER_THREAD):
                    i = (t * 7 + r) % 20
                    got = self.nginx.fetch("/kept/%d" % i)
                    if got[::2] != (200, b"value %d " % i * (i + 1)):
                        errors.append((i, got[0], got[2][:60]))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
        threads = [threading.Thread(target=client, args=(t,))
                   for t in range(CLIENT_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HTTP_TIMEOUT * REQUESTS_PER_THREAD)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])
        # nginx kept its connections: far fewer than one per request
        opened = int(self.c.stats()["total_connections"]) - before
        self.assertLess(opened, CLIENT_THREADS * REQUESTS_PER_THREAD // 4)


if __name__ == "__main__":
    H.main()
