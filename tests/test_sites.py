# SPDX-License-Identifier: GPL-2.0-only
"""Stacks a user can act on: named by the program's own function (the site), never by garbage."""
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import MEMSLEUTH, ROOT, require_root, run, target_path
from topview import top  # noqa: F401 (a fixture)

# One worker runs the tests that drive the malloc probes hardest (see test_service_shapes.py).
pytestmark = [pytest.mark.bpf, pytest.mark.xdist_group("malloc-probes")]

# (target, its leaking function, its balanced churn, the allocation wrapper it calls through)
SITE_TARGETS = [
    ("site_map_nofp", "remember_session", "churn_containers", None),
    ("site_xmalloc", "store_record", "handle_request", "xmalloc"),
    ("site_jemalloc_nofp", "cache_insert", "parse_message", None),
]
MODES = {"duty": ["--alloc"], "exact": ["--alloc-exact"]}

# What a site must never be: the allocator, the C++ runtime, a wrapper.
RUNTIME = re.compile(r"^(malloc|calloc|operator new|std::|__gnu_cxx::|je_|xmalloc|zmalloc|__)")


def watch_windows(watch, t, *args, seconds_after=1.5, go_timeout=60):
    w = watch("watch", t.pid, "--json", *args)
    t.go(go_timeout)
    time.sleep(seconds_after)  # a tick or two after the last allocation
    code, out, err = w.interrupt(60)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines() if line.strip()], err


def leak_findings(windows):
    return [f for w in windows for f in w["findings"]
            if f["kind"] == "leak" and f["evidence"].get("stack_kind") == "alloc"]


@pytest.mark.parametrize("mode", MODES, ids=list(MODES))
@pytest.mark.parametrize("name,leaker,churn,wrapper", SITE_TARGETS,
                         ids=[t[0] for t in SITE_TARGETS])
def test_leak_summary_names_the_programs_function(target, watch, name, leaker, churn, wrapper,
                                                  mode):
    """Built without frame pointers, through its own wrapper or with Debian's jemalloc, the
    program's leaking function is what the leak finding's summary names: not malloc, not
    operator new or the std::map and std::string internals, not the wrapper; the churn
    beside it is never blamed; the full stack stays in the finding."""
    require_root("uprobes")
    # 8 windows: the leak rule names a leak from the second window running at the earliest,
    # and a window in which a loaded machine kept the duty-cycled probes detached says
    # nothing; a few windows more than the rule needs keep the test about the site.
    t = target(name, 500, 16)
    windows, _ = watch_windows(watch, t, "-i", "2", *MODES[mode], go_timeout=180)
    leaks = leak_findings(windows)
    named = [f for f in leaks if f"from {leaker}+" in f["summary"]]
    assert named, [f["summary"] for f in leaks]
    assert not any(churn in f["summary"] for f in leaks), [f["summary"] for f in leaks]
    # A stack walked before the rules of its return addresses were learned (the first
    # tens of milliseconds of a new call path) is cut and says so; its site is right.
    assert all(f["site"].startswith(leaker + "+") for f in named), named
    whole = [f for f in named if not f["truncated"]]
    assert whole, named
    # The whole stack is the evidence: from the allocator down to main.
    assert any(fr.startswith("main+") for fr in whole[0]["frames"]), whole[0]["frames"]
    if wrapper:
        assert any(fr.startswith(wrapper + "+") for fr in named[0]["frames"]), named[0]
    # Any other leak named is a stack cut while its unwinding rules were being learned,
    # and says so: never an allocator frame presented as the program's.
    for f in leaks:
        assert f in named or f["truncated"] or not RUNTIME.match(f["site"]), f
    if "jemalloc" in name:
        assert windows[-1]["allocator"] == "jemalloc"


def test_cxx_names_are_short_and_raw_names_kept(target, watch):
    """C++ frames read ns::Class::function, without template arguments or parameter
    lists; the full demangled name and the raw symbol stay in frame_info."""
    require_root("uprobes")
    t = target("site_map_nofp", 1000, 4)
    windows, _ = watch_windows(watch, t, "-i", "2", "--alloc-exact")
    frames = [(fr, info) for w in windows for s in w["stacks"] if s["kind"] == "alloc"
              for fr, info in zip(s["frames"], s["frame_info"])]
    cxx = [(fr, info) for fr, info in frames if (info["symbol"] or "").startswith("_Z")]
    assert cxx, frames[:10]
    for fr, info in cxx:
        name = re.split(r"\+0x| \[inlined\]", fr)[0]
        assert "<" not in name.replace("operator<", "") and "(" not in name.replace(
            "(anonymous namespace)", ""), fr
    full = {info["function"] for _, info in cxx}
    assert any("std::__cxx11::basic_string<char" in fn for fn in full), full
    assert any(fr.startswith("std::__cxx11::basic_string::") for fr, _ in cxx), cxx[:5]


