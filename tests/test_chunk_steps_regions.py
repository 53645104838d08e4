# SPDX-License-Identifier: GPL-2.0-only
"""chunk_steps over synthetic recordings: each region's steps on their own, so that another
region growing alongside does not hide them, and a burst that a tick saw only half of."""
import json

from conftest import MIB, run

CHUNK = 64 * 1024
COLUMNS = ["name", "kind", "vmas", "size", "rss", "pss", "anon", "private_dirty", "swap"]


def uneven(i):
    """A thread arena's growth in tick i: an uneven 20-90 KiB."""
    return (20 + (i * 37) % 71) * 1024


def chunks(i):
    """A chunk pool's growth in tick i: 1 to 3 chunks of 64 KiB."""
    return (1 + i % 3) * CHUNK


def recording(path, heap_growth, arena_growth):
    """30 one-second ticks in 10 s windows; [heap] and a thread arena grow by
    heap_growth(i) and arena_growth(i) in tick i."""
    lines = [{"format": "memsleuth-recording", "version": 1, "created": 1e9, "pid": 7,
              "comm": "twoheaps", "window_s": 10.0, "tick_s": 1.0, "bpf": False,
              "alloc": False, "region_columns": COLUMNS}]
    heap, arena = 8 * MIB, 4 * MIB
    for i in range(31):
        if i:
            heap += heap_growth(i)
            arena += arena_growth(i)
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
    windows = steps_of(recording(tmp_path / "steps.jsonl", chunks, uneven))
    assert windows[0] == []                 # the pattern must hold two windows running
    for found in windows[1:]:
        assert len(found) == 1, found
        ev = found[0]["evidence"]
        assert ev["region"] == "[heap]" and ev["quantum"] == CHUNK, ev
        assert ev["quantum_source"] == "rss" and ev["bursts"] == 10, ev
        assert found[0]["summary"].startswith("[heap] grew ")


def test_uneven_growth_alone_raises_no_steps(tmp_path):
    assert steps_of(recording(tmp_path / "uneven.jsonl", lambda i: 0, uneven)) == [[], [], []]


def half_seen(i):
    """The chunk pool, with one tick a window sampled while its burst was being written:
    that tick sees all but two pages of it, the next tick those pages and its own burst."""
    return chunks(i) + {4: -8192, 5: 8192}.get(i % 10, 0)


def test_burst_seen_half_by_one_tick_joins_the_next(tmp_path):
    windows = steps_of(recording(tmp_path / "half.jsonl", half_seen, lambda i: 0))
    assert windows[0] == []
    for k, found in enumerate(windows[1:], 2):
        assert len(found) == 1, found
        ev = found[0]["evidence"]
        # Ten ticks, two of them one burst: nine bursts, and every byte in a step.
        assert ev["bursts"] == 9 and ev["quantum"] == CHUNK, ev
        grown = sum(chunks(i) for i in range(10 * k - 9, 10 * k + 1))
        assert ev["bytes"] == ev["growth"] == grown, ev


def test_growth_that_pairs_up_to_chunks_is_no_steps(tmp_path):
    # 40 KiB then 88 KiB, again and again: every pair of ticks sums to two chunks, no
    # tick alone is one. Growth that only averages a multiple is not a chunk pool.
    def alternate(i):
        return (40 if i % 2 else 88) * 1024

    assert steps_of(recording(tmp_path / "pairs.jsonl", alternate, lambda i: 0)) == [[], [], []]


def growing_ticks(k):
    """One or two chunks in turn in the first k ticks of each ten, nothing in the others."""
    return lambda i: (1 + (i - 1) % 2) * CHUNK if (i - 1) % 10 < k else 0


def test_steps_in_few_ticks_are_within_chance(tmp_path):
    # Growth at any rate lands on a multiple of 64 KiB (give or take a page) in 3 ticks of 16:
    # four ticks of four on a multiple happen by chance once in 800 windows, too often to warn.
    path = recording(tmp_path / "four.jsonl", growing_ticks(4), lambda i: 0)
    assert steps_of(path) == [[], [], []]


def test_steps_in_five_ticks_of_five_are_a_pool(tmp_path):
    windows = steps_of(recording(tmp_path / "five.jsonl", growing_ticks(5), lambda i: 0))
    assert windows[0] == []
    for found in windows[1:]:
        assert len(found) == 1, found
        ev = found[0]["evidence"]
        # Five growing ticks, each on a multiple: (3/16)^5 by chance.
        assert ev["bursts"] == 5 and ev["tries"] == 5, ev
        assert abs(ev["chance"] - (3 / 16) ** 5) < 1e-9, ev


def test_equal_bursts_are_steps_of_the_candidate_quantum(tmp_path):
    # A render loop overflowing its pool by the same 31 chunks every second (issue 12): the
    # bursts are all equal, so their common multiple is 31 x 64 KiB; the quantum tested, and
    # reported, is still 64 KiB, which every tick lands on.
    windows = steps_of(recording(tmp_path / "equal.jsonl", lambda i: 31 * CHUNK, uneven))
    assert windows[0] == []
    for found in windows[1:]:
        assert len(found) == 1, found
        ev = found[0]["evidence"]
        assert ev["quantum"] == CHUNK and ev["region"] == "[heap]", ev
        assert ev["bursts"] == 10 and ev["steps"] == 310, ev


def test_doubling_bursts_are_no_steps(tmp_path):
    # A buffer doubled each second, 64 KiB up to 4 MiB, then a new one: every burst a
    # multiple of 64 KiB, but the last of a run is as large as all before it.
    def doubling(i):
        return CHUNK << ((i - 1) % 7)

    assert steps_of(recording(tmp_path / "double.jsonl", doubling, lambda i: 0)) == [[], [], []]
