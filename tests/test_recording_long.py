# SPDX-License-Identifier: GPL-2.0-only
"""Recordings for long runs: zstd-compressed unless named .jsonl, read like plain ones, readable
after a kill, rotated into pieces that each read on their own."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import MEMSLEUTH, require_root, run
from fleet import need

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def inflate(path, out, whole=True):
    """The plain JSON Lines a compressed recording holds, as the zstd tool reads them; a
    frame still being written (whole=False) has no end, which the tool says."""
    with open(out, "wb") as f:
        subprocess.run([need("zstd"), "-dcq", str(path)], stdout=f, check=whole, timeout=60,
                       stderr=subprocess.DEVNULL)
    return out


def report_json(path):
    res = run(["report", path, "--json"], check=0)
    return [json.loads(line) for line in res.stdout.splitlines()], res.stderr


def steady(target):
    """A service that turns a bounded cache over: steady, with allocation stacks."""
    t = target("lru_cache", "steady", 10000, 256, 100, 600)
    t.send("go")
    return t


def test_compressed_recording_is_small_and_reads_as_the_plain_one(target, tmp_path):
    require_root("malloc probes: stacks are what repeats tick after tick")
    t = steady(target)
    rec = tmp_path / "rec.zst"
    run(["watch", t.pid, "--alloc", "-i", "2", "--tick", "0.1", "-n", "15", "-o", rec], check=0,
        timeout=120)
    data = rec.read_bytes()
    assert data[:4] == ZSTD_MAGIC
    plain = inflate(rec, tmp_path / "plain.jsonl")
    lines = plain.read_text().splitlines()
    assert json.loads(lines[-1])["type"] == "end"
    samples = sum(1 for line in lines if '"type":"sample"' in line)
    assert samples >= 250
    # The writer's lines as they are, uncompressed, are today's recording: 10x smaller at least.
    assert plain.stat().st_size >= 10 * len(data), (plain.stat().st_size, len(data))
    compressed, _ = report_json(rec)
    uncompressed, _ = report_json(plain)
    assert compressed == uncompressed and len(compressed) >= 15


def test_a_name_ending_in_jsonl_is_written_plain(target, tmp_path):
    t = target("grow_steady", 64, 100, 1)
    rec = tmp_path / "rec.jsonl"
    run(["watch", t.pid, "-i", "1", "-n", "1", "--no-bpf", "-o", rec], check=0)
    assert rec.read_text().startswith('{"format":"memsleuth-recording"')


def test_a_killed_recording_reads_up_to_its_last_line(target, tmp_path):
    t = target("grow_steady", 64, 100, 1)
    rec = tmp_path / "rec"
    w = subprocess.Popen([MEMSLEUTH, "watch", str(t.pid), "-i", "1", "--tick", "0.2", "--no-bpf",
                          "-o", str(rec)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    # Every line is flushed as a zstd block: what was written reads back while it runs.
    while not (rec.exists() and rec.stat().st_size and
               inflate(rec, tmp_path / "sofar.jsonl", whole=False).read_text().count('"sample"') >= 12):
        assert time.monotonic() < deadline, "memsleuth wrote no 12 samples in 60 s"
        time.sleep(0.2)
    w.send_signal(signal.SIGKILL)
    w.wait()
    windows, err = report_json(rec)
    assert len(windows) >= 2
    assert "has no end line" in err


def test_rotated_pieces_each_read_and_lose_no_sample(target, tmp_path):
    t = target("grow_steady", 64, 100, 1)
    rec = tmp_path / "rec.zst"
    run(["watch", t.pid, "-i", "1", "--tick", "0.25", "-n", "7", "--no-bpf", "--rotate", "2s",
         "-o", rec], check=0, timeout=60)
    pieces = sorted(tmp_path.glob("rec.zst.*"), key=lambda p: int(p.suffix[1:])) + [rec]
    assert len(pieces) >= 3, pieces
    times, ends, gaps = [], [], []
    for p in pieces:
        lines = [json.loads(x) for x in inflate(p, p.with_name(p.name + ".txt")).read_text()
                 .splitlines()]
        assert lines[0]["format"] == "memsleuth-recording"
        ends.append(lines[-1].get("reason"))
        piece = [x["t"] for x in lines if x.get("type") == "sample"]
        if times:
            gaps.append(piece[0] - times[-1])
        times += piece
        # Each piece reads on its own (one that caught a single tick under load says so).
        res = run(["report", p, "--json"])
        assert res.returncode == 0 or (len(piece) < 2 and "a window needs two" in res.stderr), \
            res.stderr
    assert ends[:-1] == ["rotated"] * (len(pieces) - 1) and ends[-1] == "count reached"
    assert times == sorted(times) and len(set(times)) == len(times)
    # The sample after a rotation is the next tick: none is lost between two pieces (a tick
    # is 0.25 s; one that ran late under load is skipped, not bunched, hence the slack).
    assert all(g < 1.0 for g in gaps), gaps


def test_bad_compressed_data_is_one_line(tmp_path):
    bad = tmp_path / "bad.zst"
    bad.write_bytes(ZSTD_MAGIC + os.urandom(200))
    res = run(["report", bad], check=1)
    assert "not valid zstd data" in res.stderr and len(res.stderr.splitlines()) == 1


@pytest.mark.parametrize("value", ["10", "1x", "0M", "1K", "-5m", "400d"])
def test_rotate_values_are_checked(value):
    res = run(["watch", "1", "--rotate", value, "-o", "x"], check=2)
    assert "rotate" in res.stderr


@pytest.mark.soak
def test_twenty_minutes_recorded_ten_times_smaller(target, tmp_path):
    """The acceptance as worded: a 20-minute recording (1 s ticks, malloc probes, a steady
    service with a bounded cache) against the same lines written plain."""
    require_root("malloc probes")
    t = target("lru_cache", "steady", 10000, 256, 100, 1500)
    t.send("go")
    rec = tmp_path / "rec.zst"
    run(["watch", t.pid, "--alloc", "-i", "60", "-n", "20", "-o", rec], check=0, timeout=1500)
    plain = inflate(rec, tmp_path / "plain.jsonl")
    ratio = plain.stat().st_size / rec.stat().st_size
    print(json.dumps({"plain": plain.stat().st_size, "zstd": rec.stat().st_size,
                      "ratio": round(ratio, 1)}))
    assert ratio >= 10
