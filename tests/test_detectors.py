# SPDX-License-Identifier: GPL-2.0-only
"""Each detector fires on a target with its defect and stays silent on the controls."""
import json

import pytest

from conftest import MIB, require_root

# Three windows of 2 s with 0.25 s ticks: growth detectors need two windows in a row.
WATCH = ("-i", "2", "-n", "3", "--tick", "0.25", "--json")


def run_mode(target, watch, mode, *extra):
    t = target("grow_modes", mode, 7)
    w = watch("watch", t.pid, *WATCH, *extra)
    done = t.go(timeout=30)
    windows = w.json_windows(timeout=40)
    assert len(windows) == 3, windows
    return done, windows


def kinds(window):
    return [f["kind"] for f in window["findings"]]


def finding(window, kind):
    for f in window["findings"]:
        if f["kind"] == kind:
            return f
    raise AssertionError(f"no {kind} finding in {kinds(window)}")


def test_leak_target_raises_rss_growth_and_live_heap_verdict(target, watch):
    done, windows = run_mode(target, watch, "leak", "--no-bpf")
    assert kinds(windows[0]) == []          # one window is not a trend
    last = windows[-1]
    g = finding(last, "rss_growth")
    ev = g["evidence"]
    assert ev["windows"] == 3
    # The target allocates 52 blocks of 1000 bytes every 25 ms: at most about 2 MiB/s
    # (less when the machine is busy), and the threshold is 1 MiB per 2 s window.
    assert 0.5 * MIB <= ev["bytes_per_s"] < 2.2 * MIB, ev
    assert ev["limit"] == last["mem_limit"]["bytes"]
    assert ev["seconds_to_limit"] > 0
    v = finding(last, "verdict")
    assert v["evidence"]["cause"] == "live_heap", v
    assert v["evidence"]["share_live_heap"] > 0.8, v
    assert "arena_fragmentation" not in kinds(last)
    # Growth at an uneven rate is not a chunk pool.
    assert "chunk_steps" not in kinds(last)


def test_fragment_target_raises_arena_fragmentation_verdict(target, watch):
    done, windows = run_mode(target, watch, "fragment", "--no-bpf")
    last = windows[-1]
    frags = [f for f in last["findings"] if f["kind"] == "arena_fragmentation"]
    assert frags, kinds(last)
    # Each worker frees all but one of its 5 MiB of 1000-byte blocks; the freeze may
    # catch the newest worker halfway, so only the finished ones give exact figures.
    done_workers = [f for f in frags if f["evidence"]["free"] >= 5 * MIB - 64 * 1024]
    assert len(done_workers) >= len(frags) - 1 >= 1, frags
    for f in done_workers:
        ev = f["evidence"]
        assert ev["fragmentation"] > 0.95, ev
        assert ev["reclaimable"] > 4 * MIB, ev
        assert ev["free_resident"] >= 5 * MIB - 64 * 1024, ev
        assert ev["threads"] == 1
        assert not ev["main"]
    v = finding(last, "verdict")
    assert v["evidence"]["cause"] == "arena_fragmentation", v
    assert v["evidence"]["share_arena_fragmentation"] > 0.6, v


def test_chunks_target_raises_chunk_steps_of_64k(target, watch):
    done, windows = run_mode(target, watch, "chunks", "--no-bpf")
    last = windows[-1]
    c = finding(last, "chunk_steps")
    ev = c["evidence"]
    assert ev["quantum"] == 64 * 1024, ev
    assert ev["quantum_source"] == "rss"
    assert ev["bursts"] >= 3
    assert ev["bytes"] == ev["steps"] * 64 * 1024
    assert "chunk_steps" not in kinds(windows[0])


def test_malloced_chunks_raise_chunk_steps_in_heap(target, watch):
    done, windows = run_mode(target, watch, "heapchunks", "--no-bpf")
    c = finding(windows[-1], "chunk_steps")
    assert c["evidence"]["quantum"] == 64 * 1024
    assert c["evidence"]["region"] == "[heap]"
    v = finding(windows[-1], "verdict")
    assert v["evidence"]["chunk_steps"] == 1


