# SPDX-License-Identifier: GPL-2.0-only
"""The leak rule over synthetic recordings that carry the malloc records' turnover (what each
stack held at the previous reading, and how much of it is still live): bounded structures
that turn over are no leak whatever they held at attach, a leak must stand out of the
sampling noise, and an established leak stays put until the evidence says otherwise."""
import json

from conftest import run

HEADER = {"format": "memsleuth-recording", "version": 1, "created": 1e9, "pid": 100,
          "comm": "synthetic", "window_s": 10, "tick_s": 10, "bpf": True, "alloc": True,
          "region_columns": ["name", "kind", "vmas", "size", "rss", "pss", "anon",
                             "private_dirty", "swap"]}
FRAMES = {1: ["history_push+0x1b (relay.c:148)", "worker+0x3a (relay.c:300)"],
          2: ["query_result_keep+0x67 (relay.c:179)", "query_lookup+0x10 (relay.c:190)",
              "worker+0x3a (relay.c:300)"],
          3: ["query_result_keep+0x67 (relay.c:179)", "query_lookup+0x10 (relay.c:192)",
              "reply_build+0x22 (relay.c:210)"],
          4: ["lru_put+0xae (relay.c:163)", "worker+0x3a (relay.c:300)"]}


def churn_sq(row):
    """The sum of squared record weights born and freed between readings, for records of
    one size: the collector's figure, from which the sampling noise follows."""
    _, now, recs, held, held_recs, kept, kept_recs = row
    w_now = now / recs if recs else 0
    w_held = held / held_recs if held_recs else 0
    return (recs - kept_recs) * w_now ** 2 + (held_recs - kept_recs) * w_held ** 2


