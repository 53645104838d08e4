# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the arena tests: what a target's own malloc says about its arenas."""
import xml.etree.ElementTree as ET


def malloc_info(t, path, timeout=30):
    """Asks a target (frag_threads, arena_scale) for malloc_info() and mallinfo2: returns
    one dict per arena in list order (totals by type as (count, size), system figures,
    subheaps) and mallinfo2's fields (fordblks: free bytes with top and fastbins, summed
    over the arenas with flag bits masked, which malloc_info's "rest" keeps)."""
    t.proc.stdin.write("info\n")
    t.proc.stdin.flush()
    line = t._readline(timeout)
    assert line.startswith("info "), line
    totals = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    heaps = []
    for heap in ET.parse(path).getroot().findall("heap"):
        h = {"subheaps": 0}
        for tot in heap.findall("total"):
            h[tot.get("type")] = (int(tot.get("count")), int(tot.get("size")))
        for sysm in heap.findall("system"):
            h["system_" + sysm.get("type")] = int(sysm.get("size"))
        for asp in heap.findall("aspace"):
            if asp.get("type") == "subheaps":
                h["subheaps"] = int(asp.get("size"))
        heaps.append(h)
    return heaps, totals


def found(window):
    """What memsleuth found free in every arena, top included and tcaches not: what
    mallinfo2's fordblks counts."""
    return sum(a["free"] - a["tcache"] + a["top"] for a in window["arenas"])


def check_bins_against_malloc_info(a, mi):
    """malloc_info's "rest" is top plus the bins, summed with each bin chunk's flag bits
    (1, or 5 in a thread arena); fastbins are summed without them."""
    fast_count, fast = mi["fast"]
    rest_count, rest = mi["rest"]
    bins = a["free"] - a["tcache"] - fast
    flags = rest - a["top"] - bins
    assert rest_count - 1 <= flags <= 5 * (rest_count - 1), (a, mi)
