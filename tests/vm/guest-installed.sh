#!/bin/bash
# Guest side of the boot after the in-guest install: what the initramfs claimed.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
driver_of() {
	local link=/sys/bus/pci/devices/$1/driver
	if [[ -e "$link" ]]; then basename "$(readlink "$link")"; else echo none; fi
}
vfio-claim list
vfio-claim status
for dev in 0000:00:02.0 0000:00:03.0 0000:00:06.0 0000:01:00.0; do
	echo "CHECK driver $dev $(driver_of "$dev")"
done
vfio-claim status | awk '$1 ~ /^0000:/ {print "CHECK status", $1, $2, $3}'
echo "CHECK hostmsgs 0000:00:06.0 $(dmesg | grep -cE 'nvme.* 0000:00:06.0')"
dmesg | grep 'vfio-claim' | sed 's/^/CHECK kmsg /'
# every kernel-log line about a device on vfio-pci but the PCI core's, pcieport's, vfio-pci's and
# vfio-claim's own, with the stage that claimed it: none for one claimed in the initramfs
for dev in /sys/bus/pci/devices/*; do
	dev=${dev##*/}
	[[ $(driver_of "$dev") == vfio-pci ]] || continue
	echo "CHECK probes $dev $(dmesg | grep -F "$dev" | grep -cvE "(pci|pcieport|vfio-pci) $dev: |vfio-claim: ") $(sed -n 's/^stage=//p' "/run/vfio-claim/devices/$dev" 2>/dev/null)"
done
