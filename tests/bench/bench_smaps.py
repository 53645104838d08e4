#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""smaps of a process with 20,000+ mappings: memsleuth's read+parse vs. the raw read."""
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import MEMSLEUTH, Target  # noqa: E402

MAPS = 24000
ROUNDS = 30


def cat_time(pid, rounds):
    best = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run(["cat", f"/proc/{pid}/smaps"], stdout=subprocess.DEVNULL, check=True)
        best.append(time.perf_counter() - t0)
    best.sort()
    return best[len(best) // 2]


def main():
    t = Target("many_maps", MAPS)
    try:
        res = subprocess.run([MEMSLEUTH, "__bench-smaps", str(t.pid), str(ROUNDS)],
                             capture_output=True, text=True, check=True, timeout=300)
        r = json.loads(res.stdout)
        cat = cat_time(t.pid, 10)
    finally:
        t.kill()
    ratio = r["read_parse_s"] / r["raw_read_s"]
    print(f"smaps: {r['vmas']} mappings, {r['bytes'] / 1e6:.1f} MB of text, "
          f"{r['regions']} regions, mean of {r['rounds']} rounds")
    print(f"  raw read (read(2) into a buffer)   {r['raw_read_s'] * 1e3:8.2f} ms")
    print(f"  read + parse + group (memsleuth)   {r['read_parse_s'] * 1e3:8.2f} ms")
    print(f"  cat /proc/PID/smaps (median)       {cat * 1e3:8.2f} ms")
    print(f"  ratio read+parse / raw read        {ratio:8.2f}x   (goal <= 1.5x)")
    print(f"  ratio read+parse / cat             {r['read_parse_s'] / cat:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
