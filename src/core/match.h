/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "device.h"

enum sel_kind { SEL_ADDR, SEL_IDS, SEL_CATEGORY, SEL_CLASS, SEL_PATH, SEL_VFS_OF };

struct selector {
	enum sel_kind kind;
	char *text; /* as written, for messages */
	union {
		struct {
			unsigned domain, bus, slot;
			int func; /* -1: any function */
		} addr;
		struct {
			int32_t vendor, device, subvendor, subdevice; /* -1: any */
		} ids;
		unsigned category;
		struct {
			uint32_t value, mask;
		} class;
		char *path;
		char pf[16]; /* vfs-of=: the physical function's address */
	} u;
};

/* 0, or -EINVAL with *why set to a static explanation. */
int selector_parse(const char *text, struct selector *sel, const char **why);
void selector_free(struct selector *sel);
bool selector_match(const struct selector *sel, const struct pci_dev *d);
/* The udev match of the VFs whose PF has sriov_drivers_autoprobe off. */
#define UDEV_MATCH_AUTOPROBE_OFF "ATTR{physfn/sriov_drivers_autoprobe}==\"0\""
/* A udev rule match for devices this selector can select (a superset is fine). */
char *selector_udev_match(const struct selector *sel);
