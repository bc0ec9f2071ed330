#!/bin/bash
# libvirt test: a real libvirtd (Debian 12's libvirt 9.0, QEMU 7.2) in a QEMU guest with an
# emulated IOMMU and the package installed, tiny nested domains (type 'qemu', machine 'pc',
# 64 MiB, no disk) started with `virsh start --paused`: a when=guest NIC follows its guest through
# the qemu.d hook (start, destroy, SIGKILL of QEMU), a guest naming the root NVMe is refused with
# vfio-claim's reason, `vfio-claim run` gives the NIC back after SIGTERM and SIGKILL of a plain
# QEMU, a boot-time claim and a managed='yes' device of libvirt's own keep working.
#
# Usage: tests/vm/libvirt-test.sh
# The root file system (CACHE/rootfs-libvirt) comes from tests/vm/build-rootfs-libvirt.sh.
# Environment: VFIO_CLAIM_CACHE (root file systems, kept between runs), KEEP=1 keeps the work dir.
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed"; exits 1 on a failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck source-path=SCRIPTDIR source=results.sh
. "$HERE/results.sh"
# shellcheck disable=SC2034 # read by log() in lib.sh
LOG_TAG=libvirt-test

CACHE=$(vm_cache_dir)
work_dir libvirt-test

# shellcheck disable=SC2054 # commas belong to the QEMU options
# Four e1000e (see guest-libvirt.sh for their parts) and the root NVMe at 01:00.0 (boot.sh).
DEVICES=(-- -device e1000e,addr=0x02.0 -device e1000e,addr=0x03.0 -device e1000e,addr=0x04.0
	-device e1000e,addr=0x05.0)

