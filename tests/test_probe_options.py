# SPDX-License-Identifier: GPL-2.0-only
"""Options of the eBPF growth probes: bad values are usage errors (no root needed)."""
import pytest

from conftest import run


@pytest.mark.parametrize("opt,value", [("--fault-rate", "x"), ("--stack-rate", "-1"),
                                       ("--ringbuf-kib", "3"), ("--ringbuf-kib", "24")])
def test_bad_probe_options_are_usage_errors(opt, value):
    res = run(["watch", "1", opt, value])
    assert res.returncode == 2
    assert opt.lstrip("-") in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
