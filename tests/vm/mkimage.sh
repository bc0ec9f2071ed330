#!/bin/bash
# Make a bootable raw ext4 disk image from a cached root file system.
#
# Usage: tests/vm/mkimage.sh ROOTFS_DIR [DEB...] -o IMAGE [options]
#   ROOTFS_DIR   CACHE/rootfs-initramfs-tools or CACHE/rootfs-dracut (build-rootfs.sh)
#   DEB...       packages installed with dpkg -i in a chroot (none: a plain guest)
#   -o IMAGE     the image to write; also writes, next to it:
#                  IMAGE.vmlinuz  IMAGE.initrd  the guest's kernel and initramfs
#                  IMAGE.info     ROOT_UUID=, FLAVOR=, KERNEL_VERSION=, DEBS=
# Options:
#   --conf FILE               copy FILE into /etc/vfio-claim.d/ (repeatable)
#   --file SRC:DEST           copy SRC to the absolute path DEST in the guest (repeatable)
#   --initramfs-modules M     initramfs-tools MODULES=: list (default, fast: the
#                             drivers of the emulated devices) or most (Debian's default)
#   --size MIB                file system size (default: contents + 40%, at least +256 MiB)
#
# The image is a bare ext4 file system (no partition table), UUID in IMAGE.info;
# boot it with tests/vm/boot.sh IMAGE. Its /etc/fstab names that UUID.
# The initramfs is regenerated only when needed: dpkg -i normally does it
# through the package's update-initramfs trigger (both initramfs-tools and
# dracut are interested in it); if the initramfs was not rewritten by then, or
# a --conf file could only be copied after dpkg -i (it has the name of one of
# the package's conffiles), this script runs update-initramfs -u -k all or
# dracut -f -N --kver itself, and says so.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
LOG_TAG=mkimage

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

ROOTFS=
IMAGE=
DEBS=()
CONFS=()
FILES=()
MODULES_MODE=list
SIZE_MIB=
SCRATCH=

cleanup() {
	chroot_umount_all
	[[ -n "$SCRATCH" ]] && rm -rf --one-file-system "$SCRATCH"
	[[ -n "$IMAGE" ]] && rm -f "$IMAGE.tmp"
	return 0
}

parse_args() {
	while (($#)); do
		case $1 in
		-o | --output) IMAGE=${2:?}; shift ;;
		--conf) CONFS+=("${2:?}"); shift ;;
		--file) FILES+=("${2:?}"); shift ;;
		--initramfs-modules) MODULES_MODE=${2:?}; shift ;;
		--size) SIZE_MIB=${2:?}; shift ;;
		-h | --help) usage ;;
		-*) die "unknown option: $1" ;;
		*)
			if [[ -z "$ROOTFS" ]]; then ROOTFS=$1; else DEBS+=("$1"); fi
			;;
		esac
		shift
	done
	[[ -n "$ROOTFS" && -n "$IMAGE" ]] || usage
	[[ -d "$ROOTFS/etc" ]] || die "not a root file system: $ROOTFS (run tests/vm/build-rootfs.sh)"
	local f
	for f in "${DEBS[@]}" "${CONFS[@]}"; do
		[[ -f "$f" ]] || die "no such file: $f"
	done
	for f in "${FILES[@]}"; do
		[[ "$f" == *:/* && -e "${f%%:*}" ]] || die "--file wants SRC:/ABSOLUTE/DEST with an existing SRC: $f"
	done
}

# Phase timer: `phase NAME` logs the time the previous phase took.
PHASE=
PHASE_START=
phase() {
	local now
	now=$(date +%s%3N)
	if [[ -n "$PHASE" ]]; then
		log "$(printf '%s: %d.%d s' "$PHASE" $(((now - PHASE_START) / 1000)) $(((now - PHASE_START) % 1000 / 100)))"
	fi
	PHASE=$1
	PHASE_START=$now
}

install_guest_runner() { # ROOT
	local root=$1 wants=$1/etc/systemd/system/multi-user.target.wants
	install -D -m 755 "$HERE/guest/vfio-test-run" "$root/usr/local/sbin/vfio-test-run"
	install -D -m 644 "$HERE/guest/vfio-claim-test.service" \
		"$root/etc/systemd/system/vfio-claim-test.service"
	mkdir -p "$wants"
	ln -sfn /etc/systemd/system/vfio-claim-test.service "$wants/vfio-claim-test.service"
}

# Names of the files the packages ship in /etc/vfio-claim.d/.
packaged_conf_names() {
	local deb
	for deb in "${DEBS[@]}"; do
		dpkg-deb --fsys-tarfile "$deb" | tar -t 2>/dev/null |
			sed -n 's|^\./etc/vfio-claim\.d/\([^/][^/]*\)$|\1|p'
	done
}

# Copy the --conf files whose names no package ships (all of them if $1 is
# "all"); print the names of the others, for a second pass after dpkg -i.
copy_confs() { # ROOT pre|all
	local root=$1 when=$2 f taken
	taken=$(packaged_conf_names)
	mkdir -p "$root/etc/vfio-claim.d"
	for f in "${CONFS[@]}"; do
		if [[ $when == pre ]] && grep -qxF "$(basename "$f")" <<<"$taken"; then
			echo "$f"
			continue
		fi
		install -m 644 "$f" "$root/etc/vfio-claim.d/$(basename "$f")"
	done
}

copy_files() { # ROOT
	local root=$1 spec
	for spec in "${FILES[@]}"; do
		mkdir -p "$root$(dirname "${spec#*:}")"
		cp -a "${spec%%:*}" "$root${spec#*:}"
	done
}

install_debs() { # ROOT
	local root=$1 deb names=()
	mkdir -p "$root/tmp/vfio-debs"
	for deb in "${DEBS[@]}"; do
		cp "$deb" "$root/tmp/vfio-debs/"
		names+=("/tmp/vfio-debs/$(basename "$deb")")
	done
	deny_services "$root"
	if ! in_chroot "$root" dpkg -i "${names[@]}"; then
		die "dpkg -i ${DEBS[*]##*/} failed in the chroot (missing dependencies? the rootfs has only what build-rootfs.sh installs)"
	fi
	allow_services "$root"
	rm -rf "$root/tmp/vfio-debs"
}