main() {
	local deb img=$WORK/libvirt.img out o t0=$SECONDS t
	log "building the package"
	deb=$(build_deb)
	log "root file system with libvirt (cached in $CACHE)"
	t=$SECONDS
	"$HERE/build-rootfs-libvirt.sh" "$CACHE" >"$WORK/build-rootfs.log" 2>&1 ||
		{ tail -30 "$WORK/build-rootfs.log" >&2; die "build-rootfs-libvirt.sh failed"; }
	log "root file system: $((SECONDS - t)) s; image"
	t=$SECONDS
	"$HERE/mkimage.sh" "$CACHE/rootfs-libvirt" "$deb" --conf "$HERE/data/libvirt.conf" \
		-o "$img" >"$WORK/mkimage.log" 2>&1 || { tail -30 "$WORK/mkimage.log" >&2; die "mkimage.sh failed"; }
	log "image: $((SECONDS - t)) s; boot with 3 GiB, libvirtd, nested guests"
	t=$SECONDS
	out=$WORK/libvirt
	# no_timer_check: on a loaded host, TCG once made the kernel's IO-APIC timer check fail
	# ("Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC")
	"$HERE/boot.sh" "$img" --script "$HERE/guest-libvirt.sh" --out "$out" --mem 3072 \
		--append no_timer_check --root-ports 0 --timeout "${VFIO_CLAIM_VM_TIMEOUT:-600}" "${DEVICES[@]}" >/dev/null 2>&1 || true
	log "boot and guest script: $((SECONDS - t)) s"
	o=$out/output.txt
	local nic=0000:00:03.0
	check "guest reported" [ "$(cat "$out/rc" 2>/dev/null)" = 0 ]
	check "libvirtd runs in the guest" has "CHECK libvirtd active" "$o"
	check "the package's qemu.d hook links to the program" \
		has "CHECK hook /usr/sbin/vfio-claim" "$o"
	check "at boot the when=guest NIC stays on e1000e" has "CHECK boot-driver $nic e1000e" "$o"
	check "...with its interface" has_re "^CHECK boot-netif $nic [a-z]" "$o"
	check "at boot the ordinary claim is on vfio-pci" has "CHECK boot-driver 0000:00:05.0 vfio-pci" "$o"
	check "guest-c (boot-claimed device, managed='no') starts" has "CHECK start-guest-c 0" "$o"
	check "...its QEMU, run as libvirt-qemu, holds /dev/vfio/N" \
		has "CHECK c-holds libvirt-qemu holds" "$o"
	check "...and after destroy the boot claim stays on vfio-pci" has "CHECK c-after vfio-pci" "$o"
	check "guest-a (when=guest NIC) starts" has "CHECK start-guest-a 0" "$o"
	check "...its NIC is on vfio-pci while it runs" has "CHECK a-driver vfio-pci" "$o"
	check "...its QEMU, run as libvirt-qemu, holds /dev/vfio/N" \
		has "CHECK a-holds libvirt-qemu holds" "$o"
	check "...vfio-claim status names guest-a" has_re "^CHECK a-status $nic .*guest 'guest-a'" "$o"
	check "virsh destroy guest-a: the NIC is back on e1000e" has "CHECK a-after e1000e" "$o"
	check "...and its interface exists again" has_re "^CHECK a-after-netif [a-z]" "$o"
	check "guest-b (the root NVMe) does not start" has_re "^CHECK start-guest-b [1-9]" "$o"
	check "...virsh's error carries vfio-claim's reason" \
		has_re "^CHECK b-error .*vfio-claim.*carries the (root|mounted) file system" "$o"
	check "...the root NVMe stays on nvme, no override" \
		has "CHECK b-driver nvme" "$o"
	check "...with no driver_override set" has "CHECK b-override (null)" "$o"
	check "...and the kernel logged nothing about it (it never left nvme)" has "CHECK b-kmsg 0" "$o"
	check "guest-a starts again" has "CHECK kill-driver vfio-pci" "$o"
	check "SIGKILL of guest-a's QEMU: the NIC comes back to e1000e" has "CHECK kill-after e1000e" "$o"
	check "...with its interface" has_re "^CHECK kill-after-netif [a-z]" "$o"
	local sig
	for sig in TERM KILL; do
		check "vfio-claim run: the NIC is on vfio-pci while QEMU runs (SIG$sig run)" \
			has_re "^CHECK run-$sig-during vfio-pci qemu-system-x86" "$o"
		check "...vfio-claim status names guest 'plain' (SIG$sig run)" \
			has_re "^CHECK run-$sig-status $nic .*guest 'plain'" "$o"
		check "vfio-claim run: SIG$sig of QEMU gives the NIC back to e1000e" \
			has "CHECK run-$sig-after e1000e" "$o"
		check "...with its interface" has_re "^CHECK run-$sig-netif [a-z]" "$o"
	done
	check "vfio-claim run exits 0 when QEMU ended on SIGTERM" has "CHECK run-TERM-rc 0" "$o"
	check "vfio-claim run reports QEMU's SIGKILL (exit 137)" has "CHECK run-KILL-rc 137" "$o"
	check "a libvirtd that started or reloaded without any qemu hook does not call a new one" \
		has "CHECK nohook-start 1" "$o"
	check "...(libvirt's own refusal, no hook ran)" lacks_re "^CHECK nohook-error .*Hook script" "$o"
	check "the package's postinst reloads libvirtd, which then calls the hook" \
		has "CHECK postinst-driver vfio-pci" "$o"
	check "...and the NIC is back on e1000e after destroy" has "CHECK postinst-after e1000e" "$o"
	check "guest-d (managed='yes', no claim line) starts: libvirt detached the device" \
		has "CHECK d-driver vfio-pci" "$o"
	check "...and libvirt gave it back to e1000e at destroy" has "CHECK d-after e1000e" "$o"
	((FAILED == 0)) || sed 's/^/    /' "$o" >&2
	log "total: $((SECONDS - t0)) s"
	echo "$PASSED passed, $FAILED failed"
	((FAILED == 0))
}

main "$@"
