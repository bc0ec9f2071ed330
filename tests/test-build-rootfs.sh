#!/bin/bash
# tests/vm/build-rootfs.sh takes its Debian mirror from apt's configuration (or
# VFIO_CLAIM_MIRROR), never from a built-in URL: find_mirror on sample apt folders.
# Host names are under .example (RFC 2606): no real mirror is named in the project.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# mirror_of APT_DIR [SUITE]: find_mirror's answer (OUT), its stderr (ERR) and status (RC)
mirror_of() {
    local e
    e=$(mktemp)
    RC=0
    # shellcheck disable=SC2016 # $1, $2: the inner shell's
    OUT=$(env -u VFIO_CLAIM_MIRROR VFIO_CLAIM_SUITE="${2:-bookworm}" \
        bash -c 'source "$1"; find_mirror "$2"' _ "$TESTS_DIR/vm/build-rootfs.sh" "$1" 2>"$e") || RC=$?
    ERR=$(cat "$e")
    rm -f "$e"
}

apt_dir() { # sets APT
    APT=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-apt.XXXXXX")
    CLEANUP+=("$APT")
    mkdir -p "$APT/sources.list.d"
}

test_mirror_from_a_deb822_sources_file() {
    apt_dir
    cat >"$APT/sources.list.d/debian.sources" <<'SRC'
# security first: its suite is not bookworm itself
Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm

Types: deb
URIs: cdrom:/media/cdrom/
  https://apt.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    mirror_of "$APT"
    assert_rc 0
    [ "$OUT" = https://apt.example/debian ] || fail "mirror '$OUT'"
}

test_mirror_from_one_line_entries_with_options() {
    apt_dir
    printf '%s\n' '# deb http://commented.example/debian bookworm main' \
        'deb http://updates.example/debian bookworm-updates main' \
        'deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://apt.example/debian bookworm main' \
        >"$APT/sources.list"
    printf '%s\n' 'deb http://later.example/debian bookworm main' >"$APT/sources.list.d/later.list"
    mirror_of "$APT"
    assert_rc 0
    [ "$OUT" = http://apt.example/debian ] || fail "mirror '$OUT'"
}

test_disabled_files_are_not_read() {
    apt_dir
    printf '%s\n' 'deb http://old.example/debian bookworm main' >"$APT/sources.list.d/old.list.disabled"
    printf '%s\n' 'deb http://apt.example/debian bookworm main' >"$APT/sources.list.d/z.list"
    mirror_of "$APT"
    [ "$OUT" = http://apt.example/debian ] || fail "mirror '$OUT'"
}

test_trixie_from_the_bookworm_source_of_a_debian_12_host() {
    apt_dir
    # this machine's shape: bookworm and its updates, security apart, another archive disabled
    cat >"$APT/sources.list.d/debian.sources" <<'SRC'
Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://apt.example/debian
Suites: bookworm bookworm-updates
Components: main
SRC
    printf '%s\n' 'deb http://trixie-updates.example/debian trixie-updates main' \
        >"$APT/sources.list.d/updates.list"
    mirror_of "$APT" trixie
    assert_rc 0
    [ "$OUT" = http://apt.example/debian ] || fail "mirror '$OUT'"
    assert_err "no apt source for 'trixie'; trixie from bookworm's mirror http://apt.example/debian"
}

test_a_source_of_the_suite_itself_wins_over_another_release() {
    apt_dir
    printf '%s\n' 'deb http://bookworm.example/debian bookworm main' >"$APT/sources.list"
    printf '%s\n' 'deb http://trixie.example/debian trixie main' >"$APT/sources.list.d/z.list"
    mirror_of "$APT" trixie
    assert_rc 0
    [ "$OUT" = http://trixie.example/debian ] || fail "mirror '$OUT'"
    [ -z "$ERR" ] || fail "said: $ERR"
    # and a Debian 13 host builds bookworm from its trixie source
    rm "$APT/sources.list"
    mirror_of "$APT" bookworm
    assert_rc 0
    [ "$OUT" = http://trixie.example/debian ] || fail "bookworm mirror '$OUT'"
}

test_no_source_of_a_debian_release_is_a_clear_error() {
    apt_dir
    # -security, -updates and other archives' suites are not a Debian release's own source
    printf '%s\n' 'deb http://security.example/debian-security bookworm-security main' \
        'deb http://apt.example/debian bookworm-updates main' \
        'deb https://other.example/node nodistro main' >"$APT/sources.list"
    mirror_of "$APT" trixie
    assert_rc 1
    [ -z "$OUT" ] || fail "printed a mirror: '$OUT'"
    assert_err "no apt source for 'trixie' nor for another Debian release (bookworm trixie) in $APT/sources.list"
    assert_err "set VFIO_CLAIM_MIRROR"
}

test_unknown_release_is_refused() {
    RC=0
    ERR=$(VFIO_CLAIM_CACHE=/nonexistent bash "$TESTS_DIR/vm/build-rootfs.sh" --release potato 2>&1) || RC=$?
    assert_rc 1
    assert_err "unknown release 'potato' (known: trixie bookworm)"
}

test_vfio_claim_mirror_wins() {
    apt_dir
    # shellcheck disable=SC2016 # $1, $2: the inner shell's
    OUT=$(VFIO_CLAIM_MIRROR=http://chosen.example/debian \
        bash -c 'source "$1"; find_mirror "$2"' _ "$TESTS_DIR/vm/build-rootfs.sh" "$APT")
    [ "$OUT" = http://chosen.example/debian ] || fail "mirror '$OUT'"
}

test_no_mirror_host_is_written_in_the_project() {
    command -v git >/dev/null || skip "git is not installed"
    git -C "$TESTS_DIR/.." rev-parse --git-dir >/dev/null 2>&1 || skip "not a git work tree"
    local hits
    # debian/copyright's Format: line names the DEP-5 specification, not a mirror
    hits=$(git -C "$TESTS_DIR/.." grep -n -I -e 'deb\.debian\.org' -e 'ftp\.[a-z]*\.debian\.org' \
        -e 'http\.debian\.net' -e 'mirrors\?\.[a-z.]*debian' -- . ':!debian/copyright' || true)
    [ -z "$hits" ] || fail "mirror host names in the project:"$'\n'"$hits"
}
