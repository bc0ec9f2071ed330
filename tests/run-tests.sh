#!/bin/bash
# Runs every tests/test-*.sh against one binary and prints "N passed, N failed, N skipped".
# Usage: tests/run-tests.sh BINARY [TEST-FILE...]
# A test passes by returning 0 and fails otherwise; one that cannot run here (a tool is missing)
# calls skip REASON (tests/lib.sh), which writes REASON to $SKIP_REASON_FILE and exits 77: it is
# reported as "ok - FILE: name # SKIP REASON" and counted apart, never as a pass.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
VFIO_CLAIM=$(readlink -f "${1:?usage: $0 BINARY [TEST-FILE...]}")
shift
export VFIO_CLAIM
FIXTURES=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-fixtures.XXXXXX")
export FIXTURES
trap 'rm -rf "$FIXTURES"' EXIT

for m in desktop desktop-home server chipset noiommu cloud single-gpu; do
    python3 "$here/mkfixture.py" "$m" "$FIXTURES/$m" >/dev/null || {
        echo "cannot generate fixture '$m'" >&2
        exit 1
    }
done
python3 "$here/mkfixture.py" --no-vfio desktop "$FIXTURES/desktop-novfio" >/dev/null || exit 1
python3 "$here/mkfixture.py" --no-vfio-modules desktop "$FIXTURES/desktop-novfio-ko" >/dev/null || exit 1
python3 "$here/mkfixture.py" --bench 64 "$FIXTURES/bench64" >/dev/null || exit 1
python3 "$here/mkfixture.py" --kernel-6.12 desktop "$FIXTURES/desktop-6.12" >/dev/null || exit 1

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here"/test-*.sh)
passed=0 failed=0 skipped=0
skipfile=$(mktemp "${TMPDIR:-/tmp}/vfio-claim-skip.XXXXXX")
trap 'rm -rf "$FIXTURES" "$skipfile"' EXIT
export SKIP_REASON_FILE=$skipfile
for f in "${files[@]}"; do
    # shellcheck disable=SC2016
    tests=$(bash -c 'source "$1"; declare -F | sed -n "s/^declare -f \(test_.*\)/\1/p"' _ "$f")
    for t in $tests; do
        # not in an `if`: set -e must stay in force inside the subshell
        : >"$skipfile"
        (
            CLEANUP=()
            trap 'rm -rf "${CLEANUP[@]}"' EXIT
            # shellcheck disable=SC1090
            source "$f"
            set -e
            "$t"
        )
        rc=$?
        if [ "$rc" -eq 0 ]; then
            echo "ok - $(basename "$f" .sh): $t"
            passed=$((passed + 1))
        elif [ "$rc" -eq 77 ]; then
            echo "ok - $(basename "$f" .sh): $t # SKIP $(head -n1 "$skipfile")"
            skipped=$((skipped + 1))
        else
            echo "not ok - $(basename "$f" .sh): $t"
            failed=$((failed + 1))
        fi
    done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
