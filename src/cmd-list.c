// SPDX-License-Identifier: GPL-2.0-or-later
/* `list`: every PCI device, its group, category, driver, claim state and why. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "holders.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "sysfs.h"

static char *claim_state(const struct pci_dev *d, const struct kv *st)
{
	const char *state = kv_get(st, "state");
	bool vfio = pci_on_vfio(d);

	if (state && streq(state, "claimed") && vfio)
		return xasprintf("claimed (%s)", kv_get(st, "stage") ?: "?");
	if (state && streq(state, "claimed"))
		return xstrdup("lost (no longer on vfio-pci)");
	if (state && !streq(state, "claimed"))
		return xstrdup(state);
	if (vfio)
		return xstrdup("claimed (kernel)");
	return xstrdup("-");
}

/* "Vendor Device" as lspci shows it, the vendor alone, or NULL */
static char *display_name(const char *vendor, const char *device)
{
	if (!vendor && !device)
		return NULL;
	return xasprintf("%s%s%s", vendor ? vendor : "", vendor && device ? " " : "",
			 device ? device : "");
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct names *db;
	struct jsonw w;
	struct session s;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	session_plan(&s, NULL);
	db = names_open();
	jsonw_init(&w, stdout);
	if (opts->json) {
		jsonw_object_open(&w, NULL);
		jsonw_array_open(&w, "devices");
	} else
		printf("%-12s %5s %-8s %-9s %-14s %-18s %s\n", "DEVICE", "GROUP", "CATEGORY", "IDS",
		       "DRIVER", "STATE", "NAME");
	for (size_t i = 0; i < s.devs.n; i++) {
		const struct pci_dev *d = &s.devs.v[i];
		const struct verdict *v = &s.plan.v[i];
		struct kv st = { 0 };
		char *vendor_name, *device_name, *name, *names, *state, *holders = NULL;
		char ids[16], group[16];

		state_read(d->addr, &st);
		state = claim_state(d, &st);
		names_lookup(db, d->vendor, d->device, &vendor_name, &device_name);
		name = display_name(vendor_name, device_name);
		names = pci_known_names(d);
		if (d->iommu_group >= 0)
			holders = holders_describe(session_holders(&s), d->iommu_group);
		snprintf(ids, sizeof(ids), "%04x:%04x", d->vendor, d->device);
		snprintf(group, sizeof(group), "%d", d->iommu_group);
		if (opts->json) {
			jsonw_object_open(&w, NULL);
			jsonw_string(&w, "device", d->addr);
			jsonw_int(&w, "iommu_group", d->iommu_group);
			jsonw_string(&w, "category", pci_category_name(d));
			jsonw_string(&w, "ids", ids);
			jsonw_stringf(&w, "class", "0x%06x", d->class);
			jsonw_string(&w, "driver", d->driver);
			jsonw_string(&w, "state", state);
			jsonw_string(&w, "decision", decision_name(v->decision));
			jsonw_string(&w, "reason", v->reason);
			jsonw_string(&w, "name", name);
			jsonw_string(&w, "vendor_name", vendor_name);
			jsonw_string(&w, "device_name", device_name);
			jsonw_string(&w, "names", names);
			jsonw_string(&w, "path", d->pcipath);
			jsonw_string(&w, "holders", holders);
			jsonw_object_close(&w);
		} else {
			printf("%-12s %5s %-8s %-9s %-14s %-18s %s%s%s%s\n", d->addr,
			       d->iommu_group >= 0 ? group : "-", pci_category_name(d), ids,
			       d->driver ? d->driver : "-", state, name ? name : "",
			       names ? " [" : "", names ? names : "", names ? "]" : "");
			if (holders)
				printf("\t/dev/vfio/%d held by %s\n", d->iommu_group, holders);
			printf("\t%s: %s\n", decision_name(v->decision), v->reason);
		}
		kv_free(&st);
		free(state);
		free(vendor_name);
		free(device_name);
		free(name);
		free(names);
		free(holders);
	}
	if (opts->json) {
		jsonw_array_close(&w);
		jsonw_object_close(&w);
	}
	names_close(db);
	session_close(&s);
	return 0;
}

const struct cmd cmd_list = {
	.name = "list",
	.help = "every PCI device: group, category, driver, claim state and why",
	.run = run,
};
