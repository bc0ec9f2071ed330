#!/bin/bash
# doctor: one line per check, ok / warn / fail with its fix, exit 1 on a fail; each check on a
# fixture tree that shows it (IOMMU off, stale image, framebuffer, built-in driver, memlock...).
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The line of one check in the text output ("RESULT NAME MESSAGE; fix: FIX"), or fails.
line_of() {
    local l
    l=$(grep -E "^(ok|warn|fail) +$1 " <<<"$OUT") || fail "no '$1' line"
    printf '%s\n' "$l"
}
# assert_check NAME RESULT [TEXT...]: a line of check NAME says RESULT and holds every TEXT
assert_check() {
    local name=$1 result=$2 l
    shift 2
    l=$(grep -E "^$result +$name " <<<"$OUT") || fail "no '$result $name' line"
    for t in "$@"; do
        grep -qF -- "$t" <<<"$l" || fail "the '$name' line lacks '$t'"
    done
}

# The desktop as a machine ready for passthrough: the GTX 1080 (and its HDMI audio) claimed by
# this boot's initramfs, built from the current configuration with a root-device record; an
# IOMMU that remaps interrupts; devices that reset; a guest user without a memlock limit.
healthy() {
    fixture desktop
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'vm:x:1000:1000::/home/vm:/bin/sh' >"$ROOT/etc/passwd"
    printf '%s\n' 'root:x:0:' 'vm:x:1000:' 'kvm:x:994:vm' >"$ROOT/etc/group"
    conf 10-gpu.conf "claim 01:00.0 owner=vm group=kvm"
    printf 'processor\t: 0\nvendor_id\t: GenuineIntel\n' >"$ROOT/proc/cpuinfo"
    # VT-d unit with interrupt remapping (ecap bit 3), as a Coffee Lake has
    mkdir -p "$ROOT/sys/class/iommu/dmar0/intel-iommu"
    echo f050da >"$ROOT/sys/class/iommu/dmar0/intel-iommu/ecap"
    mkdir -p "$ROOT/etc/security/limits.d"
    echo "@kvm - memlock unlimited" >"$ROOT/etc/security/limits.d/vfio.conf"
    local d
    for d in 0000:01:00.0 0000:01:00.1; do
        echo "flr bus" >"$ROOT/sys/bus/pci/devices/$d/reset_method"
    done
    # the GTX 1080's BARs; the firmware framebuffer lies in the iGPU's, which is not claimed
    printf '%s\n' '0x00000000f6000000 0x00000000f6ffffff 0x0000000000040200' \
        '0x00000000e0000000 0x00000000efffffff 0x000000000014220c' \
        '0x00000000f0000000 0x00000000f1ffffff 0x000000000014220c' \
        '0x0000000000000000 0x0000000000000000 0x0000000000000000' \
        '0x000000000000e000 0x000000000000e07f 0x0000000000040101' \
        >"$ROOT/sys/bus/pci/devices/0000:01:00.0/resource"
    printf '%s\n' '00000000-00000fff : Reserved' 'c0000000-cfffffff : 0000:00:02.0' \
        '  c0000000-c07fffff : efifb' 'e0000000-efffffff : 0000:01:00.0' >"$ROOT/proc/iomem"
    boot_image
}

# What the initramfs hooks do when the image is built, then the image's early pass: the image's
# configuration digest and root-device record, put where the image has them, then `boot`, which
# exits RC (default 0).
boot_image() {
    local img
    img=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-image.XXXXXX")
    CLEANUP+=("$img")
    run image-config "$img"
    assert_rc 0
    mkdir -p "$ROOT/etc/vfio-claim"
    cp "$img/etc/vfio-claim/config-digest" "$ROOT/etc/vfio-claim/"
    [ ! -e "$img/etc/vfio-claim/root-devices" ] || cp "$img/etc/vfio-claim/root-devices" "$ROOT/etc/vfio-claim/"
    run boot
    assert_rc "${1:-0}"
}

test_a_healthy_machine_reports_every_check_ok_and_exits_0() {
    healthy
    assert_driver 0000:01:00.0 vfio-pci
    assert_driver 0000:01:00.1 vfio-pci
    run doctor
    assert_rc 0
    ! grep -qE '^(warn|fail) ' <<<"$OUT" || fail "a check is not ok"
    local name
    for name in iommu interrupt-remapping vfio-modules configuration initramfs initramfs-modules \
        initramfs-record vfio-pci-ids builtin-driver framebuffer iommu-groups reset memlock; do
        line_of "$name" >/dev/null
    done
    assert_check reset ok "0000:01:00.0: reset by flr bus"
    assert_check reset ok "0000:01:00.1: reset by flr bus"
    assert_check memlock ok "vm's sessions (/etc/security/limits.d/vfio.conf) is unlimited"
    assert_out "0 warn, 0 fail"
    run --json doctor
    assert_rc 0
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
checks = doc["checks"]
assert len(checks) >= 13, len(checks)
for c in checks:
    assert sorted(c) == ["fix", "message", "name", "result"], c
    assert c["result"] == "ok" and c["fix"] is None and c["message"], c
assert doc["summary"] == {"ok": len(checks), "warn": 0, "fail": 0}, doc["summary"]
' <<<"$OUT" || fail "doctor --json"
}