def recording(path, n, ages, share=1.0, lost=0, recorded=10 ** 6, classes=lambda i: [],
              duty=None):
    """n samples 10 s apart, each with a reading of the records' turnover: ages(i) gives rows
    [id, bytes, records, held bytes, held records, kept bytes, kept records] (bytes scaled
    by the share already, as the collector writes them); stack figures follow from them."""
    lines = [HEADER] + [{"type": "stack", "id": k, "frames": v} for k, v in FRAMES.items()]
    for i in range(n):
        rows = [r + [churn_sq(r)] for r in ages(i)]
        alloc = {"estimated": share < 1, "sample_bytes": 0,
                 "duty": duty(i) if duty else share, "share": share,
                 "since": 1e9, "calls": recorded, "frees": recorded, "recorded": recorded,
                 "missed_frees": 0, "lost": lost, "arenas": None, "unmatched_frees": 0,
                 "unmatched_free_bytes": 0, "unmatched_sized": True,
                 "free_classes": classes(i),
                 "ages_since": 1e9 + 10 * (i - 1) if i else 0, "ages": rows}
        lines.append({"type": "sample", "t": 1e9 + 10 * i, "pid": 100, "comm": "synthetic",
                      "allocator": "glibc", "threads": 1,
                      "totals": {"rss": 1 << 26, "pss": 1 << 26, "anon": 1 << 26, "swap": 0},
                      "bpf": True, "lost_events": 0, "alloc": alloc,
                      "stacks": [[r[0], "alloc", r[1], round(r[2] / share)] for r in rows]})
    lines.append({"type": "end", "t": 2e9, "reason": "stopped"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = run(["report", path, "--json"], check=0)
    return [json.loads(line) for line in res.stdout.splitlines()]


def leaks(win):
    return [f for f in win["findings"] if f["kind"] == "leak"]


def ring(i, entries=500, size=3500):
    """A ring recorded at a share of 0.1 that turned over within each window: every record
    held at the previous reading is gone, the ring holds as many new ones."""
    held = entries if i > 1 else 0
    now = entries if i else 0
    return [1, now * size * 10, now, held * size * 10, held, 0, 0]


def test_ring_turning_over_is_no_leak_while_it_fills_since_attach(tmp_path):
    # Its recorded part rose from nothing to the whole ring in the first window, and moves
    # by the sampling noise after: none of it is kept from one reading to the next.
    wins = recording(tmp_path / "ring.jsonl", 7, lambda i: [ring(i)], share=0.1)
    assert len(wins) == 6 and not any(leaks(w) for w in wins)


def cache(i, size=48, n=40000, tau=13.3):
    """A random-replacement cache of n entries filled before attach, at a share of 0.1: of
    the entries recorded since attach, a share exp(-10/tau) survives each window, and the
    recorded part keeps rising for several windows while it replaces pre-attach entries."""
    from math import exp
    frac = lambda k: 1 - exp(-10 * k / tau)   # noqa: E731 (the share recorded after k windows)
    rec = lambda k: round(n * frac(k) / 10)     # noqa: E731 (records: one call in ten)
    kept = round(rec(i - 1) * exp(-10 / tau)) if i > 1 else 0
    return [4, rec(i) * size * 10, rec(i), rec(i - 1) * size * 10 if i > 1 else 0,
            rec(i - 1) if i > 1 else 0, kept * size * 10, kept]


def test_random_replacement_cache_filling_is_no_leak(tmp_path):
    wins = recording(tmp_path / "cache.jsonl", 7, lambda i: [cache(i)], share=0.1)
    # It rose in every window, by more than 16 KiB and beyond the noise...
    stack = [[s for s in w["stacks"] if s["kind"] == "alloc"][0] for w in wins]
    assert all(s["bytes_delta"] > 64 * 1024 for s in stack[:4]), stack
    # ... but it freed half of what it held each window: it turns over.
    assert not any(leaks(w) for w in wins)


def leak(i, per_window=400, size=2300, sid=2):
    """A leak recorded at a share of 0.1: 40 records a window, none ever freed."""
    recs = per_window // 10 * i
    held = per_window // 10 * (i - 1) if i > 1 else 0
    return [sid, recs * size * 10, recs, held * size * 10, held, held * size * 10, held]


def test_leak_named_from_the_third_window_and_kept_named(tmp_path):
    wins = recording(tmp_path / "leak.jsonl", 8, lambda i: [ring(i), leak(i)], share=0.1)
    assert [len(leaks(w)) for w in wins] == [0, 0, 1, 1, 1, 1, 1]
    f = leaks(wins[2])[0]
    ev = f["evidence"]
    assert f["frames"][0].startswith("query_result_keep+"), f
    assert ev["site"] == "query_result_keep" and ev["windows"] == 2, ev
    assert ev["freed_share"] == 0 and ev["run_bytes"] == 2 * 400 * 2300, ev
    # 40 records of 23,000 bytes a window: 3 sd of sqrt(0.9 * 40) * 23,000.
    assert abs(ev["noise"] - 3 * (0.9 * 40) ** 0.5 * 23000) < 2, ev
    assert "a leak, or a structure that only grows" in f["summary"]
    assert "is not freed" not in f["summary"]
    assert [leaks(w)[0]["evidence"]["windows"] for w in wins[2:]] == [2, 3, 4, 5, 6]


def test_rise_within_the_sampling_noise_is_no_leak(tmp_path):
    # 2 records a window, none freed: 46 KB a window, under 3 sd of its own noise (93 KB),
    # and so are four windows of them added up (184 KB under 3 sd of 8 records, 185 KB).
    wins = recording(tmp_path / "few.jsonl", 7, lambda i: [leak(i, per_window=20)], share=0.1)
    assert not any(leaks(w) for w in wins)
    # The same in exact mode has no sampling noise: 9.2 KB a window, under 16 KiB, is none
    # either; 40 blocks a window of 2300 bytes are.
    wins = recording(tmp_path / "exact.jsonl", 7, lambda i: [leak(i, per_window=4)])
    assert not any(leaks(w) for w in wins)


def quiet_then_turning(i):
    """A leak for four windows, then a window with no rise, then its blocks freed."""
    row = leak(min(i, 4))
    if i == 5:          # no rise, nothing freed: the leak stays put
        row = [2, row[1], row[2], row[1], row[2], row[1], row[2]]
    if i == 6:          # what it held is freed: not a leak any more
        row = [2, 0, 0, row[1], row[2], 0, 0]
    return [row]


def test_established_leak_stays_through_a_quiet_window_and_goes_when_freed(tmp_path):
    wins = recording(tmp_path / "quiet.jsonl", 7, quiet_then_turning, share=0.1)
    assert [len(leaks(w)) for w in wins] == [0, 0, 1, 1, 1, 0]
    assert leaks(wins[4])[0]["evidence"]["windows"] == 4


def test_one_finding_per_site_with_its_call_paths(tmp_path):
    wins = recording(tmp_path / "paths.jsonl", 5,
                     lambda i: [leak(i, sid=2), leak(i, per_window=300, sid=3)], share=0.1)
    found = leaks(wins[-1])
    assert len(found) == 1, found
    ev = found[0]["evidence"]
    assert ev["paths"] == 2 and ev["site"] == "query_result_keep", ev
    assert ev["call_paths"] == ("query_lookup+0x10 (relay.c:190) < worker+0x3a (relay.c:300); "
                                "query_lookup+0x10 (relay.c:192) < reply_build+0x22 "
                                "(relay.c:210)"), ev
    assert "2 call paths" in found[0]["summary"]
    assert ev["run_bytes"] == 3 * (400 + 300) * 2300, ev


def test_a_lost_allocation_or_two_qualifies_nothing(tmp_path):
    wins = recording(tmp_path / "lost.jsonl", 4, lambda i: [leak(i)], share=0.1, lost=2,
                     recorded=524288)
    f = leaks(wins[-1])[0]
    assert f["evidence"]["lower_bound"] == 0 and "low" not in f["summary"], f
    assert all(not s["lower_bound"] for s in wins[-1]["stacks"])
    wins = recording(tmp_path / "lost5.jsonl", 4, lambda i: [leak(i)], share=0.1,
                     lost=27594, recorded=524288)
    f = leaks(wins[-1])[0]
    assert f["evidence"]["lower_bound"] == 1 and "figures up to 5% low" in f["summary"], f


def crossings(i, expected=400, size=3000):
    """The duty cycle's noise in one size class (2-4 KiB: class 11): 400 frees a window
    expected unmatched, and 40 more or 40 fewer in turn. Nothing from before attach is
    left there; an excess of 40 (its sd is 28) is noise, which scaled up by the share is
    1.3 MB a window."""
    unmatched = sum(expected + (40 if k % 2 else -40) for k in range(1, i + 1))
    return [[11, unmatched, unmatched * size, expected * i * 256, expected * i * size]]


def test_noise_of_a_class_emptied_of_pre_attach_memory_hides_no_leak(tmp_path):
    # The leak's blocks share the class; its rise of 0.92 MB a window is under the 2.8 MB
    # that 3 sd of the class's estimate make, and stands out of its own noise.
    wins = recording(tmp_path / "noisy.jsonl", 6, lambda i: [leak(i)], share=0.09,
                     classes=crossings)
    assert [len(leaks(w)) for w in wins] == [0, 0, 1, 1, 1], [w["findings"] for w in wins]
    assert all(leaks(w)[0]["evidence"]["preattach_bytes"] == 0 for w in wins[2:])


def test_sparse_leak_stands_out_over_several_windows(tmp_path):
    # 4 records a window, none freed (a leak seen through --alloc-sample): 2.1 sd in one
    # window, 3.7 sd over the three windows since the first reading, in the fourth, and
    # again in the fifth: named there.
    wins = recording(tmp_path / "sparse.jsonl", 7, lambda i: [leak(i, per_window=40)],
                     share=0.1)
    assert [len(leaks(w)) for w in wins] == [0, 0, 0, 0, 1, 1], [w["findings"] for w in wins]
    ev = leaks(wins[4])[0]["evidence"]
    assert ev["windows"] == 2 and ev["run_bytes"] == 2 * 4 * 23000, ev


def test_established_leak_stays_through_windows_the_probes_could_not_see(tmp_path):
    """A machine so loaded that attaching the duty-cycled probes stalled for three windows:
    the leak's figure stands still, which is no evidence that it stopped."""
    def ages(i):
        if i <= 4:
            return [leak(i)]
        row = leak(4)       # from then on it stands still: held then, all kept, no more
        return [[row[0], row[1], row[2], row[1], row[2], row[1], row[2]]]

    def duty(i):
        # 10% of the time until the 4th window's end, then attached for none of it.
        return 0.1 * min(i, 4) / i if i else 0.1
    wins = recording(tmp_path / "blind.jsonl", 8, ages, share=0.1, duty=duty)
    assert [len(leaks(w)) for w in wins] == [0, 0, 1, 1, 1, 1, 1], [w["findings"] for w in wins]
    # Seen, the same standstill is quiet: two such windows keep it, the third ends it.
    wins = recording(tmp_path / "quiet.jsonl", 8, ages, share=0.1)
    assert [len(leaks(w)) for w in wins] == [0, 0, 1, 1, 1, 1, 0], [w["findings"] for w in wins]
