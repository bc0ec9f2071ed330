#!/bin/bash
# Guest side of tests/vm/boot-tests.sh: prints "CHECK ..." facts that the host asserts.
# Devices: 00:02.0 and 00:03.0 e1000e (twins), 00:04.0 qemu-xhci, 00:05.0 ich9-intel-hda,
# 00:06.0 a data NVMe, 01:00.0 the root NVMe (behind root port 00:0f.0); hot-plug root ports
# rp1 (00:10.0), rp2.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

driver_of() {
	local link=/sys/bus/pci/devices/$1/driver
	if [[ -e "$link" ]]; then basename "$(readlink "$link")"; else echo none; fi
}
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
wait_driver() { # ADDR: until a driver is bound, at most 60 s
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -e /sys/bus/pci/devices/$1/driver ]] && return 0
		sleep 0.2
	done
}

mode=$(cat /root/test/mode 2>/dev/null || echo claim)
echo "== cmdline: $(cat /proc/cmdline)"
echo "== vfio-claim list"
vfio-claim list
echo "== vfio-claim status"
vfio-claim status
for dev in 0000:00:02.0 0000:00:03.0 0000:00:04.0 0000:00:05.0 0000:00:06.0 0000:01:00.0; do
	echo "CHECK driver $dev $(driver_of "$dev")"
done
echo "CHECK root $(findmnt -n -o SOURCE /)"
vfio-claim check | sed -n 's/^\(claim\|keep\|refuse\) *\(0000:[^ ]*\) .*/CHECK plan \2 \1/p'
vfio-claim check | grep '0000:01:00.0' | sed 's/^/CHECK rootplan /'
vfio-claim status | awk '$1 ~ /^0000:/ {print "CHECK status", $1, $2, $3, $6}'
vfio-claim status | awk '$1 ~ /^0000:/ {dev = $1} /note: storage controller claimed late/ {
	sub(/.*; run /, "run "); sub(/ on this system.*/, ""); print "CHECK late-note", dev, $0}'
[[ -s /run/vfio-claim/config-errors ]] && sed 's/^/CHECK config-error /' /run/vfio-claim/config-errors
# what the host drivers said about each device since boot: nothing, for claimed devices
for dev in 0000:00:02.0 0000:00:04.0 0000:00:03.0; do
	echo "CHECK hostmsgs $dev $(dmesg | grep -cE "(e1000e|xhci_hcd|xhci_pci) $dev")"
done
# every kernel-log line about a device now on vfio-pci but the PCI core's, pcieport's, vfio-pci's
# and vfio-claim's own (a host driver's "e1000e ADDR: ...", "nvme nvme0: pci function ADDR"), with
# the stage that claimed it: none for one claimed in the initramfs
for dev in /sys/bus/pci/devices/*; do
	dev=${dev##*/}
	[[ $(driver_of "$dev") == vfio-pci ]] || continue
	probes=$(dmesg | grep -F "$dev" | grep -vE "(pci|pcieport|vfio-pci) $dev: |vfio-claim: ")
	echo "CHECK probes $dev $(grep -c . <<<"$probes") $(sed -n 's/^stage=//p' "/run/vfio-claim/devices/$dev" 2>/dev/null)"
	[[ -z "$probes" ]] || awk '{ print "    probe: " $0 }' <<<"$probes"
done
# systemd in the initrd (dracut 106 and 059): the monotonic time at which dracut-pre-udev.service (our
# hook) was done and systemd-udev-trigger.service began, by the messages' IDs (job done, unit
# starting), and of the early claims' kernel messages
jtime() { journalctl -q -b -o short-monotonic --no-pager "$@" 2>/dev/null | sed -n '1s/^\[ *\([0-9.]*\)\].*/\1/p'; }
t=$(jtime UNIT=dracut-pre-udev.service MESSAGE_ID=39f53479d3a045ac8e11786248231fbf JOB_TYPE=start)
[[ -z "$t" ]] || echo "CHECK journal pre-udev-finished $t"
t=$(jtime UNIT=systemd-udev-trigger.service MESSAGE_ID=7d4958e842da4a758f6c1cdc7b36dcc5)
[[ -z "$t" ]] || echo "CHECK journal udev-trigger-started $t"
# the kernel's time of the early claims' messages (journald's own time for them is when it read them)
t=$(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] vfio-claim: 0000:00:0[24]\.0: claimed for vfio-pci.*/\1/p' | tail -n 1)
[[ -z "$t" ]] || echo "CHECK journal last-early-claim $t"
journalctl -q -b -o short-monotonic --no-pager 2>/dev/null |
	grep -E 'dracut-pre-udev|udev-trigger|Coldplug|vfio-claim|switch.root|Switching root' | head -n 40 | sed 's/^/    journal: /'
dmesg | grep -E 'vfio-claim' | sed 's/^/CHECK kmsg /'

if [[ $mode == off ]]; then
	exit 0
fi

g=$(group_of 0000:00:02.0)
echo "CHECK devvfio $(stat -c '%G %a' "/dev/vfio/$g" 2>&1)"
ls -ln /dev/vfio/

echo "== doctor, export, completion"
vfio-claim doctor | sed 's/^/CHECK doctor /'
vfio-claim export libvirt >/root/out/hostdevs.xml
echo "CHECK export-libvirt $(grep -c '<hostdev ' /root/out/hostdevs.xml)"
# the installed completion, with bash-completion's own functions (the host's copy: the guest is
# a minimal system without the package)
if [[ -r /root/test/bash_completion ]]; then
	# shellcheck disable=SC2016
	echo "CHECK completion rel $(bash -c 'source /root/test/bash_completion
		source /usr/share/bash-completion/completions/vfio-claim
		COMP_WORDS=(vfio-claim rel) COMP_CWORD=1 COMP_LINE="vfio-claim rel" COMP_POINT=14
		_vfio_claim
		echo "${COMPREPLY[*]}"' 2>&1)"
fi

echo "== hot-plug"
echo "VFIO-TEST-READY-FOR-HOTPLUG"
wait_driver 0000:02:00.0
wait_driver 0000:03:00.0
sleep 2 # let udev finish with both before reading the result
echo "CHECK hotplug 0000:02:00.0 $(driver_of 0000:02:00.0)"
echo "CHECK hotplug 0000:03:00.0 $(driver_of 0000:03:00.0)"
vfio-claim status | awk '$1 == "0000:02:00.0" {print "CHECK hotstatus", $1, $2, $3}'

echo "== release 0000:00:02.0"
vfio-claim release 0000:00:02.0 2>&1 | sed 's/^/CHECK release /'
echo "CHECK driver-after-release 0000:00:02.0 $(driver_of 0000:00:02.0)"
vfio-claim status | awk '$1 == "0000:00:02.0" {print "CHECK status-after-release", $1, $3}'
exit 0
