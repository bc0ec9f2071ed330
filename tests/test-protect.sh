#!/bin/bash
# Every disk the boot needs is protected (SPEC §6): /etc/fstab entries mounted at boot, swap,
# /etc/crypttab sources and resume=, through dm (LVM) and md stacks, on the desktop-home fixture
# (tests/mkfixture.py: / on the NVMe 3d:00.0; /home, swap, LUKS, an LVM volume and one RAID1
# member on the second NVMe 04:00.0; the other RAID1 member on the SATA disk of 00:17.0).
# Also: root-devices in a chroot records the disks of the chroot's own fstab, or nothing (and
# says the fix) when they are not here or it cannot tell whether it runs in a chroot.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOME_UUID=6b2d4f81-0a3c-4e5b-8d7f-9e1a2b3c4d5e
SWAP_UUID=0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f
LUKS_UUID=c4a1e2f3-5b6d-4e7f-8a9b-0c1d2e3f4a5b
LVM_DATA_UUID=2e4f6a8c-0b1d-4f3e-a5c7-9e1b3d5f7a9c
RAID_UUID=8a6c4e2f-1d3b-4a5c-b7e9-0f2d4b6a8c1e
NVME2=0000:04:00.0
PROTECTED=": the host would lose it; name it by address with 'force' to claim it anyway"

# home_fixture: a fresh desktop-home tree in $ROOT (generated once per run into $FIXTURES)
home_fixture() {
    if [ ! -d "$FIXTURES/desktop-home" ]; then
        local tmp
        tmp=$(mktemp -d "$FIXTURES/.desktop-home.XXXXXX")
        python3 "$TESTS_DIR/mkfixture.py" desktop-home "$tmp" >/dev/null || fail "mkfixture"
        mv -T "$tmp" "$FIXTURES/desktop-home" 2>/dev/null || rm -rf "$tmp"
    fi
    fixture desktop-home
}

fstab() { printf '%s\n' "$@" >"$ROOT/etc/fstab"; }
crypttab() { printf '%s\n' "$@" >"$ROOT/etc/crypttab"; }

# refused_for ADDR REASON: check --json refuses ADDR for exactly that reason
refused_for() {
    plan_has "^$1 refuse $2$PROTECTED$" || fail "$1 not refused with '$2'"
}

test_claim_nvme_refuses_the_nvme_that_carries_home_from_fstab() {
    home_fixture
    fstab "# /etc/fstab: static file system information." \
        "UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b / ext4 errors=remount-ro 0 1" \
        "UUID=$HOME_UUID /home ext4 defaults 0 2" \
        "proc /proc proc defaults 0 0" \
        "tmpfs /tmp tmpfs nosuid,nodev 0 0" \
        "nas:/export/media /media nfs4 defaults,_netdev 0 0"
    conf test.conf "claim nvme"
    run --json check
    assert_rc 0
    refused_for "$NVME2" "carries /home (from /etc/fstab)"
    refused_for 0000:3d:00.0 "carries the root file system ('UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b')"
    run check
    assert_out "carries /home (from /etc/fstab)"
}

test_fstab_sources_by_label_partuuid_partlabel_dev_path_and_by_id_link() {
    home_fixture
    conf test.conf "claim nvme"
    local spec
    for spec in LABEL=home PARTUUID=7c1e3a5b-9d2f-4b6e-8a0c-2e4f6a8c0b1d PARTLABEL=home \
        /dev/nvme1n1p1 /dev/disk/by-id/nvme-WDS100T3X0C-00SJG0_20123A800456-part1; do
        fstab "$spec /srv/my\\040files ext4 defaults,nofail 0 2"
        run --json check
        refused_for "$NVME2" "carries /srv/my files (from /etc/fstab)"
    done
}

test_noauto_fstab_entry_does_not_protect() {
    home_fixture
    fstab "UUID=$HOME_UUID /home ext4 noauto,user 0 2"
    conf test.conf "claim nvme"
    run --json check
    plan_has "^$NVME2 claim selected by" || fail "a noauto entry is not needed at boot"
    # an automount unit mounts it on first access: needed after all
    fstab "UUID=$HOME_UUID /home ext4 noauto,x-systemd.automount 0 2"
    run --json check
    refused_for "$NVME2" "carries /home (from /etc/fstab)"
}

test_swap_in_fstab_protects() {
    home_fixture
    fstab "UUID=$SWAP_UUID none swap sw 0 0" "/swapfile none swap sw 0 0"
    conf test.conf "claim nvme"
    run --json check
    refused_for "$NVME2" "carries swap (from /etc/fstab)"
}

test_crypttab_source_protects() {
    home_fixture
    crypttab "# <target name> <source device> <key file> <options>" \
        "cryptdata UUID=$LUKS_UUID none luks,discard"
    conf test.conf "claim nvme"
    run --json check
    refused_for "$NVME2" "carries 'cryptdata' (from /etc/crypttab)"
    crypttab "cryptdata UUID=$LUKS_UUID none luks,noauto"
    run --json check
    plan_has "^$NVME2 claim" || fail "a noauto crypttab entry is not opened at boot"
}

