#!/bin/bash
# Runs the C unit tests (tests/unit/test-*) and prints "N passed, N failed" over all of them.
# Usage: tests/run-unit.sh BINARY...
set -uo pipefail
passed=0 failed=0
for t in "$@"; do
    rc=0
    out=$("$t") || rc=$?
    echo "$out"
    p=$(grep -c '^ok - ' <<<"$out")
    f=$(grep -c '^not ok - ' <<<"$out")
    # a binary that crashed (a sanitizer report) after its last line still fails
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $(basename "$t"): exited with status $rc"
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
