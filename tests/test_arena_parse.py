# SPDX-License-Identifier: GPL-2.0-only
"""Arena heaps parsed with the target running: exact when idle, within 1% when busy, and a
read that races a writer is caught and read again."""
import json
import os
import signal
import subprocess
import time

from arena_helpers import check_bins_against_malloc_info, found, malloc_info
from conftest import MEMSLEUTH, SANITIZED, run

ARENAS = 4
PER_ARENA_MIB = 24


def windows_of(pid, n, *extra):
    res = run(["watch", pid, "-i", "1", "-n", n, "--json", "--no-bpf", *extra], check=0,
              timeout=120)
    return [json.loads(line) for line in res.stdout.splitlines()]


def test_idle_arenas_are_read_exactly(target, tmp_path):
    # ~85% of 4 x 24 MiB free in ~60,000 separate chunks of 32 B-2.8 KiB, fastbins and
    # tcaches filled: every window is complete and equals the target's own figures.
    path = tmp_path / "mi.xml"
    t = target("arena_scale", ARENAS, PER_ARENA_MIB, path)
    t.go(timeout=120)
    heaps, totals = malloc_info(t, path)
    windows = windows_of(t.pid, 2)
    assert len(windows) == 2
    for win in windows:
        read = win["arena_read"]
        assert read["frozen"] and read["complete"] and read["unread"] == 0, read
        assert [a["system"] for a in win["arenas"]] == [h["system_current"] for h in heaps]
        assert found(win) == totals["fordblks"], (found(win), totals)
        for a, mi in zip(win["arenas"], heaps):
            check_bins_against_malloc_info(a, mi)
        for a in win["arenas"][1:]:
            assert a["heaps"] == 1 and 0.8 < a["fragmentation"] < 0.9, a


def test_busy_arenas_are_read_within_one_percent(target, tmp_path):
    # The same arenas while every thread keeps allocating and freeing (at most 512 KiB
    # outstanding each): malloc_info before and after the run brackets what is true.
    path = tmp_path / "mi.xml"
    t = target("arena_scale", ARENAS, PER_ARENA_MIB, path, "busy")
    t.go(timeout=120)
    heaps0, totals0 = malloc_info(t, path)
    windows = windows_of(t.pid, 3)
    heaps1, totals1 = malloc_info(t, path)
    assert len(windows) == 3
    free = (totals0["fordblks"] + totals1["fordblks"]) / 2
    for win in windows:
        assert win["arena_read"]["complete"], win["arena_read"]
        assert abs(found(win) - free) <= 0.01 * free, (found(win), totals0, totals1)
        for a, h0, h1 in zip(win["arenas"], heaps0, heaps1):
            system = (h0["system_current"] + h1["system_current"]) / 2
            assert abs(a["system"] - system) <= 0.01 * system, (a, h0, h1)
    assert t.proc.poll() is None


def state_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_a_read_racing_a_writer_is_caught_and_read_again(target, tmp_path):
    # memsleuth stops itself (a test hook) after reading the first 256 KiB of the thread's
    # heap, the target frees everything and writes 0xa5 over it in 64 KiB blocks, then
    # memsleuth goes on: the chain it follows breaks in the rewritten memory, so it reads
    # again, and what it reports is the arena as it is now, to the byte.
    path = tmp_path / "mi.xml"
    rec = tmp_path / "rec.jsonl"
    t = target("arena_scale", 1, 8, path, "race")
    t.go(timeout=60)
    before = malloc_info(t, path)[1]
    env = dict(os.environ, MEMSLEUTH_TEST_PARSE_STOP="3")
    w = subprocess.Popen([MEMSLEUTH, "watch", str(t.pid), "-i", "1", "-n", "1", "--json",
                          "--no-bpf", "-o", str(rec)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while state_of(w.pid) != "T":
            assert w.poll() is None and time.monotonic() < deadline, "memsleuth never stopped"
            time.sleep(0.01)
        t.proc.stdin.write("mutate\n")
        t.proc.stdin.flush()
        assert t._readline(30) == "mutated"
        w.send_signal(signal.SIGCONT)
        out, err = w.communicate(timeout=60)
    finally:
        w.kill()
    assert w.returncode == 0, err
    if SANITIZED:
        assert "Sanitizer" not in err and "runtime error" not in err, err
    heaps, totals = malloc_info(t, path)
    assert totals["fordblks"] != before["fordblks"], (before, totals)
    first = [json.loads(line) for line in rec.read_text().splitlines()
             if '"type": "sample"' in line or '"type":"sample"' in line][0]
    read = first["arena_read"]
    assert read["rereads"] >= 1 and read["complete"], read
    assert [a["system"] for a in first["arenas"]] == [h["system_current"] for h in heaps]
    assert found(first) == totals["fordblks"], (found(first), totals)
