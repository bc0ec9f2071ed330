#!/bin/bash
# Build (once) the Debian 12 root file systems the QEMU tests boot.
#
# Usage: tests/vm/build-rootfs.sh [CACHE_DIR] [VARIANT...]
#   CACHE_DIR  default ${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}
#   VARIANT    initramfs-tools and/or dracut (default: both)
#
# Produces CACHE_DIR/rootfs-initramfs-tools and CACHE_DIR/rootfs-dracut, each a
# complete bookworm system (systemd, udev, kmod, linux-image-amd64, pciutils) with
# its own initramfs generator and an initramfs already generated in /boot.
# Both are copies of one debootstrap (CACHE_DIR/base), so the mirror is read once.
#
# A tree is rebuilt only when its stamp file (CACHE_DIR/rootfs-VARIANT.stamp)
# does not hold the sha256 of this script: edit the script, and the next run
# rebuilds. Downloaded .debs stay in CACHE_DIR/debs for the next rebuild.
#
# Environment:
#   VFIO_CLAIM_CACHE   default cache directory
#   VFIO_CLAIM_MIRROR  Debian mirror URL (default: the bookworm mirror in /etc/apt)
#   VFIO_CLAIM_SUITE   default bookworm
set -euo pipefail

readonly SUITE="${VFIO_CLAIM_SUITE:-bookworm}"
readonly BASE_PACKAGES=(
	systemd-sysv udev kmod initramfs-tools linux-image-amd64 pciutils
	libkmod2 libblkid1 libudev1 zstd iproute2 procps
)
readonly GUEST_HOSTNAME=vfio-test

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
LOG_TAG=build-rootfs

# The cache key of every tree built here: this script and the helpers it uses.
script_hash() { cat "$HERE/build-rootfs.sh" "$HERE/lib.sh" | sha256sum | cut -d' ' -f1; }

is_fresh() { # DIR STAMP
	[[ -d "$1" && -f "$2" && "$(cat "$2")" == "$(script_hash)" ]]
}

# The first mirror in /etc/apt that carries SUITE, as debootstrap wants it.
find_mirror() {
	local f uri
	if [[ -n "${VFIO_CLAIM_MIRROR:-}" ]]; then
		echo "$VFIO_CLAIM_MIRROR"
		return
	fi
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f "$f" ]] || continue
		# deb822: the URIs of a stanza whose Suites list SUITE itself
		uri=$(awk -v s="$SUITE" '
			BEGIN { RS = ""; FS = "\n" }
			{
				u = ""; ok = 0
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); u = a[2] }
					if ($i ~ /^Suites:/) { n = split($i, b, /[ \t]+/); for (j = 2; j <= n; j++) if (b[j] == s) ok = 1 }
				}
				if (ok && u != "") { print u; exit }
			}' "$f")
		if [[ -n "$uri" ]]; then echo "$uri"; return; fi
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f "$f" ]] || continue
		uri=$(awk -v s="$SUITE" '$1 == "deb" && $0 !~ /\[/ && $3 == s { print $2; exit }' "$f")
		if [[ -n "$uri" ]]; then echo "$uri"; return; fi
	done
	echo "http://deb.debian.org/debian"
}

