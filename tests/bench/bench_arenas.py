#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""glibc arenas at scale: how long the target stops, memsleuth's CPU, free bytes vs malloc_info."""
import json
import os
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import MEMSLEUTH, Target  # noqa: E402

GIB = 1 << 30
WINDOW_S = 3
WINDOWS = 4
# (label, target, args, GiB the target needs): frag_threads leaves 7 of every 8 1-KiB blocks
# free (runs of 7 merge); arena_scale leaves ~85% free in one separate chunk per pair of
# blocks of 32 B-4 KiB, ~190,000 chunks per 300 MiB arena.
CASES = [
    ("4 threads x 8 MiB", "frag_threads", (4, 8), 0.1),
    ("8 threads x 32 MiB", "frag_threads", (8, 32), 0.3),
    ("4 threads x 256 MiB", "frag_threads", (4, 256), 1.1),
    ("8 threads x 256 MiB", "frag_threads", (8, 256), 2.1),
    ("8 arenas 2.4 GiB mixed, idle", "arena_scale", (8, 300), 2.6),
    ("8 arenas 2.4 GiB mixed, busy", "arena_scale", (8, 300, "busy"), 2.6),
    ("8 arenas 8 GiB mixed, idle", "arena_scale", (8, 1024), 8.6),
]


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def malloc_info(t, path):
    """The target's own view: mallinfo2's free bytes (top, bins and fastbins, summed over
    the arenas, flag bits masked), each arena's system bytes and the free chunks counted
    by malloc_info."""
    t.proc.stdin.write("info\n")
    t.proc.stdin.flush()
    line = t._readline(300)
    assert line.startswith("info "), line
    fields = dict(kv.split("=") for kv in line.split()[1:])
    systems, chunks = [], 0
    for heap in ET.parse(path).getroot().findall("heap"):
        for tot in heap.findall("total"):
            if tot.get("type") in ("fast", "rest"):
                chunks += int(tot.get("count"))
        for s in heap.findall("system"):
            if s.get("type") == "current":
                systems.append(int(s.get("size")))
    return int(fields["fordblks"]), sorted(systems), chunks


def watch(pid):
    """Runs watch; returns its windows and its CPU seconds (user + system)."""
    p = subprocess.Popen([MEMSLEUTH, "watch", str(pid), "-i", str(WINDOW_S), "-n", str(WINDOWS),
                          "--json", "--no-bpf"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return [json.loads(line) for line in out.splitlines()], ru.ru_utime + ru.ru_stime


def measure(target, args, tmp):
    path = Path(tmp) / "mi.xml"
    t = Target(target, *args[:2], path, *args[2:])
    try:
        t.go(timeout=600)
        time.sleep(1)
        before = malloc_info(t, path)
        wins, cpu = watch(t.pid)
        after = malloc_info(t, path)
    finally:
        t.kill()
    return wins, cpu, before, after


def row(label, wins, cpu, before, after):
    mi_free = (before[0] + after[0]) / 2
    stops = [w["arena_read"]["freeze_ms"] for w in wins if w["arena_read"]]
    found = [sum(a["free"] - a["tcache"] + a["top"] for a in w["arenas"])
             for w in wins if all(a["walked"] for a in w["arenas"])]
    ratio = (f"{min(found) / mi_free:.4f}-{max(found) / mi_free:.4f}" if found else "-")
    complete = sum(1 for w in wins if w["arena_read"] and w["arena_read"]["complete"])
    system = all(sorted(a["system"] for a in w["arenas"]) in (before[1], after[1])
                 for w in wins)
    cpu_read = [w["arena_read"].get("cpu_ms", 0) for w in wins if w["arena_read"]]
    read = f"{max(cpu_read) / 1e3:6.2f}" if any(cpu_read) else "     -"
    rereads = sum(w["arena_read"].get("rereads", 0) for w in wins if w["arena_read"])
    print(f"{label:<30} {before[2]:>9,} {mi_free / GIB:>6.2f} "
          f"{statistics.median(stops):>7.1f} {max(stops):>7.1f} {cpu / len(wins):>7.2f} {read} "
          f"{complete:>3}/{len(wins)} {rereads:>4} {ratio:>13} {'yes' if system else 'NO':>6}",
          flush=True)


def main():
    if not Path(MEMSLEUTH).exists():
        print("build first: make all test-targets", file=sys.stderr)
        return 1
    print(f"watch -i {WINDOW_S} -n {WINDOWS} --no-bpf. chunks: free chunks (malloc_info); GiB: "
          f"free with top (mallinfo2); stop: target stopped per window (arena_read.freeze_ms, "
          f"median and max); CPU: memsleuth's user+system per window; read: the arena read's "
          f"own CPU (arena_read.cpu_ms, max); cmpl: complete windows; rr: rereads; found: "
          f"free - tcache + top over mallinfo2's fordblks (min-max); system: each arena's "
          f"equals malloc_info's")
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores are few: wall-clock figures "
          f"move with it)")
    print(f"{'case':<30} {'chunks':>9} {'GiB':>6} {'stop md':>7} {'max ms':>7} {'CPU s/w':>7} "
          f"{'read s':>6} {'cmpl':>5} {'rr':>4} {'found/mi':>13} {'system':>6}")
    only = sys.argv[1:]
    for label, target, args, gib in CASES:
        if only and not any(o in label for o in only):
            continue
        if mem_available() < (gib + 1.5) * GIB:
            print(f"{label:<30} skipped: needs {gib + 1.5:.1f} GiB available", flush=True)
            continue
        with TemporaryDirectory() as tmp:
            row(label, *measure(target, args, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
