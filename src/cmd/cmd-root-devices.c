// SPDX-License-Identifier: GPL-2.0-or-later
/* `root-devices`: the PCI paths of the devices the host boots from, for the initramfs record. */
#include <stdlib.h>

#include "cmd.h"
#include "devobj.h"
#include "log.h"
#include "sysfs.h"

/* "path=..." for each protected PCI device (bridges aside: the path goes through them). */
static void push_paths(struct strv *lines, const struct pci_list *devs,
		       const struct protected_list *prot)
{
	for (size_t i = 0; i < prot->n; i++) {
		int k = pci_find(devs, prot->v[i].addr);
		if (k >= 0 && !pci_is_bridge(&devs->v[k]))
			strv_push(lines, xasprintf("path=%s", devs->v[k].pcipath));
	}
}

/*
 * In a chroot: the system being built, from its own fstab, when its disks are here (an
 * installer's /target with /dev and /sys bound). Otherwise no record, and why, with the fix.
 */
static int gather_in_chroot(struct strv *lines, char **no_record)
{
	struct protected_list prot;
	struct strv roots = { 0 };
	struct pci_list devs = { 0 };
	char *missing = NULL;
	int r;

	if (rootdev_find_image(&prot, &roots, &missing) < 0) {
		*no_record = xasprintf(
		    "running in a chroot, and %s: no root-device record is made, so this "
		    "initramfs refuses every storage controller before udev, and the running "
		    "system claims the selected ones late; run 'update-initramfs -u' (or 'dracut "
		    "-f') once the system runs from its own disks (or build the image with them "
		    "present, /dev and /sys bound into the chroot)",
		    missing);
		free(missing);
		return 0;
	}
	r = pci_scan(&devs);
	if (r < 0) {
		log_error("cannot read PCI devices from '%s/sys/bus/pci/devices': %s", root_get(),
			  errstr(r));
		protected_free(&prot);
		strv_free(&roots);
		return r;
	}
	/* the boot this record is for: one of the names its root= may give the root device */
	for (size_t i = 0; i < roots.n; i++)
		strv_push(lines, xasprintf("root=%s", roots.v[i]));
	push_paths(lines, &devs, &prot);
	protected_free(&prot);
	strv_free(&roots);
	pci_list_free(&devs);
	return 0;
}

/*
 * root_devices_gather() with the session left open for the caller (*opened), so that --json
 * can describe the devices.
 */
static int gather(struct session *s, bool *opened, struct strv *lines, char **unresolved,
		  char **no_record)
{
	int r;

	*opened = false;
	*unresolved = *no_record = NULL;
	r = rootdev_in_chroot();
	if (r > 0)
		return gather_in_chroot(lines, no_record);
	if (r < 0) {
		*no_record = xasprintf(
		    "cannot tell whether this runs in a chroot ('%s/proc/1/root': %s): the root "
		    "device of the system being built may not be the one here, none is recorded, "
		    "so this initramfs refuses every storage controller before udev; run "
		    "'update-initramfs -u' (or 'dracut -f') where /proc is mounted",
		    root_get(), errstr(r));
		return 0;
	}
	r = session_open(s);
	if (r < 0)
		return r;
	*opened = true;
	/* the boot this record is for: a boot with another root= does not use it */
	if (s->cfg.root_arg)
		strv_push(lines, xasprintf("root=%s", s->cfg.root_arg));
	push_paths(lines, &s->devs, &s->protected);
	if (s->protected.unresolved)
		*unresolved = xstrdup(s->protected.unresolved);
	return 0;
}

int root_devices_gather(struct strv *lines, char **unresolved, char **no_record)
{
	struct session s;
	bool opened;
	int r = gather(&s, &opened, lines, unresolved, no_record);

	if (opened)
		session_close(&s);
	return r;
}

/* The record's lines and the devices they name (SPEC §3 device objects). */
static void print_json(struct session *s, bool opened, const struct strv *lines,
		       const char *unresolved, const char *no_record)
{
	struct jsonw w;

	jsonw_init(&w, stdout);
	jsonw_object_open(&w, NULL);
	jsonw_array_open(&w, "record");
	for (size_t i = 0; i < lines->n; i++)
		jsonw_string(&w, NULL, lines->v[i]);
	jsonw_array_close(&w);
	jsonw_string(&w, "root", opened ? s->cfg.root_arg : NULL);
	jsonw_string(&w, "unresolved", unresolved);
	jsonw_string(&w, "no_record", no_record);
	jsonw_array_open(&w, "devices");
	if (opened) {
		struct names *db = names_open();

		for (size_t i = 0; i < s->devs.n; i++)
			if (!pci_is_bridge(&s->devs.v[i]) &&
			    protected_why(&s->protected, s->devs.v[i].addr))
				devobj_json(&w, NULL, s, db, i);
		names_close(db);
	}
	jsonw_array_close(&w);
	jsonw_object_close(&w);
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct strv lines = { 0 };
	char *unresolved, *no_record;
	struct session s;
	bool opened;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	r = gather(&s, &opened, &lines, &unresolved, &no_record);
	if (r < 0)
		return EXIT_RUNTIME;
	if (no_record)
		log_warn("%s", no_record);
	if (opts->json) {
		if (opened)
			session_plan(&s, NULL);
		print_json(&s, opened, &lines, unresolved, no_record);
	} else
		for (size_t i = 0; i < lines.n; i++)
			printf("%s\n", lines.v[i]);
	if (unresolved)
		log_warn("root device '%s' not found", unresolved);
	if (opened)
		session_close(&s);
	free(no_record);
	free(unresolved);
	strv_free(&lines);
	return 0;
}

const struct cmd cmd_root_devices = {
	.name = "root-devices",
	.help = "PCI paths of the devices the host boots from: /, /usr, fstab, swap, crypttab, "
		"resume (for the initramfs hooks)",
	.run = run,
};
