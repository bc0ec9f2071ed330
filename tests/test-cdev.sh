#!/bin/bash
# Kernel 6.12 with iommufd and the VFIO device cdevs (CONFIG_VFIO_DEVICE_CDEV): the permissions
# policy reaches /dev/vfio/devices/vfioN of a claimed device as it reaches /dev/vfio/N, at the
# claim and on the node's udev event; list names the cdev; doctor says what the kernel has. The
# fixture "desktop-6.12" (tests/mkfixture.py --kernel-6.12) has /dev/iommu and sys/class/vfio-dev,
# and the fake kernel makes ADDR/vfio-dev/vfioN and /dev/vfio/devices/vfioN on a vfio bind.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

users() {
    printf 'root:x:0:\nkvm:x:994:\nlibvirt:x:996:\n' >"$ROOT/etc/group"
    printf 'root:x:0:0::/root:/bin/sh\nvmuser:x:1000:1000::/home/vm:/bin/sh\n' >"$ROOT/etc/passwd"
}

# cdev_of ADDR: the name of the device's cdev (vfio0), from sysfs
cdev_of() {
    local d
    for d in "$ROOT/sys/bus/pci/devices/$1/vfio-dev"/vfio*; do
        [ -d "$d" ] && basename "$d"
    done
}

perms_of() { stat -c '%u %g %a' "$ROOT/dev/$1"; }

test_a_claim_gives_the_device_cdevs_the_permissions_of_the_group_node() {
    fixture desktop-6.12
    users
    conf 10.conf "claim gpu owner=vmuser group=libvirt mode=0660"
    run boot
    assert_rc 0
    assert_driver 0000:01:00.0 vfio-pci
    assert_driver 0000:01:00.1 vfio-pci
    local gpu audio
    gpu=$(cdev_of 0000:01:00.0) audio=$(cdev_of 0000:01:00.1)
    if [ -z "$gpu" ] || [ -z "$audio" ] || [ "$gpu" = "$audio" ]; then
        fail "the fake kernel made no cdevs: '$gpu' '$audio'"
    fi
    [ "$(perms_of vfio/1)" = "1000 996 660" ] || fail "/dev/vfio/1: $(perms_of vfio/1)"
    [ "$(perms_of "vfio/devices/$gpu")" = "1000 996 660" ] ||
        fail "/dev/vfio/devices/$gpu: $(perms_of "vfio/devices/$gpu")"
    [ "$(perms_of "vfio/devices/$audio")" = "1000 996 660" ] ||
        fail "/dev/vfio/devices/$audio: $(perms_of "vfio/devices/$audio")"
    # /dev/iommu as before (b321dd7): the claim's permissions
    [ "$(perms_of iommu)" = "1000 996 660" ] || fail "/dev/iommu: $(perms_of iommu)"
    # a device not claimed has no cdev and nothing changes for it
    [ -z "$(cdev_of 0000:00:1f.6)" ] || fail "an unclaimed device has a cdev"
    # the default permissions line, for a claim without its own
    fixture desktop-6.12
    users
    conf 10.conf "permissions group=kvm mode=0660" "claim 00:1f.6"
    run boot
    assert_rc 0
    gpu=$(cdev_of 0000:00:1f.6)
    [ "$(perms_of "vfio/devices/$gpu")" = "0 994 660" ] ||
        fail "/dev/vfio/devices/$gpu: $(perms_of "vfio/devices/$gpu")"
    # release: the kernel removes the cdev with the vfio binding
    run release 00:1f.6
    assert_rc 0
    [ ! -e "$ROOT/dev/vfio/devices/$gpu" ] || fail "the cdev outlived the release"
}

test_the_udev_event_of_a_device_cdev_sets_the_policy_permissions() {
    fixture desktop-6.12
    users
    conf 10.conf "permissions group=kvm mode=0660" "claim gpu owner=vmuser group=libvirt mode=0600"
    run boot
    assert_rc 0
    local gpu devpath
    gpu=$(cdev_of 0000:01:00.0)
    devpath=/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vfio-dev/$gpu
    [ -d "$ROOT/sys$devpath" ] || fail "no $devpath in the fixture"
    SUBSYSTEM=vfio-dev run udev "$devpath"
    assert_rc 0
    [ "$OUT" = $'VFIO_CLAIM_OWNER=1000\nVFIO_CLAIM_GROUP=996\nVFIO_CLAIM_MODE=0600' ] ||
        fail "udev vfio-dev output: $OUT"
    # the same keys as the group node's event
    local group_out=$OUT
    SUBSYSTEM=vfio run udev /devices/virtual/vfio/1
    [ "$OUT" = "$group_out" ] || fail "group node: $OUT, cdev: $group_out"
    # the rule sends vfio-dev events to the program and applies the keys
    rules=$TESTS_DIR/../udev/70-vfio-claim.rules
    grep -qx 'SUBSYSTEM!="vfio|vfio-dev", GOTO="vfio_claim_end"' "$rules" ||
        fail "the rule does not take vfio-dev events"
    # shellcheck disable=SC2016 # the rule's own $env{}
    grep -qx 'ENV{VFIO_CLAIM_MODE}=="?\*", MODE="$env{VFIO_CLAIM_MODE}"' "$rules" ||
        fail "the rule does not apply the mode"
}

