# SPDX-License-Identifier: GPL-2.0-only
"""top without a PID (every process, live; Enter opens one, Esc comes back), and the live view
at 80x24: the verdict always on screen, the selection following its row."""
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from cgroups import memory_group  # noqa: F401 (a fixture)
from conftest import MIB, TARGETS, run
from test_top_findings import write_findings_recording
from topview import (REGION_COLUMNS, T0, UTF8, finding_lines, go_nowait, sample_line,
                     top)  # noqa: F401 (top: a fixture)


def test_top_without_pid_opens_the_growing_process_and_comes_back(target, top):
    t = target("grow_rate", 12, 400)
    go_nowait(t)
    r = top("top", "-i", "4", "--tick", "1", env=UTF8)
    term = r.term
    term.wait_for(r"^ memsleuth  host  \d+ processes, \d+ growing")
    term.wait_for(r"^\s+PID COMM\s+RSS\s+DELTA\*\s+PSS\s+FDS\s+DELTA\s+LIMIT IN$")
    # Find it by PID (/ filters), then see it grow: the + mark, its RSS rising.
    term.keys("/")
    term.type(str(t.pid))
    term.keys("Enter")
    term.wait_for(rf"^ /{t.pid}  \(/ Esc: all\)")
    text = term.wait_for(rf"^\+ +{t.pid} grow_rate +[\d.]+ MiB +\+[\d.]+ MiB ")
    assert re.search(r"1 Processes 1 ", text), text
    # Enter opens it in the per-process view, which says how to come back.
    term.keys("Enter")
    text = term.wait_for(rf"^ memsleuth  pid {t.pid} grow_rate  glibc")
    term.wait_for(r"Esc back\s+h help\s+q quit$")
    term.wait_for(r"^ \[heap\] .* \+[\d.]+ MiB")
    # Esc: back to every process, the filter and the selection as they were.
    term.keys("Escape")
    text = term.wait_for(rf"^\+ +{t.pid} grow_rate ")
    assert re.search(r"^ memsleuth  host  ", text, re.M), text
    term.keys("Escape")
    text = term.wait_for(lambda s: re.search(r"1 Processes (\d+) ", s) and
                         int(re.search(r"1 Processes (\d+) ", s).group(1)) > 1)
    # The cgroups table is a Tab away.
    term.keys("Tab")
    term.wait_for(r"^ CGROUP\s+USAGE\s+DELTA\*\s+LIMIT\s+LIMIT IN$|no cgroup hierarchy has the "
                  r"memory controller here")
    term.keys("q")
    assert r.status() == 0


def test_top_host_view_help_and_count(top):
    r = top("top", "-i", "1", "--tick", "0.5", "-n", "3")
    r.term.wait_for(r"^ memsleuth  host  ")
    r.term.keys("h")
    r.term.wait_for(r"^memsleuth top: which process is growing\?")
    r.term.keys("x")
    # -n: three windows of a second, then it ends by itself.
    assert r.status() == 0


def test_verdict_stays_on_screen_at_80x24_in_every_panel(top, tmp_path):
    """Seven kinds of findings, the verdict among them: at 80x24 its line is on every screen."""
    rec = write_findings_recording(tmp_path / "findings.jsonl")
    r = top("top", "--replay", rec, env=UTF8)
    term = r.term
    term.wait_for(r"REPLAY 11/31")
    term.keys(">")
    text = term.wait_for(r"REPLAY 31/31")
    kinds = [label.split(" ")[0] for _, label, _ in finding_lines(text)]
    assert kinds[0] == "verdict" and len(set(kinds) - {"verdict"}) >= 4, text
    for panel in "12345":
        term.keys(panel)
        text = term.wait_for(r"^ WARN  verdict +RSS \+")
        assert len(text.split("\n")) <= 24
    # Expanding a finding pushes the list down, not the verdict off.
    term.keys("1", "Enter")
    text = term.wait_for(r"^      seconds_to_limit: ")
    assert re.search(r"^ WARN  verdict +RSS \+", text, re.M), text
    term.keys("q")
    assert r.status() == 0