def exec_ranges(pid):
    ranges = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split()
        if "x" in parts[1] and not line.endswith(("[uprobes]", "[vsyscall]")):
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            ranges.append((lo, hi))
    return ranges


@pytest.mark.parametrize("wrap", [(), ("env", "MEMSLEUTH_ALLOC_FP_ONLY=1")],
                         ids=["rule walks", "frame-pointer walks"])
def test_a_stack_of_garbage_is_cut_never_printed(target, watch, tmp_path, wrap):
    """stack_garbage allocates and maps on a stack of text, small numbers and data
    pointers, with rbp and its CFI leading into them. Every unwinder memsleuth has (the
    kernel's frame-pointer walk, the walk by learned rules, DWARF on a copied stack)
    reads that garbage: no frame may be an address outside the executable mappings, and
    the stacks through it are marked cut, in JSON, text and folded output."""
    require_root("uprobes")
    t = target("stack_garbage", 800)
    code = exec_ranges(t.pid)
    rec = tmp_path / "rec.jsonl"
    w = watch("watch", t.pid, "--json", "-i", "2", "--alloc-exact", "-o", rec, wrap=wrap)
    t.go(60)
    time.sleep(1.5)
    code_, out, err = w.interrupt(60)
    assert code_ == 0, err
    windows = [json.loads(line) for line in out.splitlines() if line.strip()]
    through = set()
    for win in windows:
        for s in win["stacks"]:
            for fr, info in zip(s["frames"], s["frame_info"]):
                addr = info["addr"]
                assert addr == 0 or any(lo <= addr < hi for lo, hi in code) or (
                    any(lo <= addr - 1 < hi for lo, hi in code)), (hex(addr), fr, s["frames"])
                assert not re.fullmatch(r"0x[0-9a-f]+", fr), (fr, s["frames"])
            if any(fr.startswith("garbage_call") for fr in s["frames"]):
                assert s["truncated"], s["frames"]
                assert s["frames"][-1].startswith("garbage_call"), s["frames"]
                through.add(s["kind"])
    # The malloc probes' stacks and the growth probes' copied ones both went through it.
    assert {"alloc", "mmap"} <= through, through
    folded = run(["report", rec, "--folded"], check=0).stdout
    assert folded.strip() and "0x" not in folded, folded
    assert any(line.startswith("[truncated];") and "garbage_call" in line
               for line in folded.splitlines()), folded
    text = run(["report", rec], check=0).stdout
    assert "[stack cut here" in text, text[-3000:]


def test_skip_names_the_caller_of_a_users_wrapper(target, watch):
    """--skip PATTERN makes the user's own wrapper an allocator frame: the site moves to
    its caller."""
    require_root("uprobes")
    t = target("site_xmalloc", 1000, 6)
    windows, _ = watch_windows(watch, t, "-i", "2", "--alloc-exact", "--skip", "store_*")
    leaks = leak_findings(windows)
    assert any(f["summary"].startswith("malloc from serve") for f in leaks), \
        [f["summary"] for f in leaks]
    assert not any("from store_record+" in f["summary"] for f in leaks)


def test_report_skip_refinds_sites_in_a_recording(target, watch, tmp_path):
    """A recording keeps each frame's identity: report --skip finds the sites anew."""
    require_root("uprobes")
    t = target("site_xmalloc", 1000, 6)
    rec = tmp_path / "rec.jsonl"
    watch_windows(watch, t, "-i", "2", "--alloc-exact", "-o", rec)
    plain = [json.loads(x) for x in run(["report", rec, "--json"], check=0).stdout.splitlines()]
    skip = [json.loads(x) for x in
            run(["report", rec, "--json", "--skip", "store_record"], check=0).stdout.splitlines()]
    assert any("from store_record+" in f["summary"] for f in leak_findings(plain))
    assert any(f["summary"].startswith("malloc from serve") for f in leak_findings(skip))


