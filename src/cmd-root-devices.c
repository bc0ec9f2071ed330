// SPDX-License-Identifier: GPL-2.0-or-later
/* `root-devices`: the PCI paths of the devices the host boots from, for the initramfs record. */
#include <stdlib.h>

#include "cmd.h"
#include "devobj.h"
#include "log.h"

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
	if (r > 0) {
		*no_record = xstrdup("running in a chroot: the root device of the system being "
				     "built is not known here, none is recorded");
		return 0;
	}
	if (r < 0) {
		*no_record =
		    xasprintf("cannot tell whether this runs in a chroot ('%s/proc/1/root': "
			      "%s): the root device of the system being built may not be "
			      "the one here, none is recorded",
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
	for (size_t i = 0; i < s->protected.n; i++) {
		int k = pci_find(&s->devs, s->protected.v[i].addr);
		if (k >= 0 && !pci_is_bridge(&s->devs.v[k]))
			strv_push(lines, xasprintf("path=%s", s->devs.v[k].pcipath));
	}
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
