# SPDX-License-Identifier: GPL-2.0-only
"""memsleuth ps: every process on the host ranked by growth, and the memory cgroups."""
import json
import os

import pytest

from cgroups import memory_group  # noqa: F401 (a fixture)
from conftest import MIB, run
from test_hostile import NOBODY

RATE_MIB = 12


def windows(res):
    return [json.loads(line) for line in res.stdout.splitlines()]


def row(win, pid):
    found = [p for p in win["processes"] if p["pid"] == pid]
    assert len(found) == 1, f"PID {pid} is not listed once"
    return found[0]


def start_grower_and_steady(target):
    grower = target("grow_rate", RATE_MIB, 400)
    steady = target("control_churn", 60)
    for t in (grower, steady):
        t.proc.stdin.write("go\n")
        t.proc.stdin.flush()
    return grower, steady


def test_ps_ranks_the_growing_process_first(target):
    grower, steady = start_grower_and_steady(target)
    res = run(["ps", "-i", "3", "-n", "2", "--json"], check=0, timeout=60)
    wins = windows(res)
    assert [w["window"] for w in wins] == [1, 2]
    win = wins[1]
    # Processes come sorted by growth, largest first.
    deltas = [p["rss_delta"] or 0 for p in win["processes"]]
    assert deltas == sorted(deltas, reverse=True)
    top3 = [p["pid"] for p in win["processes"][:3]]
    assert grower.pid in top3, win["processes"][:5]
    g = row(win, grower.pid)
    # It adds RATE_MIB MiB a second on a clock: that times the window is what it added, and
    # its rate (over the time between its own two reads) is that.
    added = RATE_MIB * MIB * win["window_s"]
    assert abs(g["rss_delta"] - added) <= 0.15 * added, (g, win["window_s"])
    assert abs(g["pss_delta"] - added) <= 0.15 * added, g
    assert abs(g["rate"] - RATE_MIB * MIB) <= 0.15 * RATE_MIB * MIB, g
    assert g["growing"] and g["growing_windows"] == 2 and not g["new"], g
    assert g["comm"] == "grow_rate" and g["readable"] and g["fds"] >= 3
    assert g["seconds_to_limit"] is not None and g["seconds_to_limit"] > 0
    s = row(win, steady.pid)
    assert not s["growing"] and s["growing_windows"] == 0, s
    assert abs(s["rss_delta"]) < MIB, s
    # Kernel threads are counted, not listed; the counts add up.
    assert win["counts"]["kernel_threads"] > 0
    assert all(p["pid"] != 2 for p in win["processes"])
    assert win["counts"]["processes"] == len(win["processes"])
    assert win["counts"]["growing"] == sum(p["growing"] for p in win["processes"])


def test_ps_text_marks_the_growing_process(target):
    grower, _ = start_grower_and_steady(target)
    res = run(["ps", "-i", "2", "-n", "1", "--rows", "3"], check=0, timeout=60)
    lines = res.stdout.splitlines()
    assert lines[0].startswith("== ") and "  window 1: " in lines[0], lines[0]
    mine = [ln for ln in lines if ln[1:9].strip() == str(grower.pid)]
    assert len(mine) == 1 and mine[0].startswith("+"), res.stdout
    assert "grow_rate" in mine[0]
    assert any("/min  PSS +" in ln for ln in lines), res.stdout
    assert all(len(ln) <= 80 for ln in lines), res.stdout


def test_ps_cgroups_show_the_growing_group(target, memory_group):
    grower = target("grow_rate", RATE_MIB, 400)
    memory_group.add(grower.pid)
    grower.proc.stdin.write("go\n")
    grower.proc.stdin.flush()
    res = run(["ps", "-i", "3", "-n", "2", "--json", "--cgroups"], check=0, timeout=60)
    win = windows(res)[1]
    assert win["cgroup_hierarchy"] == memory_group.kind
    assert row(win, grower.pid)["cgroup"] == memory_group.path
    groups = {g["path"]: g for g in win["cgroups"]}
    g = groups[memory_group.path]
    added = RATE_MIB * MIB * win["window_s"]
    # The group holds the process's growth (and the page tables and kernel memory it costs).
    assert g["growing"] and g["current_delta"] >= 0.85 * added, g
    assert g["procs"] == 1 and g["max"] == 1 << 30 and g["limit"] == 1 << 30, g
    assert g["anon"] >= g["current_delta"] * 0.85, g
    # At this rate the 1 GiB limit is minutes away, and the process says the same.
    assert 0 < g["seconds_to_limit"] < (1 << 30) / (RATE_MIB * MIB) * 1.2, g
    p = row(win, grower.pid)
    assert p["limit_source"] == "cgroup" and p["limit"] == 1 << 30, p
    # Growing groups come first.
    deltas = [x["current_delta"] or 0 for x in win["cgroups"]]
    assert deltas == sorted(deltas, reverse=True)


def test_ps_counts_what_it_may_not_read(target):
    if os.geteuid() != 0:
        pytest.skip("needs root to run ps as another user")
    t = target("grow_rate", 1, 1)
    res = run(["ps", "-i", "0.5", "-n", "1", "--json"], wrap=NOBODY, check=0, timeout=60)
    win = windows(res)[0]
    r = row(win, t.pid)
    # Another user's process: RSS from statm, PSS and its split unknown, and counted. (Its fd
    # count is the size of /proc/PID/fd, which Linux 6.2+ gives anyone.)
    assert not r["readable"] and r["rss"] > 0, r
    assert all(r[k] is None for k in ("pss", "pss_delta", "pss_anon", "pss_file", "swap")), r
    assert win["counts"]["unreadable"] >= 1


@pytest.mark.parametrize("args, words", [
    (["ps", "123"], ["unexpected argument", "no PID"]),
    (["ps", "-n", "0"], ["count", "positive"]),
    (["ps", "-i", "100000"], ["interval", "86400"]),
    (["ps", "--rows", "x"], ["rows", "whole number"]),
])
def test_ps_usage_errors(args, words):
    res = run(args, check=2)
    assert all(w in res.stderr for w in words), res.stderr
