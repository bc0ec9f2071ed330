#!/bin/bash
# Claim and release on fixture trees through the fake kernel: driver links, state files,
# messages and exit codes, idempotence and failure paths.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

test_boot_claims_gpu_and_audio_and_records_state() {
    fixture desktop
    conf 10-gpu.conf "claim gpu tag=gaming"
    run boot
    assert_rc 0
    assert_driver 0000:01:00.0 vfio-pci
    assert_driver 0000:01:00.1 vfio-pci
    assert_driver 0000:00:02.0 i915
    assert_driver 0000:3d:00.0 nvme
    [ "$(override_of 0000:01:00.0)" = vfio-pci ] || fail "override not set"
    assert_err "0000:01:00.0: claimed for vfio-pci, taken from host driver 'nouveau' (selected by"
    assert_err "0000:00:02.0: refused: boot VGA device"
    local f="$ROOT/run/vfio-claim/devices/0000:01:00.0"
    [ "$(state_of 0000:01:00.0 stage)" = initramfs ] || fail "stage"
    [ "$(state_of 0000:01:00.0 state)" = claimed ] || fail "state"
    [ "$(state_of 0000:01:00.0 host_driver)" = nouveau ] || fail "host_driver"
    [ "$(state_of 0000:01:00.0 rule)" = /etc/vfio-claim.d/10-gpu.conf:1 ] || fail "rule"
    [ "$(state_of 0000:01:00.0 tag)" = gaming ] || fail "tag"
    [ "$(state_of 0000:01:00.0 ids)" = 10de:1b80 ] || fail "ids"
    [ "$(state_of 0000:01:00.0 iommu_group)" = 1 ] || fail "group"
    [ "$(state_of 0000:01:00.1 host_driver)" = snd_hda_intel ] || fail "audio host driver"
    [ "$(stat -c %a "$ROOT/run/vfio-claim")" = 755 ] || fail "state dir mode"
    grep -q '^time=20[0-9][0-9]-' "$f" || fail "time"
    [ ! -e "$ROOT/run/vfio-claim/devices/0000:00:02.0" ] || fail "refused device has a state entry"
}

test_boot_twice_changes_nothing_the_second_time() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    run boot
    assert_rc 0
    local before
    before=$(snapshot)
    sleep 1 # a rewritten state file would carry a new time
    run boot
    assert_rc 0
    [ "$before" = "$(snapshot)" ] || fail "the second boot changed the tree"
    run udev /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0
    assert_rc 0
    [ "$before" = "$(snapshot)" ] || fail "the coldplug replay changed the tree"
}

test_status_reports_stage_host_driver_and_holding() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    run boot
    run --json status
    assert_rc 0
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
g = d["0000:01:00.0"]
assert g["stage"] == "initramfs" and g["host_driver"] == "nouveau" and g["driver"] == "vfio-pci" and g["holds"], g
assert sorted(d) == ["0000:01:00.0", "0000:01:00.1"], sorted(d)
' <<<"$OUT" || fail "status --json"
    run status
    assert_out "0000:01:00.0 initramfs claimed   nouveau        vfio-pci   yes"
}

test_release_gives_the_device_back_to_its_host_driver() {
    fixture desktop
    conf 10-net.conf "claim 00:1f.6"
    run boot
    assert_driver 0000:00:1f.6 vfio-pci
    run release 00:1f.6
    assert_rc 0
    assert_out "0000:00:1f.6: released, now bound to 'e1000e'"
    assert_driver 0000:00:1f.6 e1000e
    [ "$(override_of 0000:00:1f.6)" = "(null)" ] || fail "override not cleared"
    [ "$(state_of 0000:00:1f.6 state)" = released ] || fail "state not recorded"
    [ "$(state_of 0000:00:1f.6 driver)" = e1000e ] || fail "driver not recorded"
    # a later udev event for the device (udevadm trigger) does not take it again
    run udev /devices/pci0000:00/0000:00:1f.6
    assert_rc 0
    assert_out "VFIO_CLAIM=kept"
    assert_out "released by hand"
    assert_driver 0000:00:1f.6 e1000e
    run status
    assert_out "released"
    # check, list and udev agree: the plan keeps a device released this boot
    run --json check
    plan_has "^0000:00:1f.6 keep selected by /etc/vfio-claim.d/10-net.conf:1 ('00:1f.6'), but released by hand this boot" ||
        fail "check does not know the release"
    run -v list
    assert_out "keep: selected by /etc/vfio-claim.d/10-net.conf:1 ('00:1f.6'), but released by hand"
    # a claim by hand takes it again, and then the plan claims it
    run claim 00:1f.6
    assert_rc 0
    assert_driver 0000:00:1f.6 vfio-pci
    run --json check
    plan_has "^0000:00:1f.6 claim selected by" || fail "claimed again by hand, still kept"
}

