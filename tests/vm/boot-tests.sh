#!/bin/bash
# Boot tests: a Debian release's own kernel under QEMU with an emulated IOMMU, the vfio-claim package
# installed with dpkg -i in a debootstrap root, for an initramfs-tools and a dracut image of that
# release. Asserts what a user sees: driver links, the kernel log, /dev/vfio/N, status, release,
# vfio_claim=off and hot-plug; then the image (built in a chroot without its root disk: no record)
# rebuilt in the guest. With dracut's systemd initrd (both releases), the journal shows the early pass
# done before systemd-udev-trigger.
#
# Usage: tests/vm/boot-tests.sh [--release SUITE] [--deb FILE] [--quick] [FLAVOR...]
#   --release SUITE  the guest's Debian release: trixie or bookworm (default $VFIO_CLAIM_RELEASE,
#                    else bookworm)
#   --deb FILE       the package to install (default: built from this tree on this host)
#   --quick          only the claim boot of each flavour (no vfio_claim=off, rebuild, dpkg -i in
#                    the guest): what make check runs on the releases after the first
#   FLAVOR           initramfs-tools dracut (default both)
# With initramfs-tools, also the package installed with dpkg -i on a running guest and its next boot.
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
LOG_TAG=boot-tests

CACHE=$(vm_cache_dir)
RELEASE=${VFIO_CLAIM_RELEASE:-bookworm}
DEB=
QUICK=no
FLAVORS=()
while (($#)); do
	case $1 in
	--release) RELEASE=${2:?--release needs a suite}; shift ;;
	--deb) DEB=$(realpath "${2:?--deb needs a file}"); shift ;;
	--quick) QUICK=yes ;;
	initramfs-tools | dracut) FLAVORS+=("$1") ;;
	*) die "usage: boot-tests.sh [--release SUITE] [--deb FILE] [--quick] [FLAVOR...]" ;;
	esac
	shift
done
vm_release_ok "$RELEASE" || die "unknown release '$RELEASE' (known: $VM_RELEASES_KNOWN)"
[[ -z "$DEB" || -f "$DEB" ]] || die "no such package: $DEB"
work_dir "boot-tests-$RELEASE"

# once_each OUTPUT: no line of the guest's kernel log (its vfio-claim lines) is there twice
once_each() { [[ -z "$(sed -n 's/^CHECK kmsg \[[^]]*\] //p' "$1" | sort | uniq -d)" ]]; }
# export_valid FILE: the <hostdev> elements of `export libvirt`, in a minimal domain, validate
export_valid() {
	local xml=$WORK/domain.xml
	[[ -s "$1" ]] || return 1
	{
		echo "<domain type='kvm'><name>t</name><memory>1048576</memory><os><type>hvm</type></os><devices>"
		cat "$1"
		echo "</devices></domain>"
	} >"$xml"
	virt-xml-validate "$xml" domain >/dev/null 2>&1
}

# shellcheck disable=SC2054 # commas belong to the QEMU options
# The emulated devices of every boot (see boot.sh for the fixed part of the machine), and a data
# NVMe at 00:06.0 ('claim nvme' selects it).
DEVICES=(-- -device e1000e,addr=0x02.0 -device e1000e,addr=0x03.0 -device qemu-xhci,addr=0x04.0
	-device ich9-intel-hda,addr=0x05.0
	-drive "file=$WORK/data.img,if=none,id=data,format=raw,snapshot=on"
	-device nvme,serial=data,drive=data,addr=0x06.0)

