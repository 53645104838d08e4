# SPDX-License-Identifier: GPL-2.0-only
"""Shared test machinery: the memsleuth binary, test targets, and bounded runs."""
import json
import os
import select
import signal
import subprocess
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
    """Lines from a child's pipe with a timeout. os.read, not readline: readline may pull two
    lines into Python's buffer, where select() cannot see the second one."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buf = b""

    def readline(self, timeout):
        """The next line (with its newline; "" at end of file), or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0))
            if not ready:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                line, self.buf = self.buf, b""
                return line.decode("utf-8", "replace")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace") + "\n"

    def rest(self):
        """What was read past the last line handed out."""
        rest, self.buf = self.buf, b""
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
        self.err_lines = []
        deadline = time.monotonic() + timeout
        # os.read, not readline: readline may pull two lines into Python's buffer (a warning
        # and "watching PID"), where select() cannot see the second one.
        fd = self.proc.stderr.fileno()
        while "watching PID" not in "".join(self.err_lines):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                self.proc.kill()
                raise AssertionError("memsleuth did not start in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                out, err = self.proc.communicate()
                raise AssertionError(f"memsleuth exited early ({self.proc.returncode}): "
                                     f"{''.join(self.err_lines)}{err}")
            self.err_lines.append(chunk.decode("utf-8", "replace"))

    def wait(self, timeout=60):
        """Waits for exit; returns (returncode, stdout, stderr)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"memsleuth did not finish in {timeout} s: {err}")
        out = self.out.rest() + out
        err = "".join(self.err_lines) + err
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
