#!/bin/bash
# /run/vfio-claim/summary: the machine-wide facts a udev event reads instead of every PCI device
# (the USB controllers for the last-USB rule, whether the machine has IOMMU groups). `boot`
# writes it; an event that finds it missing, of another boot, malformed or untrusted decides from
# every device and writes it again, so such a summary never changes a decision.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUMMARY=run/vfio-claim/summary
BOOT_ID=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mkfixture; print(mkfixture.BOOT_ID)' "$TESTS_DIR")

summary_of() { sed -n "s/^$1=//p" "$ROOT/$SUMMARY"; }

# A summary that claims the desktop has no USB controller: believed, the last-USB rule would
# refuse 02:00.0 (no host USB controller seems left), where the machine has 00:14.0 for the host.
lying_summary() { # lying_summary FILE [BOOT_ID]
    printf 'version=1\nboot_id=%s\niommu_groups=yes\nusb_controllers=\ndevices=14\n' \
        "${2:-$BOOT_ID}" >"$1"
}

# The desktop (no PS/2 controller) claiming its second USB controller 02:00.0 only: the host
# keeps 00:14.0, so it is claimed.
usb_desktop() {
    fixture desktop
    conf usb.conf "claim 02:00.0"
    mkdir -p "$ROOT/run/vfio-claim/devices"
}

# udev claims 02:00.0 with the reason check gives
assert_udev_claims_02() {
    local want
    run --json check
    want=$(plan_lines | sed -n 's/^0000:02:00.0 //p')
    [ "$want" = "claim selected by /etc/vfio-claim.d/usb.conf:1 ('02:00.0')" ] || fail "check: $want"
    run udev /sys/bus/pci/devices/0000:02:00.0
    assert_rc 0
    assert_out "VFIO_CLAIM=claimed"
    assert_out "VFIO_CLAIM_REASON=selected by /etc/vfio-claim.d/usb.conf:1 ('02:00.0')"
    assert_driver 0000:02:00.0 vfio-pci
}

# the summary is this boot's and names both USB controllers
assert_summary_rebuilt() {
    [ -f "$ROOT/$SUMMARY" ] || fail "no summary file"
    [ ! -L "$ROOT/$SUMMARY" ] || fail "the summary is a link"
    [ "$(stat -c '%u %a' "$ROOT/$SUMMARY")" = "$(id -u) 644" ] || fail "summary owner/mode $(stat -c '%u %a' "$ROOT/$SUMMARY")"
    [ "$(summary_of boot_id)" = "$BOOT_ID" ] || fail "boot_id '$(summary_of boot_id)'"
    [ "$(summary_of usb_controllers)" = "0000:00:14.0 0000:02:00.0" ] || fail "usb '$(summary_of usb_controllers)'"
    [ "$(summary_of iommu_groups)" = yes ] || fail "iommu_groups"
}

test_boot_writes_the_summary() {
    fixture desktop
    conf gpu.conf "claim gpu"
    run boot
    assert_rc 0
    assert_summary_rebuilt
    [ "$(summary_of devices)" = 14 ] || fail "devices '$(summary_of devices)'"
    fixture noiommu
    run boot
    assert_rc 0
    [ "$(summary_of iommu_groups)" = no ] || fail "noiommu: iommu_groups"
    [ "$(summary_of usb_controllers)" = 0000:00:14.0 ] || fail "noiommu: usb"
}

test_this_boots_summary_is_believed_and_learns_a_usb_controller_it_lacked() {
    usb_desktop
    # this boot's summary, written before the USB controllers were there (hot-plugged): the
    # event sees no USB controller left to the host and refuses 02:00.0 (it is read, not
    # ignored; the rule can only refuse more from what it lacks, never claim more)
    lying_summary "$ROOT/$SUMMARY"
    run udev /sys/bus/pci/devices/0000:02:00.0
    assert_out "VFIO_CLAIM=refused"
    assert_out "last USB controller left to the host"
    assert_driver 0000:02:00.0 xhci_hcd
    [ "$(summary_of usb_controllers)" = 0000:02:00.0 ] || fail "the event's USB controller was not added"
}

test_a_missing_summary_is_rebuilt() {
    usb_desktop
    run udev /sys/bus/pci/devices/0000:00:00.0
    assert_rc 0
    assert_summary_rebuilt
    rm "$ROOT/$SUMMARY"
    assert_udev_claims_02
    assert_summary_rebuilt
}

