#!/bin/bash
# Soak: N boots of each initramfs generator of a Debian release (default Debian 13) with the
# package installed and the guest's PCI devices placed anew each boot: two e1000e NICs (claimed
# by IDs), a qemu-xhci USB controller (claimed by category), an e1000 NIC and an ich9-intel-hda
# audio device (not claimed), each at a random free slot of the root bus or behind a PCIe root
# port of its own at a random slot and chassis, in a shuffled order, so their addresses and bus
# numbers change. Every boot must show: the claimed devices on vfio-pci with no host-driver message
# about them in the kernel log, the others on their host drivers, the root NVMe on nvme, every
# /run/vfio-claim/devices/* well formed; under dracut's systemd initrd the journal
# shows dracut-pre-udev.service done before systemd-udev-trigger started.
#
# Usage: tests/vm/soak.sh [--release SUITE] [--deb FILE] [--boots N] [--seed S] [--append ARGS]
#                        [FLAVOR...]
#   --release SUITE  trixie (default, or $VFIO_CLAIM_RELEASE) or bookworm
#   --deb FILE       the package (default: built from this tree on this host)
#   --boots N        boots per flavour (default $SOAK_BOOTS, else 20)
#   --seed S         the shuffles' seed (default: the time); a failure names its boot's seed
#   --append ARGS    add to each boot's kernel command line (vfio_claim=off must fail every boot)
#   FLAVOR           initramfs-tools dracut (default both)
# Prints one line per boot ("ok"/"not ok", the layout, the time) and the figures: boots,
# failures, seconds per boot. Exits 1 if a boot failed. KEEP=1 keeps the work directory and every
# boot's results (else only those of failed boots).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck source-path=SCRIPTDIR source=results.sh
. "$HERE/results.sh"
# shellcheck disable=SC2034 # read by log() in lib.sh
LOG_TAG=soak

CACHE=$(vm_cache_dir)
RELEASE=${VFIO_CLAIM_RELEASE:-trixie}
DEB=
BOOTS=${SOAK_BOOTS:-20}
SEED=$(date +%s)
FLAVORS=()
APPEND=()
while (($#)); do
	case $1 in
	--release) RELEASE=${2:?--release needs a suite}; shift ;;
	--deb) DEB=$(realpath "${2:?--deb needs a file}"); shift ;;
	--boots) BOOTS=${2:?--boots needs a number}; shift ;;
	--seed) SEED=${2:?--seed needs a number}; shift ;;
	--append) APPEND+=(--append "${2:?--append needs kernel arguments}"); shift ;;
	initramfs-tools | dracut) FLAVORS+=("$1") ;;
	*) die "usage: soak.sh [--release SUITE] [--deb FILE] [--boots N] [--seed S] [--append ARGS] [FLAVOR...]" ;;
	esac
	shift