test_iommu_off_fails_with_the_kernel_parameter_of_the_cpu_vendor() {
    fixture noiommu
    printf 'processor\t: 0\nvendor_id\t: AuthenticAMD\n' >"$ROOT/proc/cpuinfo"
    run doctor
    assert_rc 1
    assert_check iommu fail "no IOMMU groups" "fix: add 'amd_iommu=on' to the kernel command line"
    assert_check interrupt-remapping warn "fix: enable the IOMMU first"
    printf 'processor\t: 0\nvendor_id\t: GenuineIntel\n' >"$ROOT/proc/cpuinfo"
    run --json doctor
    assert_rc 1
    python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin)["checks"] if c["name"] == "iommu"][0]
assert c["result"] == "fail" and "'"'"'intel_iommu=on'"'"'" in c["fix"], c
' <<<"$OUT" || fail "doctor --json: iommu"
    # the parameter is there already: the firmware has it off
    cmdline "root=LABEL=debian-root intel_iommu=on"
    run doctor
    assert_check iommu fail "'intel_iommu=on' is on the kernel command line already: enable the IOMMU"
}

test_a_stale_image_fails_with_the_command_that_rebuilds_it() {
    healthy
    conf 20-net.conf "claim 00:1f.6"
    run doctor
    assert_rc 1
    assert_check initramfs fail "the configuration changed since this boot's initramfs was built" \
        "fix: run 'update-initramfs -u' (or 'dracut -f')"
}

test_an_initramfs_without_vfio_claim_fails_when_devices_are_configured() {
    fixture desktop
    conf 10.conf "claim 00:1f.6"
    run doctor
    assert_rc 1
    assert_check initramfs fail "this boot's initramfs did not run vfio-claim" "update-initramfs -u"
}

test_an_image_without_root_record_or_vfio_modules_says_so() {
    healthy
    rm "$ROOT/etc/vfio-claim/root-devices" "$ROOT/run/vfio-claim/image-contents"
    run boot
    run doctor
    assert_check initramfs-record warn "no root-device record" "not in a chroot"
    # an image built without the vfio modules (the kernel's module folder lacks them)
    fixture desktop-novfio-ko
    conf 10.conf "claim 00:1f.6"
    boot_image 1
    assert_driver 0000:00:1f.6 e1000e
    grep -qx "missing_modules=vfio vfio_iommu_type1 vfio_pci" "$ROOT/run/vfio-claim/image-contents" ||
        fail "the image's missing modules are not recorded"
    run doctor
    assert_rc 1
    assert_check initramfs-modules fail "this boot's initramfs has no vfio vfio_iommu_type1 vfio_pci"
    assert_check vfio-modules fail "the running kernel has no vfio, vfio_iommu_type1, vfio_pci"
}

test_a_firmware_framebuffer_on_a_claimed_gpu_fails() {
    healthy
    printf '%s\n' '00000000-00000fff : Reserved' 'e0000000-efffffff : 0000:01:00.0' \
        '  e0000000-e07fffff : efifb' >"$ROOT/proc/iomem"
    run doctor
    assert_rc 1
    assert_check framebuffer fail "0000:01:00.0: the firmware framebuffer 'efifb' (e0000000-e07fffff) lies in its memory (BAR 1)" \
        "fix: make another GPU the boot display in the firmware setup, or add 'video=efifb:off'"
    printf '%s\n' 'e0000000-efffffff : 0000:01:00.0' '  e0000000-e07fffff : BOOTFB' >"$ROOT/proc/iomem"
    run doctor
    assert_check framebuffer fail "'BOOTFB'" "'initcall_blacklist=sysfb_init'"
    # the kernel shows the addresses to root only
    printf '%s\n' '00000000-00000000 : 0000:01:00.0' '  00000000-00000000 : efifb' >"$ROOT/proc/iomem"
    run doctor
    assert_check framebuffer warn "/proc/iomem hides its addresses" "fix: run 'vfio-claim doctor' as root"
    printf '%s\n' 'e0000000-efffffff : 0000:01:00.0' '  e0000000-e07fffff : efifb' >"$ROOT/proc/iomem"
    # the same framebuffer on a GPU nobody claims is the host's business
    rm "$ROOT/etc/vfio-claim.d/10-gpu.conf"
    run release 01:00.0
    assert_rc 0
    run doctor
    assert_check framebuffer ok "no firmware framebuffer lies in a claimed GPU's memory"
}

