#!/bin/bash
# make demo: build the package, a small Debian 12 root file system (cached), install the package
# into it with a sample configuration, boot Debian's kernel under QEMU with an emulated IOMMU and
# emulated devices, and show what vfio-claim did: devices claimed and refused at boot and why,
# `vfio-claim status` (the state hand-off) and a `vfio-claim release` from the console.
# A second, short boot with vfio_claim=off shows the escape hatch.
#
# DEMO_INTERACTIVE=1: after the scripted part, keep the guest's serial console on this terminal
# (log in as root; Ctrl-A X quits QEMU).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck disable=SC2034 # read by log() in lib.sh
LOG_TAG=demo

CACHE=$(vm_cache_dir)
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/vfio-claim-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck disable=SC2054 # commas belong to the QEMU options
DEVICES=(-- -device e1000e,addr=0x02.0 -device e1000e,addr=0x03.0 -device qemu-xhci,addr=0x04.0
	-device ich9-intel-hda,addr=0x05.0)

log "building the Debian package (dpkg-buildpackage -us -uc -b)"
mkdir -p "$WORK/src"
(cd "$TOP" && git ls-files -z | xargs -0 cp --parents -t "$WORK/src")
(cd "$WORK/src" && dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1) ||
	{ tail -30 "$WORK/build.log" >&2; die "dpkg-buildpackage failed"; }
deb=$(ls "$WORK"/vfio-claim_*.deb)
log "built $(basename "$deb")"

log "the Debian 12 root file system (debootstrap; cached in $CACHE)"
"$HERE/build-rootfs.sh" "$CACHE" initramfs-tools >"$WORK/rootfs.log" 2>&1 ||
	{ tail -30 "$WORK/rootfs.log" >&2; die "build-rootfs.sh failed"; }

log "installing the package with dpkg -i and the demo configuration; update-initramfs runs"
"$HERE/mkimage.sh" "$CACHE/rootfs-initramfs-tools" "$deb" --conf "$HERE/data/demo.conf" \
	-o "$WORK/demo.img" >"$WORK/mkimage.log" 2>&1 ||
	{ tail -30 "$WORK/mkimage.log" >&2; die "mkimage.sh failed"; }

log "booting (q35, intel-iommu, two identical e1000e NICs, qemu-xhci, HDA, the root disk on NVMe)"
"$HERE/boot.sh" "$WORK/demo.img" --script "$HERE/guest-demo.sh" --out "$WORK/boot" "${DEVICES[@]}"
rc=$?

log "booting again with vfio_claim=off on the kernel command line"
"$HERE/boot.sh" "$WORK/demo.img" --script "$HERE/guest-demo-off.sh" --out "$WORK/off" --append vfio_claim=off \
	"${DEVICES[@]}"

if [[ "${DEMO_INTERACTIVE:-0}" == 1 ]]; then
	log "interactive boot: log in as root, try 'vfio-claim list'; Ctrl-A X quits"
	"$HERE/boot.sh" "$WORK/demo.img" --interactive "${DEVICES[@]}"
fi
exit "$rc"
