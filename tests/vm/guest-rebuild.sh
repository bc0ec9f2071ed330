#!/bin/bash
# Guest side of the boot tests' rebuild: the image was built in a chroot without its root disk
# (no root-device record); rebuilding it on the running system, as the boot log says to, records
# the root device, so that the next boot claims the data NVMe before nvme can probe it.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
if dpkg-query -W -f='${Status}' dracut 2>/dev/null | grep -q 'ok installed'; then
	gen="dracut -f"
	dracut -f >/root/out/rebuild.log 2>&1
else
	gen="update-initramfs -u"
	update-initramfs -u >/root/out/rebuild.log 2>&1
fi
echo "CHECK rebuilt $gen rc=$?"
tail -5 /root/out/rebuild.log
echo "CHECK root-devices $(vfio-claim root-devices | tr '\n' ' ')"
sync
