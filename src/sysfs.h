/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "util.h"

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
	int iommu_group; /* -1: none */
	char *driver;	 /* bound driver or NULL */
	char *devpath;	 /* "/devices/pci0000:00/0000:00:1c.0/0000:02:00.0" */
	char *pcipath;	 /* "0000:00:1c.0/00.0", survives bus renumbering */
	int parent;	 /* index of the upstream PCI device, -1 on a root bus */
	int boot_vga;	 /* -1 when the attribute is absent */
};

struct pci_list {
	struct pci_dev *v;
	size_t n;
	bool have_iommu; /* the kernel exposes IOMMU groups */
	bool have_i8042; /* a PS/2 keyboard controller exists */
};

int pci_scan(struct pci_list *list);
void pci_list_free(struct pci_list *list);
int pci_find(const struct pci_list *list, const char *addr);
bool pci_is_bridge(const struct pci_dev *d);
unsigned pci_categories(uint32_t class);
const char *pci_category_name(const struct pci_dev *d);
int pci_refresh_driver(struct pci_dev *d);
/* Read on demand, since few devices need it: VFs enabled on a PF (-1: not a PF). */
int pci_sriov_numvfs(const struct pci_dev *d);

/* Lazily read attributes: 0 or negative errno, *out allocated. */
int pci_read_attr(const struct pci_dev *d, const char *attr, char **out);
char *pci_sys_path(const struct pci_dev *d, const char *attr);
/* Names a person knows the device by: "eth0 nvme0n1 card0", or NULL. */
char *pci_known_names(const struct pci_dev *d);
bool pci_addr_valid(const char *s);
int kernel_release(char **out);