@pytest.mark.bpf
def test_chunks_quantum_exact_from_mmap_events(target, watch):
    require_root("the growth probes need root")
    done, windows = run_mode(target, watch, "chunks")
    if not windows[-1]["collectors"]["bpf"]:
        pytest.skip("eBPF probes unavailable")
    c = finding(windows[-1], "chunk_steps")
    assert c["evidence"]["quantum"] == 64 * 1024
    assert c["evidence"]["quantum_source"] == "events"


def test_mmap_target_raises_mmap_growth(target, watch):
    done, windows = run_mode(target, watch, "mmap", "--no-bpf")
    last = windows[-1]
    m = finding(last, "mmap_growth")
    ev = m["evidence"]
    assert ev["anon_delta"] >= 2 * MIB, ev
    assert ev["windows"] >= 2
    # glibc's own mmap'd blocks did not move: the growth is all outside malloc.
    assert ev.get("malloc_mmapped_delta", 0) == 0
    v = finding(last, "verdict")
    assert v["evidence"]["cause"] == "mmap_growth", v


def test_fd_target_raises_fd_growth_with_types_and_time_to_limit(target, watch):
    done, windows = run_mode(target, watch, "fds", "--no-bpf")
    last = windows[-1]
    f = finding(last, "fd_growth")
    ev = f["evidence"]
    # One socket and one pipe (two fds) per step; a tick may fall between the two.
    assert abs(ev["pipe"] - 2 * ev["socket"]) <= 2, ev
    assert ev["top_type"] == "pipe"
    assert ev["limit"] == last["fds"]["limit"]
    expected = (ev["limit"] - ev["fds"]) / ev["fds_per_s"]
    assert ev["seconds_to_limit"] == pytest.approx(expected)
    assert "fd_growth" not in kinds(windows[0])


def first_line(w, timeout):
    """memsleuth's first line of output, as soon as it is printed."""
    line = w.out.readline(timeout)
    if line is None:
        raise AssertionError("memsleuth printed no window in time")
    if not line:
        raise AssertionError("memsleuth closed its output before its first window")
    return line


@pytest.mark.parametrize("mode", ["cache", "churn", "startup", "double", "fdchurn", "idle"])
def test_controls_raise_nothing(target, watch, mode):
    # A control's early work (the startup allocation, the doubling, filling the cache)
    # must fall in one window, or two windows of growth are a trend by definition. On a
    # busy machine it can take seconds, and memsleuth's own start may eat most of its
    # first window: so the target starts with the second window, and two windows of
    # steady state follow the one that holds its early work.
    t = target("grow_modes", mode, 7)
    w = watch("watch", t.pid, "-i", "2", "-n", "4", "--tick", "0.25", "--json")
    head = first_line(w, timeout=20)
    t.go(timeout=30)
    code, out, err = w.wait(timeout=40)
    assert code == 0, err
    windows = [json.loads(line) for line in (head + out).splitlines() if line.strip()]
    assert len(windows) == 4, windows
    for win in windows:
        assert win["findings"] == [], (mode, win["window"], win["findings"])


def test_frag_threads_control_has_no_fragmentation(target, watch, tmp_path):
    t = target("frag_threads", 4, 8, tmp_path / "mi.xml", "control")
    t.go()
    w = watch("watch", t.pid, "-i", "1", "-n", "1", "--json", "--no-bpf")
    win = w.json_windows()[0]
    assert win["findings"] == []
    assert len(win["arenas"]) == 5
    for a in win["arenas"]:
        assert a["walked"], a
        if not a["main"]:
            # malloc_trim(0) released the pages: the chunks are still free but cost no RSS.
            assert a["free"] > 7 * MIB and a["rss"] < MIB and a["reclaimable"] < MIB / 4, a
