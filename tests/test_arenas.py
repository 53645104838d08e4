# SPDX-License-Identifier: GPL-2.0-only
"""glibc arenas read from outside match malloc_info() run inside the target."""
import json
import os
import socket
import subprocess
import time

import pytest

from arena_helpers import check_bins_against_malloc_info
from arena_helpers import malloc_info as target_malloc_info
from conftest import MIB, run

THREADS = 4
PER_THREAD_MIB = 8
# Each worker's first seven frees of 1024-byte blocks (1040-byte chunks) stay in its tcache.
TCACHE_PER_WORKER = 7 * 1040


def libc_debuginfo_installed():
    res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "libc6-dbg"],
                         capture_output=True, text=True)
    return "ok installed" in res.stdout


def malloc_info(t, path):
    """malloc_info() of the target: one dict per arena, in list order."""
    return target_malloc_info(t, path)[0]


def watch_once(pid, *extra, env=None):
    res = run(["watch", pid, "-i", "1", "-n", "1", "--json", "--no-bpf", *extra], check=0,
              timeout=30, env=env)
    windows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(windows) == 1
    return windows[0], res.stderr


def fragmented(target, tmp_path):
    path = tmp_path / "malloc_info.xml"
    t = target("frag_threads", THREADS, PER_THREAD_MIB, path)
    t.go()
    return t, malloc_info(t, path)


def check_against_malloc_info(win, info):
    arenas = win["arenas"]
    assert len(arenas) == len(info) == THREADS + 1
    assert arenas[0]["main"] and not any(a["main"] for a in arenas[1:])
    for a, mi in zip(arenas, info):
        assert a["system"] == mi["system_current"], (a, mi)
        assert a["max_system"] == mi["system_max"], (a, mi)
        assert a["walked"], a
        check_bins_against_malloc_info(a, mi)
        assert a["top"] <= mi["rest"][1]
        if not a["main"]:
            assert a["heaps"] == mi["subheaps"]
            assert a["tcache"] == TCACHE_PER_WORKER, a
            assert a["threads"] == 1
            # Seven blocks of every eight are free: (A) is 7/8 of what the blocks use.
            assert 0.85 < a["fragmentation"] < 0.88, a
            assert a["free"] > 7 * MIB and a["rss"] >= a["system"] - 64 * 1024
            assert MIB < a["reclaimable"] < a["free"], a


def test_arenas_equal_malloc_info_with_debuginfo(target, tmp_path):
    if not libc_debuginfo_installed():
        pytest.skip("libc6-dbg is not installed (scripts/deps.sh installs it)")
    t, info = fragmented(target, tmp_path)
    win, _ = watch_once(t.pid)
    assert win["arena_read"]["located_by"] == "debuginfo"
    assert win["arena_read"]["frozen"] and win["arena_read"]["complete"]
    assert win["arena_read"]["freeze_ms"] > 0
    check_against_malloc_info(win, info)
    # mp_.mmapped_mem: no block was large enough for mmap.
    assert win["arena_read"]["malloc_mmapped"] == 0


def test_arenas_equal_malloc_info_without_debuginfo(target, tmp_path):
    t, info = fragmented(target, tmp_path)
    env = dict(os.environ, MEMSLEUTH_NO_DEBUGINFO="1")
    win, _ = watch_once(t.pid, env=env)
    assert win["arena_read"]["located_by"] == "scan"
    assert win["arena_read"]["glibc"].startswith("2.")
    check_against_malloc_info(win, info)
    assert win["arena_read"]["malloc_mmapped"] == 0


def test_arena_fragmentation_finding_on_fragmented_threads(target, tmp_path):
    t, info = fragmented(target, tmp_path)
    win, _ = watch_once(t.pid)
    frags = [f for f in win["findings"] if f["kind"] == "arena_fragmentation"]
    assert len(frags) == THREADS
    for f in frags:
        assert f["evidence"]["threads"] == 1
        assert f["evidence"]["free_resident"] > 7 * MIB
        assert "(A 87%)" in f["summary"]


def test_no_freeze_reads_fixed_fields_only(target, tmp_path):
    t, info = fragmented(target, tmp_path)
    win, err = watch_once(t.pid, "--no-freeze")
    assert win["arena_read"]["frozen"] is False
    assert win["arena_read"]["freeze_ms"] == 0
    for a, mi in zip(win["arenas"], info):
        assert a["system"] == mi["system_current"]
        assert a["walked"] is False and a["free"] is None and a["fragmentation"] is None
        assert a["top"] <= mi["rest"][1]
    assert not [f for f in win["findings"] if f["kind"] == "arena_fragmentation"]


def test_arenas_in_text_output(target, tmp_path):
    t, info = fragmented(target, tmp_path)
    res = run(["watch", t.pid, "-i", "1", "-n", "1", "--no-bpf"], check=0, timeout=30)
    assert "GLIBC ARENAS (2." in res.stdout
    assert "87%" in res.stdout
    assert "arena_fragmentation: thread arena" in res.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jemalloc_redis_is_recognised_and_gets_no_arena_findings(tmp_path):
    server = "/usr/bin/redis-server"
    if not os.path.exists(server):
        pytest.skip("redis-server is not installed (scripts/deps.sh installs it)")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        res = run(["watch", proc.pid, "-i", "1", "-n", "2", "--json", "--no-bpf"], check=0,
                  timeout=30)
        windows = [json.loads(line) for line in res.stdout.splitlines()]
        assert len(windows) == 2
        for w in windows:
            assert w["allocator"] == "jemalloc"
            assert w["arenas"] == [] and w["arena_read"] is None
            assert w["collectors"]["arenas"] is False
            assert not [f for f in w["findings"] if f["kind"] == "arena_fragmentation"]
    finally:
        proc.kill()
        proc.wait()


def test_static_glibc_is_recognised_and_said_unreadable(target):
    t = target("static_glibc")
    res = run(["watch", t.pid, "-i", "0.5", "-n", "2", "--json", "--no-bpf"], check=0, timeout=30)
    windows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(windows) == 2
    assert all(w["allocator"] == "glibc" and w["arenas"] == [] for w in windows)
    assert res.stderr.count("glibc arenas not read: no glibc libc.so mapped") == 1


def test_no_arenas_option_reads_none(target, tmp_path):
    t, info = fragmented(target, tmp_path)
    win, _ = watch_once(t.pid, "--no-arenas")
    assert win["arenas"] == [] and win["arena_read"] is None
    assert win["allocator"] == "glibc"