run_flavor() { # FLAVOR DEB
	local fl=$RELEASE/$1 deb=$2 img=$WORK/$1.img out start=$SECONDS
	log "$fl: image"
	"$HERE/mkimage.sh" "$(vm_rootfs "$RELEASE" "$1" "$CACHE")" "$deb" --conf "$HERE/data/claim.conf" -o "$img" \
		>"$WORK/$1-mkimage.log" 2>&1 || {
		tail -30 "$WORK/$1-mkimage.log" >&2
		check "$fl: image with the package built" false
		return 0
	}

	log "$fl: boot with claims and hot-plug"
	out=$WORK/$1-claim
	echo claim >"$WORK/mode"
	"$HERE/boot.sh" "$img" --script "$HERE/guest-claim.sh" --file "$WORK/mode" --out "$out" \
		--file /usr/share/bash-completion/bash_completion \
		--when '^VFIO-TEST-READY-FOR-HOTPLUG$' 'device_add e1000e,bus=rp1,id=hot1' \
		--when '^VFIO-TEST-READY-FOR-HOTPLUG$' 'device_add e1000e,bus=rp2,id=hot2' \
		"${DEVICES[@]}" >/dev/null 2>&1 || true
	local o=$out/output.txt g
	check "$fl: guest reported" [ "$(cat "$out/rc" 2>/dev/null)" = 0 ]
	check "$fl: NIC claimed by address is on vfio-pci" has "CHECK driver 0000:00:02.0 vfio-pci" "$o"
	check "$fl: its identical twin keeps e1000e" has "CHECK driver 0000:00:03.0 e1000e" "$o"
	check "$fl: USB controller claimed by category" has "CHECK driver 0000:00:04.0 vfio-pci" "$o"
	check "$fl: unselected audio keeps snd_hda_intel" has "CHECK driver 0000:00:05.0 snd_hda_intel" "$o"
	check "$fl: the root NVMe keeps nvme" has "CHECK driver 0000:01:00.0 nvme" "$o"
	check "$fl: the system booted from the root NVMe" has_re "^CHECK root /dev/nvme[0-9]n1$" "$o"
	check "$fl: the root NVMe is refused although 'claim nvme' selects it" \
		has_re "^CHECK rootplan refuse 0000:01:00.0 +nvme .*carries the (root|mounted) file system" "$o"
	check "$fl: one copy of each claim message in the kernel log" \
		[ "$(grep -c '^CHECK kmsg .*0000:00:02\.0: claimed for vfio-pci' "$o")" = 1 ]
	check "$fl: each message once in the kernel log (each refusal too)" once_each "$o"
	check "$fl: ...and at most one on the console" \
		[ "$(grep -c '0000:00:02\.0: claimed for vfio-pci' "$out/console.log")" -le 1 ]
	# built in a chroot without its root disk, the image has no root-device record: the early
	# pass refuses every storage controller, and the real root's udev pass claims the data NVMe
	check "$fl: no record: the data NVMe is claimed late, at the udev stage" \
		has_re "^CHECK status 0000:00:06.0 udev claimed yes$" "$o"
	check "$fl: ...and status says how to fix it" \
		has "CHECK late-note 0000:00:06.0 run 'update-initramfs -u' (or 'dracut -f')" "$o"
	check "$fl: ...and so does the kernel log" \
		has_re "^CHECK kmsg .*0000:00:06.0: storage controller claimed late.*update-initramfs -u" "$o"
	check "$fl: e1000e never touched the claimed NIC" has "CHECK hostmsgs 0000:00:02.0 0" "$o"
	check "$fl: xhci never touched the claimed USB controller" has "CHECK hostmsgs 0000:00:04.0 0" "$o"
	check "$fl: ...while e1000e's messages name the unclaimed twin (the count works)" \
		has_re "^CHECK hostmsgs 0000:00:03.0 [1-9]" "$o"
	check "$fl: no host-driver probe of a claimed device in the kernel log" no_host_probe "$o"
	if [[ $1 == dracut ]]; then
		# dracut runs systemd in the initrd (106 on Debian 13, 059 on 12): the hook in dracut-pre-udev
		check "$fl: the initrd ran systemd's dracut-pre-udev.service" \
			has_re "^CHECK journal pre-udev-finished [0-9.]+$" "$o"
		check "$fl: the early pass finished before systemd-udev-trigger started (journal)" \
			journal_before "$o" pre-udev-finished udev-trigger-started
		check "$fl: ...and so did its last claim (kernel time in the journal)" \
			journal_before "$o" last-early-claim udev-trigger-started
	fi
	check "$fl: status in the real root reports the initramfs stage" \
		has_re "^CHECK status 0000:00:02.0 initramfs claimed yes$" "$o"
	check "$fl: USB controller claimed in the initramfs too" \
		has_re "^CHECK status 0000:00:04.0 initramfs claimed yes$" "$o"
	check "$fl: /dev/vfio/N has the configured group and mode" has "CHECK devvfio kvm 660" "$o"
	check "$fl: no configuration errors at boot" lacks_re "^CHECK config-error" "$o"
	check "$fl: doctor: the IOMMU is on" has_re "^CHECK doctor ok +iommu " "$o"
	check "$fl: doctor: this boot's initramfs ran vfio-claim and is current" \
		has_re "^CHECK doctor (ok|warn) +initramfs " "$o"
	check "$fl: doctor: interrupt remapping (intremap=on)" \
		has_re "^CHECK doctor ok +interrupt-remapping " "$o"
	# claimed: the NIC, the USB controller and the data NVMe (late)
	check "$fl: export libvirt: one <hostdev> per claimed device" has "CHECK export-libvirt 3" "$o"
	check "$fl: ...valid against libvirt's domain schema" export_valid "$out/artifacts/hostdevs.xml"
	check "$fl: the installed bash completion completes 'rel' to 'release'" \
		has "CHECK completion rel release" "$o"
	check "$fl: hot-plugged NIC matching the policy is claimed by udev" \
		has "CHECK hotplug 0000:02:00.0 vfio-pci" "$o"
	check "$fl: ...at the udev stage" has "CHECK hotstatus 0000:02:00.0 udev claimed" "$o"
	check "$fl: hot-plugged NIC not matching is left to e1000e" \
		has "CHECK hotplug 0000:03:00.0 e1000e" "$o"
	check "$fl: release from a shell gives the NIC back to e1000e" \
		has "CHECK release 0000:00:02.0: released, now bound to 'e1000e'" "$o"
	check "$fl: ...and its driver link says so" has "CHECK driver-after-release 0000:00:02.0 e1000e" "$o"
	check "$fl: ...and status records it" has "CHECK status-after-release 0000:00:02.0 released" "$o"
	if [[ $QUICK == yes ]]; then
		log "$fl: done in $((SECONDS - start)) s (quick set)"
		return 0
	fi

	log "$fl: boot with vfio_claim=off"
	out=$WORK/$1-off
	echo off >"$WORK/mode"
	"$HERE/boot.sh" "$img" --script "$HERE/guest-claim.sh" --file "$WORK/mode" --out "$out" \
		--append vfio_claim=off "${DEVICES[@]}" >/dev/null 2>&1 || true
	o=$out/output.txt
	check "$fl: vfio_claim=off: guest reported" [ "$(cat "$out/rc" 2>/dev/null)" = 0 ]
	for g in "0000:00:02.0 e1000e" "0000:00:03.0 e1000e" "0000:00:04.0 xhci_hcd" "0000:01:00.0 nvme"; do
		check "$fl: vfio_claim=off: ${g% *} on ${g#* }" has "CHECK driver $g" "$o"
	done
	check "$fl: vfio_claim=off: the boot said why" has_re "^CHECK kmsg .*vfio_claim=off" "$o"

	# the fix the boot named: rebuild the image on the running system, then boot it
	log "$fl: rebuild the initramfs in the guest"
	out=$WORK/$1-rebuild
	"$HERE/boot.sh" "$img" --persist --timeout 900 --script "$HERE/guest-rebuild.sh" \
		--out "$out" "${DEVICES[@]}" >/dev/null 2>&1 || true
	o=$out/output.txt
	check "$fl: the initramfs is rebuilt in the guest" has_re "^CHECK rebuilt .* rc=0$" "$o"
	check "$fl: ...with the root NVMe recorded" \
		has_re "^CHECK root-devices root=[^ ]+ path=0000:00:0f\.0/00\.0 " "$o"
	# boot.sh boots IMAGE.initrd: the one the guest just wrote into the image
	local kver
	kver=$(sed -n 's/^KERNEL_VERSION=//p' "$img.info")
	debugfs -R "dump /boot/initrd.img-$kver $img.initrd" "$img" >/dev/null 2>&1
	log "$fl: boot the rebuilt initramfs"
	out=$WORK/$1-rebuilt
	"$HERE/boot.sh" "$img" --script "$HERE/guest-installed.sh" --out "$out" "${DEVICES[@]}" \
		>/dev/null 2>&1 || true
	o=$out/output.txt
	check "$fl: rebuilt: guest reported" [ "$(cat "$out/rc" 2>/dev/null)" = 0 ]
	check "$fl: rebuilt: the data NVMe is claimed in the initramfs" \
		has "CHECK status 0000:00:06.0 initramfs claimed" "$o"
	check "$fl: rebuilt: nvme never touched the data NVMe" has "CHECK hostmsgs 0000:00:06.0 0" "$o"
	check "$fl: rebuilt: no host-driver probe of a claimed device in the kernel log" no_host_probe "$o"
	check "$fl: rebuilt: the root NVMe keeps nvme" has "CHECK driver 0000:01:00.0 nvme" "$o"
	check "$fl: rebuilt: no late claim any more" lacks_re "^CHECK kmsg .*claimed late" "$o"
	log "$fl: done in $((SECONDS - start)) s"
}

