/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "sysfs.h"

struct kmod_ctx;

/* What failed, for the caller's message: "unbind from 'e1000e'". */
struct bind_error {
	char step[128];
};

/*
 * Claim (SPEC §7): driver_override, unbind a host driver, make sure vfio-pci and
 * vfio_iommu_type1 are loaded, drivers_probe, verify the driver link.
 * Returns 0 when bound to vfio-pci, 1 when held by the override but unbound (no IOMMU),
 * or a negative errno with err->step set.
 */
int bind_claim(struct kmod_ctx *ctx, struct pci_dev *d, struct bind_error *err);
/*
 * Undoes a claim that did not complete (SPEC §7: all or nothing per IOMMU group): the override
 * cleared, unbound from vfio-pci, probed, and back on host (NULL: any driver, or none, as it
 * was). 0, or a negative errno with err->step set.
 */
int bind_rollback(struct pci_dev *d, const char *host, struct bind_error *err);
/* Pins the device to the driver it is bound to (driver_override names it): 0 or -errno. */
int bind_pin(const struct pci_dev *d);
/* Release: override cleared, unbound from vfio-pci, host module loaded, probed, verified. */
int bind_release(struct kmod_ctx *ctx, struct pci_dev *d, const char *host_module,
		 struct bind_error *err);
