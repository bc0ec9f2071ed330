#!/bin/bash
# Single-GPU passthrough boot test: Debian 12's kernel under QEMU with the std VGA (00:01.0) as
# the boot VGA device, the package installed and no claim configured. One boot, two parts:
#   B: vga=0x317 and modprobe.blacklist=bochs: fbcon draws on the firmware framebuffer (vesafb,
#      platform device vesa-framebuffer.0) and no DRM driver has the card; vfio-pci removes the
#      firmware framebuffer for good when it binds (Linux 6.0+): the release reports it gone;
#   A: after `modprobe bochs`: bochs-drm has the card (/dev/dri/card0), fbcon on its framebuffer.
# In B: `claim` without --force is refused (boot VGA), `claim --force` unbinds the console and
# the firmware framebuffer and binds vfio-pci, recording what it unbound; `release` gives the card
# back. In A the card follows a guest: `claim --guest desktop --force` (a process that holds
# /dev/dri/card0 is named and the start refused), then `release --guest desktop` gives back the
# driver, then the console exactly as before.
#
# Usage: tests/vm/gpu-test.sh   (initramfs-tools image; one boot, ~2.5 min under TCG)
# Environment: VFIO_CLAIM_CACHE (root file systems, kept between runs), KEEP=1 keeps the work dir,
# VFIO_CLAIM_DEB=FILE tests that package instead of building the tree's (e.g. an older one).
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed"; exits 1 on a failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck source-path=SCRIPTDIR source=results.sh
. "$HERE/results.sh"
# shellcheck disable=SC2034 # read by log() in lib.sh
LOG_TAG=gpu-test

CACHE=$(vm_cache_dir)
work_dir gpu-test

main() {
	local deb img=$WORK/gpu.img out o
	log "building the package"
	deb=${VFIO_CLAIM_DEB:-$(build_deb)}
	log "root file system (cached in $CACHE)"
	"$HERE/build-rootfs.sh" "$CACHE" initramfs-tools >"$WORK/build-rootfs.log" 2>&1 ||
		{ tail -30 "$WORK/build-rootfs.log" >&2; die "build-rootfs.sh failed"; }
	log "image"
	"$HERE/mkimage.sh" "$CACHE/rootfs-initramfs-tools" "$deb" -o "$img" >"$WORK/mkimage.log" 2>&1 ||
		{ tail -30 "$WORK/mkimage.log" >&2; die "mkimage.sh failed"; }
	log "boot with the std VGA as boot VGA, vesafb on it, bochs blacklisted until the script loads it"
	out=$WORK/gpu
	"$HERE/boot.sh" "$img" --script "$HERE/guest-gpu.sh" --out "$out" \
		--append 'vga=0x317 modprobe.blacklist=bochs' >/dev/null 2>&1 || true
	o=$out/output.txt
	check "guest reported" [ "$(cat "$out/rc" 2>/dev/null)" = 0 ]
	# B: the firmware framebuffer
	check "B: fbcon on vesafb, no DRM driver" has "CHECK B before none vesa-framebuffer vtcon1=1" "$o"
	check "B: claim without --force is refused (boot VGA), nothing changed" \
		has "CHECK B refused rc=1 1 none vesa-framebuffer vtcon1=1" "$o"
	# vfio-pci removes the firmware framebuffer when it binds a VGA device (Linux 6.0+), and
	# fbcon's console driver goes away with the last framebuffer (vtcon1 then does not exist)
	check "B: claim --force: vfio-pci, vesafb unbound (then removed), fbcon unbound" \
		has_re "^CHECK B claimed rc=0 vfio-pci (unbound|gone) (none|vtcon1=0)$" "$o"
	# on Linux 6.1 the kernel alone would end the same way (vfio-pci removes the firmware
	# framebuffer, fbcon follows the framebuffers): what proves our step is its report and record
	check "B: the claim says it unbound fbcon and vesafb before the driver" \
		has "CHECK B said-unbound 1" "$o"
	check "B: the state records what was unbound" \
		has "CHECK B record vtcon_unbound=vtcon1 fb_unbound=vesa-framebuffer:vesa-framebuffer.0" "$o"
	check "B: release: no host driver (blacklisted), the framebuffer the kernel removed is not there" \
		has "CHECK B released rc=0 none gone none" "$o"
	check "B: the release says the framebuffer and console no longer exist" \
		has "CHECK B gone-reported 1" "$o"
	check "B: the record is cleared" has "CHECK B record-cleared 0" "$o"
	# A: the DRM driver
	check "A: bochs-drm has the card, fbcon on its framebuffer, /dev/dri/card0" \
		has_re "^CHECK A before bochs-drm (gone|unbound) vtcon1=1 card0=yes$" "$o"
	check "A: a process holding /dev/dri/card0 is named, the claim refused" \
		has "CHECK A held rc=1 1 bochs-drm vtcon1=1" "$o"
	check "A: a guest takes it (claim --guest --force): vfio-pci, fbcon unbound, no DRM node" \
		has_re "^CHECK A claimed rc=0 vfio-pci (none|vtcon1=0) card0=no$" "$o"
	check "A: the claim says it unbound fbcon before the driver" has "CHECK A said-unbound 1" "$o"
	check "A: the state records the console" has "CHECK A record vtcon_unbound=vtcon1" "$o"
	check "A: the guest stops (release --guest): bochs-drm again, fbcon bound, /dev/dri/card0 exists again" \
		has "CHECK A released rc=0 bochs-drm vtcon1=1 card0=yes" "$o"
	check "A: the release says the console is bound again" has "CHECK A said-bound-again 1" "$o"
	check "A: /sys/class/vtconsole/*/bind exactly as before" has "CHECK A vtconsoles-as-before yes" "$o"
	check "A: the record is cleared" has "CHECK A record-cleared 0" "$o"
	check "A: bochs was never unloaded (no modprobe -r)" has "CHECK bochs-still-loaded 1" "$o"
	((FAILED == 0)) || sed 's/^/    /' "$o" >&2
	echo "$PASSED passed, $FAILED failed"
	((FAILED == 0))
}

main "$@"
