#!/bin/bash
# Guest side of the second `make demo` boot, with vfio_claim=off on the kernel command line.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "# cat /proc/cmdline"
cat /proc/cmdline
echo "# vfio-claim status"
vfio-claim status
for d in 0000:00:02.0 0000:00:04.0; do
	echo "$d: driver $(basename "$(readlink "/sys/bus/pci/devices/$d/driver")")"
done
