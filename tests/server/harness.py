"""Shared helpers for mantis-server's end-to-end tests: start and stop servers on 127.0.0.1, a raw
RESP client, and check bookkeeping. Every wait is bounded; every server a test starts is stopped
(SIGTERM, then SIGKILL) when the test ends, even when it fails."""

import atexit
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def skip(message):
    print(f"SKIP: {message}")
    sys.exit(SKIP)


def require_tool(name, package):
    path = shutil.which(name)
    if path is None:
        skip(f"{name} is not installed (Debian package {package}; scripts/install-deps.sh installs it)")
    return path


class Checks:
    """Counts checks; every check runs and reports, and finish() exits 1 if any failed."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   - {name}")
        else:
            self.failed += 1
            print(f"FAIL - {name}")
            if detail:
                print("       " + str(detail)[:2000].replace("\n", "\n       "))
        return condition

    def equal(self, name, got, want):
        return self.check(name, got == want, f"got {got!r}\n want {want!r}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


_servers = []


@atexit.register
def _kill_leftovers():
    for server in _servers:
        server.kill()


class Server:
    """A mantis-server process with --resp-port 0 --port 0; .resp_port and .http_port are the ports
    it printed."""

    def __init__(self, binary, *args, start_timeout=30):
        self.binary = binary
        self.args = list(args)
        self.lines = []
        self.log = tempfile.TemporaryFile()
        command = [binary, "--resp-port", "0", "--port", "0"] + self.args
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True)
        _servers.append(self)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + start_timeout
        self.resp_port = self.http_port = None
        while time.monotonic() < deadline and (self.resp_port is None or self.http_port is None):
            for line in list(self.lines):
                m = re.match(r"resp listening on [\d.]+:(\d+)", line)
                if m:
                    self.resp_port = int(m.group(1))
                m = re.match(r"http listening on [\d.]+:(\d+)", line)
                if m:
                    self.http_port = int(m.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.01)
        if self.resp_port is None or self.http_port is None:
            self.kill()
            raise RuntimeError(f"mantis-server did not start: {command}\nstdout: {self.lines}\nstderr: {self.stderr()}")

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def pid(self):
        return self.process.pid

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def alive(self):
        return self.process.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends `sig` and waits; returns the exit status (None if it had to be killed)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self._reader.join(5)
        return self.process.returncode

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass


def connect(port, timeout=10):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def encode(*args):
    """One request as a RESP multibulk; str arguments are UTF-8."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespReader:
    """Reads RESP2 replies from a socket: bytes for bulk strings, str for simple strings, int,
    None for nil, list for arrays, RespError for errors. Raises ConnectionError on EOF."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError(f"bad reply line {line!r}")


class RespError(str):
    pass


def command(sock, *args):
    sock.sendall(encode(*args))
    return RespReader(sock).read()


def closed_by_peer(sock, timeout=5.0):
    """True if the server closes the connection within `timeout` (any pending bytes are drained)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            data = sock.recv(1 << 16)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def sanitized():
    """True when the server runs under ASan or TSan (slower, more memory): budgets scale with it."""
    return os.environ.get("MANTIS_SANITIZE", "") != "" or "ASAN_OPTIONS" in os.environ or "TSAN_OPTIONS" in os.environ
