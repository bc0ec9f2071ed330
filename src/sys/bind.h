/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "sysfs.h"

struct modules;

/* What failed, for the caller's message: "unbind from 'e1000e'". */
struct bind_error {
	char step[128];
};

/*
 * Claim (SPEC §7): driver_override, unbind a host driver, make sure the driver's module
 * (module: "vfio-pci", or a VFIO variant driver's, e.g. "mlx5_vfio_pci"; NULL: "vfio-pci") and
 * vfio_iommu_type1 are loaded, drivers_probe, verify the driver link. On vfio-pci or a variant
 * of it already: nothing to do.
 * Returns 0 when bound, 1 when held by the override but unbound (no IOMMU),
 * or a negative errno with err->step set.
 */
int bind_claim(struct modules *mods, struct pci_dev *d, const char *module, struct bind_error *err);
/*
 * Undoes a claim that did not complete (SPEC §7: all or nothing per IOMMU group): the override
 * cleared, unbound from vfio-pci, probed, and back on host (NULL: any driver, or none, as it
 * was). 0, or a negative errno with err->step set.
 */
int bind_rollback(struct pci_dev *d, const char *host, struct bind_error *err);
/* Pins the device to the driver it is bound to (driver_override names it): 0 or -errno. */
int bind_pin(const struct pci_dev *d);
/*
 * Release: override cleared, unbound from vfio-pci (or its variant), host module loaded,
 * probed, verified. A VF whose PF has sriov_drivers_autoprobe off is probed through a
 * driver_override naming its host driver, cleared after the probe.
 */
int bind_release(struct modules *mods, struct pci_dev *d, const char *host_module,
		 struct bind_error *err);
/*
 * An SR-IOV VF that no claim selects, added while its PF's sriov_drivers_autoprobe is off: its
 * host module (from the modalias) loaded, and probed through a driver_override naming it,
 * cleared after the probe. 0 when bound, or a negative errno with err->step set.
 */
int bind_probe_vf(struct modules *mods, struct pci_dev *d, struct bind_error *err);
/* Writes a PF's sriov_drivers_autoprobe ("0" or "1"): 0 or -errno. */
int bind_set_autoprobe(const struct pci_dev *pf, const char *value);
