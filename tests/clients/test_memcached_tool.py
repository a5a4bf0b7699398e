#!/usr/bin/python3
"""memcached-tool, the operator's script Debian's memcached package ships
(/usr/share/memcached/scripts/memcached-tool), against the daemon under
test: `display` (per-class table from stats items and slabs), `stats`,
`settings` and `dump` (keys from lru_crawler metadump, values from get,
printed as add commands that load the data elsewhere).

  /usr/bin/python3 tests/clients/test_memcached_tool.py
  ZEEKDB_BIN=/usr/bin/memcached /usr/bin/python3 tests/clients/test_memcached_tool.py
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness as H  # noqa: E402

TOOL = "/usr/share/memcached/scripts/memcached-tool"
TOOL_TIMEOUT = 30


class MemcachedTool(H.SharedDaemonCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(TOOL):
            raise H.HarnessError("%s is missing (Debian package memcached)"
                                 % TOOL)
        cls.perl = H.require_tool("perl")
        super().setUpClass()

    def tool(self, *args):
        p = subprocess.run([self.perl, TOOL, "%s:%d" % self.daemon.addr]
                           + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TOOL_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        # only dump says anything there: "Dumping memcache contents"
        self.assertNotIn(b"rror", p.stderr)
        return p.stdout.decode("utf-8", "replace")

    def store(self, items):
        for key, (flags, value) in items.items():
            self.c.send(b"set %s %d 0 %d\r\n%s\r\n"
                        % (key, flags, len(value), value))
            self.assertEqual(self.c.recv_line(), b"STORED\r\n")

    def test_display_lists_every_class_with_items(self):
        self.store({b"small": (0, b"x"), b"large": (0, b"y" * 5000)})
        out = self.tool("display").splitlines()
        self.assertRegex(out[0], r"#\s+Item_Size\s+Max_age\s+Pages\s+Count")
        rows = [l.split() for l in out[1:] if l.strip()]
        counts = {int(r[0]): int(r[4]) for r in rows}
        items = self.c.stats("items")
        want = {int(k.split(":")[1]): int(v) for k, v in items.items()
                if k.endswith(":number")}
        self.assertEqual({k: v for k, v in counts.items() if v}, want)

    def test_stats_and_settings(self):
        lines = self.tool("stats").splitlines()
        self.assertRegex(lines[0], r"^#\S+:\d+\s+Field\s+Value$")
        stats = dict(l.split() for l in lines[1:] if len(l.split()) == 2)
        self.assertEqual(stats["pid"], self.c.stats()["pid"])
        self.assertIn("accepting_conns", stats)
        settings = dict(l.split(None, 1) for l in
                        self.tool("settings").splitlines()[1:] if l.strip())
        self.assertEqual(settings["maxconns"].strip(), "1024")

    def test_dump_prints_add_commands_that_reload_the_data(self):
        items = {b"d:%d" % i: (i, b"value %d" % i) for i in range(50)}
        self.store(items)
        out = self.tool("dump")
        found = {}
        for m in re.finditer(rb"add (\S+) (\d+) (\d+) (\d+)\r?\n", out.encode()):
            key, flags, nbytes = m.group(1), int(m.group(2)), int(m.group(4))
            start = m.end()
            found[key] = (flags, out.encode()[start:start + nbytes])
        self.assertEqual({k: v for k, v in found.items() if k in items},
                         items)


if __name__ == "__main__":
    H.main()
