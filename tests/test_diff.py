# SPDX-License-Identifier: GPL-2.0-only
"""diff of two saved smaps files: exact deltas, merged/split VMAs, same keys as watch."""
import json
import os
import re

from conftest import MIB, region, run, within


def save_smaps(pid, path):
    path.write_bytes(open(f"/proc/{pid}/smaps", "rb").read())
    return path


def diff_json(old, new):
    res = run(["diff", old, new, "--json"], check=0)
    return json.loads(res.stdout)


def test_diff_reports_heap_and_anon_growth(target, tmp_path):
    t = target("grow_heap_anon", 48, 32)
    old = save_smaps(t.pid, tmp_path / "old.smaps")
    t.go()
    new = save_smaps(t.pid, tmp_path / "new.smaps")
    d = diff_json(old, new)
    assert within(region(d, "[heap]")["rss_delta"], 48 * MIB)
    assert within(region(d, "[anon]")["rss_delta"], 32 * MIB)
    assert within(d["totals_delta"]["rss"], 80 * MIB)
    assert set(d["totals"]) >= {"rss", "pss", "anon", "swap", "fds"}
    assert d["totals"]["fds"] is None  # a smaps file says nothing about fds
    for r in d["regions"]:
        assert set(r) >= {"name", "kind", "rss", "rss_delta", "private_dirty", "swap"}


def test_diff_matches_watch(target, watch, tmp_path):
    """The same growth seen by watch --json and by diff on saved copies agrees within 2%."""
    t = target("grow_heap_anon", 48, 32)
    old = save_smaps(t.pid, tmp_path / "old.smaps")
    w = watch("watch", t.pid, "-i", "3", "-n", "1", "--json", "--no-bpf")
    t.go()
    new = save_smaps(t.pid, tmp_path / "new.smaps")
    win = w.json_windows(timeout=30)[0]
    d = diff_json(old, new)
    for name in ("[heap]", "[anon]"):
        assert within(region(d, name)["rss_delta"], region(win, name)["rss_delta"])


def test_identical_files_show_no_change(target, tmp_path):
    t = target("grow_heap_anon", 1, 1)
    old = save_smaps(t.pid, tmp_path / "a.smaps")
    d = diff_json(old, old)
    assert d["totals_delta"]["rss"] == 0
    assert all(r["rss_delta"] == 0 for r in d["regions"])


def split_first_anon_vma(text):
    """Splits the first multi-page anonymous rw-p VMA into two halves, figures halved."""
    blocks = re.split(r"(?m)^(?=[0-9a-f]+-[0-9a-f]+ )", text)
    for i, b in enumerate(blocks):
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0\s*\n", b)
        if not m:
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        pages = (end - start) // 4096
        if pages < 2:
            continue
        mid = start + (pages // 2) * 4096
        body = b[m.end():]
        halves = []
        for lo, hi, share in ((start, mid, 0), (mid, end, 1)):
            def halve(mm):
                v = int(mm.group(2))
                part = (v // 8) * 4 if share == 0 else v - (v // 8) * 4
                return f"{mm.group(1)}{part} kB"
            new_body = re.sub(r"(?m)^(\w+:\s+)(\d+) kB", halve, body)
            halves.append(f"{lo:x}-{hi:x} rw-p 00000000 00:00 0 \n{new_body}")
        blocks[i] = "".join(halves)
        return "".join(blocks)
    raise AssertionError("no anonymous VMA to split")


def test_split_vmas_cause_no_phantom_delta(target, tmp_path):
    t = target("grow_heap_anon", 0, 8)
    t.go()
    old = save_smaps(t.pid, tmp_path / "old.smaps")
    new = tmp_path / "new.smaps"
    new.write_text(split_first_anon_vma(old.read_text()))
    d = diff_json(old, new)
    assert all(r["rss_delta"] == 0 for r in d["regions"]), \
        [(r["name"], r["rss_delta"]) for r in d["regions"] if r["rss_delta"]]
    assert region(d, "[anon]")["vmas"] == region(diff_json(old, old), "[anon]")["vmas"] + 1


def test_diff_text_output(target, tmp_path):
    t = target("grow_heap_anon", 4, 0)
    old = save_smaps(t.pid, tmp_path / "old.smaps")
    t.go()
    new = save_smaps(t.pid, tmp_path / "new.smaps")
    res = run(["diff", old, new], check=0)
    assert "[heap]" in res.stdout and "+4.0 MiB" in res.stdout
    assert max(len(line) for line in res.stdout.splitlines()) <= 80


def test_diff_reads_standard_input_and_warns_on_swapped_files(target, tmp_path):
    """`cat /proc/PID/smaps | memsleuth diff saved -`; files given newest first are
    compared as given, with a warning that the deltas read backwards."""
    t = target("grow_heap_anon", 16, 0)
    old = save_smaps(t.pid, tmp_path / "old.smaps")
    t.go()
    with open(f"/proc/{t.pid}/smaps", "rb") as live:
        res = run(["diff", old, "-", "--json"], check=0, stdin=live)
    assert res.stderr == "", res.stderr
    d = json.loads(res.stdout)
    assert d["new"] == "-" and within(region(d, "[heap]")["rss_delta"], 16 * MIB), d
    new = save_smaps(t.pid, tmp_path / "new.smaps")
    os.utime(old, (1e9, 1e9))
    res = run(["diff", new, old, "--json"], check=0)
    assert within(-region(json.loads(res.stdout), "[heap]")["rss_delta"], 16 * MIB)
    assert res.stderr.strip() == (f"memsleuth: {old} was saved before {new}: the deltas read "
                                  "backwards (OLD_SMAPS comes first)"), res.stderr
    # Standard input as OLD (zcat old.gz | ...) has no time: no warning, and no duration.
    with open(old, "rb") as saved:
        res = run(["diff", "-", new], check=0, stdin=saved)
    assert res.stderr == "" and res.stdout.startswith(
        "== diff (the time between the two is unknown)\n  old  (time unknown)       -\n"), res
    res = run(["diff", "-", "-"], check=2)
    assert "only one of the two files can be '-'" in res.stderr
