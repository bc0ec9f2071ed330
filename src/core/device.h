/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "util.h"

/*
 * The device model: a PCI function as the decisions see it. Filled in by the sysfs reader
 * (sysfs.c) or, in the unit tests, by hand; nothing here reads the machine.
 */

/* Categories from the class code (SPEC §4); a device can be in several (nvme is also storage). */
enum {
	CAT_GPU = 1 << 0,
	CAT_NET = 1 << 1,
	CAT_USB = 1 << 2,
	CAT_STORAGE = 1 << 3,
	CAT_NVME = 1 << 4,
	CAT_AUDIO = 1 << 5,
};

struct pci_dev {
	char addr[16]; /* "0000:01:00.0" */
	unsigned domain, bus, slot, func;
	uint16_t vendor, device, subvendor, subdevice;
	uint32_t class;
	uint8_t header_type;
	int iommu_group;   /* -1: none */
	char *driver;	   /* bound driver or NULL */
	char *devpath;	   /* "/devices/pci0000:00/0000:00:1c.0/0000:02:00.0" */
	char *pcipath;	   /* "0000:00:1c.0/00.0", survives bus renumbering */
	int parent;	   /* index of the upstream PCI device, -1 on a root bus */
	int boot_vga;	   /* -1 when the attribute is absent */
	int sriov_numvfs;  /* VFs enabled on an SR-IOV physical function; -1: not a PF */
	bool vfio_variant; /* driver is a VFIO variant driver built on vfio-pci-core */
	/* SR-IOV (sysfs.c): a VF's physical function, and a PF's VF layout (0 when not a PF) */
	char physfn[16];		/* a VF's PF address, "" when not a VF */
	int sriov_totalvfs;		/* VFs the PF can enable */
	int sriov_offset, sriov_stride; /* routing id of VF n: PF's + offset + n * stride */
	uint16_t sriov_vf_device;	/* device id of its VFs */
	/* VFIO variant drivers (variant.c), looked up for the devices a claim may take */
	char *variant;	   /* module whose vfio_pci: alias matches best, NULL: plain vfio-pci */
	bool variant_done; /* looked up */
};

struct pci_list {
	struct pci_dev *v; /* sorted by address */
	size_t n;
	bool have_iommu; /* the kernel exposes IOMMU groups */
	bool have_i8042; /* a PS/2 keyboard controller exists */
};

/* Fills the address fields from "DDDD:BB:SS.F"; -EINVAL if it is not one. */
int pci_dev_set_addr(struct pci_dev *d, const char *addr);
void pci_list_free(struct pci_list *list);
/* Index of the device with this address in a sorted list, or -1. */
int pci_find(const struct pci_list *list, const char *addr);
/* Sorts by address and links each device to its upstream device through its devpath. */
void pci_list_finish(struct pci_list *list);
bool pci_is_bridge(const struct pci_dev *d);
bool pci_is_usb(const struct pci_dev *d);
/* Bound to vfio-pci or to a VFIO variant driver (mlx5_vfio_pci...): claimed, to every command. */
bool pci_on_vfio(const struct pci_dev *d);
unsigned pci_categories(uint32_t class);
const char *pci_category_name(const struct pci_dev *d);
bool pci_addr_valid(const char *s);
bool pci_same_slot(const struct pci_dev *a, const struct pci_dev *b);
/*
 * The device's modalias as the kernel prints it (pci-sysfs.c modalias_show()), from the ids and
 * class already read: "pci:v000010DEd00001B80sv00001043sd00008591bc03sc00i00". size >= 56.
 */
void pci_modalias(const struct pci_dev *d, char *buf, size_t size);
