# SPDX-License-Identifier: GPL-2.0-only
"""memsleuth's caps: regions per sample and samples per window are bounded, and what the
caps leave out is counted in the output ("overflow"), never lost from the totals."""
import json
import re
import subprocess

import pytest

from conftest import MEMSLEUTH, MIB, Target, region, require_root, run, wait_samples
from test_report_findings import Recording, report
from topview import top  # noqa: F401 (a fixture)

REGION_CAP = 1000
SAMPLE_CAP = 128


def stress(target, tmp_path, maps=0, threads=0, fds=0, files=0):
    return target("stress_limits", maps, threads, fds, files, tmp_path, timeout=60)


def test_distinct_files_beyond_the_cap_are_folded(target, watch, tmp_path):
    files = 3000
    t = stress(target, tmp_path, files=files)
    t.go(timeout=60)
    w = watch("watch", t.pid, "-i", "1", "-n", "1", "--json", "--no-bpf")
    (win,) = w.json_windows(timeout=60)
    regions = win["regions"]
    assert len(regions) <= REGION_CAP + 7
    # Nothing is lost: the rows still add up to the totals.
    assert sum(r["rss"] for r in regions) == win["totals"]["rss"]
    assert sum(r["rss_delta"] for r in regions) == win["totals_delta"]["rss"]
    own = sorted(r["name"] for r in regions if r["name"].startswith(str(tmp_path)))
    other = region(win, "[other files]")
    assert other["kind"] == "file"
    # The test's files are all one page: the cap keeps the target's larger files and the
    # first of these by name, and sums the rest, one mapping each.
    assert own == [f"{tmp_path}/f{i:06d}" for i in range(len(own))]
    assert len(own) + other["vmas"] == files
    assert other["rss"] == other["vmas"] * 4096
    assert win["overflow"]["regions_folded"] >= files - len(own)
    assert win["overflow"]["region_cap"] == REGION_CAP


def test_folded_regions_are_shown_in_text(target, watch, tmp_path):
    t = stress(target, tmp_path, files=REGION_CAP + 200)
    t.go(timeout=60)
    w = watch("watch", t.pid, "-i", "1", "-n", "1", "--no-bpf")
    code, out, err = w.wait(timeout=60)
    assert code == 0, err
    capped = [x for x in out.splitlines() if x.strip().startswith("CAPPED:")]
    assert len(capped) == 1 and f"(over {REGION_CAP})" in capped[0], out


def test_a_recording_keeps_the_overflow_count(target, watch, tmp_path):
    rec = tmp_path / "rec.jsonl"
    t = stress(target, tmp_path, files=REGION_CAP + 50)
    t.go(timeout=60)
    w = watch("watch", t.pid, "-i", "1", "-n", "2", "--json", "--no-bpf", "-o", rec)
    live = w.json_windows(timeout=60)
    res = run(["report", rec, "--json"], check=0)
    offline = [json.loads(x) for x in res.stdout.splitlines()]
    assert [x["overflow"] for x in offline] == [x["overflow"] for x in live]
    assert live[-1]["overflow"]["regions_folded"] >= 50


def test_small_target_has_no_overflow(target, watch, tmp_path):
    """Negative control: an ordinary process is far from every cap."""
    t = stress(target, tmp_path, threads=4, fds=100, files=20)
    t.go(timeout=60)
    w = watch("watch", t.pid, "-i", "1", "-n", "1", "--json", "--no-bpf")
    (win,) = w.json_windows(timeout=60)
    assert win["overflow"]["regions_folded"] == 0
    assert win["overflow"]["samples_thinned"] == 0
    assert not any(r["name"].startswith("[other ") for r in win["regions"])
    assert win["fds"]["total"] >= 100


