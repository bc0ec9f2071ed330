#!/bin/bash
# bash completion (completion/vfio-claim): loaded as bash-completion loads it, and asked what
# bash would ask on a TAB: commands from the program's --help, options, addresses, tags, formats.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COMPLETION="$TESTS_DIR/../completion/vfio-claim"

# tab WORD...: what a TAB offers at the end of the command line made of the words, as bash
# splits them (a ':' is a word of its own); "" for a new word. Sets COMPLETIONS, one a line.
tab() {
    [ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
    local bin
    bin=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-bin.XXXXXX")
    CLEANUP+=("$bin")
    # the completion runs 'vfio-claim --help' as typed: the binary under test is that one
    ln -s "$VFIO_CLAIM" "$bin/vfio-claim"
    # shellcheck disable=SC2016
    COMPLETIONS=$(PATH="$bin:$PATH" bash -c '
        source /usr/share/bash-completion/bash_completion
        source "$1"
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE=${*}
        COMP_LINE=${COMP_LINE// : /:}
        COMP_POINT=${#COMP_LINE}
        _vfio_claim
        printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMPLETION" "$@") || fail "the completion failed"
}

assert_offers() { # assert_offers EXPECTED-LINES: exactly these, sorted
    [ "$COMPLETIONS" = "$(printf '%s\n' "$@" | sort)" ] ||
        fail "offered '${COMPLETIONS//$'\n'/ }', expected '$*'"
}

test_rel_completes_to_release() {
    fixture desktop
    [ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
    # shellcheck disable=SC2016
    [ "$(bash -c 'source /usr/share/bash-completion/bash_completion; source "$1"; complete -p vfio-claim' _ "$COMPLETION")" = \
        "complete -F _vfio_claim vfio-claim" ] || fail "the file does not register the completion"
    tab vfio-claim rel
    assert_offers release
    tab vfio-claim d
    assert_offers doctor
    # every command of --help, and the global options
    tab vfio-claim ""
    local c
    for c in list check claim release status doctor; do
        grep -qx "$c" <<<"$COMPLETIONS" || fail "'$c' not offered: ${COMPLETIONS//$'\n'/ }"
    done
    tab vfio-claim --r
    assert_offers --root
}

test_release_offers_the_devices_on_vfio_pci_under_root() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 tag=gaming"
    run boot
    assert_rc 0
    tab vfio-claim --root "$ROOT" release ""
    assert_offers 0000:01:00.0 0000:01:00.1
    # bash cuts 0000:01:0 at each ':'; what is offered replaces the part after the last one
    tab vfio-claim --root "$ROOT" release 0000 : 01 : 0
    assert_offers 00.0 00.1
    # claim offers the devices not on vfio-pci, and the categories
    tab vfio-claim --root "$ROOT" claim ""
    grep -qx 0000:00:1f.6 <<<"$COMPLETIONS" || fail "claim: 00:1f.6 not offered"
    grep -qx gpu <<<"$COMPLETIONS" || fail "claim: the category gpu not offered"
    ! grep -qx 0000:01:00.0 <<<"$COMPLETIONS" || fail "claim: 01:00.0, on vfio-pci, offered"
    tab vfio-claim --root "$ROOT" claim 3d
    assert_offers 3d:00.0
}

test_command_options_export_formats_and_tags() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 tag=gaming" "claim 00:1f.6 tag=router"
    run boot
    assert_rc 0
    tab vfio-claim claim --f
    assert_offers --force
    # a command's own options and the global ones, once each
    tab vfio-claim release --
    assert_offers --all --guest --root --json --verbose --help
    tab vfio-claim release --a
    assert_offers --all
    tab vfio-claim export ""
    assert_offers libvirt qemu kdevops libvirt-provider prometheus json
    tab vfio-claim export libvirt-p
    assert_offers libvirt-provider
    tab vfio-claim --root "$ROOT" export libvirt --tag ""
    assert_offers gaming router
}

test_guest_commands_complete_guest_names_and_the_guests_command() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest tag=games"
    run claim --guest win10 01:00.0
    assert_rc 0
    tab vfio-claim ""
    grep -qx run <<<"$COMPLETIONS" || fail "'run' not offered"
    grep -qx libvirt-hook <<<"$COMPLETIONS" || fail "'libvirt-hook' not offered"
    tab vfio-claim --root "$ROOT" release --guest ""
    assert_offers win10
    tab vfio-claim run --g
    assert_offers --guest
    # after '--', the guest's own command line: commands of PATH
    tab vfio-claim run --tag games -- vfio-cl
    assert_offers vfio-claim
}

test_a_guest_name_with_a_blank_is_offered_as_typed_not_escaped() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest "my vm" 01:00.0
    assert_rc 0
    # the state holds my%20vm; the command takes the name as given, quoted for the shell
    tab vfio-claim --root "$ROOT" release --guest ""
    assert_offers 'my\ vm'
    tab vfio-claim --root "$ROOT" release --guest my
    assert_offers 'my\ vm'
    tab vfio-claim --root "$ROOT" release --guest x
    assert_offers
}