test_release_all_and_release_of_nothing() {
    fixture desktop
    conf 10.conf "claim gpu 00:1f.6"
    run boot
    run release --all
    assert_rc 0
    assert_driver 0000:01:00.0 nouveau
    assert_driver 0000:01:00.1 snd_hda_intel
    assert_driver 0000:00:1f.6 e1000e
    run release 00:1f.6
    assert_rc 1
    assert_err "no device matching the selectors is held by vfio-pci"
}

test_release_refuses_while_a_process_holds_the_group() {
    fixture desktop
    conf 10.conf "claim 00:1f.6"
    run boot
    local g
    g=$(state_of 0000:00:1f.6 iommu_group)
    mkdir -p "$ROOT/proc/4242/fd"
    ln -s "/dev/vfio/$g" "$ROOT/proc/4242/fd/17"
    echo qemu-system-x86 >"$ROOT/proc/4242/comm"
    run release 0000:00:1f.6
    assert_rc 1
    assert_err "0000:00:1f.6: /dev/vfio/$g is in use by 4242 (qemu-system-x86): stop it first"
    assert_driver 0000:00:1f.6 vfio-pci
    [ "$(override_of 0000:00:1f.6)" = vfio-pci ] || fail "override touched"
    run list
    grep -q "^0000:00:1f.6 .* claimed (initramfs) .* 4242 qemu-system-x86 " <<<"$OUT" ||
        fail "list does not say who holds it"
}

test_unbind_failure_leaves_the_host_driver_and_says_why() {
    fixture desktop
    conf 10.conf "claim 00:1f.6"
    mkdir -p "$ROOT/.fakekernel"
    echo EBUSY >"$ROOT/.fakekernel/0000:00:1f.6.fail-unbind"
    run boot
    assert_rc 1
    assert_err "vfio-claim: error: 0000:00:1f.6: unbind from 'e1000e' failed: Device or resource busy"
    assert_driver 0000:00:1f.6 e1000e
    [ "$(override_of 0000:00:1f.6)" = "(null)" ] || fail "override left set"
    [ "$(state_of 0000:00:1f.6 state)" = failed ] || fail "failure not recorded"
    run status
    assert_out "error: unbind from 'e1000e' failed"
}

test_probe_failure_is_reported() {
    fixture desktop
    conf 10.conf "claim 00:1f.6"
    mkdir -p "$ROOT/.fakekernel"
    echo ENODEV >"$ROOT/.fakekernel/0000:00:1f.6.fail-probe"
    run claim 00:1f.6
    assert_rc 1
    assert_err "0000:00:1f.6: probe with vfio-pci failed: No such device"
}

test_missing_vfio_module_is_a_clear_error_and_the_host_keeps_the_device() {
    # a kernel without vfio: no .ko files, no modules.dep entries, nothing loaded
    fixture desktop-novfio-ko
    ! grep -q vfio "$ROOT/lib/modules/6.1.0-fixture/modules.dep" || fail "fixture has vfio modules"
    conf 10.conf "claim 01:00.0"
    run boot
    assert_rc 1
    assert_err "0000:01:00.0: load module 'vfio-pci' (not found for this kernel) failed: No such file or directory"
    # every member of IOMMU group 1 stays as it was
    assert_driver 0000:00:01.0 none
    assert_driver 0000:01:00.0 nouveau
    assert_driver 0000:01:00.1 snd_hda_intel
    [ "$(override_of 0000:01:00.0)" = "(null)" ] || fail "01:00.0: override set"
    [ "$(override_of 0000:01:00.1)" = "(null)" ] || fail "01:00.1: override set"
    [ ! -e "$ROOT/sys/module/vfio_pci" ] || fail "vfio_pci appeared"
}

test_no_iommu_claim_holds_the_device_with_the_override_and_warns() {
    fixture noiommu
    conf 10.conf "claim net"
    run boot
    assert_rc 0
    assert_driver 0000:00:1f.6 none
    [ "$(override_of 0000:00:1f.6)" = vfio-pci ] || fail "override not set"
    assert_err "vfio-pci did not bind (no IOMMU group)"
    [ "$(state_of 0000:00:1f.6 state)" = held ] || fail "state"
}

