# SPDX-License-Identifier: GPL-2.0-only
"""watch on /proc data: exact region growth, classification, totals."""
from conftest import MIB, region, within


def test_heap_and_anon_growth_reported_exactly(target, watch):
    t = target("grow_heap_anon", 48, 32)
    w = watch("watch", t.pid, "-i", "3", "-n", "1", "--json", "--no-bpf")
    t.go()
    windows = w.json_windows(timeout=30)
    assert len(windows) == 1
    win = windows[0]
    assert win["pid"] == t.pid
    assert win["comm"] == "grow_heap_anon"
    heap = region(win, "[heap]")
    assert heap["kind"] == "heap"
    assert within(heap["rss_delta"], 48 * MIB), heap
    anon = region(win, "[anon]")
    assert anon["kind"] == "anon"
    assert within(anon["rss_delta"], 32 * MIB), anon
    assert within(win["totals_delta"]["rss"], 80 * MIB), win["totals_delta"]
    assert win["lost_events"] == 0
    assert win["regions"][0]["name"] == "[heap]"
