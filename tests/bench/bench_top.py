#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The live view's own cost: CPU of `memsleuth top` on a sleeping target, as a share of a core."""
import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MEMSLEUTH = os.environ.get("MEMSLEUTH", str(ROOT / "build" / "memsleuth"))
GOAL_PCT = 2.0
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", *args], capture_output=True,
                          text=True, timeout=20)


def measure(target_pid, extra, seconds):
    """Runs top under tmux at 80x24 and returns its CPU share over `seconds` of wall time."""
    sock = f"memsleuth-bench-{os.getpid()}"
    cmd = " ".join([MEMSLEUTH, "top", str(target_pid), *extra])
    tmux(sock, "new-session", "-d", "-x", "80", "-y", "24", f"exec {cmd} 2>/dev/null")
    try:
        top_pid = int(tmux(sock, "display-message", "-p", "#{pane_pid}").stdout.strip())
        deadline = time.monotonic() + 30
        # Start counting once the first screen is up: attaching is a one-off cost.
        while not re.search(rf"pid {target_pid} ", tmux(sock, "capture-pane", "-p").stdout):
            if time.monotonic() > deadline:
                raise RuntimeError("top did not start")
            time.sleep(0.2)
        c0, w0 = cpu_seconds(top_pid), time.monotonic()
        time.sleep(seconds)
        c1, w1 = cpu_seconds(top_pid), time.monotonic()
        tmux(sock, "send-keys", "q")
        return 100.0 * (c1 - c0) / (w1 - w0), w1 - w0
    finally:
        tmux(sock, "kill-server")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    modes = [("/proc only (--no-bpf)", ["--no-bpf"])]
    if os.geteuid() == 0:
        modes.insert(0, ("default collectors (eBPF growth probes on)", []))
    target = subprocess.Popen(["sleep", "100000"])
    worst = 0.0
    try:
        for name, extra in modes:
            pct, wall = measure(target.pid, extra, args.seconds)
            worst = max(worst, pct)
            print(f"top on a sleeping target, {name}: {pct:.2f}% of a core "
                  f"over {wall:.1f} s of wall time (goal < {GOAL_PCT:g}%)", flush=True)
    finally:
        target.kill()
        target.wait()
    return 0 if worst < GOAL_PCT else 1


if __name__ == "__main__":
    sys.exit(main())
