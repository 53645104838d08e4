# SPDX-License-Identifier: GPL-2.0-only
"""The findings in top: real detectors on live targets and on recordings, and the stacks behind them."""
import json
import re

import pytest

from conftest import MIB, require_root
from topview import (REGION_COLUMNS, SEVERITY, T0, UTF8, assert_summary_shown, finding_lines,
                     go_nowait, header_rss, region_row, report_windows, sample_line,
                     top)  # noqa: F401 (top: a fixture)

CHUNK = 64 * 1024


@pytest.mark.parametrize("width,height", [(80, 24), (120, 40)])
def test_sizes_show_pid_rss_deltas_and_real_findings(target, top, tmp_path, width, height):
    """A heap leak raises rss_growth and a verdict after two windows; report agrees."""
    rec = tmp_path / "live.jsonl"
    t = target("grow_modes", "leak", 60)
    r = top("top", t.pid, "-i", "2", "--no-bpf", "-o", rec, width=width, height=height,
            env=UTF8)
    r.term.wait_for(rf"pid {t.pid} grow_modes")
    go_nowait(t)
    text = r.term.wait_for(lambda s: re.search(r"^ WARN  rss_growth ", s, re.M) and
                           re.search(r"^ \[heap\] .* \+\d", s, re.M), timeout=60)
    r.term.keys("q")
    assert r.status() == 0
    assert re.search(rf"^ memsleuth  pid {t.pid} grow_modes", text, re.M), text
    assert header_rss(text) > 1 * MIB
    assert re.search(r"\+[\d.]+ (KiB|MiB)", region_row(text, "[heap]")), text
    lines = text.split("\n")
    assert all(len(l) <= width for l in lines) and len(lines) <= height
    # What the strip showed is what the analyzer says of that window, read back by report.
    index = int(re.search(r"FINDINGS  window #(\d+)", text).group(1))
    found = report_windows(rec)[index - 1]["findings"]
    shown = [(sev, label.split(" ")[0], summary) for sev, label, summary in finding_lines(text)]
    # One line per kind, the verdict first, then in the analyzer's order (most severe first).
    kinds = list(dict.fromkeys(f["kind"] for f in found))
    assert [k for _, k, _ in shown] == ["verdict"] + [k for k in kinds if k != "verdict"], text
    for sev, kind, summary in shown:
        f = next(f for f in found if f["kind"] == kind)
        assert sev == SEVERITY[f["severity"]]
        assert_summary_shown(summary, f["summary"])
    assert "rss_growth" in [k for _, k, _ in shown] and "verdict" in [k for _, k, _ in shown]


@pytest.mark.bpf
def test_alloc_names_the_leak_and_its_stacks(target, top):
    """top --alloc: malloc stacks from real probes, and the leak detector naming leak_slowly."""
    require_root("the malloc probes need root")
    t = target("alloc_leak", 16 * MIB, 4096, 20)
    # 40 rows: the leak's evidence (a dozen keys) and its frames fit on one screen.
    r = top("top", t.pid, "-i", "2", "--alloc", "--alloc-duty", "20", "--stack-rate", "200",
            env=UTF8, height=40)
    r.term.wait_for(r"on: smaps fds arenas bpf alloc\b")
    go_nowait(t)
    text = r.term.wait_for(r"^ (CRIT|WARN)  leak\b", timeout=60)
    r.term.keys("5")
    # One row for the site: a stack walked before its unwinding rules were learned is cut
    # and is another call path of the same row.
    text = r.term.wait_for(
        r"^ alloc .*  leak_slowly( \(alloc_leak\.c:\d+\)| \[\d call paths\])$")
    kinds = set(re.findall(r"^ (alloc|mmap|brk|fault|fd) ", text, re.M))
    assert {"alloc", "brk", "fault"} <= kinds, text
    rows = [l for l in text.split("\n") if re.match(r" alloc .*leak_slowly", l)]
    assert len(rows) == 1, text
    assert re.match(r" alloc +\+[\d.]+ (KiB|MiB) +\+\d+ +[\d.]+ (KiB|MiB)  leak_slowly", rows[0]), \
        rows[0]
    # The leak expands to its evidence and its frames.
    r.term.keys("1")
    r.term.wait_for(r"^ FINDINGS  window #\d+ \(2s\)")
    r.term.keys("Enter")
    text = r.term.wait_for(r"^      stack_kind: alloc$")
    assert re.search(r"^      malloc from leak_slowly\+0x[0-9a-f]+ \(alloc_leak\.c:\d+\) holds ",
                     text, re.M), text
    assert re.search(r"^      run_bytes: [\d.]+ (KiB|MiB) \(\d+ B\)$", text, re.M), text
    assert re.search(r"^        leak_slowly\+0x[0-9a-f]+ \(alloc_leak\.c:\d+\)$", text, re.M), text
    assert re.search(r"^        run\+0x[0-9a-f]+ \(alloc_leak\.c:\d+\)$", text, re.M), text
    r.term.keys("q")
    assert r.status() == 0


