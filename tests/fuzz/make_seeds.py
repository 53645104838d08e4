#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Regenerates the seed corpora in tests/fuzz/corpus from real processes on this machine.

Run from the repository root after `make all test-targets fuzz-build`, as root (the
recording with eBPF events and the arena memory images need it). Seeds are real /proc text and real recordings, trimmed so
that one fuzz execution stays fast; the fuzzer mutates from there. `make_seeds.py arena`
regenerates only the arena memory images (fuzz_arena).
"""
import ctypes
import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
MEMSLEUTH = ROOT / "build" / "memsleuth"
TARGETS = ROOT / "build" / "tests"


def write(harness, name, data):
    d = CORPUS / harness
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def smaps_records(text):
    """Splits smaps text into one chunk per mapping (header line plus its fields)."""
    records, cur = [], []
    for line in text.splitlines(keepends=True):
        head = line.split(" ", 1)[0]
        if "-" in head and all(c in "0123456789abcdef-" for c in head) and cur:
            records.append("".join(cur))
            cur = []
        cur.append(line)
    if cur:
        records.append("".join(cur))
    return records


KEPT_FIELDS = ("Size:", "Rss:", "Pss:", "Private_Dirty:", "Anonymous:", "Swap:", "VmFlags:")


def trim(text, libs=1):
    """Keeps the mappings but those of shared libraries after the first `libs`, and
    only the fields the region code reads: short seeds make fast executions."""
    out, seen = [], 0
    for rec in smaps_records(text.decode()):
        head, _, fields = rec.partition("\n")
        if ".so" in head:
            seen += 1
            if seen > libs:
                continue
        kept = [f for f in fields.splitlines(keepends=True) if f.startswith(KEPT_FIELDS)]
        out.append(head + "\n" + "".join(kept))
    return "".join(out).encode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def thread_sps(pid):
    """Stack pointers of blocked threads, as memsleuth reads them."""
    sps = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = read(f"/proc/{pid}/task/{tid}/syscall").split()
        except OSError:
            continue
        if len(fields) >= 8:
            sps.append(int(fields[7], 16))
    return sps[:7]


def regions_input(sps, old, new):
    return bytes([len(sps)]) + b"".join(struct.pack("<Q", sp) for sp in sps) + old + b"\0" + new


def start_target(*args):
    p = subprocess.Popen([str(TARGETS / args[0]), *map(str, args[1:])], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("ready")
    return p


def go(p):
    p.stdin.write("go\n")
    p.stdin.flush()
    assert p.stdout.readline().startswith("done")


def smaps_seeds():
    sleeper = subprocess.Popen(["sleep", "60"])
    time.sleep(0.2)
    try:
        text = read(f"/proc/{sleeper.pid}/smaps")
        write("fuzz_smaps", "sleep_full", text)
        write("fuzz_smaps", "sleep_rollup", read(f"/proc/{sleeper.pid}/smaps_rollup"))
        write("fuzz_smaps", "sleep_maps", read(f"/proc/{sleeper.pid}/maps"))
    finally:
        sleeper.kill()
        sleeper.wait()
    recs = smaps_records(read("/proc/self/smaps").decode("utf-8", "replace"))
    write("fuzz_smaps", "python_head", "".join(recs[:6]))
    write("fuzz_smaps", "python_tail", "".join(recs[-6:]))
    # Threads with their own arenas: stacks, guard pages and 64 MiB-aligned heaps.
    p = start_target("stress_limits", 0, 4, 0, 0)
    try:
        go(p)
        text = read(f"/proc/{p.pid}/smaps").decode()
        recs = smaps_records(text)
        anon = [r for r in recs if len(r.split("\n", 1)[0].split()) == 5]
        write("fuzz_smaps", "threads_anon", "".join(anon[:12]))
    finally:
        p.kill()
        p.wait()


def regions_seeds():
    p = start_target("grow_heap_anon", 1, 1)
    try:
        old = trim(read(f"/proc/{p.pid}/smaps"))
        go(p)
        new = trim(read(f"/proc/{p.pid}/smaps"))
        write("fuzz_regions", "grow_heap_anon", regions_input([], old, new))
    finally:
        p.kill()
        p.wait()
    with tempfile.TemporaryDirectory() as d:
        p = start_target("stress_limits", 0, 3, 0, 3, d)
        try:
            old = trim(read(f"/proc/{p.pid}/smaps"))
            go(p)
            new = trim(read(f"/proc/{p.pid}/smaps"))
            write("fuzz_regions", "threads_files",
                  regions_input(thread_sps(p.pid), old, new))
        finally:
            p.kill()
            p.wait()


def fd_seeds():
    libc = ctypes.CDLL(None, use_errno=True)
    keep = [socket.socketpair(), os.pipe(), select.epoll(), os.eventfd(0),
            os.memfd_create("seed"), libc.inotify_init(),
            libc.timerfd_create(1, 0), os.open("/dev/null", os.O_RDONLY)]
    mask = ctypes.create_string_buffer(8)
    keep.append(libc.signalfd(-1, mask, 0))
    links = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if not link.startswith("/tmp/"):    # the test runner's own output files
            links.add(link)
    for i, link in enumerate(sorted(links)):
        write("fuzz_fds_limits", f"link_{i:02d}", link)
    limits = read("/proc/self/limits")
    write("fuzz_fds_limits", "limits_self", limits)
    write("fuzz_fds_limits", "limits_unlimited",
          limits.replace(b"Max open files            20000                20000",
                         b"Max open files            unlimited            unlimited"))
    del keep


def record(args, name):
    out = CORPUS / "fuzz_recording" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    p = start_target("grow_heap_anon", 2, 1)
    try:
        w = subprocess.Popen([str(MEMSLEUTH), "watch", str(p.pid), "-i", "0.3", "--tick",
                              "0.1", "-n", "2", "-o", str(out), "--json", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while "watching PID" not in w.stderr.readline():
            pass
        go(p)
        w.wait(30)
    finally:
        p.kill()
        p.wait()
    return out


def recording_seeds():
    record(["--no-bpf"], "proc_only")
    if os.geteuid() == 0:
        record([], "bpf_events")
    # A recording that uses every line type of the format: stack definitions, stack
    # rows, arenas, events, an end line, and a second target (PID change) at the end.
    lines = (CORPUS / "fuzz_recording" / "proc_only").read_text().splitlines()
    header, samples = lines[0], [json.loads(x) for x in lines[1:] if '"sample"' in x]
    full = [header, json.dumps({"type": "stack", "id": 7,
                                "frames": ["grow+0x1a (grow.c:42)", "main+0x9 (grow.c:80)"]})]
    for i, s in enumerate(samples[:4]):
        s["stacks"] = [[7, "mmap", 65536 * (i + 1), i + 1]]
        s["arenas"] = [{"addr": 140737, "main": True, "threads": 1, "heaps": 1,
                        "system": 135168, "max_system": 135168, "top": 4096, "free": 512,
                        "live": -1, "rss": 12288, "reclaimable": 0, "fragmentation": 0.5}]
        s["events"] = [[s["t"], "mmap", 65536, 4096 * i, 7]]
        s["events_dropped"] = i
        full.append(json.dumps(s))
    other = dict(samples[-1], pid=samples[-1]["pid"] + 1)
    full += [json.dumps(other), json.dumps(dict(other, t=other["t"] + 1)),
             json.dumps({"type": "end", "t": other["t"] + 2, "reason": "target exited"})]
    write("fuzz_recording", "all_line_types", "\n".join(full) + "\n")
    # More samples in one window than the timeline keeps (128): thinning and event hand-on.
    head = json.loads(header)
    head["window_s"] = 1000.0
    lines = [json.dumps(head, separators=(",", ":"))]
    for i in range(140):
        lines.append(json.dumps({"type": "sample", "t": i / 10, "pid": 7,
                                 "totals": {"rss": 4096 * i},
                                 "events": [[i / 10, "brk", 4096, 0, 0]] * (i % 3),
                                 "events_dropped": i % 2}, separators=(",", ":")))
    write("fuzz_recording", "long_window", "\n".join(lines) + "\n")


# A Python process that leaves every kind of free list filled in its main arena: small
# and large chunks that a later malloc sorts out of the unsorted bin, then ten frees per
# fastbin size (seven to the tcache, three to the fastbin; after the large malloc, which
# would have consolidated them). Live blocks between the freed ones keep them apart.
FREE_LISTS_PY = r"""
import ctypes, os
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def fill(sizes):
    keep, drop = [], []
    for size in sizes:
        drop.append(libc.malloc(size))
        keep.append(libc.malloc(size))
    return keep, drop