test_a_host_driver_built_into_the_kernel_warns() {
    healthy
    echo "kernel/drivers/gpu/drm/nouveau/nouveau.ko" >>"$ROOT/lib/modules/6.1.0-fixture/modules.builtin"
    run doctor
    assert_rc 0
    assert_check builtin-driver warn "0000:01:00.0: its host driver 'nouveau' is built into the kernel" \
        "fix: use a kernel that builds 'nouveau' as a module" "'vfio-pci.ids=10de:1b80'"
}

test_a_low_memlock_limit_warns_with_the_limits_systemd_and_libvirt_fixes() {
    healthy
    # as pam_limits reads them: limits.conf, then limits.d in order; a user's own line beats
    # its group's (vfio.conf) and everyone's; among lines for the user, the last one wins
    echo "vm - memlock unlimited" >"$ROOT/etc/security/limits.conf"
    echo "vm soft memlock 65536" >"$ROOT/etc/security/limits.d/50-vm.conf"
    echo "* - memlock unlimited" >"$ROOT/etc/security/limits.d/90-all.conf"
    run doctor
    assert_rc 0
    assert_check memlock warn "the locked-memory limit of vm's sessions (/etc/security/limits.d/50-vm.conf) is 64 MiB" \
        "vfio_dma_map ... Cannot allocate memory" "'vm - memlock unlimited' in /etc/security/limits.d/vfio.conf" \
        "'LimitMEMLOCK=infinity'" "<hostdev>"
    # enough for a guest of a few GiB
    echo "vm soft memlock 16777216" >"$ROOT/etc/security/limits.d/50-vm.conf"
    run doctor
    assert_check memlock ok "is 16.0 GiB"
    # owner= as a number: limits.conf names the user
    conf 10-gpu.conf "claim 01:00.0 owner=1000 group=kvm"
    run doctor
    assert_check memlock ok "the locked-memory limit of vm's sessions (/etc/security/limits.d/50-vm.conf) is 16.0 GiB"
}

test_vfio_pci_ids_that_fight_the_configuration() {
    healthy
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio-pci.ids=10de:1b80,8086:15bc"
    mkdir -p "$ROOT/etc/modprobe.d"
    echo "options vfio-pci ids=8086:3e92 disable_vga=1" >"$ROOT/etc/modprobe.d/vfio.conf"
    conf 20-x.conf "exclude 00:1f.6"
    boot_image
    run doctor
    assert_rc 1
    assert_check vfio-pci-ids fail "vfio-pci ids '8086:15bc' (kernel command line) give 0000:00:1f.6 to vfio-pci, but the configuration refuses it: excluded by" \
        "fix: remove '8086:15bc' from the kernel command line"
    assert_check vfio-pci-ids warn "vfio-pci ids '8086:3e92' ('options vfio-pci' of modprobe.d) give 0000:00:02.0 to vfio-pci, but the configuration keeps it: not selected" \
        "'claim 8086:3e92'"
    ! grep -q "'10de:1b80'" <<<"$OUT" || fail "an id the configuration claims too is reported"
}

test_a_group_refused_because_it_cannot_be_taken_whole_warns() {
    healthy
    conf 20-audio.conf "claim 00:1f.3"
    boot_image
    run doctor
    assert_rc 0
    assert_check iommu-groups warn "0000:00:1f.3: refused: IOMMU group 6 also holds 0000:00:1f.4" \
        "'option group-policy=whole'"
}

test_a_claimed_device_without_reset_method_warns() {
    healthy
    : >"$ROOT/sys/bus/pci/devices/0000:01:00.1/reset_method"
    rm "$ROOT/sys/bus/pci/devices/0000:01:00.0/reset_method"
    run doctor
    assert_rc 0
    assert_check reset warn "0000:01:00.0: no reset method" "fix: claim every function of its slot"
    assert_check reset warn "0000:01:00.1: no reset method"
    # a kernel before reset_method (5.15) has only the reset file
    : >"$ROOT/sys/bus/pci/devices/0000:01:00.0/reset"
    run doctor
    assert_check reset ok "0000:01:00.0: can be reset"
}

test_interrupt_remapping_missing_fails_and_unsafe_interrupts_warn() {
    healthy
    # bit 3 (interrupt remapping) clear, bit 2 set
    echo f050d4 >"$ROOT/sys/class/iommu/dmar0/intel-iommu/ecap"
    run doctor
    assert_rc 1
    assert_check interrupt-remapping fail "IOMMU unit 'dmar0' does not support interrupt remapping" \
        "allow_unsafe_interrupts=1"
    mkdir -p "$ROOT/sys/module/vfio_iommu_type1/parameters"
    echo Y >"$ROOT/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
    run doctor
    assert_rc 0
    assert_check interrupt-remapping warn "allow_unsafe_interrupts=Y"
}

test_doctor_takes_no_arguments_and_has_help() {
    fixture desktop
    run doctor extra
    assert_rc 2
    assert_err "doctor takes no arguments: 'extra'"
    run doctor --help
    assert_rc 0
    assert_out "vfio-claim [options] doctor"
}
