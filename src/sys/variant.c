// SPDX-License-Identifier: GPL-2.0-or-later
/* VFIO variant drivers: which devices to look up, before the plan is made. */
#include <stdlib.h>

#include "sysfs.h"
#include "variant.h"

static bool rule_selects(const struct rule *r, const struct pci_dev *d)
{
	for (size_t i = 0; r && i < r->nsels; i++)
		if (selector_match(&r->sels[i], d))
			return true;
	return false;
}

static bool selected(const struct config *cfg, const struct rule *manual, const struct pci_dev *d)
{
	if (pci_is_bridge(d))
		return false;
	if (rule_selects(manual, d))
		return true;
	for (size_t r = 0; r < cfg->claims.n && !cfg->off; r++)
		if (rule_selects(&cfg->claims.v[r], d))
			return true;
	return false;
}

/* The modalias is made from the ids already read: no file opened per device. */
static void look_up(struct modules *mods, struct pci_dev *d)
{
	char modalias[64];

	d->variant_done = true;
	pci_modalias(d, modalias, sizeof(modalias));
	modload_vfio_variant(mods, modalias, &d->variant);
}

void variant_find(struct pci_list *devs, const struct config *cfg, const struct rule *manual,
		  struct modules *mods)
{
	for (size_t i = 0; i < devs->n; i++) {
		if (!selected(cfg, manual, &devs->v[i]))
			continue;
		/* the list is sorted by address: the functions of a slot are neighbours */
		size_t lo = i, hi = i;
		while (lo > 0 && pci_same_slot(&devs->v[lo - 1], &devs->v[i]))
			lo--;
		while (hi + 1 < devs->n && pci_same_slot(&devs->v[hi + 1], &devs->v[i]))
			hi++;
		for (size_t k = lo; k <= hi; k++)
			if (!devs->v[k].variant_done && !pci_is_bridge(&devs->v[k]))
				look_up(mods, &devs->v[k]);
	}
}
