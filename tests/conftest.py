# SPDX-License-Identifier: GPL-2.0-only
"""Shared test machinery: the memsleuth binary, test targets, and bounded runs."""
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEMSLEUTH = os.environ.get("MEMSLEUTH", str(ROOT / "build" / "memsleuth"))
TARGETS = Path(os.environ.get("MEMSLEUTH_TARGETS", str(ROOT / "build" / "tests")))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SANITIZED = os.environ.get("MEMSLEUTH_SAN") == "1"
MIB = 1 << 20

if SANITIZED:
    # Whatever the caller's environment says: leaks are reported (ASan's default, made
    # explicit) and every report carries a stack; the checks below fail on any report.
    # Freed memory is filled, so that a use after free inside a library ASan did not
    # instrument (libdw, libbpf) reads garbage and fails, rather than the stale data.
    os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                  ":detect_leaks=1:max_free_fill_size=4096:free_fill_byte=190")
    os.environ["UBSAN_OPTIONS"] = os.environ.get("UBSAN_OPTIONS", "") + ":print_stacktrace=1"


def pytest_configure(config):
    config.addinivalue_line("markers", "bpf: needs root and working eBPF")
    config.addinivalue_line("markers", "nosan: skipped in the sanitizer run (timing or cost)")
    config.addinivalue_line("markers", "soak: long runs, only with -m soak (make soak)")


def pytest_collection_modifyitems(config, items):
    if "soak" in (config.getoption("markexpr") or ""):
        return
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="a soak test: run it with 'make soak'"))


def require_root(reason="needs root"):
    """Skips outside CI; in CI a missing capability is a failure."""
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail(f"CI must run as root: {reason}")
        pytest.skip(reason)


def target_path(name):
    path = TARGETS / name
    if not path.exists():
        pytest.fail(f"test target {path} is missing: run 'make test-targets'")
    return str(path)


class LineReader:
    """A child's pipe, read to its end by a thread as the child writes it, and handed out
    in lines with a timeout. Read as it comes, not when the test gets to it: a child whose
    pipe is full blocks in write(), and a watcher blocked there stretches its window (the
    relay test's fourth windows ran 30, 50 and 70 s while the test read another watcher's
    output first)."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buf = bytearray()
        self.seen = bytearray()         # everything read, for text()
        self.eof = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            with self.cond:
                if chunk:
                    self.buf += chunk
                    self.seen += chunk
                else:
                    self.eof = True
                self.cond.notify_all()
            if not chunk:
                return

    def wait_for(self, pred, timeout):
        """Waits until pred(text read so far) holds or the pipe ends; returns pred's last
        value (False after `timeout` s)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self.seen.decode("utf-8", "replace")) and not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return pred(self.seen.decode("utf-8", "replace"))

    def readline(self, timeout):
        """The next line (with its newline; "" at end of file), or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while b"\n" not in self.buf and not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            at = self.buf.find(b"\n")
            line = bytes(self.buf[:at + 1]) if at >= 0 else bytes(self.buf)
            del self.buf[:len(line)]
            return line.decode("utf-8", "replace")

    def text(self):
        """All that was read so far, lines handed out included."""
        with self.cond:
            return self.seen.decode("utf-8", "replace")

    def rest(self, timeout=10):
        """What was not handed out as lines, once the pipe ends (or after `timeout` s)."""
        self.thread.join(timeout)
        with self.cond:
            rest = bytes(self.buf)
            self.buf.clear()
        return rest.decode("utf-8", "replace")


class Target:
    """A test target following the ready/go/done handshake of tests/targets/target.h."""

    def __init__(self, name, *args, env=None, timeout=10, wrap=()):
        # `wrap` prefixes the command (setpriv to run as another user); it must exec.
        self.proc = subprocess.Popen(
            [*wrap, target_path(name), *map(str, args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self._lines = LineReader(self.proc.stdout)
        line = self._readline(timeout)
        if not line.startswith("ready"):
            self.kill()
            raise AssertionError(f"{name}: expected 'ready', got {line!r}")
        self.pid = self.proc.pid
        self.done_fields = {}

    def _readline(self, timeout):
        line = self._lines.readline(timeout)
        if line is None:
            self.kill()
            raise AssertionError("test target did not answer in time")
        return line.strip()

    def go(self, timeout=30):
        """Lets the target misbehave and waits for its 'done' line; returns its fields."""
        self.send("go")
        return self.wait_done(timeout)

    def send(self, line):
        """Writes one line to the target: "go", or "stop" to a target that ends early."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_done(self, timeout=30):
        """Waits for the target's 'done' line; returns its fields."""
        line = self._readline(timeout)
        if not line.startswith("done"):
            raise AssertionError(f"expected 'done', got {line!r}")
        for item in line.split()[1:]:
            key, _, value = item.partition("=")
            self.done_fields[key] = value
        return self.done_fields

    def finish(self, timeout=10):
        """Tells the target to exit and reaps it."""
        try:
            self.proc.stdin.write("exit\n")
            self.proc.stdin.flush()
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def target():
    """Starts targets by name and kills, at teardown, only the ones it started."""
    started = []

    def start(name, *args, **kw):
        t = Target(name, *args, **kw)
        started.append(t)
        return t

    yield start
    for t in started:
        t.kill()


