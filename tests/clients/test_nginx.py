#!/usr/bin/python3
"""nginx's memcached module (Debian nginx-light) serving pages out of the
daemon under test: the way many sites put a cache in front of their
application, with the application writing pages and nginx reading them;
and the memc module (Debian libnginx-mod-http-memc), which puts most of
the text protocol behind HTTP.

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
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

HTTP_TIMEOUT = 10.0
CLIENT_THREADS = 8
REQUESTS_PER_THREAD = 50
GZIP_FLAG = 2

CONFIG = """
load_module /usr/lib/nginx/modules/ngx_http_memc_module.so;
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
        location /memc {
            set $memc_cmd $arg_cmd;
            set $memc_key $arg_key;
            set $memc_value $arg_val;
            set $memc_flags $arg_flags;
            set $memc_exptime $arg_exptime;
            memc_pass %(daemon)s;
        }
        location /rest {
            set $memc_key $arg_key;
            set $memc_flags $arg_flags;
            memc_flags_to_last_modified on;
            memc_pass %(daemon)s;
        }
        location /kept-memc {
            set $memc_cmd $arg_cmd;
            set $memc_key $arg_key;
            set $memc_value $arg_val;
            memc_pass cache;
        }
    }
}
"""


class Nginx(H.ThirdPartyServer):
    """nginx in one process, everything it writes kept in workdir. config:
    its nginx.conf, with %(dir)s, %(host)s, %(port)d, %(daemon)s
    (host:port), %(daemon_host)s, %(daemon_port)d and %(gzip_flag)d."""

    def __init__(self, daemon, workdir, config=CONFIG):
        self.daemon = daemon
        self.workdir = workdir
        self.config = config
        super().__init__("nginx", self._command,
                         os.path.join(workdir, "error.log"))

    def _command(self, port):
        conf = os.path.join(self.workdir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.config % {
                "dir": self.workdir, "host": H.HOST, "port": port,
                "daemon": "%s:%d" % self.daemon.addr,
                "daemon_host": self.daemon.addr[0],
                "daemon_port": self.daemon.addr[1],
                "gzip_flag": GZIP_FLAG})
        return [H.require_tool("/usr/sbin/nginx"), "-p", self.workdir,
                "-c", conf, "-e", self.log]

    def fetch(self, path, method="GET", body=None):
        """(status, headers, body) of the request."""
        conn = http.client.HTTPConnection(H.HOST, self.port,
                                          timeout=HTTP_TIMEOUT)
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()


class NginxCase(unittest.TestCase):
    """A daemon (with daemon_args) and an nginx in front of it (with
    config), for the class; the cache flushed before each test."""

    config = CONFIG
    daemon_args = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zeekdb-nginx-")
        cls.daemon = H.Daemon(cls.daemon_args).start()
        cls.nginx = Nginx(cls.daemon, cls.tmp, cls.config).start()

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


class NginxMemcachedModule(NginxCase):

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


class NginxMemcModule(NginxCase):
    """memc sends the command named by the request and turns the reply
    line into a status: 201 for STORED and for a counter's new value, 200
    for other answers, 404 for NOT_FOUND or a miss, 502 with the line as
    the body for an error. It parses each reply kind by its own rules, so
    a reply line off by a byte is a 502."""

    def memc(self, cmd, key=None, val=None, **extra):
        args = dict(cmd=cmd, **extra)
        if key is not None:
            args["key"] = key
        if val is not None:
            args["val"] = val
        status, _, body = self.nginx.fetch(
            "/memc?" + urllib.parse.urlencode(args))
        return status, body if status not in (400, 404) else None

    def test_storage_commands(self):
        self.assertEqual(self.memc("get", "a"), (404, None))
        self.assertEqual(self.memc("set", "a", "hello", flags=7),
                         (201, b"STORED\r\n"))
        self.assertEqual(self.memc("get", "a"), (200, b"hello"))
        self.assertEqual(self.c.get_item(b"a"), (7, b"hello"))
        self.assertEqual(self.memc("add", "a", "x"),
                         (200, b"NOT_STORED\r\n"))
        self.assertEqual(self.memc("replace", "b", "x"),
                         (200, b"NOT_STORED\r\n"))
        self.assertEqual(self.memc("add", "b", "new"), (201, b"STORED\r\n"))
        self.assertEqual(self.memc("replace", "b", "newer"),
                         (201, b"STORED\r\n"))
        self.assertEqual(self.memc("append", "a", "Z"), (201, b"STORED\r\n"))
        self.assertEqual(self.memc("prepend", "a", "A"),
                         (201, b"STORED\r\n"))
        self.assertEqual(self.memc("append", "absent", "!"),
                         (200, b"NOT_STORED\r\n"))
        self.assertEqual(self.memc("get", "a"), (200, b"AhelloZ"))
        self.assertEqual(self.memc("get", "b"), (200, b"newer"))
        self.assertEqual(self.memc("delete", "a"), (200, b"DELETED\r\n"))
        self.assertEqual(self.memc("delete", "a"), (404, None))
        self.assertEqual(self.memc("get", "a"), (404, None))

    def test_counters(self):
        self.assertEqual(self.memc("set", "n", "10"), (201, b"STORED\r\n"))
        self.assertEqual(self.memc("incr", "n", "5"), (201, b"15\r\n"))
        self.assertEqual(self.memc("decr", "n", "100"), (201, b"0\r\n"))
        self.assertEqual(self.memc("incr", "n", "4294967296"),
                         (201, b"4294967296\r\n"))
        self.assertEqual(self.c.get_item(b"n"), (0, b"4294967296"))
        self.assertEqual(self.memc("incr", "absent", "1"), (404, None))
        self.assertEqual(self.memc("set", "s", "abc"), (201, b"STORED\r\n"))
        self.assertEqual(
            self.memc("incr", "s", "1"),
            (502, b"CLIENT_ERROR cannot increment or decrement "
                  b"non-numeric value\r\n"))

    def test_errors_reach_the_client(self):
        self.assertEqual(self.memc("set", "k" * 251, "x"),
                         (502, b"CLIENT_ERROR bad command line format\r\n"))
        self.assertEqual(self.memc("get", "k" * 250), (404, None))
        # the daemon is still there for the next request
        self.assertEqual(self.memc("set", "k" * 250, "x"),
                         (201, b"STORED\r\n"))
        self.assertEqual(self.memc("get", "k" * 250), (200, b"x"))

    def test_flush_version_stats(self):
        self.assertEqual(self.memc("set", "a", "1"), (201, b"STORED\r\n"))
        self.assertEqual(self.memc("flush_all"), (200, b"OK\r\n"))
        self.assertEqual(self.memc("get", "a"), (404, None))
        status, body = self.memc("version")
        self.assertEqual(status, 200)
        self.assertRegex(body, rb"^VERSION 1\.6\.[0-9]+\S*\r\n$")
        status, body = self.memc("stats")
        self.assertEqual(status, 200)
        lines = body.split(b"\r\n")
        self.assertEqual(lines[-2:], [b"END", b""])
        names = [ln.split(b" ")[1] for ln in lines[:-2]]
        self.assertEqual(names[:3], [b"pid", b"uptime", b"time"])
        self.assertIn(b"cmd_flush", names)

    def test_rest_methods_with_binary_values(self):
        # PUT is set, POST is add, DELETE is delete, GET is get; the value
        # is the request body, flags come back as Last-Modified
        value = b"\x00\r\nEND\r\nVALUE k 0 1\r\n" + bytes(range(256)) * 300
        status, _, body = self.nginx.fetch("/rest?key=p&flags=1700000000",
                                           "PUT", value)
        self.assertEqual((status, body), (201, b"STORED\r\n"))
        status, headers, body = self.nginx.fetch("/rest?key=p")
        self.assertEqual((status, body), (200, value))
        self.assertEqual(headers.get("Last-Modified"),
                         "Tue, 14 Nov 2023 22:13:20 GMT")
        status, _, body = self.nginx.fetch("/rest?key=p", "POST", b"again")
        self.assertEqual((status, body), (200, b"NOT_STORED\r\n"))
        status, _, body = self.nginx.fetch("/rest?key=q", "POST", b"")
        self.assertEqual((status, body), (201, b"STORED\r\n"))
        self.assertEqual(self.nginx.fetch("/rest?key=q")[::2], (200, b""))
        status, _, body = self.nginx.fetch("/rest?key=p", "DELETE")
        self.assertEqual((status, body), (200, b"DELETED\r\n"))
        self.assertEqual(self.nginx.fetch("/rest?key=p")[0], 404)

    def test_kept_connection_after_an_error(self):
        # errors and misses in between: the kept connection stays in step
        before = int(self.c.stats()["total_connections"])
        for i in range(40):
            got = self.nginx.fetch("/kept-memc?cmd=set&key=k%d&val=v%d"
                                   % (i % 5, i))
            self.assertEqual(got[::2], (201, b"STORED\r\n"))
            got = self.nginx.fetch("/kept-memc?cmd=incr&key=k%d&val=1"
                                   % (i % 5))
            self.assertEqual(got[0], 502)
            got = self.nginx.fetch("/kept-memc?cmd=get&key=absent")
            self.assertEqual(got[0], 404)
            got = self.nginx.fetch("/kept-memc?cmd=get&key=k%d" % (i % 5))
            self.assertEqual(got[::2], (200, b"v%d" % i))
        opened = int(self.c.stats()["total_connections"]) - before
        self.assertLess(opened, 80)


if __name__ == "__main__":
    H.main()
