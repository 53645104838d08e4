# SPDX-License-Identifier: GPL-2.0-only
"""Real programs from Debian on loopback (redis, memcached, nginx, postgres, python3) with a
private directory each and a bounded load, for the tests and tests/tools/matrix.py.

Every starter returns a Service: `pid` is the process to watch, `close()` stops the load
and then only the processes the starter began, and removes its directory. A program that
is not installed raises Missing (the tests skip on it outside CI and fail in CI).
Loads run in threads of the calling process and end by themselves after `max_s` seconds
(LOAD_MAX_S unless told) or at close(); a load that failed makes check() raise, so that a
test never passes on a server that was idle.
"""
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

LOAD_MAX_S = 300
PYTHON = "/usr/bin/python3"


class Missing(Exception):
    """A program the service needs is not installed; the message names the package."""


def need(path, package):
    if not os.path.exists(path):
        raise Missing(f"{path} is not installed (Debian package {package}; "
                      f"scripts/deps.sh installs it)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}) before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.args[0]} did not listen on {port} in {timeout} s")
            time.sleep(0.05)


def stop(proc, sig=signal.SIGTERM, timeout=15):
    """Stops one process this module started: `sig`, then SIGKILL after `timeout` s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Load(threading.Thread):
    """Calls step() every `period` s (paced on the clock) until stopped or `max_s` passed."""

    def __init__(self, name, step, period, max_s=None):
        super().__init__(name=name, daemon=True)
        self.step, self.period = step, period
        self.max_s = max_s or LOAD_MAX_S
        self.halt = threading.Event()
        self.ops = 0
        self.error = None

    def run(self):
        t0 = time.monotonic()
        i = 0
        try:
            while not self.halt.is_set() and time.monotonic() - t0 < self.max_s:
                self.ops += self.step(i)
                i += 1
                self.halt.wait(max(t0 + i * self.period - time.monotonic(), 0))
        except Exception as e:      # reported by check(), in the test's thread
            if not self.halt.is_set():
                self.error = e


class Service:
    def __init__(self, name, tmpdir):
        self.name, self.tmpdir = name, tmpdir
        self.procs, self.loads = [], []
        self.pid = None
        self.stop_signal = {}

    def start(self, args, stop_signal=signal.SIGTERM, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        proc = subprocess.Popen(args, **kw)
        self.procs.append(proc)
        self.stop_signal[proc.pid] = stop_signal
        return proc

    def load(self, name, step, period, max_s=None):
        t = Load(f"{self.name}-{name}", step, period, max_s)
        self.loads.append(t)
        t.start()
        return t

    def check(self):
        """Raises when a load failed or did nothing, or the watched process has gone."""
        for t in self.loads:
            if t.error:
                raise AssertionError(f"{t.name} failed: {t.error!r}")
            assert t.ops > 0, f"{t.name} made no request"
        assert self.pid and os.path.exists(f"/proc/{self.pid}"), f"{self.name} is gone"

    def ops(self):
        return sum(t.ops for t in self.loads)

    def close(self):
        for t in self.loads:
            t.halt.set()
        for t in self.loads:
            t.join(10)
        for proc in reversed(self.procs):
            stop(proc, self.stop_signal[proc.pid])
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def started(name, setup, owner=None):
    """A Service with a fresh directory (owned by `owner`, a user name, when given), set up
    by `setup(svc)`; closed again if the set-up fails."""
    tmpdir = tempfile.mkdtemp(prefix=f"memsleuth-{name}-")
    svc = Service(name, tmpdir)
    try:
        if owner:
            shutil.chown(tmpdir, owner, owner)
        setup(svc)
        return svc
    except BaseException:
        svc.close()
        raise


class Conn:
    """A request/response connection: send bytes, read until `count` replies have ended
    (each reply ending in `end`)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def ask(self, data, end, count):
        self.sock.sendall(data)
        while self.buf.count(end) < count:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        # Cut after the count-th terminator; what follows belongs to later replies.
        at = 0
        for _ in range(count):
            at = self.buf.index(end, at) + len(end)
        reply, self.buf = self.buf[:at], self.buf[at:]
        return reply


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


