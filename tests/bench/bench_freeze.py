#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""How long the arena walk keeps a target frozen, by threads and free chunks (one run)."""
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMSLEUTH = ROOT / "build" / "memsleuth"
TARGET = ROOT / "build" / "tests" / "frag_threads"
# (threads, MiB per thread): each thread leaves 7 free chunks of every 8 KiB it filled.
CASES = [(1, 1), (4, 8), (16, 2), (8, 32)]


def measure(threads, mib):
    t = subprocess.Popen([str(TARGET), str(threads), str(mib), "/dev/null"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        t.stdout.readline()
        t.stdin.write("go\n")
        t.stdin.flush()
        t.stdout.readline()
        res = subprocess.run([str(MEMSLEUTH), "watch", str(t.pid), "-i", "0.5", "-n", "8",
                              "--json", "--no-bpf"], capture_output=True, text=True, timeout=60)
        wins = [json.loads(line) for line in res.stdout.splitlines()]
    finally:
        t.kill()
        t.wait()
    ms = [w["arena_read"]["freeze_ms"] for w in wins]
    free = sum(a["free"] or 0 for a in wins[-1]["arenas"])
    complete = all(w["arena_read"]["complete"] for w in wins)
    return ms, free, complete


def main():
    if not MEMSLEUTH.exists() or not TARGET.exists():
        print("build first: make all test-targets", file=sys.stderr)
        return 1
    print(f"{'threads':>7} {'MiB/thr':>7} {'free MiB':>8} {'chunks~':>8} "
          f"{'median ms':>9} {'max ms':>7} complete")
    for threads, mib in CASES:
        ms, free, complete = measure(threads, mib)
        chunks = threads * mib * 1024 // 8
        print(f"{threads:>7} {mib:>7} {free / 2**20:>8.1f} {chunks:>8} "
              f"{statistics.median(ms):>9.2f} {max(ms):>7.2f} {complete}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