test_a_summary_of_another_boot_is_not_used() {
    usb_desktop
    lying_summary "$ROOT/$SUMMARY" 0e6b2d1c-7a3f-4e59-8c1d-2f3a4b5c6d7e
    assert_udev_claims_02
    assert_summary_rebuilt
}

test_a_summary_without_a_boot_id_to_compare_is_not_used() {
    usb_desktop
    lying_summary "$ROOT/$SUMMARY"
    rm "$ROOT/proc/sys/kernel/random/boot_id"
    assert_udev_claims_02
    # this boot cannot be told from another: no summary is written for it
    [ "$(summary_of usb_controllers)" = "" ] || fail "the summary was rewritten without a boot id"
}

test_a_malformed_summary_is_not_used() {
    local text
    for text in "version=1|boot_id=$BOOT_ID|iommu_groups=yes|usb_controllers=00:14.0" \
        "version=2|boot_id=$BOOT_ID|iommu_groups=yes|usb_controllers=" \
        "version=1|boot_id=$BOOT_ID|iommu_groups=maybe|usb_controllers=" \
        "version=1|boot_id=$BOOT_ID|iommu_groups=yes" "garbage"; do
        usb_desktop
        tr '|' '\n' <<<"$text" >"$ROOT/$SUMMARY"
        assert_udev_claims_02
        assert_summary_rebuilt
    done
}

test_a_symlinked_summary_is_not_followed() {
    usb_desktop
    lying_summary "$ROOT/elsewhere"
    ln -s ../../elsewhere "$ROOT/$SUMMARY"
    local before
    before=$(md5sum <"$ROOT/elsewhere")
    assert_udev_claims_02
    [ "$(md5sum <"$ROOT/elsewhere")" = "$before" ] || fail "the link's target was written"
    assert_summary_rebuilt
}

test_a_summary_of_another_user_is_not_used() {
    usb_desktop
    lying_summary "$ROOT/$SUMMARY"
    chown 65534:65534 "$ROOT/$SUMMARY" || skip "cannot chown (not root)"
    assert_udev_claims_02
    assert_summary_rebuilt
}

test_a_summary_writable_by_others_is_not_used() {
    usb_desktop
    lying_summary "$ROOT/$SUMMARY"
    chmod 0666 "$ROOT/$SUMMARY"
    assert_udev_claims_02
    assert_summary_rebuilt
}

test_an_untrusted_state_folder_gives_no_summary() {
    usb_desktop
    rm -rf "$ROOT/run/vfio-claim"
    mkdir -p "$ROOT/elsewhere/devices"
    lying_summary "$ROOT/elsewhere/summary"
    ln -s ../elsewhere "$ROOT/run/vfio-claim"
    run udev /sys/bus/pci/devices/0000:02:00.0
    # decided from every device: the claim it plans fails on the untrusted folder, nothing moves
    assert_out "VFIO_CLAIM=failed"
    assert_out "VFIO_CLAIM_REASON=selected by /etc/vfio-claim.d/usb.conf:1 ('02:00.0')"
    assert_err "not trusted"
    assert_driver 0000:02:00.0 xhci_hcd
    [ "$(cat "$ROOT/elsewhere/summary")" = "$(lying_summary /dev/stdout)" ] || fail "the summary behind the link changed"
}

test_one_event_reads_its_device_slot_group_and_bridges_only() {
    command -v strace >/dev/null || skip "strace is not installed"
    strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace processes here"
    fixture bench64
    conf net.conf "claim net"
    run boot
    assert_rc 0
    local log=$ROOT/strace.log names
    strace -f -qq -s 256 -e trace=%file -o "$log" \
        -E LD_PRELOAD="$FAKEKERNEL" -E FAKEKERNEL_ROOT="$ROOT" \
        -E ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0" \
        "$VFIO_CLAIM" --root "$ROOT" udev /sys/bus/pci/devices/0000:01:03.0 >/dev/null 2>&1 ||
        fail "udev failed under strace"
    grep -q "$ROOT/proc/cmdline" "$log" || fail "the trace is not complete"
    # every PCI device the event read, by name under the bus folder or the state folder: its
    # slot's functions (01:03.x, of which only .0 exists) and the bridge above it, nothing else
    names=$(grep -oE '(at\([0-9]+, "|/sys/bus/pci/devices/)0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]' "$log" |
        grep -oE '0000:.*' | sort -u | tr '\n' ' ')
    [ "$names" = "0000:00:01.0 0000:01:03.0 0000:01:03.1 0000:01:03.2 0000:01:03.3 0000:01:03.4 0000:01:03.5 0000:01:03.6 0000:01:03.7 " ] ||
        fail "the event read: $names"
}
