#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""--alloc's cost: a 2-thread malloc-heavy target alone, under memsleuth --alloc, and under bcc memleak.

Every configuration runs once per round, rounds alternate, medians and ratios
are printed. Besides the default --alloc (allocating calls probed 10% of the
time, free() always), it measures the exact mode and a baseline built from
memsleuth's own BPF code that probes what bcc's memleak probes (every
allocator entry and return, free() at its first instruction), so that there
is a reference even where memleak cannot run.

bcc needs kernel headers; for a kernel without them (as the VMs this was
written on), the script points /lib/modules/$(uname -r)/{build,source} at the
newest Debian linux-headers package installed (`make bench` installs
bpfcc-tools and linux-headers-amd64), only for its own run, and removes the
links afterwards: uprobes do not depend on the kernel's struct layouts. If
memleak still cannot run it says so and compares with the baseline.

The same target built without frame pointers (alloc_bench_nofp) is measured
under --alloc and --alloc-exact twice: as memsleuth runs (its stacks walked in
the kernel by unwinding rules learned from the CFI, README "Stacks"), and with
MEMSLEUTH_ALLOC_FP_ONLY=1 (frame-pointer walks, whose stacks are wrong there):
the ratio is what naming the caller in such code costs.

usage: bench_alloc.py [--rounds N] [--pairs N] [--extra]
  --extra also measures the design options (duty 25 %, exact with sampling by
  bytes, duty 10 % with sampling) behind the choice of defaults.
