#!/bin/bash
# Build (once) the Debian root file systems the QEMU tests boot: Debian 12 (bookworm) or
# Debian 13 (trixie), each with that release's own kernel and initramfs generators.
#
# Usage: tests/vm/build-rootfs.sh [--release SUITE] [CACHE_DIR] [VARIANT...]
#   SUITE      bookworm (default, or $VFIO_CLAIM_SUITE) or trixie
#   CACHE_DIR  default ${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}
#   VARIANT    initramfs-tools and/or dracut (default: both)
#
# Each release has its own cache folder, RDIR (vm_release_cache in lib.sh): CACHE_DIR itself for
# bookworm (where its trees have always been), CACHE_DIR/SUITE for the others (CACHE_DIR/trixie).
# Produces RDIR/rootfs-initramfs-tools and RDIR/rootfs-dracut, each a complete system of that
# release (systemd, udev, kmod, linux-image-amd64, pciutils) with its own initramfs generator and
# an initramfs already generated in /boot. Both are copies of one debootstrap (RDIR/base), so the
# mirror is read once per release.
#
# A tree is rebuilt only when its stamp file (RDIR/rootfs-VARIANT.stamp) does not hold the sha256
# of this script and lib.sh: edit them, and the next run rebuilds. Downloaded .debs stay in
# RDIR/debs for the next rebuild.
#
# Environment:
#   VFIO_CLAIM_CACHE   default cache directory
#   VFIO_CLAIM_MIRROR  Debian mirror URL (default: the first apt source of SUITE in /etc/apt, else
#                      of another Debian release (the same archive holds every release: a Debian
#                      12 host builds trixie from its bookworm source); none there and no
#                      VFIO_CLAIM_MIRROR is an error, no mirror is built in)
#   VFIO_CLAIM_SUITE   default bookworm
set -euo pipefail

SUITE="${VFIO_CLAIM_SUITE:-bookworm}"
if [[ "${1:-}" == --release ]]; then
	SUITE=${2:?--release needs a suite name}
	shift 2
fi
readonly SUITE
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

# The URIs of the first stanza of a deb822 .sources file that is enabled, has Types "deb" and
# lists S itself (not S-updates) in Suites; http, https, ftp and file URIs only, the
# schemes debootstrap takes.
deb822_uri() { # FILE S
	awk -v s="$2" '
		function has(list, word, n, a, i) {
			n = split(list, a, /[ \t]+/)
			for (i = 1; i <= n; i++)
				if (a[i] == word)
					return 1
			return 0
		}
		function flush(n, a, i) {
			gsub(/[ \t]/, "", enabled)
			if (has(types, "deb") && tolower(enabled) != "no" && has(suites, s)) {
				n = split(uris, a, /[ \t]+/)
				for (i = 1; i <= n; i++)
					if (a[i] ~ /^(https?|ftp|file):\/\//) {
						print a[i]
						found = 1
						exit
					}
			}
			types = uris = suites = enabled = last = ""
		}
		/^#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ {
			if (last == "types") types = types " " $0
			else if (last == "uris") uris = uris " " $0
			else if (last == "suites") suites = suites " " $0
			next
		}
		{
			c = index($0, ":")
			last = tolower(substr($0, 1, c - 1))
			v = substr($0, c + 1)
			if (last == "types") types = v
			else if (last == "uris") uris = v
			else if (last == "suites") suites = v
			else if (last == "enabled") enabled = v
		}
		END { if (!found) flush() }
	' "$1"
}

# The URI of the first one-line entry "deb [OPTIONS] URI S COMPONENT..." for S.
one_line_uri() { # FILE S
	awk -v s="$2" '
		{ sub(/#.*/, "") }
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) {
				while (i <= NF && $i !~ /\]$/)
					i++
				i++
			}
			if (i + 1 <= NF && $(i + 1) == s && $i ~ /^(https?|ftp|file):\/\//) {
				print $i
				exit
			}
		}
	' "$1"
}

# The Debian releases whose apt source leads to the archive that holds the others too: a Debian
# 12 host names bookworm only, and its mirror serves trixie as well.
readonly MIRROR_SUITES=(bookworm trixie)

# The Debian mirror to debootstrap from: VFIO_CLAIM_MIRROR, else the first apt source of SUITE
# in APT_DIR (default /etc/apt), in apt's order: sources.list, then sources.list.d/*.list and
# *.sources by name; else, in that order again, the first source of another release of
# MIRROR_SUITES (the same archive; never SUITE-updates or -security, other archives). No mirror is
# built in: without one, this fails and says what to set.
find_mirror() { # [APT_DIR]
	local dir=${1:-/etc/apt} f uri s
	if [[ -n "${VFIO_CLAIM_MIRROR:-}" ]]; then
		echo "$VFIO_CLAIM_MIRROR"
		return 0
	fi
	for s in "$SUITE" "${MIRROR_SUITES[@]}"; do
		for f in "$dir/sources.list" "$dir"/sources.list.d/*; do
			[[ -f "$f" ]] || continue
			case $f in
			*.sources) uri=$(deb822_uri "$f" "$s") ;;
			*/sources.list | *.list) uri=$(one_line_uri "$f" "$s") ;;
			*) continue ;;
			esac
			if [[ -n "$uri" ]]; then
				[[ $s == "$SUITE" ]] ||
					echo "build-rootfs: no apt source for '$SUITE'; $SUITE from $s's mirror $uri" >&2
				echo "$uri"
				return 0
			fi
		done
	done
	echo "build-rootfs: error: no apt source for '$SUITE' nor for another Debian release" \
		"(${MIRROR_SUITES[*]}) in $dir/sources.list or $dir/sources.list.d/ (*.list or" \
		"*.sources): set VFIO_CLAIM_MIRROR to the URL of a Debian mirror" >&2
	return 1
}

TMP_DIRS=()
cleanup() {
	chroot_umount_all
	local d
	for d in "${TMP_DIRS[@]}"; do
		rm -rf --one-file-system "$d"
	done
}
# --- base -----------------------------------------------------------------

debootstrap_base() { # DEST CACHE
	local dest=$1 cache=$2 mirror
	mirror=$(find_mirror /etc/apt) || exit 1
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
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	vm_release_ok "$SUITE" || die "unknown release '$SUITE' (known: $VM_RELEASES_KNOWN)"
	local cache
	cache=$(vm_release_cache "$SUITE" "${1:-$(vm_cache_dir)}")
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
		log "all requested $SUITE root file systems are up to date in $cache"
		return
	fi
	build_base "$cache"
	for v in "${variants[@]}"; do
		build_variant "$cache" "$v"
	done
}

# Sourced (tests/test-build-rootfs.sh tests find_mirror): functions only.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || main "$@"
