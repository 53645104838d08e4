# SPDX-License-Identifier: GPL-2.0-only
"""eBPF growth probes on real targets: brk, mmap, fault and fd stacks name the right code."""
import subprocess

import pytest

from conftest import MIB, require_root, target_path
from probe_helpers import (ALIASES, describe, func_of, funcs, in_order, naming, one_window,
                           read_window, stacks)

pytestmark = pytest.mark.bpf

PAGE = 4096


@pytest.fixture(autouse=True)
def _root():
    require_root("the eBPF probes need root")


def keeps_frame_pointer(binary, func):
    """Whether `func` in `binary` sets up a frame pointer (push %rbp; mov %rsp,%rbp)."""
    res = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={func}",
                          binary], capture_output=True, text=True, timeout=60, check=True)
    assert f"<{func}>:" in res.stdout, res.stdout
    return "mov    %rsp,%rbp" in res.stdout


@pytest.mark.parametrize("name", ["brk_malloc", "brk_malloc_nofp"])
def test_brk_inside_malloc_names_the_caller(target, watch, name):
    # The nofp build really has no frame pointers for a frame-pointer walk to follow.
    assert keeps_frame_pointer(target_path(name), "run_workload") == ("nofp" not in name)
    t = target(name, 8)
    done, win = one_window(watch, t)
    grown = int(done["brk_grown"])
    assert grown > 0
    brk = stacks(win, "brk")
    mine = naming(brk, "grow_heap_here")
    assert mine, describe(win)
    # Through libc's malloc (no frame pointers there) to the caller and its callers;
    # in the nofp build only DWARF CFI can find run_workload and main.
    for s in mine:
        assert in_order(s, "malloc", "grow_heap_here", "run_workload", "main"), describe(win)
    assert sum(s["bytes"] for s in mine) == grown, describe(win)
    assert sum(s["bytes_delta"] for s in mine) == grown
    assert not naming(brk, "churn_heap_elsewhere"), describe(win)
    assert win["lost_events"] == 0, describe(win)


def chain_after_malloc(stack):
    """The functions of the frames after the malloc frame, up to main: malloc's caller first."""
    fs = funcs(stack)
    first = [i for i, f in enumerate(fs) if f in ALIASES["malloc"]][0]
    return fs[first + 1:fs.index("main") + 1] if "main" in fs else fs[first + 1:]