big = fill([600, 1500, 3000, 20000, 60000] * 3)
fast = fill([24, 40, 56, 72, 88, 104, 120] * 10)
for p in big[1]:
    libc.free(p)
sorted_out = libc.malloc(70000)
for p in fast[1]:
    libc.free(p)
# A malloc of 1 KiB or more would consolidate the fastbins: nothing that allocates now.
os.write(1, b"ready\n")
os.read(0, 1)
"""

HEAP_MAX = 64 << 20


def arena_json(pid):
    """One window of memsleuth's arena figures for `pid` (frozen walk, located by it)."""
    res = subprocess.run([str(MEMSLEUTH), "watch", str(pid), "-i", "0.3", "-n", "1", "--json",
                          "--no-bpf"], capture_output=True, text=True, timeout=60, check=True)
    win = json.loads(res.stdout.splitlines()[-1])
    assert win["arena_read"]["frozen"] and win["arena_read"]["complete"], win["arena_read"]
    return win


def image_bytes(minor, main_arena, heap, tcaches, segments):
    """The harness's input (see fuzz_arena.c): header, tcache pointers, segments."""
    out = struct.pack("<BBHQQQ", minor - 26, len(tcaches) << 1, 0, main_arena, *heap)
    out += b"".join(struct.pack("<Q", t) for t in tcaches)
    return out + b"".join(struct.pack("<QI", a, len(b)) + b for a, b in segments)


