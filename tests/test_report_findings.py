# SPDX-License-Identifier: GPL-2.0-only
"""`report` re-derives the live run's findings; synthetic recordings cover the edge cases."""
import json

import pytest

from conftest import MIB, run

COLUMNS = ["name", "kind", "vmas", "size", "rss", "pss", "anon", "private_dirty", "swap"]


def findings_of(windows):
    return [[(f["kind"], f["severity"], f["summary"], f["evidence"], f["frames"])
             for f in w["findings"]] for w in windows]


@pytest.mark.parametrize("mode", ["fragment", "fds"])
def test_report_prints_the_live_findings(target, watch, tmp_path, mode):
    rec = tmp_path / "rec.jsonl"
    t = target("grow_modes", mode, 7)
    w = watch("watch", t.pid, "-i", "2", "-n", "3", "--tick", "0.5", "--json", "--no-bpf",
              "-o", rec)
    t.go(timeout=30)
    live = w.json_windows(timeout=40)
    assert any(win["findings"] for win in live)
    res = run(["report", rec, "--json"], check=0)
    offline = [json.loads(line) for line in res.stdout.splitlines()]
    assert findings_of(offline) == findings_of(live)
    assert [win["arenas"] for win in offline] == [win["arenas"] for win in live]
    assert [win["arena_read"] for win in offline] == [win["arena_read"] for win in live]
    # The text report wraps summaries at 80 columns: compare with white space folded.
    text = " ".join(run(["report", rec], check=0).stdout.split())
    for win in live:
        for f in win["findings"]:
            assert " ".join(f"{f['kind']}: {f['summary']}".split()) in text


class Recording:
    """Writes a recording in memsleuth's format, sample by sample."""

    def __init__(self, path, window_s=10, pid=100):
        self.path = path
        self.lines = [{"format": "memsleuth-recording", "version": 1, "created": 1e9,
                       "pid": pid, "comm": "synthetic", "window_s": window_s,
                       "tick_s": window_s, "bpf": True, "alloc": True,
                       "region_columns": COLUMNS}]
        self.defined = set()

    def stack(self, sid, frames):
        if sid not in self.defined:
            self.lines.append({"type": "stack", "id": sid, "frames": frames})
            self.defined.add(sid)

    def sample(self, t, pid=100, rss=64 * MIB, heap=None, fds=None, stacks=None, lost=0,
               arenas=None, extra=None):
        s = {"type": "sample", "t": t, "pid": pid, "comm": "synthetic", "allocator": "glibc",
             "threads": 1, "totals": {"rss": rss, "pss": rss, "anon": rss, "swap": 0,
                                      "size": 2 * rss},
             "bpf": True, "lost_events": lost}
        if heap is not None:
            s["regions"] = [["[heap]", "heap", 1, heap, heap, heap, heap, heap, 0],
                            ["/bin/x", "file", 2, 4 * MIB, rss - heap, rss - heap, 0, 0, 0]]
        if fds is not None:
            s["fds"] = {"total": fds, "limit": 1024, "by_type": {"socket": fds}}
        if stacks is not None:
            s["stacks"] = stacks
        if arenas is not None:
            s["arenas"] = arenas
        s.update(extra or {})
        self.lines.append(s)

    def write(self, end=True):
        if end:
            self.lines.append({"type": "end", "t": 2e9, "reason": "stopped"})
        self.path.write_text("".join(json.dumps(x) + "\n" for x in self.lines))
        return self.path


def report(path):
    res = run(["report", path, "--json"], check=0)
    return [json.loads(line) for line in res.stdout.splitlines()]


def kinds(win):
    return [f["kind"] for f in win["findings"]]


