# SPDX-License-Identifier: GPL-2.0-only
"""The agent for an hour (make soak): three steady services, one of them restarted every five
minutes and followed by name; the agent's memory flat after the first minutes, its CPU under
1% of a core, and no warning about a steady service."""
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, TARGETS, require_root
from fleet import series, served, wait_for  # noqa: F401

SOAK_S = float(os.environ.get("SOAK_SECONDS", 3600))
RESTART_EVERY_S = 300
# The agent has built its tables (modules, symbols, stacks, windows) by then.
SETTLED_S = min(600, SOAK_S / 3)
# Flat: neither the peaks nor the floor of the agent's RSS rise between the first and the
# second half of the settled run by more than this. RSS is not one figure to compare: the
# malloc probes that --alloc-on-growth turns on for a minute add their tables and stacks
# (10-20 MiB, as many as that episode saw), and they go again. Restarts alone leave nothing
# (a target restarted 80 times: the agent at the same RSS from the 15th).
RSS_SLACK = 4 << 20
SAMPLE_EVERY_S = 15


def agent_figures(pid):
    """(resident bytes, CPU seconds) of process `pid`."""
    rss = next(int(line.split()[1]) * 1024 for line in
               Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / hz


def steady(exe, seconds):
    """lru_cache in steady mode: 10,000 entries of 256 bytes turned over 100 times a second
    beside 1,000 requests a second; let go at once."""
    p = subprocess.Popen([str(exe), "steady", "10000", "256", "100", str(int(seconds))],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("ready")
    p.stdin.write("go\n")
    p.stdin.flush()
    return p


@pytest.mark.soak
def test_agent_an_hour_against_three_targets(tmp_path, served):
    require_root("eBPF probes and arena freezes")
    exe = TARGETS / "lru_cache"
    name = "msk" + uuid.uuid4().hex[:8]
    renamed = tmp_path / name
    shutil.copyfile(exe, renamed)
    renamed.chmod(0o755)
    procs = [steady(exe, SOAK_S + 120), steady(exe, SOAK_S + 120)]
    restarting = steady(renamed, SOAK_S + 120)
    restarts = 0
    try:
        a = served("agent", "-p", procs[0].pid, "-p", procs[1].pid, "--name", name,
                   "--alloc-on-growth", "60")
        start = time.monotonic()
        last_restart = start
        points = []
        while time.monotonic() - start < SOAK_S:
            time.sleep(SAMPLE_EVERY_S)
            status, _, _ = a.get("/metrics")
            assert status == 200
            rss, cpu = agent_figures(a.proc.pid)
            points.append((time.monotonic() - start, rss, cpu))
            if time.monotonic() - last_restart >= RESTART_EVERY_S:
                restarting.kill()
                restarting.wait()
                restarting = steady(renamed, SOAK_S + 120)
                restarts += 1
                last_restart = time.monotonic()
        text = wait_for("the last restart watched", lambda: (
            lambda t: series(t, "memsleuth_rss_bytes", pid=restarting.pid) and t)(
                a.metrics()), timeout=30)
        findings = [(m, v) for m, v in series(text, "memsleuth_finding")
                    if m["severity"] in ("warn", "critical")]
        starts = series(text, "memsleuth_target_starts_total")[0][1]
        said = a.stop()
    finally:
        for p in (*procs, restarting):
            p.kill()
            p.wait()

    wall, rss_end, cpu_end = points[-1]
    settled = next(p for p in points if p[0] >= SETTLED_S)
    peak = max(p[1] for p in points)
    after = [p[1] for p in points if p[0] >= SETTLED_S]
    first, second = after[:len(after) // 2], after[len(after) // 2:]
    report = {
        "seconds": round(wall), "targets": 3, "restarts": restarts, "target_starts": starts,
        "rss_first": points[0][1], "rss_settled": settled[1], "rss_end": rss_end,
        "rss_peak": peak, "rss_first_half": [min(first), max(first)],
        "rss_second_half": [min(second), max(second)], "cpu_seconds": round(cpu_end, 2),
        "cpu_share": round(cpu_end / wall, 5),
        "cpu_share_settled": round((cpu_end - settled[2]) / (wall - settled[0]), 5),
    }
    out = ROOT / "build" / "soak-agent.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**report, "points": points}) + "\n")
    print(json.dumps(report))
    assert starts == 3 + restarts, said
    assert not findings, findings
    assert max(second) <= max(first) + RSS_SLACK, report
    assert min(second) <= min(first) + RSS_SLACK, report
    # Attaching costs about a second of CPU once; what the agent costs is the rest.
    assert report["cpu_share_settled"] < 0.01, report
