#!/bin/bash
# Build (once) CACHE/rootfs-libvirt: CACHE/rootfs-initramfs-tools plus a real libvirtd and QEMU
# (libvirt-daemon-system, qemu-system-x86, --no-install-recommends), for tests/vm/libvirt-test.sh.
#
# Usage: tests/vm/build-rootfs-libvirt.sh [CACHE_DIR]
#   CACHE_DIR  default ${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}
#
# The base tree comes from build-rootfs.sh (run here first; 0 s when it is up to date). The tree
# is rebuilt only when CACHE/rootfs-libvirt.stamp differs from the sha256 of this script plus the
# stamp of rootfs-initramfs-tools, so an edit of either rebuilds it. This script is separate from
# build-rootfs.sh on purpose: that script and lib.sh key the shared cache of the other tests.
set -euo pipefail

readonly LIBVIRT_PACKAGES=(libvirt-daemon-system qemu-system-x86 libxml2)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
LOG_TAG=build-rootfs-libvirt

stamp_of() { # CACHE
	{ sha256sum <"$HERE/build-rootfs-libvirt.sh"; cat "$1/rootfs-initramfs-tools.stamp"; } |
		sha256sum | cut -d' ' -f1
}

TMP_DIR=
cleanup() {
	chroot_umount_all
	[[ -z "$TMP_DIR" ]] || rm -rf --one-file-system "$TMP_DIR"
}

install_libvirt() { # ROOT CACHE
	local root=$1 cache=$2
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	mkdir -p "$cache/debs"
	in_chroot "$root" apt-get update -qq
	# The .debs stay in CACHE/debs (bind-mounted over the chroot's apt archive) for a rebuild.
	mount --bind "$cache/debs" "$root/var/cache/apt/archives"
	CHROOT_MOUNTS+=("$root/var/cache/apt/archives")
	in_chroot "$root" apt-get install -y -qq --no-install-recommends "${LIBVIRT_PACKAGES[@]}" \
		>"$cache/rootfs-libvirt.log" 2>&1 ||
		{ tail -n 30 "$cache/rootfs-libvirt.log" >&2; die "apt-get install failed"; }
	umount "$root/var/cache/apt/archives"
	unset 'CHROOT_MOUNTS[-1]'
	rm -rf "$root/var/lib/apt/lists/"*
	# The default network would need dnsmasq (a recommend) and is not used by the tests.
	rm -f "$root/etc/libvirt/qemu/networks/autostart/"*.xml
	rm -rf "$root/usr/share/doc/"* "$root/usr/share/locale/"*
}

main() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	local cache=${1:-${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}}
	[[ $EUID -eq 0 ]] || die "must run as root (chroot, apt-get)"
	"$HERE/build-rootfs.sh" "$cache" initramfs-tools
	cache=$(cd "$cache" && pwd)
	local dest=$cache/rootfs-libvirt stamp=$cache/rootfs-libvirt.stamp
	# One builder of this tree at a time; the shared lock of build-rootfs.sh is taken (shared,
	# as mkimage.sh does) only while the base tree is copied, so other tests are not held up.
	exec 8>"$cache/.build-libvirt.lock"
	flock 8
	if [[ -d "$dest" && -f "$stamp" && "$(cat "$stamp")" == "$(stamp_of "$cache")" ]]; then
		log "rootfs-libvirt is up to date"
		return
	fi
	log "building rootfs-libvirt"
	rm -rf --one-file-system "$dest" "$dest.tmp" "$stamp"
	TMP_DIR=$dest.tmp
	exec 9>"$cache/.build.lock"
	flock -s 9
	cp -a "$cache/rootfs-initramfs-tools" "$dest.tmp"
	flock -u 9
	chroot_mount "$dest.tmp"
	deny_services "$dest.tmp"
	install_libvirt "$dest.tmp" "$cache"
	allow_services "$dest.tmp"
	chroot_umount_all
	[[ -x "$dest.tmp/usr/sbin/libvirtd" && -x "$dest.tmp/usr/bin/qemu-system-x86_64" ]] ||
		die "libvirtd or qemu-system-x86_64 missing in rootfs-libvirt"
	mv "$dest.tmp" "$dest"
	TMP_DIR=
	stamp_of "$cache" >"$stamp"
	log "rootfs-libvirt done"
}

main "$@"
