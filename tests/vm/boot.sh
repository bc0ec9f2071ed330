#!/bin/bash
# Boot a tests/vm/mkimage.sh image under QEMU (q35 + emulated Intel IOMMU), run
# a script in the guest and hand back its output and exit status.
#
# Usage: tests/vm/boot.sh IMAGE [options] [-- QEMU_ARG...]
#   -s, --script FILE    run FILE in the guest with bash, as /root/guest-test.sh,
#                        in /root/test (required unless --interactive)
#   --file FILE          also put FILE in the guest's /root/test/ (repeatable)
#   --early              run the script as init= right after the initramfs
#                        switched root: no systemd, no real-root udev, so the
#                        guest is as the initramfs left it (dmesg.txt included)
#   --append ARGS        add to the kernel command line (repeatable)
#   --device SPEC        add -device SPEC (repeatable); same as `-- -device SPEC`
#   --out DIR            keep the results in DIR (default: a temporary directory,
#                        removed on success, kept and named on failure)
#   --timeout SECONDS    kill QEMU after that long (default ${VFIO_CLAIM_VM_TIMEOUT:-300})
#   --qmp PATH           the QMP socket (default DIR/qmp.sock; keep paths short:
#                        108 bytes at most)
#   --when REGEX CMD     once a line of the guest's output matches REGEX (grep -E),
#                        send the monitor (HMP) command CMD, e.g.
#                          --when '^READY$' 'device_add e1000e,bus=rp1,id=hot1'
#                        (repeatable; each fires once, in order given)
#   --root-ports N       hot-plug capable PCIe root ports rp1..rpN (default 4)
#   --no-vga             no VGA device (default: QEMU's std VGA at 00:01.0, boot_vga=1)
#   --mem MIB            guest memory (default 1024)
#   --accel MODE         auto (default, $VFIO_CLAIM_ACCEL), kvm or tcg
#   --persist            the guest's writes go to IMAGE (default: a throw-away
#                        overlay, snapshot=on, so every boot starts the same)
#   --interactive        serial console on this terminal (make demo); with --script
#                        too, the script's output still goes to DIR/output.txt
#
# Results (DIR): output.txt (what the script printed), rc, console.log (ttyS0:
# kernel, initramfs, systemd), guest.log (raw ttyS1), artifacts/ (the guest's
# /root/out, with dmesg.txt), qemu.log, qmp.log, cmdline.
# Standard output: output.txt. Exit status: the script's, 124 when the timeout
# killed QEMU, 125 when the guest ended without reporting (see console.log).
#
# Environment: VFIO_CLAIM_ACCEL, VFIO_CLAIM_VM_TIMEOUT, VFIO_CLAIM_CACHE (where
# the KVM probe result is kept), QEMU (the binary, default qemu-system-x86_64).
#
# Machine layout (fixed, so tests can name addresses):
#   00:00.0 host bridge, 00:01.0 VGA, 00:1f.0/.2/.3 ICH9 LPC/SATA/SMBus (q35)
#   00:0f.0 root port rp0 -> 01:00.0 NVMe "root" (serial=root): the root disk
#   00:10.0.. root ports rp1..rpN (hot-plug; empty, for device_add ...,bus=rpK;
#           a device added behind rpK shows up as 0000:0(K+1):00.0)
#   --device/-device without addr=: 00:02.0, 00:03.0, ... in command line order
#   (keep test devices below 00:0f.0, or give them addresses above 00:1b.0)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
LOG_TAG=boot

readonly MARK='@@@VFIO-TEST'
readonly EARLY_INIT=/usr/local/sbin/vfio-test-run

IMAGE=
SCRIPT=
GUEST_FILES=()
EARLY=no
APPEND=()
QEMU_EXTRA=()
OUT=
KEEP_OUT=no
TIMEOUT=${VFIO_CLAIM_VM_TIMEOUT:-300}
TIMEOUT_SET=no
QMP=
WHEN_RE=()
WHEN_CMD=()
ROOT_PORTS=4
VGA=yes
MEM=1024
ACCEL=${VFIO_CLAIM_ACCEL:-auto}
INTERACTIVE=no
SNAPSHOT=on
QEMU_BIN=${QEMU:-qemu-system-x86_64}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

