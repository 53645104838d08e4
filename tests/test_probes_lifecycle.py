# SPDX-License-Identifier: GPL-2.0-only
"""eBPF growth probes: detach on every way out, exec, loss and budget accounting, dlopen, namespaces."""
import json
import os
import shutil
import signal
import subprocess

import pytest

from conftest import MIB, TARGETS, LineReader, Target, require_root
from probe_helpers import (assert_probes_gone, bpf_objects, describe, in_order, naming,
                           one_window, stacks)

pytestmark = pytest.mark.bpf

STEP = 64 * 1024


@pytest.fixture(autouse=True)
def _root():
    require_root("the eBPF probes need root")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_ends_cleanly_and_detaches(target, watch, sig):
    t = target("grow_heap_anon", 1, 1)
    w = watch("watch", t.pid, "-i", "30", "--json")
    progs, links = bpf_objects(w.proc.pid)
    w.proc.send_signal(sig)
    code, out, err = w.wait(30)
    assert code == 0, err
    assert_probes_gone(progs, links)
    assert t.proc.poll() is None, "the target must survive memsleuth"


def test_target_exit_ends_cleanly_and_detaches(target, watch):
    t = target("grow_heap_anon", 1, 1)
    w = watch("watch", t.pid, "-i", "30", "--json")
    progs, links = bpf_objects(w.proc.pid)
    t.go()
    assert t.finish() == 0
    code, out, err = w.wait(30)
    assert code == 0, err
    assert f"target {t.pid} exited" in err
    assert_probes_gone(progs, links)


def test_exec_ends_cleanly_and_detaches(target, watch):
    t = target("exec_self")
    w = watch("watch", t.pid, "-i", "30", "--json")
    progs, links = bpf_objects(w.proc.pid)
    done = t.go()  # answered by the new program, after the exec
    assert done == {"execed": "1"}
    code, out, err = w.wait(30)
    assert code == 0, err
    assert f"target {t.pid} executed" in err and "exec_self" in err, err
    assert_probes_gone(progs, links)
    assert t.proc.poll() is None, "the target must survive memsleuth"


def test_stacks_queued_before_an_exec_are_unwound_after_it(target, watch):
    """memsleuth is stopped while the target loads new code, faults pages in from stacks
    through it and executes another program: when it goes on, the queued stacks send it to
    /proc/PID/maps, which lists only the new image. The unwinder once borrowed the
    architecture backend of the old image's first module, freed with it there: an abort in
    libdw, or a jump to a freed function pointer."""
    t = target("exec_after_dlopen", TARGETS / "libdlmap.so", TARGETS / "exec_into",
               "/bin/true")
    w = watch("watch", t.pid, "-i", "30", "--json")
    os.kill(w.proc.pid, signal.SIGSTOP)
    try:
        assert t.go() == {"exec": str(TARGETS / "exec_into")}
        assert t._readline(10) == f"ready {t.pid}", "the new image did not start"
    finally:
        os.kill(w.proc.pid, signal.SIGCONT)
    code, out, err = w.wait(30)
    assert code == 0, err
    assert f"target {t.pid} executed" in err, err
    assert t.proc.poll() is None, "the target must survive memsleuth"


def brk_counts(win):
    mine = naming(stacks(win, "brk"), "step_heap_here")
    return sum(s["count"] for s in mine), sum(s["bytes"] for s in mine)


def test_every_brk_delivered_at_a_moderate_rate(target, watch):
    t = target("sbrk_steps", 50)
    done, win = one_window(watch, t)
    n = int(done["steps"])
    assert brk_counts(win) == (n, n * STEP), describe(win)
    mine = naming(stacks(win, "brk"), "step_heap_here")
    assert in_order(mine[0], "step_heap_here", "main")
    assert win["lost_events"] == 0, describe(win)


