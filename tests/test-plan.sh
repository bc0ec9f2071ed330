#!/bin/bash
# The whole plan of `check --json` for each fixture machine and configuration in tests/plans/cases,
# compared line by line with tests/plans/NAME.plan ("device decision reason").
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_case() { # NAME: runs one line of tests/plans/cases
    local name machine lines extra
    IFS='|' read -r name machine lines extra < <(grep "^$1|" "$TESTS_DIR/plans/cases")
    fixture "$machine"
    tr ';' '\n' <<<"$lines" >"$ROOT/etc/vfio-claim.d/test.conf"
    [ -z "$extra" ] || sed -i "s|\$| $extra|" "$ROOT/proc/cmdline"
    run --json check
    assert_rc 0
    diff -u "$TESTS_DIR/plans/$name.plan" <(plan_lines) >&2 || fail "plan of '$name' differs"
}

test_desktop_claim_gpu_takes_discrete_gpu_and_its_audio_refuses_boot_igpu() { check_case desktop-gpu; }
test_desktop_claim_nvme_refuses_the_root_nvme() { check_case desktop-nvme; }
test_desktop_claim_usb_keeps_the_last_usb_controller_without_ps2() { check_case desktop-usb; }
test_desktop_keep_usb_0_takes_every_usb_controller() { check_case desktop-usb-keep0; }
test_desktop_force_by_address_claims_the_boot_vga() { check_case desktop-force-vga; }
test_desktop_allow_boot_vga_option() { check_case desktop-allow-vga; }
test_desktop_force_by_address_claims_the_root_nvme() { check_case desktop-force-nvme; }
test_desktop_boot_vga_named_by_address_is_told_to_add_force() { check_case desktop-vga-by-address; }
test_desktop_excluded_companion_refuses_the_group() { check_case desktop-exclude; }
test_server_twin_nic_sriov_pf_sata_root_and_bmc_vga() { check_case server; }
test_chipset_audio_refused_naming_the_smbus() { check_case chipset-audio; }
test_chipset_group_claimed_when_every_endpoint_is_selected() { check_case chipset-all; }
test_chipset_group_policy_whole_takes_the_group() { check_case chipset-whole; }
test_noiommu_claims_with_a_warning() { check_case noiommu; }

test_every_case_has_a_test() {
    local n
    n=$(grep -cv '^#' "$TESTS_DIR/plans/cases")
    [ "$n" -eq "$(grep -c '^test_.*check_case' "${BASH_SOURCE[0]}")" ] || fail "cases without a test"
}

test_root_found_from_the_mount_table_when_root_is_not_on_the_command_line() {
    fixture desktop
    cmdline "BOOT_IMAGE=/vmlinuz ro quiet"
    conf test.conf "claim nvme"
    run --json check
    plan_has "^0000:3d:00.0 refuse carries the mounted file system '/'" || fail "mount table not used"
}

test_root_found_from_the_initramfs_record_when_nothing_else_knows() {
    fixture desktop
    cmdline "root=UUID=00000000-0000-0000-0000-000000000000 ro"
    : >"$ROOT/proc/self/mountinfo"
    conf test.conf "claim nvme"
    run --json check
    plan_has "^0000:3d:00.0 refuse storage controller, and the root file system 'UUID=0000" ||
        fail "with root= unknown and no record, storage must be refused"
    plan_has "^0000:00:1f.6 keep not selected" || fail "others"
    mkdir -p "$ROOT/etc/vfio-claim"
    : >"$ROOT/etc/vfio-claim/root-devices"
    run --json check
    plan_has "^0000:3d:00.0 refuse storage controller" || fail "an empty record is no record"
    echo "path=0000:00:1d.0/00.0" >"$ROOT/etc/vfio-claim/root-devices"
    run --json check
    plan_has "^0000:3d:00.0 refuse carried the root file system when the initramfs was built" ||
        fail "root-devices record not used"
    # with a record, other storage controllers can be claimed early
    echo "path=0000:00:1c.0/00.0" >"$ROOT/etc/vfio-claim/root-devices"
    run --json check
    plan_has "^0000:3d:00.0 claim" || fail "the record names another device: the NVMe is free"
}

test_unknown_root_without_record_still_claims_storage_forced_by_address() {
    fixture desktop
    cmdline "root=UUID=00000000-0000-0000-0000-000000000000 ro"
    : >"$ROOT/proc/self/mountinfo"
    conf test.conf "claim 3d:00.0 force" "claim net"
    run --json check
    plan_has "^0000:3d:00.0 claim selected by /etc/vfio-claim.d/test.conf:1 ('3d:00.0'), forced" || fail "force"
    plan_has "^0000:00:1f.6 claim" || fail "a NIC is not storage"
}

test_root_devices_prints_the_pci_path_of_the_root_disk() {
    fixture server
    run root-devices
    assert_rc 0
    # the root= the record is made for, then the devices
    [ "$OUT" = "root=PARTUUID=0b7e2c4d-58a1-4f36-9d2e-7c1b3a4f5e60
path=0000:00:17.0" ] || fail "got '$OUT'"
}

test_a_record_made_for_another_root_is_not_used() {
    fixture server
    run root-devices
    mkdir -p "$ROOT/etc/vfio-claim"
    printf '%s\n' "$OUT" >"$ROOT/etc/vfio-claim/root-devices"
    # as in the initramfs before udev: no mount, no /dev/disk links, root= not found
    : >"$ROOT/proc/self/mountinfo"
    rm -rf "$ROOT/dev/disk"
    conf test.conf "claim storage"
    # the boot the record was made for: the record protects the root disk
    cmdline "root=PARTUUID=0b7e2c4d-58a1-4f36-9d2e-7c1b3a4f5e60 ro"
    run --json check
    plan_has "^0000:00:17.0 refuse carried the root file system when the initramfs was built" ||
        fail "the record is not used for its own root="
    # another root= (not found before udev): the record is void, every storage controller refused
    cmdline "root=UUID=11111111-2222-3333-4444-555555555555 ro"
    run --json check
    assert_err "made for root=PARTUUID=0b7e2c4d-58a1-4f36-9d2e-7c1b3a4f5e60, but this boot has root=UUID=11111111-2222-3333-4444-555555555555: not used; rebuild the initramfs"
    plan_has "^0000:00:17.0 refuse storage controller, and the root file system 'UUID=1111" ||
        fail "a void record still counted"
}

test_root_by_dev_path_label_partlabel_and_partuuid() {
    fixture desktop
    conf test.conf "claim nvme"
    : >"$ROOT/proc/self/mountinfo"
    local spec partuuid
    partuuid=$(cd "$ROOT/dev/disk/by-partuuid" && for l in *; do
        [ "$(readlink "$l")" = ../../nvme0n1p2 ] && echo "$l"
    done)
    for spec in /dev/nvme0n1p2 LABEL=rootfs PARTLABEL=root "PARTUUID=$partuuid"; do
        cmdline "root=$spec ro"
        run --json check
        plan_has "^0000:3d:00.0 refuse carries the root file system ('$spec')" || fail "root=$spec not found"
    done
}
