# SPDX-License-Identifier: GPL-2.0-only
"""The house rules: each folder includes only the layers below it.

    lib/        containers, text safety, logging, clocks, units: nothing of the project
    analyzer/   pure analysis: lib/ only
    recording/  the versioned recording format: analyzer/ and lib/
    collectors/ read the world: analyzer/ (the sample it fills), lib/, bpf/ shared headers
    tui/        the live view: analyzer/ (the model) and lib/
    export/     formats other tools read (Prometheus, pprof): analyzer/ and lib/
    cli/        dispatch, commands, printers: anything
    bpf/        kernel side: its own headers and the generated vmlinux.h

A violation names the file, the line and the rule it breaks."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ALLOWED = {
    "lib": {"lib"},
    "analyzer": {"analyzer", "lib"},
    "recording": {"recording", "analyzer", "lib"},
    "collectors": {"collectors", "analyzer", "lib", "bpf", "skeleton"},
    "tui": {"tui", "analyzer", "lib"},
    "export": {"export", "analyzer", "lib"},
    "cli": {"cli", "collectors", "analyzer", "recording", "tui", "export", "lib", "bpf",
            "skeleton"},
    "bpf": {"bpf", "vmlinux"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(included, src):
    """The layer an included path belongs to."""
    if included.endswith(".skel.h"):
        return "skeleton"
    if included == "vmlinux.h":
        return "vmlinux"
    if "/" not in included:
        # bpf/ includes its siblings by bare name (-Ibpf)
        return src.parent.name
    return included.split("/", 1)[0]


def sources():
    for layer in ALLOWED:
        for path in sorted((ROOT / layer).glob("*.[ch]")):
            yield layer, path


def violations(layer, name, text):
    """The includes of `text` (a file of `layer` named `name`) that the layer may not make."""
    for m in INCLUDE.finditer(text):
        inc = m.group(1)
        if layer_of(inc, Path(name)) not in ALLOWED[layer]:
            line = text.count("\n", 0, m.start()) + 1
            yield f"{name}:{line}: {layer}/ may not include {inc}"


def test_every_layer_exists():
    for layer in ALLOWED:
        assert (ROOT / layer).is_dir(), f"{layer}/ is missing"


def test_includes_follow_the_layers():
    bad = [v for layer, path in sources()
           for v in violations(layer, str(path.relative_to(ROOT)), path.read_text(errors="replace"))]
    assert not bad, "layering broken:\n" + "\n".join(bad)


@pytest.mark.parametrize("layer,text,expected", [
    ("tui", '#include "tui/panel.h"\n#include "collectors/log.h"\n', ["collectors/log.h"]),
    ("tui", '#include "cli/util.h"\n', ["cli/util.h"]),
    ("analyzer", '#include "lib/vec.h"\n#include "collectors/proc.h"\n', ["collectors/proc.h"]),
    ("collectors", '#include "cli/print.h"\n#include "tui/tui.h"\n', ["cli/print.h", "tui/tui.h"]),
    ("lib", '#  include "analyzer/sample.h"\n', ["analyzer/sample.h"]),
    ("recording", '#include "cli/print.h"\n', ["cli/print.h"]),
    ("cli", '#include "tui/tui.h"\n#include "collectors/proc.h"\n', []),
])
def test_checker_catches_violations(layer, text, expected):
    """The rule itself can fail: each forbidden include is named, allowed ones are not."""
    found = [v.rsplit(" ", 1)[1] for v in violations(layer, f"{layer}/x.c", text)]
    assert found == expected


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_no_file_cites_a_document_outside_the_repository(layer):
    """Comments may only point at files the repository holds."""
    bad = []
    for path in sorted((ROOT / layer).glob("*.[ch]")):
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if "DESIGN.md" in line or "STYLE.md" in line:
                bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, "comments cite documents the repository does not hold:\n" + "\n".join(bad)
