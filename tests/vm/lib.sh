# shellcheck shell=bash
# Helpers shared by the tests/vm scripts. Source it; it defines functions only.

# The cache of root file systems, images and probe results.
vm_cache_dir() { echo "${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}"; }

# The Debian releases the QEMU guests run (suite names): 13 and 12.
# shellcheck disable=SC2034 # read by the scripts that source this file
VM_RELEASES_KNOWN="trixie bookworm"
vm_release_ok() { [[ " $VM_RELEASES_KNOWN " == *" $1 "* ]]; }

# The cache folder of RELEASE's root file systems (build-rootfs.sh): CACHE itself for bookworm,
# where its trees were before there were releases (other scripts use CACHE/rootfs-initramfs-tools),
# CACHE/RELEASE for the others.
vm_release_cache() { # RELEASE [CACHE]
	local cache=${2:-$(vm_cache_dir)}
	if [[ $1 == bookworm ]]; then echo "$cache"; else echo "$cache/$1"; fi
}

# RELEASE's root file system of one initramfs generator: initramfs-tools or dracut.
vm_rootfs() { # RELEASE VARIANT [CACHE]
	echo "$(vm_release_cache "$1" "${3:-}")/rootfs-$2"
}

log() { printf '[%s %(%T)T] %s\n' "${LOG_TAG:-vm}" -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- chroot ---------------------------------------------------------------
# Mounts made by chroot_mount, unmounted in reverse order by chroot_umount_all.
# Callers install `trap ... EXIT` that calls chroot_umount_all.
CHROOT_MOUNTS=()

chroot_mount() { # ROOT
	local root=$1
	mount -t proc proc "$root/proc"
	CHROOT_MOUNTS+=("$root/proc")
	mount -t sysfs sysfs "$root/sys"
	CHROOT_MOUNTS+=("$root/sys")
	mount --bind /dev "$root/dev"
	CHROOT_MOUNTS+=("$root/dev")
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
	CHROOT_MOUNTS+=("$root/dev/pts")
}

chroot_umount_all() {
	local i
	for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${CHROOT_MOUNTS[i]}" 2>/dev/null || umount -l "${CHROOT_MOUNTS[i]}" || true
	done
	CHROOT_MOUNTS=()
}

in_chroot() { # ROOT CMD...
	local root=$1
	shift
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$root" "$@"
}

# No daemon may start inside the chroot while packages are installed.
deny_services() {
	printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
	chmod 755 "$1/usr/sbin/policy-rc.d"
}
allow_services() { rm -f "$1/usr/sbin/policy-rc.d"; }

# Kernel versions installed in ROOT (those with modules.dep).
kernel_versions() { # ROOT
	local d
	for d in "$1"/lib/modules/*/; do
		[[ -f "$d/modules.dep" ]] && basename "$d"
	done
	return 0
}

# initramfs-tools or dracut: which generator ROOT uses.
initramfs_flavor() { # ROOT
	if [[ -x "$1/usr/bin/dracut" ]] && ! [[ -x "$1/usr/sbin/update-initramfs" ]]; then
		echo dracut
	else
		echo initramfs-tools
	fi
}

# Regenerate the initramfs of every kernel in ROOT (mounted with chroot_mount).
rebuild_initramfs() { # ROOT
	local root=$1 kver
	case $(initramfs_flavor "$root") in
	dracut)
		for kver in $(kernel_versions "$root"); do
			# -N (--no-hostonly): in a chroot, dracut's host-only mode inspects
			# the build host (its /sys, its root disk: virtio here), not the
			# guest, and would leave out nvme. The rootfs also sets
			# hostonly="no" in /etc/dracut.conf.d so the package trigger agrees.
			in_chroot "$root" dracut -q -f -N --kver "$kver"
		done
		;;
	initramfs-tools)
		in_chroot "$root" update-initramfs -u -k all
		;;
	esac
}

# initramfs-tools' MODULES= for ROOT: "list" (fast: only the drivers of the
# emulated devices, see build-rootfs.sh) or "most" (Debian's default).
set_initramfs_modules() { # ROOT most|list
	case $2 in
	most | list) ;;
	*) die "initramfs modules must be most or list, not '$2'" ;;
	esac
	mkdir -p "$1/etc/initramfs-tools/conf.d"
	echo "MODULES=$2" >"$1/etc/initramfs-tools/conf.d/vfio-claim-tests.conf"
}