parse_args() {
	while (($#)); do
		case $1 in
		-s | --script) SCRIPT=${2:?}; shift ;;
		--file) GUEST_FILES+=("${2:?}"); shift ;;
		--early) EARLY=yes ;;
		--append) APPEND+=("${2:?}"); shift ;;
		--device) QEMU_EXTRA+=(-device "${2:?}"); shift ;;
		--out) OUT=${2:?}; KEEP_OUT=yes; shift ;;
		--timeout) TIMEOUT=${2:?}; TIMEOUT_SET=yes; shift ;;
		--qmp) QMP=${2:?}; shift ;;
		--when) WHEN_RE+=("${2:?}"); WHEN_CMD+=("${3:?}"); shift 2 ;;
		--root-ports) ROOT_PORTS=${2:?}; shift ;;
		--no-vga) VGA=no ;;
		--mem) MEM=${2:?}; shift ;;
		--accel) ACCEL=${2:?}; shift ;;
		--interactive) INTERACTIVE=yes ;;
		--persist) SNAPSHOT=off ;;
		-h | --help) usage ;;
		--) shift; QEMU_EXTRA+=("$@"); break ;;
		-*) die "unknown option: $1" ;;
		*) [[ -z "$IMAGE" ]] || die "one image only: $1"; IMAGE=$1 ;;
		esac
		shift
	done
	[[ -n "$IMAGE" ]] || usage
	local f
	for f in "$IMAGE" "$IMAGE.vmlinuz" "$IMAGE.initrd" "$IMAGE.info"; do
		[[ -f "$f" ]] || die "missing $f (make it with tests/vm/mkimage.sh)"
	done
	[[ -z "$SCRIPT" || -f "$SCRIPT" ]] || die "no such script: $SCRIPT"
	for f in "${GUEST_FILES[@]}"; do
		[[ -e "$f" ]] || die "no such file: $f"
	done
	[[ -n "$SCRIPT" || $INTERACTIVE == yes ]] || die "give --script FILE or --interactive"
	[[ $EARLY == no || -n "$SCRIPT" ]] || die "--early needs --script"
	[[ $ACCEL =~ ^(auto|kvm|tcg)$ ]] || die "--accel: auto, kvm or tcg"
	if ! [[ $ROOT_PORTS =~ ^[0-9]+$ ]] || ((ROOT_PORTS > 12)); then
		die "--root-ports: 0..12"
	fi
}

image_info() { # KEY
	sed -n "s/^$1=//p" "$IMAGE.info"
}

# --- KVM ------------------------------------------------------------------
# KVM may be there and still hang guests (nested virtualisation on CI hosts),
# so it is used only after a short probe boot succeeded; the verdict is kept
# per QEMU version and host kernel in the cache directory.

kvm_probe_key() { echo "$("$QEMU_BIN" --version | head -n 1) / $(uname -r) / $(image_info KERNEL_VERSION)"; }

probe_kvm() {
	local dir verdict=tcg
	dir=$(mktemp -d)
	echo 'echo kvm-probe-ok' >"$dir/probe.sh"
	log "probing KVM with a short boot (20 s at most)"
	if VFIO_CLAIM_ACCEL=kvm "$HERE/boot.sh" "$IMAGE" --early --script "$dir/probe.sh" \
		--timeout 20 --out "$dir/out" --no-vga --root-ports 0 >"$dir/stdout" 2>&1 &&
		grep -qx kvm-probe-ok "$dir/stdout"; then
		verdict=kvm
	fi
	rm -rf "$dir"
	echo "$verdict"
}

