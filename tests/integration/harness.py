"""Integration test harness: run the daemon under test, talk to it over raw
sockets, and report results in the suite's format.

The daemon under test:
  ZEEKDB_BIN     path to the binary; default "daemon/zeekdb" under $builddir,
                 else under the current directory. Point it at
                 /usr/bin/memcached to validate the tests against memcached.
  ZEEKDB_ADDR    host:port of an already running daemon (say, under gdb).
                 Nothing is spawned; tests that need their own daemon flags
                 are skipped (a skip never counts as a pass).
  ZEEKDB_FLAVOR  "zeekdb" or "memcached"; default: "memcached" when the
                 binary's file name contains "memcached", else "zeekdb".
                 zeekdb-only features (debugtime) are tested only for zeekdb.
  ZEEKDB_TEST_TIMEOUT  wall-clock bound in seconds for one test file
                 (default 120); past it every daemon is killed and the file
                 fails.

Everything is bounded: every socket operation has a timeout, every wait has
a deadline, and only 127.0.0.1 is used.
"""

import atexit
import importlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 5.0          # seconds, any single socket operation
START_TIMEOUT = 10.0           # seconds, daemon start until it accepts
STOP_TIMEOUT = 10.0            # seconds, SIGTERM until we SIGKILL
MAX_START_ATTEMPTS = 3         # port races: retry with a new port

_live_daemons = []             # for the watchdog
_live_lock = threading.Lock()


def _kill_leftovers():
    """Never leave a daemon behind, whatever way the test file ends."""
    with _live_lock:
        daemons = list(_live_daemons)
    for d in daemons:
        try:
            d.proc.kill()
            d.proc.wait(timeout=STOP_TIMEOUT)
        except Exception:
            pass


atexit.register(_kill_leftovers)


class HarnessError(Exception):
    """The environment is not what the tests need (missing binary, tool...)."""


def binary_path():
    """The daemon binary: $ZEEKDB_BIN, else daemon/zeekdb under $builddir
    or the current directory."""
    env = os.environ.get("ZEEKDB_BIN")
    if env:
        return env
    base = os.environ.get("builddir") or os.getcwd()
    return os.path.join(base, "daemon", "zeekdb")


def external_addr():
    """(host, port) from $ZEEKDB_ADDR, or None."""
    addr = os.environ.get("ZEEKDB_ADDR")
    if not addr:
        return None
    host, _, port = addr.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise HarnessError("ZEEKDB_ADDR must be on 127.0.0.1, not %r" % addr)
    return (HOST, int(port))


def flavor():
    """'zeekdb' or 'memcached': which daemon the tests are talking to."""
    env = os.environ.get("ZEEKDB_FLAVOR")
    if env:
        if env not in ("zeekdb", "memcached"):
            raise HarnessError("ZEEKDB_FLAVOR must be zeekdb or memcached")
        return env
    if "memcached" in os.path.basename(binary_path()):
        return "memcached"
    return "zeekdb"


def is_zeekdb():
    return flavor() == "zeekdb"


def require_tool(path_or_name):
    """Full path of an external tool; a missing tool is a failure, not a
    skip, because CI installs everything."""
    found = None
    if os.path.sep in path_or_name:
        if os.access(path_or_name, os.X_OK):
            found = path_or_name
    else:
        for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep):
            cand = os.path.join(d, path_or_name)
            if os.access(cand, os.X_OK):
                found = cand
                break
    if not found:
        raise HarnessError(
            "required tool %r not found; install it (Debian packages: "
            "libmemcached-tools, libcache-memcached-fast-perl, "
            "python3-pymemcache)" % path_or_name)
    return found