def test_leak_stack_rising_across_windows(tmp_path):
    rec = Recording(tmp_path / "leak.jsonl")
    rec.stack(1, ["leaky_alloc+0x1a (leak.c:42)", "handle_request (server.c:88)", "main"])
    rec.stack(2, ["cache_put+0x10 (cache.c:12)", "main"])
    rec.stack(3, ["scratch+0x8 (work.c:7)", "main"])
    rec.stack(4, ["map_segment+0x20 (seg.c:30)", "main"])
    for i in range(5):
        leak = i * MIB                          # +1 MiB per window, never freed
        cache = min(i, 1) * 4 * MIB             # fills in the first window, then stays
        churn = 512 * 1024                      # steady
        mapped = i * 2 * MIB                    # mmap'd and never unmapped
        rec.sample(i * 10.0, heap=8 * MIB + leak + cache, rss=64 * MIB + leak + cache + mapped,
                   stacks=[[1, "alloc", leak, i * 1024], [2, "alloc", cache, min(i, 1) * 4096],
                           [3, "alloc", churn, 512], [4, "mmap", mapped, i]])
    windows = report(rec.write())
    assert len(windows) == 4
    assert "leak" not in kinds(windows[0])
    for n, win in enumerate(windows[1:], start=2):
        leaks = [f for f in win["findings"] if f["kind"] == "leak"]
        assert len(leaks) == 2, win["findings"]
        by_kind = {f["evidence"]["stack_kind"]: f for f in leaks}
        alloc, mmap = by_kind["alloc"], by_kind["mmap"]
        assert alloc["frames"][0] == "leaky_alloc+0x1a (leak.c:42)"
        assert alloc["evidence"]["windows"] == n
        assert alloc["evidence"]["run_bytes"] == n * MIB
        assert alloc["evidence"]["bytes_per_s"] == pytest.approx(MIB / 10)
        assert mmap["frames"][0] == "map_segment+0x20 (seg.c:30)"
        assert mmap["evidence"]["run_bytes"] == n * 2 * MIB
    verdict = [f for f in windows[-1]["findings"] if f["kind"] == "verdict"][0]
    assert verdict["evidence"]["bytes_leak"] == 3 * MIB
    assert verdict["evidence"]["share_leak"] == pytest.approx(1.0)


def test_target_restart_starts_the_history_over(tmp_path):
    rec = Recording(tmp_path / "restart.jsonl")
    for i in range(4):
        rec.sample(i * 10.0, pid=100, rss=64 * MIB + i * 8 * MIB, heap=8 * MIB + i * 8 * MIB,
                   fds=10 + i * 20)
    for i in range(3):
        rec.sample(40.0 + i * 10.0, pid=200, rss=32 * MIB + i * 8 * MIB,
                   heap=8 * MIB + i * 8 * MIB, fds=5 + i * 20)
    windows = report(rec.write())
    assert [w["pid"] for w in windows] == [100, 100, 100, 200, 200]
    assert "rss_growth" not in kinds(windows[0])
    assert "rss_growth" in kinds(windows[1]) and "fd_growth" in kinds(windows[1])
    # The restarted process's first window is a first window again: no trend yet.
    assert kinds(windows[3]) == []
    assert "rss_growth" in kinds(windows[4]) and "fd_growth" in kinds(windows[4])
    g = [f for f in windows[4]["findings"] if f["kind"] == "rss_growth"][0]
    assert g["evidence"]["windows"] == 2


def test_counters_going_down_raise_nothing(tmp_path):
    rec = Recording(tmp_path / "down.jsonl")
    rec.stack(1, ["shrinking (a.c:1)"])
    for i in range(5):
        rec.sample(i * 10.0, rss=256 * MIB - i * 16 * MIB, heap=128 * MIB - i * 16 * MIB,
                   fds=500 - i * 100, lost=100 - i * 20,
                   stacks=[[1, "alloc", 64 * MIB - i * 8 * MIB, 1000 - i * 100]])
    windows = report(rec.write())
    assert len(windows) == 4
    for w in windows:
        assert w["findings"] == []
        assert w["lost_events"] >= 0
        assert w["totals_delta"]["rss"] == -16 * MIB


