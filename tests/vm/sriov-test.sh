#!/bin/bash
# SR-IOV boot test: a Debian release's own kernel (12 or 13) under QEMU 7.2 with an emulated SR-IOV NVMe
# (nvme,sriov_max_vfs=2 in an nvme-subsys) behind a root port, the package installed, and a
# configuration that selects the PF's first VF. After `echo 2 > sriov_numvfs` in the running
# guest, that VF is on vfio-pci and the kernel log shows no nvme probe of it; the PF's
# sriov_drivers_autoprobe was 0 from the boot on, and its release restores it.
#
# Usage: tests/vm/sriov-test.sh [--release SUITE] [--deb FILE]   (initramfs-tools image)
#   --release SUITE  trixie or bookworm (default $VFIO_CLAIM_RELEASE, else bookworm)
#   --deb FILE       the package to install (default: built from this tree on this host)
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
LOG_TAG=sriov-test

CACHE=$(vm_cache_dir)
RELEASE=${VFIO_CLAIM_RELEASE:-bookworm}
DEB=
while (($#)); do
	case $1 in
	--release) RELEASE=${2:?--release needs a suite}; shift ;;
	--deb) DEB=$(realpath "${2:?--deb needs a file}"); shift ;;
	*) die "usage: sriov-test.sh [--release SUITE] [--deb FILE]" ;;
	esac
	shift
done
vm_release_ok "$RELEASE" || die "unknown release '$RELEASE' (known: $VM_RELEASES_KNOWN)"
[[ -z "$DEB" || -f "$DEB" ]] || die "no such package: $DEB"
work_dir "sriov-test-$RELEASE"

# shellcheck disable=SC2054 # commas belong to the QEMU options
# QEMU 7.2's SR-IOV NVMe: a subsystem is required; sriov_vq_flexible >= 2 * sriov_max_vfs,
# sriov_vi_flexible >= sriov_max_vfs (max_ioqpairs 64 and msix_qsize 65 leave the PF enough)
DEVICES=(-- -device nvme-subsys,id=sriov-subsys
	-device nvme,serial=sriov,subsys=sriov-subsys,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,bus=rp1)

main() {
	local deb=$DEB img=$WORK/sriov.img out o start=$SECONDS
	if [[ -z "$deb" ]]; then
		log "building the package"
		deb=$(build_deb)
	fi
	log "$RELEASE root file system (cached in $(vm_release_cache "$RELEASE" "$CACHE")); package ${deb##*/}"
	"$HERE/build-rootfs.sh" --release "$RELEASE" "$CACHE" initramfs-tools >"$WORK/build-rootfs.log" 2>&1 ||
		{ tail -30 "$WORK/build-rootfs.log" >&2; die "build-rootfs.sh failed"; }
	log "image"
	"$HERE/mkimage.sh" "$(vm_rootfs "$RELEASE" initramfs-tools "$CACHE")" "$deb" --conf "$HERE/data/sriov.conf" \
		-o "$img" >"$WORK/mkimage.log" 2>&1 || { tail -30 "$WORK/mkimage.log" >&2; die "mkimage.sh failed"; }
	log "boot, then echo 2 > sriov_numvfs in the guest"
	out=$WORK/sriov
	"$HERE/boot.sh" "$img" --script "$HERE/guest-sriov.sh" --out "$out" "${DEVICES[@]}" \
		>/dev/null 2>&1 || true
	o=$out/output.txt
	check "$RELEASE: guest reported" [ "$(cat "$out/rc" 2>/dev/null)" = 0 ]
	check "$RELEASE: the PF is an SR-IOV NVMe on nvme" has "CHECK pf nvme totalvfs 2" "$o"
	check "$RELEASE: boot turned the PF's sriov_drivers_autoprobe off" has "CHECK autoprobe 0" "$o"
	check "$RELEASE: ...and recorded the value it had" has "CHECK record 1" "$o"
	check "$RELEASE: two VFs created" has "CHECK numvfs 0 2" "$o"
	check "$RELEASE: the selected VF is on vfio-pci" has "CHECK driver 0000:02:00.1 vfio-pci" "$o"
	check "$RELEASE: the kernel log shows no nvme probe of it" has "CHECK nvmemsgs 0000:02:00.1 0" "$o"
	check "$RELEASE: it was claimed by the udev pass" has "CHECK status 0000:02:00.1 udev claimed" "$o"
	check "$RELEASE: the unselected VF met nvme" has_re "^CHECK nvmemsgs-unselected 0000:02:00.2 [1-9]" "$o"
	check "$RELEASE: ...and its one-probe override was cleared" has "CHECK override 0000:02:00.2 (null)" "$o"
	check "$RELEASE: releasing the last claimed VF restored autoprobe" has "CHECK autoprobe-after-release 1" "$o"
	((FAILED == 0)) || sed 's/^/    /' "$o" >&2
	log "$RELEASE: $((SECONDS - start)) s in all"
	echo "$RELEASE: $PASSED passed, $FAILED failed"
	((FAILED == 0))
}

main "$@"