test_resume_device_on_the_command_line_protects() {
    home_fixture
    conf test.conf "claim nvme"
    local spec
    for spec in "UUID=$SWAP_UUID" /dev/nvme1n1p2 259:5; do
        cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b ro resume=$spec quiet"
        run --json check
        refused_for "$NVME2" "carries the resume device (resume=)"
    done
}

test_lvm_volume_protects_the_disk_of_its_physical_volume() {
    home_fixture
    conf test.conf "claim nvme"
    local spec
    for spec in /dev/mapper/vg0-data /dev/vg0/data "UUID=$LVM_DATA_UUID"; do
        fstab "$spec /srv ext4 defaults 0 2"
        run --json check
        refused_for "$NVME2" "carries /srv (from /etc/fstab)"
    done
}

test_md_array_protects_every_member_disk() {
    home_fixture
    fstab "UUID=$RAID_UUID /srv ext4 defaults 0 2"
    conf test.conf "claim storage"
    run --json check
    refused_for "$NVME2" "carries /srv (from /etc/fstab)"
    refused_for 0000:00:17.0 "carries /srv (from /etc/fstab)"
    fstab "/dev/md0 /srv ext4 defaults 0 2"
    run --json check
    refused_for 0000:00:17.0 "carries /srv (from /etc/fstab)"
}

test_force_by_address_claims_the_protected_nvme() {
    home_fixture
    fstab "UUID=$HOME_UUID /home ext4 defaults 0 2"
    conf test.conf "claim 04:00.0"
    run --json check
    # named by address already: the word 'force' on that line is all it lacks
    plan_has "^$NVME2 refuse carries /home (from /etc/fstab): the host would lose it; add 'force' to its claim at /etc/vfio-claim.d/test.conf:1 to claim it anyway$" ||
        fail "the refusal does not point at the claim line"
    conf test.conf "claim 04:00.0 force"
    run --json check
    plan_has "^$NVME2 claim selected by /etc/vfio-claim.d/test.conf:1 ('04:00.0'), forced" ||
        fail "force by address"
    run boot
    assert_rc 0
    assert_driver "$NVME2" vfio-pci
}

test_boot_keeps_the_disk_of_home_on_nvme_and_claims_the_other_storage() {
    home_fixture
    fstab "UUID=$HOME_UUID /home ext4 defaults 0 2"
    conf test.conf "claim storage"
    run boot
    assert_rc 0
    assert_driver "$NVME2" nvme
    assert_driver 0000:3d:00.0 nvme
    assert_driver 0000:00:17.0 vfio-pci
    assert_err "$NVME2: refused: carries /home (from /etc/fstab)"
    [ "$(override_of "$NVME2")" = "(null)" ] || fail "override written for the /home disk"
}

test_manual_claim_refuses_the_home_disk_without_force() {
    home_fixture
    fstab "UUID=$HOME_UUID /home ext4 defaults 0 2"
    run claim 04:00.0
    assert_rc 1
    assert_err "$NVME2: not claimed: carries /home (from /etc/fstab): the host would lose it; run 'vfio-claim claim --force $NVME2' to claim it anyway"
    assert_driver "$NVME2" nvme
}

test_root_devices_records_the_home_disk() {
    home_fixture
    fstab "UUID=$HOME_UUID /home ext4 defaults 0 2"
    run root-devices
    assert_rc 0
    assert_out "path=0000:00:1b.0/00.0"
    assert_out "path=0000:00:1d.0/00.0"
}

ROOT_UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b

# chroot_fixture: desktop-home as an installer's /target, with /dev and /sys bound: init's root
# is elsewhere, and the host booted from another disk (root= and the mount table say so)
chroot_fixture() {
    home_fixture
    chroot_fixture_here
    cmdline "root=/dev/sda1 resume=UUID=$SWAP_UUID ro"
}

# chroot_fixture_here: the same, on the tree already in $ROOT
chroot_fixture_here() {
    mkdir -p "$ROOT/other-root"
    ln -sfn ../../other-root "$ROOT/proc/1/root"
    cmdline "root=/dev/sda1 ro"
    : >"$ROOT/proc/self/mountinfo"
}

