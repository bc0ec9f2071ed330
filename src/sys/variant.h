/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "device.h"
#include "modload.h"

/*
 * VFIO variant drivers (SPEC §7): for each device a claim of the configuration (or manual, a
 * claim by hand) selects, and the other functions of its slot (which go with it), the module
 * whose vfio_pci: alias matches its modalias best, in pci_dev.variant. Each device is looked
 * up once per session; the plan then claims it for that driver.
 */
void variant_find(struct pci_list *devs, const struct config *cfg, const struct rule *manual,
		  struct modules *mods);