def test_missing_fields_are_tolerated(tmp_path):
    rec = Recording(tmp_path / "sparse.jsonl")
    unwalked = [{"addr": 4096, "main": True, "system": 64 * MIB, "top": MIB}]
    rec.sample(0.0)                                         # totals only
    rec.sample(10.0, rss=80 * MIB, arenas=unwalked)         # arenas without free lists
    rec.sample(20.0, rss=96 * MIB, heap=40 * MIB)           # regions appear
    rec.sample(30.0, rss=112 * MIB, fds=3, arenas=unwalked)
    rec.sample(40.0, rss=128 * MIB)
    windows = report(rec.write(end=False))
    assert len(windows) == 4
    for w in windows:
        assert "arena_fragmentation" not in kinds(w)
        assert "fd_growth" not in kinds(w)
    # Without regions at both ends a window has no RSS trend to speak of.
    assert "rss_growth" not in kinds(windows[0])
    assert windows[1]["arenas"][0]["free"] is None


def test_fd_and_mmap_findings_name_their_stacks(tmp_path):
    rec = Recording(tmp_path / "stacks.jsonl")
    rec.stack(7, ["accept_conn+0x30 (net.c:71)", "event_loop (net.c:20)", "main"])
    rec.stack(8, ["open_log+0x12 (log.c:9)", "main"])
    rec.stack(9, ["map_ring+0x44 (ring.c:50)", "main"])
    for i in range(4):
        anon = 8 * MIB + i * 4 * MIB
        rec.sample(i * 10.0, rss=64 * MIB + i * 4 * MIB, fds=20 + i * 30,
                   stacks=[[7, "fd", 0, 10 + i * 28], [8, "fd", 0, 10 + i * 2],
                           [9, "mmap", i * 4 * MIB, i]],
                   extra={"regions": [["[anon]", "anon", 3, anon, anon, anon, anon, anon, 0],
                                      ["[heap]", "heap", 1, 56 * MIB, 56 * MIB, 0, 0, 0, 0]]})
    windows = report(rec.write())
    last = windows[-1]
    fd = [f for f in last["findings"] if f["kind"] == "fd_growth"][0]
    assert fd["frames"][0] == "accept_conn+0x30 (net.c:71)"
    assert fd["evidence"]["top_stack_new_fds"] == 28
    assert fd["evidence"]["second_stack"] == "open_log+0x12 (log.c:9)"
    assert fd["evidence"]["seconds_to_limit"] == pytest.approx((1024 - 110) / 3.0)
    mm = [f for f in last["findings"] if f["kind"] == "mmap_growth"][0]
    assert mm["frames"][0] == "map_ring+0x44 (ring.c:50)"
    assert mm["evidence"]["anon_delta"] == 4 * MIB
    verdict = [f for f in last["findings"] if f["kind"] == "verdict"][0]
    # The mapping stack rises window after window: a leak of mapped memory, not "other".
    assert verdict["evidence"]["cause"] == "leak"
    assert verdict["evidence"]["bytes_mmap_growth"] == 0


def test_verdict_counts_an_arena_not_walked_by_its_rss(tmp_path):
    """A thread held one arena's lock at the freeze: the other arenas' walks still split
    the growth, and that arena's RSS growth counts as malloc heap."""
    rec = Recording(tmp_path / "busy.jsonl")
    frag, held = 0x7f0000000030, 0x7f0004000030
    for i in range(4):
        grown, busy = 8 * MIB * (i + 1), 4 * MIB * (i + 1)
        arenas = [{"addr": 0x7fff0000, "main": True, "system": 8 * MIB, "top": MIB, "free": 0,
                   "rss": 8 * MIB},
                  # All its new memory is free: fragmentation, 8 MiB a window.
                  {"addr": frag, "system": grown, "top": 65536, "free": grown - 65536,
                   "rss": grown},
                  # Live memory, 4 MiB a window; its lock held at the last two freezes.
                  {"addr": held, "system": busy, "top": 65536, "rss": busy}]
        if i < 2:
            arenas[2]["free"] = 0
        arena_rss = 12 * MIB * (i + 1)
        rec.sample(i * 10.0, rss=64 * MIB + arena_rss, arenas=arenas, extra={"regions": [
            ["[heap]", "heap", 1, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 0],
            ["[arena 0x7f0000000000]", "arena", 2, arena_rss, arena_rss, arena_rss, arena_rss,
             arena_rss, 0]]})
    windows = report(rec.write())
    assert len(windows) == 3
    for win in windows[1:]:
        verdict = [f for f in win["findings"] if f["kind"] == "verdict"][0]["evidence"]
        assert verdict["cause"] == "arena_fragmentation", verdict
        assert verdict["bytes_arena_fragmentation"] == 8 * MIB, verdict
        assert verdict["bytes_malloc_heap"] == 4 * MIB, verdict
        assert verdict["bytes_live_heap"] == verdict["bytes_other"] == 0, verdict