def test_full_ring_buffer_is_counted_as_lost(target, watch):
    # A 64 KiB ring buffer holds a few dozen stack records at most (each has at
    # least the stack from sp to the top of the stack): a burst of 200 overflows it.
    t = target("sbrk_steps", 200)
    done, win = one_window(watch, t, "--ringbuf-kib", "64", "--stack-rate", "0",
                           "--fault-rate", "0")
    count = sum(s["count"] for s in stacks(win, "brk"))
    assert win["lost_events"] > 0, describe(win)
    assert count > 0 and brk_counts(win)[0] == count, describe(win)
    # Each brk call is either delivered with its stack or counted as lost.
    assert count + win["lost_events"] == int(done["steps"]), describe(win)


def test_capture_budget_credits_the_rest_without_loss(target, watch):
    t = target("sbrk_steps", 50)
    done, win = one_window(watch, t, "--stack-rate", "10")
    n = int(done["steps"])
    count, nbytes = brk_counts(win)
    rest = [s for s in stacks(win, "brk") if s["frames"][0].startswith("[no stack: capture budget")]
    assert 0 < count < n and len(rest) == 1, describe(win)
    assert count + rest[0]["count"] == n
    assert nbytes + rest[0]["bytes"] == n * STEP
    assert win["lost_events"] == 0, describe(win)


def test_library_loaded_after_attach(target, watch):
    t = target("dlopen_late", TARGETS / "libdlmap.so")
    done, win = one_window(watch, t)
    maps = naming(stacks(win, "mmap"), "lib_map_here")
    assert len(maps) == 1, describe(win)
    assert in_order(maps[0], "lib_map_here", "call_library_here", "main"), describe(win)
    assert any("libdlmap.c:" in f for f in maps[0]["frames"]), describe(win)
    assert maps[0]["bytes"] == int(done["map_bytes"]) == 2 * MIB
    socks = naming(stacks(win, "fd"), "lib_map_here")
    assert len(socks) == 1 and socks[0]["count"] == 1, describe(win)


class NamespacedTarget(Target):
    """A target run from a tmpfs mounted in its own mount namespace: its binary's path
    does not exist in memsleuth's namespace, only under /proc/PID/root."""

    def __init__(self, name, mountpoint, *args):
        self.proc = None
        script = ('mount -t tmpfs memsleuth-test "$1" && cp "$2" "$1/" && '
                  'dir="$1" && exe="$(basename "$2")" && shift 2 && exec "$dir/$exe" "$@"')
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
               str(mountpoint), str(TARGETS / name), *map(str, args)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self._lines = LineReader(self.proc.stdout)
        line = self._readline(10)
        if not line.startswith("ready"):
            self.kill()
            raise AssertionError(f"{name}: expected 'ready', got {line!r}")
        self.pid = int(line.split()[1])
        self.done_fields = {}


def test_target_in_another_mount_namespace(tmp_path, watch):
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is missing")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    t = NamespacedTarget("brk_malloc", mnt, 4)
    try:
        assert not os.listdir(mnt), "the target's tmpfs must be invisible here"
        done, win = one_window(watch, t)
        mine = naming(stacks(win, "brk"), "grow_heap_here")
        assert mine and in_order(mine[0], "malloc", "grow_heap_here", "main"), describe(win)
        assert any("brk_malloc.c:" in f for f in mine[0]["frames"]), describe(win)
        assert sum(s["bytes"] for s in mine) == int(done["brk_grown"])
    finally:
        t.kill()


def test_growth_events_carry_their_stack_ids(tmp_path, target, watch):
    rec = tmp_path / "rec.jsonl"
    t = target("sbrk_steps", 20)
    done, _ = one_window(watch, t, "-o", rec)
    frames, events = {}, []
    for line in rec.read_text().splitlines():
        obj = json.loads(line)
        if obj.get("type") == "stack":
            frames[obj["id"]] = obj["frames"]
        elif obj.get("type") == "sample":
            events.extend(obj.get("events", []))
    brk = [e for e in events if e[1] == "brk"]
    assert len(brk) == int(done["steps"]), events
    for _, _, nbytes, _, stack_id in brk:
        assert nbytes == STEP
        assert in_order({"frames": frames[stack_id]}, "step_heap_here", "main"), frames[stack_id]

