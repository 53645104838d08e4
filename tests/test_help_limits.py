# SPDX-License-Identifier: GPL-2.0-only
"""Every help text states the limits its parser enforces: the value at a limit is taken, the
next one refused, and the help says where the limit lies."""
import re

import pytest

from conftest import run

# A PID that no process has (above pid_max): an accepted command line fails at run time (1),
# a refused one at parse time (2), and nothing is attached to anything.
NOPID = "999999999"

# The agent needs somewhere to export; with no process to watch it ends at once.
AGENT = ["agent", NOPID, "--textfile", "/tmp"]

LIMITS = [
    # command line before the option, option, taken, refused, what the help says
    (["watch", NOPID], "-i", "86400", "86401", "from\n? *0.05 to 86400"),
    (["watch", NOPID], "-i", "0.05", "0.04", "from\n? *0.05 to 86400"),
    (["watch", NOPID], "-n", "1", "0", "from 1"),
    (["watch", NOPID], "--freeze-max", "10000", "10001", "from 1 to 10000"),
    (["watch", NOPID, "-i", "2"], "--tick", "2", "2.5", "at most the window"),
    (["watch", NOPID], "--fault-rate", "4294967294", "4294967295", "below 2\\^32"),
    (["watch", NOPID], "--stack-rate", "0", "-1", "below 2\\^32"),
    (["watch", NOPID], "--alloc-duty", "100", "100.5", "at most 100"),
    (["watch", NOPID], "--alloc-sample", "1", "0", "from 1;"),
    (["top", NOPID], "-i", "600", "601", "to\n? *600"),
    (["top", NOPID], "-i", "0.05", "0.04", "from 0.05"),
    (["top", NOPID], "--tick", "5", "5.01", "from 0.1\n? *to 5"),
    (["top", NOPID], "--tick", "0.1", "0.09", "from 0.1\n? *to 5"),
    (["top", NOPID], "-n", "1", "0", "from 1"),
    (["top", NOPID], "--frames", "1", "0", "--frames N"),
    (["ps"], "-i", "86400", "86401", "from 0.05 to 86400"),
    (["ps"], "-n", "1", "0", "from 1"),
    (["ps"], "--rows", "1", "0", "from 1"),
    (AGENT, "-i", "86400", "86401", "from 0.05 to 86400"),
    (AGENT, "-n", "1", "0", "number from 1"),
    ([*AGENT, "-i", "2"], "--tick", "2", "2.5", "from 0.05 and at most\n? *the window"),
    (AGENT, "--alloc-on-growth", "86400", "86401", "from 0.05\n? *to 86400"),
]


@pytest.mark.parametrize("before, opt, taken, refused, said", LIMITS)
def test_help_states_the_limit_the_parser_enforces(before, opt, taken, refused, said):
    help_text = run([before[0], "--help"], check=0).stdout
    assert re.search(said, help_text), (said, help_text)
    bad = run([*before, opt, refused])
    assert bad.returncode == 2, (opt, refused, bad.stderr)
    if before[0] == "ps" and opt == "-i":
        return                  # taken, it would watch for a day
    if before[0] == "ps":
        # ps takes no PID: a taken value runs, for one short window.
        good = run([*before, opt, taken, "-i", "0.05", "-n", "1"], timeout=120)
    elif opt.startswith("--alloc"):
        good = run([*before, opt, taken])
    else:
        good = run([*before, opt, taken, "--no-bpf"])
    assert good.returncode != 2, (opt, taken, good.stderr)


def test_report_says_a_directory_is_not_a_recording(tmp_path):
    for cmd in (["report", tmp_path], ["top", "--replay", tmp_path]):
        res = run(cmd, check=1)
        assert res.stderr.strip().endswith(f"{tmp_path}: it is a directory, not a recording "
                                           "file"), res.stderr
    assert "a directory is refused" in run(["report", "--help"], check=0).stdout
