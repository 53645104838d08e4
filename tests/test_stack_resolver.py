# SPDX-License-Identifier: GPL-2.0-only
"""One stack resolver per target: every probe family unwinds and symbolizes through it."""
import json
import re
import signal
import time

import pytest

from conftest import MIB, require_root

pytestmark = pytest.mark.bpf


def leak_bytes(window):
    return sum(s["bytes"] for s in window["stacks"]
               if s["kind"] == "alloc" and any(f.startswith("leak_slowly") for f in s["frames"]))


WALKS = ["--alloc-exact"]
CAPTURES = ["--alloc-exact", "--alloc-sample", "65536"]


@pytest.mark.parametrize("mode", [WALKS, CAPTURES], ids=["frame-pointer walks", "DWARF captures"])
def test_alloc_reads_and_symbolizes_the_modules_once(target, watch, mode):
    """With the growth probes and --alloc on one target, its module map is opened once
    (two stack pipelines opened two: one read and one symbol cache each), and the one
    resolver serves both families: its summary counts the growth probes' captures and the
    malloc probes' stacks."""
    require_root("uprobes")
    t = target("alloc_leak", 4 * MIB, 4096, 2)
    w = watch("-v", "watch", t.pid, "--json", "-i", "600", "--tick", "0.2", "--alloc", *mode)
    done = t.go(120)
    time.sleep(1.0)  # a few ticks after the last allocation
    w.proc.send_signal(signal.SIGINT)
    code, out, err = w.wait(60)
    assert code == 0, err
    win = [json.loads(line) for line in out.splitlines() if line.strip()][-1]
    if mode == WALKS:
        assert leak_bytes(win) == int(done["leaked"]), win["stacks"]
    else:
        # 1024 blocks, each recorded with p = 1/16: none recorded has odds of 1e-29.
        assert leak_bytes(win) > 0, win["stacks"]

    opened = re.findall(rf"stacks: process {t.pid}: module map opened", err)
    assert len(opened) == 1, err
    summary = re.findall(rf"stacks: process {t.pid}: (\d+) captures unwound, (\d+) walks "
                         r"resolved, \d+ stacks kept, \d+ cut at a bad return address; "
                         r"symbols: \d+ cached, (\d+) resolved", err)
    assert len(summary) == 1, err
    captures, walks, resolved = map(int, summary[0])
    assert captures > 0 and resolved > 0, summary
    # Frame-pointer walks come from the malloc probes only; sampled ones copy the stack.
    assert (walks > 0) == (mode == WALKS), summary
