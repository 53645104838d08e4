#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Cost of the default eBPF probes to a malloc-heavy target, and memsleuth's own CPU time.

Runs build/tests/malloc_bench (2 threads, millions of malloc/free of mixed sizes)
alone and under `memsleuth watch PID` (default mode), alternating, and prints the
median of the per-pair ratios of the target's own elapsed time (goal: <= 1.05).
Then prints memsleuth's CPU time per minute of watching, on that busy target and
on a quiet one, from /proc/PID/stat. Usage: bench_overhead.py [PAIRS [OPS]].
"""
import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MEMSLEUTH = os.environ.get("MEMSLEUTH", str(ROOT / "build" / "memsleuth"))
TARGETS = Path(os.environ.get("MEMSLEUTH_TARGETS", str(ROOT / "build" / "tests")))
TICKS = os.sysconf("SC_CLK_TCK")


def readline(f, timeout):
    ready, _, _ = select.select([f], [], [], timeout)
    if not ready:
        raise RuntimeError("no answer in time")
    return f.readline()


def start_target(*args):
    p = subprocess.Popen([str(TARGETS / args[0]), *map(str, args[1:])], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = readline(p.stdout, 10)
    if not line.startswith("ready"):
        p.kill()
        raise RuntimeError(f"target said {line!r}")
    return p


def start_memsleuth(pid):
    m = subprocess.Popen([MEMSLEUTH, "watch", str(pid)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    while True:
        line = readline(m.stderr, 30)
        if not line:
            raise RuntimeError("memsleuth exited early")
        if "watching PID" in line:
            return m


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat (after the parenthesised comm)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def stop(m):
    m.terminate()
    try:
        m.wait(30)
    except subprocess.TimeoutExpired:
        m.kill()
        m.wait()


def run_once(ops, watched):
    """One benchmark run; returns the target's (elapsed s, CPU s) and memsleuth's (CPU s, wall s)."""
    t = start_target("malloc_bench", ops)
    m = None
    try:
        if watched:
            m = start_memsleuth(t.pid)
            cpu0, wall0 = cpu_seconds(m.pid), time.monotonic()
        t.stdin.write("go\n")
        t.stdin.flush()
        line = readline(t.stdout, 900)
        fields = dict(kv.split("=", 1) for kv in line.split()[1:])
        res = [int(fields["elapsed_ns"]) / 1e9, int(fields["cpu_ns"]) / 1e9, 0.0, 0.0]
        if m:
            res[2:] = cpu_seconds(m.pid) - cpu0, time.monotonic() - wall0
        return res
    finally:
        if m:
            stop(m)
        t.stdin.close()
        t.wait(30)


def quiet_cpu_per_minute(seconds):
    t = start_target("grow_heap_anon", 1, 1)
    try:
        m = start_memsleuth(t.pid)
        cpu0, wall0 = cpu_seconds(m.pid), time.monotonic()
        time.sleep(seconds)
        cpu, wall = cpu_seconds(m.pid) - cpu0, time.monotonic() - wall0
        stop(m)
    finally:
        t.kill()
        t.wait()
    return cpu / wall * 60


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    ops = int(sys.argv[2]) if len(sys.argv) > 2 else 4000000
    if os.geteuid() != 0:
        print("overhead: skipped, the eBPF probes need root")
        return 0
    run_once(ops // 4, False)  # warm caches and the page allocator
    elapsed, cpu = [], []
    for i in range(pairs):
        # Alternate which run goes first, so that a drift in machine load cancels out.
        order = (False, True) if i % 2 == 0 else (True, False)
        res = {w: run_once(ops, w) for w in order}
        alone, watched = res[False], res[True]
        elapsed.append(watched[0] / alone[0])
        cpu.append(watched[1] / alone[1])
        print(f"  pair {i + 1}: elapsed alone {alone[0]:.3f} s, watched {watched[0]:.3f} s"
              f" ({elapsed[-1]:.3f}); target CPU {alone[1]:.3f} s vs {watched[1]:.3f} s"
              f" ({cpu[-1]:.3f})", flush=True)
    print(f"overhead: malloc_bench (2 threads, {2 * ops} malloc/free) under `memsleuth watch`"
          f" (default eBPF probes): median elapsed ratio {statistics.median(elapsed):.3f},"
          f" median target CPU ratio {statistics.median(cpu):.3f}, over {pairs} pairs"
          f" (goal <= 1.05)")
    long_run = run_once(ops * 10, True)
    print(f"memsleuth CPU: {long_run[2] / long_run[3] * 60:.2f} s per minute watching the busy"
          f" target ({long_run[3]:.0f} s run, attach excluded)")
    print(f"memsleuth CPU: {quiet_cpu_per_minute(30):.2f} s per minute watching a quiet target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
