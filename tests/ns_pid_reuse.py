# SPDX-License-Identifier: GPL-2.0-only
"""Helper for test_hostile.py, run as PID 1 of a new pid namespace (unshare --pid --fork
--mount-proc): gives a watched target's PID to a new process while memsleuth is stopped.

Usage: ns_pid_reuse.py MEMSLEUTH TARGETS_DIR. Prints one JSON object: the PIDs of the old
and new process, memsleuth's exit status, stdout and stderr. In a namespace of its own the
PIDs are ours alone, so ns_last_pid steers the next fork without racing anyone.
"""
import json
import os
import signal
import subprocess
import sys


def start(path, *args):
    p = subprocess.Popen([path, *map(str, args)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        raise SystemExit(f"{path}: expected 'ready', got {line!r}")
    return p


def main():
    memsleuth, targets = sys.argv[1], sys.argv[2]
    old = start(os.path.join(targets, "grow_heap_anon"), 0, 0)
    watch = subprocess.Popen([memsleuth, "watch", str(old.pid), "-i", "0.3", "--tick", "0.1",
                              "--json", "--no-bpf"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    err = []
    while True:
        line = watch.stderr.readline()
        err.append(line)
        if not line or "watching PID" in line:
            break
    # One window from the real target first, so the run is known to be under way.
    out = [watch.stdout.readline()]
    os.kill(watch.pid, signal.SIGSTOP)
    old.kill()
    old.wait()
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(old.pid - 1))
    new = start(os.path.join(targets, "stress_limits"), 0, 0, 0, 0)
    os.kill(watch.pid, signal.SIGCONT)
    try:
        rest, rest_err = watch.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        watch.kill()
        rest, rest_err = watch.communicate()
    new_alive = new.poll() is None
    new.kill()
    new.wait()
    print(json.dumps({"old": old.pid, "new": new.pid, "new_alive": new_alive,
                      "status": watch.returncode, "stdout": "".join(out) + rest,
                      "stderr": "".join(err) + rest_err}))


if __name__ == "__main__":
    main()
