#!/bin/bash
# tests/deps.sh names each release's packages: the release comes from ROOT/etc/os-release
# (VERSION_CODENAME, else VERSION_ID), and --print lists what that release needs.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# deps_root NAME OS-RELEASE-LINES...: a root with only etc/os-release, in $DEPS_ROOT
deps_root() {
    DEPS_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-deps.XXXXXX")
    CLEANUP+=("$DEPS_ROOT")
    mkdir -p "$DEPS_ROOT/etc"
    printf '%s\n' "$@" >"$DEPS_ROOT/etc/os-release"
}

test_deps_names_the_clang_runtime_and_udev_pc_of_each_release() {
    local out
    deps_root 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' 'VERSION_ID="12"' 'VERSION_CODENAME=bookworm'
    out=$("$TESTS_DIR/deps.sh" --root "$DEPS_ROOT" --print check)
    grep -qx libclang-rt-14-dev <<<"$out" || fail "Debian 12: no libclang-rt-14-dev"
    ! grep -qx systemd-dev <<<"$out" || fail "Debian 12 has no systemd-dev"
    grep -qx qemu-system-x86 <<<"$out" || fail "check: no qemu-system-x86"
    deps_root 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"' 'VERSION_ID="13"' 'VERSION_CODENAME=trixie'
    out=$("$TESTS_DIR/deps.sh" --root "$DEPS_ROOT" --print check)
    grep -qx libclang-rt-19-dev <<<"$out" || fail "Debian 13: no libclang-rt-19-dev"
    grep -qx systemd-dev <<<"$out" || fail "Debian 13: no systemd-dev (udev.pc)"
    ! grep -q 'clang-rt-14' <<<"$out" || fail "Debian 13 asks for the clang 14 runtime"
    # VERSION_ID alone is enough; unit leaves out QEMU and debootstrap
    deps_root 'VERSION_ID="13"'
    out=$("$TESTS_DIR/deps.sh" --root "$DEPS_ROOT" --print unit)
    grep -qx libclang-rt-19-dev <<<"$out" || fail "VERSION_ID 13: $out"
    ! grep -qx qemu-system-x86 <<<"$out" || fail "unit asks for QEMU"
    out=$("$TESTS_DIR/deps.sh" --root "$DEPS_ROOT" --print tests)
    grep -qx lintian <<<"$out" || fail "tests: no lintian"
    ! grep -qE '^(clang|clang-format|libclang-rt-19-dev)$' <<<"$out" || fail "tests asks for clang: $out"
    # another release is an error that names the supported ones
    deps_root 'VERSION_CODENAME=buster' 'VERSION_ID="10"'
    if out=$("$TESTS_DIR/deps.sh" --root "$DEPS_ROOT" --print check 2>&1); then
        fail "Debian 10 accepted: $out"
    fi
    grep -q "unknown release 'buster'.*Debian 13 and 12" <<<"$out" || fail "message: $out"
}
