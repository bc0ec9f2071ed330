// SPDX-License-Identifier: GPL-2.0-or-later
/* The device model and its pure helpers: addresses, categories, classes, lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

bool pci_addr_valid(const char *s)
{
	/* DDDD:BB:SS.F, the kernel's format for PCI device names */
	static const char pat[] = "hhhh:hh:hh.d";

	if (strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		char c = s[i];
		if (pat[i] == 'h' && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		if (pat[i] == 'd' && !(c >= '0' && c <= '7'))
			return false;
		if ((pat[i] == ':' || pat[i] == '.') && c != pat[i])
			return false;
	}
	return true;
}

int pci_dev_set_addr(struct pci_dev *d, const char *addr)
{
	unsigned long dom, bus, slot, fn;

	if (!pci_addr_valid(addr))
		return -EINVAL;
	memcpy(d->addr, addr, 13); /* 12 characters and the NUL */
	/* the fields at their places, without sscanf(): this runs for every device of a scan */
	parse_hex(addr, 4, 0xffff, &dom);
	parse_hex(addr + 5, 2, 0xff, &bus);
	parse_hex(addr + 8, 2, 0xff, &slot);
	parse_hex(addr + 11, 1, 7, &fn);
	d->domain = (unsigned)dom;
	d->bus = (unsigned)bus;
	d->slot = (unsigned)slot;
	d->func = (unsigned)fn;
	return 0;
}

bool pci_is_bridge(const struct pci_dev *d)
{
	return (d->class >> 16) == 0x06;
}

bool pci_on_vfio(const struct pci_dev *d)
{
	return d->driver && (streq(d->driver, "vfio-pci") || d->vfio_variant);
}

bool pci_is_usb(const struct pci_dev *d)
{
	return (d->class >> 8) == 0x0c03;
}

void pci_modalias(const struct pci_dev *d, char *buf, size_t size)
{
	snprintf(buf, size, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", d->vendor, d->device,
		 d->subvendor, d->subdevice, (unsigned)(d->class >> 16) & 0xff,
		 (unsigned)(d->class >> 8) & 0xff, (unsigned)d->class & 0xff);
}

bool pci_same_slot(const struct pci_dev *a, const struct pci_dev *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

unsigned pci_categories(uint32_t class)
{
	unsigned base = class >> 16, sub = (class >> 8) & 0xff, cats = 0;

	if (base == 0x03)
		cats |= CAT_GPU;
	if (base == 0x02)
		cats |= CAT_NET;
	if (base == 0x0c && sub == 0x03)
		cats |= CAT_USB;
	if (base == 0x01)
		cats |= CAT_STORAGE;
	if (base == 0x01 && sub == 0x08)
		cats |= CAT_NVME;
	if (base == 0x04 && (sub == 0x01 || sub == 0x03))
		cats |= CAT_AUDIO;
	return cats;
}

const char *pci_category_name(const struct pci_dev *d)
{
	unsigned c = pci_categories(d->class);

	if (c & CAT_NVME)
		return "nvme";
	if (c & CAT_STORAGE)
		return "storage";
	if (c & CAT_GPU)
		return "gpu";
	if (c & CAT_NET)
		return "net";
	if (c & CAT_USB)
		return "usb";
	if (c & CAT_AUDIO)
		return "audio";
	if (pci_is_bridge(d))
		return "bridge";
	return "other";
}

int pci_find(const struct pci_list *list, const char *addr)
{
	size_t lo = 0, hi = list->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(list->v[mid].addr, addr);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct pci_dev *)a)->addr, ((const struct pci_dev *)b)->addr);
}

void pci_list_finish(struct pci_list *list)
{
	qsort(list->v, list->n, sizeof(*list->v), cmp_dev);
	list->have_iommu = false;
	/* the upstream device is the previous PCI component of the device path */
	for (size_t i = 0; i < list->n; i++) {
		struct pci_dev *d = &list->v[i];
		const char *end = d->devpath ? strstr(d->devpath, d->addr) : NULL;

		if (d->iommu_group >= 0)
			list->have_iommu = true;
		d->parent = -1;
		if (d->pcipath && strchr(d->pcipath, '/') && end && end - d->devpath >= 13) {
			char up[16];
			memcpy(up, end - 13, 12);
			up[12] = '\0';
			d->parent = pci_find(list, up);
		}
	}
}

void pci_list_free(struct pci_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->v[i].driver);
		free(list->v[i].devpath);
		free(list->v[i].pcipath);
		free(list->v[i].variant);
	}
	free(list->v);
	memset(list, 0, sizeof(*list));
}
