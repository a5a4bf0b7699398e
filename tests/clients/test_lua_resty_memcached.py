#!/usr/bin/python3
"""OpenResty's memcached client, lua-resty-memcached (Debian
lua-nginx-memcached, with nginx's Lua module from libnginx-mod-http-lua),
against the daemon under test: the client Lua code running inside nginx
uses to reach memcached, with nginx's cosocket connection pool. Each test
fetches /scenario/NAME from an nginx that runs
lua_resty_memcached_client.lua with the daemon's address.

  /usr/bin/python3 tests/clients/test_lua_resty_memcached.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_lua_resty_memcached.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402
from test_nginx import NginxCase  # noqa: E402

SCRIPT = os.path.join(HERE, "lua_resty_memcached_client.lua")
LIBRARY = "/usr/share/lua/5.1/nginx/memcached.lua"
MODULES = ("/usr/lib/nginx/modules/ndk_http_module.so",
           "/usr/lib/nginx/modules/ngx_http_lua_module.so")
SCENARIOS = ("storage", "cas_counters", "admin", "keepalive", "expiry")

CONFIG = """
load_module %(ndk)s;
load_module %(lua)s;
daemon off;
master_process off;
worker_processes 1;
pid %%(dir)s/nginx.pid;
error_log %%(dir)s/error.log info;
events { worker_connections 128; }
http {
    access_log off;
    client_body_temp_path %%(dir)s/body;
    proxy_temp_path %%(dir)s/proxy;
    fastcgi_temp_path %%(dir)s/fastcgi;
    uwsgi_temp_path %%(dir)s/uwsgi;
    scgi_temp_path %%(dir)s/scgi;
    server {
        listen %%(host)s:%%(port)d;
        default_type text/plain;
        location ~ ^/scenario/(\\w+)$ {
            set $scenario $1;
            set $daemon_host %%(daemon_host)s;
            set $daemon_port %%(daemon_port)d;
            content_by_lua_file %(script)s;
        }
    }
}
""" % {"ndk": MODULES[0], "lua": MODULES[1], "script": SCRIPT}


class LuaRestyMemcached(NginxCase):
    config = CONFIG
    daemon_args = ("-m", "64", "-I", "1m")

    @classmethod
    def setUpClass(cls):
        for path in MODULES + (LIBRARY,):
            if not os.path.exists(path):
                raise H.HarnessError("%s is missing (Debian packages "
                                     "libnginx-mod-http-lua "
                                     "lua-nginx-memcached)" % path)
        super().setUpClass()

    def run_scenario(self, name):
        status, _, body = self.nginx.fetch("/scenario/" + name)
        out = body.decode("utf-8", "replace")
        lines = out.splitlines()
        oks = [l for l in lines if l.startswith("ok ")]
        bad = [l for l in lines if l.startswith("not ok ")]
        self.assertEqual((status, bad), (200, []),
                         "scenario %s:\n%s\n%s" % (name, out,
                                                   self.nginx.log_text()))
        self.assertGreater(len(oks), 1, out)
        self.assertIn("# %d checks, 0 failed" % len(oks), lines, out)
        return out


def _scenario_test(name):
    def test(self):
        self.run_scenario(name)
    test.__name__ = "test_" + name
    return test


for _name in SCENARIOS:
    setattr(LuaRestyMemcached, "test_" + _name, _scenario_test(_name))


if __name__ == "__main__":
    H.main()
