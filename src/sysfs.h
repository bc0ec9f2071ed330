/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "device.h"

/* The sysfs reader: fills the device model from DIR/sys (see device.h). */

/* Every PCI function of the machine: a few system calls per device. */
int pci_scan(struct pci_list *list);
/* The driver link again; vfio_variant with it. */
int pci_refresh_driver(struct pci_dev *d);
/* A VFIO variant driver, built on vfio-pci-core (not vfio-pci itself). */
bool pci_driver_is_vfio_variant(const char *driver);

/* Lazily read attributes: 0 or negative errno, *out allocated. */
int pci_read_attr(const struct pci_dev *d, const char *attr, char **out);
char *pci_sys_path(const struct pci_dev *d, const char *attr);
/* Names a person knows the device by: "eth0 nvme0n1 card0", or NULL. */
char *pci_known_names(const struct pci_dev *d);
