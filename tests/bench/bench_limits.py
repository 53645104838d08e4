#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""memsleuth's own peak RSS against targets that are huge in one dimension each:
100,000 mappings, 10,000 threads, 50,000 fds, 20,000 distinct mapped files, all of
them at once, and 1,000,000 live malloc blocks made under --alloc (and --alloc-exact).
Prints, per case, memsleuth's VmHWM (it reports it with -v), the ratio to a small target,
the size of the target's smaps text, and memsleuth's CPU time per tick; for --alloc, what
the probes recorded and lost and the kernel memory of memsleuth's BPF maps (memlock).

Needs root (vm.max_map_count is raised for the run and restored, RLIMIT_NOFILE raised in
the target). Run from the repository root after `make all test-targets`.
"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMSLEUTH = os.environ.get("MEMSLEUTH", str(ROOT / "build" / "memsleuth"))
TARGET = ROOT / "build" / "tests" / "stress_limits"
ALLOC_TARGET = ROOT / "build" / "tests" / "alloc_live"
MAX_MAP_COUNT = Path("/proc/sys/vm/max_map_count")
# One 2 s window at a 0.5 s tick: the baseline and four more samples.
TICKS = 5



def fd_count():
    """50,000 fds, unless the hard RLIMIT_NOFILE is lower and cannot be raised (raising it
    takes CAP_SYS_RESOURCE, which some containers withhold): then as many as it allows."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or hard >= 50_100:
        return 50_000, "50,000 fds"
    try:
        resource.prlimit(0, resource.RLIMIT_NOFILE, (hard, 50_100))
        resource.prlimit(0, resource.RLIMIT_NOFILE, (hard, hard))
        return 50_000, "50,000 fds"
    except (ValueError, OSError):
        n = hard - 100
        print(f"note: hard RLIMIT_NOFILE is {hard} and cannot be raised here: "
              f"{n:,} fds instead of 50,000")
        return n, f"{n:,} fds"


def cases():
    fds, fd_name = fd_count()
    # name, maps, threads, fds, files
    return [
        ("small target", 0, 0, 0, 0),
        ("100,000 mappings", 100_000, 0, 0, 0),
        ("10,000 threads", 0, 10_000, 0, 0),
        (fd_name, 0, 0, fds, 0),
        ("20,000 mapped files", 0, 0, 0, 20_000),
        ("all of the above", 100_000, 10_000, fds, 20_000),
    ]


def alloc_cases():
    # name, memsleuth options, live allocations (32 bytes each, made over 2 s)
    return [
        ("1,000 allocs --alloc-exact", ["--alloc-exact"], 1000),
        ("1M allocs --alloc", [], 1_000_000),
        ("1M allocs --alloc-exact", ["--alloc-exact"], 1_000_000),
        # Every other block recorded with its stack copied: the most user memory per record.
        ("1M allocs --alloc-exact --alloc-sample 64", ["--alloc-exact", "--alloc-sample", "64"],
         1_000_000),
    ]


def smaps_size(pid):
    with open(f"/proc/{pid}/smaps", "rb") as f:
        return len(f.read())


def run_case(maps, threads, fds, files, workdir):
    t = subprocess.Popen([str(TARGET), str(maps), str(threads), str(fds), str(files), workdir],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert t.stdout.readline().startswith("ready")
        t.stdin.write("go\n")
        t.stdin.flush()
        done = t.stdout.readline()
        assert done.startswith("done"), f"target failed: {done!r}"
        text = smaps_size(t.pid)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        res = subprocess.run([MEMSLEUTH, "-v", "watch", str(t.pid), "-i", "2", "--tick", "0.5",
                              "-n", "1", "--json"],
                             capture_output=True, text=True, timeout=600)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if res.returncode != 0:
            raise RuntimeError(res.stderr)
        peak = re.search(r"memsleuth peak RSS: (\d+) KiB", res.stderr)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return int(peak.group(1)) * 1024, text, cpu / TICKS, res.stdout.splitlines()[-1]
    finally:
        t.kill()
        t.wait()


def bpf_memlock(pid):
    """Kernel memory of the BPF maps process `pid` holds: (total, largest map), bytes."""
    sizes = []
    for fd in Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            info = fd.read_text()
        except OSError:
            continue
        m = re.search(r"^memlock:\s+(\d+)", info, re.M)
        if m and "map_type:" in info:
            sizes.append(int(m.group(1)))
    return sum(sizes), max(sizes, default=0)


def run_alloc_case(opts, count, workdir):
    """memsleuth watches alloc_live from before its first allocation to two samples after
    its last, then is stopped as Ctrl-C does."""
    rec, errf = Path(workdir) / "rec.jsonl", Path(workdir) / "stderr"
    t = subprocess.Popen([str(ALLOC_TARGET), str(count), "32", "2"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    m = None
    try:
        assert t.stdout.readline().startswith("ready")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(errf, "w") as err:
            # -v is verbose: its stderr goes to a file, never to a pipe that could fill.
            m = subprocess.Popen([MEMSLEUTH, "-v", "watch", str(t.pid), "-i", "600", "--tick",
                                  "0.5", "--json", "-o", str(rec), "--alloc", *opts],
                                 stdout=subprocess.PIPE, stderr=err, text=True)
        wait_for(lambda: "watching PID" in errf.read_text(), m)
        started = time.monotonic()
        t.stdin.write("go\n")
        t.stdin.flush()
        done = t.stdout.readline()
        assert done.startswith("done"), f"target failed: {done!r}"
        samples = rec.read_text().count('"type":"sample"')
        wait_for(lambda: rec.read_text().count('"type":"sample"') >= samples + 2, m)
        kernel = bpf_memlock(m.pid)
        text = smaps_size(t.pid)
        m.send_signal(signal.SIGINT)
        out, _ = m.communicate(timeout=120)
        ticks = (time.monotonic() - started) / 0.5
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if m.returncode != 0:
            raise RuntimeError(errf.read_text()[-2000:])
        peak = re.search(r"memsleuth peak RSS: (\d+) KiB", errf.read_text())
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        alloc = json.loads(out.splitlines()[-1])["alloc"]
        return int(peak.group(1)) * 1024, text, cpu / ticks, alloc, kernel
    finally:
        if m and m.poll() is None:
            m.kill()
            m.wait()
        t.kill()
        t.wait()


def wait_for(cond, proc, timeout=600):
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("memsleuth exited or stalled")
        time.sleep(0.05)


def main():
    if os.geteuid() != 0:
        print("bench_limits: needs root (vm.max_map_count, RLIMIT_NOFILE)", file=sys.stderr)
        return 1
    if not TARGET.exists():
        print("bench_limits: run 'make all test-targets' first", file=sys.stderr)
        return 1
    saved = MAX_MAP_COUNT.read_text()
    workdir = tempfile.mkdtemp(prefix="memsleuth-bench-")
    base = None
    try:
        MAX_MAP_COUNT.write_text("262144")
        todo = cases()
        print(f"{'case':<41} {'peak RSS':>10} {'x small':>8} {'smaps text':>11} "
              f"{'CPU/tick':>9}  overflow")
        for name, maps, threads, fds, files in todo:
            case_dir = tempfile.mkdtemp(dir=workdir)
            peak, text, cpu, last = run_case(maps, threads, fds, files, case_dir)
            shutil.rmtree(case_dir)
            base = base or peak
            overflow = re.search(r'"overflow":(\{[^}]*\})', last).group(1)
            print(f"{name:<41} {peak / 2**20:>6.1f} MiB {peak / base:>7.2f}x "
                  f"{text / 2**20:>7.1f} MiB {cpu * 1000:>6.0f} ms  {overflow}", flush=True)
        for name, opts, count in alloc_cases():
            case_dir = tempfile.mkdtemp(dir=workdir)
            peak, text, cpu, a, (kernel, biggest) = run_alloc_case(opts, count, case_dir)
            shutil.rmtree(case_dir)
            print(f"{name:<41} {peak / 2**20:>6.1f} MiB {peak / base:>7.2f}x "
                  f"{text / 2**20:>7.1f} MiB {cpu * 1000:>6.0f} ms  recorded {a['recorded']:,}, "
                  f"lost_live {a['lost_live']:,} (cap {a['live_cap']:,}); BPF maps "
                  f"{kernel / 2**20:.1f} MiB (largest {biggest / 2**20:.1f})", flush=True)
    finally:
        MAX_MAP_COUNT.write_text(saved)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