def test_stripped_module_hint_then_its_debug_file_names_frames(target, watch, tmp_path):
    """A program stripped of its symbol table gets one hint naming the debug file that
    would name its frames (build-id path, debuglink); with that file beside it, frames
    get their names and lines back and the hint is gone."""
    require_root("uprobes")
    exe = tmp_path / "site_xmalloc"
    dbg = tmp_path / "site_xmalloc.debug"
    shutil.copy(target_path("site_xmalloc"), exe)
    subprocess.run(["objcopy", "--only-keep-debug", exe, dbg], check=True)
    subprocess.run(["strip", "--strip-all", exe], check=True)
    subprocess.run(["objcopy", f"--add-gnu-debuglink={dbg}", exe], cwd=tmp_path, check=True)
    hidden = tmp_path / "elsewhere.debug"
    dbg.rename(hidden)

    def one_run():
        t = target(str(exe), 1000, 3)
        windows, err = watch_windows(watch, t, "-i", "1", "--alloc-exact")
        frames = [fr for w in windows for s in w["stacks"] if s["kind"] == "alloc"
                  for fr in s["frames"]]
        t.finish()
        return frames, err

    frames, err = one_run()
    hints = [line for line in err.splitlines() if "has no symbols beyond its exports" in line]
    assert len(hints) == 1 and str(exe) in hints[0], err
    assert "site_xmalloc.debug" in hints[0] and "/usr/lib/debug/.build-id/" in hints[0], hints
    assert not any(fr.startswith("store_record") for fr in frames), frames[:10]
    hidden.rename(dbg)
    frames, err = one_run()
    assert "has no symbols beyond its exports" not in err, err
    assert any(fr.startswith("store_record+") and "site_xmalloc.c:" in fr for fr in frames), \
        frames[:10]


NAMES = {
    # raw symbol: (the full name's start, the short name)
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE12_M_constructIPKcEEvT_S8_"
    "St20forward_iterator_tag": ("void std::__cxx11::basic_string<char, std::char_traits<char>",
                                 "std::__cxx11::basic_string::_M_construct"),
    "_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__normal_iteratorIPiS1_EE"
    "DpOT_": ("void std::vector<int", "std::vector::_M_realloc_insert"),
    "_Znwm": ("operator new(unsigned long)", "operator new"),
    "_Znam": ("operator new[](unsigned long)", "operator new[]"),
    "_ZStlsISt11char_traitsIcEERSt13basic_ostreamIcT_ES5_PKc": ("std::basic_ostream",
                                                              "std::operator<<"),
    "_ZNK3FooltERKS_": ("Foo::operator<(Foo const&) const", "Foo::operator<"),
    "_ZZ4mainENKUliE_clEi": ("main::{lambda(int)#1}::operator()(int) const",
                             "main::{lambda(int)#1}::operator()"),
    "_ZN12_GLOBAL__N_13Foo3barEi": ("(anonymous namespace)::Foo::bar(int)",
                                    "(anonymous namespace)::Foo::bar"),
    "_ZN3foo3barEv.constprop.0": ("foo::bar() [clone .constprop.0]", "foo::bar"),
    # Rust, legacy mangling (the hash goes) and v0.
    "_ZN4core3fmt5write17h0123456789abcdefE": ("core::fmt::write", "core::fmt::write"),
    "_ZN4core3ptr46drop_in_place$LT$alloc..vec..Vec$LT$u8$GT$$GT$17h3ef9ad8bee6a8b4dE":
        ("core::ptr::drop_in_place<alloc::vec::Vec<u8>>", "core::ptr::drop_in_place"),
    "_RNvXs0_NtCs1234_5alloc3vecINtB5_3VecpENtNtCs5678_4core5clone5Clone5clone":
        ("<alloc::vec::Vec<_> as core::clone::Clone>::clone",
         "<alloc::vec::Vec as core::clone::Clone>::clone"),
    "_RNvMs_NtCs4fqI2P2rA04_4core3fmtNtB4_9Formatter3pad": ("<core::fmt::Formatter>::pad",
                                                           "core::fmt::Formatter::pad"),
    # Zig names are not mangled: generic instances lose their arguments.
    "array_list.ArrayListAligned(u8,null).append": ("array_list.ArrayListAligned(u8,null)",
                                                    "array_list.ArrayListAligned.append"),
    "main": ("main", "main"),
}


def test_names_demangled_and_shortened(tmp_path):
    """C++, Rust (legacy and v0) and Zig names: the full name demangled, the short one
    without template arguments, parameter lists, clones or hashes, never cut."""
    exe = tmp_path / "names_check"
    subprocess.run(["cc", "-D_GNU_SOURCE", f"-I{ROOT}", "-o", exe,
                    ROOT / "tests/decode/names_check.c", ROOT / "analyzer/names.c", "-liberty"],
                   check=True, timeout=120)
    out = subprocess.run([exe, *NAMES], capture_output=True, text=True, check=True).stdout
    for (raw, (full, short)), line in zip(NAMES.items(), out.splitlines()):
        got_full, got_short = line.split("\t")
        assert got_full.startswith(full), (raw, got_full)
        assert got_short == short, (raw, got_short)


