# SPDX-License-Identifier: GPL-2.0-only
"""memsleuth demo: its target's four problems found within two windows, on screen and in JSON."""
import json
import os
import re
import subprocess

import pytest

from conftest import MEMSLEUTH, MIB, SANITIZED, require_root, run
from topview import UTF8, finding_lines, report_windows, top  # noqa: F401 (top: a fixture)


def test_demo_opens_top_and_stops_its_target(top):
    r = top("demo", "--frames", "120", "--no-bpf")
    text = r.term.wait_for(r"pid \d+ memsleuth-demo")
    pid = int(re.search(r"pid (\d+) memsleuth-demo", text).group(1))
    # The sanitizer build's demo target allocates with ASan's malloc: no glibc arenas.
    growing = r"^ \[anon\] " if SANITIZED else r"^ \[arena 0x[0-9a-f]+\] .*arena"
    r.term.wait_for(growing + r".* \+[\d.]+ (KiB|MiB)")
    r.term.keys("q")
    assert r.status() == 0
    assert f"started demo target, PID {pid}" in r.stderr()
    assert not os.path.exists(f"/proc/{pid}/stat") or \
        open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z"


FOUR = ("leak", "chunk_steps", "arena_fragmentation", "fd_growth")


def check_demo_findings(win):
    """The demo's four problems, as the detectors name them in one window."""
    by_kind = {}
    for f in win["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    assert set(FOUR) <= set(by_kind), [f["kind"] for f in win["findings"]]
    steps = by_kind["chunk_steps"][0]["evidence"]
    assert steps["region"] == "[heap]" and steps["quantum"] == 64 * 1024, steps
    # Three workers, each in its own arena, hold free holes between their records.
    frags = by_kind["arena_fragmentation"]
    assert len(frags) == 3, frags
    for f in frags:
        ev = f["evidence"]
        assert not ev["main"] and ev["threads"] == 1 and ev["free_resident"] >= 4 * MIB, ev
    fds = by_kind["fd_growth"][0]
    assert fds["evidence"]["top_type"] == "socket", fds
    assert any(fr.startswith("accept_connection+") for fr in fds["frames"]), fds
    # The small leak is named by its stack, the session thread's; the request log leaks too.
    leaks = {f["frames"][0].split("+")[0]: f for f in by_kind["leak"]}
    assert {"demo_session_open", "request_log_append"} <= set(leaks), list(leaks)
    session = leaks["demo_session_open"]
    assert session["evidence"]["stack_kind"] == "alloc" and session["frames"][1].startswith(
        "sessions+"), session
    assert session["summary"].startswith("malloc from demo_session_open+"), session


# The sanitizer build's demo target allocates with ASan's malloc: no [heap], no glibc arenas.
@pytest.mark.nosan
@pytest.mark.bpf
def test_demo_shows_the_four_problems_within_two_windows(top, tmp_path):
    """Issue 5's acceptance: chunk steps, arena fragmentation, fd growth and a small leak."""
    require_root("the leak is traced to its stack by the malloc probes, which need root")
    rec = tmp_path / "demo.jsonl"
    r = top("demo", "-o", rec, env=UTF8)
    text = r.term.wait_for(r"pid \d+ memsleuth-demo .* last 5s")
    assert re.search(r"on: smaps fds arenas bpf alloc$", text, re.M), text
    # All four on the first screen, in the strip, most severe first (after the verdict).
    text = r.term.wait_for(lambda s: [k for k in (label.split(" ")[0] for _, label, _ in
                                                  finding_lines(s)) if k != "verdict"]
                           [:4] == list(FOUR), timeout=90)
    assert re.search(r"^ CRIT  leak \u00d7\d", text, re.M), text
    # Room for every stack, down to the fd openers, which change no bytes and come last.
    r.term.resize(100, 40)
    r.term.keys("5")
    # One row per site: a cut stack of the same site is another of its call paths.
    text = r.term.wait_for(
        r"^ alloc .*  demo_session_open( \(demo_target\.c:\d+\)| \[\d+ call paths\])$")
    for kind, caller in (("alloc", "request_log_append"), ("fd", "accept_connection"),
                         ("fault", "request_log_append"), ("brk", "")):
        assert re.search(rf"^ {kind} .*  {caller}", text, re.M), (kind, text)
    r.term.keys("q")
    assert r.status() == 0
    # The same data read back: the second window already names all four.
    windows = report_windows(rec)
    assert not set(FOUR) <= {f["kind"] for f in windows[0]["findings"]}
    check_demo_findings(windows[1])


@pytest.mark.nosan
@pytest.mark.bpf
def test_demo_without_terminal_reports_the_four_problems():
    require_root("the leak is traced to its stack by the malloc probes, which need root")
    res = run(["demo", "-n", "2", "--json"], timeout=90, check=0)
    windows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(windows) == 2 and all(w["comm"] == "memsleuth-demo" for w in windows)
    # Fragmentation is a state, there from the first window; the rest are trends.
    assert len([f for f in windows[0]["findings"] if f["kind"] == "arena_fragmentation"]) == 3
    check_demo_findings(windows[1])
    assert "demo target stopped" in res.stderr


def test_demo_without_bpf_privileges_goes_on_and_says_so():
    """No CAP_BPF: the demo says the leak is not traced, and shows the rest."""
    drop = ["setpriv", "--bounding-set=-bpf,-perfmon,-sys_admin"] if os.geteuid() == 0 else []
    res = subprocess.run([*drop, MEMSLEUTH, "demo", "-n", "1", "-i", "1", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert re.search(r"^memsleuth demo: going on without the malloc probes, so the leak is not "
                     r"traced to its stack: .*CAP_BPF", res.stderr, re.M), res.stderr
    win = json.loads(res.stdout)
    assert win["comm"] == "memsleuth-demo" and not win["collectors"]["bpf"], win["collectors"]
    assert "Sanitizer" not in res.stderr and "runtime error" not in res.stderr, res.stderr


@pytest.mark.bpf
def test_demo_takes_the_users_alloc_options():
    """The demo probes every call unless told otherwise: --alloc-duty 50 is the user's
    choice, not a conflict with the demo's own --alloc-exact."""
    require_root("the malloc probes need root")
    res = run(["demo", "-n", "1", "-i", "1", "--json", "--alloc-duty", "50"], timeout=60,
              check=0)
    win = json.loads(res.stdout)
    assert 0.4 < win["alloc"]["duty"] < 0.6 and win["alloc"]["estimated"] is True, win["alloc"]


def test_demo_help_names_its_options():
    out = run(["demo", "--help"], check=0).stdout
    for opt in ("-i, --interval", "-n COUNT", "--json", "--no-alloc", "--no-bpf", "-h, --help"):
        assert opt in out, (opt, out)
    assert "within two windows" in out
