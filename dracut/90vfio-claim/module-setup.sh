#!/bin/bash
# vfio-claim: claim the configured PCI devices for vfio-pci before udevd starts (pre-udev hook),
# with the program, its udev rule, its configuration and the vfio modules in the image.
# shellcheck disable=SC2154 # dracut sets $dracutsysrootdir, $hostonly, $initdir and $moddir

# called by dracut
check() {
    require_binaries /usr/sbin/vfio-claim || return 1

    # A generic image always carries the module, so that vfio_claim= on the kernel command line
    # works. A host-only image carries it once this host configures a claim, or on request
    # (add_dracutmodules+=" vfio-claim ").
    [[ $hostonly ]] || return 0
    /usr/sbin/vfio-claim ${dracutsysrootdir:+--root "$dracutsysrootdir"} image-config --needed \
        && return 0
    return 255
}

# called by dracut
depends() {
    echo udev-rules
    return 0
}

# called by dracut
installkernel() {
    # instmods leaves out what this kernel does not have: vfio-pci-core came with 5.16, iommufd
    # with 6.2. The dependencies of vfio-pci (vfio_virqfd before 6.2) come along.
    hostonly='' instmods vfio vfio-pci vfio_iommu_type1 vfio-pci-core iommufd
}

# called by dracut
install() {
    inst_multiple /usr/sbin/vfio-claim
    # libkmod is opened with dlopen() (the binary's .note.dlopen): not a DT_NEEDED library
    inst_libdir_file libkmod.so.2
    inst_rules 70-vfio-claim.rules

    # The configuration, with user and group names turned into numbers (the image has no user
    # database), and the record of the PCI devices that carry / and /usr (before udevd runs,
    # their storage drivers are not bound yet, so "vfio-claim boot" cannot find them from root=
    # and reads the record instead). The program writes both: nothing here reads the
    # configuration.
    if ! /usr/sbin/vfio-claim ${dracutsysrootdir:+--root "$dracutsysrootdir"} \
        image-config "$initdir"; then
        derror "vfio-claim: could not write the configuration into the initramfs"
        return 1
    fi

    inst_hook pre-udev 00 "$moddir/vfio-claim-boot.sh"
}
