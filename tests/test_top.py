# SPDX-License-Identifier: GPL-2.0-only
"""memsleuth top in a real terminal (tmux): the screen, the keys, resizing, replay, exit paths."""
import json
import os
import re
import shlex
import signal
import subprocess
import time

import pytest

from conftest import MEMSLEUTH, MIB, SANITIZED, require_root, run
from tmuxterm import Term, check_stderr, memsleuth_command

UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
BLOCKS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
UTF8 = {"LC_ALL": "C.UTF-8"}
CHUNK = 64 * 1024
SEVERITY = {"critical": "CRIT", "warn": "WARN", "info": "INFO"}


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


# ---- the live view ----------------------------------------------------------------------


def test_header_matches_target_and_region_deltas_show(target, top):
    t = target("grow_heap_anon", 48, 32)
    r = top("top", t.pid, "-i", "60", "--no-bpf")
    text = r.term.wait_for(rf"pid {t.pid} grow_heap_anon\b")
    text = r.term.wait_for(r"^ RSS\s+[\d.]+ ")
    rss = header_rss(text)
    assert near_vm_rss(rss, t.pid), (rss, vm_rss(t.pid))
    assert re.search(r"on: smaps fds arenas\s+off: bpf alloc", text), text
    t.go()
    # The window is 60 s: the growth stays in the deltas long enough to be seen under load.
    # [heap] also gains what of its first 132 KiB the target had not touched yet.
    text = r.term.wait_for(r"^ \[anon\] .* \+32\.0 MiB")
    assert re.search(r"\+48\.[01] MiB", region_row(text, "[heap]")), text
    rss = header_rss(text)
    assert near_vm_rss(rss, t.pid), (rss, vm_rss(t.pid))
    assert re.search(r"^ heap\s+48\.\d MiB\s+\+48\.[01] MiB", text, re.M), text
    r.term.keys("q")
    assert r.status() == 0


def test_default_collectors_as_root(target, top):
    if os.geteuid() != 0:
        pytest.skip("the eBPF probes need root")
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "-n", "3")
    text = r.term.wait_for(rf"pid {t.pid} ")
    assert r.status() == 0
    assert re.search(r"on: smaps fds arenas bpf\s+off:", text), text


def test_panels_switch_and_keys_work(target, top):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "-i", "60", "--no-bpf")
    term = r.term
    term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*")
    term.keys("Tab")
    term.wait_for(r"^ ARENA\s+THR\s+SYSTEM\*")
    term.keys("Tab")
    term.wait_for(r"^ TYPE\s+OPEN\*\s+DELTA$")
    assert re.search(r"^ open \d+ of \d+ allowed", term.text(), re.M)
    term.keys("Tab")
    term.wait_for(r"no stacks: they come from the eBPF probes")
    term.keys("Tab")
    text = term.wait_for(r"^ FINDINGS  no window analysed yet; next in")
    assert "waiting for the first window" in text
    term.keys("BTab")
    term.wait_for(r"no stacks: they come from the eBPF probes")
    term.keys("2")
    term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*")
    term.keys("s")
    term.wait_for(r"REGION\s+KIND\s+RSS\*\s+DELTA\s")
    term.keys("s")
    term.wait_for(r"REGION\*\s+KIND\s+RSS\s+DELTA\s")
    # Help: h and F1 open it, any key closes it.
    term.keys("h")
    term.wait_for(r"Any key closes this help")
    term.keys("x")
    term.wait_for(r"REGION\*\s+KIND")
    term.keys("F1")
    term.wait_for(r"Any key closes this help")
    term.keys("Escape")
    term.wait_for(r"REGION\*\s+KIND")
    # The window: + and - step through 60 s, 2 m, 1 m.
    term.wait_for(r"window (1m|\d+s/1m)\b")
    term.keys("+")
    term.wait_for(r"window [\dms]+/2m\b")
    term.keys("-")
    term.keys("-")
    term.wait_for(r"window [\dms]+/30s\b|window 30s\b")
    # Pause freezes what is shown; p again goes on.
    term.keys("p")
    term.wait_for(r"PAUSED: p resumes")
    term.keys("p")
    term.wait_for(r"live, every second")
    term.keys("C-l")
    term.wait_for(r"REGION\*\s+KIND")
    term.keys("q")
    assert r.status() == 0


def test_resize_lays_out_again(target, top):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "-i", "60", "--no-bpf")
    term = r.term
    text = term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*\s+DIRTY\s+SWAP$")
    assert "PSS" not in text and len(term.screen()) <= 24
    term.resize(120, 40)
    text = term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*\s+PSS\s+DIRTY\s+SWAP\s+VMAS$")
    lines = term.screen()
    assert term.size() == (120, 40)
    assert len(lines) == 40 and "q quit" in lines[39], lines
    assert lines[0].startswith(" memsleuth  pid"), lines
    term.resize(80, 24)
    text = term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*\s+DIRTY\s+SWAP$")
    lines = term.screen()
    assert len(lines) == 24 and "q quit" in lines[23], lines
    assert "VMAS" not in text
    term.keys("q")
    assert r.status() == 0