TMP_DIRS=()
cleanup() {
	chroot_umount_all
	local d
	for d in "${TMP_DIRS[@]}"; do
		rm -rf --one-file-system "$d"
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- base -----------------------------------------------------------------

debootstrap_base() { # DEST CACHE
	local dest=$1 cache=$2 mirror
	mirror=$(find_mirror)
	log "debootstrap $SUITE from $mirror into $dest"
	mkdir -p "$cache/debs"
	local incl
	incl=$(IFS=,; echo "${BASE_PACKAGES[*]}")
	# INITRD=No: the kernel's postinst makes no initramfs yet (a MODULES=most
	# one, a minute of work); each variant makes its own below.
	INITRD=No debootstrap --variant=minbase --include="$incl" --cache-dir="$cache/debs" \
		"$SUITE" "$dest" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$cache/debootstrap.log" >&2; die "debootstrap failed (log: $cache/debootstrap.log)"; }
}

configure_base() { # ROOT
	local root=$1
	echo "$GUEST_HOSTNAME" >"$root/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
		"$GUEST_HOSTNAME" >"$root/etc/hosts"
	# mkimage.sh replaces @ROOT_UUID@ with the UUID it gives the ext4 file system.
	printf '# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=@ROOT_UUID@ / ext4 rw,errors=remount-ro 0 1\n' \
		>"$root/etc/fstab"
	# Password-less root; autologin on the serial console for people (make demo).
	in_chroot "$root" passwd -d root >/dev/null
	mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
	cat >"$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<-'EOF'
		[Service]
		ExecStart=
		ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
	EOF
	# Neither generator can guess the root disk from inside a chroot on the
	# build host: initramfs-tools' MODULES=dep and dracut's hostonly mode would
	# look at the *host's* root disk (virtio, here) and leave nvme out.
	mkdir -p "$root/etc/initramfs-tools/hooks" "$root/etc/dracut.conf.d"
	set_initramfs_modules "$root" list
	# With MODULES=list, this hook puts the drivers of every device the tests
	# emulate into the initramfs (not loaded by name: udev loads them by
	# modalias, as it would with MODULES=most), so that a host driver can race
	# vfio-claim in the initramfs just as on a real machine.
	cat >"$root/etc/initramfs-tools/hooks/vfio-claim-tests-drivers" <<-'EOF'
		#!/bin/sh
		# vfio-claim tests: drivers of the emulated devices (tests/vm/build-rootfs.sh)
		case "$1" in prereqs) exit 0 ;; esac
		. /usr/share/initramfs-tools/hook-functions
		manual_add_modules nvme ext4 crc32c_generic e1000e xhci_pci snd_hda_intel ahci
	EOF
	chmod 755 "$root/etc/initramfs-tools/hooks/vfio-claim-tests-drivers"
	printf '# vfio-claim tests: generic image, the chroot is not the target host\nhostonly="no"\ncompress="zstd"\n' \
		>"$root/etc/dracut.conf.d/10-vfio-claim-tests.conf"
	# Keep images small; nothing in the guest reads them.
	rm -rf "$root/usr/share/doc/"* "$root/usr/share/locale/"*
	printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/locale/*\n' \
		>"$root/etc/dpkg/dpkg.cfg.d/01-vfio-claim-tests-nodoc"
	in_chroot "$root" apt-get clean
}

build_base() { # CACHE
	local cache=$1 base=$1/base
	if is_fresh "$base" "$cache/base.stamp"; then
		log "base is up to date"
		return
	fi
	rm -rf --one-file-system "$base" "$base.tmp" "$cache/base.stamp"
	TMP_DIRS+=("$base.tmp")
	debootstrap_base "$base.tmp" "$cache"
	configure_base "$base.tmp"
	mv "$base.tmp" "$base"
	script_hash >"$cache/base.stamp"
}

# --- variants -------------------------------------------------------------

variant_initramfs_tools() { # ROOT
	local kver
	for kver in $(kernel_versions "$1"); do
		in_chroot "$1" update-initramfs -c -k "$kver"
	done
}

variant_dracut() { # ROOT
	local root=$1
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	in_chroot "$root" apt-get update -qq
	# dracut conflicts with initramfs-tools: apt removes the latter; purge it
	# and its helpers so that only one generator is left in the image.
	in_chroot "$root" apt-get install -y -qq --no-install-recommends dracut
	in_chroot "$root" apt-get purge -y -qq --autoremove initramfs-tools initramfs-tools-core
	in_chroot "$root" apt-get clean
	rm -rf "$root/var/lib/apt/lists/"*
	# dracut's postinst activates the update-initramfs trigger, which makes
	# the initramfs (the base has none: INITRD=No); make sure it did.
	local kver
	for kver in $(kernel_versions "$root"); do
		[[ -f "$root/boot/initrd.img-$kver" ]] || rebuild_initramfs "$root"
	done
}

build_variant() { # CACHE VARIANT
	local cache=$1 variant=$2 dest=$1/rootfs-$2
	if is_fresh "$dest" "$cache/rootfs-$variant.stamp"; then
		log "rootfs-$variant is up to date"
		return
	fi
	log "building rootfs-$variant"
	rm -rf --one-file-system "$dest" "$dest.tmp" "$cache/rootfs-$variant.stamp"
	TMP_DIRS+=("$dest.tmp")
	cp -a "$cache/base" "$dest.tmp"
	chroot_mount "$dest.tmp"
	deny_services "$dest.tmp"
	"variant_${variant//-/_}" "$dest.tmp"
	allow_services "$dest.tmp"
	chroot_umount_all
	[[ -n "$(kernel_versions "$dest.tmp")" ]] || die "no kernel in rootfs-$variant"
	compgen -G "$dest.tmp/boot/initrd.img-*" >/dev/null || die "no initramfs in rootfs-$variant"
	mv "$dest.tmp" "$dest"
	script_hash >"$cache/rootfs-$variant.stamp"
	log "rootfs-$variant done"
}

main() {
	local cache=${1:-${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}}
	shift || true
	local variants=("$@") v
	((${#variants[@]})) || variants=(initramfs-tools dracut)
	for v in "${variants[@]}"; do
		[[ "$v" == initramfs-tools || "$v" == dracut ]] || die "unknown variant: $v"
	done
	[[ $EUID -eq 0 ]] || die "must run as root (debootstrap, chroot)"
	command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
	mkdir -p "$cache"
	cache=$(cd "$cache" && pwd)
	# One builder at a time per cache (parallel test jobs share it).
	exec 9>"$cache/.build.lock"
	flock 9

	local need=0
	for v in "${variants[@]}"; do
		is_fresh "$cache/rootfs-$v" "$cache/rootfs-$v.stamp" || need=1
	done
	if ((need == 0)); then
		log "all requested root file systems are up to date in $cache"
		return
	fi
	build_base "$cache"
	for v in "${variants[@]}"; do
		build_variant "$cache" "$v"
	done
}

main "$@"
