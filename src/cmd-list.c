// SPDX-License-Identifier: GPL-2.0-or-later
/* `list`: every PCI device, its group, category, driver, claim state and why. */
#include <libudev.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "cmd.h"
#include "json.h"
#include "log.h"

/* pci.ids under the root, for a human name: "Vendor Device" */
static char *pciids_name(const char *text, uint16_t vendor, uint16_t device)
{
	char key[8];
	const char *v, *p;

	if (!text)
		return NULL;
	snprintf(key, sizeof(key), "\n%04x ", vendor);
	v = strstr(text, key);
	if (!v)
		return NULL;
	v += 7;
	snprintf(key, sizeof(key), "\n\t%04x ", device);
	p = strstr(v, key);
	/* the device line must belong to this vendor: no vendor line in between */
	for (const char *q = v; p && (q = strchr(q, '\n')) && q < p; q++)
		if (q[1] != '\t' && q[1] != '#' && q[1] != '\n')
			p = NULL;
	if (!p)
		return xstrndup(strspn(v, " ") + v, strcspn(v + strspn(v, " "), "\n"));
	return xasprintf("%.*s %.*s", (int)strcspn(v + strspn(v, " "), "\n"), v + strspn(v, " "),
			 (int)strcspn(p + 7 + strspn(p + 7, " "), "\n"),
			 p + 7 + strspn(p + 7, " "));
}

static char *hwdb_name(struct udev_hwdb *hwdb, const struct pci_dev *d)
{
	struct udev_list_entry *e;
	const char *vendor = NULL, *model = NULL;
	char *modalias = NULL;

	if (!hwdb || pci_read_attr(d, "modalias", &modalias) < 0)
		return NULL;
	udev_list_entry_foreach (e, udev_hwdb_get_properties_list_entry(hwdb, modalias, 0)) {
		if (streq(udev_list_entry_get_name(e), "ID_VENDOR_FROM_DATABASE"))
			vendor = udev_list_entry_get_value(e);
		else if (streq(udev_list_entry_get_name(e), "ID_MODEL_FROM_DATABASE"))
			model = udev_list_entry_get_value(e);
	}
	free(modalias);
	if (!vendor && !model)
		return NULL;
	return xasprintf("%s%s%s", vendor ? vendor : "", vendor && model ? " " : "",
			 model ? model : "");
}

static char *claim_state(const struct pci_dev *d, const struct kv *st)
{
	const char *state = kv_get(st, "state");
	bool vfio = d->driver && streq(d->driver, "vfio-pci");

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

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct udev *udev = NULL;
	struct udev_hwdb *hwdb = NULL;
	char *pciids = NULL;
	struct session s;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	session_plan(&s, NULL);
	{
		char *p = root_path("/usr/share/misc/pci.ids");
		if (read_text(p, &pciids) < 0) {
			free(p);
			p = root_path("/usr/share/hwdata/pci.ids");
			read_text(p, &pciids);
		}
		free(p);
	}
	if (!pciids && root_is_host()) {
		/* the hwdb is only meaningful for the running system, not for another root */
		udev = udev_new();
		hwdb = udev ? udev_hwdb_new(udev) : NULL;
	}
	if (opts->json)
		fputs("{\"devices\":[", stdout);
	else
		printf("%-12s %5s %-8s %-9s %-14s %-18s %s\n", "DEVICE", "GROUP", "CATEGORY", "IDS",
		       "DRIVER", "STATE", "NAME");
	for (size_t i = 0; i < s.devs.n; i++) {
		const struct pci_dev *d = &s.devs.v[i];
		const struct verdict *v = &s.plan.v[i];
		struct kv st = { 0 };
		char *name, *names, *state, *holders = NULL, ids[16], group[16];

		state_read(d->addr, &st);
		state = claim_state(d, &st);
		name = pciids ? pciids_name(pciids, d->vendor, d->device) : hwdb_name(hwdb, d);
		names = pci_known_names(d);
		if (d->iommu_group >= 0)
			holders = vfio_group_holders(d->iommu_group);
		snprintf(ids, sizeof(ids), "%04x:%04x", d->vendor, d->device);
		snprintf(group, sizeof(group), "%d", d->iommu_group);
		if (opts->json) {
			int f = 1;
			fputs(i ? ",{" : "{", stdout);
			json_kv_str(stdout, "device", d->addr, &f);
			json_kv_int(stdout, "iommu_group", d->iommu_group, &f);
			json_kv_str(stdout, "category", pci_category_name(d), &f);
			json_kv_str(stdout, "ids", ids, &f);
			snprintf(ids, sizeof(ids), "0x%06x", d->class);
			json_kv_str(stdout, "class", ids, &f);
			json_kv_str(stdout, "driver", d->driver, &f);
			json_kv_str(stdout, "state", state, &f);
			json_kv_str(stdout, "decision", decision_name(v->decision), &f);
			json_kv_str(stdout, "reason", v->reason, &f);
			json_kv_str(stdout, "name", name, &f);
			json_kv_str(stdout, "names", names, &f);
			json_kv_str(stdout, "path", d->pcipath, &f);
			json_kv_str(stdout, "holders", holders, &f);
			fputc('}', stdout);
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
		free(name);
		free(names);
		free(holders);
	}
	if (opts->json)
		fputs("]}\n", stdout);
	free(pciids);
	udev_hwdb_unref(hwdb);
	udev_unref(udev);
	session_close(&s);
	return 0;
}

const struct cmd cmd_list = {
	.name = "list",
	.help = "every PCI device: group, category, driver, claim state and why",
	.run = run,
};
