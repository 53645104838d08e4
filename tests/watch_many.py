# SPDX-License-Identifier: GPL-2.0-only
"""Several processes watched at once, one memsleuth each, and what their findings say: the
shared steps of the issue-12 tests (service-shaped targets, real programs) and of
tests/tools/matrix.py."""
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import IN_CI
from probe_helpers import func_of

# Each probe mode of issue 12, by the options that choose it.
MODES = {"default": (), "alloc": ("--alloc",), "exact": ("--alloc-exact",),
         "sample": ("--alloc-sample", "65536")}
ALARMS = ("warn", "critical")


class DetectorGap(AssertionError):
    """What the findings got wrong. Tests marked xfail for issue 12 expect this one
    exception (xfail(raises=DetectorGap)), so that any other failure — a target that did
    not start, a sanitizer report, a missing window — still fails them."""


def no_gaps(problems, context=""):
    """Raises DetectorGap listing `problems` (and `context`) when there are any."""
    if problems:
        raise DetectorGap("\n".join(problems) + ("\n" + context if context else ""))


def in_parallel(fn, items):
    """fn over items in threads (starting targets, services and watches takes seconds
    each: warm-ups, initdb, probe attachment); results in order; the first error raised."""
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=len(items)) as ex:
        return list(ex.map(fn, items))


class Run:
    """One process watched in one mode: `label`, and its JSON `windows` once read."""

    def __init__(self, label, pid, mode, watch):
        self.label, self.pid, self.mode, self.watch = label, pid, mode, watch
        self.windows = []

    def read(self, count, timeout):
        self.windows = self.watch.json_windows(timeout=timeout)
        assert len(self.windows) == count, (
            f"{self.label}: {len(self.windows)} windows of {count}")
        collectors = self.windows[-1]["collectors"]
        if not collectors.get("bpf"):
            if IN_CI:
                pytest.fail(f"{self.label}: eBPF probes unavailable in CI")
            pytest.skip("eBPF probes unavailable")
        if self.mode != "default":
            assert all("alloc" in w for w in self.windows), f"{self.label}: no alloc object"
        return self.windows


def watch_all(watch, jobs, interval, count):
    """Starts one `memsleuth watch PID -i interval -n count --json OPTS` per (label, pid,
    mode) job, at once; returns the Runs (read them with read_all)."""
    def start(job):
        label, pid, mode = job
        w = watch("watch", pid, "-i", interval, "-n", count, "--json", *MODES[mode],
                  timeout=90)
        return Run(label, pid, mode, w)
    return in_parallel(start, jobs)


def read_all(runs, interval, count):
    # Windows are clock-bound; the slack covers attaching and a loaded machine.
    for r in runs:
        r.read(count, timeout=interval * count + 150)
    return runs


def alarms(run, first=1):
    """Findings of severity warn or critical from window `first` on, one line each."""
    return [f"{run.label} w{i}: {f['severity']} {f['kind']}: {f['summary']}"
            for i, w in enumerate(run.windows, 1) if i >= first
            for f in w["findings"] if f["severity"] in ALARMS]


def findings(window, kind):
    return [f for f in window["findings"] if f["kind"] == kind]


def names(finding, func):
    """Whether a finding's stack passes through function `func`."""
    return func in [func_of(fr) for fr in finding.get("frames", [])]


def site(finding):
    """The function a leak finding's summary names: "malloc from lru_put+0x2a ..." gives
    "lru_put", "mmap from [other stacks: ...] holds" the bracket."""
    m = re.search(r" from (\[[^\]]*\]|[^\s+]+?)(\+0x| \[| \(|\s)", finding["summary"])
    return m.group(1) if m else ""


def alloc_line(run):
    """What the malloc probes saw of a run, window by window: the share of the calls
    recorded, records made, records lost (a full map or ring) and unmatched frees; a
    detector that stayed silent in a sampled mode is judged by these."""
    KEYS = ("calls", "recorded", "lost")
    cols, before = [], {}
    for i, w in enumerate(run.windows, 1):
        a = w.get("alloc")
        if not a:
            continue
        d = {k: int(a.get(k) or 0) - before.get(k, 0) for k in KEYS}
        before = {k: int(a.get(k) or 0) for k in KEYS}
        cols.append(f"w{i} share {float(a.get('share') or 0):.2f} {d['calls']} calls "
                    f"{d['recorded']} rec {d['lost']} lost")
    return f"  {run.label} alloc: " + "; ".join(cols) if cols else ""


def report(runs):
    """Every finding of every run, one line each, for assertion messages; then what the
    malloc probes recorded in each window of each --alloc run."""
    lines = [line for line in map(alloc_line, runs) if line]
    for r in runs:
        for i, w in enumerate(r.windows, 1):
            for f in w["findings"]:
                lines.append(f"  {r.label} w{i}: {f['severity']} {f['kind']}: "
                             f"{f['summary'][:160]}")
    return "\n".join(lines) or "  (no finding)"