@pytest.mark.bpf
def test_stacks_panel_shows_mmap_stacks(target, top):
    require_root("the growth probes need root")
    t = target("mmap_direct")
    r = top("top", t.pid, "-i", "60", env=UTF8)
    r.term.wait_for(r"on: smaps fds arenas bpf\b")
    t.go()
    r.term.keys("5")
    # The site column skips the C library's wrappers: mmap_direct's own code shows. map_one
    # (inlined in its callers) is the site of map_here's 8 MiB, cxx_map's 2 MiB and
    # map_then_trim_here's 3 MiB: one row, its call paths counted.
    text = r.term.wait_for(r"^ mmap +\+13\.0 MiB +\+1\d +13\.0 MiB  map_one \[\d call paths\]$")
    assert re.search(r"^ mmap +\+12\.0 MiB +\+3 +12\.0 MiB  big_alloc_here \(mmap_direct\.c:\d+\)$",
                     text, re.M), text
    assert re.search(r"^ fault ", text, re.M), text
    # Sorted by kind, mmap first (largest change first): the first row is map_one's, and its
    # first call path map_here's, the largest.
    r.term.keys("s", "s")
    r.term.wait_for(r"^ KIND\* ")
    r.term.keys("Enter")
    text = r.term.wait_for(r"^    path 1 of \d: \+8\.0 MiB, \+8 calls$")
    assert re.search(r"^      __mmap64 \[inlined\] \(mmap64\.c:\d+\)$", text, re.M), text
    assert re.search(r"^      map_here\+0x[0-9a-f]+ \(mmap_direct\.c:\d+\)$", text, re.M), text
    assert re.search(r"^      main\+0x[0-9a-f]+ \(mmap_direct\.c:\d+\)$", text, re.M), text
    r.term.keys("q")
    assert r.status() == 0


