#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""By hand: watch each service-shaped target and real program of issue 12 in each probe mode,
one run at a time, and print every finding as a table row (target, mode, window, kind,
severity, summary).

usage: python3 tests/tools/matrix.py [-i SECONDS] [-n COUNT] [--only NAME,...]
                                     [--modes MODE,...] [--save DIR | --load DIR]
                                     [--markdown] [--summary]
Runs `memsleuth watch PID -i 10 -n 6 --json` with no probe option (default), --alloc,
--alloc-exact and --alloc-sample 65536. Needs root, `make all test-targets`, and the
Debian packages of scripts/deps.sh. --save keeps each run's JSON windows as
DIR/NAME.MODE.jsonl; --load DIR reads them back instead of running; --summary prints
one row per target and mode (each finding kind and severity with the windows it was in)
instead of one per finding. Each run is bounded (the watch, its target and the load stop by
themselves); the whole matrix takes about 70 s a run.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import services  # noqa: E402
from conftest import Target, Watch  # noqa: E402
from watch_many import MODES, site  # noqa: E402

ARENA_MAX_2 = dict(os.environ, MALLOC_ARENA_MAX="2")


def target(name, *args, env=None):
    """A test target as a subject: started, then told to go once memsleuth watches."""
    def start(seconds):
        t = Target(name, *args, seconds, env=env, timeout=30)
        return t, t.pid, lambda: t.send("go"), t.kill
    return start


def program(starter):
    def start(seconds):
        svc = starter(max_s=seconds)
        return svc, svc.pid, lambda: None, svc.close
    return start


SUBJECTS = {
    "relay-steady": target("relay", "steady", env=ARENA_MAX_2),
    "relay-leak": target("relay", "leak", env=ARENA_MAX_2),
    "relay_nofp-leak": target("relay_nofp", "leak", env=ARENA_MAX_2),
    "staircase": target("render_pool", "staircase"),
    "doubling": target("render_pool", "doubling"),
    "small-leak": target("grow_modes", "leak"),
    **{name: program(fn) for name, fn in {**services.STEADY, **services.GROWTH}.items()},
}


def short(text, width):
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def run_one(name, mode, interval, count, save):
    seconds = interval * count + 15
    subject, pid, go, close = SUBJECTS[name](seconds)
    try:
        w = Watch(["watch", pid, "-i", interval, "-n", count, "--json", *MODES[mode]],
                  timeout=60)
        go()
        code, out, err = w.wait(timeout=interval * count + 120)
        if isinstance(subject, services.Service):
            subject.check()
    finally:
        close()
    windows = [json.loads(line) for line in out.splitlines() if line.strip()]
    if save:
        Path(save, f"{name}.{mode}.jsonl").write_text(out)
    if code != 0:
        print(f"# {name} {mode}: memsleuth exit {code}: {short(err, 300)}", file=sys.stderr)
    return windows


def summary_rows(name, mode, windows, width):
    """One row: every (kind, severity) with the windows it was raised in; a leak also
    with the function its summary names."""
    seen = {}
    for i, w in enumerate(windows, 1):
        for f in w["findings"]:
            kind = f"leak({site(f)})" if f["kind"] == "leak" else f["kind"]
            seen.setdefault((kind, f["severity"]), set()).add(i)
    cells = [f"{sev} {kind} w{','.join(map(str, sorted(ws)))}"
             for (kind, sev), ws in sorted(seen.items(), key=lambda kv: min(kv[1]))]
    return [(name, mode, str(len(windows)), short("; ".join(cells) or "none", width))]


def rows(name, mode, windows, width):
    out = []
    for w in windows:
        found = [f for f in w["findings"]] or [{"kind": "-", "severity": "-", "summary": ""}]
        for f in found:
            out.append((name, mode, str(w.get("window", "?")), f["kind"], f["severity"],
                        short(f["summary"], width)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-i", type=int, default=10)
    ap.add_argument("-n", type=int, default=6)
    ap.add_argument("--only", default="", help="comma-separated subjects: " + ",".join(SUBJECTS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--save")
    ap.add_argument("--load", help="read DIR/NAME.MODE.jsonl instead of running")
    ap.add_argument("--summary", action="store_true", help="one row per target and mode")
    ap.add_argument("--markdown", action="store_true", help="rows as a Markdown table")
    ap.add_argument("--width", type=int, default=110, help="summary width")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(SUBJECTS)
    if args.save:
        os.makedirs(args.save, exist_ok=True)
    head = (("target", "mode", "windows", "findings (severity kind, windows)") if args.summary
            else ("target", "mode", "window", "kind", "severity", "summary"))
    to_rows = summary_rows if args.summary else rows
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
    else:
        print("\t".join(head))
    for name in names:
        for mode in args.modes.split(","):
            t0 = time.monotonic()
            saved = Path(args.load or ".", f"{name}.{mode}.jsonl")
            try:
                if args.load:
                    windows = [json.loads(line) for line in saved.read_text().splitlines()
                               if line.strip()]
                else:
                    windows = run_one(name, mode, args.i, args.n, args.save)
            except (services.Missing, AssertionError, RuntimeError, OSError) as e:
                print(f"# {name} {mode}: not run: {short(str(e), 300)}", file=sys.stderr)
                continue
            for r in to_rows(name, mode, windows, args.width):
                r = [c.replace("|", "\\|") for c in r] if args.markdown else r
                print(("| " + " | ".join(r) + " |") if args.markdown else "\t".join(r),
                      flush=True)
            print(f"# {name} {mode}: {len(windows)} windows in {time.monotonic() - t0:.0f} s",
                  file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