def write_reordering_recording(path):
    """[anon:a] grows for 15 s and stops; [anon:c] starts growing then, faster: with the
    Regions panel sorted by change, c climbs from the bottom to the top."""
    lines = [{"format": "memsleuth-recording", "version": 1, "created": T0, "pid": 4545,
              "comm": "reorderd", "window_s": 5.0, "tick_s": 1.0, "bpf": False,
              "alloc": False, "host": "fixture", "kernel": "6.0",
              "region_columns": REGION_COLUMNS}]
    for i in range(30):
        a = (8 + min(i, 15)) * MIB
        c = (4 + 2 * max(i - 15, 0)) * MIB
        regions = [["[heap]", "heap", 1, 16 * MIB, 16 * MIB, 16 * MIB, 16 * MIB, 16 * MIB, 0],
                   ["[anon:a]", "anon", 1, a, a, a, a, a, 0],
                   ["[anon:b]", "anon", 1, 2 * MIB, 2 * MIB, 2 * MIB, 2 * MIB, 2 * MIB, 0],
                   ["[anon:c]", "anon", 1, c, c, c, c, c, 0]]
        lines.append(sample_line(T0 + i, 4545, "reorderd", regions, 1, [], []))
    lines.append({"type": "end", "t": T0 + 30, "reason": "stopped"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def selected_region(term):
    rows = [line for line in term.selected() if re.match(r"^ \[(heap|anon:\w)\] ", line)]
    assert len(rows) == 1, rows
    return rows[0].split()[0]


def region_order(text):
    return re.findall(r"^ (\[(?:heap|anon:\w)\]) ", text, re.M)


def test_selection_follows_its_row_while_the_order_changes(top, tmp_path):
    rec = write_reordering_recording(tmp_path / "reorder.jsonl")
    r = top("top", "--replay", rec, "-i", "5")
    term = r.term
    text = term.wait_for(r"REPLAY 6/30")
    # At 5 s a grows, the others do not: a first.
    order = region_order(text)
    assert order[0] == "[anon:a]" and order.index("[anon:c]") > 0, text
    # Select [anon:c], below it.
    term.keys(*["Down"] * order.index("[anon:c]"))
    term.wait_for(lambda s: selected_region(term) == "[anon:c]")
    before = region_order(term.text())
    # Twenty seconds on, c grows fastest and the rows reorder: the selection stays on c.
    for _ in range(20):
        term.keys(".")
    text = term.wait_for(r"REPLAY 26/30")
    after = region_order(text)
    assert after != before and after[0] == "[anon:c]", (before, after)
    assert selected_region(term) == "[anon:c]"
    # It moves with the keys as before, and then follows the new row.
    term.keys("Down")
    term.wait_for(lambda s: selected_region(term) == after[1])
    term.keys(",", ",", ",", ",", ",")
    term.wait_for(r"REPLAY 21/30")
    assert selected_region(term) == after[1]
    term.keys("q")
    assert r.status() == 0


def test_top_pid_option_is_the_positional_pid(target, top):
    t = target("grow_heap_anon", 1, 1)
    r = top("top", "-p", t.pid, "--no-bpf", "--frames", "3")
    r.term.wait_for(rf"^ memsleuth  pid {t.pid} grow_heap_anon")
    assert r.status() == 0


def test_top_name_opens_the_newest_process_so_called(target, top, tmp_path):
    name = "mst" + uuid.uuid4().hex[:8]
    exe = tmp_path / name
    shutil.copy(TARGETS / "grow_heap_anon", exe)
    procs = []
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([str(exe), "1", "1"], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True))
            assert procs[-1].stdout.readline().startswith("ready")
        r = top("top", "--name", name, "--no-bpf", "--frames", "3")
        r.term.wait_for(rf"^ memsleuth  pid {procs[1].pid} {name}")
        assert r.status() == 0
    finally:
        for p in procs:
            p.kill()
            p.wait()
    res = run(["top", "--name", name], check=1)
    assert res.stderr.strip() == f"memsleuth top: no process named {name}"


def seconds(text):
    """A duration as the view writes short ones: 7s, 1m05s."""
    m = re.fullmatch(r"(?:(\d+)m)?(\d+)s", text)
    assert m, text
    return int(m.group(1) or 0) * 60 + int(m.group(2))


def test_findings_and_header_name_the_same_moment(top, tmp_path):
    """The header is at the newest sample; the strip names the closed window its findings
    are from and how long before that sample it closed: the two add up."""
    rec = write_findings_recording(tmp_path / "findings.jsonl")
    r = top("top", "--replay", rec, env=UTF8)
    term = r.term
    term.wait_for(r"REPLAY 11/31")
    for step in range(4):
        term.keys(".")
        text = term.wait_for(rf"REPLAY {12 + step}/31")
        at = re.search(r" at (\S+) of (\S+)", text)
        strip = re.search(r"FINDINGS  window #(\d+) \((\d+)s\) closed (\S+) ago; next in (\S+)",
                          text)
        assert at and strip, text
        index, window_s = int(strip.group(1)), int(strip.group(2))
        ago, due = seconds(strip.group(3)), seconds(strip.group(4))
        # The window closed `ago` before the moment the header shows, at a whole window's end.
        assert seconds(at.group(1)) - ago == index * window_s, text
        assert ago + due == window_s, text
        assert ago == 1 + step, text
    term.keys("q")
    assert r.status() == 0


def table_pids(text):
    """The PIDs of the processes table's rows on screen."""
    return {int(m.group(1)) for m in re.finditer(r"^[+ ] +(\d+) \S", text, re.M)}


def test_top_cgroup_lists_only_its_processes_and_groups(target, top, memory_group):
    inside, outside = target("grow_rate", 12, 400), target("grow_rate", 12, 400)
    memory_group.add(inside.pid)
    go_nowait(inside)
    go_nowait(outside)
    r = top("top", "--cgroup", memory_group.path, "-i", "2", "--tick", "1")
    term = r.term
    text = term.wait_for(rf"^\+ +{inside.pid} grow_rate +[\d.]+ MiB +\+[\d.]+ MiB ")
    assert re.search(rf"^ memsleuth  host  cgroup {memory_group.path}:  1 processes, 1 growing",
                     text, re.M), text
    # The other grower, as fast, is outside the group: not listed.
    assert table_pids(text) == {inside.pid}, text
    term.keys("Tab")
    text = term.wait_for(r"^ CGROUP\s+USAGE\s+DELTA\*\s+LIMIT\s+LIMIT IN$")
    groups = re.findall(r"^[+ ] ?(/\S+)", text, re.M)
    assert groups == [memory_group.path], text
    term.keys("q")
    assert r.status() == 0
    res = run(["top", "--cgroup", memory_group.path + "-none"], check=1)
    assert res.stderr.startswith(f"memsleuth top: no cgroup {memory_group.path}-none under ")


def test_top_children_lists_a_process_and_its_descendants(top):
    parent = subprocess.Popen(["sh", "-c", "sleep 60 & (sleep 60 & wait) & wait"])
    try:
        r = top("top", parent.pid, "--children", "-i", "2", "--tick", "1")
        term = r.term
        # sh, its two children (a sleep and a subshell) and the subshell's sleep.
        text = term.wait_for(rf"^ memsleuth  host  PID {parent.pid} and its children:  4 "
                             r"processes")
        shown = table_pids(text)
        kids = [int(c) for c in
                Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()]
        grandkids = [int(c) for k in kids for c in
                     Path(f"/proc/{k}/task/{k}/children").read_text().split()]
        assert shown == {parent.pid, *kids, *grandkids} and len(shown) == 4, text
        term.keys("q")
        assert r.status() == 0
    finally:
        parent.kill()
        parent.wait()
    res = run(["top", "--children"], check=2)
    assert "give a PID or --name" in res.stderr
