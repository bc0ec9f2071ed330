#!/bin/bash
# image-config: the configuration and root-device record an initramfs carries, written by the
# program for both initramfs generators (no second grammar in the hooks).
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The user database of the system in $ROOT: daemon has another uid than on any Debian host, so a
# lookup through the host's NSS would show.
users() {
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:777:777::/:/usr/sbin/nologin' \
        'qemu:x:64055:108:QEMU:/nonexistent:/usr/sbin/nologin' >"$ROOT/etc/passwd"
    printf '%s\n' 'root:x:0:' 'kvm:x:108:qemu' 'daemon:x:778:' >"$ROOT/etc/group"
}

# A fresh, empty image folder (outside $ROOT: DESTDIR is not under --root) -> sets $IMG
image() {
    IMG=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-image.XXXXXX")
    CLEANUP+=("$IMG")
}

test_names_on_claim_and_permissions_lines_become_the_roots_numbers() {
    fixture server
    users
    image
    conf vm.conf '# owner=qemu in a comment stays' \
        'claim 0000:01:00.0  owner=qemu	group=kvm mode=0660 # group=kvm' \
        '' \
        'permissions owner=daemon group=daemon mode=0600' \
        'exclude 01:00.1   # owner=daemon' \
        'claim gpu owner=1000 group=0' ''
    printf '%s\n' '# owner=qemu in a comment stays' \
        'claim 0000:01:00.0  owner=64055	group=108 mode=0660 # group=kvm' \
        '' \
        'permissions owner=777 group=778 mode=0600' \
        'exclude 01:00.1   # owner=daemon' \
        'claim gpu owner=1000 group=0' '' >"$IMG.expected"
    CLEANUP+=("$IMG.expected")
    run image-config "$IMG"
    assert_rc 0
    [ ! -e "$ROOT$IMG" ] || fail "DESTDIR was taken under --root"
    cmp "$IMG.expected" "$IMG/etc/vfio-claim.d/vm.conf" >&2 ||
        fail "$(diff -u "$IMG.expected" "$IMG/etc/vfio-claim.d/vm.conf")"
    [ "$(stat -c %a "$IMG/etc/vfio-claim.d/vm.conf")" = 644 ] || fail "mode"
}

test_etc_replaces_usr_lib_and_both_folders_go_into_the_image() {
    fixture server
    users
    image
    mkdir -p "$ROOT/usr/lib/vfio-claim.d"
    echo "claim gpu group=root" >"$ROOT/usr/lib/vfio-claim.d/vm.conf"
    echo "claim nvme group=kvm" >"$ROOT/usr/lib/vfio-claim.d/50-vendor.conf"
    conf vm.conf "claim net owner=qemu"
    run image-config "$IMG"
    assert_rc 0
    [ ! -e "$IMG/usr/lib/vfio-claim.d/vm.conf" ] || fail "/usr/lib/vfio-claim.d/vm.conf is replaced by /etc"
    grep -qx "claim net owner=64055" "$IMG/etc/vfio-claim.d/vm.conf" || fail "/etc/vfio-claim.d/vm.conf"
    grep -qx "claim nvme group=108" "$IMG/usr/lib/vfio-claim.d/50-vendor.conf" || fail "/usr/lib"
}

test_a_masked_file_stays_masked_in_the_image() {
    fixture server
    users
    image
    mkdir -p "$ROOT/usr/lib/vfio-claim.d" "$ROOT/etc/vfio-claim.d"
    echo "claim nvme owner=nosuchuser" >"$ROOT/usr/lib/vfio-claim.d/50-vendor.conf"
    ln -s /dev/null "$ROOT/etc/vfio-claim.d/50-vendor.conf"
    run image-config "$IMG"
    assert_rc 0
    [ "$(readlink "$IMG/etc/vfio-claim.d/50-vendor.conf")" = /dev/null ] || fail "not a link to /dev/null"
    [ ! -e "$IMG/usr/lib/vfio-claim.d/50-vendor.conf" ] || fail "the masked file was copied"
}

test_an_unknown_name_is_an_error_at_file_line_and_nothing_is_written() {
    fixture server
    users
    image
    conf 10-good.conf "claim net owner=qemu"
    conf 20-bad.conf "# a comment" "claim gpu owner=qemu group=nosuchgroup"
    run image-config "$IMG"
    assert_rc 2
    assert_err "/etc/vfio-claim.d/20-bad.conf:2: 'group=nosuchgroup': no group 'nosuchgroup'"
    assert_err "nothing written to '$IMG'"
    [ -z "$(ls -A "$IMG")" ] || fail "the image holds $(find "$IMG" -mindepth 1)"
    # the host's user database is not asked: root exists on every host, not in this root
    printf '%s\n' 'qemu:x:64055:108::/:/bin/false' >"$ROOT/etc/passwd"
    conf 20-bad.conf "claim gpu owner=root"
    run image-config "$IMG"
    assert_rc 2
    assert_err "/etc/vfio-claim.d/20-bad.conf:1: 'owner=root': no user 'root' in '$ROOT/etc/passwd'"
}

test_ids_that_do_not_fit_uid_t_are_rejected() {
    fixture server
    users
    image
    conf vm.conf "claim gpu owner=4294968296" "permissions group=4294967295"
    run image-config "$IMG"
    assert_rc 2
    assert_err "/etc/vfio-claim.d/vm.conf:1: 'owner=4294968296': not a valid user id"
    assert_err "/etc/vfio-claim.d/vm.conf:2: 'group=4294967295': not a valid group id"
    [ -z "$(ls -A "$IMG")" ] || fail "something was written"
    conf vm.conf "claim gpu owner=4294967294"
    run image-config "$IMG"
    assert_rc 0
}

