#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Installs memsleuth's build and test dependencies from Debian when missing.
set -eu

# libiberty-dev: the demangler of C++, Rust and D names; g++: C++ test targets;
# libc6-dbg: names of libc's internal functions (malloc internals) in stacks;
# util-linux: unshare, for the mount namespace test, and setpriv; libjemalloc-dev: to
# link a test target with Debian's jemalloc (libjemalloc2 is what it runs with);
# redis-server, memcached, nginx, postgresql (initdb, pgbench): real services the tests
# run on loopback (tests/services.py), loaded from Python or pgbench;
# libmicrohttpd-dev: the /metrics and /debug/pprof server; libzstd-dev: compressed
# recordings (zstd: the tool the tests read them back with); prometheus (with promtool)
# and golang-go (go tool pprof): the real consumers the fleet tests feed.
PKGS="make gcc clang llvm bpftool pkg-config libbpf-dev libelf-dev libdw-dev
      libncurses-dev libjansson-dev zlib1g-dev libmicrohttpd-dev libzstd-dev
      python3 python3-pytest python3-pytest-xdist tmux procps
      g++ libc6-dbg redis-server strace util-linux libjemalloc2 libjemalloc-dev libiberty-dev
      libclang-rt-14-dev memcached nginx postgresql prometheus golang-go zstd"
# `deps.sh bench`: also bcc's memleak and the kernel headers it compiles against,
# which bench_alloc.py compares --alloc with.
if [ "${1:-}" = bench ]; then
    PKGS="$PKGS bpfcc-tools linux-headers-amd64"
fi

missing=""
for p in $PKGS; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "memsleuth: missing build dependencies:$missing" >&2
    echo "install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "memsleuth: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || apt-get update
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
