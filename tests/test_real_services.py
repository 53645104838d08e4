# SPDX-License-Identifier: GPL-2.0-only
"""Issue 12's acceptance on real programs from Debian on loopback (tests/services.py): steady
services raise no warning in default mode nor with --alloc; a cache filling and a dict
growing are reported as growth, not as a leak of allocator code, and given no time to the
limit from a burst. All instances of a test run at once, one memsleuth each."""
import pytest

import services
from conftest import IN_CI, require_root
from watch_many import (alarms, findings, in_parallel, no_gaps, read_all, report, site,
                        watch_all)

# One worker runs the tests that drive the malloc probes hardest, one after another (make
# test: --dist loadgroup; this file, test_real_services.py and test_sites.py): each starts
# up to five busy targets with a watcher each, and two such tests at once on a 2-core
# machine leave the targets late and the duty-cycled probes short of their share. (The
# failures first blamed on this were mostly the harness's: it read a watcher's pipes
# only when it got to them, and a watcher blocked on a full pipe stopped cycling;
# conftest.LineReader now drains them as they are written.)
pytestmark = pytest.mark.xdist_group("malloc-probes")

INTERVAL = 10
# Allocator and C library code: a leak "from" one of these blames glibc (its arenas, the
# start of a thread), jemalloc or pymalloc, not the program (issue 12: "critical leak on
# glibc's arena code" for a cache filling; "mmap from start_thread" for memcached's slabs).
RUNTIME = {"alloc_new_heap", "new_heap", "arena_get2", "_int_new_arena", "sysmalloc",
           "sysmalloc_mmap", "_int_malloc", "_int_realloc", "_int_memalign", "tcache_init",
           "malloc", "calloc", "realloc", "__libc_malloc", "grow_heap", "start_thread",
           "clone", "clone3", "__clone3", "_PyObject_Malloc", "new_arena",
           "_PyMem_ArenaAlloc", "pymalloc_alloc", "allocate_from_new_pool",
           "_PyObject_ArenaMmap"}
# How a leak finding states, as fact, that its bytes are lost (detect_leak's wording): not
# what growth that may be a structure filling up should say.
CONFIRMED = "is not freed"


def is_runtime(func):
    return func in RUNTIME or func.startswith("je_")


@pytest.fixture
def service():
    """Starts services by starter function; closes, at teardown, only the ones it started.
    A program not installed skips the test outside CI and fails it in CI."""
    started = []

    def start(starter, **kw):
        try:
            svc = starter(**kw)
        except services.Missing as e:
            if IN_CI:
                pytest.fail(f"CI must have it installed: {e}")
            pytest.skip(str(e))
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.close()


def watched(service, watch, table, modes, count):
    """Every program of `table` in every mode, started and watched at once; the Runs read."""
    require_root("the probes need root")
    jobs = [(name, mode) for name in table for mode in modes]
    svcs = in_parallel(lambda j: service(table[j[0]], max_s=INTERVAL * count + 200), jobs)
    runs = watch_all(watch, [(f"{n} {m}", s.pid, m) for s, (n, m) in zip(svcs, jobs)],
                     INTERVAL, count)
    read_all(runs, INTERVAL, count)
    for s in svcs:
        s.check()
    return runs


# Real programs are left out of the sanitizer run: the relay controls hold both builds,
# and ten services with their loads twice would double the suite's longest tests.
@pytest.mark.bpf
@pytest.mark.nosan
def test_steady_services_raise_no_warning(service, watch):
    """redis (2000 SET + DEL a second), memcached (2000 requests a second on a 20,000-key
    working set), nginx (200 GETs a second), a postgres backend (pgbench -S, 50 a second)
    and a python3 service (1000 requests a second), in default mode and with --alloc,
    over 6 windows of 10 s."""
    runs = watched(service, watch, services.STEADY, ("default", "alloc"), 6)
    no_gaps([a for r in runs for a in alarms(r)])


def growth_problems(run):
    """What in a growth case's findings breaks issue 12's wording rules."""
    problems = []
    if not any(findings(w, "rss_growth") for w in run.windows[1:]):
        problems.append(f"{run.label}: no rss_growth")
    prev = None
    for i, w in enumerate(run.windows, 1):
        for f in findings(w, "leak"):
            if is_runtime(site(f)):
                problems.append(f"{run.label} w{i}: a leak of C library code: {f['summary']}")
            if CONFIRMED in f["summary"]:
                problems.append(f"{run.label} w{i}: growth worded as a confirmed leak: "
                                f"{f['summary']}")
        for f in findings(w, "chunk_steps"):
            if "growable buffer" in f["summary"]:
                problems.append(f"{run.label} w{i}: buffer advice for a cache: {f['summary']}")
        rate = max(w["totals_delta"]["rss"] / w["window_s"],
                   prev["totals_delta"]["rss"] / prev["window_s"] if prev else 0)
        for f in findings(w, "rss_growth"):
            ev = f["evidence"]
            # A time to the limit must come from the recent growth, not an older burst.
            if "seconds_to_limit" in ev and ev["bytes_per_s"] > 2 * max(rate, 1):
                problems.append(f"{run.label} w{i}: time to limit from {ev['bytes_per_s']:.0f}"
                                f" B/s, the last two windows grew at most {rate:.0f} B/s")
        prev = w
    return problems


@pytest.mark.bpf
@pytest.mark.nosan
def test_growing_cache_and_dict_reported_as_growth(service, watch):
    """memcached -m 1024 filled at 8 MB/s (far from full) and a python3 dict growing by
    5000 entries a second, in default mode and with --alloc, over 4 windows of 10 s:
    rss_growth reported; no leak finding blames C library code or words the growth as a
    confirmed leak; no chunk_steps advice of a growable buffer for slabs; a time to the
    limit only at the rate of the last two windows, not from an older burst."""
    runs = watched(service, watch, services.GROWTH, ("default", "alloc"), 4)
    no_gaps([p for r in runs for p in growth_problems(r)], "findings:\n" + report(runs))