# ---- redis-server: keys added, the one WINDOW behind deleted (RSS flat) ----

REDIS_WINDOW = 20000


def redis_steady(rate=2000, max_s=None):
    """redis-server, filled with REDIS_WINDOW keys; then `rate` SETs a second, each with
    the DEL of the key REDIS_WINDOW behind it: a steady key count and bytes."""
    server = need("/usr/bin/redis-server", "redis-server")

    def setup(svc):
        port = free_port()
        proc = svc.start([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", svc.tmpdir, "--daemonize", "no"])
        wait_port(port, proc)
        svc.pid = proc.pid
        conn = Conn(port)
        rng = random.Random(12)

        def value():
            return b"v" * rng.randint(100, 500)
        for base in range(0, REDIS_WINDOW, 500):
            conn.ask(b"".join(resp("SET", f"key:{i}", value()) for i in range(base, base + 500)),
                     b"\r\n", 500)
        batch = max(rate // 50, 1)

        def step(i):
            first = REDIS_WINDOW + i * batch
            cmds = []
            for k in range(first, first + batch):
                cmds.append(resp("SET", f"key:{k}", value()))
                cmds.append(resp("DEL", f"key:{k - REDIS_WINDOW}"))
            conn.ask(b"".join(cmds), b"\r\n", 2 * batch)
            return batch
        svc.load("set-del", step, 0.02, max_s)
    return started("redis", setup)


# ---- memcached: a steady working set, or a large cache filling ----

def memcached_start(svc, megabytes):
    server = need("/usr/bin/memcached", "memcached")
    port = free_port()
    # -u: memcached refuses to run as root without a user to switch to; -U 0: no UDP.
    proc = svc.start([server, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m",
                      str(megabytes), "-t", "4", "-u", "nobody"])
    wait_port(port, proc)
    svc.pid = proc.pid
    return Conn(port)


def mc_set(key, size):
    return b"set %s 0 0 %d\r\n%s\r\n" % (key.encode(), size, b"m" * size)


def memcached_steady(rate=2000, keys=20000, max_s=None):
    """memcached -m 64 with `keys` keys of 100-1000 B set before the watch; then `rate`
    requests a second, three sets (a random key replaced) to one get."""
    def setup(svc):
        conn = memcached_start(svc, 64)
        rng = random.Random(7)
        for base in range(0, keys, 500):
            conn.ask(b"".join(mc_set(f"k{i}", rng.randint(100, 1000))
                              for i in range(base, base + 500)), b"STORED\r\n", 500)
        batch = max(rate // 50, 4)

        def step(i):
            sets = [mc_set(f"k{rng.randrange(keys)}", rng.randint(100, 1000))
                    for _ in range(batch * 3 // 4)]
            conn.ask(b"".join(sets), b"STORED\r\n", len(sets))
            gets = batch - len(sets)
            conn.ask(b"".join(b"get k%d\r\n" % rng.randrange(keys) for _ in range(gets)),
                     b"END\r\n", gets)
            return batch
        svc.load("set-get", step, 0.02, max_s)
    return started("memcached", setup)


def memcached_fill(rate=2000, size=4000, megabytes=1024, max_s=None):
    """memcached -m `megabytes` filled by `rate` sets a second of new keys of `size`
    bytes (8 MB/s by default: a 1 GiB cache takes over 2 minutes to fill)."""
    def setup(svc):
        conn = memcached_start(svc, megabytes)
        batch = max(rate // 50, 1)

        def step(i):
            conn.ask(b"".join(mc_set(f"fill{i}-{k}", size) for k in range(batch)),
                     b"STORED\r\n", batch)
            return batch
        svc.load("fill", step, 0.02, max_s)
    return started("memcached-fill", setup)


# ---- nginx: its own prefix, config and pid file; the worker is watched ----

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/html;
        location / {{ }}
    }}
}}
"""


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def wait_child(parent, match, proc, timeout=20, old=()):
    """The pid of a child of `parent`, not in `old`, whose command line contains `match`."""
    deadline = time.monotonic() + timeout
    while True:
        for pid in children(parent):
            if pid not in old and match in cmdline(pid):
                return pid
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no child of {parent} matching {match!r} in {timeout} s")
        time.sleep(0.05)


def nginx_steady(rate=200, max_s=None):
    """nginx with one worker serving three static files on keep-alive connections,
    `rate` GETs a second (a 1 KiB page, a 64 KiB file, a missing page)."""
    server = need("/usr/sbin/nginx", "nginx")

    def setup(svc):
        prefix = svc.tmpdir
        os.chmod(prefix, 0o755)        # the worker runs as nobody and reads html/
        os.makedirs(f"{prefix}/html")
        os.makedirs(f"{prefix}/tmp")
        with open(f"{prefix}/html/index.html", "w") as f:
            f.write("<html>" + "x" * 1024 + "</html>\n")
        with open(f"{prefix}/html/big.bin", "wb") as f:
            f.write(bytes(range(256)) * 256)
        port = free_port()
        with open(f"{prefix}/nginx.conf", "w") as f:
            f.write(NGINX_CONF.format(prefix=prefix, port=port))
        proc = svc.start([server, "-p", prefix, "-c", f"{prefix}/nginx.conf", "-e",
                          f"{prefix}/error.log"], stop_signal=signal.SIGQUIT)
        wait_port(port, proc)
        svc.pid = wait_child(proc.pid, "worker process", proc)
        conn = Conn(port)
        paths = ["/index.html", "/big.bin", "/missing"]
        batch = max(rate // 20, 1)

        def step(i):
            # Each response ends after its body; HEAD-less GETs with Content-Length are
            # read whole by asking for one request at a time.
            for k in range(batch):
                path = paths[(i * batch + k) % len(paths)]
                head = conn.ask(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode(),
                                b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(conn.buf) < length:
                    chunk = conn.sock.recv(1 << 16)
                    if not chunk:
                        raise ConnectionError("nginx closed the connection")
                    conn.buf += chunk
                conn.buf = conn.buf[length:]
            return batch
        svc.load("get", step, 0.05, max_s)
    return started("nginx", setup)


# ---- postgres: a private cluster; a new backend serving pgbench -S ----

def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise Missing(f"postgres' {name} is not installed (Debian package postgresql; "
                      "scripts/deps.sh installs it)")
    return found[-1]


def postgres_backend(rate=50, scale=5, max_s=None):
    """A private postgres cluster (initdb as the postgres user, trust on loopback only),
    a pgbench table of `scale` (x 100,000 rows) loaded, then a new backend serving
    `pgbench -S` at `rate` transactions a second: the backend is watched from its start,
    touching shared buffers other backends filled."""
    initdb, postgres, pgbench = pg_bin("initdb"), pg_bin("postgres"), pg_bin("pgbench")
    isready = pg_bin("pg_isready")

    def setup(svc):
        data = f"{svc.tmpdir}/data"
        # setpriv execs (runuser would stay as the parent): the pid started is postgres'.
        as_pg = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
        subprocess.run([*as_pg, initdb, "-D", data, "-U", "postgres", "--auth=trust",
                        "--no-sync"], check=True, capture_output=True, timeout=120)
        port = free_port()
        # SIGQUIT: postgres' immediate shutdown, no checkpoint of a cluster thrown away
        # (SIGTERM waits for clients to leave; SIGINT's checkpoint took seconds under load).
        proc = svc.start([*as_pg, postgres, "-D", data, "-p", str(port), "-k", svc.tmpdir,
                          "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                          "-c", "shared_buffers=128MB"], stop_signal=signal.SIGQUIT)
        wait_port(port, proc)
        db = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        # The port opens before the cluster accepts connections ("starting up").
        deadline = time.monotonic() + 60
        while subprocess.run([isready, "-q", *db], timeout=30).returncode != 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("postgres did not accept connections in 60 s")
            time.sleep(0.1)
        subprocess.run([pgbench, "-i", "-q", "-s", str(scale), *db, "postgres"], check=True,
                       capture_output=True, timeout=300)
        seconds = int(max_s or LOAD_MAX_S)
        # The backend of `pgbench -i` may still be on its way out: not that one.
        old = set(children(proc.pid))
        bench = svc.start([pgbench, "-S", "-n", "-c", "1", "-R", str(rate), "-T",
                           str(seconds), *db, "postgres"], stop_signal=signal.SIGINT)
        # pgbench asks something on a first connection of its own before the run's.
        while True:
            pid = wait_child(proc.pid, "postgres postgres 127.0.0.1", bench, old=old)
            time.sleep(1)
            if os.path.exists(f"/proc/{pid}"):
                break
            old.add(pid)
        svc.pid = pid
        svc.bench = bench

        def step(i):
            if bench.poll() not in (None, 0):
                raise RuntimeError(f"pgbench exited with {bench.returncode}")
            return 1 if bench.poll() is None else 0
        svc.load("pgbench", step, 1.0, max_s)
    return started("postgres", setup, owner="postgres")


# ---- python3: a steady service, and a dict that grows ----

PY_COMMON = r"""
import os, sys, threading, time, random
def watch_stdin():
    sys.stdin.read()        # the test closed our stdin or died: stop
    os._exit(0)
threading.Thread(target=watch_stdin, daemon=True).start()
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
rng = random.Random(5)
"""

PY_STEADY = PY_COMMON + r"""
import collections, json
cache = collections.OrderedDict()
def request(i):
    doc = {"id": i, "items": [rng.random() for _ in range(40)],
           "name": "n" * rng.randint(10, 300)}
    text = json.dumps(doc)
    back = json.loads(text)
    key = rng.randrange(50000)
    cache[key] = text
    cache.move_to_end(key)
    if len(cache) > 20000:
        cache.popitem(last=False)
    return len(back["items"])
i = 0
while len(cache) < 20000:
    request(i); i += 1
print("ready", os.getpid(), flush=True)
t0, n = time.monotonic(), 0
while time.monotonic() - t0 < seconds:
    for _ in range(10):
        request(i + n)
        n += 1
    time.sleep(max(t0 + n / rate - time.monotonic(), 0))
"""

PY_DICT = PY_COMMON + r"""
table = {}
print("ready", os.getpid(), flush=True)
t0 = time.monotonic()
i = 0
while time.monotonic() - t0 < seconds:
    for _ in range(100):
        table["key-%d" % i] = ("v" * rng.randint(20, 100), i)
        i += 1
    time.sleep(max(t0 + i / rate - time.monotonic(), 0))
"""


def python_script(name, script, rate, max_s=None):
    def setup(svc):
        proc = svc.start([PYTHON, "-c", script, str(rate), str(max_s or LOAD_MAX_S)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = proc.stdout.readline().decode()
        if not line.startswith("ready"):
            raise RuntimeError(f"{name}: expected 'ready', got {line!r}")
        svc.pid = proc.pid

        def step(i):
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}")
            return 1
        svc.load("alive", step, 1.0, max_s)
    return started(name, setup)


def python_steady(rate=1000, max_s=None):
    """python3 serving `rate` requests a second: JSON out and back, a bounded
    OrderedDict cache of 20,000 entries (full before ready)."""
    return python_script("python-steady", PY_STEADY, rate, max_s)


def python_dict_growth(rate=5000, max_s=None):
    """python3 adding `rate` entries a second (a 20-100 byte string and an int each) to
    one dict that is never trimmed: about 0.8 MB/s, with the dict's table doubling."""
    return python_script("python-dict", PY_DICT, rate, max_s)


STEADY = {"redis": redis_steady, "memcached": memcached_steady, "nginx": nginx_steady,
          "postgres": postgres_backend, "python": python_steady}
GROWTH = {"memcached-fill": memcached_fill, "python-dict": python_dict_growth}


if __name__ == "__main__":
    # By hand: python3 tests/services.py NAME starts one and prints its pid until Ctrl-C.
    with {**STEADY, **GROWTH}[sys.argv[1]]() as s:
        print(s.name, s.pid, flush=True)
        try:
            while True:
                time.sleep(5)
                s.check()
                print(s.name, "ops", s.ops(), flush=True)
        except KeyboardInterrupt:
            pass
