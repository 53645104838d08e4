#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""What one `memsleuth ps` scan costs on a host with 1,000 and 10,000 more processes."""
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MEMSLEUTH = os.environ.get("MEMSLEUTH", str(ROOT / "build" / "memsleuth"))
TARGETS = Path(os.environ.get("MEMSLEUTH_TARGETS", str(ROOT / "build" / "tests")))
WINDOWS = 5


def spawn(n):
    """many_procs with n idle children, once they all run."""
    p = subprocess.Popen([str(TARGETS / "many_procs"), str(n)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        p.kill()
        raise RuntimeError(f"many_procs {n} did not start: {line!r}")
    return p


def stop(p):
    try:
        p.stdin.close()
    except OSError:
        pass
    try:
        p.wait(120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def scans(extra):
    """(median wall seconds of a scan, CPU seconds per scan, processes listed) of one ps run:
    WINDOWS + 1 scans, the first included in the CPU figure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run([MEMSLEUTH, "ps", "-i", "0.5", "-n", str(WINDOWS), "--json", *extra],
                         capture_output=True, text=True, timeout=600, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wins = [json.loads(line) for line in res.stdout.splitlines()]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return (statistics.median(w["scan_s"] for w in wins), cpu / (WINDOWS + 1),
            wins[-1]["counts"]["processes"])


def main():
    base_wall, base_cpu, base_n = scans([])
    print(f"ps on this host as it is ({base_n} processes): scan {base_wall * 1e3:.0f} ms, "
          f"CPU {base_cpu * 1e3:.0f} ms per scan", flush=True)
    per = {}
    for n in (1000, 10000):
        kids = spawn(n)
        try:
            for label, extra in (("", []), (" --cgroups", ["--cgroups"])):
                wall, cpu, listed = scans(extra)
                extra_cpu = max(cpu - base_cpu, 0.0)
                per[(n, label)] = extra_cpu / n
                print(f"ps{label} with {n} more idle processes ({listed} listed): scan "
                      f"{wall * 1e3:.0f} ms, CPU {cpu * 1e3:.0f} ms per scan, "
                      f"{extra_cpu / n * 1e6:.0f} us per added process", flush=True)
        finally:
            stop(kids)
    ratio = per[(10000, "")] / per[(1000, "")] if per[(1000, "")] else float("nan")
    print(f"cost per process at 10,000 / at 1,000: {ratio:.2f} (1.0: linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
