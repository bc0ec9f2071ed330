#!/bin/bash
# Bad input fails closed (SPEC §4, §5): it never widens a claim. Each case asserts the exit code
# of check, the message (file, line, token), and that boot writes no driver_override for what
# the input tried to keep.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 00:1f.6 (the desktop's NIC) kept by boot: its host driver, no override.
assert_nic_kept() {
    run boot
    assert_driver 0000:00:1f.6 e1000e
    [ "$(override_of 0000:00:1f.6)" = "(null)" ] || fail "driver_override written for 00:1f.6"
}

test_a_broken_file_keeps_its_excludes() {
    fixture desktop
    conf 10-net.conf "claim net"
    conf 20-keep.conf "exclude 00:1f.6" "claim gpu frobnicate"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/20-keep.conf:2: 'frobnicate'"
    assert_out "excluded by /etc/vfio-claim.d/20-keep.conf:1 ('00:1f.6')"
    assert_nic_kept
    assert_err "20-keep.conf: not applied because of the errors above"
    # the broken file's claim is not applied: the GPU stays with its driver
    assert_driver 0000:01:00.0 nouveau
}

test_an_unparseable_exclude_line_claims_nothing_from_the_configuration() {
    fixture desktop
    conf 10-net.conf "claim net"
    conf 20-keep.conf "exclude 00:1f.6 zz:zz"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/20-keep.conf:1: 'zz:zz'"
    assert_out "an exclude could not be read (/etc/vfio-claim.d/20-keep.conf:1)"
    assert_nic_kept
    assert_err "nothing is claimed from the configuration this boot"
    run status
    assert_out "nothing claimed from the configuration: the exclude at /etc/vfio-claim.d/20-keep.conf:1"
}

test_a_misspelt_directive_may_be_an_exclude_and_claims_nothing() {
    fixture desktop
    conf 10-net.conf "claim net"
    conf 20-keep.conf "exlcude 00:1f.6"
    run check
    assert_rc 2
    assert_err "20-keep.conf:1: 'exlcude': unknown directive"
    assert_nic_kept
}

test_every_spelling_of_off_on_the_kernel_command_line_claims_nothing() {
    fixture desktop
    conf 10-net.conf "claim net"
    local off
    for off in vfio_claim=off vfio-claim=off vfio_claim=OFF vfio_claim=0 vfio_claim=no \
        vfio-claim=False; do
        cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b ro $off"
        run --json check
        assert_rc 0
        plan_has "^0000:00:1f.6 keep vfio_claim=off" || fail "'$off' is not off"
        assert_nic_kept
        assert_not_err "error"
    done
}

test_dash_and_underscore_are_the_same_in_exclude_parameters() {
    fixture desktop
    conf 10-net.conf "claim net"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio-claim.exclude=00:1f.6"
    run --json check
    assert_rc 0
    plan_has "^0000:00:1f.6 keep excluded by cmdline" || fail "vfio-claim.exclude= ignored"
}

test_a_nul_byte_is_an_error_at_its_line_not_the_end_of_the_file() {
    fixture desktop
    conf 10-net.conf "claim net"
    printf 'claim gpu\n# a comment\0 hidden\nexclude 00:1f.6\n' >"$ROOT/etc/vfio-claim.d/20-x.conf"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/20-x.conf:2: NUL byte in line"
    # what follows the NUL is read: the exclude of line 3 applies
    assert_out "excluded by /etc/vfio-claim.d/20-x.conf:3"
    assert_nic_kept
}

test_owner_and_group_must_exist_in_the_roots_user_database() {
    fixture desktop
    conf 10-gpu.conf "claim 00:1f.6 owner=nosuchuser group=kvm mode=0660"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/10-gpu.conf:1: 'nosuchuser': no such user in the root's /etc/passwd"
    assert_nic_kept
    conf 10-gpu.conf "claim 00:1f.6 owner=4294968296"
    run check
    assert_rc 2
    assert_err "10-gpu.conf:1: 'owner=4294968296': a user id must be below 4294967295"
    conf 10-gpu.conf "permissions group=nosuchgroup" "claim 00:1f.6"
    run check
    assert_rc 2
    assert_err "'nosuchgroup': no such group in the root's /etc/group"
    assert_nic_kept
}

test_a_fifo_or_device_as_configuration_is_an_error_not_a_hang() {
    fixture desktop
    conf 10-net.conf "claim net"
    mkfifo "$ROOT/etc/vfio-claim.d/20-fifo.conf"
    RC=0
    timeout 20 env LD_PRELOAD="$FAKEKERNEL" FAKEKERNEL_ROOT="$ROOT" \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        "$VFIO_CLAIM" --root "$ROOT" check >/dev/null 2>"$ROOT/err" || RC=$?
    ERR=$(cat "$ROOT/err")
    assert_rc 2
    assert_err "/etc/vfio-claim.d/20-fifo.conf: cannot read: not a regular file"
    rm "$ROOT/etc/vfio-claim.d/20-fifo.conf"
    ln -s /dev/zero "$ROOT/etc/vfio-claim.d/20-zero.conf"
    run check
    assert_rc 2
    assert_err "20-zero.conf: cannot read: not a regular file"
    assert_nic_kept
    rm "$ROOT/etc/vfio-claim.d/20-zero.conf"
    head -c 2000000 /dev/zero | tr '\0' '#' >"$ROOT/etc/vfio-claim.d/20-big.conf"
    run check
    assert_rc 2
    assert_err "20-big.conf: cannot read: larger than 1 MiB"
}

test_configuration_writable_by_other_users_is_not_used() {
    fixture desktop
    conf 10-net.conf "claim net"
    chmod 0666 "$ROOT/etc/vfio-claim.d/10-net.conf"
    run check
    assert_rc 2
    assert_err "10-net.conf: cannot read: writable by every user: not used; fix its owner and mode"
    assert_nic_kept
    chmod 0644 "$ROOT/etc/vfio-claim.d/10-net.conf"
    chmod 0777 "$ROOT/etc/vfio-claim.d"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d: the folder is writable by every user: not used"
    assert_nic_kept
}

test_a_file_name_with_a_newline_never_reaches_the_udev_rules() {
    fixture desktop
    conf 10-net.conf "claim net"
    printf 'claim gpu\n' >"$ROOT/etc/vfio-claim.d/20-a"$'\n'"KERNEL==\"*\", RUN+=\"evil\"
#.conf"
    run check
    assert_rc 2
    assert_err "the file name holds control characters: not used"
    run boot
    ! grep -q 'evil' "$ROOT/run/udev/rules.d/69-vfio-claim-select.rules" || fail "a line was injected"
    assert_driver 0000:01:00.0 nouveau
}

test_a_long_exclude_on_the_kernel_command_line_is_read_to_its_end() {
    fixture desktop
    conf 10-net.conf "claim net"
    local list
    list=$(printf '01:00.0,%.0s' $(seq 1 600))
    # the exclude of 00:1f.6 comes after the first 4 KiB of the word
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio_claim.exclude=${list}00:1f.6"
    run --json check
    assert_rc 0
    plan_has "^0000:00:1f.6 keep excluded by cmdline ('00:1f.6')" || fail "the end of the word was cut"
}
