#!/bin/bash
# Runs the libFuzzer targets built in build-fuzz/, each for SECONDS on its seed corpus
# tests/fuzz/corpus/NAME/ (fuzz-NAME is the target). Fails if any target crashes, leaks, times
# out or breaks an invariant; the input that did it is saved as build-fuzz/artifacts/NAME-*.
# Usage: tests/fuzz/run.sh [--check] SECONDS build-fuzz/fuzz-NAME...
#   --check: a short run for `make check`: new inputs go to a temporary folder, thrown away.
#   Otherwise they accumulate in build-fuzz/corpus/NAME/ (copy the useful ones into the seeds).
set -uo pipefail
check=0
if [ "${1:-}" = --check ]; then
    check=1
    shift
fi
if [ $# -lt 2 ]; then
    echo "usage: $0 [--check] SECONDS build-fuzz/fuzz-NAME..." >&2
    exit 2
fi
seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
failed=()
mkdir -p build-fuzz/artifacts
for bin in "$@"; do
    name=$(basename "$bin")
    name=${name#fuzz-}
    seeds="$here/corpus/$name"
    if [ $check -eq 1 ]; then
        work=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-fuzz-$name.XXXXXX")
    else
        work=build-fuzz/corpus/$name
        mkdir -p "$work"
    fi
    log=build-fuzz/$name.log
    echo "fuzz: $name for ${seconds}s on $seeds ($(find "$seeds" -type f | wc -l) seeds)"
    rc=0
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/artifacts/$name-" "$work" "$seeds" >"$log" 2>&1 || rc=$?
    # the last status line (execs, cov:, ft:, corp:, exec/s) and the final stats
    grep -E '^#[0-9]+' "$log" | tail -n 1
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log"
    if [ "$rc" -ne 0 ]; then
        echo "not ok - fuzz-$name: exit status $rc (log: $log)"
        grep -E 'ERROR|invariant broken|SUMMARY|Test unit written' "$log" | head -n 10
        failed+=("$name")
    else
        echo "ok - fuzz-$name"
    fi
    [ $check -eq 1 ] && rm -rf "$work"
done
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
