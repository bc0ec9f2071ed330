#!/bin/bash
# Prove the QEMU harness on guests without vfio-claim: builds the root file
# systems if needed, makes a plain initramfs-tools image and, for both
# initramfs generators, an image with a stand-in package (make_dummy_deb) and a
# --conf file; boots them with two e1000e NICs, an NVMe data disk, qemu-xhci
# and ich9-intel-hda; in the guest, binds one NIC to vfio-pci by hand and
# checks /dev/vfio/N; hot-plugs a NIC through QMP (full boot) and runs once in
# --early mode; asserts the guest's report on the host. Prints the time of
# each phase.
#
# Usage: tests/vm/selftest.sh [CACHE_DIR]
#   CACHE_DIR  default ${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}
# Environment: those of build-rootfs.sh and boot.sh; KEEP=1 keeps the work
# directory (images and boot results) even when everything passed.
# Exit status 0 when every check passed; last line "selftest: N passed, N failed".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck source-path=SCRIPTDIR source=results.sh
. "$HERE/results.sh"
LOG_TAG=selftest

TIMINGS=()
WORK=

cleanup() {
	[[ -n "$WORK" ]] || return 0
	if ((FAILED == 0)) && [[ "${KEEP:-0}" != 1 ]]; then
		rm -rf "$WORK"
	else
		log "work directory kept: $WORK"
	fi
}

# timed LABEL CMD...: run CMD, record how long it took.
timed() {
	local label=$1 start rc=0
	shift
	start=$(date +%s)
	"$@" || rc=$?
	TIMINGS+=("$(printf '%-44s %4d s' "$label" $(($(date +%s) - start)))")
	return "$rc"
}

has_line() { grep -qE -- "$1" "$2"; }
differ() { [[ -n "$1" && "$1" != "$2" ]]; }

# The group number the guest reported for ADDR.
reported_group() { # OUTPUT ADDR
	sed -n "s/^CHECK device $2 group \([0-9]*\) .*/\1/p" "$1"
}

assert_guest() { # NAME OUTPUT_DIR HOTPLUG(yes|no)
	local name=$1 out=$2/output.txt hot=$3 g2 g3 grp
	check "$name: guest script exit status 0" [ "$(cat "$2/rc" 2>/dev/null)" = 0 ]
	check "$name: IOMMU groups listed" has_line '^/sys/kernel/iommu_groups/[0-9]+/devices/:$' "$out"
	check "$name: lspci -nnk ran" has_line 'Kernel driver in use: e1000e' "$out"
	check "$name: 00:02.0 on e1000e" has_line '^CHECK device 0000:00:02.0 group [0-9]+ driver e1000e class 0x020000$' "$out"
	check "$name: 00:04.0 data NVMe on nvme" has_line '^CHECK device 0000:00:04.0 group [0-9]+ driver nvme ' "$out"
	check "$name: 00:05.0 qemu-xhci on xhci_hcd" has_line '^CHECK device 0000:00:05.0 group [0-9]+ driver xhci_hcd ' "$out"
	check "$name: 00:06.0 HDA on snd_hda_intel" has_line '^CHECK device 0000:00:06.0 group [0-9]+ driver snd_hda_intel ' "$out"
	check "$name: root NVMe at 01:00.0" has_line '^CHECK device 0000:01:00.0 group [0-9]+ driver nvme class 0x010802$' "$out"
	check "$name: / is on the root NVMe" has_line '^CHECK root /dev/nvme[0-9]n1 0000:01:00.0$' "$out"
	g2=$(reported_group "$out" 0000:00:02.0)
	g3=$(reported_group "$out" 0000:00:03.0)
	check "$name: the two NICs are in different IOMMU groups" differ "$g2" "$g3"
	check "$name: modprobe vfio-pci" has_line '^CHECK modprobe vfio-pci ok$' "$out"
	check "$name: 00:03.0 bound to vfio-pci" has_line '^CHECK bound 0000:00:03.0 vfio-pci$' "$out"
	grp=${g3:-none}
	check "$name: /dev/vfio/$grp exists" has_line "^CHECK devvfio $grp present$" "$out"
	check "$name: dmesg came back" grep -q 'DMAR: Intel(R) Virtualization Technology for Directed I/O' "$2/artifacts/dmesg.txt"
	if [[ $hot == yes ]]; then
		check "$name: hot-plugged NIC 02:00.0 bound to e1000e" \
			has_line '^CHECK hotplug 0000:02:00.0 group [0-9]+ driver e1000e$' "$out"
		check "$name: device_add answered" grep -qx '> device_add e1000e,bus=rp1,id=hot1' "$2/qmp.log"
	fi
}