def uprobes_page(pid):
    """The address range of the kernel's [uprobes] page in process `pid`, or None."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if line.rstrip().endswith("[uprobes]"):
                lo, hi = line.split()[0].split("-")
                return int(lo, 16), int(hi, 16)
    return None


def in_range(frame, rng):
    try:
        return rng[0] <= int(frame, 16) < rng[1]
    except ValueError:
        return False


@pytest.mark.parametrize("name", ["brk_malloc", "brk_malloc_nofp"])
def test_growth_inside_malloc_under_malloc_probes(target, watch, name):
    # With --alloc the kernel's uretprobe on malloc has replaced malloc's return address
    # on the stack by its trampoline ([uprobes]) while the brk and the faults inside
    # malloc happen; the stacks must still name malloc's real caller, frame by frame.
    t = target(name, 8)
    done, win = one_window(watch, t, "--alloc", "--alloc-exact", "--stack-rate", "0")
    assert int(done["brk_grown"]) > 0
    inside = [s for s in stacks(win, "brk") + stacks(win, "fault")
              if any(f in ALIASES["malloc"] for f in funcs(s))]
    assert naming(stacks(win, "brk"), "grow_heap_here"), describe(win)
    assert naming([s for s in inside if s["kind"] == "fault"], "grow_heap_here"), describe(win)
    for s in inside:
        assert chain_after_malloc(s) in (["grow_heap_here", "run_workload", "main"],
                                         ["churn_heap_elsewhere", "main"]), describe(win)
    # Every frame is named: none is a bare address (the trampoline's, say). The one
    # exception is a fault on the trampoline's own page, the first time the kernel's
    # [uprobes] page runs: that frame is the page's address, and the frames after it
    # (none when the unwinder stops there, else the returning call's callers) are named.
    tramp = uprobes_page(t.pid)
    for s in stacks(win, "brk") + stacks(win, "fault"):
        frames = s["frames"]
        if s["kind"] == "fault" and tramp and frames and in_range(frames[0], tramp):
            frames = frames[1:]
        assert all(func_of(f) for f in frames), describe(win)
    assert win["lost_events"] == 0, describe(win)


def test_code_outside_every_module_shows_its_address(target, watch):
    # Generated code above the highest mapped file, where libdwfl's module lookup
    # answers with that file: the frame must be the bare address, not "file+0x<huge>".
    t = target("jit_code", 64)
    done, win = one_window(watch, t, "--fault-rate", "1", "--stack-rate", "0")
    assert done["above_files"] == "1"
    mine = [s for s in stacks(win, "fault") if s["frames"][0] == done["code"]]
    assert len(mine) == 1 and mine[0]["count"] == int(done["minflt"]), (done, describe(win))
    assert not [f for s in win["stacks"] for f in s["frames"] if f.startswith("ld-linux")], \
        describe(win)


def test_mmap_outstanding_bytes_by_stack(target, watch):
    t = target("mmap_direct")
    done, win = one_window(watch, t)
    mm = stacks(win, "mmap")

    here = naming(mm, "map_here")
    assert len(here) == 1, describe(win)
    assert here[0]["bytes"] == int(done["map_here"]) == 8 * MIB
    assert here[0]["count"] == int(done["map_here_count"])
    # map_one() is inlined into map_here(): both show, the inlined one marked.
    assert in_order(here[0], "map_one", "map_here", "main"), describe(win)
    assert any(f.startswith("map_one [inlined] (mmap_direct.c:") for f in here[0]["frames"])

    # A C++ name (given by an asm label) comes out demangled, without its parameters.
    cxx = naming(mm, "service::Mapper::map")
    assert len(cxx) == 1, describe(win)
    assert cxx[0]["bytes"] == int(done["cxx"]) and cxx[0]["count"] == int(done["cxx_count"])

    # Large malloc blocks are mmap'd inside malloc: the stack goes through it to the caller.
    big = naming(mm, "big_alloc_here")
    assert len(big) == 1 and in_order(big[0], "malloc", "big_alloc_here", "main")
    assert big[0]["count"] == int(done["big_blocks"])
    assert big[0]["bytes"] == 3 * (4 * MIB + PAGE)

    # Unmapping the middle of a mapping leaves two ranges, still owned by their mapper.
    trim = naming(mm, "map_then_trim_here")
    assert len(trim) == 1, describe(win)
    assert (trim[0]["bytes"], trim[0]["count"]) == (int(done["trimmed"]),
                                                    int(done["trimmed_ranges"]))
    # A mapping grown by mremap belongs to the code that grew it, whole.
    grown = naming(mm, "remap_grow_here")
    assert len(grown) == 1 and in_order(grown[0], "remap_grow_here", "main"), describe(win)
    assert (grown[0]["bytes"], grown[0]["count"]) == (int(done["remapped"]), 1)
    assert not [s for s in naming(mm, "remap_origin_here") if s["bytes"] or s["count"]]

    # Control: mapped and unmapped again, so nothing is outstanding there.
    assert not [s for s in naming(mm, "map_and_unmap_elsewhere") if s["bytes"] or s["count"]]
    assert win["lost_events"] == 0, describe(win)


def test_fd_openers_of_still_open_fds(target, watch):
    t = target("fd_leak", 20)
    w = watch("watch", t.pid, "-i", "3", "-n", "2", "--json")
    done = t.go()
    first = read_window(w)
    fds = stacks(first, "fd")
    leak = naming(fds, "leak_sockets_here")
    assert len(leak) == 1, describe(first)
    assert leak[0]["count"] == int(done["sockets"]) == 20
    assert in_order(leak[0], "socket", "leak_sockets_here", "main")
    # Files, pipes, socket pairs, eventfds and dups opened and closed: no opener left.
    assert not naming(fds, "open_close_elsewhere"), describe(first)
    # The one kept file, opened by a tail call, so its opener frame is main's.
    kept = [s for s in fds if s not in leak]
    assert sum(s["count"] for s in kept) == 1, describe(first)
    assert first["lost_events"] == 0

    t.go()  # closes the kept file
    second = read_window(w)
    fds2 = stacks(second, "fd")
    assert [s["count"] for s in naming(fds2, "leak_sockets_here")] == [20]
    closed = [s for s in fds2 if s["frames"] == kept[0]["frames"]]
    assert closed and closed[0]["count"] == 0 and closed[0]["count_delta"] == -1, describe(second)
    w.wait(30)


def test_threads_started_after_attach(target, watch):
    t = target("threads_late")
    done, win = one_window(watch, t)
    n = int(done["threads"])
    maps = naming(stacks(win, "mmap"), "thread_map_here")
    assert len(maps) == 1, describe(win)
    assert maps[0]["bytes"] == int(done["map_bytes"]) and maps[0]["count"] == n
    assert in_order(maps[0], "thread_map_here", "worker"), describe(win)
    socks = naming(stacks(win, "fd"), "thread_socket_here")
    assert len(socks) == 1 and socks[0]["count"] == int(done["sockets"]), describe(win)
    # Their stacks were mapped by pthread_create, in the main thread.
    tstacks = naming(stacks(win, "mmap"), "pthread_create")
    assert tstacks and tstacks[0]["count"] == n and in_order(tstacks[0], "pthread_create", "main")
    assert win["lost_events"] == 0, describe(win)


@pytest.mark.parametrize("rate,pages", [(1, 512), (4, 2048)])
def test_fault_stacks(target, watch, rate, pages):
    t = target("touch_pages", pages)
    done, win = one_window(watch, t, "--fault-rate", rate, "--stack-rate", "0")
    mine = naming(stacks(win, "fault"), "touch_pages_here")
    assert len(mine) == 1, describe(win)
    assert int(done["minflt"]) == int(done["pages"]) == pages
    assert mine[0]["bytes"] == mine[0]["count"] * PAGE
    assert win["lost_events"] == 0, describe(win)
    if rate == 1:
        # Every fault the kernel counted for the target while touching the pages, no more.
        assert mine[0]["count"] == pages, describe(win)
    else:
        # Sampled at random: the estimate is a multiple of the rate, within many standard
        # deviations (about 80 faults for 1 in 4 of 2048) of the truth.
        assert mine[0]["count"] % rate == 0
        assert 0.6 * pages <= mine[0]["count"] <= 1.4 * pages, describe(win)


def test_text_output_shows_the_responsible_function(target, watch):
    t = target("brk_malloc", 4)
    w = watch("watch", t.pid, "-i", "2", "-n", "1")
    t.go()
    code, out, err = w.wait(30)
    assert code == 0, err
    section = out.split("GROWTH STACKS", 1)[1]
    assert "brk" in section and "grow_heap_here+0x" in section, out
    assert "LOST EVENTS" not in out


def test_steady_target_shows_no_growth_stacks(target, watch):
    # Control: attached but never told to misbehave, the target does nothing.
    t = target("brk_malloc", 8)
    w = watch("watch", t.pid, "-i", "2", "-n", "1", "--json")
    win = w.json_windows(timeout=30)[0]
    assert win["collectors"]["bpf"] is True
    assert win["stacks"] == [] and win["lost_events"] == 0, describe(win)
