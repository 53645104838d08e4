# SPDX-License-Identifier: GPL-2.0-only
"""The arena decoder on random memory images: every call ends, nothing crashes (ASan+UBSan)."""
import shutil
import subprocess

import pytest

from conftest import ROOT


def test_decoder_survives_random_images(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler")
    exe = tmp_path / "arena_garbage"
    subprocess.run([cc, "-O1", "-g", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    "-D_GNU_SOURCE", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=all", "-I", str(ROOT), "-o", str(exe),
                    str(ROOT / "tests/decode/arena_garbage.c"),
                    str(ROOT / "collectors/arena_decode.c"),
                    str(ROOT / "collectors/arena_chain.c")], check=True, timeout=120)
    for seed in (1, 2, 3):
        res = subprocess.run([str(exe), "3000", str(seed)], capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith("ok iterations=3000"), res.stdout
        assert "runtime error" not in res.stderr