@pytest.mark.parametrize("width,height", [(80, 24), (120, 40)])
def test_sizes_show_pid_rss_deltas_and_real_findings(target, top, tmp_path, width, height):
    """A heap leak raises rss_growth and a verdict after two windows; report agrees."""
    rec = tmp_path / "live.jsonl"
    t = target("grow_modes", "leak", 60)
    r = top("top", t.pid, "-i", "2", "--no-bpf", "-o", rec, width=width, height=height,
            env=UTF8)
    r.term.wait_for(rf"pid {t.pid} grow_modes")
    go_nowait(t)
    text = r.term.wait_for(lambda s: re.search(r"^ WARN  rss_growth ", s, re.M) and
                           re.search(r"^ \[heap\] .* \+\d", s, re.M), timeout=60)
    r.term.keys("q")
    assert r.status() == 0
    assert re.search(rf"^ memsleuth  pid {t.pid} grow_modes", text, re.M), text
    assert header_rss(text) > 1 * MIB
    assert re.search(r"\+[\d.]+ (KiB|MiB)", region_row(text, "[heap]")), text
    lines = text.split("\n")
    assert all(len(l) <= width for l in lines) and len(lines) <= height
    # What the strip showed is what the analyzer says of that window, read back by report.
    index = int(re.search(r"FINDINGS  window #(\d+)", text).group(1))
    found = report_windows(rec)[index - 1]["findings"]
    shown = [(sev, label.split(" ")[0], summary) for sev, label, summary in finding_lines(text)]
    assert [k for _, k, _ in shown] == list(dict.fromkeys(f["kind"] for f in found)), text
    for sev, kind, summary in shown:
        f = next(f for f in found if f["kind"] == kind)
        assert sev == SEVERITY[f["severity"]]
        assert_summary_shown(summary, f["summary"])
    assert "rss_growth" in [k for _, k, _ in shown] and "verdict" in [k for _, k, _ in shown]


@pytest.mark.bpf
def test_alloc_names_the_leak_and_its_stacks(target, top):
    """top --alloc: malloc stacks from real probes, and the leak detector naming leak_slowly."""
    require_root("the malloc probes need root")
    t = target("alloc_leak", 16 * MIB, 4096, 20)
    r = top("top", t.pid, "-i", "2", "--alloc", "--alloc-duty", "20", "--stack-rate", "200",
            env=UTF8)
    r.term.wait_for(r"on: smaps fds arenas bpf alloc\b")
    go_nowait(t)
    text = r.term.wait_for(r"^ (CRIT|WARN)  leak\b", timeout=60)
    r.term.keys("5")
    text = r.term.wait_for(r"^ alloc .*  leak_slowly \(alloc_leak\.c:\d+\)$")
    kinds = set(re.findall(r"^ (alloc|mmap|brk|fault|fd) ", text, re.M))
    assert {"alloc", "brk", "fault"} <= kinds, text
    row = next(l for l in text.split("\n") if re.match(r" alloc .*leak_slowly", l))
    assert re.match(r" alloc +\+[\d.]+ (KiB|MiB) +\+\d+ +[\d.]+ (KiB|MiB)  leak_slowly", row), row
    # The leak expands to its evidence and its frames.
    r.term.keys("1")
    r.term.wait_for(r"^ FINDINGS  window #\d+ \(2s\)")
    r.term.keys("Enter")
    text = r.term.wait_for(r"^      stack_kind: alloc$")
    assert re.search(r"^      malloc from leak_slowly\+0x[0-9a-f]+ \(alloc_leak\.c:\d+\) holds ",
                     text, re.M), text
    assert re.search(r"^      run_bytes: \d+ \([\d.]+ (KiB|MiB)\)$", text, re.M), text
    assert re.search(r"^        leak_slowly\+0x[0-9a-f]+ \(alloc_leak\.c:\d+\)$", text, re.M), text
    assert re.search(r"^        run\+0x[0-9a-f]+ \(alloc_leak\.c:\d+\)$", text, re.M), text
    r.term.keys("q")
    assert r.status() == 0


@pytest.mark.bpf
def test_stacks_panel_shows_mmap_stacks(target, top):
    require_root("the growth probes need root")
    t = target("mmap_direct")
    r = top("top", t.pid, "-i", "60", env=UTF8)
    r.term.wait_for(r"on: smaps fds arenas bpf\b")
    t.go()
    r.term.keys("5")
    text = r.term.wait_for(r"^ mmap +\+8\.0 MiB +\+8 +8\.0 MiB  ")
    # The caller column skips the C library's wrappers: mmap_direct's own code shows.
    row = next(l for l in text.split("\n") if re.match(r" mmap +\+8\.0 MiB", l))
    assert re.search(r"(map_here|map_one)", row), text
    assert re.search(r"^ fault ", text, re.M), text
    # Sorted by kind, mmap first (largest change first): the second row is map_here's.
    r.term.keys("s", "s")
    r.term.wait_for(r"^ KIND\* ")
    r.term.keys("Down", "Enter")
    text = r.term.wait_for(r"^      __mmap64 \[inlined\] \(mmap64\.c:\d+\)$")
    assert re.search(r"^      map_here\+0x[0-9a-f]+ \(mmap_direct\.c:\d+\)$", text, re.M), text
    assert re.search(r"^      main\+0x[0-9a-f]+ \(mmap_direct\.c:\d+\)$", text, re.M), text
    r.term.keys("q")
    assert r.status() == 0


