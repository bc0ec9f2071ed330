/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "rootdev.h"

enum decision { DEC_KEEP, DEC_CLAIM, DEC_REFUSE };

struct verdict {
	enum decision decision;
	const char *reason;
	bool own_reason;	 /* reason was made for this verdict, else a fixed string */
	const struct rule *rule; /* the claim that selected it, or its group companion's */
	bool selected;		 /* a claim matches it */
	bool forced;		 /* named by address with 'force' */
};

struct plan {
	struct verdict *v; /* one per device, same order as the device list */
	size_t n;
	struct protected_list protected;
};

void plan_build(struct plan *plan, const struct pci_list *devs, const struct config *cfg);
void plan_free(struct plan *plan);
const char *decision_name(enum decision d);
