# SPDX-License-Identifier: GPL-2.0-only
"""Running memsleuth top under tmux for the tests, and reading findings off its screen."""
import json
import os
import re
import shlex
import time

import pytest

from conftest import MEMSLEUTH, MIB, run
from tmuxterm import Term, check_stderr, memsleuth_command

UTF8 = {"LC_ALL": "C.UTF-8"}
SEVERITY = {"critical": "CRIT", "warn": "WARN", "info": "INFO"}
T0 = 1700000000.0
REGION_COLUMNS = ["name", "kind", "vmas", "size", "rss", "pss", "anon", "private_dirty", "swap"]
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


class TopRun:
    """memsleuth under tmux: directly (its exit status printed after it), or typed into a shell."""

    def __init__(self, tmp_path, args, width=80, height=24, env=None, shell=False, n=0):
        self.errfile = tmp_path / f"top-{n}.err"
        self.rcfile = tmp_path / f"top-{n}.rc"
        self.cmd = memsleuth_command(MEMSLEUTH, args, self.errfile)
        if shell:
            assert not env, "a typed command line cannot carry the environment"
            self.term = Term("env -i PATH=/usr/bin:/bin TERM=screen PS1='$ ' "
                             "bash --norc --noprofile -i", width, height)
            self.term.wait_for(r"^\$ ?$")
        else:
            script = tmp_path / f"top-{n}.sh"
            exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in (env or {}).items())
            # exec: the pane's leader then is sleep, which the teardown's hangup ends.
            script.write_text(f"{exports}{self.cmd}\necho rc=$? > {self.rcfile}\n"
                              f"cat {self.rcfile}\nexec sleep 600\n")
            self.term = Term(f"sh {script}", width, height)

    def status(self, timeout=30):
        """Waits for memsleuth to end; returns its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rcfile.exists() and self.rcfile.read_text().strip():
                return int(self.rcfile.read_text().strip().split("=")[1])
            time.sleep(0.2)
        raise AssertionError(f"memsleuth did not exit; screen:\n{self.term.text()}")

    def stderr(self):
        return check_stderr(self.errfile)


@pytest.fixture
def top(tmp_path):
    started = []

    def start(*args, **kw):
        r = TopRun(tmp_path, args, n=len(started), **kw)
        started.append(r)
        return r

    yield start
    for r in started:
        r.term.kill()
    for r in started:
        r.stderr()


def go_nowait(t):
    """Lets a steady target start growing without waiting for its 'done'."""
    t.proc.stdin.write("go\n")
    t.proc.stdin.flush()


def report_windows(rec):
    """The windows `report` derives from a recording: the analyzer's own findings."""
    res = run(["report", rec, "--json"], check=0)
    return [json.loads(line) for line in res.stdout.splitlines()]


def finding_lines(text):
    """(severity, kind label, summary as shown) of every finding line on the screen."""
    return [m.groups() for m in re.finditer(r"^ (CRIT|WARN|INFO)  (\S+(?: \u00d7\d+)?)\s+(.*)$",
                                            text, re.M)]


def assert_summary_shown(shown, summary):
    """A summary is shown whole, or cut at a word (never inside a figure) with an ellipsis."""
    if shown == summary:
        return
    assert shown.endswith("\u2026"), (shown, summary)
    head = shown[:-1]
    assert summary.startswith(head) and summary[len(head)] in " ,;:", (shown, summary)


def sample_line(t, pid, comm, regions, sockets, arenas, stacks, events=()):
    """A recording's sample: totals from the regions, 3 files and `sockets` open of 1024."""
    rss = sum(r[4] for r in regions)
    return {"type": "sample", "t": t, "pid": pid, "comm": comm, "allocator": "glibc",
            "threads": 3, "bpf": True, "lost_events": 0,
            "totals": {"rss": rss, "pss": rss, "anon": rss - 2 * MIB, "swap": 0,
                       "size": 300 * MIB},
            "regions": regions,
            "fds": {"total": sockets + 3, "limit": 1024,
                    "by_type": {"socket": sockets, "file": 3}},
            "arenas": arenas, "stacks": stacks, "events": list(events)}


def near_vm_rss(rss, pid):
    """The header's RSS (smaps, exact) against VmRSS, which the kernel counts per CPU in
    batches: at a few MiB that can be off by more than 3% (32 pages a CPU here)."""
    vm = vm_rss(pid)
    return abs(rss - vm) <= max(0.03 * vm, 64 * 4096 * os.cpu_count())


def header_rss(text):
    m = re.search(r"^ RSS\s+([\d.]+) (B|KiB|MiB|GiB)\s", text, re.M)
    assert m, text
    return float(m.group(1)) * UNITS[m.group(2)]


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def region_row(text, name):
    for line in text.split("\n"):
        if line.strip().startswith(name + " ") or line.strip() == name:
            return line
    raise AssertionError(f"no row {name!r} in:\n{text}")
