/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

/*
 * Human names of PCI vendors and devices, as lspci prints them ("Intel Corporation",
 * "82574L Gigabit Network Connection"). On the running system they come from the udev hwdb
 * (or, without one, from pci.ids); under --root from the root's pci.ids
 * (DIR/usr/share/misc/pci.ids, else DIR/usr/share/hwdata/pci.ids), read once into a sorted
 * table, never from the host's hwdb.
 */
struct names;

/* Never fails: without a source every name is unknown. */
struct names *names_open(void);
void names_close(struct names *n); /* accepts NULL */

/*
 * The vendor's and the device's names, each a newly allocated string or NULL when unknown. A
 * device name is only looked up under its own vendor.
 */
void names_lookup(struct names *n, uint16_t vendor, uint16_t device, char **vendor_name,
		  char **device_name);