def test_a_long_window_is_thinned_and_says_so(target, tmp_path):
    """A window of 12 s at a 0.05 s tick would hold 241 samples; the timeline keeps at
    most 128, drops every other one when full, and counts what it dropped."""
    rec = tmp_path / "rec.jsonl"
    t = stress(target, tmp_path)
    res = run(["watch", t.pid, "-i", "12", "--tick", "0.05", "-n", "1", "--json", "--no-bpf",
               "-o", rec], timeout=120, check=0)
    (win,) = [json.loads(x) for x in res.stdout.splitlines()]
    samples = rec.read_text().count('"type":"sample"')
    if samples <= SAMPLE_CAP:
        raise AssertionError(f"only {samples} samples were taken (machine too busy?)")
    thinned = win["overflow"]["samples_thinned"]
    # The window held every sample but the ones thinned out, at most the cap at a time.
    assert thinned >= samples - SAMPLE_CAP and thinned < samples
    assert win["overflow"]["sample_cap"] == SAMPLE_CAP
    # The same recording gives the same window offline, thinning included.
    offline = run(["report", rec, "--json"], check=0)
    (again,) = [json.loads(x) for x in offline.stdout.splitlines()]
    assert again["overflow"] == win["overflow"]
    assert again["totals_delta"] == win["totals_delta"]
    text = run(["report", rec], check=0).stdout
    assert f"samples of this window were thinned out (over {SAMPLE_CAP} kept)" in text


def test_many_mappings_threads_and_fds(target, watch, tmp_path):
    """100,000 mappings, 2,000 threads and 10,000 fds at once: every figure is counted,
    the region rows stay few (anonymous mappings group), nothing overflows."""
    require_root("raising vm.max_map_count needs root")
    path = "/proc/sys/vm/max_map_count"
    with open(path) as f:
        saved = f.read()
    try:
        with open(path, "w") as f:
            f.write("200000")
        t = stress(target, tmp_path, maps=100_000, threads=2000, fds=10_000)
        t.go(timeout=120)
        w = watch("watch", t.pid, "-i", "1", "-n", "1", "--json", "--no-bpf", timeout=60)
        (win,) = w.json_windows(timeout=120)
    finally:
        with open(path, "w") as f:
            f.write(saved)
    assert win["threads"] == 2001
    assert win["fds"]["total"] >= 10_000
    assert region(win, "[anon]")["vmas"] >= 100_000
    stacks = region(win, "[thread stacks]")
    assert stacks["vmas"] == 2 * 2000     # each thread: its stack and the guard page below
    assert win["overflow"]["regions_folded"] == 0
    assert len(win["regions"]) < 50
    assert sum(r["rss"] for r in win["regions"]) == win["totals"]["rss"]


# Allocations the malloc probes keep at once (max_entries of `live` in bpf/alloc.bpf.c).
LIVE_CAP = 1 << 19


def watch_live(target, watch, tmp_path, count, size):
    """alloc_live makes `count` allocations under --alloc-exact; returns the last live
    window, memsleuth's stderr and the recording."""
    rec = tmp_path / "rec.jsonl"
    t = target("alloc_live", count, size)
    w = watch("watch", t.pid, "--json", "-i", "600", "--tick", "0.2", "--alloc",
              "--alloc-exact", "-o", rec)
    t.go(60)
    wait_samples(rec, 2)
    code, out, err = w.interrupt(60)
    assert code == 0, err
    return json.loads(out.splitlines()[-1]), err, rec


