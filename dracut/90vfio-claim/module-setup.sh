#!/bin/bash
# vfio-claim: claim the configured PCI devices for vfio-pci before udevd starts (pre-udev hook),
# with the program, its udev rule, its configuration and the vfio modules in the image.
# shellcheck disable=SC2154 # dracut sets $dracutsysrootdir, $hostonly, $initdir and $moddir

# Whether any configuration file has a claim directive.
vfio_claim_configured() {
    local _f
    for _f in "$dracutsysrootdir"/usr/lib/vfio-claim.d/*.conf \
        "$dracutsysrootdir"/etc/vfio-claim.d/*.conf; do
        [[ -f $_f ]] || continue
        grep -qE '^[[:space:]]*claim([[:space:]]|$)' "$_f" && return 0
    done
    return 1
}

# called by dracut
check() {
    require_binaries /usr/sbin/vfio-claim || return 1

    # A generic image always carries the module, so that vfio_claim= on the kernel command line
    # works. A host-only image carries it once this host configures a claim, or on request
    # (add_dracutmodules+=" vfio-claim ").
    [[ $hostonly ]] || return 0
    vfio_claim_configured && return 0
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
    inst_rules 70-vfio-claim.rules

    # The configuration, with user and group names turned into numbers: the image has no user
    # database.
    /usr/lib/vfio-claim/copy-config "$initdir" "$dracutsysrootdir" \
        || derror "vfio-claim: could not copy the configuration into the initramfs"

    # The PCI devices that carry / and /usr. Before udevd runs, their storage drivers are not
    # bound yet, so "vfio-claim boot" cannot find them from root= and reads this record instead.
    mkdir -p "$initdir/etc/vfio-claim"
    if ! {
        echo "# The PCI devices that carried / and /usr when this initramfs was built"
        /usr/sbin/vfio-claim ${dracutsysrootdir:+--root "$dracutsysrootdir"} root-devices
    } > "$initdir/etc/vfio-claim/root-devices"; then
        rm -f "$initdir/etc/vfio-claim/root-devices"
        dwarn "vfio-claim: could not record the devices that carry / and /usr;" \
            "the initramfs cannot protect them from claims"
    fi

    inst_hook pre-udev 00 "$moddir/vfio-claim-boot.sh"
}