done
vm_release_ok "$RELEASE" || die "unknown release '$RELEASE' (known: $VM_RELEASES_KNOWN)"
[[ $BOOTS =~ ^[1-9][0-9]*$ ]] || die "--boots: a number of boots, not '$BOOTS'"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed: a number, not '$SEED'"
[[ -z "$DEB" || -f "$DEB" ]] || die "no such package: $DEB"
((${#FLAVORS[@]})) || FLAVORS=(initramfs-tools dracut)
work_dir "soak-$RELEASE"

# The devices of every boot (QEMU -device without bus/addr) and how many of them are claimed.
readonly SOAK_DEVICES=(e1000e e1000e qemu-xhci e1000 ich9-intel-hda)
readonly SOAK_CLAIMED=3

# layout SEED: the QEMU arguments of one boot's shuffled devices, one per line. Free slots of the
# root bus: 02-0e and 10-1e (boot.sh puts VGA at 01, the root disk's port at 0f; q35's ICH9 is
# at 1f; --root-ports 0 leaves 10- free). Each device gets a slot, and one time in two a root
# port of its own there (chassis 1-99, so the port's secondary bus number moves with the order).
layout() {
	RANDOM=$1
	local slots=() devs=() i j t chassis=() c
	for ((i = 0x02; i <= 0x1e; i++)); do
		((i == 0x0f)) || slots+=("$i")
	done
	devs=("${SOAK_DEVICES[@]}")
	for ((i = ${#slots[@]} - 1; i > 0; i--)); do
		j=$((RANDOM % (i + 1)))
		t=${slots[i]} slots[i]=${slots[j]} slots[j]=$t
	done
	for ((i = ${#devs[@]} - 1; i > 0; i--)); do
		j=$((RANDOM % (i + 1)))
		t=${devs[i]} devs[i]=${devs[j]} devs[j]=$t
	done
	for ((i = 0; i < ${#devs[@]}; i++)); do
		if ((RANDOM % 2)); then
			while :; do
				c=$((RANDOM % 99 + 1))
				[[ " ${chassis[*]} " == *" $c "* ]] || break
			done
			chassis+=("$c")
			printf -- '-device\npcie-root-port,id=sp%d,bus=pcie.0,addr=0x%x.0,chassis=%d,slot=%d\n' \
				"$i" "${slots[i]}" "$c" "$c"
			printf -- '-device\n%s,bus=sp%d\n' "${devs[i]}" "$i"
		else
			printf -- '-device\n%s,bus=pcie.0,addr=0x%x.0\n' "${devs[i]}" "${slots[i]}"
		fi
	done
}

# describe ARG...: a layout in short, e.g. "e1000e@03 qemu-xhci@0e/port-chassis-18"
describe() {
	local arg words=() ports=() re_port='^pcie-root-port,id=sp([0-9]+),bus=pcie.0,addr=0x([0-9a-f]+).0,chassis=([0-9]+)'
	for arg in "$@"; do
		if [[ $arg =~ $re_port ]]; then
			ports[BASH_REMATCH[1]]=$(printf '%02x/port-chassis-%s' "0x${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}")
		elif [[ $arg =~ ^([a-z0-9-]+),bus=sp([0-9]+)$ ]]; then
			words+=("${BASH_REMATCH[1]}@${ports[BASH_REMATCH[2]]}")
		elif [[ $arg =~ ^([a-z0-9-]+),bus=pcie.0,addr=0x([0-9a-f]+).0$ ]]; then
			words+=("$(printf '%s@%02x' "${BASH_REMATCH[1]}" "0x${BASH_REMATCH[2]}")")
		fi
	done
	echo "${words[*]}"
}

# One boot's verdict from the guest's output: nothing printed when it is good, else the reasons.
judge() { # FLAVOR OUTDIR
	local o=$2/output.txt
	[[ "$(cat "$2/rc" 2>/dev/null)" == 0 ]] || echo "the guest did not report (rc $(cat "$2/rc" 2>/dev/null))"
	[[ "$(grep -c '^CHECK claim ' "$o")" == "$SOAK_CLAIMED" ]] || echo "not $SOAK_CLAIMED devices to claim"
	grep -E '^CHECK claim ' "$o" | grep -vE ' vfio-pci 0$' | sed 's/^CHECK claim /claim: /'
	grep -E '^CHECK keep ' "$o" | grep -vE '8086:293e snd_hda_intel$|8086:100e e1000$' | sed 's/^CHECK keep /kept: /'
	grep -E '^CHECK nvme ' "$o" | grep -vE ' nvme$' | sed 's/^CHECK nvme /root NVMe: /'
	grep -E '^CHECK state-bad ' "$o" | sed 's/^CHECK state-bad /state: /'
	[[ "$(grep -c '^CHECK state [^ ]* [^ ]* claimed$' "$o")" -ge "$SOAK_CLAIMED" ]] ||
		echo "fewer than $SOAK_CLAIMED claimed state files"
	if [[ $1 == dracut ]]; then
		journal_before "$o" pre-udev-finished udev-trigger-started ||
			echo "journal: dracut-pre-udev.service not done before systemd-udev-trigger started"
	fi
}

main() {
	local deb=$DEB fl img i seed out start t total=0 n=0 fails=0 why min='' max=0 layout_args lines
	if [[ -z "$deb" ]]; then
		log "building the package"
		deb=$(build_deb)
	fi
	log "$RELEASE root file systems (cached in $(vm_release_cache "$RELEASE" "$CACHE")); package ${deb##*/}"
	"$HERE/build-rootfs.sh" --release "$RELEASE" "$CACHE" "${FLAVORS[@]}" >"$WORK/build-rootfs.log" 2>&1 ||
		{ tail -30 "$WORK/build-rootfs.log" >&2; die "build-rootfs.sh failed"; }
	for fl in "${FLAVORS[@]}"; do
		img=$WORK/$fl.img
		log "$RELEASE/$fl: image"
		"$HERE/mkimage.sh" "$(vm_rootfs "$RELEASE" "$fl" "$CACHE")" "$deb" --conf "$HERE/data/soak.conf" \
			-o "$img" >"$WORK/$fl-mkimage.log" 2>&1 || { tail -30 "$WORK/$fl-mkimage.log" >&2; die "mkimage.sh failed"; }
		for ((i = 1; i <= BOOTS; i++)); do
			seed=$((SEED + i))
			mapfile -t layout_args < <(layout "$seed")
			lines=$(describe "${layout_args[@]}")
			out=$WORK/$fl-$i
			start=$SECONDS
			"$HERE/boot.sh" "$img" --script "$HERE/guest-soak.sh" --out "$out" --root-ports 0 \
				"${APPEND[@]}" -- "${layout_args[@]}" >/dev/null 2>&1 || true
			t=$((SECONDS - start))
			why=$(judge "$fl" "$out")
			n=$((n + 1))
			total=$((total + t))
			((t > max)) && max=$t
			[[ -n "$min" ]] && ((t >= min)) || min=$t
			if [[ -z "$why" ]]; then
				check "$RELEASE/$fl boot $i (seed $seed, ${t} s): $lines" true
				[[ "${KEEP:-0}" == 1 ]] || rm -rf "$out"
			else
				check "$RELEASE/$fl boot $i (seed $seed, ${t} s): $lines" false
				fails=$((fails + 1))
				awk '{ print "    " $0 }' <<<"$why"
				log "kept: $out"
			fi
		done
	done
	echo "soak $RELEASE (${FLAVORS[*]}): $n boots, $fails failed, $((total / n)) s per boot (min $min, max $max), seed $SEED"
	((fails == 0))
}

main