test_manual_claim_by_selector_and_force() {
    fixture desktop
    run claim 00:1f.6
    assert_rc 0
    assert_driver 0000:00:1f.6 vfio-pci
    [ "$(state_of 0000:00:1f.6 stage)" = manual ] || fail "stage"
    run claim 00:02.0
    assert_rc 1
    assert_err "0000:00:02.0: not claimed: boot VGA device"
    assert_driver 0000:00:02.0 i915
    run claim --force 00:02.0
    assert_rc 0
    assert_driver 0000:00:02.0 vfio-pci
    run claim 00:1f.6
    assert_rc 0
    assert_err "already claimed"
    run claim 0000:09:00.0
    assert_rc 1
    assert_err "no PCI device matches"
}

test_kernel_cmdline_off_claims_nothing_even_with_configuration() {
    fixture desktop
    conf 10.conf "claim gpu 00:1f.6"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b ro vfio_claim=off"
    run boot
    assert_rc 0
    assert_err "vfio_claim=off"
    assert_driver 0000:01:00.0 nouveau
    assert_driver 0000:00:1f.6 e1000e
    run udev /devices/pci0000:00/0000:00:1f.6
    assert_out "VFIO_CLAIM=kept"
    assert_driver 0000:00:1f.6 e1000e
}

test_cmdline_claim_and_bad_parameter_at_boot() {
    fixture desktop
    : >"$ROOT/dev/kmsg"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio_claim=00:1f.6 vfio_claim=zz"
    run boot
    assert_rc 0
    assert_driver 0000:00:1f.6 vfio-pci
    [ "$(state_of 0000:00:1f.6 rule)" = cmdline ] || fail "rule"
    grep -q "vfio-claim: error: vfio_claim: 'zz'" "$ROOT/dev/kmsg" || fail "not on the console"
    grep -q "vfio_claim: 'zz'" "$ROOT/run/vfio-claim/config-errors" || fail "not in the state dir"
}

test_bad_cmdline_exclude_claims_nothing_that_boot_and_says_why() {
    fixture desktop
    : >"$ROOT/dev/kmsg"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio_claim=00:1f.6 vfio_claim.exclude=00:1f.6,zz"
    run boot
    assert_rc 0
    assert_driver 0000:00:1f.6 e1000e
    [ "$(override_of 0000:00:1f.6)" = "(null)" ] || fail "override written for what the exclude kept"
    grep -q "an exclude could not be read (vfio_claim.exclude)" "$ROOT/dev/kmsg" || fail "not on the console"
    run status
    assert_out "nothing claimed from the configuration: the exclude at vfio_claim.exclude could not be read"
}

test_permissions_applied_to_dev_vfio_node() {
    fixture desktop
    printf 'root:x:0:\nkvm:x:994:\nlibvirt:x:996:\n' >"$ROOT/etc/group"
    printf 'root:x:0:0::/root:/bin/sh\nvmuser:x:1000:1000::/home/vm:/bin/sh\n' >"$ROOT/etc/passwd"
    conf 10.conf "permissions group=kvm mode=0660" "claim 00:1f.6 owner=vmuser group=libvirt mode=0600" "claim 02:00.0"
    run boot
    assert_rc 0
    local g1 g2
    g1=$(state_of 0000:00:1f.6 iommu_group) g2=$(state_of 0000:02:00.0 iommu_group)
    [ "$(stat -c '%u %g %a' "$ROOT/dev/vfio/$g1")" = "1000 996 600" ] || fail "claim permissions: $(stat -c '%u %g %a' "$ROOT/dev/vfio/$g1")"
    [ "$(stat -c '%g %a' "$ROOT/dev/vfio/$g2")" = "994 660" ] || fail "default permissions"
    run udev /devices/virtual/vfio/"$g1"
    assert_rc 0
    [ "$OUT" = $'VFIO_CLAIM_OWNER=1000\nVFIO_CLAIM_GROUP=996\nVFIO_CLAIM_MODE=0600' ] || fail "udev vfio output"
    run udev /devices/virtual/vfio/vfio
    assert_rc 0
    [ -z "$OUT" ] || fail "control node got permissions"
}

