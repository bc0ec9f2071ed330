#!/usr/bin/env python3
"""Build kernel-shaped fixture trees for vfio-claim tests (see docs/testing.md).

    python3 tests/mkfixture.py [--cmdline STRING] [--no-vfio | --no-vfio-modules] MACHINE DIR
    python3 tests/mkfixture.py [--cmdline STRING] [--no-vfio | --no-vfio-modules] --bench N DIR
    python3 tests/mkfixture.py --describe MACHINE     # print the device table
    python3 tests/mkfixture.py --list                 # print the machine names

A machine is plain data (a list of device dicts, see dev() below) plus a few machine-wide facts
(kernel command line, PS/2 controller, IOMMU on or off).  One writer, write_tree(), turns any
machine into a tree, so adding a machine is a few lines in MACHINES.

Fake kernel modules are tiny ELF objects compiled with gcc whose .modinfo section carries the
module's aliases; `depmod -b DIR 6.1.0-fixture` indexes them.  Compiled objects are cached by the
hash of their source in $MKFIXTURE_CACHE (default: a per-user directory under the system temporary
directory; MKFIXTURE_CACHE=off disables the cache).

Only the Python standard library is used.
"""

import argparse
import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

KVER = "6.1.0-fixture"
BOOT_ID = "5c0a7e3d-1f2b-4c6d-8e9a-0b1c2d3e4f5a"
MARKER = ".mkfixture"          # written at the top of every tree; guards the rm -r of DIR
DEPMOD = "/usr/sbin/depmod"

# The vfio modules: present as files on every machine, loaded unless --no-vfio.
VFIO_MODULES = ("vfio", "vfio_iommu_type1", "vfio_pci_core", "vfio_pci")

# Driver directory name (sys/bus/pci/drivers/NAME) of a module that is a PCI driver, when it is
# not the module's own name.
DRIVER_DIR = {"vfio_pci": "vfio-pci"}

# The module catalog: file under lib/modules/KVER, aliases every copy carries (class-wide ones, as
# the real modules have; device-specific ones are added from the devices bound to the module),
# symbols the module exports, and modules whose symbols it uses (depmod turns that into
# modules.dep).  pci=False marks modules that are not PCI drivers.
MODULES = {
    "e1000e": dict(path="kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko"),
    "igb": dict(path="kernel/drivers/net/ethernet/intel/igb/igb.ko"),
    "ixgbe": dict(path="kernel/drivers/net/ethernet/intel/ixgbe/ixgbe.ko"),
    "ixgbevf": dict(path="kernel/drivers/net/ethernet/intel/ixgbevf/ixgbevf.ko"),
    "nvme": dict(path="kernel/drivers/nvme/host/nvme.ko",
                 aliases=["pci:v*d*sv*sd*bc01sc08i02*"]),
    "ahci": dict(path="kernel/drivers/ata/ahci.ko",
                 aliases=["pci:v*d*sv*sd*bc01sc06i01*"]),
    "xhci_hcd": dict(path="kernel/drivers/usb/host/xhci-hcd.ko",
                     aliases=["pci:v*d*sv*sd*bc0Csc03i30*"]),
    "snd_hda_intel": dict(path="kernel/sound/pci/hda/snd-hda-intel.ko",
                          aliases=["pci:v000010DEd*sv*sd*bc04sc03i00*",
                                   "pci:v00001002d*sv*sd*bc04sc03i00*"]),
    "i915": dict(path="kernel/drivers/gpu/drm/i915/i915.ko"),
    "nouveau": dict(path="kernel/drivers/gpu/drm/nouveau/nouveau.ko",
                    aliases=["pci:v000010DEd*sv*sd*bc03sc*i*", "pci:v000012D2d*sv*sd*bc03sc*i*"]),
    "ast": dict(path="kernel/drivers/gpu/drm/ast/ast.ko"),
    # NVIDIA's own driver (DKMS): it leaves the firmware's framebuffer where it is
    "nvidia": dict(path="updates/dkms/nvidia.ko",
                   aliases=["pci:v000010DEd*sv*sd*bc03sc00i00*",
                            "pci:v000010DEd*sv*sd*bc03sc02i00*"]),
    "i801_smbus": dict(path="kernel/drivers/i2c/busses/i801_smbus.ko"),
    "vfio": dict(path="kernel/drivers/vfio/vfio.ko", pci=False,
                 aliases=["devname:vfio/vfio", "char-major-10-196"],
                 exports=["vfio_register_group_dev", "vfio_unregister_group_dev",
                          "vfio_register_iommu_driver"]),
    "vfio_iommu_type1": dict(path="kernel/drivers/vfio/vfio_iommu_type1.ko", pci=False,
                             needs=["vfio"]),
    "vfio_pci_core": dict(path="kernel/drivers/vfio/pci/vfio-pci-core.ko", pci=False,
                          needs=["vfio"],
                          exports=["vfio_pci_core_register_device", "vfio_pci_core_init_dev"]),
    "vfio_pci": dict(path="kernel/drivers/vfio/pci/vfio-pci.ko",
                     aliases=["vfio_pci:v*d*sv*sd*bc*sc*i*"],
                     needs=["vfio_pci_core", "vfio"]),
    # the cloud machine's: a ConnectX host driver and its VFIO variant driver, an E810 and its
    # VF driver
    "mlx5_core": dict(path="kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko"),
    "mlx5_vfio_pci": dict(path="kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko",
                          aliases=["vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"],
                          needs=["vfio_pci_core", "vfio"]),
    "ice": dict(path="kernel/drivers/net/ethernet/intel/ice/ice.ko"),
    "iavf": dict(path="kernel/drivers/net/ethernet/intel/iavf/iavf.ko",
                 aliases=["pci:v00008086d00001889sv*sd*bc*sc*i*"]),
}


# ----------------------------------------------------------------------------------------------
# Machine descriptions

def addr_full(addr):
    """'1f.6' style addresses are never used; '00:1f.6' gets domain 0000."""
    return addr if addr.count(":") == 2 else "0000:" + addr


def dev(addr, ids, cls, driver=None, parent=None, group=None, sub=None, rev=0, **kw):
    """One PCI function.

    addr    '00:1f.6' or '0000:00:1f.6'
    ids     'VVVV:DDDD'; sub 'SSSS:SSSS' (subsystem ids, default: none, 0000:0000)
    cls     class code, e.g. 0x020000
    driver  module name of the bound host driver, or None
    parent  address of the bridge above it (None: the root bus)
    group   IOMMU group number (None: no group)
    kw      boot_vga (VGA class only, default 0), names (['net/eno1', 'drm/card0']),
            disk (block device description, see DISK_*), sriov (PF: dict(totalvfs, numvfs,
            vf_device, offset, stride)), physfn (VF: address of its PF)
    """
    vendor, device = (int(x, 16) for x in ids.split(":"))
    svendor, sdevice = (int(x, 16) for x in (sub or "0000:0000").split(":"))
    d = dict(addr=addr_full(addr), parent=addr_full(parent) if parent else None,
             vendor=vendor, device=device, svendor=svendor, sdevice=sdevice, cls=cls, rev=rev,
             driver=driver, group=group, names=[], disk=None, sriov=None, physfn=None)
    if "physfn" in kw:
        kw["physfn"] = addr_full(kw["physfn"])
    d.update(kw)
    return d


def nvme_disk(model, serial, parts, ctrl="nvme0", name="nvme0n1", minor=0):
    """An NVMe namespace with partitions; block major 259 (blkext), minors minor, minor+1, ..."""
    return dict(kind="nvme", ctrl=ctrl, name=name, major=259, minor=minor, model=model,
                serial=serial, parts=parts)


