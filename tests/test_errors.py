# SPDX-License-Identifier: GPL-2.0-only
"""Bad input: a clean one-line error and the contract's exit status, never a crash."""
import json
import os
import subprocess

import pytest

from conftest import MEMSLEUTH, require_root, run

USAGE, RUNTIME = 2, 1


def one_line_error(res, status, *words):
    assert res.returncode == status, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert "Sanitizer" not in res.stderr


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("args,status,words", [
    (["watch"], USAGE, ["missing PID"]),
    (["watch", "abc"], USAGE, ["not a number", "abc"]),
    (["watch", "12x"], USAGE, ["not a number"]),
    (["watch", "0"], USAGE, ["PID 0"]),
    (["watch", "99999999999"], USAGE, ["out of range"]),
    (["watch", "1", "--bogus"], USAGE, ["unknown option", "--bogus"]),
    (["watch", "1", "-i", "0"], USAGE, ["interval", "positive"]),
    (["watch", "1", "-i", "-5"], USAGE, ["interval"]),
    (["watch", "1", "-i", "soon"], USAGE, ["interval"]),
    (["watch", "1", "-n", "0"], USAGE, ["count", "positive"]),
    (["watch", "1", "-i"], USAGE, ["needs a value"]),
    (["watch", "1", "2"], USAGE, ["unexpected argument"]),
    (["watch", "1", "--tick", "5", "-i", "2"], USAGE, ["tick"]),
    (["frobnicate"], USAGE, ["unknown command"]),
    (["--bogus"], USAGE, ["unknown option"]),
    (["diff", "only-one"], USAGE, ["two files"]),
    (["report"], USAGE, ["missing FILE"]),
    (["report", "x", "-i", "0"], USAGE, ["interval"]),
])
def test_usage_errors(args, status, words):
    one_line_error(run(args), status, *words)


def test_no_such_pid():
    pid = dead_pid()
    one_line_error(run(["watch", pid, "--no-bpf"]), RUNTIME, f"no process with PID {pid}")


def test_kernel_thread():
    one_line_error(run(["watch", "2", "--no-bpf"]), RUNTIME, "kernel thread")


def test_thread_id_is_not_a_process(target):
    t = target("grow_stacks", 2, 64)
    t.go()
    tids = [int(x) for x in os.listdir(f"/proc/{t.pid}/task") if int(x) != t.pid]
    one_line_error(run(["watch", tids[0], "--no-bpf"]), RUNTIME, "thread of process",
                   str(t.pid))


def test_no_permission_names_the_privilege():
    require_root("needs root to switch to an unprivileged user")
    res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          MEMSLEUTH, "watch", "1"], capture_output=True, text=True, timeout=30)
    assert res.returncode == RUNTIME, res
    lines = res.stderr.strip().splitlines()
    assert "permission denied" in lines[-1] and "CAP_SYS_PTRACE" in lines[-1], res.stderr


def test_json_mode_errors_are_json():
    pid = dead_pid()
    res = run(["watch", pid, "--json", "--no-bpf"])
    assert res.returncode == RUNTIME
    assert json.loads(res.stdout)["error"].startswith("no process")


@pytest.mark.parametrize("content,words", [
    (b"", ["empty"]),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00binary", ["binary"]),
    (b"hello world\nthis is not smaps\n", ["line 1"]),
    (b"00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/dbus-daemon\n", ["maps"]),
    (b"55e7-7ffc ---p 00000000 00:00 0 [rollup]\nRss: 1708 kB\n", ["smaps_rollup"]),
    (b"00400000-00452000 r-xp 00000000 08:02 173521 /bin/x\nRss: lots kB\n", ["line 2"]),
    (b"00400000-00452000 rwzp 00000000 08:02 173521 /bin/x\nRss: 4 kB\n", ["line 1"]),
    (b"Rss: 4 kB\n", ["line 1", "mapping line"]),
    # Cut short after a mapping line, and a mapping without its Rss: (an edit): not 0 B.
    (b"00400000-00452000 r-xp 00000000 08:02 173521 /bin/x\nRss: 4 kB\n"
     b"00452000-00453000 rw-p 00000000 00:00 0\n", ["line 3", "cut short"]),
    (b"00400000-00452000 r-xp 00000000 08:02 173521 /bin/x\nSize: 8 kB\n"
     b"00452000-00453000 rw-p 00000000 00:00 0\nRss: 4 kB\n", ["line 1", "no Rss: line"]),
])
def test_malformed_smaps(tmp_path, content, words):
    bad = tmp_path / "bad.smaps"
    bad.write_bytes(content)
    good = tmp_path / "good.smaps"
    good.write_bytes(open("/proc/self/smaps", "rb").read())
    one_line_error(run(["diff", good, bad]), RUNTIME, str(bad), *words)
    one_line_error(run(["diff", bad, good]), RUNTIME, str(bad), *words)


