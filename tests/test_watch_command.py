# SPDX-License-Identifier: GPL-2.0-only
"""watch -- CMD: the command started under the probes, seen from its first allocation, its
exit status returned."""
import json
import os
import stat

import pytest

from conftest import require_root, run, target_path

BLOCK = 65536


def alloc_stacks(win, fn):
    return [s for s in win["stacks"] if s["kind"] == "alloc" and s["frames"] and
            s["frames"][0].startswith(fn + "+")]


@pytest.mark.bpf
def test_command_is_watched_from_its_first_allocation(tmp_path):
    """alloc_first allocates in a constructor (run before main) and first thing in main: the
    malloc probes count every block, exactly, and memsleuth exits with the command's status."""
    require_root("the malloc probes need root")
    res = run(["watch", "-i", "1", "--alloc-exact", "--json", "--", target_path("alloc_first"),
               "2.5", "7"], timeout=120)
    assert res.returncode == 7, res.stderr
    wins = [json.loads(line) for line in res.stdout.splitlines()]
    assert wins and all(w["pid"] == wins[0]["pid"] for w in wins)
    assert "target %d exited" % wins[0]["pid"] in res.stderr
    last = wins[-1]
    ctor = alloc_stacks(last, "ctor_blocks")
    main = alloc_stacks(last, "main_block")
    assert len(ctor) == 1 and len(main) == 1, last["stacks"]
    assert (ctor[0]["bytes"], ctor[0]["count"]) == (24 * BLOCK, 24), ctor
    assert (main[0]["bytes"], main[0]["count"]) == (40 * BLOCK, 40), main
    # Not estimates: every call was probed from the start, the first one included.
    assert last["alloc"]["estimated"] is False and last["alloc"]["calls"] >= 64


@pytest.mark.parametrize("script, status", [("exit 7", 7), ("kill -9 $$", 137),
                                             ("exit 0", 0)])
def test_command_exit_status_is_returned(script, status):
    res = run(["watch", "-i", "1", "--no-bpf", "--", "sh", "-c", f"sleep 1.5; {script}"],
              timeout=60)
    assert res.returncode == status, res.stderr
    assert "memsleuth: watching PID" in res.stderr and "(sh)" in res.stderr


def test_command_that_cannot_run(tmp_path):
    res = run(["watch", "--no-bpf", "--", str(tmp_path / "missing")], timeout=30)
    assert res.returncode == 127
    assert res.stderr.strip() == f"memsleuth watch: cannot run {tmp_path / 'missing'}: " \
                                 "No such file or directory"
    plain = tmp_path / "plain"
    plain.write_text("not a program\n")
    plain.chmod(stat.S_IRUSR | stat.S_IWUSR)
    res = run(["watch", "--no-bpf", "--", str(plain)], timeout=30)
    assert res.returncode == 126 and "Permission denied" in res.stderr, res.stderr


def test_count_ends_the_watch_not_the_command():
    """-n 1: one window, then memsleuth waits for the command, and returns its status."""
    res = run(["watch", "-i", "1", "-n", "1", "--no-bpf", "--json", "--", "sh", "-c",
               "sleep 3; exit 5"], timeout=60)
    assert res.returncode == 5, res.stderr
    assert len(res.stdout.splitlines()) == 1
    assert "waiting for sh (PID " in res.stderr


@pytest.mark.parametrize("args, words", [
    (["watch", "--"], ["nothing after --"]),
    (["watch", "123", "--", "true"], ["a PID, --name or --cgroup, or -- CMD, not both"]),
    (["watch", "-p", "1", "2"], ["unexpected argument", "one target only"]),
    (["watch"], ["missing PID", "-- CMD"]),
])
def test_command_usage_errors(args, words):
    res = run(args, check=2)
    assert all(w in res.stderr for w in words), res.stderr


def test_pid_option_is_the_positional_pid(target):
    t = target("grow_heap_anon", 1, 1)
    res = run(["watch", "-p", t.pid, "-i", "0.5", "-n", "1", "--json", "--no-bpf"], check=0,
              timeout=60)
    assert json.loads(res.stdout)["pid"] == t.pid
    assert os.path.exists(f"/proc/{t.pid}")
