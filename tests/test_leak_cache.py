# SPDX-License-Identifier: GPL-2.0-only
"""--alloc and memory allocated before attach: a bounded cache filled before memsleuth came is no
leak, a cache that outgrows its evictions or a leak beside it still is."""
import glob
import json
import os

import pytest

from conftest import require_root, run

# The target's cache: filled before attach, then RATE inserts a second for SECONDS, far fewer
# than ENTRIES: it does not turn over while watched (3 windows of 2 s).
ENTRIES, SIZE, RATE, SECONDS = 20000, 1000, 200, 25
LEAK_BLOCK = 4096
MODES = {"default": [], "exact": ["--alloc-exact"]}


def frames0(f):
    return f["frames"][0] if f["frames"] else ""


def leaks(win):
    return [f for f in win["findings"] if f["kind"] == "leak"]


def leak_verdicts(win):
    return [f for f in win["findings"] if f["kind"] == "verdict" and
            (f["evidence"]["cause"] == "leak" or f["evidence"]["share_leak"] > 0)]


def stack_of(win, fn):
    got = [s for s in win["stacks"] if s["kind"] == "alloc" and s["frames"][0].startswith(fn)]
    assert len(got) == 1, [s["frames"][:1] for s in win["stacks"]]
    return got[0]


def watch_cache(target, watch, mode, opts, rec=None, env=None):
    """Four windows of the lru_cache target in `mode`, from just before its 'go'. A leak
    needs two windows with a reading of the records before them: it is named from the
    third window on, and the fourth leaves one window of slack for the sampling noise.
    Windows of 2 s in exact mode; probed a tenth of the time, the leak beside the cache
    makes about 10 recorded blocks in 2 s, at the rule's noise floor (3 sd), and 4 s
    windows hold 20."""
    require_root("uprobes")
    t = target("lru_cache", mode, ENTRIES, SIZE, RATE, SECONDS, env=env)
    interval = "2" if "--alloc-exact" in opts else "4"
    args = ["watch", t.pid, "--json", "-i", interval, "-n", "4", "--tick", "0.25", "--alloc",
            *opts]
    if rec:
        args += ["-o", rec]
    w = watch(*args)
    # Not t.go(): the watch ends long before the target's 'done'.
    t.proc.stdin.write("go\n")
    t.proc.stdin.flush()
    wins = w.json_windows(timeout=90)
    assert len(wins) == 4
    return wins


def same_as_report(live, rec):
    """`report` of the recording says what the live run said, window by window."""
    res = run(["report", rec, "--json"], check=0)
    offline = [json.loads(line) for line in res.stdout.splitlines()]
    assert [w["findings"] for w in offline] == [w["findings"] for w in live]
    keys = ("unmatched_frees", "unmatched_free_bytes", "preattach_frees", "preattach_free_bytes",
            "preattach_free_bytes_delta")
    assert [{k: w["alloc"][k] for k in keys} for w in offline] == \
        [{k: w["alloc"][k] for k in keys} for w in live]


@pytest.mark.bpf
@pytest.mark.parametrize("mode", MODES)
def test_cache_filled_before_attach_is_no_leak(target, watch, tmp_path, mode):
    rec = tmp_path / "rec.jsonl"
    wins = watch_cache(target, watch, "steady", MODES[mode], rec=rec)
    for win in wins:
        assert not leaks(win), leaks(win)
        assert not leak_verdicts(win), win["findings"]
    last = wins[-1]
    a, cache = last["alloc"], stack_of(last, "cache_insert")
    # The scene is what it should be: the insert stack holds ever more (at least 1600 inserts
    # expected over the four windows), balanced by frees of entries from before attach.
    assert cache["bytes"] >= 500 * SIZE
    assert all(w["alloc"]["preattach_free_bytes_delta"] > 100 * SIZE for w in wins[1:])
    if mode == "exact":
        # Every eviction frees a pre-attach entry of 1000 usable bytes (a 1008-byte chunk);
        # nothing else freed was allocated before attach.
        assert a["unmatched_free_bytes"] == a["unmatched_frees"] * SIZE
        assert a["preattach_free_bytes"] == a["unmatched_free_bytes"]
        assert a["preattach_frees"] == a["unmatched_frees"]
        # Inserts and evictions go in pairs: the counts differ by what a tick splits.
        assert abs(cache["count"] - a["unmatched_frees"]) <= 2
        assert cache["bytes"] == cache["count"] * SIZE
    else:
        # Probed a tenth of the time: most unmatched frees are of the requests' buffers made
        # while the probes were off, and are expected; the rest estimates the evictions.
        assert a["estimated"] and a["unmatched_frees"] > 5 * a["preattach_frees"]
        assert a["preattach_free_bytes"] == pytest.approx(cache["bytes"], rel=0.25)
    same_as_report(wins, rec)


