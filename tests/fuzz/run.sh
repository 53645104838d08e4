#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs every libFuzzer harness in DIR one after another (or only FUZZ_ONLY, a harness
# name), each bounded by FUZZ_SECONDS or by FUZZ_RUNS executions; new inputs go to
# build-fuzz/corpus, crashers to build-fuzz/crashes. Exits 1 when any harness found a
# crash, leak or UB.
set -u

dir=${1:?usage: run.sh BUILD/fuzz}
here=$(cd "$(dirname "$0")" && pwd)
work=$(dirname "$dir")
seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-}
only=${FUZZ_ONLY:-}
status=0

for bin in "$dir"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    [ -z "$only" ] || [ "$name" = "$only" ] || continue
    corpus="$work/corpus/$name"
    crashes="$work/crashes/$name"
    mkdir -p "$corpus" "$crashes"
    set -- -print_final_stats=1 -artifact_prefix="$crashes/" -max_len=65536 \
        -rss_limit_mb=2048 -timeout=10
    if [ -n "$runs" ]; then
        set -- "$@" -runs="$runs"
    else
        set -- "$@" -max_total_time="$seconds"
    fi
    [ -f "$here/$name.dict" ] && set -- "$@" -dict="$here/$name.dict"
    # Per-harness flags (one per line), e.g. a smaller -max_len where inputs are slow.
    if [ -f "$here/$name.options" ]; then
        while read -r opt; do
            case "$opt" in ''|'#'*) ;; *) set -- "$@" "$opt" ;; esac
        done < "$here/$name.options"
    fi
    seeds=""
    for d in "$here/corpus/$name" "$here/regressions/$name"; do
        [ -d "$d" ] && seeds="$seeds $d"
    done
    echo "== $name" >&2
    start=$(date +%s)
    # shellcheck disable=SC2086
    if ! "$bin" "$@" "$corpus" $seeds 2>"$work/$name.log"; then
        echo "$name: FAILED, see $work/$name.log and $crashes/" >&2
        status=1
    fi
    end=$(date +%s)
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
        "$work/$name.log" | sed "s/^/$name /" >&2
    echo "$name wall_seconds: $((end - start))" >&2
done
if [ -n "$only" ] && [ ! -x "$dir/$only" ]; then
    echo "FUZZ_ONLY=$only: no such harness in $dir" >&2
    status=2
fi
exit $status