def test_missing_smaps_file(tmp_path):
    one_line_error(run(["diff", tmp_path / "nope", tmp_path / "nope2"]), RUNTIME,
                   "No such file")


def test_directory_as_smaps(tmp_path):
    one_line_error(run(["diff", tmp_path, tmp_path]), RUNTIME, str(tmp_path))


HEADER = {"format": "memsleuth-recording", "version": 1, "pid": 1, "comm": "x",
          "window_s": 1, "tick_s": 1,
          "region_columns": ["name", "kind", "vmas", "size", "rss", "pss", "anon",
                             "private_dirty", "swap"]}


def sample(t, rss):
    return {"type": "sample", "t": t, "pid": 1, "comm": "x",
            "totals": {"rss": rss, "pss": rss, "anon": rss, "swap": 0},
            "regions": [["[heap]", "heap", 1, rss, rss, rss, rss, rss, 0]]}


def write_lines(path, objs, tail=""):
    path.write_text("".join(json.dumps(o) + "\n" for o in objs) + tail)
    return path


@pytest.mark.parametrize("build,words", [
    (lambda p: p.write_text(""), ["empty"]),
    (lambda p: p.write_bytes(b"\x00\x01\x02garbage"), ["binary"]),
    (lambda p: p.write_bytes(open("/proc/self/smaps", "rb").read()), ["not a memsleuth"]),
    (lambda p: write_lines(p, [{"some": "json"}]), ["not a memsleuth"]),
    (lambda p: write_lines(p, [dict(HEADER, version=99)]), ["version 99"]),
    (lambda p: write_lines(p, [dict(HEADER, window_s=0)]), ["window_s"]),
    (lambda p: write_lines(p, [HEADER, sample(1, 10)], '{"type": "sample", "t": 2, "pi'),
     ["line 3", "truncated"]),
    (lambda p: write_lines(p, [HEADER, sample(1, 10)], "{not json}\n" + json.dumps(sample(2, 20)) + "\n"),
     ["line 3", "malformed"]),
    (lambda p: write_lines(p, [HEADER, {"type": "sample", "t": 1}]), ["line 2", "lacks"]),
    (lambda p: write_lines(p, [HEADER, dict(sample(1, 1), regions=[["x", "weird", 1, 1, 1]])]),
     ["line 2", "kind"]),
    (lambda p: write_lines(p, [HEADER, dict(sample(1, 1), stacks=[[7, "mmap", 1, 1]])]),
     ["line 2", "stack"]),
    (lambda p: write_lines(p, [HEADER]), ["0 samples"]),
    (lambda p: write_lines(p, [HEADER, sample(1, 10)]), ["1 sample"]),
])
def test_bad_recordings(tmp_path, build, words):
    path = tmp_path / "rec.jsonl"
    build(path)
    one_line_error(run(["report", path]), RUNTIME, *words)
    res = run(["report", path, "--json"])
    assert res.returncode == RUNTIME and "error" in json.loads(res.stdout)


def test_missing_recording(tmp_path):
    one_line_error(run(["report", tmp_path / "nope.jsonl"]), RUNTIME, "No such file")


@pytest.mark.parametrize("cmd", [["report"], ["diff", "/proc/self/smaps"], ["top", "--replay"]])
def test_runtime_error_quoting_control_bytes_is_one_clean_line(tmp_path, cmd):
    path = tmp_path / "a\nb\x1b[31m"
    res = run([*cmd, path])
    one_line_error(res, RUNTIME, "a?b?[31m")
    assert "\x1b" not in res.stderr
    if cmd[0] != "top":
        res = run([*cmd, path, "--json"])
        assert res.returncode == RUNTIME
        assert str(path) in json.loads(res.stdout)["error"]


def test_synthetic_recording_is_analysed(tmp_path):
    path = write_lines(tmp_path / "rec.jsonl",
                       [HEADER, sample(100, 1 << 20), sample(101, 3 << 20), sample(102, 2 << 20)])
    res = run(["report", path, "--json"], check=0)
    wins = [json.loads(x) for x in res.stdout.splitlines()]
    assert [w["totals_delta"]["rss"] for w in wins] == [2 << 20, -(1 << 20)]


@pytest.mark.parametrize("cmd", ["watch", "report", "diff", "demo", "agent"])
def test_help_on_every_subcommand(cmd):
    res = run([cmd, "--help"], check=0)
    assert res.stdout.startswith("usage: memsleuth " + cmd)
    assert max(len(x) for x in res.stdout.splitlines()) <= 80


def test_top_level_help_and_version():
    assert "commands:" in run(["--help"], check=0).stdout
    assert run(["--version"], check=0).stdout.startswith("memsleuth ")
    res = run([])
    assert res.returncode == USAGE and "usage:" in res.stderr
