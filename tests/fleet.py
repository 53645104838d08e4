# SPDX-License-Identifier: GPL-2.0-only
"""Machinery of the fleet tests: memsleuth serving HTTP, a real Prometheus, go tool pprof."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import IN_CI, MEMSLEUTH, SANITIZED, LineReader


def need(tool):
    """The path of a tool the fleet tests feed (scripts/deps.sh installs it)."""
    path = shutil.which(tool)
    if not path:
        if IN_CI:
            pytest.fail(f"{tool} is missing: scripts/deps.sh installs it")
        pytest.skip(f"{tool} is not installed (scripts/deps.sh installs it)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """memsleuth with --listen 127.0.0.1:0, its output thrown away (a long run would fill a
    pipe), started once it watches a process; its URL read back from what it said."""

    def __init__(self, args, timeout=30):
        self.proc = subprocess.Popen([MEMSLEUTH, *map(str, args), "--listen", "127.0.0.1:0"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.err = LineReader(self.proc.stderr)
        self.said = []
        deadline = time.monotonic() + timeout
        while not any("watching PID" in line for line in self.said):
            line = self.err.readline(max(deadline - time.monotonic(), 0))
            if not line:
                self.kill()
                raise AssertionError(f"memsleuth did not start: {''.join(self.said)}{line!r}")
            self.said.append(line)
        m = re.search(r"serving (http://127\.0\.0\.1:\d+)/metrics", "".join(self.said))
        assert m, "".join(self.said)
        self.url = m.group(1)
        self.hostport = self.url[len("http://"):]

    def get(self, path, headers=None, method="GET", timeout=10):
        """(status, headers, body bytes) of one request; an HTTP error is an answer too."""
        req = urllib.request.Request(self.url + path, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def metrics(self):
        status, _, body = self.get("/metrics")
        assert status == 200, body
        return body.decode()

    def stop(self, timeout=60):
        """Stops it as Ctrl-C does; checks that it ends cleanly; returns all it said."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("memsleuth did not stop on SIGINT")
        said = "".join(self.said) + self.err.rest()
        assert self.proc.returncode == 0, said
        if SANITIZED:
            assert "Sanitizer" not in said and "runtime error" not in said, said
        return said

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def served():
    started = []

    def start(*args, **kw):
        s = Served(args, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


def series(text, name, **labels):
    """The values of `name`'s series whose labels include `labels`, from exposition text."""
    out = []
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', head))
        if all(got.get(k) == str(v) for k, v in labels.items()):
            out.append((got, float(value)))
    return out


def wait_for(what, fn, timeout=90, every=0.5):
    """Calls fn until it returns something true; fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


class Prometheus:
    """Debian's prometheus on loopback, scraping the given jobs every second."""

    def __init__(self, tmp_path, jobs):
        exe = need("prometheus")
        self.port = free_port()
        cfg = tmp_path / "prometheus.yml"
        lines = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s", "scrape_configs:"]
        for job, hostport in jobs.items():
            lines += [f"  - job_name: {job}", "    static_configs:",
                      f"      - targets: ['{hostport}']"]
        cfg.write_text("\n".join(lines) + "\n")
        self.log = open(tmp_path / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            [exe, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for("prometheus to answer", lambda: self._ready(), timeout=60)

    def _ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            assert self.proc.poll() is None, "prometheus exited"
            return False

    def query(self, expr):
        """The result vector of an instant query: [(labels, value)]."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?" +
               urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
        assert doc["status"] == "success", doc
        return [(v["metric"], float(v["value"][1])) for v in doc["data"]["result"]]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def promtool_check(text):
    """promtool check metrics on exposition text: (ok, what it said)."""
    res = subprocess.run([need("promtool"), "check", "metrics"], input=text, text=True,
                         capture_output=True, timeout=60)
    return res.returncode == 0, res.stdout + res.stderr


def pprof_top(path, *extra):
    """`go tool pprof -top` of a profile file: [(function, flat bytes)] in its order."""
    go = need("go")
    env = dict(os.environ, HOME=str(path.parent), GOCACHE=str(path.parent / "gocache"),
               PPROF_TMPDIR=str(path.parent))
    res = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=inuse_space", "-unit=B",
                          *extra, str(path)], capture_output=True, text=True, timeout=120,
                         env=env)
    assert res.returncode == 0, res.stderr
    rows, body = [], False
    for line in res.stdout.splitlines():
        if line.strip().startswith("flat"):
            body = True
            continue
        if body and line.strip():
            cols = line.split()
            rows.append((" ".join(cols[5:]), int(cols[0].rstrip("B"))))
    return rows, res.stdout


def own_first(rows, own):
    """The first row, by flat bytes, of one of the program's own functions."""
    for fn, flat in rows:
        if fn in own and flat:
            return fn, flat
    raise AssertionError(f"none of {own} in {rows}")

