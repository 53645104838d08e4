# SPDX-License-Identifier: GPL-2.0-only
"""Hostile and odd targets: PID reuse, exec, zombies, namespaces, static binaries,
unreadable processes, and names full of control bytes and invalid UTF-8."""
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import (MEMSLEUTH, MIB, SANITIZED, TARGETS, Target, region, require_root,
                      run, target_path, wait_samples, within)

HERE = Path(__file__).resolve().parent
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")


def assert_no_sanitizer_report(err):
    if SANITIZED:
        assert "Sanitizer" not in err and "runtime error" not in err, err


def interrupted_windows(w):
    """Stops a watch with SIGINT; returns its windows, the partial last one included."""
    code, out, err = w.interrupt()
    assert code == 0, err
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def delta(windows, name):
    """A region's RSS change over all the windows of a run."""
    return sum(r["rss_delta"] for x in windows for r in x["regions"] if r["name"] == name)


def child_of(pid):
    """The one child of `pid` (unshare's or a forking target's)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        kids = f.read().split()
    assert len(kids) == 1, kids
    return int(kids[0])


def test_pid_reuse_is_not_taken_for_the_target():
    """The watched target dies and a new process gets its PID while memsleuth is stopped:
    memsleuth must report the exit and never sample the newcomer."""
    require_root("a pid namespace and ns_last_pid need root")
    res = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", sys.executable,
         str(HERE / "ns_pid_reuse.py"), MEMSLEUTH, str(TARGETS)],
        capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, res.stderr
    r = json.loads(res.stdout)
    assert r["new"] == r["old"], f"the PID was not reused ({r}): the test proves nothing"
    assert r["status"] == 0, r["stderr"]
    assert f"target {r['old']} exited" in r["stderr"]
    assert_no_sanitizer_report(r["stderr"])
    windows = [json.loads(x) for x in r["stdout"].splitlines() if x.strip()]
    assert windows, r
    assert {w["comm"] for w in windows} == {"grow_heap_anon"}
    assert r["new_alive"], "the new process with the reused PID was harmed"


def test_exec_changes_comm_and_the_report_stays_coherent(target, watch, tmp_path):
    rec = tmp_path / "rec.jsonl"
    t = target("exec_into", target_path("grow_heap_anon"), 16, 0)
    w = watch("watch", t.pid, "-i", "0.5", "--tick", "0.1", "--json", "--no-bpf", "-o", rec)
    wait_samples(rec, 2)
    t.go()
    assert t._readline(10) == f"ready {t.pid}", "the exec'd image did not start"
    wait_samples(rec, 2)
    t.go()
    wait_samples(rec, 2)
    t.finish()
    windows = w.json_windows(timeout=30)
    assert {x["pid"] for x in windows} == {t.pid}
    assert windows[-1]["comm"] == "grow_heap_anon"
    # Sample by sample, the comm changes once, at the exec.
    samples = [json.loads(x) for x in rec.read_text().splitlines()[1:]]
    comms = [x["comm"] for x in samples if x["type"] == "sample"]
    switch = comms.index("grow_heap_anon")
    assert switch > 0 and set(comms[:switch]) == {"exec_into"}, comms
    assert set(comms[switch:]) == {"grow_heap_anon"}, comms
    # The heap the new image grew is measured exactly in the windows after the exec.
    grown = sum(region(x, "[heap]")["rss_delta"] for x in windows
                if x["comm"] == "grow_heap_anon" and
                any(r["name"] == "[heap]" for r in x["regions"]))
    assert within(grown, 16 * MIB), grown
    for x in windows:
        assert sum(r["rss"] for r in x["regions"]) == x["totals"]["rss"]


def test_zombie_target_ends_the_watch_cleanly(target, watch, tmp_path):
    rec = tmp_path / "rec.jsonl"
    t = target("zombie_child")
    child = child_of(t.pid)
    w = watch("watch", child, "-i", "5", "--tick", "0.1", "--json", "--no-bpf", "-o", rec)
    wait_samples(rec, 2)
    t.go()
    code, out, err = w.wait(timeout=30)
    with open(f"/proc/{child}/status") as f:
        assert "State:\tZ" in f.read(), "the target was reaped: not a zombie test"
    assert code == 0, err
    assert f"target {child} exited" in err
    windows = [json.loads(x) for x in out.splitlines()]
    assert len(windows) == 1 and windows[0]["partial"], windows


def wait_zombie(pid, timeout=10):
    """Waits until `pid` has finished exiting and its parent has not reaped it."""
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/status") as f:
            if "State:\tZ" in f.read():
                return
        assert time.monotonic() < deadline, f"{pid} did not become a zombie"
        time.sleep(0.02)


def test_zombie_at_attach_is_named(target):
    t = target("zombie_child")
    child = child_of(t.pid)
    t.go()
    wait_zombie(child)
    res = run(["watch", child, "-n", "1", "--no-bpf"], timeout=30)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "zombie" in lines[0] and f"PID {t.pid}" in lines[0], lines


def test_process_in_another_pid_and_mount_namespace(watch, tmp_path):
    """Watched by its host PID while it sees itself as PID 1 with its own /proc."""
    require_root("unshare --pid --mount needs root")
    rec = tmp_path / "rec.jsonl"
    p = subprocess.Popen(["unshare", "--pid", "--mount", "--fork", "--mount-proc",
                          "--kill-child", target_path("grow_heap_anon"), "16", "8"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 10)
        assert ready and p.stdout.readline().strip() == "ready 1"
        host_pid = child_of(p.pid)
        w = watch("watch", host_pid, "-i", "2", "--json", "--no-bpf", "-o", rec)
        p.stdin.write("go\n")
        p.stdin.flush()
        assert p.stdout.readline().startswith("done")
        wait_samples(rec, 2)
        windows = interrupted_windows(w)
    finally:
        p.kill()
        p.wait()
    assert {x["pid"] for x in windows} == {host_pid}
    assert windows[-1]["comm"] == "grow_heap_anon" and windows[-1]["allocator"] == "glibc"
    assert within(delta(windows, "[heap]"), 16 * MIB)
    assert within(delta(windows, "[anon]"), 8 * MIB)


def test_statically_linked_target(target, watch, tmp_path):
    """No libc.so in the maps: glibc's malloc is recognised in the executable itself,
    and the regions are measured as usual."""
    rec = tmp_path / "rec.jsonl"
    t = target("grow_heap_static", 16, 4)
    w = watch("watch", t.pid, "-i", "2", "--json", "--no-bpf", "-o", rec)
    t.go()
    wait_samples(rec, 2)
    windows = interrupted_windows(w)
    assert {x["allocator"] for x in windows} == {"glibc"}
    assert within(delta(windows, "[heap]"), 16 * MIB)
    assert within(delta(windows, "[anon]"), 4 * MIB)
    assert not any(".so" in r["name"] for x in windows for r in x["regions"])


def test_other_users_process_without_privileges(target):
    """As nobody, against a root process: one line naming what is missing, exit 1."""
    require_root("needs root to start the target and to become nobody")
    t = target("grow_heap_anon", 0, 0)
    for extra in ([], ["--json"]):
        res = run(["watch", t.pid, "-n", "1", *extra], wrap=NOBODY, timeout=30)
        assert res.returncode == 1, res
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert "permission denied" in lines[0] and "CAP_SYS_PTRACE" in lines[0], lines
        if extra:
            assert "CAP_SYS_PTRACE" in json.loads(res.stdout)["error"]


ODD_COMM = "\x01\x1b[31m\ufffdodd"          # \xff became U+FFFD
ODD_FILE = "evil\\012\x1b[2J\ufffd\x9b.dat"  # the kernel escapes the newline as \012


def clean_text(data):
    """Text a terminal can show safely: valid UTF-8, no control byte but newline."""
    text = data.decode("utf-8")  # raises on invalid UTF-8
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0]
    assert not bad, f"control characters in the output: {bad!r}"
    return text


def start_odd(tmp_path, args):
    """Watches odd_names while it maps its file; returns raw stdout and stderr."""
    rec = tmp_path / "odd.jsonl"
    t = Target("odd_names", str(tmp_path))
    w = subprocess.Popen([MEMSLEUTH, "watch", str(t.pid), "-i", "2", "--no-bpf", "-o",
                          str(rec), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The first stderr line is "watching PID ...": memsleuth has its baseline.
        ready, _, _ = select.select([w.stderr], [], [], 20)
        assert ready
        first = w.stderr.readline()
        t.go()
        wait_samples(rec, 2)
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=30)
    finally:
        w.kill()
        t.kill()
    assert w.returncode == 0, err
    return out, first + err, rec


def test_main_arena_claiming_terabytes_is_cut_to_its_mappings(target, tmp_path):
    """A main arena whose system figure says 8 TiB, its lock held: memsleuth reads what the
    target maps, not 8 TiB of address space (a bitmap of 256 MiB, 2 billion pagemap entries)."""
    require_root()
    t = target("huge_system")
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([MEMSLEUTH, "watch", str(t.pid), "-i", "1", "-n", "2",
                                 "--json", "--no-bpf"], stdout=o, stderr=e)
    # The figure changes after memsleuth found main_arena and read it once.
    deadline = time.monotonic() + 20
    while "watching PID" not in err.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, err.read_text()
        time.sleep(0.05)
    assert "ok" in t.go(), "glibc's malloc_state layout was not found where 2.27-2.42 put it"
    deadline = time.monotonic() + 60
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("memsleuth still reading after 60 s")
        time.sleep(0.1)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, err.read_text()
    assert_no_sanitizer_report(err.read_text())
    # Its own memory: tens of MiB as for any small target, not a 256 MiB bitmap.
    assert usage.ru_maxrss * 1024 < 200 * MIB, usage.ru_maxrss
    window = json.loads(out.read_text().splitlines()[-1])
    main = [a for a in window["arenas"] if a["main"]]
    assert main and main[0]["system"] == 1 << 43, window["arenas"]
    assert main[0]["rss"] <= window["totals"]["rss"], (main[0], window["totals"])
    assert t.proc.poll() is None            # the target lives on


def test_odd_names_keep_json_valid(tmp_path):
    out, err, _ = start_odd(tmp_path, ["--json"])
    clean_text(err)
    win = [json.loads(x) for x in out.decode("utf-8").splitlines()][-1]
    assert win["comm"] == ODD_COMM
    odd = [r for r in win["regions"] if r["name"].endswith(ODD_FILE)]
    assert len(odd) == 1, [r["name"] for r in win["regions"]]
    assert odd[0]["kind"] == "file" and odd[0]["rss"] == 2 * MIB
    assert odd[0]["name"] == str(tmp_path) + "/" + ODD_FILE
    assert_no_sanitizer_report(err.decode("utf-8", "replace"))


def test_odd_names_in_text_output_are_harmless(tmp_path):
    out, err, _ = start_odd(tmp_path, [])
    text = clean_text(out)
    clean_text(err)
    assert "pid" in text and "(??[31m?odd)" in text, text
    assert "\\012?[2J??.dat" in text, text
    assert_no_sanitizer_report(err.decode("utf-8", "replace"))


def test_odd_names_survive_a_recording(tmp_path):
    _, _, rec = start_odd(tmp_path, ["--json"])
    res = run(["report", rec, "--json"], check=0)
    win = [json.loads(x) for x in res.stdout.splitlines()][-1]
    assert win["comm"] == ODD_COMM
    assert any(r["name"].endswith(ODD_FILE) and r["rss"] == 2 * MIB for r in win["regions"])
    raw = subprocess.run([MEMSLEUTH, "report", str(rec)], capture_output=True, timeout=30)
    assert raw.returncode == 0
    clean_text(raw.stdout)
    assert_no_sanitizer_report(raw.stderr.decode("utf-8", "replace"))


def test_control_bytes_in_arguments_give_one_clean_line():
    res = subprocess.run([MEMSLEUTH, "watch", "1\n\x1b[31mred"], capture_output=True,
                         timeout=30)
    assert res.returncode == 2
    line = clean_text(res.stderr)
    assert line.count("\n") == 1 and "'1??[31mred'" in line, line
