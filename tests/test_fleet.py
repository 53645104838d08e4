# SPDX-License-Identifier: GPL-2.0-only
"""Past one machine: a real Prometheus scrapes watch --listen and the agent; go tool pprof reads
the heap profiles; node_exporter textfiles; the server's refusals; targets by name and cgroup."""
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import MIB, TARGETS, require_root, run
from fleet import (Prometheus, own_first, pprof_top, promtool_check, series, served,  # noqa: F401
                   wait_for)
from test_arenas import malloc_info

# alloc_leak's own functions: the leak is leak_slowly; churn frees all it takes.
LEAK_OWN = {"leak_slowly", "churn", "run", "main"}


def proc_rss(pid):
    """Rss of /proc/PID/smaps_rollup, in bytes."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no Rss in smaps_rollup")


def start_leak(target, leak, seconds, threads=2):
    """alloc_leak, let go at once: it leaks `leak` bytes evenly over `seconds` from leak_slowly."""
    t = target("alloc_leak", leak, 4096, seconds, threads)
    return t


def let_go(t):
    t.proc.stdin.write("go\n")
    t.proc.stdin.flush()


def done(t, timeout=120):
    line = t._readline(timeout)
    assert line.startswith("done"), line
    return dict(item.split("=") for item in line.split()[1:])


def test_prometheus_scrapes_watch_and_agent(target, served, tmp_path):
    """A real Prometheus scrapes `watch PID --listen` and the agent: RSS within 5% of /proc,
    one free-bytes series per arena of a fragmented target, an active leak finding, the
    steady target without one; promtool passes both expositions; the agent's triggered
    malloc probes give a heap profile."""
    require_root("eBPF probes and arena freezes")
    info_path = tmp_path / "malloc_info.xml"
    frag = target("frag_threads", 4, 8, info_path)
    frag.go()
    arenas = malloc_info(frag, info_path)
    leak = start_leak(target, 32 * MIB, 24)
    w = served("watch", leak.pid, "--alloc", "-i", "2")
    # By PID: other tests' frag_threads must not be frozen by this agent.
    a = served("agent", "-p", frag.pid, "-p", leak.pid, "-i", "2", "--tick", "1",
               "--alloc-on-growth", "60")
    prom = Prometheus(tmp_path, {"watch": w.hostport, "agent": a.hostport})
    try:
        let_go(leak)
        wait_for("both jobs up", lambda: sorted(v for _, v in prom.query("up")) == [1.0, 1.0])
        found = wait_for("an active leak finding", lambda: prom.query(
            f'memsleuth_finding{{job="watch",pid="{leak.pid}",kind="leak"}} == 1'))
        assert found[0][0]["comm"] == "alloc_leak"
        # The agent names growth without the malloc probes, then turns them on.
        wait_for("rss_growth from the agent", lambda: prom.query(
            f'memsleuth_finding{{job="agent",pid="{leak.pid}",kind="rss_growth"}}'))
        wait_for("the agent's malloc probes", lambda: prom.query(
            f'memsleuth_alloc_probes{{job="agent",pid="{leak.pid}"}} == 1'))

        free = wait_for("arena series", lambda: prom.query(
            f'memsleuth_glibc_arena_free_bytes{{job="agent",pid="{frag.pid}"}}'))
        assert len(free) == len(arenas) == 5, free
        assert len({m["arena"] for m, _ in free}) == 5
        assert sum(1 for m, _ in free if m["arena"] == "main") == 1

        # The steady target: no leak and no growth, from either job's view of it.
        assert not prom.query(f'memsleuth_finding{{pid="{frag.pid}",kind=~"leak|rss_growth"}}')

        done(leak)
        for job, pid in (("agent", frag.pid), ("watch", leak.pid), ("agent", leak.pid)):
            def close():
                got = prom.query(f'memsleuth_rss_bytes{{job="{job}",pid="{pid}"}}')
                return got and abs(got[0][1] - proc_rss(pid)) <= 0.05 * proc_rss(pid)
            wait_for(f"memsleuth_rss_bytes of {pid} from {job} within 5% of /proc", close,
                     timeout=30)

        for s in (w, a):
            ok, said = promtool_check(s.metrics())
            assert ok, said
            status, headers, body = s.get(
                "/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"})
            assert status == 200 and headers["Content-Type"].startswith(
                "application/openmetrics-text"), headers
            assert body.endswith(b"# EOF\n")

        status, _, gz = a.get(f"/debug/pprof/heap?pid={leak.pid}")
        assert status == 200, gz
        (tmp_path / "agent.pb.gz").write_bytes(gz)
        rows, out = pprof_top(tmp_path / "agent.pb.gz")
        assert own_first(rows, LEAK_OWN)[0] == "leak_slowly", out
    finally:
        prom.stop()
    a.stop()
    w.stop()


def profile_versions(path, n, timeout=60):
    """Copies of `path` as each of the next `n` windows replaced it."""
    seen, copies = None, []
    deadline = time.monotonic() + timeout
    while len(copies) < n:
        assert time.monotonic() < deadline, f"{path} was not replaced {n} times"
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        if st and (st.st_ino, st.st_mtime_ns) != seen:
            seen = (st.st_ino, st.st_mtime_ns)
            copy = path.with_name(f"v{len(copies)}.pb.gz")
            shutil.copyfile(path, copy)
            copies.append(copy)
        time.sleep(0.1)
    return copies


def test_pprof_file_http_and_report(target, served, tmp_path):
    """go tool pprof on --pprof, on /debug/pprof/heap and on report --pprof: the leaking
    function first among the program's own, its bytes within 30% of what was leaked;
    -diff_base of two windows shows the growth."""
    require_root("malloc probes")
    leak_bytes = 12 * MIB
    leak = start_leak(target, leak_bytes, 12)
    prof, rec = tmp_path / "heap.pb.gz", tmp_path / "rec.jsonl"
    w = served("watch", leak.pid, "--alloc", "-i", "2", "--pprof", prof, "-o", rec)
    let_go(leak)
    old, new = profile_versions(prof, 2)
    rows, out = pprof_top(new, "-diff_base", str(old))
    fn, grew = own_first(rows, LEAK_OWN)
    assert fn == "leak_slowly" and grew > 0, out

    leaked = int(done(leak)["leaked"])
    assert leaked == leak_bytes
    final = profile_versions(prof, 2)[-1]
    status, headers, gz = w.get("/debug/pprof/heap")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert gz[:2] == b"\x1f\x8b", "the profile is gzipped"
    (tmp_path / "http.pb.gz").write_bytes(gz)
    w.stop()
    run(["report", rec, "--pprof", tmp_path / "report.pb.gz"], check=0)
    for path in (final, tmp_path / "http.pb.gz", tmp_path / "report.pb.gz"):
        rows, out = pprof_top(path)
        fn, flat = own_first(rows, LEAK_OWN)
        assert fn == "leak_slowly", out
        assert abs(flat - leaked) <= 0.3 * leaked, (path.name, flat, leaked, out)
    # Every location has its mapping: the program, with its build-id (go tool pprof -raw),
    # live and from the recording, which keeps the addresses and the modules.
    build_id = subprocess.run(["readelf", "-n", str(TARGETS / "alloc_leak")], text=True,
                              capture_output=True).stdout.split("Build ID:")[1].split()[0]
    for path in (final, tmp_path / "report.pb.gz"):
        raw = subprocess.run(["go", "tool", "pprof", "-raw", str(path)], capture_output=True,
                             text=True, timeout=120, env=dict(os.environ, HOME=str(tmp_path)))
        mappings = raw.stdout.split("Mappings", 1)[1]
        assert f"alloc_leak {build_id}" in mappings and "libc.so.6" in mappings, raw.stdout
        assert "[unknown]" not in mappings, raw.stdout


def test_http_is_read_only_bounded_and_says_why(target, served):
    t = target("grow_steady", 64, 100, 1)
    w = served("watch", t.pid, "-i", "1", "--no-bpf")
    wait_for("a first sample", lambda: w.get("/metrics")[0] == 200, timeout=20)
    status, headers, _ = w.get("/metrics", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert w.get("/nope")[0] == 404
    status, _, body = w.get("/debug/pprof/heap")
    assert status == 404 and b"malloc probes" in body
    assert w.get("/debug/pprof/heap?pid=abc")[0] == 400
    host, port = w.hostport.split(":")
    # A request whose headers exceed the bound gets a 4xx, not a crash.
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
        answer = s.recv(4096)
    assert answer.split()[1][:1] == b"4", answer[:100]
    # More idle connections than the bound: refused or dropped, and the server still answers.
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(40)]
    for s in idle:
        s.close()

    def answers():
        try:
            return w.get("/metrics")[0] == 200
        except ConnectionError:
            return False
    wait_for("the server to answer again once the connections closed", answers, timeout=30)
    ok, said = promtool_check(w.metrics())
    assert ok, said
    w.stop()


def test_listen_errors_are_one_line():
    # The agent listens before it looks for its targets: PID 1 is never opened here.
    res = run(["agent", "1", "--listen", "nonsense"], check=1)
    assert "expected HOST:PORT" in res.stderr and len(res.stderr.splitlines()) == 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        res = run(["agent", "1", "--listen", f"127.0.0.1:{s.getsockname()[1]}"], check=1)
    assert "Address already in use" in res.stderr, res.stderr


@pytest.mark.parametrize("args,reason", [
    ([], "no target"),
    (["1"], "nowhere to export"),
    (["--cgroup", "../x", "--textfile", "/tmp"], "without '..'"),
    (["--name", "a/b", "--textfile", "/tmp"], "without '/'"),
    (["1", "--textfile", "/tmp", "--no-bpf", "--alloc-on-growth", "10"], "needs the eBPF"),
])
def test_agent_usage_errors(args, reason):
    res = run(["agent", *args], check=2)
    assert reason in res.stderr, res.stderr


def test_agent_textfile_for_node_exporter(target, tmp_path):
    t = target("grow_steady", 64, 100, 1)
    res = run(["agent", t.pid, "--textfile", tmp_path, "-i", "1", "--tick", "1", "-n", "2",
               "--no-bpf"], check=0, timeout=60)
    text = (tmp_path / "memsleuth.prom").read_text()
    assert series(text, "memsleuth_rss_bytes", pid=t.pid), text
    ok, said = promtool_check(text)
    assert ok, said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memsleuth.prom"], res.stderr


class Named:
    """A copy of a test target under a name no other test uses, so --name finds only it."""

    def __init__(self, tmp_path, name):
        self.exe = tmp_path / name
        shutil.copyfile(TARGETS / "grow_steady", self.exe)
        self.exe.chmod(0o755)
        self.procs = []

    def start(self):
        p = subprocess.Popen([str(self.exe), "64", "1000", "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().startswith("ready")
        self.procs.append(p)
        return p

    def stop(self, p):
        p.kill()
        p.wait()

    def cleanup(self):
        for p in self.procs:
            self.stop(p)


@pytest.fixture
def cgroup():
    require_root("cgroup v2 groups")
    root = next((line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
                 if line.split()[2] == "cgroup2"), None)
    if root is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    path = Path(root) / f"memsleuth-test-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path
    parent = Path(root) / "cgroup.procs"
    for pid in (path / "cgroup.procs").read_text().split():
        try:
            parent.write_text(pid)
        except OSError:
            pass
    path.rmdir()


def test_agent_follows_a_restart_by_name_and_a_cgroup(tmp_path, served, cgroup):
    name = "msr" + uuid.uuid4().hex[:8]
    by_name, in_group = Named(tmp_path, name), Named(tmp_path, "msc" + uuid.uuid4().hex[:8])
    try:
        first = by_name.start()
        member = in_group.start()
        (cgroup / "cgroup.procs").write_text(str(member.pid))
        rel = "/" + cgroup.name
        a = served("agent", "--name", name, "--cgroup", rel, "-i", "2", "--tick", "1")

        def pids():
            status, _, body = a.get("/metrics")
            # 503 until the first publish, just after the agent said what it watches.
            return {int(m["pid"]) for m, _ in series(body.decode(), "memsleuth_rss_bytes")
                    } if status == 200 else set()
        wait_for("both targets", lambda: {first.pid, member.pid} <= pids(), timeout=30)
        labels = series(a.metrics(), "memsleuth_rss_bytes", pid=member.pid)[0][0]
        assert labels["cgroup"] == rel and labels["comm"] == in_group.exe.name

        by_name.stop(first)
        second = by_name.start()
        wait_for("the restarted process", lambda: second.pid in pids() and first.pid not in pids(),
                 timeout=30)
        # A process that joins the group later is watched too.
        late = in_group.start()
        (cgroup / "cgroup.procs").write_text(str(late.pid))
        wait_for("the group's new member", lambda: late.pid in pids(), timeout=30)
        starts = series(a.metrics(), "memsleuth_target_starts_total")[0][1]
        assert starts == 4
        said = a.stop()
        assert f"PID {first.pid} ({name}) exited" in said
    finally:
        by_name.cleanup()
        in_group.cleanup()
