// SPDX-License-Identifier: GPL-2.0-or-later
/* `status`: what this boot claimed, by which stage, and whether it still holds. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "devobj.h"
#include "guest.h"
#include "json.h"
#include "log.h"

/* A device with an entry of this boot that is gone since (unplugged): what its entry says. */
static const struct pci_dev *gone_device(struct pci_dev *d, const char *addr, const struct kv *st)
{
	unsigned long v;
	const char *ids = kv_get(st, "ids"), *class = kv_get(st, "class");

	memset(d, 0, sizeof(*d));
	pci_dev_set_addr(d, addr);
	d->iommu_group = -1;
	d->boot_vga = -1;
	d->parent = -1;
	d->sriov_numvfs = -1;
	if (ids && strlen(ids) == 9 && parse_hex(ids, 4, 0xffff, &v)) {
		d->vendor = (uint16_t)v;
		if (parse_hex(ids + 5, 4, 0xffff, &v))
			d->device = (uint16_t)v;
	}
	if (class && parse_hex(class, strlen(class), 0xffffff, &v))
		d->class = (uint32_t)v;
	return d;
}

/* Why no device is held this boot, the first cause that applies. */
static char *why_none(const struct session *s, const char *boot_errors, size_t entries)
{
	if (entries)
		return xstrdup("no device is held now: each was released or failed (STATE)");
	if (s->cfg.off)
		return xstrdup(
		    "no device claimed this boot: vfio_claim=off is on the kernel command "
		    "line (remove it from the boot entry to claim again)");
	if (boot_errors)
		return xstrdup("no device claimed this boot: the configuration had errors at boot "
			       "(below); 'vfio-claim check' shows them now");
	if (s->cfg.exclude_unknown)
		return xasprintf("no device claimed this boot: an exclude could not be read (%s), "
				 "so nothing is claimed from the configuration",
				 s->cfg.exclude_unknown);
	if (!s->cfg.claims.n)
		return xstrdup(
		    "no device claimed this boot: the configuration has no claim line "
		    "(/etc/vfio-claim.d/*.conf, vfio_claim= on the kernel command line)");
	return xstrdup("no device claimed this boot");
}