test_a_fifo_in_the_configuration_is_an_error_not_a_hang() {
    fixture server
    users
    image
    mkdir -p "$ROOT/etc/vfio-claim.d"
    mkfifo "$ROOT/etc/vfio-claim.d/fifo.conf"
    RC=0
    ERR=$(timeout 10 "$VFIO_CLAIM" --root "$ROOT" image-config "$IMG" 2>&1) || RC=$?
    assert_rc 1
    assert_err "/etc/vfio-claim.d/fifo.conf: cannot read it: not a regular file"
}

test_the_root_device_record_is_what_root_devices_prints() {
    fixture server
    users
    image
    run root-devices
    assert_rc 0
    local want=$OUT
    run image-config "$IMG"
    assert_rc 0
    [ "$(sed -n 1p "$IMG/etc/vfio-claim/root-devices")" = \
        "# The PCI devices that carried the file systems the boot needs when this initramfs was built" ] ||
        fail "header"
    [ "$(sed 1d "$IMG/etc/vfio-claim/root-devices")" = "$want" ] || fail "record: $(cat "$IMG/etc/vfio-claim/root-devices")"
    [ "$want" = "root=PARTUUID=0b7e2c4d-58a1-4f36-9d2e-7c1b3a4f5e60
path=0000:00:17.0" ] || fail "root-devices: $want"
    [ ! -e "$IMG/etc/vfio-claim.d" ] || fail "no configuration, no folder"
    # the record is what the image's boot reads when root= cannot be found before udev
    mkdir -p "$ROOT/etc/vfio-claim"
    cp "$IMG/etc/vfio-claim/root-devices" "$ROOT/etc/vfio-claim/"
    # the boot it was made for, before udev: no mount, no /dev/disk links, root= not found
    cmdline "root=PARTUUID=0b7e2c4d-58a1-4f36-9d2e-7c1b3a4f5e60 ro"
    : >"$ROOT/proc/self/mountinfo"
    rm -rf "$ROOT/dev/disk"
    conf test.conf "claim storage"
    run --json check
    plan_has "^0000:00:17.0 refuse carried the root file system when the initramfs was built" ||
        fail "the record is not read back"
}

test_an_image_built_in_a_chroot_without_its_disks_has_no_record_and_says_so_once() {
    fixture server
    users
    image
    mkdir "$ROOT/other-root"
    ln -sfn ../../other-root "$ROOT/proc/1/root"
    printf '%s\n' "UUID=00000000-1111-2222-3333-444444444444 / ext4 defaults 0 1" >"$ROOT/etc/fstab"
    run image-config "$IMG"
    assert_rc 0
    [ ! -e "$IMG/etc/vfio-claim/root-devices" ] || fail "a record was written: $(cat "$IMG/etc/vfio-claim/root-devices")"
    [ "$(grep -c 'no root-device record is made' <<<"$ERR")" -eq 1 ] || fail "said $(grep -c 'no root-device record' <<<"$ERR") times: $ERR"
    assert_err "run 'update-initramfs -u' (or 'dracut -f') once the system runs from its own disks"
}

test_needed_says_whether_the_configuration_claims_something() {
    fixture server
    run image-config --needed
    assert_rc 1
    conf 10.conf "exclude gpu" "# claim gpu"
    run image-config --needed
    assert_rc 1
    conf 20.conf "claim gpu"
    run image-config --needed
    assert_rc 0
    [ -z "$OUT" ] || fail "--needed prints nothing"
    ln -sfn /dev/null "$ROOT/etc/vfio-claim.d/20.conf"
    run image-config --needed
    assert_rc 1
    # a broken file: the image carries the program, whose boot says what is wrong
    conf 30.conf "claim gpus"
    run image-config --needed
    assert_rc 0
}

test_help_prints_the_usage_and_exits_0() {
    fixture server
    run image-config --help
    assert_rc 0
    assert_out "vfio-claim [options] image-config DESTDIR|--needed"
    assert_out "--needed"
    run image-config
    assert_rc 2
    assert_err "image-config takes one DESTDIR"
}

test_check_and_status_say_when_the_configuration_changed_since_the_image_was_built() {
    fixture desktop
    users
    image
    conf 10-gpu.conf "claim gpu"
    run image-config "$IMG"
    assert_rc 0
    [ -s "$IMG/etc/vfio-claim/config-digest" ] || fail "the image carries no digest"
    # the boot from that image records the digest it was built from
    mkdir -p "$ROOT/etc/vfio-claim"
    cp "$IMG/etc/vfio-claim/config-digest" "$ROOT/etc/vfio-claim/"
    run boot
    [ -s "$ROOT/run/vfio-claim/image-config-digest" ] || fail "boot did not record it"
    run check
    assert_rc 0
    assert_not_err "differs"
    run status
    assert_not_out "differs"
    # the configuration changes afterwards: check and status say so, with the command
    conf 20-net.conf "claim net"
    run check
    assert_rc 0
    assert_err "the configuration differs from the one this boot's initramfs was built with: run 'update-initramfs -u' (or 'dracut -f')"
    run status
    assert_out "the configuration differs from the one this boot's initramfs was built with"
    run --json status
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert "update-initramfs" in d["stale_image"]' <<<"$OUT" ||
        fail "status --json"
    # masking a file is a change too
    rm "$ROOT/etc/vfio-claim.d/20-net.conf"
    run check
    assert_not_err "differs"
    ln -s /dev/null "$ROOT/etc/vfio-claim.d/10-gpu.conf.tmp" && mv -T "$ROOT/etc/vfio-claim.d/10-gpu.conf.tmp" "$ROOT/etc/vfio-claim.d/10-gpu.conf"
    run check
    assert_err "differs from the one this boot's initramfs was built with"
}
