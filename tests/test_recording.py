# SPDX-License-Identifier: GPL-2.0-only
"""Recordings: watch -o writes JSON Lines; report re-derives the very same windows."""
import json
import subprocess

from conftest import MEMSLEUTH, MIB, region, run, within


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
    # Three 1 s windows make one of 3 s; a tick skipped on a busy machine (samples at 0, 1,
    # 3, 4 s) closes it at 3 s and leaves a second, partial one. Either way the growth is all there.
    assert len(windows) == 1 or (len(windows) == 2 and windows[1]["partial"]), windows
    assert windows[0]["window_s"] >= 3 * 0.98
    assert within(sum(region(w, "[heap]")["rss_delta"] for w in windows), 16 * MIB)


def test_report_text(target, watch, tmp_path):
    path = tmp_path / "rec.jsonl"
    record(target, watch, path)
    res = run(["report", path], check=0)
    assert "[heap]" in res.stdout
    assert "recording ended: count reached" in res.stdout


def test_report_says_a_recording_was_cut_off_or_holds_unknown_lines(target, watch, tmp_path):
    """A run killed between two lines leaves no end line: report reads what is there and
    says so; lines of a type it does not know are skipped and counted, not hidden."""
    path = tmp_path / "rec.jsonl"
    record(target, watch, path)
    whole = run(["report", path, "--json"], check=0)
    assert whole.stderr == ""
    lines = path.read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:-1]) + "\n")
    res = run(["report", cut, "--json"], check=0)
    assert res.stdout == whole.stdout
    assert res.stderr.count("\n") == 1 and "has no end line" in res.stderr, res.stderr
    odd = tmp_path / "odd.jsonl"
    odd.write_text("\n".join(lines[:2] + ['{"type": "sampel", "t": 1}'] * 2 + lines[2:]) + "\n")
    res = run(["report", odd], check=0)
    assert res.stderr.count("\n") == 1, res.stderr
    assert "skipped 2 lines of a type this memsleuth does not know" in res.stderr


def test_output_that_cannot_be_written_is_an_error(target, watch, tmp_path):
    """A full disk fails the command with one line; a reader that closed the pipe ends it
    as usual (exit 0), and the recording says which of the two happened."""
    path = tmp_path / "rec.jsonl"
    record(target, watch, path)
    for args in (["report", path], ["report", path, "--json"]):
        res = to_full(args)
        assert res.returncode == 1 and res.stderr == "memsleuth report: cannot write the output: " \
                             "No space left on device\n", res.stderr
    res = to_full(["diff", "/proc/self/smaps", "/proc/self/smaps"])
    assert res.returncode == 1 and res.stderr.endswith("cannot write the output: No space left on device\n")
    t = target("grow_heap_anon", 4, 60)
    out = tmp_path / "w.jsonl"
    res = to_full(["watch", t.pid, "-i", "1", "-n", "3", "--no-bpf", "--json", "-o", out])
    assert res.returncode == 1 and res.stderr.splitlines()[-1] == "memsleuth watch: cannot write the output: " \
                                          "No space left on device", res.stderr
    assert json.loads(out.read_text().splitlines()[-1])["reason"] == "output failed"
    res = subprocess.run(["bash", "-c", f'"$0" watch {t.pid} -i 1 -n 5 --no-bpf -o {out} '
                          '| head -c 1 >/dev/null; exit "${PIPESTATUS[0]}"', MEMSLEUTH],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and "cannot write" not in res.stderr, res.stderr
    assert json.loads(out.read_text().splitlines()[-1])["reason"] == "output closed"


def to_full(args):
    """Runs memsleuth with its standard output on /dev/full (every write: ENOSPC)."""
    with open("/dev/full", "w") as full:
        res = subprocess.run([MEMSLEUTH, *map(str, args)], stdout=full, stderr=subprocess.PIPE,
                             text=True, timeout=60)
    assert "Sanitizer" not in res.stderr and "runtime error" not in res.stderr, res.stderr
    return res
