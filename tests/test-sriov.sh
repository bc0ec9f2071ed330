#!/bin/bash
# SR-IOV virtual functions that never meet a host driver (SPEC §7), on the cloud fixture: the
# E810 PF 0000:18:00.0 has no VFs yet (sriov_totalvfs 4, offset 8, stride 1: VFs 18:01.0-3,
# device 8086:1889), and their host driver iavf is loaded, so that a VF the kernel probes at
# once is bound to it. The fake kernel logs every bind to .fakekernel/binds.log.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PF=0000:18:00.0
VF0=0000:18:01.0
VF1=0000:18:01.1

autoprobe() { cat "$ROOT/sys/bus/pci/devices/$1/sriov_drivers_autoprobe"; }

# numvfs N: `echo N > sriov_numvfs` of the PF, through the fake kernel
numvfs() {
    env LD_PRELOAD="$FAKEKERNEL" FAKEKERNEL_ROOT="$ROOT" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, sys.argv[2].encode())
os.close(fd)
' "$ROOT/sys/bus/pci/devices/$PF/sriov_numvfs" "$1" || fail "cannot write $1 to sriov_numvfs"
}

# udev_vf ADDR: what the udev rule runs for a new VF
udev_vf() { run udev "/devices/pci0000:00/0000:00:02.0/$1"; }

never_bound_to() { # ADDR DRIVER
    ! grep -qx "$1 $2" "$ROOT/.fakekernel/binds.log" 2>/dev/null || fail "$1 was bound to $2"
}

test_without_vfio_claim_a_new_vf_meets_its_host_driver_at_once() {
    # the fake kernel's behaviour the other tests rely on: autoprobe 1 binds iavf while adding
    fixture cloud
    numvfs 2
    assert_driver $VF0 iavf
    assert_driver $VF1 iavf
    grep -qx "$VF0 iavf" "$ROOT/.fakekernel/binds.log" || fail "bind not logged"
}

test_boot_turns_off_autoprobe_of_a_pf_whose_vfs_are_selected() {
    fixture cloud
    conf 10.conf "claim vfs-of=$PF"
    run boot
    assert_rc 0
    [ "$(autoprobe $PF)" = 0 ] || fail "autoprobe of $PF is $(autoprobe $PF)"
    assert_err "$PF: sriov_drivers_autoprobe turned off"
    grep -qx "sriov_drivers_autoprobe=1" "$ROOT/run/vfio-claim/sriov-autoprobe-$PF" ||
        fail "the old value is not recorded"
    [ "$(autoprobe 0000:17:00.0)" = 1 ] || fail "the other PF was changed"
    assert_driver $PF ice
    # the udev selection marks VFs of a PF whose autoprobe is off
    grep -qxF 'ATTR{physfn/sriov_drivers_autoprobe}=="0", ENV{VFIO_CLAIM_SELECT}="1"' \
        "$ROOT/run/udev/rules.d/69-vfio-claim-select.rules" || fail "no udev selection for its VFs"
    # a second boot (the coldplug of the real root's hooks) changes nothing
    local before
    before=$(snapshot)
    run boot
    [ "$before" = "$(snapshot)" ] || fail "a second boot changed the tree"
}

test_selected_vfs_are_claimed_without_meeting_their_host_driver() {
    fixture cloud
    conf 10.conf "claim vfs-of=18:00.0 tag=tenant" "exclude $VF1"
    run boot
    assert_rc 0
    numvfs 2
    # added while autoprobe is off: no driver until the udev pass
    assert_driver $VF0 none
    assert_driver $VF1 none
    udev_vf $VF0
    assert_rc 0
    assert_out "VFIO_CLAIM=claimed"
    assert_driver $VF0 vfio-pci
    [ "$(state_of $VF0 stage)" = udev ] || fail "stage"
    [ "$(state_of $VF0 taken_from)" = none ] || fail "taken from '$(state_of $VF0 taken_from)'"
    [ "$(state_of $VF0 host_driver)" = iavf ] || fail "host driver"
    [ "$(state_of $VF0 tag)" = tenant ] || fail "tag"
    assert_err "$VF0: claimed for vfio-pci before host module 'iavf'"
    # the excluded VF gets its host driver from the udev pass
    udev_vf $VF1
    assert_rc 0
    assert_out "VFIO_CLAIM=kept"
    assert_driver $VF1 iavf
    assert_err "$VF1: virtual function not claimed: probed for its host driver 'iavf'"
    [ "$(override_of $VF1)" = "(null)" ] || fail "the override of $VF1 was left set"
    never_bound_to $VF0 iavf
    # a replay changes nothing
    local before
    before=$(snapshot)
    udev_vf $VF0
    udev_vf $VF1
    [ "$before" = "$(snapshot)" ] || fail "the udev replay changed the tree"
}

