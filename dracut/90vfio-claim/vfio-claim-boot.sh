#!/bin/sh
# vfio-claim: hand the configured PCI devices to vfio-pci before udevd starts and loads their host
# drivers. A pre-udev hook, sourced by dracut's init (so no exit here). The program reads
# /proc/cmdline itself: vfio_claim=, vfio_claim.exclude=, and vfio_claim=off, which disables every
# claim for this boot.

if [ -x /usr/sbin/vfio-claim ]; then
    /usr/sbin/vfio-claim boot \
        || warn "vfio-claim: 'vfio-claim boot' exited with status $?, see the kernel log"
fi
