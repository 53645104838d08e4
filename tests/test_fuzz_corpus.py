# SPDX-License-Identifier: GPL-2.0-only
"""Replays the fuzz seeds and every crasher the fuzzers found, so they stay fixed: through
the harnesses (built as replay drivers next to the memsleuth under test: `make fuzz-build`,
`make SAN=1 fuzz-build`) and, where the input is a file a user could pass, through
memsleuth diff and report."""
import subprocess
from pathlib import Path

import pytest

from conftest import MEMSLEUTH, SANITIZED

FUZZ = Path(__file__).resolve().parent / "fuzz"
HARNESSES = sorted(p.stem for p in FUZZ.glob("fuzz_*.c"))
DRIVERS = Path(MEMSLEUTH).parent / "fuzz"


def inputs(harness, kind):
    d = FUZZ / kind / harness
    return sorted(p for p in d.iterdir() if p.is_file()) if d.is_dir() else []


def clean_line(text):
    """One line a terminal shows safely."""
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    assert all(ord(c) >= 0x20 and not 0x7f <= ord(c) < 0xa0 for c in lines[0]), lines[0]


def test_every_harness_has_seeds_and_a_driver():
    assert set(HARNESSES) >= {"fuzz_smaps", "fuzz_fds_limits", "fuzz_recording",
                              "fuzz_regions", "fuzz_arena"}
    for h in HARNESSES:
        assert inputs(h, "corpus"), f"{h} has no seed corpus"
        assert (DRIVERS / h).exists(), f"{DRIVERS / h} missing: run 'make fuzz-build'"


@pytest.mark.parametrize("harness", HARNESSES)
def test_corpus_and_regressions_replay_cleanly(harness):
    files = inputs(harness, "corpus") + inputs(harness, "regressions")
    res = subprocess.run([str(DRIVERS / harness), *map(str, files)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip() == f"replayed {len(files)} inputs"
    if SANITIZED:
        assert "Sanitizer" not in res.stderr and "runtime error" not in res.stderr, res.stderr


@pytest.mark.parametrize("path", inputs("fuzz_smaps", "regressions"), ids=lambda p: p.name)
def test_smaps_regressions_through_diff(path):
    res = subprocess.run([MEMSLEUTH, "diff", str(path), str(path), "--json"],
                         capture_output=True, timeout=60)
    assert res.returncode in (0, 1), res.stderr
    if res.returncode == 1:
        clean_line(res.stderr.decode("utf-8"))
    if SANITIZED:
        assert b"Sanitizer" not in res.stderr and b"runtime error" not in res.stderr


@pytest.mark.parametrize("path", inputs("fuzz_recording", "regressions"), ids=lambda p: p.name)
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_recording_regressions_through_report(path, json_flag):
    res = subprocess.run([MEMSLEUTH, "report", str(path), *json_flag], capture_output=True,
                         timeout=60)
    assert res.returncode in (0, 1), res.stderr
    if res.returncode == 1:
        clean_line(res.stderr.decode("utf-8"))
    out = res.stdout.decode("utf-8")
    assert all(ord(c) >= 0x20 or c == "\n" for c in out)
    if SANITIZED:
        assert b"Sanitizer" not in res.stderr and b"runtime error" not in res.stderr