@pytest.mark.bpf
@pytest.mark.parametrize("mode", MODES)
def test_cache_outgrowing_its_evictions_is_a_leak(target, watch, mode):
    """Every other insert evicts: the insert stack's rise is half balanced, half a leak."""
    wins = watch_cache(target, watch, "grow", MODES[mode])
    last = wins[-1]
    found = leaks(last)
    assert [frames0(f) for f in found] == [stack_of(last, "cache_insert")["frames"][0]], found
    ev = found[0]["evidence"]
    assert ev["preattach_bytes"] > 0 and ev["windows"] >= 2
    net = ev["bytes_delta"] - ev["preattach_bytes"]
    if mode == "exact":
        assert net == pytest.approx(RATE / 2 * SIZE * last["window_s"], rel=0.25), ev
        assert ev["preattach_bytes"] == pytest.approx(net, rel=0.25)
    else:
        assert net > 0.25 * RATE / 2 * SIZE * last["window_s"], ev


@pytest.mark.bpf
@pytest.mark.parametrize("mode", MODES)
def test_leak_beside_the_cache_is_named_alone(target, watch, tmp_path, mode):
    """The pre-attach frees balance the cache's inserts, of their own size, not the leak."""
    wins = watch_cache(target, watch, "leak", MODES[mode], rec=tmp_path / "rec.jsonl")
    for win in wins:
        assert all(frames0(f).startswith("leak_beside") for f in leaks(win)), leaks(win)
    found = leaks(wins[-1])
    assert len(found) == 1, wins[-1]["findings"]
    ev = found[0]["evidence"]
    if mode == "exact":
        # At most an eviction whose insert fell in the next window is left to spend on it.
        assert ev["preattach_bytes"] <= SIZE, ev
        assert ev["bytes_delta"] % LEAK_BLOCK == 0
        assert ev["bytes_delta"] == pytest.approx(RATE / 4 * LEAK_BLOCK * wins[-1]["window_s"],
                                                  rel=0.25)
    else:
        # Estimates: the cache's balance and its rise differ by their sampling noise.
        assert ev["preattach_bytes"] <= 0.1 * ev["bytes_delta"], ev
    same_as_report(wins, tmp_path / "rec.jsonl")


@pytest.mark.bpf
def test_cache_under_jemalloc_balances_by_count(target, watch):
    """Without glibc's chunk headers the sizes are unknown: frees balance inserts by count."""
    require_root("uprobes")
    libs = glob.glob("/usr/lib/*/libjemalloc.so.2")
    if not libs:
        pytest.fail("libjemalloc2 is missing: run 'make deps'")
    env = dict(os.environ, LD_PRELOAD=libs[0])
    wins = watch_cache(target, watch, "steady", ["--alloc-exact"], env=env)
    assert not any(leaks(w) for w in wins), [leaks(w) for w in wins]
    a, cache = wins[-1]["alloc"], stack_of(wins[-1], "cache_insert")
    assert a["unmatched_free_bytes"] is None and a["preattach_free_bytes"] == 0
    assert abs(cache["count"] - a["preattach_frees"]) <= 2 and cache["count"] >= 500


# Synthetic recordings: the detector's arithmetic on figures chosen to the byte.

HEADER = {"format": "memsleuth-recording", "version": 1, "created": 1e9, "pid": 100,
          "comm": "synthetic", "window_s": 10, "tick_s": 10, "bpf": True, "alloc": True,
          "region_columns": ["name", "kind", "vmas", "size", "rss", "pss", "anon",
                             "private_dirty", "swap"]}
