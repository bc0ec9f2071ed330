#!/bin/bash
# Guest side of tests/vm/soak.sh: wherever this boot put them, every e1000e NIC (8086:10d3) and
# USB controller (class 0x0c03) is on vfio-pci and no other driver wrote about it in the kernel
# log; the e1000 NIC and the audio device kept their host drivers; every state file parses.
# Prints "CHECK ..." facts that the host asserts.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

driver_of() {
	local link=/sys/bus/pci/devices/$1/driver
	if [[ -e "$link" ]]; then basename "$(readlink "$link")"; else echo none; fi
}
# kernel-log lines about ADDR but the PCI core's, pcieport's, vfio-pci's and vfio-claim's own: a
# host driver's ("e1000e ADDR: ...", "xhci_hcd ADDR: ...", "nvme nvme0: pci function ADDR")
probes() {
	dmesg | grep -F "$1" | grep -vE "(pci|pcieport|vfio-pci) $1: |vfio-claim: "
}

echo "== lspci -tv"
lspci -tv 2>&1
kmsg=$(dmesg)
for d in /sys/bus/pci/devices/*; do
	a=${d##*/}
	ids="$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")"
	class=$(cat "$d/class")
	if [[ $ids == 8086:10d3 || $class == 0x0c03* ]]; then
		p=$(probes "$a")
		echo "CHECK claim $a $ids $(driver_of "$a") $(grep -c . <<<"$p")"
		[[ -z "$p" ]] || awk '{ print "    probe: " $0 }' <<<"$p"
	elif [[ $ids == 8086:293e || $ids == 8086:100e ]]; then
		echo "CHECK keep $a $ids $(driver_of "$a")"
	elif [[ $class == 0x010802 ]]; then
		echo "CHECK nvme $a $(driver_of "$a")"
	fi
done

# the state files: key=value lines, the keys every entry has, its own address, and a claimed
# device's driver and IDs as sysfs has them
bad=0
n=0
for f in /run/vfio-claim/devices/*; do
	[[ -f "$f" ]] || continue
	n=$((n + 1))
	a=${f##*/}
	why=
	if grep -qvE '^[a-z_]+=[^[:cntrl:]]*$' "$f"; then
		why="a line that is not key=value"
	else
		for k in address ids class category iommu_group stage state time rule; do
			grep -q "^$k=" "$f" || why="${why}no $k; "
		done
		[[ "$(sed -n 's/^address=//p' "$f")" == "$a" ]] || why="${why}address is not $a; "
		if [[ "$(sed -n 's/^state=//p' "$f")" == claimed ]]; then
			[[ "$(driver_of "$a")" == vfio-pci ]] || why="${why}claimed but on $(driver_of "$a"); "
			ids="$(sed 's/^0x//' "/sys/bus/pci/devices/$a/vendor"):$(sed 's/^0x//' "/sys/bus/pci/devices/$a/device")"
			grep -q "^ids=$ids" "$f" || why="${why}ids are not $ids; "
		fi
	fi
	if [[ -n "$why" ]]; then
		bad=$((bad + 1))
		echo "CHECK state-bad $a $why"
		sed 's/^/    /' "$f"
	fi
	echo "CHECK state $a $(sed -n 's/^stage=//p' "$f") $(sed -n 's/^state=//p' "$f")"
done
echo "CHECK state-files $n bad $bad"

# systemd in the initrd (dracut 106 and 059): our pre-udev hook done before systemd-udev-trigger began
jtime() { journalctl -q -b -o short-monotonic --no-pager "$@" 2>/dev/null | sed -n '1s/^\[ *\([0-9.]*\)\].*/\1/p'; }
t=$(jtime UNIT=dracut-pre-udev.service MESSAGE_ID=39f53479d3a045ac8e11786248231fbf JOB_TYPE=start)
[[ -z "$t" ]] || echo "CHECK journal pre-udev-finished $t"
t=$(jtime UNIT=systemd-udev-trigger.service MESSAGE_ID=7d4958e842da4a758f6c1cdc7b36dcc5)
[[ -z "$t" ]] || echo "CHECK journal udev-trigger-started $t"
grep 'vfio-claim' <<<"$kmsg" | sed 's/^/    /'
exit 0
