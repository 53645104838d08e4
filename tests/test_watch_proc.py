# SPDX-License-Identifier: GPL-2.0-only
"""watch on /proc data: exact region growth, classification, fds, and a no-growth control."""
import json
import signal
import time

from conftest import MIB, region, regions_of_kind, within

# Growth below this is noise for the control: a page or two of malloc bookkeeping.
NOISE = 64 * 1024


def wait_for_sample_after(rec, t0, timeout=30):
    """Waits until the recording holds a sample taken after wall-clock time t0."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in rec.read_text().splitlines() if rec.exists() else []:
            try:
                s = json.loads(line)
            except ValueError:
                continue            # a line still being written
            if s.get("type") == "sample" and s["t"] > t0:
                return
        time.sleep(0.05)
    raise AssertionError(f"memsleuth took no sample after {t0} in {timeout} s")


def watch_one_window(target, watch, tmp_path, name, *args):
    """One window over the target's whole misbehaviour: it ends (SIGINT, which prints the
    partial window) once memsleuth has sampled the target after its 'done'. A window of
    fixed length could close before a busy machine let the target finish."""
    t = target(name, *args)
    rec = tmp_path / "one.jsonl"
    w = watch("watch", t.pid, "-i", "600", "--tick", "0.2", "--json", "--no-bpf", "-o", rec)
    fields = t.go()
    wait_for_sample_after(rec, time.time())
    w.proc.send_signal(signal.SIGINT)
    windows = w.json_windows(timeout=30)
    assert len(windows) == 1, windows
    assert windows[0]["partial"] is True
    return t, fields, windows[0]


def test_heap_and_anon_growth_reported_exactly(target, watch, tmp_path):
    t, _, win = watch_one_window(target, watch, tmp_path, "grow_heap_anon", 48, 32)
    assert win["pid"] == t.pid
    assert win["comm"] == "grow_heap_anon"
    assert win["allocator"] == "glibc"
    heap = region(win, "[heap]")
    assert heap["kind"] == "heap"
    assert within(heap["rss_delta"], 48 * MIB), heap
    anon = region(win, "[anon]")
    assert anon["kind"] == "anon"
    assert within(anon["rss_delta"], 32 * MIB), anon
    assert within(win["totals_delta"]["rss"], 80 * MIB), win["totals_delta"]
    assert within(win["totals_delta"]["anon"], 80 * MIB), win["totals_delta"]
    assert win["lost_events"] == 0
    # Sorted by |delta|: the two grown regions come first.
    assert [r["name"] for r in win["regions"][:2]] == ["[heap]", "[anon]"]


def test_window_carries_the_contract_keys(target, watch):
    t = target("grow_heap_anon", 1, 1)
    w = watch("watch", t.pid, "-i", "1", "-n", "1", "--json", "--no-bpf")
    t.go()
    windows = w.json_windows(timeout=30)
    assert len(windows) == 1, windows
    win = windows[0]
    for key in ("t", "pid", "comm", "window_s", "allocator", "totals", "regions", "arenas",
                "fds", "stacks", "findings", "lost_events"):
        assert key in win, key
    assert set(win["totals"]) >= {"rss", "pss", "anon", "swap", "fds"}
    for r in win["regions"]:
        assert set(r) >= {"name", "kind", "rss", "rss_delta", "private_dirty", "swap"}
        assert r["kind"] in ("heap", "arena", "stack", "anon", "file", "shmem", "other")
    assert set(win["fds"]) >= {"total", "limit", "by_type"}
    # A window closes at the first tick less than half a tick short of its length after
    # its start; a busy machine may delay or skip ticks, so it can be longer, never shorter.
    assert win["window_s"] > 0.5 and win["partial"] is False, win["window_s"]


def test_file_mapping_grouped_by_path(target, watch, tmp_path):
    path = tmp_path / "mapped.bin"
    _, fields, win = watch_one_window(target, watch, tmp_path, "grow_file", path, 16)
    r = region(win, str(path))
    assert r["kind"] == "file"
    assert within(r["rss_delta"], int(fields["file"])), r


def test_thread_stacks_classified(target, watch, tmp_path):
    _, fields, win = watch_one_window(target, watch, tmp_path, "grow_stacks", 8, 1024)
    stacks = region(win, "[thread stacks]")
    assert stacks["kind"] == "stack"
    expected = int(fields["threads"]) * int(fields["stack"])
    assert within(stacks["rss_delta"], expected), stacks
    assert region(win, "[stack]")["kind"] == "stack"
    # The thread stacks are not mistaken for plain anonymous memory.
    assert abs(region(win, "[anon]")["rss_delta"]) < NOISE


def test_fds_counted_by_type(target, watch, tmp_path):
    _, fields, win = watch_one_window(target, watch, tmp_path, "grow_fds", 40)
    delta = win["fds"]["by_type_delta"]
    assert delta["socket"] == int(fields["sockets"])
    assert delta["pipe"] == int(fields["pipes"])
    assert delta["file"] == int(fields["files"])
    assert delta["eventfd"] == 1
    assert win["fds"]["delta"] == 40 + 40 + 10 + 1
    assert win["totals"]["fds"] == win["fds"]["total"]
    assert win["fds"]["limit"] > 0


def test_control_churn_shows_no_growth(target, watch, tmp_path):
    _, _, win = watch_one_window(target, watch, tmp_path, "control_churn", 3)
    # A sample can fall in the middle of a pass: a block just touched, a heap top glibc has
    # not trimmed yet. That is at most a few pages; growth is megabytes a second.
    noise = 4 * NOISE
    # Code pages of libc faulting in are clean file cache, not growth of the process.
    grown = [(r["name"], r["rss_delta"]) for r in win["regions"]
             if r["rss_delta"] > noise and r["kind"] != "file"]
    assert not grown, grown
    assert win["totals_delta"]["anon"] < noise
    assert win["fds"]["delta"] == 0
    assert not regions_of_kind(win, "arena")


def test_text_output_fits_80_columns(target, watch):
    t = target("grow_heap_anon", 4, 4)
    w = watch("watch", t.pid, "-i", "2", "-n", "1", "--no-bpf")
    t.go()
    code, out, err = w.wait(30)
    assert code == 0, err
    assert "[heap]" in out and "+4.0 MiB" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_target_exit_ends_watch_with_final_window(target, watch):
    t = target("grow_heap_anon", 8, 0)
    w = watch("watch", t.pid, "-i", "30", "--tick", "0.2", "--json", "--no-bpf")
    t.go()
    time.sleep(1)  # let a tick see the growth: an exited process's memory is gone
    t.finish()
    code, out, err = w.wait(30)
    assert code == 0, err
    assert f"target {t.pid} exited" in err
    windows = [line for line in out.splitlines() if line.strip()]
    assert len(windows) == 1
    final = json.loads(windows[0])
    assert final["partial"] is True
    assert within(region(final, "[heap]")["rss_delta"], 8 * MIB)


def test_count_and_interval_respected(target, watch, tmp_path):
    t = target("grow_heap_anon", 1, 1)
    rec = tmp_path / "three.jsonl"
    w = watch("watch", t.pid, "-i", "0.5", "-n", "3", "--tick", "0.1", "--json", "--no-bpf",
              "-o", rec)
    windows = w.json_windows(timeout=30)
    assert [x["window"] for x in windows] == [1, 2, 3]
    # Each window ends at the first sample more than 0.45 s (the length less half a
    # tick) after its start, which is the previous window's end: however late a busy
    # machine let the ticks come, the windows are cut where the length says.
    times = [s["t"] for s in map(json.loads, rec.read_text().splitlines())
             if s.get("type") == "sample"]
    start = times[0]
    for win in windows:
        end = next(t for t in times if t - start > 0.45)
        assert win["t"] == end and win["window_s"] == end - start, (win, times)
        start = end


def test_window_that_is_not_a_whole_number_of_ticks(target, watch):
    """-i 2.5 with the default 1 s tick ticks every 0.833 s, so that windows last 2.5 s,
    not 3; a tick given with --tick rounds the window up, and a note says so."""
    t = target("grow_heap_anon", 1, 1)
    w = watch("watch", t.pid, "-i", "2.5", "-n", "2", "--json", "--no-bpf")
    windows = w.json_windows(timeout=30)
    assert [round(x["window_s"], 1) for x in windows] == [2.5, 2.5], windows
    assert any("tick 0.833333 s" in line for line in w.err_lines), w.err_lines
    w = watch("watch", t.pid, "-i", "1.5", "--tick", "1", "-n", "1", "--json", "--no-bpf")
    windows = w.json_windows(timeout=30)
    assert round(windows[0]["window_s"], 1) == 2.0, windows
    assert any("windows of 2 s: 2 ticks of 1 s" in line for line in w.err_lines), w.err_lines
