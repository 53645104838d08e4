# SPDX-License-Identifier: GPL-2.0-only
"""Reading a target's arenas allocates nothing in it: pages it gave back stay given back."""
import json

from conftest import run


def anonymous_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    raise AssertionError("no Anonymous line in smaps_rollup")


def test_walking_trimmed_arenas_faults_nothing_in(target, tmp_path):
    # Four arenas of 8 MiB each, all free and handed back by malloc_trim(0): the bins still
    # list the chunks, whose pages are gone. Reading a page that is not there makes the
    # kernel allocate it in the target (process_vm_readv maps no zero page), so reads
    # ahead of what the walk needs gave the target back about 700 KiB.
    t = target("frag_threads", 4, 8, tmp_path / "mi.xml", "control")
    t.go()
    before = anonymous_kib(t.pid)
    res = run(["watch", t.pid, "-i", "0.3", "-n", "3", "--json", "--no-bpf"], check=0,
              timeout=60)
    grown = anonymous_kib(t.pid) - before
    windows = [json.loads(line) for line in res.stdout.splitlines()]
    assert any(w["arena_read"]["complete"] for w in windows), windows
    # What is left: the odd page a read asks for itself (a header in a page not touched).
    assert grown < 64, f"the target grew by {grown} KiB while memsleuth read it"