def replay_trace(image):
    """Runs the harness on `image`; returns the addresses it read and the figures it found."""
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "in").write_bytes(image)
        env = dict(os.environ, FUZZ_ARENA_TRACE=str(Path(d) / "trace"))
        subprocess.run([str(ROOT / "build" / "fuzz" / "fuzz_arena"), str(Path(d) / "in")],
                       env=env, check=True, capture_output=True, timeout=60)
        lines = (Path(d) / "trace").read_text().splitlines()
    reads = [(int(x.split()[1], 16), int(x.split()[2])) for x in lines if x.startswith("read ")]
    return reads, [x for x in lines if not x.startswith("read ")]


def cut_to_reads(reads):
    """Merged ranges covering every read; gaps shorter than a segment header are kept."""
    out = []
    for lo, n in sorted(reads):
        if out and lo <= out[-1][1] + 12:
            out[-1][1] = max(out[-1][1], lo + n)
        else:
            out.append([lo, lo + n])
    return out


def arena_figures(lines):
    """{arena address: {key: int}} from the harness's "arena ..." trace lines."""
    out = {}
    for x in lines:
        if x.startswith("arena "):
            words = x.split()
            out[int(words[1], 16)] = {k: int(v) for k, v in zip(words[2::2], words[3::2])}
    return out


def arena_seed(name, pid, proc):
    """Captures the memory the arena read reads in `pid` (every chunk header of every heap,
    the free lists' nodes) and checks that the harness, on the cut image, finds memsleuth's
    own figures for every arena."""
    win = arena_json(pid)
    minor = int(win["arena_read"]["glibc"].split(".")[1])
    arenas = win["arenas"]
    main = int(next(a["addr"] for a in arenas if a["main"]), 16)
    maps = [line.split() for line in read(f"/proc/{pid}/maps").decode().splitlines()]
    heap = next(tuple(int(x, 16) for x in m[0].split("-")) for m in maps if m[-1] == "[heap]")
    state_size = 2200 - (8 if minor == 26 else 0)
    # Each thread's tcache is the first chunk its thread allocated: in [heap] for the main
    # thread, right after the malloc_state for a thread arena.
    tcaches = [heap[0] + 16] + [((int(a["addr"], 16) + state_size + 15) & ~15) + 16
                                for a in arenas if not a["main"]]
    wanted = [(main - 64, main + state_size + 64), heap]
    for m in maps:
        lo, hi = (int(x, 16) for x in m[0].split("-"))
        if m[1] == "rw-p" and lo % HEAP_MAX == 0 and len(m) == 5:
            wanted.append((lo, hi))
    with open(f"/proc/{pid}/mem", "rb") as mem:
        segments = []
        for lo, hi in wanted:
            mem.seek(lo)
            segments.append((lo, mem.read(hi - lo)))
    full = image_bytes(minor, main, heap, tcaches, segments)
    reads, figures = replay_trace(full)
    cut = []
    with open(f"/proc/{pid}/mem", "rb") as mem:
        for lo, hi in cut_to_reads(reads):
            mem.seek(lo)
            cut.append((lo, mem.read(hi - lo)))
    seed = image_bytes(minor, main, heap, tcaches, cut)
    assert replay_trace(seed)[1] == figures, (figures, replay_trace(seed)[1])
    assert all(x.endswith(" 0") for x in figures if x.startswith("tcache ")), figures
    assert "is_main 1" in figures, figures
    found = arena_figures(figures)
    for a in arenas:
        f = found[int(a["addr"], 16)]
        assert f["complete"] == 1, f    # every heap parsed whole, every list to its end
        assert [f["system"], f["top"], f["bins"] + f["fast"] + f["tcache"]] == \
            [a["system"], a["top"], a["free"]], (f, a)
    write("fuzz_arena", name, seed)
    proc.kill()
    proc.wait()


