/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "device.h"

/* The sysfs reader: fills the device model from DIR/sys (see device.h). */

/*
 * Every PCI function of the machine: a few system calls per device. SR-IOV: every VF's physfn,
 * and the layout of the PFs that have VFs enabled (named by them); a PF with none enabled reads
 * as no PF (sriov_numvfs -1) until pci_read_sriov_pfs().
 */
int pci_scan(struct pci_list *list);
/*
 * The layout of the PFs without VFs enabled too, among the devices want[] names (NULL: all):
 * one lookup per endpoint that is no VF and no known PF (boot: what a claim may select later).
 */
int pci_read_sriov_pfs(struct pci_list *list, const bool *want);
/* The driver link again; vfio_variant with it. */
int pci_refresh_driver(struct pci_dev *d);
/* A VFIO variant driver, built on vfio-pci-core (not vfio-pci itself). */
bool pci_driver_is_vfio_variant(const char *driver);

/* Lazily read attributes: 0 or negative errno, *out allocated. */
int pci_read_attr(const struct pci_dev *d, const char *attr, char **out);
char *pci_sys_path(const struct pci_dev *d, const char *attr);

/*
 * One udev event's devices (SPEC §9): each of addrs, the other functions of its slot, the other
 * members of its IOMMU group, its physical function if it is an SR-IOV VF, and the bridges above
 * them all, read by name; never a listing of every PCI function. Names that are no device are
 * skipped. have_iommu says only whether these devices have groups: the caller knows the machine's
 * (the summary, state.h).
 */
int pci_read_around(struct pci_list *list, const struct strv *addrs);
/* The PCI devices of IOMMU group N (/sys/kernel/iommu_groups/N/devices), sorted. */
int pci_group_addrs(int group, struct strv *addrs);
/* The machine has a PS/2 keyboard controller (i8042): two lookups by name. */
bool pci_have_i8042(void);
