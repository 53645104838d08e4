# SPDX-License-Identifier: GPL-2.0-only
"""--alloc-optional: the malloc probes when they can attach, and a one-line warning when not."""
import json
import subprocess

from conftest import MEMSLEUTH, SANITIZED, require_root

# Root without the eBPF capabilities: the probes cannot load, /proc still reads.
NO_BPF_CAPS = ["setpriv", "--bounding-set=-bpf,-perfmon,-sys_admin"]


def watch_without_bpf_caps(pid, *extra):
    res = subprocess.run([*NO_BPF_CAPS, MEMSLEUTH, "watch", str(pid), "-i", "1", "-n", "1",
                          "--json", "--alloc", *extra], capture_output=True, text=True, timeout=60)
    if SANITIZED:
        assert "Sanitizer" not in res.stderr and "runtime error" not in res.stderr, res.stderr
    return res


def test_alloc_fails_without_the_probes_unless_optional(target):
    require_root("dropping capabilities from root")
    t = target("grow_heap_anon", 1, 1)
    res = watch_without_bpf_caps(t.pid)
    assert res.returncode == 1, res.stderr
    assert json.loads(res.stdout)["error"].startswith("eBPF probes need CAP_BPF"), res.stdout
    # One line, which does not suggest --no-bpf (--alloc cannot go with it), and no warning
    # that the run goes on with /proc only: it does not go on.
    assert res.stderr.count("\n") == 1 and "drop --alloc" in res.stderr, res.stderr
    res = watch_without_bpf_caps(t.pid, "--alloc-optional")
    assert res.returncode == 0, res.stderr
    warn = [l for l in res.stderr.splitlines() if l.startswith("memsleuth: malloc probes off: ")]
    assert len(warn) == 1 and "CAP_BPF" in warn[0], res.stderr
    win = json.loads(res.stdout)
    assert win["pid"] == t.pid and "alloc" not in win and not win["collectors"]["bpf"], win
