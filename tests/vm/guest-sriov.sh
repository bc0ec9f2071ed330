#!/bin/bash
# Guest side of tests/vm/sriov-test.sh: prints "CHECK ..." facts that the host asserts.
# Devices: an SR-IOV NVMe (sriov_max_vfs=2) at 0000:02:00.0 behind root port rp1, no VFs yet.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
PF=0000:02:00.0
VF1=0000:02:00.1
VF2=0000:02:00.2

driver_of() {
	local link=/sys/bus/pci/devices/$1/driver
	if [[ -e "$link" ]]; then basename "$(readlink "$link")"; else echo none; fi
}

echo "== vfio-claim list"
vfio-claim list
echo "CHECK pf $(driver_of $PF) totalvfs $(cat /sys/bus/pci/devices/$PF/sriov_totalvfs 2>&1)"
echo "CHECK autoprobe $(cat /sys/bus/pci/devices/$PF/sriov_drivers_autoprobe 2>&1)"
echo "CHECK record $(cat /run/vfio-claim/sriov-autoprobe-$PF 2>&1 | grep -c '^sriov_drivers_autoprobe=1$')"

echo "== echo 2 > sriov_numvfs"
rc=0
if ! echo 2 >/sys/bus/pci/devices/$PF/sriov_numvfs; then rc=1; fi
echo "CHECK numvfs $rc $(cat /sys/bus/pci/devices/$PF/sriov_numvfs)"
udevadm settle -t 60
sleep 3 # the unselected VF's nvme probe runs asynchronously
echo "CHECK driver $VF1 $(driver_of $VF1)"
echo "CHECK group $VF1 $(basename "$(readlink /sys/bus/pci/devices/$VF1/iommu_group)")"
echo "CHECK nvmemsgs $VF1 $(dmesg | grep -c "nvme $VF1")"
# the unselected VF met its host driver (nvme may give up on an offline secondary controller)
echo "CHECK nvmemsgs-unselected $VF2 $(dmesg | grep -c "nvme $VF2")"
echo "CHECK override $VF2 $(cat /sys/bus/pci/devices/$VF2/driver_override)"
vfio-claim status | awk -v a=$VF1 '$1 == a {print "CHECK status", $1, $2, $3}'
echo "== dmesg since the VFs"
dmesg | grep -E "nvme|vfio|pci 0000:02" | sed 's/^/    /'

echo "== release $VF1"
vfio-claim release $VF1 2>&1 | sed 's/^/    /'
echo "CHECK autoprobe-after-release $(cat /sys/bus/pci/devices/$PF/sriov_drivers_autoprobe)"
exit 0