def ata_disk(model, serial, parts, name="sda"):
    """A SATA disk on the first port of an AHCI controller; major 8."""
    return dict(kind="ata", name=name, major=8, minor=0, model=model, serial=serial, parts=parts)


def part(n, fstype, uuid, partuuid, label, mount=None, partlabel=None, size=2097152):
    return dict(n=n, fstype=fstype, uuid=uuid, partuuid=partuuid, label=label, mount=mount,
                partlabel=partlabel or label, size=size)


def cmdline_for(root):
    return "BOOT_IMAGE=/boot/vmlinuz-%s root=%s ro quiet" % (KVER, root)


DESKTOP_ROOT_UUID = "3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b"
SAMSUNG_970 = dict(model="Samsung SSD 970 EVO 500GB", serial="S466NX0M123456")


def desktop():
    """Coffee Lake desktop (Z390 board): iGPU boots, GTX 1080 + HDMI audio share a group."""
    b = "1043:8694"  # board subsystem ids
    return dict(
        cmdline=cmdline_for("UUID=" + DESKTOP_ROOT_UUID), i8042=False, iommu=True,
        devices=[
            dev("00:00.0", "8086:3e30", 0x060000, group=0, sub=b, rev=0x0d),
            dev("00:01.0", "8086:1901", 0x060400, group=1, rev=0x0d),
            dev("00:02.0", "8086:3e92", 0x030000, "i915", group=2, sub=b, rev=0x02, boot_vga=1,
                names=["drm/card0", "drm/renderD128"]),
            dev("00:14.0", "8086:a36d", 0x0c0330, "xhci_hcd", group=3, sub=b, rev=0x10),
            dev("00:1c.0", "8086:a338", 0x060400, group=4, rev=0xf0),
            dev("00:1d.0", "8086:a330", 0x060400, group=5, rev=0xf0),
            dev("00:1f.0", "8086:a305", 0x060100, group=6, sub=b, rev=0x10),
            dev("00:1f.3", "8086:a348", 0x040300, "snd_hda_intel", group=6, sub="1043:8724",
                rev=0x10, names=["sound/card0"]),
            dev("00:1f.4", "8086:a323", 0x0c0500, "i801_smbus", group=6, sub=b, rev=0x10),
            dev("00:1f.6", "8086:15bc", 0x020000, "e1000e", group=7, sub="1043:8672", rev=0x10,
                names=["net/eno1"]),
            dev("01:00.0", "10de:1b80", 0x030000, "nouveau", parent="00:01.0", group=1,
                sub="10de:119e", rev=0xa1, boot_vga=0, names=["drm/card1", "drm/renderD129"]),
            dev("01:00.1", "10de:10f0", 0x040300, "snd_hda_intel", parent="00:01.0", group=1,
                sub="10de:119e", rev=0xa1, names=["sound/card1"]),
            dev("02:00.0", "1b21:2142", 0x0c0330, "xhci_hcd", parent="00:1c.0", group=4,
                sub="1043:8756"),
            dev("3d:00.0", "144d:a808", 0x010802, "nvme", parent="00:1d.0", group=5,
                sub="144d:a801", disk=nvme_disk(parts=[
                    part(1, "vfat", "7A3B-1C2D", "5d2e8a14-3c1f-4b8e-a7d2-6f9e0b1c2d3e", "EFI",
                         "/boot/efi", "EFI system partition", size=1048576),
                    part(2, "ext4", DESKTOP_ROOT_UUID, "8c4b2f61-9e3a-4d7c-b5f8-1a2e3d4c5b6a",
                         "rootfs", "/", "root", size=975722496)], **SAMSUNG_970)),
        ])


def server():
    """Xeon server (Lewisburg PCH): two i210, 82599 with 2 VFs, AHCI root disk, ASPEED BMC."""
    b = "15d9:095d"  # Supermicro board
    return dict(
        cmdline=cmdline_for("PARTUUID=0b7e2c4d-58a1-4f36-9d2e-7c1b3a4f5e60"), i8042=True,
        iommu=True,
        devices=[
            dev("00:00.0", "8086:2020", 0x060000, group=0, sub=b, rev=0x04),
            dev("00:01.0", "8086:2030", 0x060400, group=1, rev=0x04),
            dev("00:02.0", "8086:2031", 0x060400, group=3, rev=0x04),
            dev("00:03.0", "8086:2032", 0x060400, group=5, rev=0x04),
            dev("00:14.0", "8086:a1af", 0x0c0330, "xhci_hcd", group=8, sub=b, rev=0x09),
            dev("00:17.0", "8086:a102", 0x010601, "ahci", group=9, sub=b, rev=0x09,
                disk=ata_disk("Samsung SSD 860 EVO 500GB", "S3Z1NB0K123456", parts=[
                    part(1, "vfat", "4E1A-9B2C", "a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8b0c1e", "EFI",
                         "/boot/efi", "EFI system partition", size=1048576),
                    part(2, "ext4", "d9b8c7a6-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
                         "0b7e2c4d-58a1-4f36-9d2e-7c1b3a4f5e60", "rootfs", "/", "root",
                         size=975722496)])),
            dev("00:1c.0", "8086:a190", 0x060400, group=10, rev=0xf9),
            dev("00:1f.0", "8086:a1c3", 0x060100, group=12, sub=b, rev=0x09),
            dev("00:1f.4", "8086:a1a3", 0x0c0500, "i801_smbus", group=12, sub=b, rev=0x09),
            dev("03:00.0", "8086:1533", 0x020000, "igb", parent="00:01.0", group=2, sub=b,
                rev=0x03, names=["net/eno1"]),
            dev("04:00.0", "8086:1533", 0x020000, "igb", parent="00:02.0", group=4, sub=b,
                rev=0x03, names=["net/eno2"]),
            dev("05:00.0", "8086:10fb", 0x020000, "ixgbe", parent="00:03.0", group=6,
                sub="15d9:0611", rev=0x01, names=["net/enp5s0f0"],
                sriov=dict(totalvfs=63, numvfs=2, vf_device=0x10ed, offset=128, stride=2)),
            dev("05:00.1", "8086:10fb", 0x020000, "ixgbe", parent="00:03.0", group=7,
                sub="15d9:0611", rev=0x01, names=["net/enp5s0f1"],
                sriov=dict(totalvfs=63, numvfs=0, vf_device=0x10ed, offset=128, stride=2)),
            dev("05:10.0", "8086:10ed", 0x020000, "ixgbevf", parent="00:03.0", group=13,
                sub="15d9:0611", rev=0x01, physfn="05:00.0", names=["net/enp5s16"]),
            dev("05:10.2", "8086:10ed", 0x020000, "ixgbevf", parent="00:03.0", group=14,
                sub="15d9:0611", rev=0x01, physfn="05:00.0", names=["net/enp5s16f2"]),
            dev("06:00.0", "1a03:1150", 0x060400, parent="00:1c.0", group=11, rev=0x04),
            dev("07:00.0", "1a03:2000", 0x030000, "ast", parent="06:00.0", group=11, sub=b,
                rev=0x41, boot_vga=1, names=["drm/card0"]),
        ])


