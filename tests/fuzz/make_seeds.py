#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Regenerates the seed corpora in tests/fuzz/corpus from real processes on this machine.

Run from the repository root after `make all test-targets`, as root (the recording
with eBPF events needs it). Seeds are real /proc text and real recordings, trimmed so
that one fuzz execution stays fast; the fuzzer mutates from there.
"""
import ctypes
import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
MEMSLEUTH = ROOT / "build" / "memsleuth"
TARGETS = ROOT / "build" / "tests"


def write(harness, name, data):
    d = CORPUS / harness
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def smaps_records(text):
    """Splits smaps text into one chunk per mapping (header line plus its fields)."""
    records, cur = [], []
    for line in text.splitlines(keepends=True):
        head = line.split(" ", 1)[0]
        if "-" in head and all(c in "0123456789abcdef-" for c in head) and cur:
            records.append("".join(cur))
            cur = []
        cur.append(line)
    if cur:
        records.append("".join(cur))
    return records


KEPT_FIELDS = ("Size:", "Rss:", "Pss:", "Private_Dirty:", "Anonymous:", "Swap:", "VmFlags:")


def trim(text, libs=1):
    """Keeps the mappings but those of shared libraries after the first `libs`, and
    only the fields the region code reads: short seeds make fast executions."""
    out, seen = [], 0
    for rec in smaps_records(text.decode()):
        head, _, fields = rec.partition("\n")
        if ".so" in head:
            seen += 1
            if seen > libs:
                continue
        kept = [f for f in fields.splitlines(keepends=True) if f.startswith(KEPT_FIELDS)]
        out.append(head + "\n" + "".join(kept))
    return "".join(out).encode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def thread_sps(pid):
    """Stack pointers of blocked threads, as memsleuth reads them."""
    sps = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = read(f"/proc/{pid}/task/{tid}/syscall").split()
        except OSError:
            continue
        if len(fields) >= 8:
            sps.append(int(fields[7], 16))
    return sps[:7]


def regions_input(sps, old, new):
    return bytes([len(sps)]) + b"".join(struct.pack("<Q", sp) for sp in sps) + old + b"\0" + new


def start_target(*args):
    p = subprocess.Popen([str(TARGETS / args[0]), *map(str, args[1:])], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("ready")
    return p


def go(p):
    p.stdin.write("go\n")
    p.stdin.flush()
    assert p.stdout.readline().startswith("done")


def smaps_seeds():
    sleeper = subprocess.Popen(["sleep", "60"])
    time.sleep(0.2)
    try:
        text = read(f"/proc/{sleeper.pid}/smaps")
        write("fuzz_smaps", "sleep_full", text)
        write("fuzz_smaps", "sleep_rollup", read(f"/proc/{sleeper.pid}/smaps_rollup"))
        write("fuzz_smaps", "sleep_maps", read(f"/proc/{sleeper.pid}/maps"))
    finally:
        sleeper.kill()
        sleeper.wait()
    recs = smaps_records(read("/proc/self/smaps").decode("utf-8", "replace"))
    write("fuzz_smaps", "python_head", "".join(recs[:6]))
    write("fuzz_smaps", "python_tail", "".join(recs[-6:]))
    # Threads with their own arenas: stacks, guard pages and 64 MiB-aligned heaps.
    p = start_target("stress_limits", 0, 4, 0, 0)
    try:
        go(p)
        text = read(f"/proc/{p.pid}/smaps").decode()
        recs = smaps_records(text)
        anon = [r for r in recs if len(r.split("\n", 1)[0].split()) == 5]
        write("fuzz_smaps", "threads_anon", "".join(anon[:12]))
    finally:
        p.kill()
        p.wait()


def regions_seeds():
    p = start_target("grow_heap_anon", 1, 1)
    try:
        old = trim(read(f"/proc/{p.pid}/smaps"))
        go(p)
        new = trim(read(f"/proc/{p.pid}/smaps"))
        write("fuzz_regions", "grow_heap_anon", regions_input([], old, new))
    finally:
        p.kill()
        p.wait()
    with tempfile.TemporaryDirectory() as d:
        p = start_target("stress_limits", 0, 3, 0, 3, d)
        try:
            old = trim(read(f"/proc/{p.pid}/smaps"))
            go(p)
            new = trim(read(f"/proc/{p.pid}/smaps"))
            write("fuzz_regions", "threads_files",
                  regions_input(thread_sps(p.pid), old, new))
        finally:
            p.kill()
            p.wait()


def fd_seeds():
    libc = ctypes.CDLL(None, use_errno=True)
    keep = [socket.socketpair(), os.pipe(), select.epoll(), os.eventfd(0),
            os.memfd_create("seed"), libc.inotify_init(),
            libc.timerfd_create(1, 0), os.open("/dev/null", os.O_RDONLY)]
    mask = ctypes.create_string_buffer(8)
    keep.append(libc.signalfd(-1, mask, 0))
    links = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if not link.startswith("/tmp/"):    # the test runner's own output files
            links.add(link)
    for i, link in enumerate(sorted(links)):
        write("fuzz_fds_limits", f"link_{i:02d}", link)
    limits = read("/proc/self/limits")
    write("fuzz_fds_limits", "limits_self", limits)
    write("fuzz_fds_limits", "limits_unlimited",
          limits.replace(b"Max open files            20000                20000",
                         b"Max open files            unlimited            unlimited"))
    del keep


def record(args, name):
    out = CORPUS / "fuzz_recording" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    p = start_target("grow_heap_anon", 2, 1)
    try:
        w = subprocess.Popen([str(MEMSLEUTH), "watch", str(p.pid), "-i", "0.3", "--tick",
                              "0.1", "-n", "2", "-o", str(out), "--json", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while "watching PID" not in w.stderr.readline():
            pass
        go(p)
        w.wait(30)
    finally:
        p.kill()
        p.wait()
    return out


def recording_seeds():
    record(["--no-bpf"], "proc_only")
    if os.geteuid() == 0:
        record([], "bpf_events")
    # A recording that uses every line type of the format: stack definitions, stack
    # rows, arenas, events, an end line, and a second target (PID change) at the end.
    lines = (CORPUS / "fuzz_recording" / "proc_only").read_text().splitlines()
    header, samples = lines[0], [json.loads(x) for x in lines[1:] if '"sample"' in x]
    full = [header, json.dumps({"type": "stack", "id": 7,
                                "frames": ["grow+0x1a (grow.c:42)", "main+0x9 (grow.c:80)"]})]
    for i, s in enumerate(samples[:4]):
        s["stacks"] = [[7, "mmap", 65536 * (i + 1), i + 1]]
        s["arenas"] = [{"addr": 140737, "main": True, "threads": 1, "heaps": 1,
                        "system": 135168, "max_system": 135168, "top": 4096, "free": 512,
                        "live": -1, "rss": 12288, "reclaimable": 0, "fragmentation": 0.5}]
        s["events"] = [[s["t"], "mmap", 65536, 4096 * i, 7]]
        s["events_dropped"] = i
        full.append(json.dumps(s))
    other = dict(samples[-1], pid=samples[-1]["pid"] + 1)
    full += [json.dumps(other), json.dumps(dict(other, t=other["t"] + 1)),
             json.dumps({"type": "end", "t": other["t"] + 2, "reason": "target exited"})]
    write("fuzz_recording", "all_line_types", "\n".join(full) + "\n")
    # More samples in one window than the timeline keeps (128): thinning and event hand-on.
    head = json.loads(header)
    head["window_s"] = 1000.0
    lines = [json.dumps(head, separators=(",", ":"))]
    for i in range(140):
        lines.append(json.dumps({"type": "sample", "t": i / 10, "pid": 7,
                                 "totals": {"rss": 4096 * i},
                                 "events": [[i / 10, "brk", 4096, 0, 0]] * (i % 3),
                                 "events_dropped": i % 2}, separators=(",", ":")))
    write("fuzz_recording", "long_window", "\n".join(lines) + "\n")


def main():
    if not MEMSLEUTH.exists() or not (TARGETS / "stress_limits").exists():
        sys.exit("run 'make all test-targets' first")
    smaps_seeds()
    regions_seeds()
    fd_seeds()
    recording_seeds()


if __name__ == "__main__":
    main()