choose_accel() {
	if [[ $ACCEL != auto ]]; then
		echo "$ACCEL"
		return
	fi
	if ! [[ -r /dev/kvm && -w /dev/kvm ]]; then
		echo tcg
		return
	fi
	local cache key verdict
	cache=$(vm_cache_dir)/kvm-probe
	key=$(kvm_probe_key)
	if [[ -f "$cache" ]] && [[ "$(head -n 1 "$cache")" == "$key" ]]; then
		sed -n 2p "$cache"
		return
	fi
	verdict=$(probe_kvm)
	log "KVM probe: using $verdict"
	{ mkdir -p "$(dirname "$cache")" && printf '%s\n%s\n' "$key" "$verdict" >"$cache"; } 2>/dev/null || true
	echo "$verdict"
}

# --- QEMU command line -----------------------------------------------------

kernel_cmdline() {
	# no_timer_check: under TCG on a loaded host, the kernel's early check that the timer interrupt
	# arrives through the interrupt-remapped IO-APIC can time out, and 6.12 then panics ("timer
	# doesn't work through Interrupt-remapped IO-APIC"; seen once in a boot of trixie's kernel)
	local args=("root=UUID=$(image_info ROOT_UUID)" rw "console=ttyS0,115200" intel_iommu=on panic=5 no_timer_check)
	[[ $EARLY == yes ]] && args+=("init=$EARLY_INIT")
	args+=("${APPEND[@]}")
	echo "${args[*]}"
}

# A path inside a QEMU option: commas are doubled.
qpath() { echo "${1//,/,,}"; }

machine_args() { # ACCEL
	local accel=$1 i
	# -nodefaults: no CD-ROM, floppy, default NIC or VGA; q35's own ICH9
	# functions (00:1f.0 LPC, 00:1f.2 AHCI, 00:1f.3 SMBus) remain.
	QEMU_ARGS=(-machine "q35,kernel-irqchip=split" -m "$MEM" -smp 2 -no-reboot -nodefaults)
	if [[ $accel == kvm ]]; then
		QEMU_ARGS+=(-accel kvm -cpu host)
	else
				# qemu64, not max: QEMU 7.2's TCG emulation of the newer vector
		# extensions that "max" offers corrupted strings in the guest (systemd
		# logged mount points as 'xxxxxx', udevd failed), once in four boots.
		QEMU_ARGS+=(-accel "tcg,thread=multi" -cpu "${VFIO_CLAIM_VM_CPU:-qemu64}")
	fi
	# The IOMMU must come before the PCI devices it translates for.
	QEMU_ARGS+=(-device "intel-iommu,intremap=on,caching-mode=on")
	[[ $VGA == no ]] || QEMU_ARGS+=(-device "VGA,bus=pcie.0,addr=0x01.0")
	QEMU_ARGS+=(-kernel "$(qpath "$IMAGE.vmlinuz")" -initrd "$(qpath "$IMAGE.initrd")" -append "$(kernel_cmdline)")
	# The root disk: NVMe behind its own root port, like an M.2 slot. snapshot=on
	# (unless --persist): the guest's writes go to a temporary overlay, the image
	# stays as built.
	QEMU_ARGS+=(-drive "file=$(qpath "$IMAGE"),if=none,id=rootdisk,format=raw,snapshot=$SNAPSHOT"
		-device "pcie-root-port,id=rp0,bus=pcie.0,addr=0x0f.0,chassis=100,slot=100"
		-device "nvme,serial=root,drive=rootdisk,bus=rp0")
	for ((i = 1; i <= ROOT_PORTS; i++)); do
		QEMU_ARGS+=(-device "pcie-root-port,id=rp$i,bus=pcie.0,addr=$(printf '0x%x' $((0x0f + i))).0,chassis=$((100 + i)),slot=$((100 + i)),hotplug=on")
	done
	QEMU_ARGS+=(-qmp "unix:$(qpath "$QMP"),server=on,wait=off")
	if [[ -n "$SCRIPT" ]]; then
		QEMU_ARGS+=(-fw_cfg "name=opt/vfio-claim/payload,file=$(qpath "$OUT/payload.tgz")")
	fi
	if [[ $INTERACTIVE == yes ]]; then
		QEMU_ARGS+=(-nographic -serial mon:stdio)
	else
		QEMU_ARGS+=(-display none -monitor none -serial "file:$(qpath "$OUT/console.log")")
	fi
	# ttyS1: the test runner's report channel (ISA, so no PCI device is added).
	QEMU_ARGS+=(-serial "file:$(qpath "$OUT/guest.log")")
	QEMU_ARGS+=("${QEMU_EXTRA[@]}")
}