def image_segments(image):
    """(offset in the file, address, length) of each segment of a harness input."""
    off = 28 + 8 * ((image[1] >> 1) & 7)
    while off + 12 <= len(image):
        addr, n = struct.unpack_from("<QI", image, off)
        yield off + 12, addr, n
        off += 12 + n


def image_at(image, addr):
    """The file offset of the image's byte at `addr`."""
    return next(off + addr - a for off, a, n in image_segments(image) if a <= addr < a + n)


def image_word(image, addr):
    return struct.unpack_from("<Q", image, image_at(image, addr))[0]


def with_word(image, addr, value):
    out = bytearray(image)
    struct.pack_into("<Q", out, image_at(image, addr), value)
    return bytes(out)


def cycle_seeds(name):
    """A fastbin and a tcache list of the image closed into a loop (glibc 2.32+ links are
    stored as `(address of the link >> 12) ^ next`): the walk must see the cycle."""
    image = (CORPUS / "fuzz_arena" / name).read_bytes()
    main, tcache = struct.unpack_from("<Q", image, 4)[0], struct.unpack_from("<Q", image, 28)[0]

    def closed(link_of, first):
        second = (link_of(first) >> 12) ^ image_word(image, link_of(first))
        return with_word(image, link_of(second), (link_of(second) >> 12) ^ first)

    fast = [image_word(image, main + 16 + 8 * i) for i in range(10)]
    # A list of two chunks or more: the first one's link is not a mangled NULL.
    head = next(p for p in fast if p and image_word(image, p + 16) != (p + 16) >> 12)
    write("fuzz_arena", name + "_fastbin_cycle", closed(lambda p: p + 16, head))
    entries = [image_word(image, tcache + 128 + 8 * i) for i in range(64)]
    counts = struct.unpack_from("<64H", image, image_at(image, tcache))
    head = next(e for e, c in zip(entries, counts) if c >= 3)
    write("fuzz_arena", name + "_tcache_cycle", closed(lambda e: e, head))


def arena_seeds():
    """Real glibc arenas, cut to the bytes the walk reads (a few KiB each)."""
    # Two thread arenas whose bins hold runs of 1 KiB chunks, full tcaches.
    with tempfile.TemporaryDirectory() as d:
        p = start_target("frag_threads", 2, 1, Path(d) / "info")
        go(p)
        arena_seed("frag_threads", p.pid, p)
        # The control: everything freed, malloc_trim'd (big chunks in the bins).
        p = start_target("frag_threads", 1, 1, Path(d) / "info", "control")
        go(p)
        arena_seed("frag_threads_malloc_trim", p.pid, p)
        # Mixed sizes, one free chunk between every two live ones, fastbins filled.
        p = start_target("arena_scale", 1, 1, Path(d) / "info")
        go(p)
        arena_seed("arena_scale", p.pid, p)
    # The same image read another way: lists piece by piece, every fastbin node found
    # through the heap parse (nothing walked "frozen"): byte 0 = minor + 17 * 3.
    image = bytearray((CORPUS / "fuzz_arena" / "arena_scale").read_bytes())
    image[0] += 17 * 3
    write("fuzz_arena", "arena_scale_followed", bytes(image))
    # The main arena with fastbins, small and large bins and the unsorted bin.
    p = subprocess.Popen([sys.executable, "-c", FREE_LISTS_PY], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("ready")
    arena_seed("python_free_lists", p.pid, p)
    cycle_seeds("python_free_lists")


def main():
    if not MEMSLEUTH.exists() or not (TARGETS / "stress_limits").exists():
        sys.exit("run 'make all test-targets fuzz-build' first")
    if sys.argv[1:] == ["arena"]:
        arena_seeds()
        return
    smaps_seeds()
    regions_seeds()
    fd_seeds()
    recording_seeds()
    if os.geteuid() == 0:
        arena_seeds()


if __name__ == "__main__":
    main()
