# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the eBPF growth probe tests: stacks in JSON windows, probes owned by a process."""
import json
import os
import re
import subprocess
import time

from conftest import SANITIZED


def stacks(window, kind):
    return [s for s in window["stacks"] if s["kind"] == kind]


def func_of(frame):
    """The function a frame names: "grow+0x1a (f.c:3)" or "grow [inlined] (f.c:3)" -> "grow";
    "" for a bare address.
    GCC's clone suffixes (f.isra.0, f.constprop.0, f.part.0, f.cold) are dropped."""
    head = frame.split(" (")[0]
    if head.endswith(" [inlined]"):
        return head[:-len(" [inlined]")]
    name = head.rsplit("+0x", 1)[0] if "+0x" in head else ""
    return re.sub(r"\.(isra|constprop|part|cold|lto_priv)(\.\d+)?.*$", "", name)


def funcs(stack):
    return [func_of(f) for f in stack["frames"]]


def naming(stack_list, func):
    """The stacks with a frame in function `func`."""
    return [s for s in stack_list if func in funcs(s)]


# libc exports some functions under two names; which one a symbol table lookup
# returns depends on whether libc's debug info (libc6-dbg) is installed.
ALIASES = {"malloc": ("malloc", "__libc_malloc"), "socket": ("socket", "__socket")}


def in_order(stack, *names):
    """Whether the stack's frames name `names` in this order, innermost first."""
    fs = funcs(stack)
    at = -1
    for n in names:
        hits = [i for i, f in enumerate(fs) if i > at and f in ALIASES.get(n, (n,))]
        if not hits:
            return False
        at = hits[0]
    return True


def describe(window):
    """A readable dump of a window's stacks, for assertion messages."""
    lines = [f"lost_events={window['lost_events']}"]
    for s in window["stacks"]:
        lines.append(f"{s['kind']} bytes={s['bytes']} count={s['count']} "
                     f"(+{s['bytes_delta']} / +{s['count_delta']})")
        lines.extend("    " + f for f in s["frames"][:14])
    return "\n".join(lines)


def one_window(watch, t, *opts, interval=3):
    """Watches target `t` for one window with `opts` while it misbehaves once.
    Returns (the target's done fields, the JSON window)."""
    w = watch("watch", t.pid, "-i", interval, "-n", "1", "--json", *opts)
    done = t.go()
    return done, w.json_windows(timeout=30)[0]


def read_window(w, timeout=30):
    """Reads the next JSON window from a running Watch."""
    deadline = time.monotonic() + timeout
    while True:
        line = w.out.readline(max(deadline - time.monotonic(), 0))
        if line is None:
            raise AssertionError("no window from memsleuth in time")
        if not line:
            code, out, err = w.wait(10)
            raise AssertionError(f"memsleuth ended ({code}) before a window: {err}")
        if line.strip():
            return json.loads(line)


def bpf_objects(pid):
    """The BPF program and link ids whose fds process `pid` holds, from /proc/PID/fdinfo."""
    progs, links = set(), set()
    fddir = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        if "link_id" in info:
            links.add(int(info["link_id"]))
        elif "prog_id" in info:
            progs.add(int(info["prog_id"]))
    return progs, links


def bpftool_ids(what):
    """Ids of every BPF `what` ("prog" or "link") loaded on the machine, from bpftool."""
    res = subprocess.run(["bpftool", what, "show", "--json"], capture_output=True, text=True,
                         timeout=30, check=True)
    return {obj["id"] for obj in json.loads(res.stdout or "[]")}


def assert_probes_gone(progs, links, timeout=20):
    """Links go with memsleuth's fds at once; the kernel frees a program attached
    through a BPF trampoline only after an RCU grace period, so that is waited for."""
    assert progs, "memsleuth held no BPF program while watching"
    assert links, "memsleuth held no BPF link while watching"
    left_links = links & bpftool_ids("link")
    assert not left_links, f"links left after memsleuth ended: {left_links}"
    deadline = time.monotonic() + timeout
    while True:
        left_progs = progs & bpftool_ids("prog")
        if not left_progs:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"programs left {timeout} s after memsleuth ended: {left_progs}")
        time.sleep(0.2)


def clean_stderr(err):
    if SANITIZED:
        assert "Sanitizer" not in err and "runtime error" not in err, err