test_permissions_applied_to_dev_iommu_for_iommufd() {
    fixture desktop
    printf 'root:x:0:\nkvm:x:994:\nlibvirt:x:996:\n' >"$ROOT/etc/group"
    printf 'root:x:0:0::/root:/bin/sh\nvmuser:x:1000:1000::/home/vm:/bin/sh\n' >"$ROOT/etc/passwd"
    : >"$ROOT/dev/iommu"
    chmod 600 "$ROOT/dev/iommu"
    # nothing claimed: /dev/iommu is left alone, by boot and by its udev event
    conf 10.conf "permissions group=kvm mode=0660"
    run boot
    [ "$(stat -c '%g %a' "$ROOT/dev/iommu")" = "0 600" ] || fail "changed with nothing claimed"
    SUBSYSTEM=misc run udev /devices/virtual/misc/iommu
    assert_rc 0
    [ -z "$OUT" ] || fail "keys with nothing claimed: $OUT"
    # a claim: the default permissions, as for /dev/vfio/N
    conf 10.conf "permissions group=kvm mode=0660" "claim 00:1f.6 owner=vmuser group=libvirt mode=0600"
    run boot
    [ "$(stat -c '%g %a' "$ROOT/dev/iommu")" = "994 660" ] || fail "boot: $(stat -c '%g %a' "$ROOT/dev/iommu")"
    SUBSYSTEM=misc run udev /devices/virtual/misc/iommu
    assert_rc 0
    [ "$OUT" = $'VFIO_CLAIM_GROUP=994\nVFIO_CLAIM_MODE=0660' ] || fail "udev iommu output: $OUT"
    # without a default, the claim's own
    conf 10.conf "claim 00:1f.6 owner=vmuser group=libvirt mode=0600"
    SUBSYSTEM=misc run udev /devices/virtual/misc/iommu
    [ "$OUT" = $'VFIO_CLAIM_OWNER=1000\nVFIO_CLAIM_GROUP=996\nVFIO_CLAIM_MODE=0600' ] || fail "udev iommu output: $OUT"
    # another misc device is none of ours
    SUBSYSTEM=misc run udev /devices/virtual/misc/fuse
    assert_rc 0
    [ -z "$OUT" ] || fail "fuse got keys: $OUT"
}

test_udev_prints_import_keys_and_claims_only_selected_devices() {
    fixture server
    conf 10.conf "claim 03:00.0"
    run udev /sys/devices/pci0000:00/0000:00:01.0/0000:03:00.0
    assert_rc 0
    assert_out "VFIO_CLAIM=claimed"
    assert_out "VFIO_CLAIM_REASON=selected by /etc/vfio-claim.d/10.conf:1 ('03:00.0')"
    assert_driver 0000:03:00.0 vfio-pci
    [ "$(state_of 0000:03:00.0 stage)" = udev ] || fail "stage"
    DEVPATH=/devices/pci0000:00/0000:00:02.0/0000:04:00.0 run udev
    assert_out "VFIO_CLAIM=kept"
    assert_driver 0000:04:00.0 igb
}

test_boot_writes_the_udev_selection_rules() {
    fixture desktop
    conf 10.conf "claim 01:00.0 10de:1b80 gpu class=0x0c0330 path=0000:00:1c.0/00.0"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio_claim=02:00.*"
    run boot
    local f="$ROOT/run/udev/rules.d/69-vfio-claim-select.rules"
    [ -f "$f" ] || fail "no rules file"
    grep -qF 'KERNEL=="0000:01:00.0", ENV{VFIO_CLAIM_SELECT}="1"' "$f" || fail "address"
    grep -qF 'ATTR{vendor}=="0x10de", ATTR{device}=="0x1b80", ENV{VFIO_CLAIM_SELECT}="1"' "$f" || fail "ids"
    grep -qF 'ATTR{class}=="0x03*", ENV{VFIO_CLAIM_SELECT}="1"' "$f" || fail "category"
    grep -qF 'ATTR{class}=="0x0c0330", ENV{VFIO_CLAIM_SELECT}="1"' "$f" || fail "class"
    grep -qF 'DEVPATH=="*/0000:00:1c.0/0000:??:00.0", ENV{VFIO_CLAIM_SELECT}="1"' "$f" || fail "path"
    grep -qF 'KERNEL=="0000:02:00.*", ENV{VFIO_CLAIM_SELECT}="1"' "$f" || fail "cmdline"
    grep -qF 'ACTION!="add", GOTO="vfio_claim_select_end"' "$f" || fail "action guard"
    # udev rejects a line with a comment after its rule ("Invalid key/value pair")
    ! grep -vE '^(#.*)?$' "$f" | grep -q '#' || fail "a comment after a rule"
    grep -qxF "# /etc/vfio-claim.d/10.conf:1 'gpu'" "$f" || fail "origin comment"
}

