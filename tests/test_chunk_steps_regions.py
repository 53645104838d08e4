# SPDX-License-Identifier: GPL-2.0-only
"""chunk_steps looks at each region's steps: another region growing alongside does not hide them."""
import json

from conftest import MIB, run

CHUNK = 64 * 1024
COLUMNS = ["name", "kind", "vmas", "size", "rss", "pss", "anon", "private_dirty", "swap"]


def recording(path, heap_steps):
    """30 one-second ticks in 10 s windows: a thread arena grows by an uneven 20-90 KiB a
    tick; [heap] grows by 1 to 3 chunks of 64 KiB a tick when `heap_steps`."""
    lines = [{"format": "memsleuth-recording", "version": 1, "created": 1e9, "pid": 7,
              "comm": "twoheaps", "window_s": 10.0, "tick_s": 1.0, "bpf": False,
              "alloc": False, "region_columns": COLUMNS}]
    heap, arena = 8 * MIB, 4 * MIB
    for i in range(31):
        if i:
            heap += (1 + i % 3) * CHUNK if heap_steps else 0
            arena += (20 + (i * 37) % 71) * 1024
        regions = [["[heap]", "heap", 1, heap, heap, heap, heap, heap, 0],
                   ["[arena 0x7f0000000000]", "arena", 2, 64 * MIB, arena, arena, arena,
                    arena, 0]]
        rss = heap + arena
        lines.append({"type": "sample", "t": 1e9 + i, "pid": 7, "comm": "twoheaps",
                      "allocator": "glibc", "totals": {"rss": rss, "pss": rss, "anon": rss,
                                                       "swap": 0, "size": 2 * rss},
                      "regions": regions})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def steps_of(path):
    res = run(["report", path, "--json"], check=0)
    return [[f for f in json.loads(line)["findings"] if f["kind"] == "chunk_steps"]
            for line in res.stdout.splitlines()]


def test_steps_of_one_region_beside_another_growing(tmp_path):
    windows = steps_of(recording(tmp_path / "steps.jsonl", True))
    assert windows[0] == []                 # the pattern must hold two windows running
    for found in windows[1:]:
        assert len(found) == 1, found
        ev = found[0]["evidence"]
        assert ev["region"] == "[heap]" and ev["quantum"] == CHUNK, ev
        assert ev["quantum_source"] == "rss" and ev["bursts"] == 10, ev
        assert found[0]["summary"].startswith("[heap] grew ")


def test_uneven_growth_alone_raises_no_steps(tmp_path):
    assert steps_of(recording(tmp_path / "uneven.jsonl", False)) == [[], [], []]