test_vfs_selected_by_ids_address_or_path_turn_autoprobe_off() {
    local line
    for line in "claim 8086:1889" "claim 18:01.2" "claim path=0000:00:02.0/01.3" \
        "claim 8086:1889:8086:0002"; do
        fixture cloud
        conf 10.conf "$line"
        run boot
        assert_rc 0
        [ "$(autoprobe $PF)" = 0 ] || fail "'$line': autoprobe of $PF is $(autoprobe $PF)"
    done
    # selecting no VF of it, the PF itself (vfio-pci then takes it: no VFs; "net" selects the
    # PF too), or VFs all excluded
    for line in "claim 8086:1888" "claim 18:02.0" "claim $PF" "claim net" "claim vfs-of=17:00.0" \
        "claim vfs-of=$PF;exclude 8086:1889"; do
        fixture cloud
        # shellcheck disable=SC2086  # ';' separates lines
        conf 10.conf "${line%%;*}" "$([[ $line == *';'* ]] && echo "${line#*;}")"
        run boot
        assert_rc 0
        [ "$(autoprobe $PF)" = 1 ] || fail "'$line': autoprobe of $PF turned off"
        [ ! -e "$ROOT/run/vfio-claim/sriov-autoprobe-$PF" ] || fail "'$line': recorded"
    done
}

test_vfio_claim_off_and_an_unreadable_exclude_leave_autoprobe_alone() {
    fixture cloud
    conf 10.conf "claim vfs-of=$PF"
    cmdline "root=UUID=0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f vfio_claim=off"
    run boot
    [ "$(autoprobe $PF)" = 1 ] || fail "vfio_claim=off: autoprobe turned off"
    fixture cloud
    conf 10.conf "claim vfs-of=$PF" "exclude vfs-of=18:00"
    run boot
    [ "$(autoprobe $PF)" = 1 ] || fail "broken exclude: autoprobe turned off"
}

test_autoprobe_turned_off_by_someone_else_is_left_to_them() {
    fixture cloud
    echo 0 >"$ROOT/sys/bus/pci/devices/$PF/sriov_drivers_autoprobe"
    conf 10.conf "claim $VF0"
    run boot
    assert_rc 0
    [ ! -e "$ROOT/run/vfio-claim/sriov-autoprobe-$PF" ] || fail "recorded as ours"
    numvfs 2
    udev_vf $VF1
    assert_driver $VF1 none # not ours to probe: whoever turned autoprobe off decides
    udev_vf $VF0
    assert_driver $VF0 vfio-pci
}

test_release_of_the_last_claimed_vf_restores_the_pf() {
    fixture cloud
    conf 10.conf "claim vfs-of=$PF"
    run boot
    numvfs 2
    udev_vf $VF0
    udev_vf $VF1
    assert_driver $VF0 vfio-pci
    assert_driver $VF1 vfio-pci
    run release $VF0
    assert_rc 0
    assert_out "$VF0: released, now bound to 'iavf'"
    assert_driver $VF0 iavf
    [ "$(override_of $VF0)" = "(null)" ] || fail "override left"
    [ "$(autoprobe $PF)" = 0 ] || fail "restored while $VF1 is still claimed"
    run release $VF1
    assert_rc 0
    assert_driver $VF1 iavf
    [ "$(autoprobe $PF)" = 1 ] || fail "not restored after the last VF"
    assert_err "$PF: sriov_drivers_autoprobe restored"
    [ ! -e "$ROOT/run/vfio-claim/sriov-autoprobe-$PF" ] || fail "record left"
}

test_a_pf_with_vfs_enabled_stays_refused() {
    fixture cloud
    conf 10.conf "claim 17:00.0 vfs-of=17:00.0"
    run --json check
    assert_rc 0
    plan_has "^0000:17:00.0 refuse SR-IOV physical function with 1 virtual functions enabled" ||
        fail "the PF is not refused"
    plan_has "^0000:17:00.2 claim selected by /etc/vfio-claim.d/10.conf:1 ('vfs-of=17:00.0')" ||
        fail "its VF is not claimed"
}

test_vfs_of_parse_errors_name_file_and_line() {
    fixture cloud
    local bad
    for bad in "vfs-of=18:00" "vfs-of=18:00.*" "vfs-of=" "vfs-of=gpu"; do
        conf 10.conf "claim $bad"
        run check
        assert_rc 2
        assert_err "/etc/vfio-claim.d/10.conf:1: '$bad': vfs-of= takes the address of an SR-IOV physical function"
    done
    cmdline "root=UUID=0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f vfio_claim=vfs-of=18:00"
    rm "$ROOT/etc/vfio-claim.d/10.conf"
    run check
    assert_rc 2
    assert_err "vfs-of= takes the address"
}