"""
import argparse
import glob
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import MEMSLEUTH, Target  # noqa: E402

MEMLEAK = "memleak-bpfcc"
NOFP = "alloc_bench_nofp"
FP_ONLY = {"MEMSLEUTH_ALLOC_FP_ONLY": "1"}


class KernelHeaders:
    """Links Debian's headers where bcc looks for them, for the duration of a `with`."""

    def __init__(self):
        self.made = []

    def __enter__(self):
        kdir = Path("/lib/modules") / os.uname().release
        if (kdir / "build").exists():
            return self
        amd = sorted(glob.glob("/usr/src/linux-headers-*-amd64"),
                     key=lambda p: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", p)])
        if not amd:
            return self
        common = amd[-1].replace("-amd64", "-common")
        if not kdir.exists():
            kdir.mkdir(parents=True)
            self.made.append(kdir)
        for name, dest in (("build", amd[-1]), ("source", common)):
            link = kdir / name
            if not link.exists() and Path(dest).exists():
                link.symlink_to(dest)
                self.made.append(link)
        return self

    def __exit__(self, *exc):
        for p in reversed(self.made):
            if p.is_symlink():
                p.unlink()
            else:
                p.rmdir()


def read_until(proc, stream, needle, timeout):
    """Reads lines from `stream` until one contains `needle`; returns them all."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            break
        line = stream.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines, True
    return lines, False


def stop(proc, timeout=60):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return out or "", err or ""


def run_alone(pairs, name="alloc_bench"):
    t = Target(name, pairs)
    try:
        return float(t.go(600)["elapsed"]), True
    finally:
        t.finish()


def run_memsleuth(pairs, extra, name="alloc_bench", env=None):
    t = Target(name, pairs)
    proc = subprocess.Popen([MEMSLEUTH, "watch", str(t.pid), "-i", "3600", "--folded", "--alloc",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    try:
        lines, ok = read_until(proc, proc.stderr, "watching PID", 60)
        if not ok:
            raise RuntimeError(f"memsleuth did not start: {''.join(lines)}")
        elapsed = float(t.go(900)["elapsed"])
        time.sleep(1.5)  # one tick after the run, so that the last sample holds all of it
        out, _ = stop(proc)
        return elapsed, "bench_leak" in out
    finally:
        if proc.poll() is None:
            proc.kill()
        t.finish()


def run_memleak(pairs):
    t = Target("alloc_bench", pairs)
    proc = subprocess.Popen([MEMLEAK, "-p", str(t.pid), "5"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        lines, ok = read_until(proc, proc.stdout, "Attaching to pid", 120)
        if not ok:
            out, _ = stop(proc, 5)
            raise RuntimeError("".join(lines) + out)
        time.sleep(2)  # the line comes before the probes are attached
        elapsed = float(t.go(1800)["elapsed"])
        time.sleep(6)  # one report after the run, naming what is still outstanding
        out, _ = stop(proc)
        return elapsed, "bench_leak" in "".join(lines) + out
    finally:
        if proc.poll() is None:
            proc.kill()
        t.finish()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=200000)
    ap.add_argument("--extra", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("alloc: needs root (uprobes); skipped")
        return 0

    configs = [
        ("alone", lambda: run_alone(args.pairs)),
        ("memsleuth --alloc (duty 10%)", lambda: run_memsleuth(args.pairs, [])),
        ("memsleuth --alloc-exact", lambda: run_memsleuth(args.pairs, ["--alloc-exact"])),
        ("baseline: every call, free at entry",
         lambda: run_memsleuth(args.pairs, ["--alloc-exact", "--alloc-free-at-entry"])),
        ("nofp: alone", lambda: run_alone(args.pairs, NOFP)),
        ("nofp: --alloc, rule walks", lambda: run_memsleuth(args.pairs, [], NOFP)),
        ("nofp: --alloc, fp walks", lambda: run_memsleuth(args.pairs, [], NOFP, FP_ONLY)),
        ("nofp: --alloc-exact, rule walks",
         lambda: run_memsleuth(args.pairs, ["--alloc-exact"], NOFP)),
        ("nofp: --alloc-exact, fp walks",
         lambda: run_memsleuth(args.pairs, ["--alloc-exact"], NOFP, FP_ONLY)),
    ]
    if args.extra:
        configs += [
            ("memsleuth --alloc-duty 25", lambda: run_memsleuth(args.pairs, ["--alloc-duty", "25"])),
            ("memsleuth --alloc-duty 1", lambda: run_memsleuth(args.pairs, ["--alloc-duty", "1"])),
            ("exact, --alloc-sample 65536",
             lambda: run_memsleuth(args.pairs, ["--alloc-exact", "--alloc-sample", "65536"])),
            ("exact, free at entry, no stacks named",
             lambda: run_memsleuth(args.pairs, ["--alloc-exact", "--alloc-free-at-entry",
                                                "--alloc-sample", "1000000000"])),
        ]
    memleak_note = None
    with KernelHeaders():
        if subprocess.run(["which", MEMLEAK], capture_output=True).returncode != 0:
            memleak_note = f"{MEMLEAK} is not installed (Debian package bpfcc-tools)"
        else:
            try:
                run_memleak(1000)
                configs.append((f"bcc {MEMLEAK} -p PID", lambda: run_memleak(args.pairs)))
            except Exception as e:  # noqa: BLE001 - any failure means it cannot run here
                memleak_note = f"{MEMLEAK} cannot run here: {str(e).strip().splitlines()[-1:]}"

        times = {name: [] for name, _ in configs}
        named = {name: [] for name, _ in configs}
        for r in range(args.rounds):
            for name, fn in configs:
                el, ok = fn()
                times[name].append(el)
                named[name].append(ok)
                print(f"  round {r + 1}: {name:40s} {el:9.3f} s"
                      f"{'' if 'alone' in name else ('  leak named' if ok else '  LEAK NOT NAMED')}",
                      flush=True)

    med = {n: statistics.median(v) for n, v in times.items()}
    print(f"alloc: 2 threads x {args.pairs} malloc/free pairs, median of {args.rounds} "
          f"alternated rounds")
    for name, _ in configs:
        alone = med["nofp: alone" if name.startswith("nofp") else "alone"]
        print(f"  {name:40s} {med[name]:9.3f} s  x{med[name] / alone:8.1f} vs alone"
              f"  leak named {sum(named[name])}/{len(named[name])}"
              if "alone" not in name else f"  {name:40s} {med[name]:9.3f} s")
    ref_name = next((n for n in med if n.startswith("bcc")), None)
    if ref_name is None:
        print(f"  NOTE: {memleak_note}; comparing against the baseline tracker instead")
        ref_name = "baseline: every call, free at entry"
    ref = med[ref_name]
    for mode in ("--alloc", "--alloc-exact"):
        rules, fp = med[f"nofp: {mode}, rule walks"], med[f"nofp: {mode}, fp walks"]
        print(f"  ratio nofp {mode}: rule walks / frame-pointer walks: {rules / fp:.3f}")
    for name in med:
        if name.startswith("memsleuth") or name.startswith("exact"):
            print(f"  ratio {name} / {ref_name}: {med[name] / ref:.3f}"
                  f"{'   (goal <= 0.5)' if name == 'memsleuth --alloc (duty 10%)' else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