def test_redis_names_a_redis_function(tmp_path):
    """Debian's redis-server (no frame pointers, jemalloc, stripped but exporting its
    functions): --alloc on a growing data set names redis functions, not zmalloc or
    jemalloc, and says once which package would name the rest."""
    require_root("uprobes")
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed (scripts/deps.sh installs it)")
    port = 7000 + (int(time.time() * 1000) % 2000)
    proc = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                                  text=True)
            if ping.stdout.strip() == "PONG":
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.2)
        # 9 windows, 15 s of growth: room for windows a loaded machine leaves blind.
        w = subprocess.Popen([MEMSLEUTH, "watch", str(proc.pid), "--json", "-i", "2", "-n", "9",
                              "--alloc"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(3)
        fill_redis(port, 15)
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    finally:
        proc.kill()
        proc.wait()
    windows = [json.loads(line) for line in out.splitlines() if line.strip()]
    # What names the growth: the leak findings, and the whole malloc stacks that grew most
    # in each window. The leak rule may rightly hold back (a stack that also frees the
    # temporaries it makes turns over); the site a user reads must be redis's either way.
    leaks = [f for f in leak_findings(windows) if not f["truncated"]]
    grew = [max((s for s in w["stacks"] if s["kind"] == "alloc" and not s["truncated"]),
                key=lambda s: s["bytes_delta"], default=None) for w in windows[1:]]
    whole = leaks + [s for s in grew if s and s["bytes_delta"] > 0]
    assert whole, [f["summary"] for f in leak_findings(windows)]
    for f in whole:
        assert not re.match(r"(zmalloc|ztrymalloc|zcalloc|zrealloc|je_|malloc|libjemalloc)",
                            f["site"]), f
    assert any(re.match(r"_?sdsnewlen\+|dictAddRaw\+|createObject\+", f["site"])
               for f in whole), [f["site"] for f in whole]
    hints = [line for line in err.splitlines() if "has no symbols beyond its exports" in line]
    assert any("redis" in h and "-dbgsym" in h for h in hints), err


def fill_redis(port, seconds):
    """SETs 200-byte values under new keys for `seconds`: a data set that grows."""
    import socket

    with socket.create_connection(("127.0.0.1", port)) as s:
        t0, i = time.monotonic(), 0
        while time.monotonic() - t0 < seconds:
            keys = [b"key:%d" % (i + j) for j in range(100)]
            s.sendall(b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$200\r\n%s\r\n"
                               % (len(k), k, b"v" * 200) for k in keys))
            i += 100
            got = 0
            while got < 5 * len(keys):
                got += len(s.recv(65536))
            time.sleep(0.01)


def test_top_stacks_panel_one_row_per_site(target, watch, top, tmp_path):
    """top's Stacks panel is keyed by site: keep_copy leaks through two callers (two stacks,
    one function) and is one row that says so; Enter lists each call path with its frames."""
    require_root("uprobes")
    t = target("site_paths", 1000, 4)
    rec = tmp_path / "rec.jsonl"
    watch_windows(watch, t, "-i", "2", "--alloc-exact", "-o", rec)
    r = top("top", "--replay", rec, width=120, height=40)
    r.term.wait_for(r"REPLAY \d+/\d+")
    r.term.keys(">", "5")
    text = r.term.wait_for(r"^ alloc .*  keep_copy \[2 call paths\]$")
    rows = [l for l in text.split("\n") if re.match(r" (alloc|mmap|brk|fault|fd) ", l)]
    # One row per kind and site: the malloc stacks' row, beside the brk and fault rows.
    assert len([l for l in rows if l.startswith(" alloc ") and "keep_copy" in l]) == 1, text
    # The replay stands still: the row's place is where Down takes the selection.
    index = next(i for i, l in enumerate(rows) if l.startswith(" alloc ") and "keep_copy" in l)
    r.term.keys(*["Down"] * index, "Enter")
    text = r.term.wait_for(r"path 2 of 2: ")
    assert re.search(r"^    path 1 of 2: \+[\d.]+ (KiB|MiB), \+\d+ calls$", text, re.M), text
    sites = re.findall(r"^    > keep_copy\+0x[0-9a-f]+ \(site_paths\.c:\d+\)$", text, re.M)
    assert len(sites) == 2, text
    callers = re.findall(r"^      (on_get|on_put)\+0x[0-9a-f]+ \(site_paths\.c:\d+\)$",
                         text, re.M)
    assert sorted(callers) == ["on_get", "on_put"], text
    r.term.keys("q")
    assert r.status() == 0
