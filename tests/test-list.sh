#!/bin/bash
# What the person at the console reads: list (one line per device, the host's disks marked, the
# holder's guest name), status (why nothing is claimed; claimed, held, released and lost each
# meaning one thing) and check's summary.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# line_of ADDR: the line of $OUT for a device
line_of() { grep "^$1 " <<<"$OUT" || fail "no line for $1"; }

# rebind ADDR FROM TO: a driver change behind vfio-claim's back (by hand, driverctl), done on the
# tree as the kernel shows it: the driver's link to the device, the device's driver link, and
# the override cleared for a host driver
rebind() {
    local dev="$ROOT/sys/bus/pci/devices/$1" drivers="$ROOT/sys/bus/pci/drivers"
    rm "$drivers/$2/$1"
    ln -s "../../../../devices/pci0000:00/$1" "$drivers/$3/$1"
    ln -sfn "../../../bus/pci/drivers/$3" "$(readlink -f "$dev")/driver"
    if [ "$3" = vfio-pci ]; then echo vfio-pci; else echo "(null)"; fi >"$dev/driver_override"
    assert_driver "$1" "$3"
}

test_the_root_disk_says_once_that_it_carries_root() {
    fixture desktop
    # root= on the command line, the mount table's '/' and fstab's '/' name the same disk
    printf '%s\n' "UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b / ext4 defaults 0 1" >"$ROOT/etc/fstab"
    run list
    assert_rc 0
    assert_out "0000:3d:00.0: the host needs it: carries the root file system ('UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b')"
    [ "$(grep -c '^0000:3d:00\.0: the host needs it' <<<"$OUT")" -eq 1 ] || fail "'/' given more than one reason"
    # without root=, the mount table's reason is the one
    cmdline "BOOT_IMAGE=/vmlinuz ro quiet"
    run list
    assert_out "0000:3d:00.0: the host needs it: carries the mounted file system '/' (/dev/nvme0n1p2)"
    [ "$(grep -c '^0000:3d:00\.0: the host needs it' <<<"$OUT")" -eq 1 ] || fail "'/' given more than one reason"
}

test_list_marks_the_disks_the_host_needs_with_why() {
    fixture desktop-home
    printf '%s\n' "UUID=6b2d4f81-0a3c-4e5b-8d7f-9e1a2b3c4d5e /home ext4 defaults 0 2" \
        "UUID=0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f none swap sw 0 0" >"$ROOT/etc/fstab"
    conf 10.conf "claim net"
    run list
    assert_rc 0
    line_of 0000:04:00.0 | grep -q " nvme  *host .* /dev/nvme1n1 " || fail "the /home disk is not marked"
    line_of 0000:3d:00.0 | grep -q " host .* /dev/nvme0n1 " || fail "the root disk is not marked"
    line_of 0000:00:17.0 | grep -q " - .* /dev/sda " || fail "the SATA disk is marked or unnamed"
    assert_out "0000:04:00.0: the host needs it: carries /home (from /etc/fstab)"
    # every reason, not only the first
    assert_out "0000:04:00.0: the host needs it: carries swap (from /etc/fstab)"
    line_of 0000:00:1f.6 | grep -q " selected " || fail "a selected NIC"
    run --json list 04:00.0
    [ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["protected_by"])' <<<"$OUT")" = \
        "['carries /home (from /etc/fstab)', 'carries swap (from /etc/fstab)']" ] || fail "protected_by"
}

test_list_names_the_guest_that_holds_the_group() {
    fixture desktop
    conf 10.conf "claim 00:1f.6 tag=router"
    run boot
    mkdir -p "$ROOT/proc/4242/fd" "$ROOT/proc/99/fd"
    ln -s /dev/vfio/7 "$ROOT/proc/4242/fd/17"
    echo qemu-system-x86 >"$ROOT/proc/4242/comm"
    printf 'qemu-system-x86_64\0-name\0guest=router-vm,debug-threads=on\0' >"$ROOT/proc/4242/cmdline"
    ln -s /dev/vfio/7 "$ROOT/proc/99/fd/3"
    echo cat >"$ROOT/proc/99/comm"
    run list 00:1f.6
    assert_rc 0
    line_of 0000:00:1f.6 | grep -q " claimed (initramfs) router  *99 cat, router-vm (4242 qemu-system-x86)  *eno1 " ||
        fail "holders not shown with the guest's name"
}

