#!/bin/bash
# Guest side of tests/vm/selftest.sh: runs in a plain guest (no vfio-claim) and
# prints "CHECK ..." lines that the host asserts. Devices (see selftest.sh):
# 00:02.0 and 00:03.0 e1000e, 00:04.0 nvme (data), 00:05.0 qemu-xhci,
# 00:06.0 ich9-intel-hda, 01:00.0 nvme (root, behind root port 00:0f.0).
set -u

readonly NIC=0000:00:03.0
readonly DEVICES=(0000:00:02.0 0000:00:03.0 0000:00:04.0 0000:00:05.0 0000:00:06.0 0000:01:00.0)

driver_of() { # ADDR
	local link=/sys/bus/pci/devices/$1/driver
	if [[ -e "$link" ]]; then basename "$(readlink "$link")"; else echo none; fi
}
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

echo "== mode: ${VFIO_TEST_MODE:-?}, kernel $(uname -r), cmdline: $(cat /proc/cmdline)"
echo "== IOMMU groups"
ls -l /sys/kernel/iommu_groups/*/devices/
echo "== lspci -nnk"
lspci -nnk

for dev in "${DEVICES[@]}"; do
	[[ -e /sys/bus/pci/devices/$dev ]] || { echo "CHECK missing $dev"; continue; }
	echo "CHECK device $dev group $(group_of "$dev") driver $(driver_of "$dev") class $(cat "/sys/bus/pci/devices/$dev/class")"
done
# NVMe names follow probe order: with a data disk the root may be nvme1n1.
root=$(findmnt -n -o SOURCE /)
echo "CHECK root $root $(basename "$(readlink -f "/sys/class/block/${root#/dev/}/device/device" 2>/dev/null || true)")"

# Left by the initramfs scripts of selftest.sh's stand-in package, if installed.
if [[ -e /run/vfio-harness-dummy ]]; then sed 's/^/CHECK dummy /' /run/vfio-harness-dummy; fi
for f in /etc/vfio-claim.d/*; do [[ -e "$f" ]] && echo "CHECK etc-conf ${f##*/}"; done

echo "== bind $NIC to vfio-pci by hand"
modprobe vfio-pci && echo "CHECK modprobe vfio-pci ok"
echo vfio-pci >"/sys/bus/pci/devices/$NIC/driver_override"
if [[ -e /sys/bus/pci/devices/$NIC/driver ]]; then
	echo "$NIC" >"/sys/bus/pci/devices/$NIC/driver/unbind"
fi
echo "$NIC" >/sys/bus/pci/drivers_probe
group=$(group_of "$NIC")
echo "CHECK bound $NIC $(driver_of "$NIC")"
ls -l /dev/vfio/
if [[ -c /dev/vfio/$group ]]; then echo "CHECK devvfio $group present"; else echo "CHECK devvfio $group absent"; fi
lspci -nnk -s "${NIC#0000:}"

if [[ -e /root/test/hotplug ]]; then
	echo "== hot-plug"
	echo "SELFTEST-READY-FOR-HOTPLUG"
	hot=0000:02:00.0
	for ((i = 0; i < 300; i++)); do
		[[ -e /sys/bus/pci/devices/$hot/driver ]] && break
		sleep 0.2
	done
	echo "CHECK hotplug $hot group $(group_of "$hot" 2>/dev/null) driver $(driver_of "$hot")"
	lspci -nnk -s "${hot#0000:}"
fi
exit 0