def chipset():
    """Small office box (Q370): audio shares the chipset group with LPC, SMBus and SPI."""
    b = "17aa:3136"  # Lenovo board
    return dict(
        cmdline=cmdline_for("/dev/nvme0n1p2"), i8042=False, iommu=True,
        devices=[
            dev("00:00.0", "8086:3ec2", 0x060000, group=0, sub=b, rev=0x07),
            dev("00:14.0", "8086:a36d", 0x0c0330, "xhci_hcd", group=1, sub=b, rev=0x10),
            dev("00:1c.0", "8086:a338", 0x060400, group=2, rev=0xf0),
            dev("00:1d.0", "8086:a330", 0x060400, group=4, rev=0xf0),
            dev("00:1f.0", "8086:a306", 0x060100, group=5, sub=b, rev=0x10),
            dev("00:1f.3", "8086:a348", 0x040300, "snd_hda_intel", group=5, sub=b, rev=0x10,
                names=["sound/card0"]),
            dev("00:1f.4", "8086:a323", 0x0c0500, "i801_smbus", group=5, sub=b, rev=0x10),
            dev("00:1f.5", "8086:a324", 0x0c8000, group=5, sub=b, rev=0x10),
            dev("01:00.0", "8086:1539", 0x020000, "igb", parent="00:1c.0", group=3, sub=b,
                rev=0x03, names=["net/enp1s0"]),
            dev("02:00.0", "144d:a808", 0x010802, "nvme", parent="00:1d.0", group=4,
                sub="144d:a801", disk=nvme_disk(parts=[
                    part(1, "vfat", "2C4E-6A8B", "6e1f3a5c-7b9d-4e2f-a4c6-8d0e2f4a6b8c", "EFI",
                         "/boot/efi", "EFI system partition", size=1048576),
                    part(2, "ext4", "5a7c9e1b-3d5f-4a7c-9e1b-3d5f7a9c1e3b",
                         "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "rootfs", "/", "root",
                         size=975722496)], **SAMSUNG_970)),
        ])


def noiommu():
    """Kaby Lake desktop booted without an IOMMU: no iommu_groups at all."""
    b = "1458:5000"  # Gigabyte board
    return dict(
        cmdline=cmdline_for("LABEL=debian-root"), i8042=False, iommu=False,
        devices=[
            dev("00:00.0", "8086:591f", 0x060000, sub=b, rev=0x05),
            dev("00:02.0", "8086:5912", 0x030000, "i915", sub=b, rev=0x04, boot_vga=1,
                names=["drm/card0", "drm/renderD128"]),
            dev("00:14.0", "8086:a2af", 0x0c0330, "xhci_hcd", sub=b),
            dev("00:1d.0", "8086:a298", 0x060400, rev=0xf0),
            dev("00:1f.0", "8086:a2c5", 0x060100, sub=b),
            dev("00:1f.6", "8086:15b8", 0x020000, "e1000e", sub=b, names=["net/eno1"]),
            dev("01:00.0", "15b7:5006", 0x010802, "nvme", parent="00:1d.0", sub="15b7:5006",
                disk=nvme_disk("WDS500G3X0C-00SJG0", "19475A800123", parts=[
                    part(1, "vfat", "1D3F-5B7A", "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", "EFI",
                         "/boot/efi", "EFI system partition", size=1048576),
                    part(2, "ext4", "e4d3c2b1-a0f9-4e8d-b7c6-a5f4e3d2c1b0",
                         "f0e1d2c3-b4a5-4968-8776-655443322110", "debian-root", "/", "root",
                         size=975722496)])),
        ])


HOME_UUID = "6b2d4f81-0a3c-4e5b-8d7f-9e1a2b3c4d5e"
SWAP_UUID = "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f"
LUKS_UUID = "c4a1e2f3-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
LVM_DATA_UUID = "2e4f6a8c-0b1d-4f3e-a5c7-9e1b3d5f7a9c"
RAID_UUID = "8a6c4e2f-1d3b-4a5c-b7e9-0f2d4b6a8c1e"


