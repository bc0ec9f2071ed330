#!/bin/bash
# Guest side of tests/vm/libvirt-test.sh: a real libvirtd (Debian 12's 9.0) and QEMU in the guest,
# tiny nested domains (type 'qemu', machine 'pc', 64 MiB, no disk) started with
# `virsh start --paused`, and `vfio-claim run` around a plain QEMU. Prints "CHECK ..." facts that
# the host asserts.
# Devices (tests/data/libvirt.conf): 00:02.0 e1000e (the host's NIC), 00:03.0 e1000e
# (claim when=guest: follows guest-a), 00:04.0 e1000e (no claim line: managed='yes' in guest-d),
# 00:05.0 e1000e (claimed at boot: managed='no' in guest-c), 01:00.0 the root NVMe (claim
# when=guest, refused by the root-device rule: guest-b).
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

NIC=0000:00:03.0
MANAGED=0000:00:04.0
BOOTCLAIMED=0000:00:05.0
ROOTDEV=0000:01:00.0
OUT=/root/out

driver_of() {
	local link=/sys/bus/pci/devices/$1/driver
	if [[ -e "$link" ]]; then basename "$(readlink "$link")"; else echo none; fi
}
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
# the interfaces of a PCI network device ("-" when it has none)
netif_of() {
	local d names=()
	for d in /sys/bus/pci/devices/"$1"/net/*; do
		[[ -e "$d" ]] && ip link show dev "${d##*/}" >/dev/null 2>&1 && names+=("${d##*/}")
	done
	if ((${#names[@]})); then echo "${names[*]}"; else echo -; fi
}
# wait_driver ADDR DRIVER [SECONDS]: until ADDR is bound to DRIVER (default at most 30 s)
wait_driver() {
	local i
	for ((i = 0; i < ${3:-30} * 5; i++)); do
		[[ "$(driver_of "$1")" == "$2" ]] && return 0
		sleep 0.2
	done
	return 1
}
# PID has /dev/vfio/GROUP open
holds() { [[ -n "$(find "/proc/$1/fd" -lname "/dev/vfio/$2" 2>/dev/null)" ]]; }
# PID is alive (a child that exited stays a zombie until waited for: not alive)
running() { [[ -r /proc/$1/stat && "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]]; }
qemu_pid() { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }
# "USER holds" when the domain's QEMU (PID file of libvirt) has /dev/vfio/GROUP open
qemu_holds() { # DOMAIN GROUP
	local pid
	pid=$(qemu_pid "$1") || { echo "no-pid"; return; }
	if holds "$pid" "$2"; then
		echo "$(stat -c %U "/proc/$pid") holds"
	else
		echo "$(stat -c %U "/proc/$pid" 2>/dev/null) lacks"
	fi
}
# the lines of `vfio-claim status` about ADDR (its row and the indented lines under it), as one
status_of() {
	vfio-claim status | awk -v a="$1" '$1 == a { p = 1; print; next } /^[^ \t]/ { p = 0 } p' | oneline
}
# one line: what a command printed, newlines as " | "
oneline() { tr '\n' '|' | sed 's/|$//; s/|/ | /g'; }
addr_xml() { # 0000:BB:SS.F
	local a=$1
	printf "<address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/>" \
		"${a:0:4}" "${a:5:2}" "${a:8:2}" "${a:11:1}"
}
define() { # NAME ADDR MANAGED
	cat >"$OUT/$1.xml" <<-EOF
		<domain type='qemu'>
		  <name>$1</name>
		  <memory unit='MiB'>64</memory>
		  <vcpu>1</vcpu>
		  <os><type arch='x86_64' machine='pc'>hvm</type></os>
		  <on_crash>destroy</on_crash>
		  <devices>
		    <emulator>/usr/bin/qemu-system-x86_64</emulator>
		    <controller type='usb' model='none'/>
		    <memballoon model='none'/>
		    <hostdev mode='subsystem' type='pci' managed='$3'>
		      <source>$(addr_xml "$2")</source>
		    </hostdev>
		  </devices>
		</domain>
	EOF
	virsh -q define "$OUT/$1.xml" >/dev/null
}
step() { echo "== [$SECONDS s] $*"; }
# start DOMAIN: virsh start --paused; prints "CHECK start-DOMAIN rc" and the error, timed
start() {
	local t=$SECONDS rc
	virsh start --paused "$1" >"$OUT/start-$1.txt" 2>&1
	rc=$?
	echo "CHECK start-$1 $rc"
	echo "== virsh start --paused $1: rc $rc in $((SECONDS - t)) s: $(oneline <"$OUT/start-$1.txt")"
	return $rc
}

step "boot: cmdline $(cat /proc/cmdline)"
for dev in $NIC $MANAGED $BOOTCLAIMED $ROOTDEV; do
	echo "CHECK boot-driver $dev $(driver_of "$dev")"
done
echo "CHECK boot-netif $NIC $(netif_of $NIC)"
echo "CHECK libvirtd $(systemctl is-active libvirtd.service)"
echo "CHECK hook $(readlink /etc/libvirt/hooks/qemu.d/vfio-claim)"
vfio-claim check
vfio-claim status
virsh -q version

g_nic=$(group_of $NIC)
g_boot=$(group_of $BOOTCLAIMED)

step "guest-c: the boot-claimed $BOOTCLAIMED, managed='no'"
define guest-c $BOOTCLAIMED no
if start guest-c; then
	echo "CHECK c-holds $(qemu_holds guest-c "$g_boot")"
	virsh -q destroy guest-c >/dev/null
fi
echo "CHECK c-after $(driver_of $BOOTCLAIMED)"

step "guest-a: $NIC (when=guest), managed='no'"
define guest-a $NIC no
if start guest-a; then
	echo "CHECK a-driver $(driver_of $NIC)"
	echo "CHECK a-holds $(qemu_holds guest-a "$g_nic")"
	echo "CHECK a-status $(status_of $NIC)"
	t=$SECONDS
	virsh -q destroy guest-a >/dev/null
	wait_driver $NIC e1000e 20
	echo "== destroy, then e1000e after $((SECONDS - t)) s"
fi
echo "CHECK a-after $(driver_of $NIC)"
echo "CHECK a-after-netif $(netif_of $NIC)"
vfio-claim status

step "guest-b: the root NVMe $ROOTDEV (claim when=guest, refused), managed='no'"
kmsg_before=$(dmesg | wc -l)
define guest-b $ROOTDEV no
start guest-b
echo "CHECK b-error $(oneline <"$OUT/start-guest-b.txt")"
echo "CHECK b-driver $(driver_of $ROOTDEV)"
echo "CHECK b-override $(cat /sys/bus/pci/devices/$ROOTDEV/driver_override)"
echo "CHECK b-kmsg $(dmesg | tail -n +"$((kmsg_before + 1))" | grep -c "$ROOTDEV")"
echo "CHECK b-rootfs $(touch /root/out/alive 2>&1 && echo writable)"

step "guest-a again, its QEMU killed with SIGKILL"
if start guest-a; then
	echo "CHECK kill-driver $(driver_of $NIC)"
	pid=$(qemu_pid guest-a)
	t=$SECONDS
	kill -KILL "$pid"
	for ((i = 0; i < 150; i++)); do
		[[ "$(virsh domstate guest-a 2>/dev/null)" == "shut off" ]] && break
		sleep 0.2
	done
	wait_driver $NIC e1000e 20
	echo "== SIGKILL, then e1000e after $((SECONDS - t)) s"
fi
echo "CHECK kill-after $(driver_of $NIC)"
echo "CHECK kill-after-netif $(netif_of $NIC)"

# vfio-claim run around a plain QEMU, ended by SIG
plain() { # SIG
	local run qpid t i
	vfio-claim run --guest plain $NIC -- qemu-system-x86_64 -S -nodefaults -display none \
		-machine pc -m 64 -device vfio-pci,host=$NIC >"$OUT/run-$1.txt" 2>&1 &
	run=$!
	qpid=
	# QEMU is run's child (fork, execvp): wait until it has opened the group, at most 60 s
	for ((i = 0; i < 300; i++)); do
		running "$run" || break
		qpid=$(pgrep -P "$run" | head -n 1)
		[[ -n "$qpid" ]] && holds "$qpid" "$g_nic" && break
		qpid=
		sleep 0.2
	done
	echo "CHECK run-$1-during $(driver_of $NIC) $(cat "/proc/$qpid/comm" 2>/dev/null || echo no-holder)"
	echo "CHECK run-$1-status $(status_of $NIC)"
	t=$SECONDS
	[[ -n "$qpid" ]] && kill "-$1" "$qpid"
	wait "$run"
	echo "CHECK run-$1-rc $?"
	echo "== run after SIG$1 of QEMU: exit after $((SECONDS - t)) s: $(oneline <"$OUT/run-$1.txt")"
	echo "CHECK run-$1-after $(driver_of $NIC)"
	echo "CHECK run-$1-netif $(netif_of $NIC)"
}
step "vfio-claim run, QEMU ended by SIGTERM"
plain TERM
step "vfio-claim run, QEMU ended by SIGKILL"
plain KILL

# libvirt looks for hooks at its start and reload only (virHooksFound in virhook.c): a daemon that
# found no qemu hook ignores a new one until reloaded, which the package's postinst does.
step "hook discovery: a libvirtd with no qemu hook, the link back, then the postinst"
rm -f /etc/libvirt/hooks/qemu.d/vfio-claim
systemctl reload libvirtd.service
sleep 3
ln -s /usr/sbin/vfio-claim /etc/libvirt/hooks/qemu.d/vfio-claim
# without the hook nothing claims the NIC: libvirt refuses the managed='no' device on e1000e
if start guest-a; then
	echo "CHECK nohook-start 0"
	virsh -q destroy guest-a >/dev/null
else
	echo "CHECK nohook-start 1"
fi
echo "CHECK nohook-error $(oneline <"$OUT/start-guest-a.txt")"
/var/lib/dpkg/info/vfio-claim.postinst configure
echo "CHECK postinst $?"
sleep 3
if start guest-a; then
	echo "CHECK postinst-driver $(driver_of $NIC)"
	virsh -q destroy guest-a >/dev/null
	wait_driver $NIC e1000e 20
fi
echo "CHECK postinst-after $(driver_of $NIC)"

step "guest-d: $MANAGED, no claim line, managed='yes' (libvirt detaches it itself)"
define guest-d $MANAGED yes
if start guest-d; then
	echo "CHECK d-driver $(driver_of $MANAGED)"
	virsh -q destroy guest-d >/dev/null
	wait_driver $MANAGED e1000e 20
fi
echo "CHECK d-after $(driver_of $MANAGED)"

step "end"
vfio-claim status
cp /var/log/libvirt/qemu/*.log "$OUT/" 2>/dev/null
journalctl -b -u libvirtd --no-pager >"$OUT/libvirtd.log" 2>&1
exit 0