# The package installed with dpkg -i on a running plain guest, as a user would: its trigger builds
# the initramfs there, which records the root device, so the early pass claims a data NVMe and
# refuses the root NVMe by that record.
run_installed() { # DEB
	local deb=$1 img=$WORK/installed.img out kver o start=$SECONDS r=$RELEASE
	# shellcheck disable=SC2054 # commas belong to the QEMU options
	local devs=(-- -device e1000e,addr=0x02.0 -device e1000e,addr=0x03.0
		-drive "file=$WORK/data.img,if=none,id=data,format=raw"
		-device nvme,serial=data,drive=data,addr=0x06.0)
	log "installed: plain image"
	"$HERE/mkimage.sh" "$(vm_rootfs "$RELEASE" initramfs-tools "$CACHE")" --conf "$HERE/data/installed.conf" \
		-o "$img" >"$WORK/installed-mkimage.log" 2>&1 || {
		tail -30 "$WORK/installed-mkimage.log" >&2
		check "$r/installed: plain image built" false
		return 0
	}
	truncate -s 64M "$WORK/data.img"
	log "installed: boot, dpkg -i in the guest"
	out=$WORK/installed-1
	# dpkg -i and the initramfs it builds take ~2.5 min under TCG on an idle machine, twice that
	# on a loaded one: the default 300 s is too close
	"$HERE/boot.sh" "$img" --persist --timeout 900 --script "$HERE/guest-install.sh" \
		--file "$deb" --out "$out" "${devs[@]}" >/dev/null 2>&1 || true
	o=$out/output.txt
	check "$r/installed: dpkg -i on the running guest" has "CHECK installed install ok installed" "$o"
	check "$r/installed: root-devices names the root NVMe's PCI path" \
		has_re "^CHECK root-devices root=[^ ]+ path=0000:00:0f\.0/00\.0 " "$o"
	check "$r/installed: the initramfs has the boot script" \
		has_re "^CHECK initramfs-file .*scripts/init-top/00-vfio-claim$" "$o"
	kver=$(sed -n 's/^KERNEL_VERSION=//p' "$img.info")
	debugfs -R "dump /boot/initrd.img-$kver $img.initrd" "$img" >/dev/null 2>&1
	log "installed: the next boot"
	out=$WORK/installed-2
	"$HERE/boot.sh" "$img" --script "$HERE/guest-installed.sh" --out "$out" "${devs[@]}" \
		>/dev/null 2>&1 || true
	o=$out/output.txt
	check "$r/installed: next boot reported" [ "$(cat "$out/rc" 2>/dev/null)" = 0 ]
	check "$r/installed: the NIC is claimed" has "CHECK driver 0000:00:02.0 vfio-pci" "$o"
	check "$r/installed: its twin keeps e1000e" has "CHECK driver 0000:00:03.0 e1000e" "$o"
	check "$r/installed: the data NVMe is claimed in the initramfs" \
		has "CHECK status 0000:00:06.0 initramfs claimed" "$o"
	check "$r/installed: nvme never touched the data NVMe" has "CHECK hostmsgs 0000:00:06.0 0" "$o"
	check "$r/installed: no host-driver probe of a claimed device in the kernel log" no_host_probe "$o"
	check "$r/installed: the root NVMe keeps nvme" has "CHECK driver 0000:01:00.0 nvme" "$o"
	check "$r/installed: the early pass refused it by the initramfs record" \
		has_re "^CHECK kmsg .*0000:01:00.0: refused: carried the root file system when the initramfs was built" "$o"
	log "$r/installed: done in $((SECONDS - start)) s"
}

main() {
	local flavors=("${FLAVORS[@]}") deb=$DEB start=$SECONDS
	((${#flavors[@]})) || flavors=(initramfs-tools dracut)
	if [[ -z "$deb" ]]; then
		log "building the package"
		deb=$(build_deb)
	fi
	log "$RELEASE root file systems (cached in $(vm_release_cache "$RELEASE" "$CACHE")); package ${deb##*/}"
	"$HERE/build-rootfs.sh" --release "$RELEASE" "$CACHE" "${flavors[@]}" >"$WORK/build-rootfs.log" 2>&1 ||
		{ tail -30 "$WORK/build-rootfs.log" >&2; die "build-rootfs.sh failed"; }
	truncate -s 64M "$WORK/data.img"
	for fl in "${flavors[@]}"; do
		run_flavor "$fl" "$deb"
	done
	[[ $QUICK == yes || " ${flavors[*]} " != *" initramfs-tools "* ]] || run_installed "$deb"
	log "$RELEASE: $((SECONDS - start)) s in all$([[ $QUICK == yes ]] && echo ' (quick set)')"
	echo "$RELEASE: $PASSED passed, $FAILED failed"
	((FAILED == 0))
}

main