test_status_says_why_nothing_is_claimed() {
    fixture desktop
    run status
    assert_rc 0
    assert_out "no device claimed this boot: the configuration has no claim line"
    conf 10.conf "claim 00:1f.6"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b ro vfio_claim=off"
    run boot
    run status
    assert_out "no device claimed this boot: vfio_claim=off is on the kernel command line"
    run --json status
    [ "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["off"], d["devices"])' <<<"$OUT")" = "True []" ] ||
        fail "status --json with vfio_claim=off"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b ro"
    conf 10.conf "claim 00:1f.6 frobnicate"
    run boot
    run status
    assert_out "no device claimed this boot: the configuration had errors at boot"
    assert_out "10.conf:1: 'frobnicate'"
}

test_status_and_list_say_lost_when_a_host_driver_took_a_claimed_device_back() {
    fixture desktop
    conf 10.conf "claim 00:1f.6 tag=router"
    run boot
    assert_driver 0000:00:1f.6 vfio-pci
    run status
    line_of 0000:00:1f.6 | grep -q "initramfs claimed   e1000e         vfio-pci   yes   router " ||
        fail "claimed, holds, its tag"
    # someone binds it to its host driver behind our back
    rebind 0000:00:1f.6 vfio-pci e1000e
    run status
    line_of 0000:00:1f.6 | grep -q "initramfs lost      e1000e         e1000e     no    router " ||
        fail "a claim that no longer holds is not 'lost'"
    assert_out "no device is held now"
    run list 00:1f.6
    line_of 0000:00:1f.6 | grep -q " e1000e  *lost  *router " || fail "list disagrees with status"
    # released by hand: released, and holds nothing
    rebind 0000:00:1f.6 e1000e vfio-pci
    run release 00:1f.6
    assert_rc 0
    run status
    line_of 0000:00:1f.6 | grep -q "initramfs released  e1000e         e1000e     no " ||
        fail "released"
}

test_check_ends_with_a_summary_line() {
    fixture desktop
    conf 10.conf "claim gpu"
    run check
    assert_rc 0
    [ "$(tail -n1 <<<"$OUT")" = "2 to claim, 1 refused, 11 kept" ] || fail "no summary line"
    run --json check
    [ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"])' <<<"$OUT")" = \
        "{'claim': 2, 'refuse': 1, 'keep': 11}" ] || fail "check --json summary"
}

# list_v_on_a_terminal COLUMNS: `list -v` as printed on a terminal that wide (script gives the
# program one; libsmartcols reads COLUMNS)
list_v_on_a_terminal() {
    local cmd
    cmd=$(printf '%q ' env LD_PRELOAD="$FAKEKERNEL" FAKEKERNEL_ROOT="$ROOT" \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" "$VFIO_CLAIM" --root "$ROOT" list -v)
    COLUMNS=$1 script -qec "$cmd" /dev/null | tr -d '\r'
}

test_list_v_wraps_the_reason_at_word_boundaries_on_a_narrow_terminal() {
    command -v script >/dev/null || skip "script (bsdutils) is not installed"
    fixture desktop
    conf 10.conf "claim gpu" # the boot VGA device is refused, with a long reason
    local out w cols
    # 120 columns: every column but NAME and REASON whole (89 columns), REASON wrapped in the
    # rest; 90: not even those fit, REASON still breaks only at blanks
    for cols in 120 90; do
        out=$(list_v_on_a_terminal "$cols")
        [ "$(grep -c '' <<<"$out")" -gt 30 ] || fail "REASON was not wrapped on $cols columns:"$'\n'"$out"
        for w in keep: PCI bridge: bridges are never claimed refuse: boot VGA device: console "dark;" \
            "allow-boot-vga=yes'" address "/etc/vfio-claim.d/10.conf:1"; do
            grep -qE "(^| )$w( |$)" <<<"$out" || fail "'$w' was cut on $cols columns:"$'\n'"$out"
        done
    done
    out=$(list_v_on_a_terminal 120)
    # the table within the terminal, each device's cells on its line, its reason below
    awk 'length > 120 { exit 1 }' <<<"$(sed '/^$/,$d' <<<"$out")" || fail "wider than the terminal:"$'\n'"$out"
    line_of() { grep "^$1 " <<<"$out" || fail "no line for $1:"$'\n'"$out"; }
    line_of 0000:00:02.0 | grep -qE " i915 +refused +- +- +/dev/dri/card0 +- +refuse: boot VGA device: *$" ||
        fail "the refused GPU's line:"$'\n'"$out"
    grep -qE "^ {50,}the console would go dark; *$" <<<"$out" || fail "the reason's next line:"$'\n'"$out"
    # not on a terminal: one line per device, whole
    run list -v
    [ "$(grep -c '' <<<"$OUT")" -eq 18 ] || fail "wrapped in a pipe:"$'\n'"$OUT"
    grep -q "^0000:00:02\.0 .* refuse: boot VGA device: .* to claim it$" <<<"$OUT" || fail "the reason in a pipe:"$'\n'"$OUT"
}