def write_findings_recording(path):
    """Three 10 s windows whose data makes every detector fire (see analyzer/detect_*.c).

    pool_grow maps 1 to 3 chunks of 64 KiB a second into [anon:chunk pool], each an mmap
    event (chunk_steps, quantum from the events; the chunks stay, a critical leak too);
    a thread arena holds 6 MiB free of 8 MiB and 64 KiB more free each second
    (arena_fragmentation, a warning once it has grown two windows); sockets +2 a second
    with a limit of 1024 (fd_growth, critical: the limit is minutes away); leaky_alloc
    keeps 4 KiB a second in [heap] (leak, warn) while a cache fills once and stays (no
    leak); map_ring maps 1044 KiB a second that [anon] gains (leak, critical, and with
    the pool mmap_growth); RSS follows (rss_growth, verdict).
    """
    frames = {1: ["leaky_alloc+0x1a (leak.c:42)", "handle_request+0x88 (server.c:120)",
                  "main+0x20 (main.c:10)"],
              2: ["cache_put+0x10 (cache.c:12)", "main+0x20 (main.c:10)"],
              7: ["__socket+0x7 (socket.S:10)", "accept_conn+0x30 (net.c:71)",
                  "main+0x20 (main.c:10)"],
              8: ["open_log+0x12 (log.c:9)", "main+0x20 (main.c:10)"],
              9: ["__mmap64 [inlined] (mmap64.c:58)", "map_ring+0x44 (ring.c:50)",
                  "main+0x20 (main.c:10)"],
              10: ["brk+0x7 (brk.c:37)", "__sbrk+0x95 (sbrk.c:74)",
                   "leaky_alloc+0x1a (leak.c:42)", "main+0x20 (main.c:10)"],
              11: ["__mmap64 [inlined] (mmap64.c:58)", "pool_grow+0x2c (pool.c:31)",
                   "main+0x20 (main.c:10)"]}
    lines = [{"format": "memsleuth-recording", "version": 1, "created": T0, "pid": 4343,
              "comm": "findingsd", "window_s": 10.0, "tick_s": 1.0, "bpf": True,
              "alloc": True, "host": "fixture", "kernel": "6.0",
              "region_columns": REGION_COLUMNS}]
    lines += [{"type": "stack", "id": k, "frames": v} for k, v in frames.items()]
    pool = 0
    for i in range(31):
        chunks = (1 + i % 3) if i else 0
        pool += chunks * CHUNK
        heap = 16 * MIB + i * 4096
        anon = 4 * MIB + i * (MIB + 20 * 1024)
        arena = 8 * MIB + i * CHUNK
        regions = [["[heap]", "heap", 1, heap, heap, heap, heap, heap, 0],
                   ["[anon]", "anon", 3, anon, anon, anon, anon, anon, 0],
                   ["[anon:chunk pool]", "anon", 1 + i, pool, pool, pool, pool, pool, 0],
                   ["[arena 0x7f0000000000]", "arena", 2, 64 * MIB, arena, arena, arena,
                    arena, 0],
                   ["/usr/lib/libc.so.6", "file", 5, 2 * MIB, 2 * MIB, MIB, 0, 0, 0]]
        arenas = [{"addr": 0x7ffff7e19c80, "main": True, "threads": 1, "heaps": 0,
                   "system": heap, "max_system": heap, "top": 64 * 1024, "free": 256 * 1024,
                   "live": -1, "rss": heap, "reclaimable": 0},
                  {"addr": 0x7f0000000020, "main": False, "threads": 2, "heaps": 1,
                   "system": arena, "max_system": arena, "top": 64 * 1024,
                   "free": arena - 2 * MIB, "live": -1, "rss": arena, "reclaimable": MIB,
                   "fragmentation": (arena - 2 * MIB) / arena}]
        stacks = [[1, "alloc", i * 4096, i], [2, "alloc", min(i, 4) * 64 * 1024, min(i, 4)],
                  [7, "fd", 0, 10 + 2 * i], [8, "fd", 0, 3],
                  [9, "mmap", i * (MIB + 20 * 1024), i], [10, "brk", i * 4096, i],
                  [11, "mmap", pool, pool // CHUNK]]
        events = [[T0 + i - 0.5, "mmap", CHUNK, 0x7e0000000000 + pool - k * CHUNK, 11]
                  for k in range(chunks)]
        lines.append(sample_line(T0 + i, 4343, "findingsd", regions, 10 + 2 * i, arenas,
                                 stacks, events))
    lines.append({"type": "end", "t": T0 + 31, "reason": "stopped"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_replay_real_findings_most_severe_first_and_expand(top, tmp_path):
    """The analyzer's own findings, as report derives them, fill the Findings panel."""
    rec = write_findings_recording(tmp_path / "findings.jsonl")
    windows = report_windows(rec)
    assert len(windows) == 3
    # Fragmentation is a state, seen at once; growth needs two windows to be a trend.
    assert [f["kind"] for f in windows[0]["findings"]] == ["arena_fragmentation"]
    found = windows[2]["findings"]
    # What the recording was made to show, as the detectors compute it, most severe first.
    assert [(f["kind"], f["severity"]) for f in found] == [
        ("fd_growth", "critical"), ("leak", "critical"), ("leak", "critical"),
        ("chunk_steps", "warn"), ("arena_fragmentation", "warn"), ("leak", "warn"),
        ("mmap_growth", "warn"), ("rss_growth", "warn"), ("verdict", "warn")]
    fd, ring, pool, steps, frag, leak = (f["evidence"] for f in found[:6])
    assert fd["fds_per_s"] == pytest.approx(2.0)
    assert fd["seconds_to_limit"] == pytest.approx((1024 - 73) / 2.0)
    assert ring["bytes_delta"] == 10 * (MIB + 20 * 1024) and ring["stack_kind"] == "mmap"
    assert pool["stack_kind"] == "mmap" and pool["count"] == 60
    # The pool's steps: 19 chunks in 10 bursts in the last window, sized by the mmap events;
    # ten growing ticks of ten on a multiple of 64 KiB, (3/16)^10 by chance.
    assert steps == {"quantum": CHUNK, "steps": 19, "bursts": 10, "tries": 10,
                     "chance": pytest.approx((3 / 16) ** 10), "bytes": 19 * CHUNK,
                     "growth": 19 * CHUNK, "quantum_source": "events",
                     "region": "[anon:chunk pool]"}, steps
    assert found[3]["frames"][1] == "pool_grow+0x2c (pool.c:31)"
    assert frag["free_resident"] == 6 * MIB + 30 * CHUNK and frag["threads"] == 2
    assert leak["stack_kind"] == "alloc" and leak["run_bytes"] == 30 * 4096
    # Summaries name the code that mapped, not the C library's mmap wrapper.
    assert found[1]["summary"].startswith("mmap from map_ring+0x44 (ring.c:50) holds 30.6 MiB "
                                          "more over 3 windows"), found[1]["summary"]
    assert found[1]["frames"][0] == "__mmap64 [inlined] (mmap64.c:58)"

    r = top("top", "--replay", rec, env=UTF8, height=40)
    term = r.term
    term.wait_for(r"REPLAY 11/31")
    term.keys(">")
    text = term.wait_for(r"REPLAY 31/31 .*end of the recording")
    assert re.search(r"FINDINGS  window #3 \(10s\)", text), text
    # The strip: one line per kind, counted: the verdict (the answer) first, then the
    # others most severe first.
    strip = [(sev, label) for sev, label, _ in finding_lines(text)]
    assert strip == [("WARN", "verdict"), ("CRIT", "fd_growth"), ("CRIT", "leak \u00d73"),
                     ("WARN", "chunk_steps"), ("WARN", "arena_fragmentation"),
                     ("WARN", "mmap_growth"), ("WARN", "rss_growth")], text
    # At 80x24 it keeps the verdict and the four most severe other kinds and points to the
    # rest.
    term.resize(80, 24)
    text = term.wait_for(r"^ \.\.\. 2 more kinds: 1 opens the Findings panel$")
    assert [(sev, label) for sev, label, _ in finding_lines(text)] == strip[:5], text
    for (_, label, summary), f in zip(finding_lines(text), found[8:] + found[:2] + found[3:5]):
        assert_summary_shown(summary, f["summary"])
        # Cut at a word, and a figure keeps its unit.
        assert summary.endswith("\u2026") and not re.search(r"\d\u2026$", summary), text
    term.resize(80, 50)
    term.keys("1")
    text = term.wait_for(r"^ FINDINGS  window #3 \(10s\)")
    # Above the Findings panel the verdict keeps its own line, then every finding follows.
    verdict, *shown = finding_lines(text)
    assert verdict[:2] == ("WARN", "verdict"), text
    assert_summary_shown(verdict[2], found[8]["summary"])
    assert [(sev, kind) for sev, kind, _ in shown] == [(SEVERITY[f["severity"]], f["kind"])
                                                      for f in found], text
    for (_, _, summary), f in zip(shown, found):
        assert_summary_shown(summary, f["summary"])
        assert len(summary) > 20
    # Enter on the first row: fd_growth's evidence, in units, and its opener's frames.
    term.keys("Enter")
    text = term.wait_for(r"^      seconds_to_limit: 7m56s \(475\.5 s\)$")
    assert re.search(r"^      fds: 73$", text, re.M), text
    assert re.search(r"^      limit: 1024$", text, re.M), text
    assert re.search(r"^        accept_conn\+0x30 \(net\.c:71\)$", text, re.M), text
    # The fourth row, chunk_steps: the stack of the steps' mmaps, the quantum in units.
    term.keys("Down", "Down", "Down", "Enter")
    # Drawn top to bottom: wait for the frames and the evidence below them.
    text = term.wait_for(lambda t: all(re.search(x, t, re.M) for x in (
        r"^        pool_grow\+0x2c \(pool\.c:31\)$", r"^      quantum_source: ")))
    assert re.search(r"^      quantum: 64\.0 KiB \(65536 B\)$", text, re.M), text
    # A probability keeps its figures: (3/16)^10 is not 0%.
    assert re.search(r"^      chance: 5\.4e-06%$", text, re.M), text
    assert re.search(r"^      quantum_source: events$", text, re.M), text
    assert "accept_conn" not in text, "one finding is expanded at a time"
    # The sixth row, the warn leak: the whole summary wrapped, every figure, every frame.
    term.keys("Down", "Down", "Enter")
    text = term.wait_for(lambda t: all(re.search(x, t, re.M) for x in (
        r"^        leaky_alloc\+0x1a \(leak\.c:42\)$", r"^      bytes_per_s: ")))
    # Every figure a person reads; not the identifiers that join JSON objects, nor flags
    # that are off.
    for key in leak:
        shown = key not in ("stack_id", "alloc") and (key != "lower_bound" or leak[key])
        assert bool(re.search(rf"^      {key}: ", text, re.M)) == shown, (key, text)
    assert re.search(r"^      run_bytes: 120 KiB \(122880 B\)$", text, re.M), text
    assert re.search(r"^      bytes_per_s: 4\.0 KiB/s$", text, re.M), text
    assert re.search(r"^        handle_request\+0x88 \(server\.c:120\)$", text, re.M), text
    assert found[5]["summary"] in " ".join(text.split()), text
    r.term.keys("q")
    assert r.status() == 0