def test_target_exit_keeps_final_data_until_q(target, top):
    t = target("grow_heap_anon", 8, 0)
    r = top("top", t.pid, "-i", "60", "--no-bpf")
    r.term.wait_for(rf"pid {t.pid} ")
    t.go()
    r.term.wait_for(r"^ \[heap\] .* \+8\.[01] MiB")
    t.finish()
    text = r.term.wait_for(rf"target {t.pid} exited: final data shown, q quits")
    assert re.search(r"\+8\.[01] MiB", region_row(text, "[heap]")), text
    time.sleep(1.5)
    assert not r.rcfile.exists(), "top left before q"
    r.term.keys("q")
    assert r.status() == 0
    assert f"target {t.pid} exited" in r.stderr()


def test_frames_option_ends_by_itself(target, top):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "-n", "3", "--no-bpf")
    assert r.status() == 0
    assert "rc=0" in r.term.text()


def _stty(term, path):
    term.type(f"stty -g > {path}")
    term.keys("Enter")


@pytest.mark.parametrize("how", ["q", "SIGTERM"])
def test_exit_restores_the_shell(target, top, tmp_path, how):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "--no-bpf", shell=True)
    term = r.term
    _stty(term, tmp_path / "before")
    term.type(f"{r.cmd}; echo rc=$?")
    term.keys("Enter")
    term.wait_for(rf"pid {t.pid} ")
    if how == "q":
        term.keys("q")
    else:
        children = subprocess.run(["pgrep", "-P", str(term.pane_pid())],
                                  capture_output=True, text=True).stdout.split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGTERM)
    term.wait_for(r"^rc=0$")
    _stty(term, tmp_path / "after")
    term.type("echo ok-$((1+1))")
    term.keys("Enter")
    text = term.wait_for(r"^ok-2$")
    assert "$ echo ok-$((1+1))" in text, text   # typed keys echo again
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()