def desktop_home():
    """The desktop with a second NVMe (04:00.0) that carries /home, swap, a LUKS volume, an LVM
    physical volume (dm-0, vg0-data) and one member of a RAID1 (md0) whose other member is on the
    SATA disk of the AHCI controller (00:17.0).  Only / is on the first NVMe.  No /etc/fstab:
    the tests write the lines they are about."""
    m = desktop()
    m["devices"] += [
        dev("00:17.0", "8086:a352", 0x010601, "ahci", group=8, sub="1043:8694", rev=0x10,
            disk=ata_disk("Samsung SSD 860 EVO 1TB", "S3Z9NB0K654321", parts=[
                part(1, "linux_raid_member", "5d7f9b1c-3e5a-4c7e-9b1d-3f5a7c9e1b3d",
                     "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "raid-a", size=209715200)])),
        dev("00:1b.0", "8086:a340", 0x060400, group=9, rev=0xf0),
        dev("04:00.0", "15b7:5006", 0x010802, "nvme", parent="00:1b.0", group=9,
            sub="15b7:5006", disk=nvme_disk(
                "WDS100T3X0C-00SJG0", "20123A800456", ctrl="nvme1", name="nvme1n1", minor=3,
                parts=[part(1, "ext4", HOME_UUID, "7c1e3a5b-9d2f-4b6e-8a0c-2e4f6a8c0b1d", "home",
                            "/home", "home", size=419430400),
                       part(2, "swap", SWAP_UUID, "3b5d7f9a-1c2e-4d6f-8a0b-4c6e8a0c2e4f", "swap",
                            partlabel="swap", size=33554432),
                       part(3, "crypto_LUKS", LUKS_UUID, "9d1f3b5a-7c9e-4b1d-a3f5-6b8d0f2a4c6e",
                            "luks", partlabel="secret", size=104857600),
                       part(4, "LVM2_member", "Xk3L9m-2Qw8-Ty7U-4Ii5-Op6A-s1Dd-F2gH3j",
                            "5f7a9c1e-3b5d-4f7a-9c1e-8d0f2b4d6f8a", "lvm", partlabel="lvm",
                            size=209715200),
                       part(5, "linux_raid_member", "5d7f9b1c-3e5a-4c7e-9b1d-3f5a7c9e1b3d",
                            "e2c4a6f8-0d1b-4e3c-b5a7-0a2c4e6f8b1d", "raid-b", size=209715200)])),
    ]
    m["stacks"] = [
        dict(kind="dm", name="dm-0", major=253, minor=0, dm_name="vg0-data",
             links=["mapper/vg0-data", "vg0/data"], slaves=["nvme1n1p4"], fstype="ext4",
             uuid=LVM_DATA_UUID, label="data"),
        dict(kind="md", name="md0", major=9, minor=0, links=["md/0"],
             slaves=["nvme1n1p5", "sda1"], fstype="ext4", uuid=RAID_UUID, label="mirror"),
    ]
    return m


def cloud():
    """Cloud host: a ConnectX-6 Dx PF with one VF enabled (the VF has a VFIO variant driver,
    mlx5_vfio_pci, in modules.alias but not loaded), and an E810 PF without VFs whose VF
    driver (iavf) is loaded, so that a new VF would meet it at once."""
    return dict(
        cmdline=cmdline_for("UUID=0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"), i8042=True,
        iommu=True, modules=["mlx5_vfio_pci", "iavf"], loaded=["iavf"],
        devices=[
            dev("00:00.0", "8086:09a2", 0x060000, group=0, rev=0x04),
            dev("00:01.0", "8086:347a", 0x060400, group=1, rev=0x04),
            dev("00:02.0", "8086:347b", 0x060400, group=3, rev=0x04),
            dev("00:14.0", "8086:a1af", 0x0c0330, "xhci_hcd", group=5, rev=0x09),
            dev("17:00.0", "15b3:101d", 0x020000, "mlx5_core", parent="00:01.0", group=2,
                sub="15b3:0016", names=["net/ens1f0np0"],
                sriov=dict(totalvfs=8, numvfs=1, vf_device=0x101e, offset=2, stride=1)),
            dev("17:00.2", "15b3:101e", 0x020000, "mlx5_core", parent="00:01.0", group=10,
                sub="15b3:0016", physfn="17:00.0", names=["net/ens1f0v0"]),
            dev("18:00.0", "8086:1592", 0x020000, "ice", parent="00:02.0", group=4,
                sub="8086:0002", names=["net/ens2f0"],
                sriov=dict(totalvfs=4, numvfs=0, vf_device=0x1889, offset=8, stride=1)),
        ])


def single_gpu():
    """Ryzen desktop with one GPU (single-GPU passthrough): an RTX 3060 on NVIDIA's driver is the
    boot VGA device and carries the console: fbcon (vtcon1) draws on the firmware's EFI
    framebuffer, which that driver leaves bound; its HDMI audio shares its group."""
    b = "1462:7c56"  # MSI board
    return dict(
        cmdline=cmdline_for("UUID=" + DESKTOP_ROOT_UUID), i8042=False, iommu=True,
        console=dict(vtcons=[("(S) dummy device", 0), ("(M) frame buffer device", 1)],
                     fw_fb=("efi-framebuffer", "efi-framebuffer.0")),
        devices=[
            dev("00:00.0", "1022:1480", 0x060000, group=0, sub=b),
            dev("00:01.1", "1022:1483", 0x060400, group=1),
            dev("00:01.2", "1022:1483", 0x060400, group=2),
            dev("00:08.1", "1022:1484", 0x060400, group=3),
            dev("01:00.0", "10de:2504", 0x030000, "nvidia", parent="00:01.1", group=4,
                sub="1462:397d", rev=0xa1, boot_vga=1, names=["drm/card0", "drm/renderD128"]),
            dev("01:00.1", "10de:228e", 0x040300, "snd_hda_intel", parent="00:01.1", group=4,
                sub="1462:397d", rev=0xa1, names=["sound/card1"]),
            dev("02:00.0", "144d:a808", 0x010802, "nvme", parent="00:01.2", group=5,
                sub="144d:a801", disk=nvme_disk(parts=[
                    part(1, "vfat", "7A3B-1C2D", "5d2e8a14-3c1f-4b8e-a7d2-6f9e0b1c2d3e", "EFI",
                         "/boot/efi", "EFI system partition", size=1048576),
                    part(2, "ext4", DESKTOP_ROOT_UUID, "8c4b2f61-9e3a-4d7c-b5f8-1a2e3d4c5b6a",
                         "rootfs", "/", "root", size=975722496)], **SAMSUNG_970)),
            dev("03:00.3", "1022:149c", 0x0c0330, "xhci_hcd", parent="00:08.1", group=6, sub=b),
        ])


MACHINES = {"desktop": desktop, "server": server, "chipset": chipset, "noiommu": noiommu,
            "desktop-home": desktop_home, "cloud": cloud, "single-gpu": single_gpu}


# Bench: endpoint templates, each a list of functions (more than one = multi-function slot).
BENCH_TEMPLATES = [
    [("8086:1533", 0x020000, "igb")],
    [("144d:a808", 0x010802, "nvme")],
    [("1b21:2142", 0x0c0330, "xhci_hcd")],
    [("8086:1533", 0x020000, "igb")],
    [("10de:1b80", 0x030000, "nouveau"), ("10de:10f0", 0x040300, "snd_hda_intel")],
    [("1b21:0612", 0x010601, "ahci")],
    [("144d:a808", 0x010802, "nvme")],
    [("8086:10fb", 0x020000, "ixgbe"), ("8086:10fb", 0x020000, "ixgbe")],
    [("1d0f:8061", 0x118000, None)],   # a signal-processing card nothing drives
]
BENCH_SLOTS_PER_BUS = 32


def bench(n):
    """N endpoints: root ports on each root bus, up to 32 slots on each root port's bus, every
    function in its own IOMMU group; classes cycle through BENCH_TEMPLATES."""
    devices, group = [], 0
    domain, rp_index, bus, slot = 0, 0, 0, BENCH_SLOTS_PER_BUS
    root_port = None
    gpus = nvmes = nics = 0
    t = 0
    left = n
    while left > 0:
        if slot == BENCH_SLOTS_PER_BUS:        # open a new bus behind a new root port
            if rp_index == 31 * 8 or bus == 255:
                domain, rp_index, bus = domain + 1, 0, 0
            if rp_index == 0:
                devices.append(dev("%04x:00:00.0" % domain, "8086:2020", 0x060000, group=group))
                group += 1
            bus += 1
            root_port = "%04x:00:%02x.%x" % (domain, 1 + rp_index // 8, rp_index % 8)
            devices.append(dev(root_port, "8086:2030", 0x060400, group=group))
            group += 1
            rp_index += 1
            slot = 0
        funcs = BENCH_TEMPLATES[t % len(BENCH_TEMPLATES)][:left]
        t += 1
        for fn, (ids, cls, driver) in enumerate(funcs):
            kw = {}
            if cls >> 8 == 0x0300:
                kw = dict(boot_vga=1 if gpus == 0 else 0, names=["drm/card%d" % gpus])
                gpus += 1
            elif cls >> 8 == 0x0200:
                kw = dict(names=["net/eth%d" % nics])
                nics += 1
            elif cls == 0x010802:
                kw = dict(names=["nvme/nvme%d" % nvmes] if nvmes else [])
                if nvmes == 0:   # the first NVMe carries the root file system
                    kw = dict(disk=nvme_disk(parts=[
                        part(1, "vfat", "7A3B-1C2D", "5d2e8a14-3c1f-4b8e-a7d2-6f9e0b1c2d3e",
                             "EFI", "/boot/efi", "EFI system partition", size=1048576),
                        part(2, "ext4", DESKTOP_ROOT_UUID, "8c4b2f61-9e3a-4d7c-b5f8-1a2e3d4c5b6a",
                             "rootfs", "/", "root", size=975722496)], **SAMSUNG_970))
                nvmes += 1
            devices.append(dev("%04x:%02x:%02x.%x" % (domain, bus, slot, fn), ids, cls, driver,
                               parent=root_port, group=group, sub="15d9:0000", **kw))
            group += 1
            left -= 1
        slot += 1
    return dict(cmdline=cmdline_for("UUID=" + DESKTOP_ROOT_UUID), i8042=True, iommu=True,
                lean=True, devices=devices)


# ----------------------------------------------------------------------------------------------
# The writer

class Tree:
    """Small helpers writing files and kernel-style relative links under one root."""

    def __init__(self, root):
        self.root = root

    def path(self, rel):
        return os.path.join(self.root, rel)

    def mkdir(self, rel):
        os.makedirs(self.path(rel), exist_ok=True)

    def file(self, rel, data=""):
        # os.open/os.write: three system calls per file, which matters for --bench trees.
        fd = os.open(self.root + "/" + rel, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                     0o644)
        try:
            os.write(fd, data if isinstance(data, bytes) else data.encode())
        finally:
            os.close(fd)

    def link(self, rel, target):
        """Symlink rel -> target (both relative to the root), written relative like sysfs."""
        os.symlink(os.path.relpath(target, os.path.dirname(rel) or "."), self.path(rel))


def parse_addr(addr):
    dom, bus, rest = addr.split(":")
    slot, fn = rest.split(".")
    return int(dom, 16), int(bus, 16), int(slot, 16), int(fn, 16)


def modalias(d):
    return "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" % (
        d["vendor"], d["device"], d["svendor"], d["sdevice"],
        d["cls"] >> 16, (d["cls"] >> 8) & 0xff, d["cls"] & 0xff)


def is_bridge(d):
    return d["cls"] >> 8 == 0x0604


def config_space(d, multifunction, buses):
    """64 bytes of config space: ids, revision, class, header type, subsystem or bus numbers."""
    c = bytearray(64)
    c[0:2] = d["vendor"].to_bytes(2, "little")
    c[2:4] = d["device"].to_bytes(2, "little")
    c[4:6] = (0x0007 if d["driver"] or is_bridge(d) else 0).to_bytes(2, "little")
    c[8] = d["rev"]
    c[9:12] = d["cls"].to_bytes(3, "little")
    c[0x0e] = (0x01 if is_bridge(d) else 0x00) | (0x80 if multifunction else 0)
    if is_bridge(d):          # type 1 header: primary, secondary, subordinate bus numbers
        c[0x18:0x1b] = bytes(buses)
    else:                     # type 0 header: subsystem ids
        c[0x2c:0x2e] = d["svendor"].to_bytes(2, "little")
        c[0x2e:0x30] = d["sdevice"].to_bytes(2, "little")
        c[0x3d] = 1           # INTA#
    return bytes(c)


def driver_dir(module):
    return DRIVER_DIR.get(module, module)


def module_aliases(machine, vfio_files=True):
    """Aliases per module used by the machine: catalog aliases plus one vendor:device alias for
    each bound device that no catalog alias matches.  The vfio modules are present unless
    vfio_files is false (a kernel built without them)."""
    out = {m: list(MODULES[m].get("aliases", [])) for m in VFIO_MODULES if vfio_files}
    for m in machine.get("modules", []):   # present though no device is bound to it
        out.setdefault(m, list(MODULES[m].get("aliases", [])))
    for d in machine["devices"]:
        m = d["driver"]
        if not m:
            continue
        aliases = out.setdefault(m, list(MODULES[m].get("aliases", [])))
        ma = modalias(d)
        if not any(fnmatch.fnmatchcase(ma, a) for a in aliases):
            aliases.append("pci:v%08Xd%08Xsv*sd*bc*sc*i*" % (d["vendor"], d["device"]))
    return out


def module_source(name, aliases):
    """C source of a fake module: .modinfo strings, exported symbol names in __ksymtab_strings
    (with definitions), and references to the symbols of the modules it needs."""
    spec = MODULES[name]
    info = ["alias=%s" % a for a in aliases]
    info += ["depends=%s" % ",".join(spec.get("needs", [])), "name=%s" % name,
             "vermagic=%s SMP preempt mod_unload modversions " % KVER, "license=GPL",
             "description=vfio-claim fixture stand-in for %s" % name]
    lines = ["/* fake kernel module %s, generated by tests/mkfixture.py */" % name,
             "static const char fk_modinfo[] __attribute__((section(\".modinfo\"), used,"
             " aligned(1))) =",
             "".join('\n\t"%s\\0"' % s for s in info) + ";"]
    exports = spec.get("exports", [])
    if exports:
        lines.append("static const char fk_ksymtab_strings[] __attribute__((section("
                     "\"__ksymtab_strings\"), used, aligned(1))) = \"%s\";" % "\\0".join(exports))
        lines += ["void %s(void) {}" % s for s in exports]
    for need in spec.get("needs", []):
        sym = MODULES[need]["exports"][0]
        lines.append("extern void %s(void);" % sym)
        lines.append("void *const fk_ref_%s __attribute__((used)) = (void *)&%s;" % (sym, sym))
    return "\n".join(lines) + "\n"


def cache_dir():
    env = os.environ.get("MKFIXTURE_CACHE")
    if env == "off":
        return None
    path = env or os.path.join(tempfile.gettempdir(), "vfio-claim-mkfixture-%d" % os.getuid())
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return path


def build_modules(tree, aliases, loaded):
    """Compile every module (in parallel, cached), then depmod the tree."""
    moddir = "lib/modules/%s" % KVER
    cache = cache_dir()
    jobs = []
    with tempfile.TemporaryDirectory(prefix="mkfixture-") as tmp:
        for name in sorted(aliases):
            src = module_source(name, aliases[name])
            dest = tree.path(os.path.join(moddir, MODULES[name]["path"]))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            key = hashlib.sha256(src.encode()).hexdigest()[:24]
            cached = os.path.join(cache, key + ".ko") if cache else None
            if cached and os.path.exists(cached):
                shutil.copyfile(cached, dest)
                continue
            cfile = os.path.join(tmp, name + ".c")
            with open(cfile, "w") as f:
                f.write(src)
            proc = subprocess.Popen(["gcc", "-c", "-O0", "-fno-asynchronous-unwind-tables",
                                     "-o", dest, cfile])
            jobs.append((proc, name, dest, cached))
        for proc, name, dest, cached in jobs:
            if proc.wait() != 0:
                sys.exit("mkfixture: gcc failed for module %s" % name)
            if cached:   # atomic publish: parallel mkfixture runs may share the cache
                tmpcopy = "%s.%d.tmp" % (cached, os.getpid())
                shutil.copyfile(dest, tmpcopy)
                os.replace(tmpcopy, cached)
    order = [MODULES[m]["path"] for m in sorted(aliases)]
    tree.file(moddir + "/modules.order", "".join(p + "\n" for p in order))
    tree.file(moddir + "/modules.builtin", "")
    tree.file(moddir + "/modules.builtin.modinfo", "")
    r = subprocess.run([DEPMOD, "-b", tree.root, KVER], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("mkfixture: depmod failed:\n" + r.stderr)

    # sys/module and proc/modules for the loaded ones.
    users = {m: [u for u in loaded if m in MODULES[u].get("needs", [])] for m in loaded}
    proc_modules = []
    for m in loaded:
        tree.mkdir("sys/module/%s/holders" % m)
        tree.file("sys/module/%s/initstate" % m, "live\n")
        tree.file("sys/module/%s/refcnt" % m, "%d\n" % len(users[m]))
        for u in users[m]:
            tree.link("sys/module/%s/holders/%s" % (m, u), "sys/module/%s" % u)
        if MODULES[m].get("pci", True):
            tree.mkdir("sys/module/%s/drivers" % m)
            tree.link("sys/module/%s/drivers/pci:%s" % (m, driver_dir(m)),
                      "sys/bus/pci/drivers/%s" % driver_dir(m))
        proc_modules.append("%s 16384 %d %s Live 0x0000000000000000\n" % (
            m, len(users[m]), "".join(u + "," for u in users[m]) or "-"))
    tree.file("proc/modules", "".join(proc_modules))


def write_block(tree, devpath, d, disk, dev_nodes):
    """The block device of a storage controller, its partitions, and their /sys and /dev links."""
    addr = d["addr"]
    if disk["kind"] == "nvme":
        tree.mkdir("%s/nvme/%s" % (devpath, disk["ctrl"]))
        tree.file("%s/nvme/%s/model" % (devpath, disk["ctrl"]), disk["model"] + "\n")
        tree.file("%s/nvme/%s/serial" % (devpath, disk["ctrl"]), disk["serial"] + "\n")
        tree.link("sys/class/nvme/%s" % disk["ctrl"], "%s/nvme/%s" % (devpath, disk["ctrl"]))
        base = "%s/nvme/%s/%s" % (devpath, disk["ctrl"], disk["name"])
        bypath = "pci-%s-nvme-1" % addr
        byid = "nvme-%s_%s" % (disk["model"].replace(" ", "_"), disk["serial"])
        psep = "p"
    else:
        tree.mkdir("%s/ata1/host0/target0:0:0/0:0:0:0/block" % devpath)
        tree.file("%s/ata1/host0/target0:0:0/0:0:0:0/model" % devpath, disk["model"] + "\n")
        tree.file("%s/ata1/host0/target0:0:0/0:0:0:0/vendor" % devpath, "ATA     \n")
        base = "%s/ata1/host0/target0:0:0/0:0:0:0/block/%s" % (devpath, disk["name"])
        bypath = "pci-%s-ata-1" % addr
        byid = "ata-%s_%s" % (disk["model"].replace(" ", "_"), disk["serial"])
        psep = ""
    name, major = disk["name"], disk["major"]
    total = sum(p["size"] for p in disk["parts"]) + 2048 + 34

    def blockdev(path, bname, minor, attrs, devtype):
        tree.mkdir(path)
        tree.mkdir(path + "/holders")
        tree.file(path + "/dev", "%d:%d\n" % (major, minor))
        tree.file(path + "/uevent", "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=%s\n" % (
            major, minor, bname, devtype) + attrs.pop("uevent", ""))
        for k, v in attrs.items():
            tree.file("%s/%s" % (path, k), "%s\n" % v)
        tree.link("sys/class/block/%s" % bname, path)
        tree.link("sys/dev/block/%d:%d" % (major, minor), path)
        tree.file("dev/%s" % bname)           # an empty regular file stands for the node
        dev_nodes[bname] = (major, minor)

    blockdev(base, name, disk["minor"], dict(size=total, ro=0, removable=0), "disk")
    tree.mkdir(base + "/slaves")
    tree.link("sys/block/%s" % name, base)
    tree.link("dev/disk/by-path/%s" % bypath, "dev/%s" % name)
    tree.link("dev/disk/by-id/%s" % byid, "dev/%s" % name)
    start = 2048
    for p in disk["parts"]:
        pname = "%s%s%d" % (name, psep, p["n"])
        blockdev("%s/%s" % (base, pname), pname, disk["minor"] + p["n"],
                 dict(partition=p["n"], start=start, size=p["size"], ro=0,
                      uevent="PARTN=%d\nPARTNAME=%s\n" % (p["n"], p["partlabel"])), "partition")
        start += p["size"]
        target = "dev/%s" % pname
        if p["fstype"] not in ("linux_raid_member", "LVM2_member"):
            # udev links by-uuid and by-label only for file systems, swap and crypto (not for
            # RAID or LVM members: ID_FS_USAGE=raid)
            tree.link("dev/disk/by-uuid/%s" % p["uuid"], target)
            tree.link("dev/disk/by-label/%s" % p["label"], target)
        tree.link("dev/disk/by-partuuid/%s" % p["partuuid"], target)
        tree.link("dev/disk/by-partlabel/%s" % p["partlabel"].replace(" ", "\\x20"), target)
        tree.link("dev/disk/by-path/%s-part%d" % (bypath, p["n"]), target)
        tree.link("dev/disk/by-id/%s-part%d" % (byid, p["n"]), target)
        p["node"] = pname


def write_stack(tree, s, dev_nodes):
    """A dm or md device above partitions: sys/devices/virtual/block/NAME with slaves/ links to
    the partitions and holders/ links back, the /dev node and its /dev/disk and /dev links."""
    path = "sys/devices/virtual/block/%s" % s["name"]
    tree.mkdir(path + "/slaves")
    tree.mkdir(path + "/holders")
    tree.file(path + "/dev", "%d:%d\n" % (s["major"], s["minor"]))
    tree.file(path + "/uevent", "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=disk\n" % (
        s["major"], s["minor"], s["name"]))
    if s["kind"] == "dm":
        tree.mkdir(path + "/dm")
        tree.file(path + "/dm/name", s["dm_name"] + "\n")
    else:
        tree.mkdir(path + "/md")
        tree.file(path + "/md/level", "raid1\n")
    for slave in s["slaves"]:
        spath = os.path.relpath(os.path.realpath(tree.path("sys/class/block/" + slave)),
                                tree.root)
        tree.link("%s/slaves/%s" % (path, slave), spath)
        tree.link("%s/holders/%s" % (spath, s["name"]), path)
    tree.link("sys/class/block/%s" % s["name"], path)
    tree.link("sys/block/%s" % s["name"], path)
    tree.link("sys/dev/block/%d:%d" % (s["major"], s["minor"]), path)
    tree.file("dev/%s" % s["name"])
    for link in s["links"]:
        tree.mkdir("dev/" + os.path.dirname(link))
        tree.link("dev/" + link, "dev/%s" % s["name"])
    tree.link("dev/disk/by-uuid/%s" % s["uuid"], "dev/%s" % s["name"])
    tree.link("dev/disk/by-label/%s" % s["label"], "dev/%s" % s["name"])
    dev_nodes[s["name"]] = (s["major"], s["minor"])


def mountinfo(mounts):
    """A realistic /proc/self/mountinfo: root first, then the API file systems."""
    root = [m for m in mounts if m[0] == "/"]
    other = [m for m in mounts if m[0] != "/"]
    lines = []
    if root:
        _, (maj, mnr), fstype, node = root[0]
        lines.append("21 1 %d:%d / / rw,relatime shared:1 - %s /dev/%s rw,errors=remount-ro"
                     % (maj, mnr, fstype, node))
    else:
        lines.append("21 1 0:30 / / rw,relatime shared:1 - overlay overlay rw")
    lines += [
        "22 21 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw",
        "23 21 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
        "24 21 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev "
        "rw,size=8123456k,nr_inodes=2030864,mode=755,inode64",
        "25 24 0:22 / /dev/pts rw,nosuid,noexec,relatime shared:3 - devpts devpts "
        "rw,gid=5,mode=620,ptmxmode=000",
        "26 21 0:23 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs "
        "rw,size=1631264k,mode=755,inode64",
        "27 24 0:24 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,inode64",
    ]
    for i, (mnt, (maj, mnr), fstype, node) in enumerate(other):
        opts = ("rw,fmask=0077,dmask=0077,codepage=437,iocharset=ascii,shortname=mixed,utf8,"
                "errors=remount-ro" if fstype == "vfat" else "rw")
        lines.append("%d 21 %d:%d / %s rw,relatime shared:%d - %s /dev/%s %s"
                     % (40 + i, maj, mnr, mnt, 30 + i, fstype, node, opts))
    return "\n".join(lines) + "\n"


def write_console(t, console):
    """The virtual consoles (sys/class/vtconsole/vtconN: name, bind) and a firmware framebuffer:
    a platform device bound to its driver (fb0 is its framebuffer)."""
    for rel in ("sys/class/vtconsole", "sys/class/graphics"):
        t.mkdir(rel)
    for i, (name, bind) in enumerate(console["vtcons"]):
        v = "sys/devices/virtual/vtconsole/vtcon%d" % i
        t.mkdir(v)
        t.file(v + "/name", name + "\n")
        t.file(v + "/bind", "%d\n" % bind)
        t.file(v + "/uevent")
        t.link("sys/class/vtconsole/vtcon%d" % i, v)
    if console.get("fw_fb"):
        drv, name = console["fw_fb"]
        p = "sys/devices/platform/" + name
        ddir = "sys/bus/platform/drivers/" + drv
        t.mkdir(ddir)
        t.mkdir(p + "/graphics/fb0")
        for f in ("bind", "unbind", "uevent"):
            t.file("%s/%s" % (ddir, f))
        t.file(p + "/uevent", "DRIVER=%s\nMODALIAS=platform:%s\n" % (drv, drv))
        t.file(p + "/driver_override", "(null)\n")
        t.link("sys/bus/platform/devices/" + name, p)
        t.link(p + "/driver", ddir)
        t.link("%s/%s" % (ddir, name), p)
        t.file(p + "/graphics/fb0/name", "EFI VGA\n")
        t.link(p + "/graphics/fb0/device", p)
        t.link("sys/class/graphics/fb0", p + "/graphics/fb0")


def write_kernel612(t):
    """A 6.12-style kernel built with iommufd and the VFIO device cdevs (CONFIG_IOMMUFD,
    CONFIG_VFIO_DEVICE_CDEV, as other distributions and custom builds have; Debian 13's has
    neither): the vfio-dev class (the fake kernel gives each device bound to a vfio driver its
    ADDR/vfio-dev/vfioN and dev/vfio/devices/vfioN), dev/iommu, iommufd built in with its
    allow_unsafe_interrupts parameter, and boot/config-KVER saying so."""
    t.mkdir("sys/class/vfio-dev")
    t.mkdir("dev/vfio/devices")
    t.file("dev/iommu")
    os.chmod(t.path("dev/iommu"), 0o600)
    t.mkdir("sys/class/misc/iommu")
    t.file("sys/class/misc/iommu/dev", "10:123\n")
    t.mkdir("sys/module/iommufd/parameters")
    t.file("sys/module/iommufd/parameters/allow_unsafe_interrupts", "N\n")
    t.mkdir("boot")
    t.file("boot/config-" + KVER, "".join(line + "\n" for line in (
        "CONFIG_VFIO=m", "CONFIG_VFIO_DEVICE_CDEV=y", "CONFIG_VFIO_CONTAINER=y",
        "CONFIG_VFIO_IOMMU_TYPE1=m", "CONFIG_VFIO_PCI_CORE=m", "CONFIG_VFIO_PCI=m",
        "CONFIG_IOMMUFD=y", "CONFIG_IOMMUFD_VFIO_CONTAINER=n", "CONFIG_IRQ_REMAP=y")))


def write_tree(machine, root, cmdline=None, vfio=True, vfio_files=True, kernel612=False):
    """Write MACHINE (a dict from MACHINES or bench()) as a kernel-shaped tree under root.
    vfio: the vfio modules are loaded; vfio_files: their .ko files and modules.dep entries exist;
    kernel612: a 6.12 kernel with iommufd and VFIO device cdevs (write_kernel612())."""
    vfio = vfio and vfio_files
    t = Tree(root)
    devices = machine["devices"]
    by_addr = {d["addr"]: d for d in devices}
    iommu = machine.get("iommu", True)

    for rel in ("sys/bus/pci/devices", "sys/bus/pci/drivers", "sys/bus/platform/devices",
                "sys/devices/platform", "sys/kernel", "sys/module", "sys/class/net", "sys/class/block",
                "sys/class/drm", "sys/class/sound", "sys/class/nvme", "sys/block",
                "sys/dev/block", "sys/dev/char", "proc/self", "proc/sys/kernel",
                "dev/vfio", "dev/dri", "dev/disk/by-uuid", "dev/disk/by-partuuid",
                "dev/disk/by-label",
                "dev/disk/by-partlabel", "dev/disk/by-path", "dev/disk/by-id",
                "etc/vfio-claim.d", "usr/lib/vfio-claim.d", "run", "lib/modules/" + KVER,
                ".fakekernel"):
        t.mkdir(rel)
    if iommu:
        t.mkdir("sys/kernel/iommu_groups")
    if kernel612:
        write_kernel612(t)
    t.file(MARKER, "fixture tree written by tests/mkfixture.py; safe to delete\n")
    t.file("sys/bus/pci/drivers_probe")
    t.file("sys/bus/pci/drivers_autoprobe", "1\n")
    t.file("sys/bus/pci/rescan")
    t.file("proc/sys/kernel/osrelease", KVER + "\n")
    # this boot's id: /run/vfio-claim/summary is valid for the boot that wrote it
    t.mkdir("proc/sys/kernel/random")
    t.file("proc/sys/kernel/random/boot_id", BOOT_ID + "\n")
    t.file("proc/cmdline", (cmdline if cmdline is not None else machine["cmdline"]) + "\n")
    # init's root is this root: the program does not run in a chroot (rootdev_in_chroot())
    t.mkdir("proc/1")
    os.symlink("../..", t.path("proc/1/root"))
    if machine.get("i8042"):
        t.mkdir("sys/devices/platform/i8042/serio0")
        t.file("sys/devices/platform/i8042/uevent", "DRIVER=i8042\nMODALIAS=platform:i8042\n")
        t.link("sys/bus/platform/devices/i8042", "sys/devices/platform/i8042")

    # Loaded modules: host drivers of bound devices (catalog order), plus the vfio set.
    loaded = [m for m in MODULES if any(d["driver"] == m for d in devices)]
    loaded += [m for m in machine.get("loaded", []) if m not in loaded]
    if vfio:
        loaded += [m for m in VFIO_MODULES if m not in loaded]
    for m in loaded:
        if not MODULES[m].get("pci", True):
            continue
        ddir = "sys/bus/pci/drivers/%s" % driver_dir(m)
        t.mkdir(ddir)
        for f in ("bind", "unbind", "new_id", "remove_id", "uevent"):
            t.file("%s/%s" % (ddir, f))
        t.link(ddir + "/module", "sys/module/%s" % m)

    # Device directories, parents first; path of each device in the tree.
    paths = {}

    def devpath(addr):
        if addr not in paths:
            d = by_addr[addr]
            parent = (devpath(d["parent"]) if d["parent"]
                      else "sys/devices/pci%s:00" % addr[:4])
            paths[addr] = "%s/%s" % (parent, addr)
        return paths[addr]

    # Bus numbers below each bridge (for the type 1 config header).
    children = {}
    for d in devices:
        children.setdefault(d["parent"], []).append(d)

    def subtree_buses(addr):
        kids = children.get(addr, [])
        return [parse_addr(k["addr"])[1] for k in kids] + [
            b for k in kids if is_bridge(k) for b in subtree_buses(k["addr"])]

    slots = {}
    for d in devices:
        slots.setdefault(d["addr"][:-2], []).append(d)

    dev_nodes = {}
    groups = set()
    lean = machine.get("lean", False)
    for d in sorted(devices, key=lambda d: d["addr"]):
        addr = d["addr"]
        p = devpath(addr)
        os.makedirs(t.path(p), exist_ok=True)
        if not d["parent"]:
            t.file("%s/uevent" % os.path.dirname(p))
        buses = (0, 0, 0)
        if is_bridge(d):
            below = subtree_buses(addr) or [0]
            buses = (parse_addr(addr)[1], min(below), max(below))
        multifunction = len(slots[addr[:-2]]) > 1
        ma = modalias(d)
        drv = driver_dir(d["driver"]) if d["driver"] else None
        t.file(p + "/vendor", "0x%04x\n" % d["vendor"])
        t.file(p + "/device", "0x%04x\n" % d["device"])
        t.file(p + "/subsystem_vendor", "0x%04x\n" % d["svendor"])
        t.file(p + "/subsystem_device", "0x%04x\n" % d["sdevice"])
        t.file(p + "/class", "0x%06x\n" % d["cls"])
        t.file(p + "/config", config_space(d, multifunction, buses))
        t.file(p + "/modalias", ma + "\n")
        t.file(p + "/driver_override", "(null)\n")
        if not lean:          # decoration nobody reads; --bench trees leave it out
            t.file(p + "/revision", "0x%02x\n" % d["rev"])
            t.file(p + "/enable", "1\n" if drv or is_bridge(d) else "0\n")
            t.file(p + "/numa_node", "-1\n")
            t.file(p + "/irq", "0\n")
            t.link(p + "/subsystem", "sys/bus/pci")
        t.file(p + "/uevent", "%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
               "PCI_SLOT_NAME=%s\nMODALIAS=%s\n" % (
                   "DRIVER=%s\n" % drv if drv else "", d["cls"], d["vendor"], d["device"],
                   d["svendor"], d["sdevice"], addr, ma))
        if d["cls"] >> 8 == 0x0300:
            t.file(p + "/boot_vga", "%d\n" % d.get("boot_vga", 0))
        t.link("sys/bus/pci/devices/" + addr, p)
        if drv:
            t.link(p + "/driver", "sys/bus/pci/drivers/" + drv)
            t.link("sys/bus/pci/drivers/%s/%s" % (drv, addr), p)
        if iommu and d["group"] is not None:
            g = "sys/kernel/iommu_groups/%d" % d["group"]
            if d["group"] not in groups:
                groups.add(d["group"])
                t.mkdir(g + "/devices")
                if not lean:
                    t.file(g + "/type", "DMA\n")
                    t.file(g + "/reserved_regions",
                           "0x00000000fee00000 0x00000000feefffff msi\n")
            t.link(p + "/iommu_group", g)
            t.link("%s/devices/%s" % (g, addr), p)
        if d["sriov"]:
            s = d["sriov"]
            for k in ("totalvfs", "numvfs", "offset", "stride"):
                t.file("%s/sriov_%s" % (p, k), "%d\n" % s[k])
            t.file(p + "/sriov_vf_device", "%x\n" % s["vf_device"])
            t.file(p + "/sriov_drivers_autoprobe", "1\n")
        if d["physfn"]:
            pf = d["physfn"]
            t.link(p + "/physfn", devpath(pf))
            vfs = sorted(v["addr"] for v in devices if v["physfn"] == pf)
            t.link("%s/virtfn%d" % (devpath(pf), vfs.index(addr)), p)
        for name in d["names"]:
            cls, n = name.split("/")
            t.mkdir("%s/%s/%s" % (p, cls, n))
            ue = {"net": "INTERFACE=%s\n" % n, "drm": "DEVNAME=dri/%s\n" % n,
                  "sound": "", "nvme": "DEVNAME=%s\n" % n}[cls]
            t.file("%s/%s/%s/uevent" % (p, cls, n), ue)
            t.link("sys/class/%s/%s" % (cls, n), "%s/%s/%s" % (p, cls, n))
            if cls == "drm":
                t.file("dev/dri/" + n)   # the node a display server holds open
        if d["disk"]:
            write_block(t, p, d, d["disk"], dev_nodes)

    for s in machine.get("stacks", []):
        write_stack(t, s, dev_nodes)

    if machine.get("console"):
        write_console(t, machine["console"])

    # Mount table from the partitions that carry a mount point.
    mounts = [(pt["mount"], dev_nodes[pt["node"]], pt["fstype"], pt["node"])
              for d in devices if d["disk"] for pt in d["disk"]["parts"] if pt["mount"]]
    t.file("proc/self/mountinfo", mountinfo(mounts))

    build_modules(t, module_aliases(machine, vfio_files), loaded)


def prepare_dir(path):
    """Delete and recreate DIR, but never delete a non-empty directory we did not write."""
    if os.path.lexists(path):
        if (os.path.isdir(path) and not os.path.islink(path) and os.listdir(path)
                and not os.path.exists(os.path.join(path, MARKER))):
            sys.exit("mkfixture: %s exists, is not empty and is not a fixture tree; "
                     "refusing to delete it" % path)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    os.makedirs(path)


def describe(machine):
    rows = ["%-13s %-9s %-10s %-8s %-14s %s" % ("address", "ids", "class", "group", "driver",
                                               "extra")]
    for d in sorted(machine["devices"], key=lambda d: d["addr"]):
        extra = list(d["names"])
        if d["cls"] >> 8 == 0x0300:
            extra.append("boot_vga=%d" % d.get("boot_vga", 0))
        if d["disk"]:
            extra.append("/dev/" + d["disk"]["name"])
        if d["sriov"]:
            extra.append("sriov_numvfs=%d" % d["sriov"]["numvfs"])
        if d["physfn"]:
            extra.append("physfn=" + d["physfn"])
        if d["parent"]:
            extra.append("behind " + d["parent"])
        group = d["group"] if machine.get("iommu", True) and d["group"] is not None else "-"
        rows.append("%-13s %04x:%04x 0x%06x   %-8s %-14s %s" % (
            d["addr"], d["vendor"], d["device"], d["cls"], group,
            driver_dir(d["driver"]) if d["driver"] else "-", " ".join(extra)))
    print("\n".join(rows))
    print("cmdline: %s" % machine["cmdline"])
    print("i8042: %s" % ("yes" if machine.get("i8042") else "no"))


def main():
    ap = argparse.ArgumentParser(description="Build a kernel-shaped fixture tree.")
    ap.add_argument("--bench", type=int, metavar="N", help="N endpoints instead of a machine")
    ap.add_argument("--cmdline", metavar="STRING", help="override proc/cmdline")
    ap.add_argument("--no-vfio", action="store_true",
                    help="leave the vfio modules unloaded (no vfio-pci driver directory); "
                    "their .ko files are still there")
    ap.add_argument("--no-vfio-modules", action="store_true",
                    help="no vfio modules at all: not loaded, no .ko files, no modules.dep "
                    "entries (a kernel built without vfio)")
    ap.add_argument("--kernel-6.12", dest="kernel612", action="store_true",
                    help="a 6.12 kernel (6.12.0-fixture) with iommufd (/dev/iommu) and VFIO "
                    "device cdevs: a device bound to vfio gets vfio-dev/vfioN and "
                    "/dev/vfio/devices/vfioN")
    ap.add_argument("--describe", metavar="MACHINE", help="print the device table and exit")
    ap.add_argument("--list", action="store_true", help="print the machine names and exit")
    ap.add_argument("args", nargs="*", metavar="MACHINE DIR | DIR")
    a = ap.parse_args()

    if a.list:
        print("\n".join(MACHINES))
        return
    if a.describe:
        if a.describe not in MACHINES:
            ap.error("unknown machine %r (have: %s)" % (a.describe, ", ".join(MACHINES)))
        describe(MACHINES[a.describe]())
        return
    if a.bench is not None:
        if len(a.args) != 1 or a.bench < 1:
            ap.error("usage: --bench N DIR (N >= 1)")
        machine, root = bench(a.bench), a.args[0]
    else:
        if len(a.args) != 2:
            ap.error("usage: MACHINE DIR")
        if a.args[0] not in MACHINES:
            ap.error("unknown machine %r (have: %s)" % (a.args[0], ", ".join(MACHINES)))
        machine, root = MACHINES[a.args[0]](), a.args[1]
    if a.kernel612:
        global KVER
        KVER = "6.12.0-fixture"
        machine["cmdline"] = machine["cmdline"].replace("6.1.0-fixture", KVER)
    prepare_dir(root)
    write_tree(machine, os.path.abspath(root), cmdline=a.cmdline,
               vfio=not (a.no_vfio or a.no_vfio_modules), vfio_files=not a.no_vfio_modules,
               kernel612=a.kernel612)


if __name__ == "__main__":
    main()