test_release_when_the_initramfs_knew_no_host_module_uses_the_modalias() {
    fixture desktop
    conf 10.conf "claim 00:1f.6"
    run boot
    sed -i 's/^host_module=.*/host_module=none/; s/^host_driver=.*/host_driver=none/' \
        "$ROOT/run/vfio-claim/devices/0000:00:1f.6"
    run release 00:1f.6
    assert_rc 0
    assert_out "0000:00:1f.6: released, now bound to 'e1000e'"
    assert_driver 0000:00:1f.6 e1000e
}

test_release_loads_only_a_module_the_modalias_resolves_to() {
    fixture desktop
    conf 10.conf "claim 00:1f.6"
    run boot
    # the state directory names a module; it is not what the device's modalias resolves to
    sed -i 's/^host_module=.*/host_module=nouveau/' "$ROOT/run/vfio-claim/devices/0000:00:1f.6"
    # and the host driver is not loaded: release must load it, and only it
    rm -rf "$ROOT/sys/bus/pci/drivers/e1000e" "$ROOT/sys/module/e1000e"
    rm -rf "$ROOT/sys/module/nouveau" "$ROOT/sys/bus/pci/drivers/nouveau"
    run release 00:1f.6
    assert_rc 0
    assert_out "0000:00:1f.6: released, now bound to 'e1000e'"
    assert_driver 0000:00:1f.6 e1000e
    [ "$(cat "$ROOT/sys/module/e1000e/initstate")" = live ] || fail "e1000e not inserted"
    [ ! -e "$ROOT/sys/module/nouveau" ] || fail "the recorded module was inserted"
}

test_release_honours_modprobe_blacklists() {
    fixture desktop
    conf 10.conf "claim 00:1f.6"
    run boot
    rm -rf "$ROOT/sys/bus/pci/drivers/e1000e" "$ROOT/sys/module/e1000e"
    mkdir -p "$ROOT/etc/modprobe.d"
    echo "blacklist e1000e" >"$ROOT/etc/modprobe.d/no-e1000e.conf"
    run release 00:1f.6
    assert_rc 0
    assert_out "0000:00:1f.6: released; no host driver took it"
    [ ! -e "$ROOT/sys/module/e1000e" ] || fail "a blacklisted module was inserted"
    [ "$(override_of 0000:00:1f.6)" = "(null)" ] || fail "override left"
}

test_boot_messages_appear_once_in_the_kernel_log_and_not_again_on_stderr() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    : >"$ROOT/dev/kmsg"
    run boot
    assert_rc 0
    [ "$(grep -c '0000:01:00.0: claimed for vfio-pci' "$ROOT/dev/kmsg")" -eq 1 ] || fail "claim message not once in the kernel log"
    [ "$(grep -c '0000:00:02.0: refused: boot VGA device' "$ROOT/dev/kmsg")" -eq 1 ] || fail "refusal not once"
    assert_not_err "0000:01:00.0: claimed"
    assert_not_err "refused"
    # without a kernel log (a console by hand), stderr has them
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    [ ! -e "$ROOT/dev/kmsg" ] || fail "the fixture has a kernel log"
    run boot
    assert_err "0000:01:00.0: claimed for vfio-pci"
}

test_each_refusal_is_logged_once_per_boot() {
    fixture desktop
    conf 10-gpu.conf "claim 00:02.0"
    run boot
    assert_err "0000:00:02.0: refused: boot VGA device"
    # the initramfs' udev and the real root's coldplug replay meet it again: not said again
    run udev /devices/pci0000:00/0000:00:02.0
    assert_out "VFIO_CLAIM=refused"
    assert_not_err "refused"
    run udev /devices/pci0000:00/0000:00:02.0
    assert_not_err "refused"
    # check and list still say it, every time
    run check
    assert_out "boot VGA device"
    # a refusal for another reason is news
    conf 10-gpu.conf "claim 00:02.0" "claim 3d:00.0"
    run udev /devices/pci0000:00/0000:00:1d.0/0000:3d:00.0
    assert_out "VFIO_CLAIM=refused"
    assert_err "0000:3d:00.0: refused: carries the root file system"
}