def test_names_from_the_target_cannot_drive_the_terminal(top):
    """An escape sequence in the target's name is shown inert, as '?'."""
    code = ("import ctypes, sys, time; ctypes.CDLL(None).prctl(15, b'\\x1b]2;pwn\\x07x', 0, 0, 0);"
            "print('ready', flush=True); time.sleep(120)")
    proc = subprocess.Popen(["python3", "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("ready")
        r = top("top", proc.pid, "--no-bpf")
        text = r.term.wait_for(rf"pid {proc.pid} ")
        assert f"pid {proc.pid} ?]2;pwn?x " in text, text
        r.term.keys("q")
        assert r.status() == 0
    finally:
        proc.kill()
        proc.wait()


def test_monochrome_ascii_terminal(target, top):
    t = target("grow_steady", 64, 100, 128)
    r = top("top", t.pid, "-i", "5", "--no-bpf",
            env={"TERM": "xterm-mono", "LC_ALL": "C", "LANG": "C"})
    r.term.wait_for(rf"pid {t.pid} ")
    go_nowait(t)
    text = r.term.wait_for(r"^ RSS .*[_.,\-~=*#]{3,}", timeout=30)
    assert not any(c in text for c in BLOCKS + "\u2502"), text
    assert re.search(r"1 Findings \d+ \| 2 Regions", text), text
    r.term.keys("q")
    assert r.status() == 0


def test_utf8_sparklines(target, top):
    t = target("grow_steady", 64, 100, 128)
    r = top("top", t.pid, "-i", "5", "--no-bpf", env={"LC_ALL": "C.UTF-8"})
    r.term.wait_for(rf"pid {t.pid} ")
    go_nowait(t)
    text = r.term.wait_for(lambda s: sum(s.count(c) for c in BLOCKS[1:]) >= 3)
    assert "\u2502 2 Regions" in text
    r.term.keys("q")
    assert r.status() == 0


# ---- replay -----------------------------------------------------------------------------

T0 = 1700000000.0
REGION_COLUMNS = ["name", "kind", "vmas", "size", "rss", "pss", "anon", "private_dirty", "swap"]
FRAMES = ["grow_cache+0x1a (cache.c:42)", "handle_request+0x88 (server.c:120)",
          "main+0x20 (main.c:10)"]


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


def write_recording(path, n=40):
    """A fixed recording: [heap] +1 MiB and 2 sockets per second, an mmap stack growing."""
    lines = [{"format": "memsleuth-recording", "version": 1, "created": T0, "pid": 4242,
              "comm": "replayd", "window_s": 10.0, "tick_s": 1.0, "bpf": True,
              "alloc": False, "host": "fixture", "kernel": "6.0",
              "region_columns": REGION_COLUMNS},
             {"type": "stack", "id": 7, "frames": FRAMES}]
    for i in range(n):
        heap = (20 + i) * MIB
        regions = [["[heap]", "heap", 1, heap, heap, heap, heap, heap, 0],
                   ["[anon]", "anon", 3, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 0],
                   ["[arena 0x7f0000000000]", "arena", 2, 64 * MIB, 4 * MIB, 4 * MIB,
                    4 * MIB, 4 * MIB, 0],
                   ["/usr/lib/libc.so.6", "file", 5, 2 * MIB, 2 * MIB, MIB, 0, 0, 0]]
        arenas = [{"addr": 0x7ffff7e19c80, "main": True, "threads": 1, "heaps": 0,
                   "system": heap, "max_system": heap, "top": MIB, "free": 2 * MIB,
                   "live": -1, "rss": heap, "reclaimable": 0, "fragmentation": 0.1},
                  {"addr": 0x7f0000000020, "main": False, "threads": 2, "heaps": 1,
                   "system": 4 * MIB, "max_system": 4 * MIB, "top": 64 << 10,
                   "free": 3 * MIB, "live": -1, "rss": 4 * MIB, "reclaimable": MIB,
                   "fragmentation": 0.75}]
        lines.append(sample_line(T0 + i, 4242, "replayd", regions, 10 + 2 * i, arenas,
                                 [[7, "mmap", i * MIB, i]]))
    lines.append({"type": "end", "t": T0 + n, "reason": "stopped"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_replay_shows_fixed_content_and_steps(top, tmp_path):
    rec = write_recording(tmp_path / "fixed.jsonl")
    r = top("top", "--replay", rec)
    term = r.term
    # It opens where the first window (10 s) closes: sample 11 of 40.
    text = term.wait_for(r"REPLAY 11/40")
    assert re.search(r"^ memsleuth  pid 4242 replayd  glibc  at 10s of 39s  window 10s  "
                     r"lost 0$", text, re.M), text
    assert re.search(r"^ RSS\s+44\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    assert re.search(r"^ heap\s+34\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    assert re.search(r"fds\s+33/1024\s+\+20", text), text
    assert re.search(r"\[heap\]\s+heap\s+30\.0 MiB\s+\+10\.0 MiB", text), text
    assert re.search(r"on: smaps fds arenas bpf\s+off: alloc", text), text
    # One window is no trend yet: the detectors wait for the second.
    assert re.search(r"FINDINGS  window #1 \(10s\)", text), text
    assert "nothing found in the last window" in text
    term.keys(".")
    text = term.wait_for(r"REPLAY 12/40")
    assert re.search(r"^ RSS\s+45\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    term.keys(",", ",")
    text = term.wait_for(r"REPLAY 10/40")
    assert re.search(r"^ RSS\s+43\.0 MiB\s+\+9\.0 MiB", text, re.M), text
    assert "no window analysed yet" in text
    term.keys("]")
    term.wait_for(r"REPLAY 20/40")
    term.keys("[")
    term.wait_for(r"REPLAY 10/40")
    term.keys(">")
    text = term.wait_for(r"REPLAY 40/40 .*end of the recording")
    assert re.search(r"^ RSS\s+73\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    term.keys("<")
    text = term.wait_for(r"REPLAY 1/40")
    assert re.search(r"^ RSS\s+34\.0 MiB\s+0 B", text, re.M), text
    # Panels over the recording.
    term.keys(">", "3")
    text = term.wait_for(r"ARENA\s+THR\s+SYSTEM\*")
    assert re.search(r"0x7f0000000020\s+2\s+4\.0 MiB\s+0 B\s+3\.0 MiB\s+75%\s+4\.0 MiB\s+"
                     r"1\.0 MiB", text), text
    assert re.search(r"main\s+1\s+59\.0 MiB\s+\+10\.0 MiB", text), text
    term.keys("4")
    text = term.wait_for(r"socket\s+88\s+\+20")
    assert re.search(r"open 91 of 1024 allowed \(9%\), \+20 in 10s: the limit in 7m", text)
    term.keys("5")
    text = term.wait_for(r"mmap\s+\+10\.0 MiB\s+\+10\s+39\.0 MiB\s+grow_cache \(cache\.c:42\)$")
    assert "main+0x20" not in text
    term.keys("Enter")
    text = term.wait_for(r"main\+0x20 \(main\.c:10\)")
    assert "handle_request+0x88 (server.c:120)" in text
    assert "grow_cache+0x1a (cache.c:42)" in text
    # Play advances on its own, one sample a second, and stops at the end.
    term.keys("<", "Space")
    term.wait_for(r"REPLAY [3-9]/40 .*playing")
    term.keys("Space")
    text = term.wait_for(r"REPLAY \d+/40 .*paused")
    term.keys("q")
    assert r.status() == 0


def write_findings_recording(path):
    """Three 10 s windows whose data makes every detector fire (see analyzer/detect_*.c).

    pool_grow maps 1 to 3 chunks of 64 KiB a second into [anon:chunk pool], each an mmap
    event (chunk_steps, quantum from the events; the chunks stay, a critical leak too);
    a thread arena holds 6 MiB free of 8 MiB (arena_fragmentation); sockets +2 a second
    with a limit of 1024 (fd_growth, critical: the limit is minutes away); leaky_alloc
    keeps 4 KiB a second in [heap] (leak, warn) while a cache fills once and stays (no
    leak); map_ring maps 1044 KiB a second that [anon] gains (leak, critical, and with
    the pool mmap_growth); RSS follows (rss_growth, verdict).
    """
    frames = {1: ["leaky_alloc+0x1a (leak.c:42)", "handle_request+0x88 (server.c:120)",
                  "main+0x20 (main.c:10)"],
              2: ["cache_put+0x10 (cache.c:12)", "main+0x20 (main.c:10)"],
              7: ["__socket+0x7 (socket.S:10)", "accept_conn+0x30 (net.c:71)",
                  "main+0x20 (main.c:10)"],
              8: ["open_log+0x12 (log.c:9)", "main+0x20 (main.c:10)"],
              9: ["__mmap64 [inlined] (mmap64.c:58)", "map_ring+0x44 (ring.c:50)",
                  "main+0x20 (main.c:10)"],
              10: ["brk+0x7 (brk.c:37)", "__sbrk+0x95 (sbrk.c:74)",
                   "leaky_alloc+0x1a (leak.c:42)", "main+0x20 (main.c:10)"],
              11: ["__mmap64 [inlined] (mmap64.c:58)", "pool_grow+0x2c (pool.c:31)",
                   "main+0x20 (main.c:10)"]}
    lines = [{"format": "memsleuth-recording", "version": 1, "created": T0, "pid": 4343,
              "comm": "findingsd", "window_s": 10.0, "tick_s": 1.0, "bpf": True,
              "alloc": True, "host": "fixture", "kernel": "6.0",
              "region_columns": REGION_COLUMNS}]
    lines += [{"type": "stack", "id": k, "frames": v} for k, v in frames.items()]
    pool = 0
    for i in range(31):
        chunks = (1 + i % 3) if i else 0
        pool += chunks * CHUNK
        heap = 16 * MIB + i * 4096
        anon = 4 * MIB + i * (MIB + 20 * 1024)
        regions = [["[heap]", "heap", 1, heap, heap, heap, heap, heap, 0],
                   ["[anon]", "anon", 3, anon, anon, anon, anon, anon, 0],
                   ["[anon:chunk pool]", "anon", 1 + i, pool, pool, pool, pool, pool, 0],
                   ["[arena 0x7f0000000000]", "arena", 2, 64 * MIB, 8 * MIB, 8 * MIB,
                    8 * MIB, 8 * MIB, 0],
                   ["/usr/lib/libc.so.6", "file", 5, 2 * MIB, 2 * MIB, MIB, 0, 0, 0]]
        arenas = [{"addr": 0x7ffff7e19c80, "main": True, "threads": 1, "heaps": 0,
                   "system": heap, "max_system": heap, "top": 64 * 1024, "free": 256 * 1024,
                   "live": -1, "rss": heap, "reclaimable": 0},
                  {"addr": 0x7f0000000020, "main": False, "threads": 2, "heaps": 1,
                   "system": 8 * MIB, "max_system": 8 * MIB, "top": 64 * 1024,
                   "free": 6 * MIB, "live": -1, "rss": 8 * MIB, "reclaimable": MIB,
                   "fragmentation": 0.75}]
        stacks = [[1, "alloc", i * 4096, i], [2, "alloc", min(i, 4) * 64 * 1024, min(i, 4)],
                  [7, "fd", 0, 10 + 2 * i], [8, "fd", 0, 3],
                  [9, "mmap", i * (MIB + 20 * 1024), i], [10, "brk", i * 4096, i],
                  [11, "mmap", pool, pool // CHUNK]]
        events = [[T0 + i - 0.5, "mmap", CHUNK, 0x7e0000000000 + pool - k * CHUNK, 11]
                  for k in range(chunks)]
        lines.append(sample_line(T0 + i, 4343, "findingsd", regions, 10 + 2 * i, arenas,
                                 stacks, events))
    lines.append({"type": "end", "t": T0 + 31, "reason": "stopped"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_replay_real_findings_most_severe_first_and_expand(top, tmp_path):
    """The analyzer's own findings, as report derives them, fill the Findings panel."""
    rec = write_findings_recording(tmp_path / "findings.jsonl")
    windows = report_windows(rec)
    assert len(windows) == 3
    # Fragmentation is a state, seen at once; growth needs two windows to be a trend.
    assert [f["kind"] for f in windows[0]["findings"]] == ["arena_fragmentation"]
    found = windows[2]["findings"]
    # What the recording was made to show, as the detectors compute it, most severe first.
    assert [(f["kind"], f["severity"]) for f in found] == [
        ("fd_growth", "critical"), ("leak", "critical"), ("leak", "critical"),
        ("chunk_steps", "warn"), ("arena_fragmentation", "warn"), ("leak", "warn"),
        ("mmap_growth", "warn"), ("rss_growth", "warn"), ("verdict", "warn")]
    fd, ring, pool, steps, frag, leak = (f["evidence"] for f in found[:6])
    assert fd["fds_per_s"] == pytest.approx(2.0)
    assert fd["seconds_to_limit"] == pytest.approx((1024 - 73) / 2.0)
    assert ring["bytes_delta"] == 10 * (MIB + 20 * 1024) and ring["stack_kind"] == "mmap"
    assert pool["stack_kind"] == "mmap" and pool["count"] == 60
    # The pool's steps: 19 chunks in 10 bursts in the last window, sized by the mmap events.
    assert steps == {"quantum": CHUNK, "steps": 19, "bursts": 10, "bytes": 19 * CHUNK,
                     "growth": 19 * CHUNK, "quantum_source": "events",
                     "region": "[anon:chunk pool]"}, steps
    assert found[3]["frames"][1] == "pool_grow+0x2c (pool.c:31)"
    assert frag["free_resident"] == 6 * MIB and frag["threads"] == 2
    assert leak["stack_kind"] == "alloc" and leak["run_bytes"] == 30 * 4096
    # Summaries name the code that mapped, not the C library's mmap wrapper.
    assert found[1]["summary"].startswith("mmap from map_ring+0x44 (ring.c:50) holds 30.6 MiB "
                                          "more over 3 windows"), found[1]["summary"]
    assert found[1]["frames"][0] == "__mmap64 [inlined] (mmap64.c:58)"

    r = top("top", "--replay", rec, env=UTF8, height=40)
    term = r.term
    term.wait_for(r"REPLAY 11/31")
    term.keys(">")
    text = term.wait_for(r"REPLAY 31/31 .*end of the recording")
    assert re.search(r"FINDINGS  window #3 \(10s\)", text), text
    # The strip: one line per kind, most severe first, counted.
    strip = [(sev, label) for sev, label, _ in finding_lines(text)]
    assert strip == [("CRIT", "fd_growth"), ("CRIT", "leak \u00d73"), ("WARN", "chunk_steps"),
                     ("WARN", "arena_fragmentation"), ("WARN", "mmap_growth"),
                     ("WARN", "rss_growth"), ("WARN", "verdict")], text
    # At 80x24 it keeps the four most severe kinds and points to the rest.
    term.resize(80, 24)
    text = term.wait_for(r"^ \.\.\. 3 more kinds: 1 opens the Findings panel$")
    assert [(sev, label) for sev, label, _ in finding_lines(text)] == strip[:4], text
    for (_, label, summary), f in zip(finding_lines(text), found[:2] + found[3:5]):
        assert_summary_shown(summary, f["summary"])
        # Cut at a word, and a figure keeps its unit.
        assert summary.endswith("\u2026") and not re.search(r"\d\u2026$", summary), text
    term.resize(80, 40)
    term.keys("1")
    text = term.wait_for(r"^ FINDINGS  window #3 \(10s\)")
    shown = finding_lines(text)
    assert [(sev, kind) for sev, kind, _ in shown] == [(SEVERITY[f["severity"]], f["kind"])
                                                      for f in found], text
    for (_, _, summary), f in zip(shown, found):
        assert_summary_shown(summary, f["summary"])
        assert len(summary) > 20
    # Enter on the first row: fd_growth's evidence, in units, and its opener's frames.
    term.keys("Enter")
    text = term.wait_for(r"^      seconds_to_limit: 475\.5 \(7m56s\)$")
    assert re.search(r"^      fds: 73$", text, re.M), text
    assert re.search(r"^      limit: 1024$", text, re.M), text
    assert re.search(r"^        accept_conn\+0x30 \(net\.c:71\)$", text, re.M), text
    # The fourth row, chunk_steps: the stack of the steps' mmaps, the quantum in units.
    term.keys("Down", "Down", "Down", "Enter")
    text = term.wait_for(r"^        pool_grow\+0x2c \(pool\.c:31\)$")
    assert re.search(r"^      quantum: 65536 \(64\.0 KiB\)$", text, re.M), text
    assert re.search(r"^      quantum_source: events$", text, re.M), text
    assert "accept_conn" not in text, "one finding is expanded at a time"
    # The sixth row, the warn leak: the whole summary wrapped, every figure, every frame.
    term.keys("Down", "Down", "Enter")
    text = term.wait_for(r"^        leaky_alloc\+0x1a \(leak\.c:42\)$")
    for key in leak:
        assert re.search(rf"^      {key}: ", text, re.M), (key, text)
    assert re.search(r"^      run_bytes: 122880 \(120 KiB\)$", text, re.M), text
    assert re.search(r"^      bytes_per_s: 4096 \(4\.0 KiB/s\)$", text, re.M), text
    assert re.search(r"^        handle_request\+0x88 \(server\.c:120\)$", text, re.M), text
    assert found[5]["summary"] in " ".join(text.split()), text
    r.term.keys("q")
    assert r.status() == 0


def test_replay_window_keys_recut(top, tmp_path):
    rec = write_recording(tmp_path / "fixed.jsonl")
    r = top("top", "--replay", rec, "-i", "5")
    text = r.term.wait_for(r"REPLAY 6/40")
    assert re.search(r"^ RSS\s+39\.0 MiB\s+\+5\.0 MiB", text, re.M), text
    r.term.keys("+")
    # Five seconds into the recording, a 10 s window can only span five.
    text = r.term.wait_for(r"window 5s/10s\b")
    assert re.search(r"^ RSS\s+39\.0 MiB\s+\+5\.0 MiB", text, re.M), text
    r.term.keys(">")
    text = r.term.wait_for(r"REPLAY 40/40")
    assert re.search(r"^ RSS\s+73\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    r.term.keys("q")
    assert r.status() == 0


def test_top_records_what_it_shows(target, top, tmp_path):
    """top -o writes a recording that report and top --replay read back."""
    t = target("grow_heap_anon", 8, 0)
    rec = tmp_path / "live.jsonl"
    r = top("top", t.pid, "-i", "5", "--no-bpf", "-o", rec)
    r.term.wait_for(rf"pid {t.pid} ")
    t.go()
    r.term.wait_for(r"^ \[heap\] .* \+8\.[01] MiB")
    r.term.wait_for(r"FINDINGS  window #1 \(5s\)")
    r.term.keys("q")
    assert r.status() == 0
    res = run(["report", rec, "--json"], check=0)
    assert json.loads(res.stdout.splitlines()[0])["pid"] == t.pid
    replay = top("top", "--replay", rec)
    text = replay.term.wait_for(r"REPLAY \d+/\d+")
    assert re.search(rf"pid {t.pid} grow_heap_anon", text), text
    replay.term.keys("q")
    assert replay.status() == 0


def test_unusable_terminal_is_one_line(target, top):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "--no-bpf", env={"TERM": "no-such-terminal"})
    assert r.status() == 1
    assert r.stderr().strip() == ("memsleuth top: cannot drive the terminal "
                                  "(TERM=no-such-terminal)")


# ---- errors, without a terminal ---------------------------------------------------------


def test_help_names_every_option():
    out = run(["top", "--help"], check=0).stdout
    for opt in ("-i, --interval SECONDS", "-n, --frames FRAMES", "-o, --output FILE",
                "--replay FILE", "--alloc ", "--alloc-duty PCT", "--alloc-exact",
                "--alloc-sample BYTES", "--alloc-optional", "--no-bpf", "--no-freeze",
                "--freeze-max MS", "--no-arenas", "--fault-rate N", "--stack-rate N",
                "-h, --help"):
        assert opt in out, (opt, out)


def test_usage_errors(tmp_path):
    rec = write_recording(tmp_path / "fixed.jsonl")
    for args in (["top"], ["top", "1", "--replay", rec], ["top", "--replay", rec, "--no-bpf"],
                 ["top", "--replay", rec, "--alloc"], ["top", "1", "--alloc-duty", "0"],
                 ["top", "1", "--freeze-max", "20000"], ["top", "1", "--fault-rate", "x"],
                 ["top", "1", "-i", "1000"], ["top", "1", "--bogus"], ["top", "abc"]):
        res = run(args, check=2)
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert res.stderr.startswith("memsleuth top: "), res.stderr


def test_runtime_errors_are_one_line(target, tmp_path):
    t = target("grow_heap_anon", 1, 1)
    res = run(["top", t.pid, "--no-bpf"], check=1)
    assert res.stderr.strip() == ("memsleuth top: the live view needs a terminal (use "
                                  "'memsleuth watch' for text or JSON output)")
    res = run(["top", "--replay", tmp_path / "missing.jsonl"], check=1)
    assert len(res.stderr.strip().splitlines()) == 1 and "missing.jsonl" in res.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(write_recording(tmp_path / "ok.jsonl").read_text()[:-40])
    res = run(["top", "--replay", bad], check=1)
    assert len(res.stderr.strip().splitlines()) == 1 and "line 43" in res.stderr, res.stderr


# ---- the demo ---------------------------------------------------------------------------


def test_demo_opens_top_and_stops_its_target(top):
    r = top("demo", "-n", "120", "--no-bpf")
    text = r.term.wait_for(r"pid \d+ memsleuth-demo")
    pid = int(re.search(r"pid (\d+) memsleuth-demo", text).group(1))
    # The sanitizer build's demo target allocates with ASan's malloc: no glibc arenas.
    growing = r"^ \[anon\] " if SANITIZED else r"^ \[arena 0x[0-9a-f]+\] .*arena"
    r.term.wait_for(growing + r".* \+[\d.]+ (KiB|MiB)")
    r.term.keys("q")
    assert r.status() == 0
    assert f"started demo target, PID {pid}" in r.stderr()
    assert not os.path.exists(f"/proc/{pid}/stat") or \
        open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z"


FOUR = ("leak", "chunk_steps", "arena_fragmentation", "fd_growth")


def check_demo_findings(win):
    """The demo's four problems, as the detectors name them in one window."""
    by_kind = {}
    for f in win["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    assert set(FOUR) <= set(by_kind), [f["kind"] for f in win["findings"]]
    steps = by_kind["chunk_steps"][0]["evidence"]
    assert steps["region"] == "[heap]" and steps["quantum"] == 64 * 1024, steps
    # Three workers, each in its own arena, hold free holes between their records.
    frags = by_kind["arena_fragmentation"]
    assert len(frags) == 3, frags
    for f in frags:
        ev = f["evidence"]
        assert not ev["main"] and ev["threads"] == 1 and ev["free_resident"] >= 4 * MIB, ev
    fds = by_kind["fd_growth"][0]
    assert fds["evidence"]["top_type"] == "socket", fds
    assert any(fr.startswith("accept_connection+") for fr in fds["frames"]), fds
    # The small leak is named by its stack, the session thread's; the request log leaks too.
    leaks = {f["frames"][0].split("+")[0]: f for f in by_kind["leak"]}
    assert {"session_open", "request_log_append"} <= set(leaks), list(leaks)
    session = leaks["session_open"]
    assert session["evidence"]["stack_kind"] == "alloc" and session["frames"][1].startswith(
        "sessions+"), session
    assert session["summary"].startswith("malloc from session_open+"), session


# The sanitizer build's demo target allocates with ASan's malloc: no [heap], no glibc arenas.
@pytest.mark.nosan
@pytest.mark.bpf
def test_demo_shows_the_four_problems_within_two_windows(top, tmp_path):
    """Issue 5's acceptance: chunk steps, arena fragmentation, fd growth and a small leak."""
    require_root("the leak is traced to its stack by the malloc probes, which need root")
    rec = tmp_path / "demo.jsonl"
    r = top("demo", "-o", rec, env=UTF8)
    text = r.term.wait_for(r"pid \d+ memsleuth-demo .* window 5s")
    assert re.search(r"on: smaps fds arenas bpf alloc$", text, re.M), text
    # All four on the first screen, in the strip, most severe first.
    text = r.term.wait_for(lambda s: [label.split(" ")[0] for _, label, _ in finding_lines(s)]
                           [:4] == list(FOUR), timeout=90)
    assert re.search(r"^ CRIT  leak \u00d7\d", text, re.M), text
    # Room for every stack, down to the fd openers, which change no bytes and come last.
    r.term.resize(100, 40)
    r.term.keys("5")
    text = r.term.wait_for(r"^ alloc .*  session_open \(demo_target\.c:\d+\)$")
    for kind, caller in (("alloc", "request_log_append"), ("fd", "accept_connection"),
                         ("fault", "request_log_append"), ("brk", "")):
        assert re.search(rf"^ {kind} .*  {caller}", text, re.M), (kind, text)
    r.term.keys("q")
    assert r.status() == 0
    # The same data read back: the second window already names all four.
    windows = report_windows(rec)
    assert not set(FOUR) <= {f["kind"] for f in windows[0]["findings"]}
    check_demo_findings(windows[1])


@pytest.mark.nosan
@pytest.mark.bpf
def test_demo_without_terminal_reports_the_four_problems():
    require_root("the leak is traced to its stack by the malloc probes, which need root")
    res = run(["demo", "-n", "2", "--json"], timeout=90, check=0)
    windows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(windows) == 2 and all(w["comm"] == "memsleuth-demo" for w in windows)
    # Fragmentation is a state, there from the first window; the rest are trends.
    assert len([f for f in windows[0]["findings"] if f["kind"] == "arena_fragmentation"]) == 3
    check_demo_findings(windows[1])
    assert "demo target stopped" in res.stderr


def test_demo_without_bpf_privileges_goes_on_and_says_so():
    """No CAP_BPF: the demo says the leak is not traced, and shows the rest."""
    drop = ["setpriv", "--bounding-set=-bpf,-perfmon,-sys_admin"] if os.geteuid() == 0 else []
    res = subprocess.run([*drop, MEMSLEUTH, "demo", "-n", "1", "-i", "1", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert re.search(r"^memsleuth demo: going on without the malloc probes, so the leak is not "
                     r"traced to its stack: .*CAP_BPF", res.stderr, re.M), res.stderr
    win = json.loads(res.stdout)
    assert win["comm"] == "memsleuth-demo" and not win["collectors"]["bpf"], win["collectors"]
    assert "Sanitizer" not in res.stderr and "runtime error" not in res.stderr, res.stderr


def test_demo_help_names_its_options():
    out = run(["demo", "--help"], check=0).stdout
    for opt in ("-i, --interval", "-n COUNT", "--json", "--no-alloc", "--no-bpf", "-h, --help"):
        assert opt in out, (opt, out)
    assert "within two windows" in out