# --- run ------------------------------------------------------------------

make_payload() {
	local stage=$OUT/payload f
	rm -rf "$stage"
	mkdir -p "$stage"
	cp "$SCRIPT" "$stage/guest-test.sh"
	for f in "${GUEST_FILES[@]}"; do
		cp -a "$f" "$stage/"
	done
	tar -C "$stage" -czf "$OUT/payload.tgz" .
	rm -rf "$stage"
}

# Send the --when commands whose pattern the guest has printed by now.
WHEN_DONE=0
fire_triggers() {
	while ((WHEN_DONE < ${#WHEN_RE[@]})); do
		tr -d '\r' <"$OUT/guest.log" | grep -qE -- "${WHEN_RE[WHEN_DONE]}" || return 0
		log "guest printed /${WHEN_RE[WHEN_DONE]}/: ${WHEN_CMD[WHEN_DONE]}"
		{
			echo "> ${WHEN_CMD[WHEN_DONE]}"
			python3 "$HERE/qmp.py" "$QMP" "${WHEN_CMD[WHEN_DONE]}" 2>&1 || echo "(failed: $?)"
		} >>"$OUT/qmp.log"
		WHEN_DONE=$((WHEN_DONE + 1))
	done
}

QEMU_PID=
run_batch() {
	local rc=0
	: >"$OUT/guest.log"
	timeout --kill-after=10 "$TIMEOUT" "$QEMU_BIN" "${QEMU_ARGS[@]}" </dev/null >"$OUT/qemu.log" 2>&1 &
	QEMU_PID=$!
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		fire_triggers
		sleep 0.5
	done
	wait "$QEMU_PID" || rc=$?
	QEMU_PID=
	return "$rc"
}

run_interactive() {
	local rc=0
	: >"$OUT/guest.log"
	if [[ $TIMEOUT_SET == yes ]]; then
		timeout --foreground --kill-after=10 "$TIMEOUT" "$QEMU_BIN" "${QEMU_ARGS[@]}" || rc=$?
	else
		"$QEMU_BIN" "${QEMU_ARGS[@]}" || rc=$?
	fi
	return "$rc"
}

# Split guest.log into output.txt, artifacts/ and rc; print the exit status.
collect() { # QEMU_RC
	local qemu_rc=$1 log=$OUT/guest.log.txt end
	tr -d '\r' <"$OUT/guest.log" >"$log"
	awk -v m="$MARK" '
		index($0, m " BEGIN") == 1 { on = 1; next }
		index($0, m " ARTIFACTS") == 1 { exit }
		index($0, m " END") == 1 { exit }
		on { print }' "$log" >"$OUT/output.txt"
	mkdir -p "$OUT/artifacts"
	awk -v m="$MARK" '
		index($0, m " ARTIFACTS") == 1 { on = 1; next }
		index($0, m " END") == 1 { exit }
		on { print }' "$log" | base64 -d 2>/dev/null | tar -xzf - -C "$OUT/artifacts" 2>/dev/null || true
	end=$(grep -a "^$MARK END rc=" "$log" | tail -n 1 || true)
	rm -f "$log"
	if [[ -n "$end" ]]; then
		end=${end#"$MARK END rc="}
		echo "${end%@@@}"
	elif ((qemu_rc == 124 || qemu_rc == 137)); then
		echo 124
	else
		echo 125
	fi
}

# CONSOLE: the kernel panicked and never started the initramfs' /init
kernel_died_before_init() {
	grep -aq 'Kernel panic - not syncing' "$1" 2>/dev/null &&
		! grep -aq 'Run /init as init process' "$1"
}

cleanup() {
	# Interrupted: stop QEMU (timeout passes the signal on to it).
	if [[ -n "$QEMU_PID" ]]; then
		kill "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	if [[ $KEEP_OUT == no && -n "$OUT" ]]; then
		rm -rf "$OUT"
	fi
	if [[ -n "${QMP_DIR:-}" ]]; then rm -rf "$QMP_DIR"; fi
	return 0
}

main() {
	parse_args "$@"
	command -v "$QEMU_BIN" >/dev/null || die "$QEMU_BIN is missing: apt-get install qemu-system-x86"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [[ -z "$OUT" ]]; then
		OUT=$(mktemp -d "${TMPDIR:-/tmp}/vfio-boot.XXXXXX")
	fi
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	rm -rf "$OUT/artifacts" "$OUT/output.txt" "$OUT/rc" "$OUT/qmp.log"
	if [[ -z "$QMP" ]]; then
		QMP=$OUT/qmp.sock
		if ((${#QMP} > 100)); then
			QMP_DIR=$(mktemp -d /tmp/vfio-qmp.XXXXXX)
			QMP=$QMP_DIR/qmp.sock
		fi
	fi
	[[ -z "$SCRIPT" ]] || make_payload

	local accel start qemu_rc=0 rc
	accel=$(choose_accel)
	machine_args "$accel"
	printf '%q ' "$QEMU_BIN" "${QEMU_ARGS[@]}" >"$OUT/cmdline"
	echo >>"$OUT/cmdline"
	log "booting $(basename "$IMAGE") ($(image_info FLAVOR), $accel, $([[ $EARLY == yes ]] && echo early || echo full) mode, timeout ${TIMEOUT}s); QMP: $QMP"
	start=$(date +%s)
	if [[ $INTERACTIVE == yes ]]; then
		run_interactive || qemu_rc=$?
	else
		run_batch || qemu_rc=$?
	fi
	rc=$(collect "$qemu_rc")
	# Debian 13's kernel under TCG with two vCPUs now and then oopses in its own early init
	# (int3 while patching its text, seen in sched_init_debug()), before it runs any program of
	# the initramfs: nothing of the image or of vfio-claim has run, so that boot is made again,
	# once, and said. A panic after "Run /init" is the test's failure as any other.
	if [[ $INTERACTIVE == no && $rc == 125 ]] && kernel_died_before_init "$OUT/console.log"; then
		mv "$OUT/console.log" "$OUT/console.early-panic.log"
		log "the kernel panicked before it ran /init (console.early-panic.log): booting again, once"
		qemu_rc=0
		WHEN_DONE=0
		run_batch || qemu_rc=$?
		rc=$(collect "$qemu_rc")
	fi
	# A person's session without a script: QEMU's status is the result.
	[[ $INTERACTIVE == yes && -z "$SCRIPT" ]] && rc=$qemu_rc
	echo "$rc" >"$OUT/rc"
	log "guest done in $(($(date +%s) - start)) s: exit status $rc (QEMU: $qemu_rc)"
	[[ $INTERACTIVE == yes ]] || cat "$OUT/output.txt"
	if ((rc == 124 || rc == 125)); then
		if ((rc == 124)); then log "timeout after ${TIMEOUT}s"; else log "the guest did not report"; fi
		if [[ $INTERACTIVE == no ]]; then
			log "last lines of the console:"
			tail -n 25 "$OUT/console.log" 2>/dev/null | tr -d '\r' >&2 || true
		fi
		[[ -s "$OUT/qemu.log" ]] && { log "QEMU said:"; cat "$OUT/qemu.log" >&2; }
		KEEP_OUT=yes
		log "results kept in $OUT"
	fi
	return "$rc"
}

main "$@"
