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

inject() { # inject ADDR WHAT ERRNO [COUNT]: the fake kernel fails that write (tests/test-faults.sh)
    mkdir -p "$ROOT/.fakekernel"
    echo "$3${4:+ $4}" >"$ROOT/.fakekernel/$1.fail-$2"
}

assert_gpu_on_host() {
    assert_driver $GPU nouveau
    assert_driver $HDMI snd_hda_intel
}

assert_gpu_on_vfio() {
    assert_driver $GPU vfio-pci
    assert_driver $HDMI vfio-pci
}

test_claim_for_a_guest_takes_the_gpu_with_its_audio_and_gives_both_back() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest tag=games"
    run claim --guest win10 01:00.0
    assert_rc 0
    assert_gpu_on_vfio
    assert_out "$GPU: on vfio-pci for guest 'win10'"
    [ "$(state_of $GPU guests)" = win10 ] || fail "the GPU's entry does not name its guest"
    [ "$(state_of $HDMI guests)" = win10 ] || fail "the audio's entry does not name its guest"
    [ "$(state_of $GPU lifecycle)" = yes ] || fail "not recorded as following its guest"
    [ "$(state_of $GPU stage)" = guest ] || fail "stage"
    grep -q "^guest.win10=starter=manual boot=" "$ROOT/run/vfio-claim/devices/$GPU" ||
        fail "no holder record"
    run release --guest win10
    assert_rc 0
    assert_out "$GPU: given back to 'nouveau' (no guest holds it)"
    assert_out "$HDMI: given back to 'snd_hda_intel' (no guest holds it)"
    assert_gpu_on_host
    [ "$(override_of $GPU)" = "(null)" ] || fail "override left"
    [ "$(state_of $GPU state)" = returned ] || fail "state"
    [ -z "$(state_of $GPU guests)" ] || fail "a holder is left"
    # the next start takes it again (a give-back is no release by hand)
    run claim --guest win10 01:00.0
    assert_rc 0
    assert_gpu_on_vfio
}

test_a_safety_refusal_at_claim_changes_nothing() {
    fixture desktop
    conf 10.conf "claim 00:1f.6 02:00.0 when=guest" "claim 00:02.0 when=guest"
    local before
    before=$(snapshot)
    run claim --guest vm 00:1f.6 02:00.0 00:02.0
    assert_rc 1
    assert_err "vm: 0000:00:02.0: refused: boot VGA device: the console would go dark"
    assert_err "add 'force' to its claim at /etc/vfio-claim.d/10.conf:2"
    [ "$before" = "$(snapshot)" ] || fail "the refused start changed the tree"
    assert_driver 0000:00:1f.6 e1000e
    assert_driver 0000:02:00.0 xhci_hcd
    assert_driver 0000:00:02.0 i915
    [ ! -e "$ROOT/run/vfio-claim/devices/0000:00:1f.6" ] || fail "a state entry was written"
}

test_a_failure_on_the_second_device_gives_the_first_back() {
    fixture desktop
    conf 10.conf "claim 01:00.0 02:00.0 when=guest"
    inject 0000:02:00.0 unbind EBUSY
    run claim --guest vm 01:00.0 02:00.0
    assert_rc 1
    assert_err "0000:02:00.0: unbind from 'xhci_hcd' failed: Device or resource busy"
    assert_err "vm: 0000:02:00.0: could not be claimed"
    assert_gpu_on_host
    assert_driver 0000:02:00.0 xhci_hcd
    [ -z "$(state_of $GPU guests)" ] || fail "the GPU still names a guest"
}

test_two_guests_share_a_device_the_last_stop_gives_it_back() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest one 01:00.0
    assert_rc 0
    run claim --guest "two words" 01:00.0
    assert_rc 0
    [ "$(state_of $GPU guests)" = "one,two%20words" ] || fail "guests: $(state_of $GPU guests)"
    run release --guest one
    assert_rc 0
    assert_out "$GPU: stays on vfio-pci: still held by guest two%20words"
    assert_gpu_on_vfio
    run release --guest "two words"
    assert_rc 0
    assert_gpu_on_host
    # a guest that holds nothing: nothing to do, and no error (libvirt calls release for all)
    run release --guest three
    assert_rc 0
}

test_guest_names_never_break_the_state_file() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest $'evil\nstate=released,x=y' 01:00.0
    assert_rc 0
    [ "$(state_of $GPU state)" = claimed ] || fail "the name rewrote the state"
    [ "$(state_of $GPU guests)" = "evil%0Astate%3Dreleased%2Cx%3Dy" ] || fail "guests: $(state_of $GPU guests)"
    run claim --guest "" 01:00.0
    assert_rc 2
    run release --guest $'evil\nstate=released,x=y'
    assert_rc 0
    assert_gpu_on_host
}

test_a_device_claimed_at_boot_is_only_checked_never_given_back() {
    fixture desktop
    conf 10.conf "claim 00:1f.6" "claim 01:00.0 when=guest"
    run boot
    assert_driver 0000:00:1f.6 vfio-pci
    run claim --guest vm 00:1f.6 01:00.0
    assert_rc 0
    [ -z "$(state_of 0000:00:1f.6 guests)" ] || fail "the boot claim got a guest"
    run release --guest vm
    assert_rc 0
    assert_driver 0000:00:1f.6 vfio-pci
    assert_gpu_on_host
    # the boot claim gone from vfio-pci: the guest's start fails, naming the fix
    run release 00:1f.6
    run claim --guest vm 00:1f.6
    assert_rc 1
    assert_err "not on a VFIO driver now (driver 'e1000e'); 'vfio-claim claim 0000:00:1f.6' takes it"
}

test_release_of_a_guest_refuses_while_a_process_holds_the_group() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest vm 01:00.0
    mkdir -p "$ROOT/proc/4242/fd"
    echo qemu-system-x86 >"$ROOT/proc/4242/comm"
    ln -s /dev/vfio/1 "$ROOT/proc/4242/fd/12"
    run release --guest vm
    assert_rc 1
    assert_err "/dev/vfio/1 is in use by 4242"
    assert_gpu_on_vfio
    [ "$(state_of $GPU guests)" = vm ] || fail "the guest was dropped though its device stayed"
    rm -r "$ROOT/proc/4242"
    run release --guest vm
    assert_rc 0
    assert_gpu_on_host
}
