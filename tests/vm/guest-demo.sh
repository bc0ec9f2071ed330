#!/bin/bash
# Guest side of `make demo`: shows a person what vfio-claim did at boot, the state hand-off from
# the initramfs, and a release from the console.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
say() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
show() { printf '\033[36m# %s\033[0m\n' "$*"; "$@"; }

say "The configuration"
show cat /etc/vfio-claim.d/demo.conf
say "What vfio-claim said on the console during the initramfs (kernel log)"
dmesg | grep 'vfio-claim' || true
say "Every PCI device: IOMMU group, driver, claim state and why"
show vfio-claim list
say "The state handed over from the initramfs to the real root"
show vfio-claim status
show cat /run/vfio-claim/devices/0000:00:02.0
say "Did a host driver ever touch the claimed NIC? (kernel log lines of e1000e for 00:02.0)"
echo "$(dmesg | grep -c 'e1000e 0000:00:02.0') lines; its twin 00:03.0 has $(dmesg | grep -c 'e1000e 0000:00:03.0')"
g=$(basename "$(readlink /sys/bus/pci/devices/0000:00:02.0/iommu_group)")
say "The group node of the claimed NIC, with the configured group and mode"
show ls -l "/dev/vfio/$g"
say "Something went wrong: give the NIC back to its host driver from the console"
show vfio-claim release 0000:00:02.0
show vfio-claim status
show ip -brief link
say "Recovery: booting with vfio_claim=off on the kernel command line claims nothing"