CACHE = ["cache_put+0x10 (cache.c:12)", "main"]
LEAKY = ["leaky_alloc+0x1a (leak.c:42)", "main"]


def synthetic(path, n, stacks, classes, share=1.0, legacy=False, heap=None):
    """n samples 10 s apart; stacks(i) -> [[id, "alloc", bytes, count]], classes(i) -> rows;
    heap(i) -> bytes of [heap], which then makes all of RSS beyond 64 MiB."""
    lines = [HEADER, {"type": "stack", "id": 1, "frames": CACHE},
             {"type": "stack", "id": 2, "frames": LEAKY}]
    for i in range(n):
        rows = classes(i)
        alloc = {"estimated": share < 1, "sample_bytes": 0, "duty": share, "share": share,
                 "since": 1e9, "calls": 0, "frees": 0, "recorded": 0, "missed_frees": 0,
                 "lost": 0, "arenas": None}
        if not legacy:
            alloc.update(unmatched_frees=sum(r[1] for r in rows),
                         unmatched_free_bytes=sum(r[2] for r in rows), unmatched_sized=True,
                         free_classes=rows)
        rss = (1 << 26) + (heap(i) if heap else 0)
        sample = {"type": "sample", "t": 1e9 + 10 * i, "pid": 100, "comm": "synthetic",
                  "allocator": "glibc", "threads": 1,
                  "totals": {"rss": rss, "pss": rss, "anon": rss, "swap": 0},
                  "bpf": True, "lost_events": 0, "stacks": stacks(i), "alloc": alloc}
        if heap:
            h = heap(i)
            sample["regions"] = [["[heap]", "heap", 1, h, h, h, h, h, 0],
                                 ["/bin/x", "file", 2, 1 << 26, 1 << 26, 1 << 26, 0, 0, 0]]
        lines.append(sample)
    lines.append({"type": "end", "t": 2e9, "reason": "stopped"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = run(["report", path, "--json"], check=0)
    return [json.loads(line) for line in res.stdout.splitlines()]


def cache_rows(i):
    # 400 evictions of 1000-byte entries (class 9: 512..1023 usable bytes) a window.
    return [[9, 400 * i, 400 * 1000 * i, 0, 0]]


def test_synthetic_balanced_cache_is_no_leak_and_legacy_recordings_load(tmp_path):
    def stacks(i):
        return [[1, "alloc", 400 * 1000 * i, 400 * i]]
    wins = synthetic(tmp_path / "a.jsonl", 5, stacks, cache_rows)
    assert len(wins) == 4 and not any(leaks(w) for w in wins)
    assert [w["alloc"]["preattach_free_bytes_delta"] for w in wins] == [400000] * 4
    assert wins[-1]["alloc"]["unmatched_frees"] == 1600
    # A recording from before the counts loads; with nothing to balance it, the rise is a leak.
    wins = synthetic(tmp_path / "b.jsonl", 5, stacks, cache_rows, legacy=True)
    assert wins[-1]["alloc"]["unmatched_frees"] == 0
    assert [frames0(f) for f in leaks(wins[-1])] == [CACHE[0]]


def test_synthetic_leak_keeps_what_the_cache_does_not_balance(tmp_path):
    def stacks(i):
        # The cache's inserts, and a leak of 4096-byte blocks (class 12) of the same bytes.
        return [[1, "alloc", 400 * 1000 * i, 400 * i], [2, "alloc", 100 * 4096 * i, 100 * i]]
    wins = synthetic(tmp_path / "a.jsonl", 5, stacks, cache_rows)
    for w in wins[1:]:
        assert [frames0(f) for f in leaks(w)] == [LEAKY[0]]
        ev = leaks(w)[0]["evidence"]
        assert ev["preattach_bytes"] == 0 and ev["bytes_delta"] == 409600


def test_synthetic_sampled_frees_expected_unmatched_are_not_pre_attach(tmp_path):
    """Probed 10% of the time: 100 buffers a window free unmatched because their allocation
    was not recorded, as the 100 recorded ones that were freed unrecorded say; only the 40
    unmatched beyond those are pre-attach entries (the difference of two counts of 100 has a
    standard deviation of 14: 40 stand out of it), standing for 400 at a share of 0.1."""
    def classes(i):
        return [[9, 140 * i, 140 * 1000 * i, 100 * 256 * i, 100 * 1000 * i]]

    def stacks(i):
        # Recorded figures are scaled up by the share already: 400 entries a window.
        return [[1, "alloc", 400 * 1000 * i, 400 * i], [2, "alloc", 100 * 4096 * i, 100 * i]]
    wins = synthetic(tmp_path / "a.jsonl", 5, stacks, classes, share=0.1)
    assert [w["alloc"]["preattach_free_bytes_delta"] for w in wins] == [400000] * 4
    assert wins[-1]["alloc"]["preattach_frees"] == 1600
    assert wins[-1]["alloc"]["unmatched_frees"] == 560
    # Had all 140 unmatched frees a window counted as pre-attach, they would hide the leak.
    for w in wins[1:]:
        assert [frames0(f) for f in leaks(w)] == [LEAKY[0]]
        assert leaks(w)[0]["evidence"]["preattach_bytes"] == 0


def test_synthetic_verdict_counts_only_the_leak_beyond_the_balance(tmp_path):
    """A cache inserting 800 entries a window while it evicts 400 from before attach: the
    leak is the 400 kept, and the verdict's leak share is those bytes, not the 800."""
    def stacks(i):
        return [[1, "alloc", 800 * 1000 * i, 800 * i]]
    wins = synthetic(tmp_path / "a.jsonl", 5, stacks, cache_rows, heap=lambda i: (8 << 20) * i)
    for w in wins[1:]:
        ev = leaks(w)[0]["evidence"]
        assert (ev["bytes_delta"], ev["preattach_bytes"]) == (800000, 400000)
        verdict = [f for f in w["findings"] if f["kind"] == "verdict"][0]["evidence"]
        assert verdict["bytes_leak"] == 400000, verdict
    assert leaks(wins[-1])[0]["evidence"]["run_bytes"] == 4 * 400000


def test_synthetic_cache_of_varied_sizes_balances_across_classes(tmp_path):
    """Entries of 700, 1000 and 1300 bytes, inserted by one stack (mean 1000): the frees of
    the classes beside the stack's own balance the rest of its rise."""
    def classes(i):
        return [[8, 100 * i, 70000 * i, 0, 0], [9, 200 * i, 200000 * i, 0, 0],
                [10, 100 * i, 130000 * i, 0, 0]]

    def stacks(i):
        return [[1, "alloc", 400000 * i, 400 * i]]
    wins = synthetic(tmp_path / "a.jsonl", 5, stacks, classes)
    assert not any(leaks(w) for w in wins)


def test_synthetic_noise_next_door_is_not_spent_on_a_leak(tmp_path):
    """Probed 10% of the time, 3000-byte buffers (class 11) crossing the probes' phases:
    110 unmatched frees a window where 100 were expected is noise (sd about 14), not 10
    pre-attach frees to scale up to 100 and spend on the 4096-byte leak one class up."""
    def classes(i):
        return [[11, 110 * i, 110 * 3000 * i, 100 * 256 * i, 100 * 3000 * i]]

    def stacks(i):
        return [[2, "alloc", 100 * 4096 * i, 100 * i]]
    wins = synthetic(tmp_path / "a.jsonl", 5, stacks, classes, share=0.1)
    assert wins[-1]["alloc"]["preattach_free_bytes_delta"] == 300000
    for w in wins[1:]:
        ev = leaks(w)[0]["evidence"]
        assert ev["preattach_bytes"] == 0 and ev["bytes_delta"] == 409600


@pytest.mark.parametrize("row", [[48, 1, 1, 1, 1], [9, -1, 1, 1, 1], [9, 1, 1, 1], "x"])
def test_synthetic_bad_free_class_row_is_one_error(tmp_path, row):
    res = run(["report", write_bad(tmp_path / "bad.jsonl", row)])
    assert res.returncode == 1 and "free class" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def write_bad(path, row):
    lines = [HEADER]
    for i in range(2):
        lines.append({"type": "sample", "t": 1e9 + 10 * i, "pid": 100, "comm": "synthetic",
                      "totals": {"rss": 1, "pss": 1, "anon": 1, "swap": 0},
                      "alloc": {"duty": 1, "share": 1, "free_classes": [row]}})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path