/* One holding guest of a device: who started it, or that it is gone and how to give back. */
static void print_holder(const char *addr, const struct kv *entry, const char *ename)
{
	char *name = guest_display(ename), *gone = guest_gone(entry, ename);
	char *word = guest_shell_word(ename);
	long pid;
	const char *starter = guest_starter_of(entry, ename, &pid);

	if (gone)
		printf("\t%s: guest '%s' is gone (%s): 'vfio-claim release --guest %s' gives it "
		       "back\n",
		       addr, name, gone, word);
	else if (pid > 0)
		printf("\tclaimed by guest '%s' (%s, pid %ld)\n", name, starter ?: "?", pid);
	else
		printf("\tclaimed by guest '%s' (%s)\n", name, starter ?: "?");
	free(name);
	free(gone);
	free(word);
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct strv addrs = { 0 };
	struct names *db = NULL;
	struct pci_dev gone;
	struct jsonw w;
	struct session s;
	char *errors = NULL, *stale, *none;
	size_t nheld = 0;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	state_list(&addrs);
	/* devices the kernel gave to vfio-pci (vfio-pci.ids=) have no entry of ours */
	for (size_t i = 0; i < s.devs.n; i++)
		if (pci_on_vfio(&s.devs.v[i]) && !strv_contains(&addrs, s.devs.v[i].addr))
			strv_push(&addrs, xstrdup(s.devs.v[i].addr));
	strv_sort(&addrs);
	state_read_file("config-errors", &errors);
	session_plan(&s, NULL);
	if (opts->json)
		db = names_open();

	jsonw_init(&w, stdout);
	if (opts->json) {
		jsonw_object_open(&w, NULL);
		jsonw_array_open(&w, "devices");
	} else
		printf("%-12s %-9s %-9s %-14s %-10s %-5s %-10s %s\n", "DEVICE", "STAGE", "STATE",
		       "HOST_DRIVER", "DRIVER", "HOLDS", "TAG", "RULE");
	for (size_t k = 0; k < addrs.n; k++) {
		struct kv st = { 0 };
		int i = pci_find(&s.devs, addrs.v[k]);
		const char *driver = i >= 0 ? s.devs.v[i].driver : NULL;
		bool has = state_read(addrs.v[k], &st) == 0;
		bool holds, late;
		char *override = NULL;
		/* no entry: the kernel's vfio-pci.ids= took it, unless our override is there
		 * (an entry that could not be written: the next run writes it) */
		const char *stage = "kernel", *rule = "vfio-pci.ids=";
		struct devinfo di;

		if (i >= 0)
			devinfo_get(&di, &s, db, (size_t)i);
		else
			devinfo_get_dev(&di, &s, db, gone_device(&gone, addrs.v[k], &st));
		/* kept from the host drivers now: on vfio-pci, or held by our override alone */
		holds = di.state && (streq(di.state, "claimed") || streq(di.state, "held"));
		nheld += holds;
		if (!has && i >= 0 &&
		    pci_read_attr(&s.devs.v[i], "driver_override", &override) == 0 &&
		    streq(override, "vfio-pci")) {
			stage = "unknown";
			rule =
			    "vfio-claim (its state entry is missing: the next 'vfio-claim boot' or "
			    "'claim' writes it)";
		}
		free(override);
		if (has) {
			stage = kv_get(&st, "stage") ?: "unknown";
			rule = kv_get(&st, "rule") ?: "";
		}
		late = has && i >= 0 && streq(di.state ?: "", "claimed") &&
		       late_storage(&s.devs.v[i], stage, kv_get(&st, "taken_from"));

		if (opts->json) {
			devinfo_json_open(&w, NULL, &di);
			jsonw_bool(&w, "present", i >= 0);
			jsonw_bool(&w, "holds", holds);
			jsonw_string(&w, "time", has ? kv_get(&st, "time") : NULL);
			jsonw_string(&w, "error", has ? kv_get(&st, "error") : NULL);
			jsonw_string(&w, "note", late ? LATE_STORAGE : NULL);
			jsonw_object_close(&w);
		} else {
			printf("%-12s %-9s %-9s %-14s %-10s %-5s %-10s %s\n", addrs.v[k], stage,
			       di.state ? di.state : "unknown",
			       has ? kv_get(&st, "host_driver") ?: "unknown" : "unknown",
			       driver ? driver : "none", holds ? "yes" : "no",
			       di.tag ? di.tag : "-", rule);
			if (has && kv_get(&st, "error"))
				printf("\terror: %s\n", kv_get(&st, "error"));
			if (late)
				printf("\tnote: %s\n", LATE_STORAGE);
			for (size_t g = 0; g < di.guests.n; g++)
				print_holder(addrs.v[k], &di.entry, di.guests.v[g]);
		}
		devinfo_free(&di);
		kv_free(&st);
	}
	stale = session_stale_image();
	none = nheld ? NULL : why_none(&s, errors, addrs.n);
	if (opts->json) {
		jsonw_array_close(&w);
		jsonw_bool(&w, "off", s.cfg.off);
		jsonw_string(&w, "config_errors", errors);
		jsonw_string(&w, "stale_image", stale);
		jsonw_string(&w, "nothing_claimed", none);
		jsonw_object_close(&w);
	} else {
		if (none)
			printf("%s\n", none);
		if (stale)
			printf("%s\n", stale);
		if (errors)
			printf("configuration errors at boot:\n%s\n", errors);
	}
	names_close(db);
	free(none);
	free(errors);
	free(stale);
	strv_free(&addrs);
	session_close(&s);
	return 0;
}

const struct cmd cmd_status = {
	.name = "status",
	.help = "what was claimed this boot, by which stage, and whether it still holds",
	.run = run,
};