test_root_devices_in_a_chroot_records_the_disks_of_its_own_fstab() {
    chroot_fixture
    fstab "UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1" \
        "UUID=$HOME_UUID /home ext4 defaults 0 2"
    run root-devices
    assert_rc 0
    # made for the root= the installed system boots with: each name of its root device
    assert_out "root=UUID=$ROOT_UUID"
    assert_out "root=/dev/nvme0n1p2"
    assert_out "path=0000:00:1d.0/00.0"
    assert_out "path=0000:00:1b.0/00.0"
    # the host's root= (the SATA disk of 00:17.0) and resume= are another system's
    assert_not_out "root=/dev/sda1"
    assert_not_out "path=0000:00:17.0"
    [ -z "$ERR" ] || fail "warnings: $ERR"
    # the installed system's early pass uses the record (before udev: no /dev/disk links)
    mkdir -p "$ROOT/etc/vfio-claim"
    printf '%s\n' "$OUT" >"$ROOT/etc/vfio-claim/root-devices"
    rm -r "$ROOT/etc/fstab" "$ROOT/dev/disk"
    cmdline "root=UUID=$ROOT_UUID ro"
    conf test.conf "claim nvme"
    run --json check
    refused_for 0000:3d:00.0 "carried the root file system when the initramfs was built (/etc/vfio-claim/root-devices)"
    refused_for "$NVME2" "carried the root file system when the initramfs was built (/etc/vfio-claim/root-devices)"
}

test_root_devices_in_a_chroot_whose_root_disk_is_not_here_records_nothing_and_says_the_fix() {
    chroot_fixture
    fstab "UUID=00000000-1111-2222-3333-444444444444 / ext4 errors=remount-ro 0 1"
    run root-devices
    assert_rc 0
    [ -z "$OUT" ] || fail "a record was made without the root disk: $OUT"
    assert_err "running in a chroot, and 'UUID=00000000-1111-2222-3333-444444444444' (carries the root file system"
    assert_err "is no disk here: no root-device record is made"
    assert_err "run 'update-initramfs -u' (or 'dracut -f') once the system runs from its own disks"
    # no fstab at all: the same
    rm "$ROOT/etc/fstab"
    run root-devices
    [ -z "$OUT" ] || fail "a record was made without an fstab: $OUT"
    assert_err "its /etc/fstab names no block device for /"
}

test_root_devices_in_a_chroot_makes_no_partial_record() {
    chroot_fixture
    # / is here, /home is not: a record naming only / would let the early pass take /home's disk
    fstab "UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1" \
        "UUID=00000000-1111-2222-3333-444444444444 /home ext4 defaults 0 2"
    run root-devices
    [ -z "$OUT" ] || fail "a partial record was made: $OUT"
    assert_err "'UUID=00000000-1111-2222-3333-444444444444' (carries /home (from /etc/fstab)) is no disk here"
}

test_resume_from_initramfs_tools_conf_protects_live_and_in_a_chroot() {
    home_fixture
    conf test.conf "claim nvme"
    mkdir -p "$ROOT/etc/initramfs-tools/conf.d"
    printf 'RESUME=UUID=%s\n' "$SWAP_UUID" >"$ROOT/etc/initramfs-tools/conf.d/resume"
    run --json check
    refused_for "$NVME2" "carries the resume device (RESUME= in /etc/initramfs-tools/conf.d/resume)"
    # a later file says none: not protected by it any more
    printf 'RESUME=none\n' >"$ROOT/etc/initramfs-tools/conf.d/zz-noresume"
    run --json check
    plan_has "^$NVME2 claim selected by" || fail "RESUME=none still protects"
    # in a chroot, the record carries it
    rm "$ROOT/etc/initramfs-tools/conf.d/zz-noresume"
    chroot_fixture_here
    fstab "UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1"
    run root-devices
    assert_out "path=0000:00:1b.0/00.0"
}

test_root_devices_that_cannot_tell_whether_it_is_in_a_chroot_records_nothing() {
    home_fixture
    rm "$ROOT/proc/1/root"
    run root-devices
    assert_rc 0
    [ -z "$OUT" ] || fail "a record was made though init's root could not be read"
    assert_err "cannot tell whether this runs in a chroot ('$ROOT/proc/1/root': No such file or directory)"
    assert_err "none is recorded"
}

test_storage_claimed_late_is_named_with_the_fix() {
    fixture desktop
    conf 10.conf "claim nvme"
    # the early pass: root= not found yet and no record: every storage controller refused
    cmdline "root=UUID=00000000-0000-0000-0000-000000000000 ro"
    : >"$ROOT/proc/self/mountinfo"
    run boot
    assert_driver 0000:3d:00.0 nvme
    # later, on the running system, the root is known to be elsewhere: udev takes the NVMe
    # from nvme, which probed it in the meantime
    cmdline "ro"
    run udev /devices/pci0000:00/0000:00:1d.0/0000:3d:00.0
    assert_rc 0
    assert_driver 0000:3d:00.0 vfio-pci
    assert_err "0000:3d:00.0: storage controller claimed late, after its host driver had taken it"
    assert_err "run 'update-initramfs -u' (or 'dracut -f')"
    [ "$(state_of 0000:3d:00.0 taken_from)" = nvme ] || fail "taken_from not recorded"
    run status
    assert_out "note: storage controller claimed late"
    run check
    assert_err "0000:3d:00.0: storage controller claimed late"
}
