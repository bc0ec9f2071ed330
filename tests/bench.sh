#!/bin/bash
# make bench: time and peak memory of `check` and `boot` on generated trees of 256, 1024 and 4096
# devices, with a baseline measured in the same run (`true` started the same way) so the figures
# can be read as ratios on a noisy shared machine. Prints figures; asserts nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(readlink -f "${1:?usage: $0 BINARY}")
# trees on tmpfs when there is one: 80,000 small files per 4096-device tree
work=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/vfio-claim-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
runs=${BENCH_RUNS:-15}

# best-of-N wall time in ms and the peak RSS in KiB of one command
launcher="$work/bench-run"
cc -O2 -o "$launcher" "$here/bench-run.c"
measure() { "$launcher" "$runs" "$@"; }

# the baseline: the same binary doing nothing (its libraries loaded), measured in this run
read -r base_ms base_kb < <(measure "$bin" --version)
printf 'baseline (vfio-claim --version): %.2f ms, %d KiB peak RSS\n' "$base_ms" "$base_kb"
printf '%-6s %-6s %10s %8s %12s %8s\n' devices cmd "ms(best)" "x base" "peak KiB" "x base"
for n in 256 1024 4096; do
    tree="$work/tree$n"
    python3 "$here/mkfixture.py" --bench "$n" "$tree" >/dev/null
    mkdir -p "$tree/etc/vfio-claim.d"
    printf 'claim net\nexclude 8086:10fb\n' >"$tree/etc/vfio-claim.d/bench.conf"
    read -r ms kb < <(measure "$bin" --root "$tree" check)
    printf '%-6s %-6s %10.2f %8.1f %12d %8.2f\n' "$n" check "$ms" "$(awk -v a="$ms" -v b="$base_ms" "BEGIN{print a/b}")" "$kb" "$(awk -v a="$kb" -v b="$base_kb" "BEGIN{print a/b}")"
    # boot on a fresh copy each run would measure cp; measure the idempotent second boot instead,
    # after one real boot through the fake kernel
    LD_PRELOAD="$here/fakekernel.so" FAKEKERNEL_ROOT="$tree" "$bin" --root "$tree" boot >/dev/null 2>&1 || true
    read -r ms kb < <(LD_PRELOAD="$here/fakekernel.so" FAKEKERNEL_ROOT="$tree" measure "$bin" --root "$tree" boot)
    printf '%-6s %-6s %10.2f %8.1f %12d %8.2f\n' "$n" boot "$ms" "$(awk -v a="$ms" -v b="$base_ms" "BEGIN{print a/b}")" "$kb" "$(awk -v a="$kb" -v b="$base_kb" "BEGIN{print a/b}")"
done
echo "targets (not asserted): check of 4096 devices under 20 ms and 4 MiB peak RSS, linear growth"