@pytest.mark.bpf
def test_a_full_live_map_is_counted_and_shown(target, watch, top, tmp_path, monkeypatch):
    """Past the allocations --alloc can track at once, each new one is counted, not kept,
    and every outstanding figure says it is a lower bound. The test hook shrinks the map
    so that 5,000 allocations fill it (the real one holds 524,288)."""
    require_root("uprobes")
    cap, count, size = 1000, 5000, 48
    monkeypatch.setenv("MEMSLEUTH_TEST_ALLOC_LIVE_CAP", str(cap))
    win, err, rec = watch_live(target, watch, tmp_path, count, size)
    a = win["alloc"]
    assert a["live_cap"] == cap and a["calls"] == count
    assert a["recorded"] == cap
    assert a["lost_live"] == a["lost"] == count - cap
    stacks = [s for s in win["stacks"] if s["kind"] == "alloc"]
    assert sum(s["count"] for s in stacks) == cap
    assert sum(s["bytes"] for s in stacks) == cap * size
    assert stacks and all(s["lower_bound"] and not s["estimated"] for s in stacks), stacks
    # Net chunk bytes per arena need no record per allocation: still exact.
    (main,) = [ar for ar in a["arenas"] if ar["main"]]
    assert main["net_chunks"] == count
    assert len(re.findall(f"--alloc: the live map is full at {cap} allocations", err)) == 1, err
    # The recording keeps the counts, and the text report shows them.
    offline = json.loads(run(["report", rec, "--json"], check=0).stdout.splitlines()[-1])
    assert {k: offline["alloc"][k] for k in ("lost_live", "live_cap", "recorded")} == \
        {"lost_live": count - cap, "live_cap": cap, "recorded": cap}
    text = " ".join(run(["report", rec], check=0).stdout.split())
    assert (f"LIVE MAP FULL: {count - cap} allocations not recorded while {cap} were "
            "tracked; outstanding figures are lower bounds") in text, text
    assert re.search(r"alloc \S+ \S+ in \+\d+ calls \(\S+ \S+ outstanding, lower bound\)",
                     text), text
    # And so does top, over the same recording.
    # At its last sample: under load the allocations may still be under way at the first.
    r = top("top", "--replay", rec, "-i", "1")
    r.term.wait_for(r"REPLAY \d+/\d+")
    r.term.keys(">")
    r.term.wait_for(rf"alloc map full: {count - cap} not tracked")
    r.term.keys("q")
    assert r.status() == 0


@pytest.mark.bpf
@pytest.mark.parametrize("cap", [1000, None])
def test_allocations_the_live_map_holds_are_all_recorded(target, watch, tmp_path, monkeypatch,
                                                         cap):
    """Control: as many allocations as the map holds (and far fewer than the real cap):
    every one recorded, nothing lost, no lower bound and no warning."""
    require_root("uprobes")
    count, size = 1000, 48
    if cap:
        monkeypatch.setenv("MEMSLEUTH_TEST_ALLOC_LIVE_CAP", str(cap))
    win, err, rec = watch_live(target, watch, tmp_path, count, size)
    a = win["alloc"]
    assert a["live_cap"] == (cap or LIVE_CAP)
    assert a["recorded"] == count and a["lost_live"] == 0 and a["lost"] == 0
    stacks = [s for s in win["stacks"] if s["kind"] == "alloc"]
    assert sum(s["bytes"] for s in stacks) == count * size
    assert not any(s["lower_bound"] for s in stacks)
    assert "live map is full" not in err
    text = run(["report", rec], check=0).stdout
    assert "LIVE MAP FULL" not in text and "lower bound" not in text


@pytest.mark.parametrize("lost", [0, 3000])
def test_a_leak_seen_while_allocations_were_lost_is_a_lower_bound(tmp_path, lost):
    """A leak found while some allocations could not be recorded says "at least"; the
    same leak with nothing lost (the control) does not."""
    rec = Recording(tmp_path / "leak.jsonl")
    rec.stack(1, ["leaky_alloc+0x1a (leak.c:42)", "main"])
    for i in range(4):
        alloc = {"estimated": False, "sample_bytes": 0, "duty": 1.0, "share": 1.0, "since": 0.0,
                 "calls": 100_000 * i, "frees": 0, "recorded": 1024 * i, "missed_frees": 0,
                 "lost": lost * min(i, 1), "lost_live": lost * min(i, 1), "live_cap": 1024,
                 "arenas": None}
        rec.sample(i * 10.0, heap=8 * MIB + i * MIB, rss=64 * MIB + i * MIB,
                   stacks=[[1, "alloc", i * MIB, i * 1024]], extra={"alloc": alloc})
    leaks = [f for f in report(rec.write())[-1]["findings"] if f["kind"] == "leak"]
    assert len(leaks) == 1, leaks
    assert leaks[0]["evidence"]["lower_bound"] == (1 if lost else 0)
    assert ("holds at least 3.0 MiB more" in leaks[0]["summary"]) == bool(lost), leaks[0]
