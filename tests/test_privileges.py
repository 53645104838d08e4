# SPDX-License-Identifier: GPL-2.0-only
"""Missing privileges: memsleuth names the capability it lacks and falls back to /proc
data where that is enough (one's own processes), or stops with one line where it is not."""
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import MIB, SANITIZED, region, require_root, run, wait_samples, within

NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")


def without(*caps):
    """Runs as root with `caps` removed from the bounding set, hence from the process."""
    return ("setpriv", "--bounding-set=" + ",".join("-" + c for c in caps), "--")


def watch_heap(target, watch, wrap_target=(), wrap_memsleuth=()):
    """Watches grow_heap_anon through its growth; returns the last window and stderr."""
    # The recording may be written as nobody, who cannot enter pytest's private tmp_path.
    shared = Path(tempfile.mkdtemp(prefix="memsleuth-test-"))
    shared.chmod(0o777)
    try:
        return _watch_heap(target, watch, shared / "rec.jsonl", wrap_target, wrap_memsleuth)
    finally:
        shutil.rmtree(shared)


def _watch_heap(target, watch, rec, wrap_target, wrap_memsleuth):
    t = target("grow_heap_anon", 16, 0, wrap=wrap_target)
    w = watch("watch", t.pid, "-i", "2", "--json", "-o", rec, wrap=wrap_memsleuth)
    t.go()
    wait_samples(rec, 2)
    code, out, err = w.interrupt(timeout=40)
    assert code == 0, err
    windows = [json.loads(x) for x in out.splitlines()]
    assert {x["pid"] for x in windows} == {t.pid}
    grown = sum(region(x, "[heap]")["rss_delta"] for x in windows)
    assert within(grown, 16 * MIB), (grown, err)
    return windows[-1], err


@pytest.mark.bpf
def test_full_root_attaches_the_probes(target, watch):
    """The control for the tests below: with every capability the probes are on."""
    require_root()
    win, err = watch_heap(target, watch)
    assert win["collectors"]["bpf"] is True, err
    assert "eBPF probes off" not in err


def test_root_without_bpf_and_perfmon_falls_back(target, watch):
    require_root()
    win, err = watch_heap(target, watch, wrap_memsleuth=without("bpf", "perfmon", "sys_admin"))
    assert win["collectors"]["bpf"] is False
    warn = [x for x in err.splitlines() if "eBPF probes off" in x]
    assert len(warn) == 1 and "CAP_BPF and CAP_PERFMON" in warn[0], err
    assert "using /proc only" in warn[0]


def test_root_without_perfmon_names_only_perfmon(target, watch):
    require_root()
    win, err = watch_heap(target, watch, wrap_memsleuth=without("perfmon", "sys_admin"))
    assert win["collectors"]["bpf"] is False
    warn = [x for x in err.splitlines() if "eBPF probes off" in x]
    assert len(warn) == 1 and "CAP_PERFMON" in warn[0] and "CAP_BPF" not in warn[0], err


def test_unprivileged_user_watches_own_process(target, watch):
    """As nobody, on a process owned by nobody: /proc data and the arenas (reading one's
    own process's memory takes no privilege), and a word on what is missing."""
    require_root("needs root to become nobody")
    win, err = watch_heap(target, watch, wrap_target=NOBODY, wrap_memsleuth=NOBODY)
    assert win["collectors"] == {"smaps": True, "fds": True, "arenas": True, "bpf": False}
    assert win["arena_read"]["complete"] is True, win["arena_read"]
    assert win["fds"]["total"] >= 3
    warn = [x for x in err.splitlines() if "eBPF probes off" in x]
    assert len(warn) == 1 and "CAP_BPF and CAP_PERFMON" in warn[0], err


def test_root_without_sys_ptrace_names_it(target):
    """Reading another user's smaps takes CAP_SYS_PTRACE; on this kernel CAP_PERFMON or
    CAP_SYS_ADMIN do too, so all three go."""
    require_root()
    t = target("grow_heap_anon", 0, 0, wrap=NOBODY)
    ok = run(["watch", t.pid, "-i", "0.2", "-n", "1", "--no-bpf"], timeout=30)
    assert ok.returncode == 0, ok.stderr
    res = run(["watch", t.pid, "-n", "1", "--no-bpf"], wrap=without("sys_ptrace", "perfmon", "sys_admin"),
              timeout=30)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "CAP_SYS_PTRACE" in lines[0] and "runs as root" in lines[0], lines
    if SANITIZED:
        assert "Sanitizer" not in res.stderr


def test_root_without_dac_read_search_says_fds_are_off(target, watch):
    """Another user's /proc/PID/fd is mode 0500: without CAP_DAC_READ_SEARCH (and
    CAP_DAC_OVERRIDE) the fd counts cannot be read. They show as null, never as zero,
    and memsleuth says why, once."""
    require_root()
    t = target("grow_heap_anon", 0, 0, wrap=NOBODY)
    w = watch("watch", t.pid, "-i", "0.3", "-n", "2", "--json", "--no-bpf",
              wrap=without("dac_read_search", "dac_override"))
    code, out, err = w.wait(timeout=30)
    assert code == 0, err
    windows = [json.loads(x) for x in out.splitlines()]
    assert len(windows) == 2
    for win in windows:
        assert win["fds"] is None and win["totals"]["fds"] is None
        assert win["collectors"]["fds"] is False
    warn = [x for x in err.splitlines() if "/fd" in x]
    assert len(warn) == 1 and "CAP_DAC_READ_SEARCH" in warn[0], err


def test_top_without_root_names_the_privilege_for_alloc(target):
    """As nobody top leaves the probes off by itself; --alloc-exact (which implies --alloc)
    then fails on the missing capabilities, not on a --no-bpf the user never gave."""
    require_root("needs root to become nobody")
    t = target("grow_heap_anon", 0, 0, wrap=NOBODY)
    res = run(["top", t.pid, "--alloc-exact"], wrap=NOBODY, stdin=subprocess.DEVNULL)
    assert res.returncode == 1, res.stderr
    assert res.stderr.splitlines() == [
        "memsleuth top: eBPF probes need CAP_BPF and CAP_PERFMON for the malloc probes of "
        "--alloc (run as root, or drop --alloc)"], res.stderr