def test_verdict_counts_a_leak_of_mallocs_own_mappings_once(tmp_path):
    """Blocks malloc maps itself (2 MiB buffers) leak from a mapping stack inside malloc:
    live heap bytes by malloc_mmapped, not outside malloc. The verdict's parts must not
    count them twice, as leak and as live heap."""
    rec = Recording(tmp_path / "mmapped.jsonl")
    rec.stack(9, ["sysmalloc+0x1f0 (malloc.c:2463)", "grow_buffer+0x20 (buf.c:12)"])
    for i in range(4):
        grown = 4 * MIB * i
        arenas = [{"addr": 0x7fff0000, "main": True, "system": 8 * MIB, "top": MIB,
                   "free": 0, "rss": 8 * MIB}]
        rec.sample(i * 10.0, rss=64 * MIB + grown, arenas=arenas, stacks=[[9, "mmap", grown, i]],
                   extra={"regions": [
                       ["[heap]", "heap", 1, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 0],
                       ["[anon]", "anon", 1 + i, grown, grown, grown, grown, grown, 0]],
                       "arena_read": {"frozen": True, "complete": True, "freeze_us": 100,
                                      "debuginfo": True, "glibc_minor": 36,
                                      "malloc_mmapped": grown}})
    windows = report(rec.write())
    for win in windows[1:]:
        verdict = [f for f in win["findings"] if f["kind"] == "verdict"][0]["evidence"]
        assert verdict["cause"] == "leak", verdict
        assert verdict["bytes_leak"] == 4 * MIB, verdict
        assert verdict["bytes_live_heap"] == verdict["bytes_mmap_growth"] == 0, verdict
        assert verdict["share_leak"] == 1.0, verdict


def test_verdict_says_when_its_arena_share_rests_on_a_partial_read(tmp_path):
    """Free space grows 8 MiB a window; the arena read of the last sample was cut short:
    the last window's verdict still names fragmentation, and says that its arena figures
    come from a partial read, as arena_fragmentation says its free bytes are a floor."""
    rec = Recording(tmp_path / "partial.jsonl")
    for i in range(4):
        grown = 8 * MIB * (i + 1)
        arenas = [{"addr": 0x7fff0000, "main": True, "system": 8 * MIB, "top": MIB, "free": 0,
                   "rss": 8 * MIB},
                  {"addr": 0x7f0000000030, "system": grown, "top": 65536,
                   "free": grown - 65536, "rss": grown}]
        rec.sample(i * 10.0, rss=64 * MIB + grown, arenas=arenas, extra={
            "regions": [["[heap]", "heap", 1, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 8 * MIB, 0],
                        ["[arena 0x7f0000000000]", "arena", 1, grown, grown, grown, grown,
                         grown, 0]],
            "arena_read": {"frozen": True, "complete": i < 3, "freeze_us": 100,
                           "debuginfo": True, "glibc_minor": 36, "malloc_mmapped": 0}})
    windows = report(rec.write())
    assert len(windows) == 3
    for win, partial in zip(windows[1:], (0, 1)):
        verdict = [f for f in win["findings"] if f["kind"] == "verdict"][0]
        assert verdict["evidence"]["cause"] == "arena_fragmentation", verdict
        assert verdict["evidence"]["arena_read_partial"] == partial, verdict
        assert ("partial read" in verdict["summary"]) == bool(partial), verdict
        frag = [f for f in win["findings"] if f["kind"] == "arena_fragmentation"][0]
        assert frag["evidence"]["partial_read"] == partial, frag
        assert ("at least" in frag["summary"]) == bool(partial), frag
