# SPDX-License-Identifier: GPL-2.0-only
"""The ends of a watch: a run summary on Ctrl-C (or --summary), and windows without findings
saying so."""
import json
import os
import re
import signal
import time

import pytest

from conftest import MIB, wait_samples
from test_watch_proc import within


def test_ctrl_c_prints_a_summary_of_the_whole_run(target, watch, tmp_path):
    t = target("grow_heap_anon", 48, 32)
    rec = tmp_path / "run.jsonl"
    w = watch("watch", t.pid, "-i", "600", "--tick", "0.2", "-o", rec)
    t.go()
    wait_samples(rec, 3)
    code, out, err = w.interrupt(timeout=60)
    assert code == 0, err
    # The partial window first, then the summary of the run.
    window, _, summary = out.partition("== run summary")
    assert "FINDINGS  none in this window (growth needs two windows in a row)" in window, out
    summary = "== run summary" + summary
    assert re.match(rf"== run summary  pid {t.pid} \(grow_heap_anon\)  [\dms]+, 1 window, "
                    r"stopped by a signal \(Ctrl-C\)$", summary.splitlines()[0]), summary
    m = re.search(r"^  RSS [\d.]+ MiB \(\+([\d.]+) MiB\)", summary, re.M)
    assert m and within(float(m.group(1)) * MIB, 80 * MIB), summary
    assert re.search(r"^  \[heap\] +heap +[\d.]+ MiB +\+4[78]\.\d MiB", summary, re.M), summary
    assert re.search(r"^  \[anon\] +anon +[\d.]+ MiB +\+3[12]\.\d MiB", summary, re.M), summary
    assert "FINDINGS  none in any window" in summary
    if os.geteuid() == 0:
        # The stacks that explain it: the growth probes' brk and mmap stacks, over the run.
        stacks = summary.partition("STACKS THAT EXPLAIN IT (change over the run)")[2]
        assert re.search(r"^  brk +\+4[78]\.\d MiB", stacks, re.M), summary
        assert re.search(r"^  mmap +\+32\.0 MiB", stacks, re.M), summary
        assert re.search(r"^        main\+0x[0-9a-f]+ \(grow_heap_anon\.c:\d+\)$", stacks,
                         re.M), summary


def test_summary_json_says_which_findings_held(target, watch):
    t = target("grow_rate", 8, 400)
    t.proc.stdin.write("go\n")
    t.proc.stdin.flush()
    w = watch("watch", t.pid, "-i", "1", "-n", "4", "--json", "--summary", "--no-bpf")
    lines = w.json_windows(timeout=90)
    windows, summary = lines[:-1], lines[-1]
    assert [x["window"] for x in windows] == [1, 2, 3, 4]
    assert set(summary) == {"run_summary"}
    run = summary["run_summary"]
    assert run["pid"] == t.pid and run["windows"] == 4 and run["end"] == "count reached"
    # From the first window's start to the last one's end.
    assert run["t_start"] == pytest.approx(windows[0]["t"] - windows[0]["window_s"], abs=1e-3)
    assert run["t_end"] == pytest.approx(windows[-1]["t"], abs=1e-3)
    # Over the run RSS grew what the four windows grew.
    assert run["totals_delta"]["rss"] == sum(x["totals_delta"]["rss"] for x in windows)
    growth = [f for f in run["findings"] if f["kind"] == "rss_growth"]
    assert len(growth) == 1, run["findings"]
    g = growth[0]
    # Growth is a finding from the second window on, and it held to the last.
    reported = [x["window"] for x in windows if any(f["kind"] == "rss_growth"
                                                    for f in x["findings"])]
    assert g["held"] and g["windows"] == len(reported) and g["last_window"] == 4, (g, reported)
    assert g["first_window"] == reported[0] >= 2
    assert g["summary"] == next(f for f in windows[-1]["findings"]
                                if f["kind"] == "rss_growth")["summary"]


def test_no_summary_without_a_signal_or_the_option(target, watch):
    t = target("grow_heap_anon", 1, 1)
    w = watch("watch", t.pid, "-i", "1", "-n", "1", "--no-bpf")
    code, out, _ = w.wait(timeout=60)
    assert code == 0 and "run summary" not in out and "FINDINGS  none in this window" in out


def test_interrupted_json_run_prints_windows_only(target, watch):
    """JSON readers get windows, as before: the summary line only with --summary."""
    t = target("grow_heap_anon", 1, 1)
    w = watch("watch", t.pid, "-i", "600", "--tick", "0.2", "--json", "--no-bpf")
    time.sleep(1)
    w.proc.send_signal(signal.SIGINT)
    lines = w.json_windows(timeout=60)
    assert all("run_summary" not in x for x in lines) and all("pid" in x for x in lines)
    assert json.dumps(lines)
