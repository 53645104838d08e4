# SPDX-License-Identifier: GPL-2.0-only
"""glibc heaps are arena memory however the kernel merged or split their mappings."""
import json

from conftest import MIB, run

HEAP = 64 * MIB
BASE = 0x7F0000000000


def smaps_text(vmas):
    """smaps text for (start, end, perms, rss) anonymous mappings."""
    out = []
    for start, end, perms, rss in vmas:
        size = (end - start) // 1024
        out.append(f"{start:x}-{end:x} {perms} 00000000 00:00 0\n"
                   f"Size: {size} kB\nRss: {rss // 1024} kB\nPss: {rss // 1024} kB\n"
                   f"Private_Dirty: {rss // 1024} kB\nAnonymous: {rss // 1024} kB\n"
                   f"Swap: 0 kB\nVmFlags: rd wr mr mw me ac\n")
    return "".join(out)


def kinds_by_start(tmp_path, vmas):
    """Each mapping's region kind, as `diff` groups a file holding only these mappings."""
    kinds = {}
    for i, v in enumerate(vmas):
        # The mapping alone gains RSS in the second file: its row says where it went.
        old = tmp_path / f"old{i}"
        new = tmp_path / f"new{i}"
        old.write_text(smaps_text(vmas))
        new.write_text(smaps_text([(s, e, p, r + (4096 if j == i else 0))
                                   for j, (s, e, p, r) in enumerate(vmas)]))
        res = run(["diff", old, new, "--json"], check=0)
        grown = [r for r in json.loads(res.stdout)["regions"] if r["rss_delta"] == 4096]
        assert len(grown) == 1, grown
        kinds[v[0]] = grown[0]["kind"]
    return kinds


def test_merged_and_split_heaps_are_arenas(tmp_path):
    a = BASE
    vmas = [
        # Two full heaps merged into one mapping.
        (a, a + 2 * HEAP, "rw-p", MIB),
        # A full heap and the committed start of the next, then the next one's tail.
        (a + 2 * HEAP, a + 3 * HEAP + 8 * MIB, "rw-p", MIB),
        (a + 3 * HEAP + 8 * MIB, a + 4 * HEAP, "---p", 0),
        # One heap cut into three mappings (madvise, mprotect).
        (a + 4 * HEAP, a + 4 * HEAP + MIB, "rw-p", MIB),
        (a + 4 * HEAP + MIB, a + 4 * HEAP + 9 * MIB, "rw-p", MIB),
        (a + 4 * HEAP + 9 * MIB, a + 5 * HEAP, "---p", 0),
        # A heap whose reserved tail merged with a PROT_NONE mapping above it.
        (a + 5 * HEAP, a + 5 * HEAP + 2 * MIB, "rw-p", MIB),
        (a + 5 * HEAP + 2 * MIB, a + 6 * HEAP + 4096, "---p", 0),
    ]
    kinds = kinds_by_start(tmp_path, vmas)
    assert all(k == "arena" for k in kinds.values()), kinds


def test_aligned_anonymous_memory_that_is_no_heap_stays_anon(tmp_path):
    a = BASE
    vmas = [
        # 100 MiB at an aligned address: no heap boundary where it ends.
        (a, a + 100 * MIB, "rw-p", MIB),
        # Aligned, then a read-write neighbour that runs past the heap boundary.
        (a + 2 * HEAP, a + 2 * HEAP + MIB, "rw-p", MIB),
        (a + 2 * HEAP + MIB, a + 3 * HEAP + MIB, "rw-p", MIB),
    ]
    kinds = kinds_by_start(tmp_path, vmas)
    assert all(k == "anon" for k in kinds.values()), kinds


def mapping_at(pid, addr):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo == addr:
                return hi, line.split()[1]
    raise AssertionError(f"no mapping starts at {addr:#x}")


def test_growth_in_merged_heaps_is_arena_growth(target, watch):
    # A thread arena's full first heap and its second heap merge into one mapping, which
    # then grows 2 MiB every 250 ms through three windows: arena memory, not [anon], so no
    # mmap_growth (which an [anon] classification raised in every window).
    t = target("arena_merge", 22, 2, 250)
    w = watch("watch", t.pid, "-i", "2", "-n", "3", "--tick", "0.25", "--json", "--no-bpf")
    done = t.go(timeout=60)
    first, second = int(done["first_heap"], 16), int(done["second_heap"], 16)
    assert second == first + HEAP, done
    end, perms = mapping_at(t.pid, first)
    assert perms == "rw-p" and end > second, "the kernel did not merge the two heaps"
    windows = w.json_windows(timeout=60)
    assert len(windows) == 3
    for win in windows:
        assert "mmap_growth" not in [f["kind"] for f in win["findings"]], win["findings"]
        merged = [r for r in win["regions"] if r["name"] == f"[arena {first:#x}]"]
        assert merged and merged[0]["kind"] == "arena", win["regions"]
    grown = sum(r["rss_delta"] for r in windows[-1]["regions"] if r["kind"] == "arena")
    assert grown >= 4 * MIB, windows[-1]["regions"]
    thread = [a for a in windows[-1]["arenas"] if not a["main"]]
    assert len(thread) == 1 and thread[0]["heaps"] == 2, windows[-1]["arenas"]
    assert windows[-1]["arena_read"]["complete"], windows[-1]["arena_read"]
