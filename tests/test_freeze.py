# SPDX-License-Identifier: GPL-2.0-only
"""Freezing for the arena walk never harms the target: bounded, reported, always resumed."""
import json
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import MEMSLEUTH, SANITIZED, run


def states(pid):
    """The state letter of every thread of pid ('t' is a ptrace stop)."""
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                out.append(f.read().rsplit(")", 1)[1].split()[0])
        except FileNotFoundError:
            pass
    return out


def tracer_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return 0


def wait_for(cond, timeout=10, step=0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return False


def assert_running(t, path):
    """No thread is stopped, and the target still answers (malloc_info round trip)."""
    assert wait_for(lambda: tracer_of(t.pid) == 0, timeout=5)
    assert not [s for s in states(t.pid) if s in "tT"], states(t.pid)
    t.proc.stdin.write("info\n")
    t.proc.stdin.flush()
    assert t._readline(10).startswith("info")
    assert path.stat().st_size > 0


def start_watch(pid, *extra, hold_ms=None):
    env = dict(os.environ)
    if hold_ms is not None:
        env["MEMSLEUTH_TEST_FREEZE_HOLD_MS"] = str(hold_ms)
    return subprocess.Popen([MEMSLEUTH, "watch", str(pid), "--no-bpf", "--json", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture
def frag(target, tmp_path):
    path = tmp_path / "mi.xml"
    t = target("frag_threads", 4, 4, path)
    t.go()
    return t, path


def test_sigkill_at_random_moments_leaves_target_running(frag):
    t, path = frag
    rng = random.Random(4)
    for i in range(8):
        # Long freezes (held 300 ms, bounded by --freeze-max) every 0.4 s.
        w = start_watch(t.pid, "-i", "0.4", "--freeze-max", "1000", hold_ms=300)
        try:
            if i % 2 == 0:
                # Wait until the target is seen stopped: the kill lands inside a freeze.
                assert wait_for(lambda: "t" in states(t.pid), timeout=15), "never frozen"
                time.sleep(rng.uniform(0, 0.2))
            else:
                time.sleep(rng.uniform(0.05, 1.5))
        finally:
            w.kill()
            w.wait()
        assert_running(t, path)


def test_sigterm_during_freeze_resumes_and_exits_cleanly(frag):
    t, path = frag
    w = start_watch(t.pid, "-i", "0.4", "--freeze-max", "1000", hold_ms=500)
    assert wait_for(lambda: "t" in states(t.pid), timeout=15), "never frozen"
    w.send_signal(signal.SIGTERM)
    out, err = w.communicate(timeout=20)
    assert w.returncode == 0, err
    assert_running(t, path)
    if SANITIZED:
        assert "Sanitizer" not in err and "runtime error" not in err, err


def test_freeze_is_bounded_and_reported(frag):
    t, path = frag
    # Asked to stay frozen 3 s, the reader is cut off by --freeze-max 200.
    w = start_watch(t.pid, "-i", "0.5", "-n", "2", "--freeze-max", "200", hold_ms=3000)
    out, err = w.communicate(timeout=30)
    assert w.returncode == 0, err
    windows = [json.loads(line) for line in out.splitlines()]
    assert len(windows) == 2
    for win in windows:
        ms = win["arena_read"]["freeze_ms"]
        assert 150 <= ms < 1500, win["arena_read"]
        # Cut short, the walk falls back to the fixed fields.
        assert win["arena_read"]["complete"] is False
        assert win["arenas"] and all(a["system"] > 0 for a in win["arenas"])
    assert_running(t, path)


def test_normal_freeze_reports_its_duration(frag):
    t, path = frag
    res = run(["watch", t.pid, "-i", "0.5", "-n", "2", "--json", "--no-bpf"], check=0, timeout=30)
    for win in map(json.loads, res.stdout.splitlines()):
        assert win["arena_read"]["frozen"] and win["arena_read"]["complete"]
        assert 0 < win["arena_read"]["freeze_ms"] < 200
    assert_running(t, path)


def test_traced_target_gets_message_and_unfrozen_read(frag):
    t, path = frag
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=none", "-p", str(t.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: tracer_of(t.pid) == tracer.pid, timeout=10), "strace not attached"
        res = run(["watch", t.pid, "-i", "0.5", "-n", "2", "--json", "--no-bpf"], check=0,
                  timeout=30)
        assert f"traced by PID {tracer.pid}" in res.stderr, res.stderr
        assert res.stderr.count("traced by PID") == 1
        for win in map(json.loads, res.stdout.splitlines()):
            assert win["arena_read"]["frozen"] is False
            assert len(win["arenas"]) == 5
            assert all(a["free"] is None and a["system"] > 0 for a in win["arenas"])
        # The debugger still holds its target: memsleuth took nothing from it.
        assert tracer_of(t.pid) == tracer.pid
    finally:
        tracer.terminate()
        tracer.wait(10)
    assert_running(t, path)


def test_busy_target_is_read_without_harm(target, watch):
    """Four threads churning malloc: freezes often land inside it; the target checks its data."""
    t = target("grow_modes", "busy", 5)
    w = watch("watch", t.pid, "-i", "0.3", "-n", "10", "--json", "--no-bpf")
    done = t.go(timeout=30)
    assert done["mode"] == "busy"          # its own integrity checks passed
    windows = w.json_windows(timeout=40)
    assert len(windows) == 10
    # A read cut short (the --freeze-max deadline on a loaded machine) lists the arenas it
    # reached and says it is incomplete; a complete read lists all five.
    full = [win for win in windows if len(win["arenas"]) == 5]
    assert len(full) >= len(windows) // 2, [len(win["arenas"]) for win in windows]
    for win in windows:
        assert 1 <= len(win["arenas"]) <= 5, win["arenas"]
        if len(win["arenas"]) < 5:
            assert not win["arena_read"]["complete"], win["arena_read"]
        if win["arena_read"]["complete"]:
            assert all(a["walked"] for a in win["arenas"])
        for a in win["arenas"]:
            assert (a["free"] is None) == (not a["walked"])
        assert win["findings"] == []
    assert not [s for s in states(t.pid) if s in "tT"]