newest_kernel() { # ROOT
	kernel_versions "$1" | sort -V | tail -n 1
}

make_fs() { # ROOT UUID IMAGE
	local root=$1 uuid=$2 image=$3 used size
	used=$(du -s --block-size=1M "$root" | cut -f1)
	size=${SIZE_MIB:-$((used + (used * 4 / 10 > 256 ? used * 4 / 10 : 256)))}
	rm -f "$image.tmp"
	truncate -s "${size}M" "$image.tmp"
	# -d fills the file system from the directory: no loop mount, no root
	# needed beyond reading the tree. No partition table: root=UUID= finds it.
	mkfs.ext4 -q -F -L vfio-root -U "$uuid" -d "$root" "$image.tmp"
	mv "$image.tmp" "$image"
}

main() {
	parse_args "$@"
	[[ $EUID -eq 0 ]] || die "must run as root (chroot, dpkg)"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	local root uuid kver flavor stamp post=() rebuild=no why=
	mkdir -p "$(dirname "$IMAGE")"
	IMAGE=$(cd "$(dirname "$IMAGE")" && pwd)/$(basename "$IMAGE")

	phase "copy rootfs"
	SCRATCH=$(mktemp -d "${TMPDIR:-/var/tmp}/vfio-mkimage.XXXXXX")
	root=$SCRATCH/root
	# Shared lock: build-rootfs.sh may not replace the tree while we copy it.
	if [[ -e "$ROOTFS/../.build.lock" ]]; then
		exec 8<"$ROOTFS/../.build.lock"
		flock -s 8
	fi
	cp -a "$ROOTFS" "$root"
	exec 8<&-
	flavor=$(initramfs_flavor "$root")
	kver=$(newest_kernel "$root")
	[[ -n "$kver" ]] || die "no kernel in $ROOTFS"

	phase "configure"
	uuid=$(cat /proc/sys/kernel/random/uuid)
	sed -i "s/@ROOT_UUID@/$uuid/" "$root/etc/fstab"
	install_guest_runner "$root"
	copy_files "$root"
	if [[ $flavor == initramfs-tools ]] &&
		[[ "$(cat "$root/etc/initramfs-tools/conf.d/vfio-claim-tests.conf" 2>/dev/null)" != "MODULES=$MODULES_MODE" ]]; then
		set_initramfs_modules "$root" "$MODULES_MODE"
		rebuild=yes
		why="MODULES=$MODULES_MODE"
	fi
	mapfile -t post < <(copy_confs "$root" pre)
	if ((${#CONFS[@]})); then
		rebuild=yes
		why="configuration files"
	fi

	chroot_mount "$root"
	stamp=$root/tmp/.vfio-mkimage-stamp
	touch "$stamp"
	sleep 1 # so that a rewritten initramfs is strictly newer than the stamp
	if ((${#DEBS[@]})); then
		phase "dpkg -i"
		install_debs "$root"
		rebuild=yes
		why="packages installed"
	fi
	if ((${#post[@]})); then
		CONFS=("${post[@]}")
		copy_confs "$root" all >/dev/null
		rebuild=force
		why="configuration files named like a package's conffiles"
	fi
	if [[ $rebuild == force ]] || { [[ $rebuild == yes ]] && ! [[ "$root/boot/initrd.img-$kver" -nt "$stamp" ]]; }; then
		phase "initramfs ($flavor)"
		log "rebuilding the initramfs ($why; not done by a package trigger)"
		rebuild_initramfs "$root"
	elif [[ $rebuild == yes ]]; then
		log "initramfs was rebuilt by the package's trigger"
	fi
	rm -f "$stamp"
	chroot_umount_all

	phase "export kernel"
	[[ -f "$root/boot/initrd.img-$kver" ]] || die "no initramfs for $kver"
	# 0644: dracut writes its image 0600, and boot.sh needs no root.
	install -m 644 "$root/boot/vmlinuz-$kver" "$IMAGE.vmlinuz"
	install -m 644 "$root/boot/initrd.img-$kver" "$IMAGE.initrd"
	{
		echo "ROOT_UUID=$uuid"
		echo "FLAVOR=$flavor"
		echo "KERNEL_VERSION=$kver"
		echo "DEBS=${DEBS[*]##*/}"
	} >"$IMAGE.info"

	phase "mkfs.ext4 -d"
	make_fs "$root" "$uuid" "$IMAGE"
	phase ""
	log "wrote $IMAGE (+ .vmlinuz .initrd .info): $flavor, kernel $kver, root UUID $uuid"
}

main "$@"