# A stand-in for the vfio-claim package, to prove mkimage.sh's path through
# dpkg -i, the update-initramfs trigger and both initramfs generators: its
# initramfs scripts copy /etc/vfio-claim.d into the initramfs and, at boot,
# write /run/vfio-harness-dummy, which the guest script reports.
make_dummy_deb() { # DIR -> prints the .deb path
	local d=$1/dummy
	mkdir -p "$d/DEBIAN" "$d/etc/vfio-claim.d" "$d/usr/share/initramfs-tools/hooks" \
		"$d/usr/share/initramfs-tools/scripts/init-top" "$d/usr/lib/dracut/modules.d/90vfio-harness-dummy"
	cat >"$d/DEBIAN/control" <<-'EOF'
		Package: vfio-harness-dummy
		Version: 1.0
		Architecture: all
		Maintainer: vfio-claim tests <root@localhost>
		Description: stand-in package for tests/vm/selftest.sh
	EOF
	echo 'activate-noawait update-initramfs' >"$d/DEBIAN/triggers"
	echo /etc/vfio-claim.d/00-dummy.conf >"$d/DEBIAN/conffiles"
	echo '# shipped by vfio-harness-dummy' >"$d/etc/vfio-claim.d/00-dummy.conf"
	cat >"$d/usr/share/initramfs-tools/hooks/vfio-harness-dummy" <<-'EOF'
		#!/bin/sh
		case "$1" in prereqs) exit 0 ;; esac
		mkdir -p "$DESTDIR/etc/vfio-claim.d"
		cp /etc/vfio-claim.d/*.conf "$DESTDIR/etc/vfio-claim.d/"
	EOF
	cat >"$d/usr/share/initramfs-tools/scripts/init-top/vfio-harness-dummy" <<-'EOF'
		#!/bin/sh
		case "$1" in prereqs) exit 0 ;; esac
		{ echo "stage=initramfs-tools"; for f in /etc/vfio-claim.d/*.conf; do echo "conf=${f##*/}"; done; } >/run/vfio-harness-dummy
	EOF
	cat >"$d/usr/lib/dracut/modules.d/90vfio-harness-dummy/module-setup.sh" <<-'EOF'
		#!/bin/bash
		check() { return 0; }
		depends() { return 0; }
		install() {
		    inst_multiple /etc/vfio-claim.d/*.conf
		    inst_hook cmdline 10 "$moddir/dummy.sh"
		}
	EOF
	cat >"$d/usr/lib/dracut/modules.d/90vfio-harness-dummy/dummy.sh" <<-'EOF'
		#!/bin/sh
		{ echo "stage=dracut"; for f in /etc/vfio-claim.d/*.conf; do echo "conf=${f##*/}"; done; } >/run/vfio-harness-dummy
	EOF
	chmod 755 "$d"/usr/share/initramfs-tools/hooks/* "$d"/usr/share/initramfs-tools/scripts/init-top/* \
		"$d"/usr/lib/dracut/modules.d/90vfio-harness-dummy/*
	dpkg-deb --root-owner-group -b "$d" "$1/vfio-harness-dummy_1.0_all.deb" >/dev/null
	echo "$1/vfio-harness-dummy_1.0_all.deb"
}

assert_dummy() { # NAME OUTPUT_DIR STAGE
	local out=$2/output.txt
	check "$1: the package's $3 script ran in the initramfs" has_line "^CHECK dummy stage=$3\$" "$out"
	check "$1: the initramfs held the package's configuration" has_line '^CHECK dummy conf=00-dummy.conf$' "$out"
	check "$1: the initramfs held mkimage --conf" has_line '^CHECK dummy conf=50-selftest.conf$' "$out"
	check "$1: /etc/vfio-claim.d has mkimage --conf" has_line '^CHECK etc-conf 50-selftest.conf$' "$out"
}

boot_selftest() { # NAME IMAGE HOTPLUG(yes|no) [BOOT_ARG...]
	local name=$1 image=$2 hot=$3 rc=0
	shift 3
	local args=(--script "$HERE/selftest-guest.sh" --out "$WORK/$name")
	if [[ $hot == yes ]]; then
		touch "$WORK/hotplug"
		args+=(--file "$WORK/hotplug" --when '^SELFTEST-READY-FOR-HOTPLUG$' 'device_add e1000e,bus=rp1,id=hot1')
	fi
	timed "boot $name" "$HERE/boot.sh" "$image" "${args[@]}" "$@" -- \
		-device e1000e,addr=0x02.0,id=nic0 -device e1000e,addr=0x03.0,id=nic1 \
		-drive "file=$WORK/data.img,if=none,id=data,format=raw" \
		-device nvme,serial=data,drive=data,addr=0x04.0 \
		-device qemu-xhci,addr=0x05.0 -device ich9-intel-hda,addr=0x06.0 \
		>"$WORK/$name.stdout" 2>"$WORK/$name.stderr" || rc=$?
	[[ $rc == 0 ]] || { log "boot $name: exit status $rc"; tail -n 30 "$WORK/$name.stderr" >&2; }
	assert_guest "$name" "$WORK/$name" "$hot"
}

main() {
	local cache=${1:-$(vm_cache_dir)}
	[[ $EUID -eq 0 ]] || die "must run as root"
	WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/vfio-selftest.XXXXXX")
	trap cleanup EXIT
	truncate -s 64M "$WORK/data.img"

	timed "build-rootfs (both variants; cached if fresh)" "$HERE/build-rootfs.sh" "$cache"
	local deb conf=$WORK/50-selftest.conf
	deb=$(make_dummy_deb "$WORK")
	echo '# mkimage.sh --conf' >"$conf"
	timed "mkimage initramfs-tools (plain)" "$HERE/mkimage.sh" "$cache/rootfs-initramfs-tools" -o "$WORK/it.img"
	timed "mkimage initramfs-tools (+deb, --conf)" "$HERE/mkimage.sh" "$cache/rootfs-initramfs-tools" \
		"$deb" --conf "$conf" -o "$WORK/it-deb.img"
	timed "mkimage dracut (+deb, --conf)" "$HERE/mkimage.sh" "$cache/rootfs-dracut" \
		"$deb" --conf "$conf" -o "$WORK/dracut-deb.img"

	boot_selftest initramfs-tools-full "$WORK/it.img" yes
	boot_selftest initramfs-tools-early "$WORK/it-deb.img" no --early
	assert_dummy initramfs-tools-early "$WORK/initramfs-tools-early" initramfs-tools
	boot_selftest dracut-full "$WORK/dracut-deb.img" no
	assert_dummy dracut-full "$WORK/dracut-full" dracut

	echo "== timings"
	printf '%s\n' "${TIMINGS[@]}"
	echo "selftest: $PASSED passed, $FAILED failed"
	((FAILED == 0))
}

main "$@"
