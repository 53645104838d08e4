# SPDX-License-Identifier: GPL-2.0-only
"""watch's targets other than a PID: --name (the newest, or --all), --cgroup, --children, on
real processes."""
import json
import re
import shutil
import subprocess
import time
import uuid

import pytest

from cgroups import v2_group  # noqa: F401 (a fixture)
from conftest import MIB, LineReader, run, target_path


class Named:
    """A test target run under a name of its own (a copy of its program), so that --name
    finds it and nothing another test runs."""

    def __init__(self, tmp_path, program, name, *args):
        path = tmp_path / name
        if not path.exists():
            shutil.copy(target_path(program), path)
        self.proc = subprocess.Popen([str(path), *map(str, args)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = LineReader(self.proc.stdout).readline(10)
        assert line and line.startswith("ready"), line
        self.pid = self.proc.pid

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def kill(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def named(tmp_path):
    started = []

    def start(program, name, *args):
        t = Named(tmp_path, program, name, *args)
        started.append(t)
        return t

    yield start
    for t in started:
        t.kill()


def windows(res):
    return [json.loads(line) for line in res.stdout.splitlines()]


def unique_name():
    return "ms" + uuid.uuid4().hex[:10]


def test_name_watches_the_newest_or_all(named):
    name = unique_name()
    old = named("grow_rate", name, 4, 100)
    time.sleep(0.05)
    new = named("grow_rate", name, 4, 100)
    new.go()
    res = run(["watch", "--name", name, "-i", "1", "-n", "1", "--json", "--no-bpf"], check=0,
              timeout=60)
    wins = windows(res)
    assert [w["pid"] for w in wins] == [new.pid], res.stderr
    # The newest grows 4 MiB a second: its window says so.
    assert wins[0]["comm"] == name[:15] and wins[0]["totals_delta"]["rss"] > 2 * MIB
    res = run(["watch", "--name", name, "--all", "-i", "1", "-n", "1", "--json", "--no-bpf"],
              check=0, timeout=60)
    assert sorted(w["pid"] for w in windows(res)) == sorted([old.pid, new.pid]), res.stderr
    assert res.stderr.count("watching PID") == 2


def test_name_with_no_process_is_one_line():
    name = unique_name()
    res = run(["watch", "--name", name, "--no-bpf"], check=1)
    assert res.stderr.strip() == f"memsleuth watch: no process named {name}"


def test_cgroup_watches_its_processes_and_those_that_join(named, v2_group):
    name = unique_name()
    a, b = named("grow_rate", name, 2, 100), named("grow_rate", name, 3, 100)
    v2_group.add(a.pid)
    v2_group.add(b.pid)
    w = subprocess.Popen(["timeout", "60", *run_args(v2_group.path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    # One that joins later is watched from the next window on.
    time.sleep(1.5)
    late = named("grow_rate", name, 1, 100)
    v2_group.add(late.pid)
    out, err = w.communicate(timeout=90)
    assert w.returncode == 0, err
    pids = {json.loads(line)["pid"] for line in out.splitlines()}
    assert pids == {a.pid, b.pid, late.pid}, (pids, err)
    assert "PID %d" % late.pid in err


def run_args(group):
    from conftest import MEMSLEUTH
    return [MEMSLEUTH, "watch", "--cgroup", group, "-i", "1", "-n", "4", "--json", "--no-bpf"]


def test_missing_cgroup_is_one_line(tmp_path):
    res = run(["watch", "--cgroup", "/memsleuth-no-such-group-" + uuid.uuid4().hex[:6],
               "--no-bpf"], check=1)
    assert "no cgroup /memsleuth-no-such-group-" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_command_and_its_children():
    """--children -- CMD: the shell, and the programs it starts (found when they have
    executed them), each with its windows; the shell's status returned."""
    res = run(["watch", "--children", "-i", "1", "-n", "3", "--json", "--no-bpf", "--", "sh",
               "-c", "sleep 4 & sleep 4 & wait; exit 3"], timeout=90)
    assert res.returncode == 3, res.stderr
    comms = {}
    for w in windows(res):
        comms.setdefault(w["pid"], w["comm"])
    assert sorted(comms.values()) == ["sh", "sleep", "sleep"], (comms, res.stderr)


def test_children_end_the_run_as_they_exit():
    """Without -n the run lasts as long as the command and its children: each ends with its
    exit, and one that is gone is not looked for again."""
    res = run(["watch", "--children", "-i", "1", "--json", "--no-bpf", "--", "sh", "-c",
               "sleep 4 & sleep 4 & wait; exit 4"], timeout=90)
    assert res.returncode == 4, res.stderr
    watched = re.findall(r"watching PID (\d+) ", res.stderr)
    ended = re.findall(r"target (\d+) exited", res.stderr)
    # Under load a child may exit while it is being opened: said once, as such.
    refused = re.findall(r"cannot watch PID (\d+) \(sleep\): target \d+ exited", res.stderr)
    assert sorted(ended) == sorted(watched) and len(set(watched)) == len(watched), res.stderr
    assert len(watched) + len(refused) == 3 and len(refused) == len(set(refused)), res.stderr
    assert res.stderr.count("cannot watch") == len(refused), res.stderr
    assert {w["comm"] for w in windows(res) if w["pid"] == int(watched[0])} == {"sh"}


def test_pid_and_its_children(target):
    parent = subprocess.Popen(["sh", "-c", "sleep 6 & sleep 6 & wait"])
    try:
        time.sleep(0.5)
        res = run(["watch", "-p", parent.pid, "--children", "-i", "1", "-n", "1", "--json",
                   "--no-bpf"], check=0, timeout=60)
        comms = sorted(w["comm"] for w in windows(res))
        assert comms == ["sh", "sleep", "sleep"], res.stderr
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.parametrize("args, words", [
    (["watch", "--all", "1"], ["--all takes every process of a --name"]),
    (["watch", "--name", "x", "1"], ["one target only"]),
    (["watch", "--cgroup", "/x", "--name", "y"], ["one target only"]),
    (["watch", "--name", "x", "--", "true"], ["not both"]),
    (["watch", "--cgroup", "/x", "-o", "rec.jsonl"], ["about one process"]),
    (["watch", "1", "--children", "--folded", "--alloc"], ["about one process"]),
    (["watch", "--cgroup", "../x"], ["without '..'"]),
    (["watch", "--name", "a/b"], ["without '/'"]),
])
def test_target_usage_errors(args, words):
    res = run(args)
    assert res.returncode in (1, 2), res.stderr
    assert all(w in res.stderr for w in words), res.stderr


def test_missing_pid_with_children_is_one_line():
    res = run(["watch", "-p", "999999", "--children", "--no-bpf"], check=1)
    assert res.stderr.strip() == "memsleuth watch: no process with PID 999999"