def run(args, timeout=60, check=None, wrap=(), **kw):
    """Runs memsleuth to completion (prefixed by `wrap`); returns the CompletedProcess."""
    res = subprocess.run([*wrap, MEMSLEUTH, *map(str, args)], capture_output=True, text=True,
                         timeout=timeout, **kw)
    if check is not None:
        assert res.returncode == check, (
            f"memsleuth {' '.join(map(str, args))}: exit {res.returncode}\n"
            f"stdout: {res.stdout[-2000:]}\nstderr: {res.stderr[-2000:]}")
    if SANITIZED:
        assert "Sanitizer" not in res.stderr and "runtime error" not in res.stderr, res.stderr
    return res


class Watch:
    """A memsleuth run in the background, started once its baseline sample is taken."""

    def __init__(self, args, timeout=20, wrap=()):
        self.args = [*wrap, MEMSLEUTH, *map(str, args)]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.out = LineReader(self.proc.stdout)
        self.err = LineReader(self.proc.stderr)
        if not self.err.wait_for(lambda text: "watching PID" in text, timeout):
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"memsleuth did not start in time: {self.err.rest()}")
            self.proc.wait()
            raise AssertionError(f"memsleuth exited early ({self.proc.returncode}): "
                                 f"{self.err.rest()}")

    @property
    def err_lines(self):
        """What memsleuth wrote to stderr so far, in lines."""
        return self.err.text().splitlines(keepends=True)

    def wait(self, timeout=60):
        """Waits for exit; returns (returncode, stdout, stderr)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"memsleuth did not finish in {timeout} s: "
                                 f"{self.err.rest()}")
        out = self.out.rest()
        self.err.rest()
        err = self.err.text()
        if SANITIZED:
            assert "Sanitizer" not in err and "runtime error" not in err, err
        return self.proc.returncode, out, err

    def interrupt(self, timeout=60):
        """Stops memsleuth as Ctrl-C does (it prints the partial window); like wait()."""
        self.proc.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def json_windows(self, timeout=60, status=0):
        code, out, err = self.wait(timeout)
        assert code == status, f"exit {code}: {err}"
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def watch():
    started = []

    def start(*args, **kw):
        w = Watch(args, **kw)
        started.append(w)
        return w

    yield start
    for w in started:
        w.kill()


def wait_samples(rec, n, timeout=30):
    """Waits until the recording `rec` (watch -o) holds `n` more samples than when called:
    then memsleuth has sampled what the target did before the call, however busy the
    machine is."""
    def count():
        try:
            return Path(rec).read_text().count('"type":"sample"')
        except FileNotFoundError:
            return 0
    goal = count() + n
    deadline = time.monotonic() + timeout
    while count() < goal:
        assert time.monotonic() < deadline, f"memsleuth took no {n} samples in {timeout} s"
        time.sleep(0.05)


def region(window, name):
    for r in window["regions"]:
        if r["name"] == name:
            return r
    raise AssertionError(f"no region {name!r} in {[r['name'] for r in window['regions']]}")


def regions_of_kind(window, kind):
    return [r for r in window["regions"] if r["kind"] == kind]


def within(value, expected, rel=0.02):
    return abs(value - expected) <= rel * expected
