# SPDX-License-Identifier: GPL-2.0-only
"""A real terminal for the live view's tests: a tmux server of our own, read with capture-pane."""
import itertools
import os
import re
import shlex
import subprocess
import time

_ids = itertools.count()
_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class Term:
    """One tmux server (its own socket) running one window of `width` x `height`."""

    def __init__(self, command, width=80, height=24, env=None, tmp=None):
        self.sock = f"memsleuth-test-{os.getpid()}-{next(_ids)}"
        self.tmp = tmp
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.env = full_env
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), command)

    def _tmux(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", *args],
                              capture_output=True, text=True, env=self.env, timeout=20,
                              check=check)

    def screen(self):
        """The visible screen as a list of lines (trailing blanks kept off)."""
        res = self._tmux("capture-pane", "-p", "-J", check=False)
        if res.returncode != 0:
            return []
        return [line.rstrip() for line in res.stdout.rstrip("\n").split("\n")]

    def text(self):
        return "\n".join(self.screen())

    def selected(self):
        """The lines that hold reverse video (the live view's selected row), as plain text."""
        res = self._tmux("capture-pane", "-p", "-e", check=False)
        return [_ESCAPE.sub("", line).rstrip() for line in res.stdout.split("\n")
                if "\x1b[7m" in line]

    def keys(self, *keys):
        """Presses keys by tmux name (Tab, Enter, BTab, F1, Up...) or literal strings."""
        for k in keys:
            self._tmux("send-keys", k)

    def type(self, text):
        self._tmux("send-keys", "-l", text)

    def resize(self, width, height):
        self._tmux("resize-window", "-x", str(width), "-y", str(height))

    def size(self):
        out = self._tmux("display-message", "-p", "#{pane_width}x#{pane_height}").stdout
        return tuple(int(v) for v in out.strip().split("x"))

    def pane_pid(self):
        return int(self._tmux("display-message", "-p", "#{pane_pid}").stdout.strip())

    def wait_for(self, what, timeout=30):
        """Waits until `what` (a regex, or a predicate over the text) holds; returns the text."""
        pred = what if callable(what) else (lambda t: re.search(what, t, re.M) is not None)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if pred(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"screen never showed {what!r}; it shows:\n{text}")

    def kill(self):
        self._tmux("kill-server", check=False)


def memsleuth_command(memsleuth, args, errfile):
    """A shell command line running memsleuth with stderr kept in `errfile`."""
    cmd = " ".join(shlex.quote(str(a)) for a in [memsleuth, *args])
    return f"{cmd} 2>{shlex.quote(str(errfile))}"


def check_stderr(errfile):
    """No sanitizer report in what memsleuth wrote on stderr; returns the text."""
    text = open(errfile).read() if os.path.exists(errfile) else ""
    assert "Sanitizer" not in text and "runtime error" not in text, text
    return text
