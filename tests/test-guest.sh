#!/bin/bash
# Devices that follow their guests (when=guest, claim/release --guest, run, the libvirt hook):
# claimed whole group while a guest that uses them runs, given back when the last one stops.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GPU=0000:01:00.0 HDMI=0000:01:00.1

test_when_guest_lines_are_kept_by_check_boot_and_udev() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest tag=games"
    run --json check
    assert_rc 0
    plan_has "^$GPU keep follows its guests (when=guest, /etc/vfio-claim.d/10-gpu.conf:1)" ||
        fail "check does not say the GPU follows its guests"
    run boot
    assert_rc 0
    assert_driver $GPU nouveau
    assert_driver $HDMI snd_hda_intel
    [ ! -e "$ROOT/run/vfio-claim/devices/$GPU" ] || fail "boot wrote a state entry"
    ! grep -q "01:00" "$ROOT/run/udev/rules.d/69-vfio-claim-select.rules" ||
        fail "the udev select rules mark the guest's device"
    run udev /devices/pci0000:00/0000:00:01.0/0000:01:00.0
    assert_rc 0
    assert_driver $GPU nouveau
    run list
    assert_rc 0
}

test_when_takes_boot_or_guest_only() {
    fixture desktop
    conf 10.conf "claim 01:00.0 when=boot" "claim 00:1f.6 when=later" "claim 02:00.0 when=guest when=guest"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/10.conf:2: 'when=later': when= takes 'boot'"
    assert_err "/etc/vfio-claim.d/10.conf:3: 'when=guest': when= given twice"
}
