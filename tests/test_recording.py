# SPDX-License-Identifier: GPL-2.0-only
"""Recordings: watch -o writes JSON Lines; report re-derives the very same windows."""
import json

from conftest import MIB, region, run, within


def record(target, watch, path, *extra):
    t = target("grow_heap_anon", 16, 8)
    w = watch("watch", t.pid, "-i", "1", "-n", "3", "--json", "--no-bpf", "-o", path, *extra)
    t.go()
    live = w.json_windows(timeout=30)
    t.finish()
    return t, live


def test_report_reproduces_live_windows(target, watch, tmp_path):
    path = tmp_path / "rec.jsonl"
    _, live = record(target, watch, path)
    res = run(["report", path, "--json"], check=0)
    offline = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(offline) == len(live) == 3
    for a, b in zip(live, offline):
        assert a == b
    grown = sum(region(w, "[heap]")["rss_delta"] for w in offline)
    assert within(grown, 16 * MIB)


def test_recording_layout(target, watch, tmp_path):
    path = tmp_path / "rec.jsonl"
    t, _ = record(target, watch, path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    header = lines[0]
    assert header["format"] == "memsleuth-recording"
    assert header["version"] == 1
    assert header["pid"] == t.pid
    assert header["window_s"] == 1
    samples = [x for x in lines if x.get("type") == "sample"]
    assert len(samples) >= 4  # baseline + one per tick
    assert all("regions" in s and "fds" in s and "totals" in s for s in samples)
    assert lines[-1]["type"] == "end" and lines[-1]["reason"] == "count reached"


def test_report_can_recut_windows(target, watch, tmp_path):
    path = tmp_path / "rec.jsonl"
    record(target, watch, path)
    res = run(["report", path, "--json", "-i", "3"], check=0)
    windows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(windows) == 1
    assert within(region(windows[0], "[heap]")["rss_delta"], 16 * MIB)


def test_report_text(target, watch, tmp_path):
    path = tmp_path / "rec.jsonl"
    record(target, watch, path)
    res = run(["report", path], check=0)
    assert "[heap]" in res.stdout
    assert "recording ended: count reached" in res.stdout
