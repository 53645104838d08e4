# SPDX-License-Identifier: GPL-2.0-only
"""cgroups made for a test and removed after it: a group of the hierarchy that accounts memory,
and a plain cgroup v2 group for naming targets."""
import uuid
from pathlib import Path

import pytest

from conftest import require_root


def mounts():
    """(mount point, type, options) of every cgroup mount."""
    out = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mnt, kind, opts = line.split()[:4]
        if kind in ("cgroup", "cgroup2"):
            out.append((mnt, kind, opts.split(",")))
    return out


def v2_root():
    return next((m for m, kind, _ in mounts() if kind == "cgroup2"), None)


def memory_hierarchy():
    """("v2" or "v1", mount point) of the hierarchy with the memory controller, or (None, None).
    A hybrid host binds memory to v1 and mounts v2 without it."""
    root = v2_root()
    if root and "memory" in (Path(root) / "cgroup.controllers").read_text().split():
        return "v2", root
    v1 = next((m for m, kind, opts in mounts() if kind == "cgroup" and "memory" in opts), None)
    return ("v1", v1) if v1 else (None, None)


class Group:
    """A fresh group below `root`, given `limit` bytes when the hierarchy accounts memory."""

    def __init__(self, root, kind, limit=None):
        self.root = Path(root)
        self.kind = kind
        self.name = f"memsleuth-test-{uuid.uuid4().hex[:8]}"
        self.dir = self.root / self.name
        self.path = "/" + self.name      # as /proc/PID/cgroup spells it
        self.dir.mkdir()
        if limit is not None:
            (self.dir / ("memory.max" if kind == "v2" else "memory.limit_in_bytes")).write_text(
                str(limit))

    def add(self, pid):
        (self.dir / "cgroup.procs").write_text(str(pid))

    def remove(self):
        """Moves what is left back to the root (a process of the test's, if it lives on) and
        removes the group."""
        for pid in (self.dir / "cgroup.procs").read_text().split():
            try:
                (self.root / "cgroup.procs").write_text(pid)
            except OSError:
                pass
        self.dir.rmdir()


@pytest.fixture
def memory_group():
    """A group of the hierarchy that accounts memory, with a 1 GiB limit: on a cgroup v2 host a
    v2 group; on a hybrid host (memory bound to v1, as on the development machine) a v1 group
    at the root of the memory hierarchy, so that nothing is created inside the groups of
    whatever runs the tests."""
    require_root("creating cgroups")
    kind, root = memory_hierarchy()
    if kind is None:
        pytest.skip("no cgroup hierarchy has the memory controller here")
    g = Group(root, kind, limit=1 << 30)
    yield g
    g.remove()


@pytest.fixture
def v2_group():
    """A plain cgroup v2 group (no controller needed): what --cgroup names."""
    require_root("creating cgroups")
    root = v2_root()
    if root is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    g = Group(root, "v2")
    yield g
    g.remove()
