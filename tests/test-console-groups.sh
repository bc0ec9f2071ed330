#!/bin/bash
# Console operations on IOMMU groups (SPEC §7): release gives back the whole group and says so;
# claim by hand follows the same group rules as boot. Every member's driver link is checked.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The desktop's IOMMU group 1: the root port 00:01.0 (a bridge, never claimed), the GTX 1080
# 01:00.0 and its HDMI audio 01:00.1. Group 6: the ISA bridge 00:1f.0, audio 00:1f.3, SMBus 00:1f.4.
assert_group1() { # assert_group1 GPU-DRIVER AUDIO-DRIVER
    assert_driver 0000:00:01.0 none
    assert_driver 0000:01:00.0 "$1"
    assert_driver 0000:01:00.1 "$2"
}

test_release_of_one_function_releases_its_group_and_names_the_others() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0"
    run boot
    assert_group1 vfio-pci vfio-pci
    run release 01:00.0
    assert_rc 0
    assert_group1 nouveau snd_hda_intel
    assert_err "0000:01:00.0: releasing 0000:01:00.1 with it: the same IOMMU group 1, which vfio can use only whole"
    [ "$(grep -c 'with it' <<<"$ERR")" -eq 1 ] || fail "not one message"
    assert_out "0000:01:00.0: released, now bound to 'nouveau'"
    assert_out "0000:01:00.1: released, now bound to 'snd_hda_intel'"
    [ "$(override_of 0000:01:00.1)" = "(null)" ] || fail "01:00.1: override not cleared"
    [ "$(state_of 0000:01:00.0 state)" = released ] || fail "01:00.0: state"
    [ "$(state_of 0000:01:00.1 state)" = released ] || fail "01:00.1: state"
    # a udev replay this boot takes neither back
    run udev /devices/pci0000:00/0000:00:01.0/0000:01:00.1
    assert_rc 0
    assert_group1 nouveau snd_hda_intel
}

test_release_of_the_audio_function_gives_back_the_gpu_too() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.*"
    run boot
    assert_group1 vfio-pci vfio-pci
    run release 0000:01:00.1
    assert_rc 0
    assert_group1 nouveau snd_hda_intel
    assert_err "0000:01:00.1: releasing 0000:01:00.0 with it"
}

test_release_naming_every_member_or_a_lone_device_says_nothing_more() {
    fixture desktop
    conf 10.conf "claim 01:00.0 00:1f.6"
    run boot
    run release 01:00.0 01:00.1 00:1f.6
    assert_rc 0
    assert_group1 nouveau snd_hda_intel
    assert_driver 0000:00:1f.6 e1000e
    assert_not_err "with it"
}

test_release_refuses_the_whole_group_while_a_guest_holds_it() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0"
    run boot
    mkdir -p "$ROOT/proc/4242/fd"
    ln -s /dev/vfio/1 "$ROOT/proc/4242/fd/17"
    echo qemu-system-x86 >"$ROOT/proc/4242/comm"
    run release 01:00.0
    assert_rc 1
    assert_err "0000:01:00.0: /dev/vfio/1 is in use by 4242 (qemu-system-x86): stop it first"
    [ "$(grep -c 'in use by' <<<"$ERR")" -eq 1 ] || fail "not one message"
    assert_group1 vfio-pci vfio-pci
    [ "$(override_of 0000:01:00.1)" = vfio-pci ] || fail "01:00.1: override touched"
    [ "$(state_of 0000:01:00.1 state)" = claimed ] || fail "01:00.1: state"
}

test_claim_by_hand_takes_the_slots_other_functions_as_boot_does() {
    fixture desktop
    run claim 01:00.0
    assert_rc 0
    assert_group1 vfio-pci vfio-pci
    assert_err "0000:01:00.1: claimed for vfio-pci, taken from host driver 'snd_hda_intel' (goes with 0000:01:00.0 (same slot and IOMMU group 1))"
    [ "$(state_of 0000:01:00.1 stage)" = manual ] || fail "stage"
    # naming the audio function takes the GPU along as well
    fixture desktop
    run claim 01:00.1
    assert_rc 0
    assert_group1 vfio-pci vfio-pci
}

test_claim_by_hand_refuses_a_group_it_cannot_take_whole() {
    fixture desktop
    run claim 00:1f.3
    assert_rc 1
    assert_err "0000:00:1f.3: not claimed: IOMMU group 6 also holds 0000:00:1f.4"
    assert_driver 0000:00:1f.0 none
    assert_driver 0000:00:1f.3 snd_hda_intel
    assert_driver 0000:00:1f.4 i801_smbus
    [ "$(override_of 0000:00:1f.3)" = "(null)" ] || fail "override written"
    # group-policy=whole takes every endpoint, the ISA bridge aside
    conf 10.conf "option group-policy=whole"
    run claim 00:1f.3
    assert_rc 0
    assert_driver 0000:00:1f.0 none
    assert_driver 0000:00:1f.3 vfio-pci
    assert_driver 0000:00:1f.4 vfio-pci
}

test_claim_by_hand_with_force_takes_only_the_device_and_says_vfio_cannot_use_it() {
    fixture desktop
    run claim --force 00:1f.3
    assert_rc 0
    assert_driver 0000:00:1f.3 vfio-pci
    assert_driver 0000:00:1f.4 i801_smbus
    assert_err "forced, but vfio cannot use it until the whole group is claimed"
}

# The same selector by hand and in the configuration moves the same driver links.
test_claim_by_hand_and_boot_agree() {
    local sel links_boot links_claim
    for sel in 01:00.0 01:00.1 00:1f.3 net audio; do
        fixture desktop
        conf 10.conf "claim $sel"
        run boot
        links_boot=$(for d in "$ROOT"/sys/bus/pci/devices/*; do echo "${d##*/} $(driver_of "${d##*/}")"; done)
        fixture desktop
        run claim "$sel"
        links_claim=$(for d in "$ROOT"/sys/bus/pci/devices/*; do echo "${d##*/} $(driver_of "${d##*/}")"; done)
        [ "$links_boot" = "$links_claim" ] ||
            fail "'$sel': boot and claim differ: $(diff <(echo "$links_boot") <(echo "$links_claim"))"
    done
}

test_claim_by_hand_takes_back_a_group_released_whole() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.*"
    run boot
    run release 01:00.0
    assert_group1 nouveau snd_hda_intel
    run claim 01:00.0
    assert_rc 0
    assert_group1 vfio-pci vfio-pci
    [ "$(state_of 0000:01:00.1 state)" = claimed ] || fail "01:00.1: state"
}