def require_module(name, package):
    """A Python client library, imported; missing, it is a failure, not a
    skip, because CI installs package."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise HarnessError("%s is missing (Debian package %s): %s"
                           % (name, package, e))


def write_users(path, text):
    """Give a -Y users file (user:password lines) new content at once, so
    a reload never sees half of it; readable by the daemon after it drops
    to -u nobody."""
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def users_file(text):
    """A new -Y users file in /tmp holding text; the caller unlinks it."""
    fd, path = tempfile.mkstemp(prefix="zeekdb-auth-", dir="/tmp")
    os.close(fd)
    write_users(path, text)
    return path


def daemon_command(args):
    """The daemon under test with args, plus -u nobody as root."""
    cmd = [binary_path()] + list(args)
    if os.geteuid() == 0 and "-u" not in args:
        cmd += ["-u", "nobody"]
    return cmd


def run_daemon(args, timeout=10):
    """Run the daemon until it exits (bounded): (exit code, stderr), for
    start-up refusals. It listens on a free loopback port without UDP."""
    p = subprocess.run(daemon_command(["-p", str(free_port()), "-l", HOST,
                                       "-U", "0"] + list(args)),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stderr.decode(errors="replace")


def unix_daemon(test, path, args=()):
    """Start the daemon on the unix socket path (-s: no TCP listener for
    Daemon to wait on), stopped at the test's cleanup; returns a socket
    connected to it, or fails the test within 10 s."""
    proc = subprocess.Popen(daemon_command(["-s", path] + list(args)),
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    test.addCleanup(proc.wait, 10)
    test.addCleanup(proc.terminate)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            time.sleep(0.05)
            continue
        test.addCleanup(s.close)
        s.settimeout(5)
        return s
    test.fail("daemon did not listen on " + path)


def free_port():
    """An ephemeral port that was free a moment ago on 127.0.0.1."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def pid_alive(pid):
    """Whether process pid runs (a zombie, dead but not yet reaped by a
    parent that is not us, counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_quietly(pid):
    """SIGKILL pid if it still runs (cleanup of a daemon that forked)."""
    if pid_alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def wait_until(predicate, timeout, interval=0.02):
    """Poll predicate() until it is true or timeout seconds pass; returns
    its last value. Bounded in wall time and in iterations."""
    deadline = time.monotonic() + timeout
    max_iter = int(timeout / interval) + 2
    value = predicate()
    for _ in range(max_iter):
        if value or time.monotonic() >= deadline:
            break
        time.sleep(interval)
        value = predicate()
    return value


def accepting_or_dead(proc, port):
    """True once proc has exited or something accepts on HOST:port."""
    if proc.poll() is not None:
        return True
    try:
        socket.create_connection((HOST, port), timeout=0.5).close()
    except OSError:
        return False
    return True


class Daemon:
    """One daemon process on 127.0.0.1:<ephemeral port>.

    args: extra flags for this test (-c 10, -M -m 2, -A ...). The harness
    adds -p, -l 127.0.0.1, -U 0, and -u nobody when running as root (the
    daemon must refuse root without -u), plus -o enable_debugtime for
    zeekdb when debugtime=True.
    """

    def __init__(self, args=(), debugtime=False, add_user=True, cwd=None,
                 env=None):
        self.args = list(args)
        self.env = None if env is None else dict(os.environ, **env)
        self.cwd = cwd or tempfile.gettempdir()
        self.debugtime = debugtime
        self.add_user = add_user
        self.proc = None
        self.port = None
        self.returncode = None
        self.external = external_addr()
        self._err = None
        self._out = None
        self._stderr_text = ""

    # -- lifecycle -------------------------------------------------------
    def command(self, port):
        cmd = [binary_path(), "-p", str(port), "-l", HOST, "-U", "0"]
        if self.add_user and os.geteuid() == 0 and "-u" not in self.args:
            cmd += ["-u", "nobody"]
        if self.debugtime and is_zeekdb():
            cmd += ["-o", "enable_debugtime"]
        return cmd + self.args

    def start(self):
        if self.external:
            self.port = self.external[1]
            return self
        path = binary_path()
        if not os.access(path, os.X_OK):
            raise HarnessError(
                "daemon binary %r not found or not executable; build it, or "
                "set ZEEKDB_BIN (e.g. ZEEKDB_BIN=/usr/bin/memcached) or "
                "ZEEKDB_ADDR=127.0.0.1:PORT" % path)
        last = ""
        for _ in range(MAX_START_ATTEMPTS):
            port = free_port()
            if self._spawn(port):
                return self
            last = self.stderr()
        raise HarnessError("daemon did not start: %s\nstderr:\n%s"
                           % (" ".join(self.command(0)), last))

    def restart(self):
        """Stop (SIGTERM) and start again on the same port, so whatever
        knows the old address finds the new process there. Returns the old
        process's exit code."""
        if self.external:
            raise HarnessError("cannot restart an external daemon")
        rc = self.stop()
        for _ in range(MAX_START_ATTEMPTS):
            if self._spawn(self.port):
                return rc
        raise HarnessError("daemon did not restart on port %d; stderr:\n%s"
                           % (self.port, self.stderr()))

    def _spawn(self, port):
        self._close_files()
        self._stderr_text = ""
        self._err = tempfile.TemporaryFile(prefix="zeekdb-err-")
        self._out = tempfile.TemporaryFile(prefix="zeekdb-out-")
        self.port = port
        self.returncode = None
        self.proc = subprocess.Popen(self.command(port), stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err,
                                     cwd=self.cwd, env=self.env)
        with _live_lock:
            _live_daemons.append(self)
        if wait_until(self._accepting_or_dead, START_TIMEOUT) and \
                self.proc.poll() is None:
            return True
        self.kill()
        return False

    def _accepting_or_dead(self):
        return accepting_or_dead(self.proc, self.port)

    def alive(self):
        if self.external:
            return True
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout):
        """Wait up to timeout seconds for the process to exit; returns its
        exit code or None."""
        if self.proc is None:
            return None
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._forget()
        return self.returncode

    def signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait (bounded), then SIGKILL. Returns the exit code
        (negative: killed by that signal), or None for an external daemon."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                self.kill()
        self.returncode = self.proc.returncode
        self._forget()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self._forget()

    def _forget(self):
        """The process is gone: keep its stderr as text, close the files."""
        if self.proc is not None and self.proc.poll() is not None and \
                self._err is not None:
            self._stderr_text = self._read_stderr()
            self._close_files()
        with _live_lock:
            if self in _live_daemons:
                _live_daemons.remove(self)

    def _close_files(self):
        for f in (self._err, self._out):
            if f is not None:
                f.close()
        self._err = self._out = None

    def stderr(self):
        """Everything the daemon wrote to stderr so far, as text."""
        if self._err is None:
            return self._stderr_text
        return self._read_stderr()

    def _read_stderr(self):
        # pread: the daemon shares this file's offset, so never move it
        fd = self._err.fileno()
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        return data.decode("utf-8", "replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self._close_files()
        return False

    # -- clients ---------------------------------------------------------
    @property
    def addr(self):
        return (HOST, self.port)

    def connect(self, timeout=DEFAULT_TIMEOUT):
        return Client(self.addr, timeout=timeout)


class ThirdPartyServer:
    """A server of another project put beside the daemon (a proxy, a web
    server), on an ephemeral loopback port: command(port) writes the
    configuration it needs and returns its argv; log is the file where it
    writes its errors."""

    def __init__(self, name, command, log):
        self.name = name
        self.command = command
        self.log = log
        self.proc = None
        self.port = None

    def start(self):
        for _ in range(MAX_START_ATTEMPTS):
            self.port = free_port()
            self.proc = subprocess.Popen(
                self.command(self.port), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with _live_lock:
                _live_daemons.append(self)
            if wait_until(self._accepting_or_dead, START_TIMEOUT) and \
                    self.proc.poll() is None:
                return self
            self.stop()
        raise HarnessError("%s did not start:\n%s"
                           % (self.name, self.log_text()))

    def _accepting_or_dead(self):
        return accepting_or_dead(self.proc, self.port)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        with _live_lock:
            if self in _live_daemons:
                _live_daemons.remove(self)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    def connect(self):
        return Client((HOST, self.port))


class ConnectionClosed(Exception):
    pass


class Client:
    """A raw text-protocol client with its own receive buffer."""

    def __init__(self, addr, timeout=DEFAULT_TIMEOUT, nodelay=True):
        self.timeout = timeout
        self.sock = socket.create_connection(addr, timeout=timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out; have %d bytes: %r"
                                 % (len(self.buf), self.buf[:200]))
        self.sock.settimeout(left)
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionClosed("connection closed; have %d bytes: %r"
                                   % (len(self.buf), self.buf[:200]))
        self.buf += chunk

    def recv_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_until(self, terminator, timeout=None):
        """Bytes up to and including terminator."""
        if isinstance(terminator, str):
            terminator = terminator.encode()
        deadline = time.monotonic() + (timeout or self.timeout)
        start = 0
        while True:
            i = self.buf.find(terminator, start)
            if i >= 0:
                end = i + len(terminator)
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            start = max(0, len(self.buf) - len(terminator) + 1)
            self._fill(deadline)

    def recv_line(self, timeout=None):
        return self.recv_until(b"\r\n", timeout)

    def recv_retrieval(self, timeout=None):
        """A whole get/gets/gat reply, through the final END\\r\\n, reading
        value blocks by their announced length."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out = b""
        for _ in range(100000):
            line = self.recv_line(max(0.001, deadline - time.monotonic()))
            out += line
            if not line.startswith(b"VALUE "):
                return out
            nbytes = int(line.split()[3])
            out += self.recv_exact(nbytes + 2,
                                   max(0.001, deadline - time.monotonic()))
        raise AssertionError("too many values")

    def get_item(self, key):
        """(flags, data) of one key from a get, or None on a miss; raises
        on a reply that is not exactly one value block and END."""
        self.send(b"get %s\r\n" % key)
        reply = self.recv_retrieval()
        if reply == b"END\r\n":
            return None
        head, _, rest = reply.partition(b"\r\n")
        fields = head.split()
        if len(fields) != 4 or fields[:2] != [b"VALUE", key] or \
                rest[int(fields[3]):] != b"\r\nEND\r\n":
            raise AssertionError("unexpected get reply %r" % reply[:200])
        return int(fields[2]), rest[:int(fields[3])]

    def recv_stats(self, timeout=None):
        """A stats reply as a dict; ends at END (or raises on anything else)."""
        stats = {}
        for _ in range(10000):
            line = self.recv_line(timeout)
            if line == b"END\r\n":
                return stats
            parts = line.decode().rstrip("\r\n").split(" ", 2)
            if parts[0] != "STAT" or len(parts) != 3:
                raise AssertionError("unexpected stats line %r" % line)
            stats[parts[1]] = parts[2]
        raise AssertionError("too many stats lines")

    def stats(self, sub=""):
        self.send("stats%s\r\n" % ((" " + sub) if sub else ""))
        return self.recv_stats()

    def request(self, data, timeout=None):
        """Send data; return one reply line."""
        self.send(data)
        return self.recv_line(timeout)

    def closed_by_peer(self, timeout=None):
        """True when the peer closes (EOF or reset) within timeout, after
        any buffered bytes; False on timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            for _ in range(100000):
                self._fill(deadline)
        except ConnectionClosed:
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return False

    def drain(self):
        """Whatever is buffered, then clear it."""
        out, self.buf = self.buf, b""
        return out

    def silent_for(self, seconds):
        """True when nothing is buffered and no byte arrives within
        seconds (the peer closing counts as something)."""
        if self.buf:
            return False
        try:
            self._fill(time.monotonic() + seconds)
        except socket.timeout:
            return True
        except ConnectionClosed:
            return False
        return False


# -- running a test file ------------------------------------------------

_current_result = None


def _watchdog(signum, frame):
    with _live_lock:
        daemons = list(_live_daemons)
    for d in daemons:
        try:
            d.proc.kill()
        except Exception:
            pass
    sys.stderr.write("\nWATCHDOG: test file exceeded ZEEKDB_TEST_TIMEOUT; "
                     "daemons killed\n")
    r = _current_result
    passed, failed = _counts(r) if r is not None else (0, 0)
    sys.stdout.write("%d passed, %d failed\n" % (passed, failed + 1))
    sys.stdout.flush()
    os._exit(1)


def _tests_per_class(suite, out=None):
    """{'module.Class': number of tests} over a (nested) suite."""
    out = {} if out is None else out
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            _tests_per_class(t, out)
        else:
            name = "%s.%s" % (type(t).__module__, type(t).__qualname__)
            out[name] = out.get(name, 0) + 1
    return out


_per_class = {}


def _counts(result):
    """(passed, failed). A test that errored or failed is failed; a class
    whose setUpClass failed fails all its tests; a failed tearDownClass
    adds one failure; skips and expected failures are neither."""
    test_bad = 0
    fixture_bad = 0
    for test, _ in result.failures + result.errors:
        if isinstance(test, unittest.TestCase):
            test_bad += 1
            continue
        desc = getattr(test, "description", str(test))
        m = re.match(r"setUpClass \((.+)\)", desc)
        fixture_bad += max(1, _per_class.get(m.group(1), 1)) if m else 1
    test_bad += len(getattr(result, "unexpectedSuccesses", ()))
    not_passed = test_bad + len(result.skipped) + len(result.expectedFailures)
    return max(0, result.testsRun - not_passed), test_bad + fixture_bad


class _Runner(unittest.TextTestRunner):
    def run(self, test):
        _per_class.update(_tests_per_class(test))
        return super().run(test)

    def _makeResult(self):
        global _current_result
        _current_result = super()._makeResult()
        return _current_result


def main():
    """Run the calling module's tests; print unittest's summary, then a
    last line 'N passed, M failed'; exit 0 only when nothing failed and at
    least one test ran."""
    timeout = int(os.environ.get("ZEEKDB_TEST_TIMEOUT", "120"))
    signal.signal(signal.SIGALRM, _watchdog)
    signal.alarm(timeout)
    sys.stderr.write("daemon: %s (%s)%s\n" % (
        os.environ.get("ZEEKDB_ADDR") or binary_path(), flavor(),
        " [external]" if external_addr() else ""))
    prog = unittest.main(module="__main__", exit=False, verbosity=2,
                         testRunner=_Runner, argv=sys.argv)
    signal.alarm(0)
    result = prog.result
    passed, failed = _counts(result)
    skipped = len(result.skipped)
    sys.stdout.flush()
    sys.stderr.flush()
    if skipped:
        print("(%d skipped, not counted as passed)" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)



class SharedDaemonCase(unittest.TestCase):
    """Tests sharing one daemon per class (started with daemon_args);
    each test starts with a fresh connection, self.c, and an empty cache,
    and fails if the daemon died under it."""

    daemon_args = ()
    debugtime = False

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(cls.daemon_args, debugtime=cls.debugtime).start()

    @classmethod
    def tearDownClass(cls):
        stop_checked(cls.daemon)

    def setUp(self):
        self.c = self.daemon.connect()
        self.addCleanup(self.c.close)
        self.assertEqual(self.c.request(b"flush_all\r\n"), b"OK\r\n")

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), "daemon died; stderr:\n%s"
                        % self.daemon.stderr()[-4000:])