test_list_names_the_cdev_of_a_claimed_device() {
    fixture desktop-6.12
    conf 10.conf "claim gpu"
    run boot
    assert_rc 0
    local gpu
    gpu=$(cdev_of 0000:01:00.0)
    run --json list
    assert_rc 0
    python3 -c '
import json, sys
devs = {d["device"]: d for d in json.load(sys.stdin)["devices"]}
names = devs["0000:01:00.0"]["names"]
assert "/dev/vfio/devices/" + sys.argv[1] in names, names
assert not any(n.startswith("/dev/vfio/") for n in devs["0000:00:1f.6"]["names"]), devs["0000:00:1f.6"]
' "$gpu" <<<"$OUT" || fail "list --json names"
    run list
    assert_out "/dev/vfio/devices/$gpu"
    # a 6.1 kernel has no cdev: the names are as before
    fixture desktop
    conf 10.conf "claim gpu"
    run boot
    run --json list
    python3 -c '
import json, sys
devs = {d["device"]: d for d in json.load(sys.stdin)["devices"]}
assert not any("/dev/vfio" in n for d in devs.values() for n in d["names"]), devs
' <<<"$OUT" || fail "a 6.1 list names a vfio node"
}

# line_of NAME: doctor's line for the check NAME
doctor_line() { grep -E "^[a-z]+ +$1 " <<<"$OUT"; }

test_doctor_says_what_iommufd_the_kernel_has_on_6_1_and_6_12() {
    fixture desktop
    run doctor
    doctor_line iommufd | grep -q '^ok .*the kernel has no iommufd (no /dev/iommu)' ||
        fail "6.1: $(doctor_line iommufd)"
    doctor_line vfio-modules | grep -q 'vfio_pci_core' || fail "6.1: $(doctor_line vfio-modules)"
    fixture desktop-6.12
    run doctor
    doctor_line iommufd | grep -q '^ok .*iommufd (/dev/iommu) and the VFIO device nodes' ||
        fail "6.12: $(doctor_line iommufd)"
    # iommufd without cdevs
    rm -r "$ROOT/sys/class/vfio-dev"
    sed -i 's/^CONFIG_VFIO_DEVICE_CDEV=y/# CONFIG_VFIO_DEVICE_CDEV is not set/' \
        "$ROOT/boot/config-6.12.0-fixture"
    run doctor
    doctor_line iommufd | grep -q '^ok .*but no VFIO device nodes' || fail "no cdev: $(doctor_line iommufd)"
    # iommufd a module, not loaded
    rm -r "$ROOT/sys/module/iommufd" "$ROOT/dev/iommu"
    sed -i 's/^CONFIG_IOMMUFD=y/CONFIG_IOMMUFD=m/' "$ROOT/boot/config-6.12.0-fixture"
    run doctor
    doctor_line iommufd | grep -q "^ok .*module of this kernel, not loaded.*'modprobe iommufd'" ||
        fail "module: $(doctor_line iommufd)"
    # iommufd's own allow_unsafe_interrupts is a warning, like vfio_iommu_type1's
    fixture desktop-6.12
    echo Y >"$ROOT/sys/module/iommufd/parameters/allow_unsafe_interrupts"
    run doctor
    doctor_line interrupt-remapping | grep -q '^warn .*iommufd runs with allow_unsafe_interrupts=Y' ||
        fail "unsafe: $(doctor_line interrupt-remapping)"
    # without the type1 module, iommufd stands in for it
    fixture desktop-6.12
    rm -r "$ROOT/sys/module/vfio_iommu_type1"
    sed -i '/vfio_iommu_type1/d' "$ROOT/lib/modules/6.12.0-fixture/modules.dep"
    run doctor
    doctor_line vfio-modules | grep -q '^ok ' || fail "no type1: $(doctor_line vfio-modules)"
}
