#!/bin/bash
# Guest side of the in-guest install test: install the package on the running system, as a user
# would; its update-initramfs trigger builds the initramfs here, recording the root device.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
dpkg -i /root/test/vfio-claim_*.deb 2>&1 | tail -5
echo "CHECK installed $(dpkg-query -W -f='${Status}' vfio-claim)"
echo "CHECK root-devices $(vfio-claim root-devices | tr '\n' ' ')"
lsinitramfs "/boot/initrd.img-$(uname -r)" | grep -E 'vfio-claim|init-top' | sed 's/^/CHECK initramfs-file /'
sync