class ScriptScenarioCase(unittest.TestCase):
    """Tests running the scenarios of a client script against one daemon
    per class: `INTERPRETER SCRIPT HOST:PORT SCENARIO` (or a program
    without a script) prints TAP-style "ok"/"not ok" lines and exits 0
    only when all passed. A subclass sets interpreter, script, probe
    (arguments for the interpreter that exit 0 when the client library is
    there; None for a program that could not have been built without
    it) and package (its Debian packages), and add_scenarios() gives it
    one test_NAME per scenario."""

    interpreter = None
    interpreter_args = ()    # before the script
    script = None
    probe = ()
    package = None
    daemon_args = ()
    SCENARIO_TIMEOUT = 60

    @classmethod
    def setUpClass(cls):
        cls.tool = require_tool(cls.interpreter)
        if cls.probe is not None:
            check = subprocess.run([cls.tool] + list(cls.probe),
                                   capture_output=True, timeout=20)
            if check.returncode != 0:
                raise HarnessError("the client library is missing (Debian "
                                   "package %s): %s"
                                   % (cls.package, check.stderr.decode()))
        cls.daemon = Daemon(cls.daemon_args).start()

    @classmethod
    def tearDownClass(cls):
        stop_checked(cls.daemon)

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.stderr()[-4000:])

    def run_scenario(self, name):
        """Run one scenario; fail unless every check passed. Returns its
        standard output."""
        script = [self.script] if self.script is not None else []
        p = subprocess.run([self.tool] + list(self.interpreter_args) +
                           script + ["%s:%d" % self.daemon.addr, name],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=self.SCENARIO_TIMEOUT)
        out = p.stdout.decode("utf-8", "replace")
        oks = [l for l in out.splitlines() if l.startswith("ok ")]
        bad = [l for l in out.splitlines() if l.startswith("not ok ")]
        self.assertEqual((p.returncode, bad), (0, []),
                         "scenario %s:\n%s\n%s" % (name, out, p.stderr.decode()))
        self.assertGreater(len(oks), 1, out)
        return out

    @classmethod
    def add_scenarios(cls, names):
        """A test_NAME running scenario NAME, for each name not defined
        by the class itself (those call run_scenario and check more)."""
        for name in names:
            if not hasattr(cls, "test_" + name):
                setattr(cls, "test_" + name, _scenario_test(name))


