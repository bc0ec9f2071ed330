#!/bin/bash
# Shared helpers for the test scripts: fixtures, running the program, assertions.
# A test script defines functions named test_*; tests/run-tests.sh runs each in a subshell.
# shellcheck disable=SC2034  # variables used by the sourcing scripts

: "${VFIO_CLAIM:?set VFIO_CLAIM to the binary under test}"
: "${FIXTURES:?set FIXTURES to the folder of generated fixture trees}"
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAKEKERNEL="$TESTS_DIR/fakekernel.so"

# A fresh copy of a generated machine: fixture desktop -> sets $ROOT
fixture() {
    ROOT=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-test.XXXXXX")
    cp -a "$FIXTURES/$1/." "$ROOT/"
    CLEANUP+=("$ROOT")
}

conf() { # conf FILE.conf LINES...: writes /etc/vfio-claim.d/FILE.conf
    local f="$ROOT/etc/vfio-claim.d/$1"
    shift
    mkdir -p "${f%/*}"
    printf '%s\n' "$@" >"$f"
}

cmdline() { printf '%s\n' "$*" >"$ROOT/proc/cmdline"; }

# vfio_claim ARGS...: the program under --root $ROOT, through the fake kernel
vfio_claim() {
    env LD_PRELOAD="$FAKEKERNEL" FAKEKERNEL_ROOT="$ROOT" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        "$VFIO_CLAIM" --root "$ROOT" "$@"
}

# run ARGS...: vfio_claim ARGS, and sets OUT, ERR and RC
run() {
    local o e
    o=$(mktemp) e=$(mktemp)
    RC=0
    vfio_claim "$@" >"$o" 2>"$e" || RC=$?
    OUT=$(cat "$o") ERR=$(cat "$e")
    rm -f "$o" "$e"
}

# skip REASON: this test cannot run on this machine (a tool is missing). tests/run-tests.sh
# reports "# SKIP REASON" and counts it as a skip, never as a pass. Not for failures.
skip() {
    if [ -n "${SKIP_REASON_FILE:-}" ]; then
        printf '%s\n' "$*" >"$SKIP_REASON_FILE"
    else
        echo "    SKIP: $*" >&2
    fi
    exit 77
}

fail() {
    echo "    FAIL: $*" >&2
    [ -n "${OUT:-}" ] && echo "    stdout: ${OUT//$'\n'/$'\n'            }" >&2
    [ -n "${ERR:-}" ] && echo "    stderr: ${ERR//$'\n'/$'\n'            }" >&2
    exit 1
}

assert_rc() { [ "$RC" -eq "$1" ] || fail "exit code $RC, expected $1"; }
assert_out() { grep -qF -- "$1" <<<"$OUT" || fail "stdout lacks '$1'"; }
assert_err() { grep -qF -- "$1" <<<"$ERR" || fail "stderr lacks '$1'"; }
assert_not_out() { ! grep -qF -- "$1" <<<"$OUT" || fail "stdout has '$1'"; }
assert_not_err() { ! grep -qF -- "$1" <<<"$ERR" || fail "stderr has '$1'"; }

# The driver a device is bound to in the tree, or "none"
driver_of() {
    local l="$ROOT/sys/bus/pci/devices/$1/driver"
    if [ -L "$l" ]; then basename "$(readlink "$l")"; else echo none; fi
}
assert_driver() {
    local d
    d=$(driver_of "$1")
    [ "$d" = "$2" ] || fail "$1 is bound to '$d', expected '$2'"
}
override_of() { cat "$ROOT/sys/bus/pci/devices/$1/driver_override"; }

# state KEY of a device's state file
state_of() { sed -n "s/^$2=//p" "$ROOT/run/vfio-claim/devices/$1" 2>/dev/null; }

# A listing of every file, link and mode in the tree, to prove that nothing was written.
snapshot() {
    (cd "$ROOT" && find . -path ./.fakekernel -prune -o -printf '%p %y %m %l\n' | sort &&
        find . -path ./.fakekernel -prune -o -type f -print0 | sort -z | xargs -0 md5sum)
}

# plan_has REGEX: a line of the plan matches (grep -q in a pipe would kill the writer)
plan_has() { grep -q -- "$1" <<<"$(plan_lines)"; }

# The plan of check --json as "device decision reason" lines
plan_lines() {
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
for d in doc["devices"]:
    print(d["device"], d["decision"], d["reason"])
' <<<"$OUT"
}
