# SPDX-License-Identifier: GPL-2.0-only
"""memsleuth top in a real terminal (tmux): the screen, the keys, resizing, replay, exit paths."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import MIB, run
from topview import (REGION_COLUMNS, T0, go_nowait, header_rss, near_vm_rss, region_row,
                     sample_line, top, vm_rss)  # noqa: F401 (top: a fixture)

BLOCKS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"


# ---- the live view ----------------------------------------------------------------------


def test_header_matches_target_and_region_deltas_show(target, top):
    t = target("grow_heap_anon", 48, 32)
    r = top("top", t.pid, "-i", "60", "--no-bpf")
    text = r.term.wait_for(rf"pid {t.pid} grow_heap_anon\b")
    text = r.term.wait_for(r"^ RSS\s+[\d.]+ ")
    rss = header_rss(text)
    assert near_vm_rss(rss, t.pid), (rss, vm_rss(t.pid))
    assert re.search(r"on: smaps fds arenas\s+off: bpf alloc", text), text
    t.go()
    # The window is 60 s: the growth stays in the deltas long enough to be seen under load.
    # [heap] also gains what of its first 132 KiB the target had not touched yet.
    text = r.term.wait_for(r"^ \[anon\] .* \+32\.0 MiB")
    assert re.search(r"\+48\.[01] MiB", region_row(text, "[heap]")), text
    rss = header_rss(text)
    assert near_vm_rss(rss, t.pid), (rss, vm_rss(t.pid))
    assert re.search(r"^ heap\s+48\.\d MiB\s+\+48\.[01] MiB", text, re.M), text
    r.term.keys("q")
    assert r.status() == 0


def test_default_collectors_as_root(target, top):
    if os.geteuid() != 0:
        pytest.skip("the eBPF probes need root")
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "--frames", "3")
    text = r.term.wait_for(rf"pid {t.pid} ")
    assert r.status() == 0
    assert re.search(r"on: smaps fds arenas bpf\s+off:", text), text


def test_panels_switch_and_keys_work(target, top):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "-i", "60", "--no-bpf")
    term = r.term
    term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*")
    term.keys("Tab")
    term.wait_for(r"^ ARENA\s+THR\s+SYSTEM\*")
    term.keys("Tab")
    term.wait_for(r"^ TYPE\s+OPEN\*\s+DELTA$")
    assert re.search(r"^ open \d+ of \d+ allowed", term.text(), re.M)
    term.keys("Tab")
    term.wait_for(r"no stacks: they come from the eBPF probes")
    term.keys("Tab")
    text = term.wait_for(r"^ FINDINGS  no window analysed yet; next in")
    assert "waiting for the first window" in text
    term.keys("BTab")
    term.wait_for(r"no stacks: they come from the eBPF probes")
    term.keys("2")
    term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*")
    term.keys("s")
    term.wait_for(r"REGION\s+KIND\s+RSS\*\s+DELTA\s")
    term.keys("s")
    term.wait_for(r"REGION\*\s+KIND\s+RSS\s+DELTA\s")
    # Help: h and F1 open it, any key closes it.
    term.keys("h")
    term.wait_for(r"Any key closes this help")
    term.keys("x")
    term.wait_for(r"REGION\*\s+KIND")
    term.keys("F1")
    term.wait_for(r"Any key closes this help")
    term.keys("Escape")
    term.wait_for(r"REGION\*\s+KIND")
    # The window: + and - step through 60 s, 2 m, 1 m.
    term.wait_for(r"last (1m|\d+s/1m)\b")
    term.keys("+")
    term.wait_for(r"last [\dms]+/2m\b")
    term.keys("-")
    term.keys("-")
    term.wait_for(r"last [\dms]+/30s\b|last 30s\b")
    # Pause freezes what is shown; p again goes on.
    term.keys("p")
    term.wait_for(r"PAUSED: p resumes")
    term.keys("p")
    term.wait_for(r"live, every second")
    term.keys("C-l")
    term.wait_for(r"REGION\*\s+KIND")
    term.keys("q")
    assert r.status() == 0


def test_resize_lays_out_again(target, top):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "-i", "60", "--no-bpf")
    term = r.term
    text = term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*\s+DIRTY\s+SWAP$")
    assert "PSS" not in text and len(term.screen()) <= 24
    term.resize(120, 40)
    text = term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*\s+PSS\s+DIRTY\s+SWAP\s+VMAS$")
    # The bottom-right cell is drawn last (by inserting a character: writing it would
    # scroll the screen), so a capture may fall between the two.
    term.wait_for(lambda _: "q quit" in (term.screen() or [""])[-1])
    lines = term.screen()
    assert term.size() == (120, 40)
    assert len(lines) == 40 and "q quit" in lines[39], lines
    assert lines[0].startswith(" memsleuth  pid"), lines
    term.resize(80, 24)
    text = term.wait_for(r"REGION\s+KIND\s+RSS\s+DELTA\*\s+DIRTY\s+SWAP$")
    lines = term.screen()
    assert len(lines) == 24 and "q quit" in lines[23], lines
    assert "VMAS" not in text
    term.keys("q")
    assert r.status() == 0


def test_target_exit_keeps_final_data_until_q(target, top):
    t = target("grow_heap_anon", 8, 0)
    r = top("top", t.pid, "-i", "60", "--no-bpf")
    r.term.wait_for(rf"pid {t.pid} ")
    t.go()
    r.term.wait_for(r"^ \[heap\] .* \+8\.[01] MiB")
    t.finish()
    text = r.term.wait_for(rf"target {t.pid} exited: final data shown, q quits")
    assert re.search(r"\+8\.[01] MiB", region_row(text, "[heap]")), text
    time.sleep(1.5)
    assert not r.rcfile.exists(), "top left before q"
    r.term.keys("q")
    assert r.status() == 0
    assert f"target {t.pid} exited" in r.stderr()


def test_frames_option_ends_by_itself(target, top):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "--frames", "3", "--no-bpf")
    assert r.status() == 0
    assert "rc=0" in r.term.text()


def test_count_option_ends_after_windows(target, top):
    """-n counts windows in top as in watch and ps: two of 1 s, whatever the refreshes."""
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "-n", "2", "-i", "1", "--tick", "0.5", "--no-bpf")
    r.term.wait_for(r"FINDINGS  window #1 ")
    assert r.status() == 0


def _stty(term, path):
    term.type(f"stty -g > {path}")
    term.keys("Enter")


@pytest.mark.parametrize("how", ["q", "SIGTERM"])
def test_exit_restores_the_shell(target, top, tmp_path, how):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "--no-bpf", shell=True)
    term = r.term
    _stty(term, tmp_path / "before")
    term.type(f"{r.cmd}; echo rc=$?")
    term.keys("Enter")
    term.wait_for(rf"pid {t.pid} ")
    if how == "q":
        term.keys("q")
    else:
        children = subprocess.run(["pgrep", "-P", str(term.pane_pid())],
                                  capture_output=True, text=True).stdout.split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGTERM)
    term.wait_for(r"^rc=0$")
    _stty(term, tmp_path / "after")
    term.type("echo ok-$((1+1))")
    term.keys("Enter")
    text = term.wait_for(r"^ok-2$")
    assert "$ echo ok-$((1+1))" in text, text   # typed keys echo again
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()


def test_names_from_the_target_cannot_drive_the_terminal(top):
    """An escape sequence in the target's name is shown inert, as '?'."""
    code = ("import ctypes, sys, time; ctypes.CDLL(None).prctl(15, b'\\x1b]2;pwn\\x07x', 0, 0, 0);"
            "print('ready', flush=True); time.sleep(120)")
    proc = subprocess.Popen(["python3", "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("ready")
        r = top("top", proc.pid, "--no-bpf")
        text = r.term.wait_for(rf"pid {proc.pid} ")
        assert f"pid {proc.pid} ?]2;pwn?x " in text, text
        r.term.keys("q")
        assert r.status() == 0
    finally:
        proc.kill()
        proc.wait()


def test_monochrome_ascii_terminal(target, top):
    t = target("grow_steady", 64, 100, 128)
    r = top("top", t.pid, "-i", "5", "--no-bpf",
            env={"TERM": "xterm-mono", "LC_ALL": "C", "LANG": "C"})
    r.term.wait_for(rf"pid {t.pid} ")
    go_nowait(t)
    text = r.term.wait_for(r"^ RSS .*[_.,\-~=*#]{3,}", timeout=30)
    assert not any(c in text for c in BLOCKS + "\u2502"), text
    assert re.search(r"1 Findings \d+ \| 2 Regions", text), text
    r.term.keys("q")
    assert r.status() == 0


def test_utf8_sparklines(target, top):
    t = target("grow_steady", 64, 100, 128)
    r = top("top", t.pid, "-i", "5", "--no-bpf", env={"LC_ALL": "C.UTF-8"})
    r.term.wait_for(rf"pid {t.pid} ")
    go_nowait(t)
    text = r.term.wait_for(lambda s: sum(s.count(c) for c in BLOCKS[1:]) >= 3)
    assert "\u2502 2 Regions" in text
    r.term.keys("q")
    assert r.status() == 0


# ---- replay -----------------------------------------------------------------------------

FRAMES = ["grow_cache+0x1a (cache.c:42)", "handle_request+0x88 (server.c:120)",
          "main+0x20 (main.c:10)"]


def write_recording(path, n=40):
    """A fixed recording: [heap] +1 MiB and 2 sockets per second, an mmap stack growing."""
    lines = [{"format": "memsleuth-recording", "version": 1, "created": T0, "pid": 4242,
              "comm": "replayd", "window_s": 10.0, "tick_s": 1.0, "bpf": True,
              "alloc": False, "host": "fixture", "kernel": "6.0",
              "region_columns": REGION_COLUMNS},
             {"type": "stack", "id": 7, "frames": FRAMES}]
    for i in range(n):
        heap = (20 + i) * MIB
        regions = [["[heap]", "heap", 1, heap, heap, heap, heap, heap, 0],
                   ["[anon]", "anon", 3, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 0],
                   ["[arena 0x7f0000000000]", "arena", 2, 64 * MIB, 4 * MIB, 4 * MIB,
                    4 * MIB, 4 * MIB, 0],
                   ["/usr/lib/libc.so.6", "file", 5, 2 * MIB, 2 * MIB, MIB, 0, 0, 0]]
        arenas = [{"addr": 0x7ffff7e19c80, "main": True, "threads": 1, "heaps": 0,
                   "system": heap, "max_system": heap, "top": MIB, "free": 2 * MIB,
                   "live": -1, "rss": heap, "reclaimable": 0, "fragmentation": 0.1},
                  {"addr": 0x7f0000000020, "main": False, "threads": 2, "heaps": 1,
                   "system": 4 * MIB, "max_system": 4 * MIB, "top": 64 << 10,
                   "free": 3 * MIB, "live": -1, "rss": 4 * MIB, "reclaimable": MIB,
                   "fragmentation": 0.75}]
        lines.append(sample_line(T0 + i, 4242, "replayd", regions, 10 + 2 * i, arenas,
                                 [[7, "mmap", i * MIB, i]]))
    lines.append({"type": "end", "t": T0 + n, "reason": "stopped"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_replay_shows_fixed_content_and_steps(top, tmp_path):
    rec = write_recording(tmp_path / "fixed.jsonl")
    r = top("top", "--replay", rec)
    term = r.term
    # It opens where the first window (10 s) closes: sample 11 of 40.
    text = term.wait_for(r"REPLAY 11/40")
    assert re.search(r"^ memsleuth  pid 4242 replayd  glibc  at 10s of 39s  last 10s  "
                     r"lost 0$", text, re.M), text
    assert re.search(r"^ RSS\s+44\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    assert re.search(r"^ heap\s+34\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    assert re.search(r"fds\s+33/1024\s+\+20", text), text
    assert re.search(r"\[heap\]\s+heap\s+30\.0 MiB\s+\+10\.0 MiB", text), text
    assert re.search(r"on: smaps fds arenas bpf\s+off: alloc", text), text
    # One window is no trend yet: the detectors wait for the second.
    assert re.search(r"FINDINGS  window #1 \(10s\)", text), text
    assert "nothing found in the last window" in text
    term.keys(".")
    text = term.wait_for(r"REPLAY 12/40")
    assert re.search(r"^ RSS\s+45\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    term.keys(",", ",")
    text = term.wait_for(r"REPLAY 10/40")
    assert re.search(r"^ RSS\s+43\.0 MiB\s+\+9\.0 MiB", text, re.M), text
    assert "no window analysed yet" in text
    term.keys("]")
    term.wait_for(r"REPLAY 20/40")
    term.keys("[")
    term.wait_for(r"REPLAY 10/40")
    term.keys(">")
    text = term.wait_for(r"REPLAY 40/40 .*end of the recording")
    assert re.search(r"^ RSS\s+73\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    term.keys("<")
    text = term.wait_for(r"REPLAY 1/40")
    assert re.search(r"^ RSS\s+34\.0 MiB\s+0 B", text, re.M), text
    # Panels over the recording.
    term.keys(">", "3")
    text = term.wait_for(r"ARENA\s+THR\s+SYSTEM\*")
    assert re.search(r"0x7f0000000020\s+2\s+4\.0 MiB\s+0 B\s+3\.0 MiB\s+75%\s+4\.0 MiB\s+"
                     r"1\.0 MiB", text), text
    assert re.search(r"main\s+1\s+59\.0 MiB\s+\+10\.0 MiB", text), text
    term.keys("4")
    text = term.wait_for(r"socket\s+88\s+\+20")
    assert re.search(r"open 91 of 1024 allowed \(9%\), \+20 in 10s: the limit in 7m", text)
    term.keys("5")
    text = term.wait_for(r"mmap\s+\+10\.0 MiB\s+\+10\s+39\.0 MiB\s+grow_cache \(cache\.c:42\)$")
    assert "main+0x20" not in text
    term.keys("Enter")
    text = term.wait_for(r"main\+0x20 \(main\.c:10\)")
    assert "handle_request+0x88 (server.c:120)" in text
    assert "grow_cache+0x1a (cache.c:42)" in text
    # Play advances on its own, one sample a second, and stops at the end.
    term.keys("<", "Space")
    term.wait_for(r"REPLAY [3-9]/40 .*playing")
    term.keys("Space")
    text = term.wait_for(r"REPLAY \d+/40 .*paused")
    term.keys("q")
    assert r.status() == 0


def test_replay_window_keys_recut(top, tmp_path):
    rec = write_recording(tmp_path / "fixed.jsonl")
    r = top("top", "--replay", rec, "-i", "5")
    text = r.term.wait_for(r"REPLAY 6/40")
    assert re.search(r"^ RSS\s+39\.0 MiB\s+\+5\.0 MiB", text, re.M), text
    r.term.keys("+")
    # Five seconds into the recording, a 10 s window can only span five.
    text = r.term.wait_for(r"last 5s/10s\b")
    assert re.search(r"^ RSS\s+39\.0 MiB\s+\+5\.0 MiB", text, re.M), text
    r.term.keys(">")
    text = r.term.wait_for(r"REPLAY 40/40")
    assert re.search(r"^ RSS\s+73\.0 MiB\s+\+10\.0 MiB", text, re.M), text
    r.term.keys("q")
    assert r.status() == 0


def test_top_records_what_it_shows(target, top, tmp_path):
    """top -o writes a recording that report and top --replay read back."""
    t = target("grow_heap_anon", 8, 0)
    rec = tmp_path / "live.jsonl"
    r = top("top", t.pid, "-i", "5", "--tick", "0.5", "--no-bpf", "-o", rec)
    r.term.wait_for(rf"pid {t.pid} ")
    r.term.wait_for(r"live, every 0\.5 s")
    t.go()
    r.term.wait_for(r"^ \[heap\] .* \+8\.[01] MiB")
    r.term.wait_for(r"FINDINGS  window #1 \(5s\)")
    r.term.keys("q")
    assert r.status() == 0
    res = run(["report", rec, "--json"], check=0)
    assert json.loads(res.stdout.splitlines()[0])["pid"] == t.pid
    # --tick sets how often top samples (and refreshes): ten samples a 5 s window.
    lines = [json.loads(x) for x in rec.read_text().splitlines()]
    assert lines[0]["tick_s"] == 0.5
    times = [x["t"] for x in lines[1:] if x.get("type") == "sample"]
    assert len(times) >= 11 and sorted(times) == times, times
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    assert 0.4 < gaps[len(gaps) // 2] < 0.6, gaps
    replay = top("top", "--replay", rec)
    text = replay.term.wait_for(r"REPLAY \d+/\d+")
    assert re.search(rf"pid {t.pid} grow_heap_anon", text), text
    replay.term.keys("q")
    assert replay.status() == 0
    # At 100 columns the replay's status and its keys do not run into each other.
    text = replay_to_end(top, rec, 100, r"\(end of the recording\)")
    assert re.search(r"paused  \(end of the recording\) +h help  q quit *$", text, re.M), text
    # A recording without its end line (memsleuth was killed) says so at its end.
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(rec.read_text().splitlines(keepends=True)[:-1]))
    text = replay_to_end(top, cut, 120, r"\(end: cut off, no end line\)")
    assert re.search(r"no end line\) +Space play .* q quit *$", text, re.M), text


def replay_to_end(top, rec, width, shown):
    """Replays `rec` at `width` columns, steps to its end and returns the screen there."""
    replay = top("top", "--replay", rec, width=width, height=30)
    replay.term.keys(">")
    text = replay.term.wait_for(shown)
    replay.term.keys("q")
    assert replay.status() == 0
    return text


@pytest.mark.parametrize("term", ["no-such-terminal", "dumb"])
def test_unusable_terminal_is_one_line(target, top, term):
    """An unknown terminal, or one that cannot move its cursor (which showed a blank
    screen), is refused in one line that says what to use instead."""
    t = target("grow_heap_anon", 1, 1)
    r = top("top", t.pid, "--no-bpf", env={"TERM": term})
    assert r.status() == 1
    assert r.stderr().strip() == (f"memsleuth top: cannot drive the terminal (TERM={term}): "
                                  "top needs one that terminfo knows and that can move its "
                                  "cursor; 'memsleuth watch' prints plain text")


# ---- errors, without a terminal ---------------------------------------------------------


def test_help_names_every_option():
    out = run(["top", "--help"], check=0).stdout
    for opt in ("-i, --interval SECONDS", "-n, --count COUNT", "--frames N", "-o, --output FILE",
                "--replay FILE", "--alloc ", "--alloc-duty PCT", "--alloc-exact",
                "--alloc-sample BYTES", "--alloc-optional", "--no-bpf", "--no-freeze",
                "--freeze-max MS", "--no-arenas", "--fault-rate N", "--stack-rate N",
                "--tick SECONDS", "-h, --help"):
        assert opt in out, (opt, out)


def test_usage_errors(tmp_path):
    rec = write_recording(tmp_path / "fixed.jsonl")
    for args in (["top", "-o", tmp_path / "x.jsonl"], ["top", "1", "--replay", rec], ["top", "--replay", rec, "--no-bpf"],
                 ["top", "--replay", rec, "--alloc"], ["top", "1", "--alloc-duty", "0"],
                 ["top", "1", "--freeze-max", "20000"], ["top", "1", "--fault-rate", "x"],
                 ["top", "1", "-i", "1000"], ["top", "1", "--bogus"], ["top", "abc"],
                 ["top", "1", "--tick", "6"], ["top", "1", "--tick", "0.06"],
                 ["top", "1", "-i", "2", "--tick", "3"], ["top", "--replay", rec, "--tick", "1"],
                 ["top", "1", "-n", "0"], ["top", "1", "--frames", "x"], ["top", "1", "2"],
                 ["top", "-i", "2", "--tick", "3"]):
        res = run(args, check=2)
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert res.stderr.startswith("memsleuth top: "), res.stderr


def test_runtime_errors_are_one_line(target, tmp_path):
    t = target("grow_heap_anon", 1, 1)
    for args, instead in ((["top", t.pid, "--no-bpf"], "watch"), (["top"], "ps")):
        res = run(args, check=1)
        assert res.stderr.strip() == ("memsleuth top: the live view needs a terminal (use "
                                      f"'memsleuth {instead}' for text or JSON output)")
    res = run(["top", "--replay", tmp_path / "missing.jsonl"], check=1)
    assert len(res.stderr.strip().splitlines()) == 1 and "missing.jsonl" in res.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(write_recording(tmp_path / "ok.jsonl").read_text()[:-40])
    res = run(["top", "--replay", bad], check=1)
    assert len(res.stderr.strip().splitlines()) == 1 and "line 43" in res.stderr, res.stderr