class PerlScenarioCase(ScriptScenarioCase):
    """A Perl client script; a subclass sets module, the Perl module it
    needs."""

    interpreter = "perl"
    module = None

    @classmethod
    def setUpClass(cls):
        cls.probe = ("-M" + cls.module, "-e", "1")
        super().setUpClass()


class BuiltClientCase(ScriptScenarioCase):
    """A client program the test compiles first: a subclass's
    build(build_dir) returns the program's path (raising HarnessError,
    with the Debian packages to install, when it cannot be built). The
    build directory is a temporary one, removed with the class."""

    probe = None      # the program could not have been built without it

    BUILD_TIMEOUT = 300

    @classmethod
    def build(cls, build_dir):
        raise NotImplementedError

    @classmethod
    def compile(cls, argv, env=None):
        """Run a build command; a failure names the packages it needs."""
        p = subprocess.run(argv, env=env, capture_output=True,
                           timeout=cls.BUILD_TIMEOUT)
        if p.returncode != 0:
            raise HarnessError("cannot build the client (Debian packages "
                               "%s): %s" % (cls.package, p.stderr.decode()))

    @classmethod
    def setUpClass(cls):
        cls.build_dir = tempfile.mkdtemp(prefix="zeekdb-client-")
        try:
            cls.interpreter = cls.build(cls.build_dir)
            super().setUpClass()
        except BaseException:
            shutil.rmtree(cls.build_dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.build_dir, ignore_errors=True)


def _scenario_test(name):
    def test(self):
        self.run_scenario(name)
    test.__name__ = "test_" + name
    return test


def stop_checked(daemon):
    """Stop a daemon with SIGTERM and fail unless it exited cleanly."""
    rc = daemon.stop()
    if rc not in (0, None):
        raise AssertionError("daemon exited with %r on SIGTERM; stderr:\n%s"
                             % (rc, daemon.stderr()[-4000:]))
