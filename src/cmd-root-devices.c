// SPDX-License-Identifier: GPL-2.0-or-later
/* `root-devices`: the PCI paths of the devices the host boots from, for the initramfs record. */
#include <stdlib.h>

#include "cmd.h"
#include "log.h"

int root_devices_gather(struct strv *lines, char **unresolved)
{
	struct session s;
	int r;

	*unresolved = NULL;
	if (rootdev_in_chroot())
		return 1;
	r = session_open(&s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s.protected.n; i++) {
		int k = pci_find(&s.devs, s.protected.v[i].addr);
		if (k >= 0 && !pci_is_bridge(&s.devs.v[k]))
			strv_push(lines, xasprintf("path=%s", s.devs.v[k].pcipath));
	}
	if (s.protected.unresolved)
		*unresolved = xstrdup(s.protected.unresolved);
	session_close(&s);
	return 0;
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct strv lines = { 0 };
	char *unresolved;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;

	r = root_devices_gather(&lines, &unresolved);
	if (r < 0)
		return EXIT_RUNTIME;
	if (r > 0) {
		log_warn(ROOT_DEVICES_IN_CHROOT);
		return 0;
	}
	for (size_t i = 0; i < lines.n; i++)
		printf("%s\n", lines.v[i]);
	if (unresolved)
		log_warn("root device '%s' not found", unresolved);
	free(unresolved);
	strv_free(&lines);
	return 0;
}

const struct cmd cmd_root_devices = {
	.name = "root-devices",
	.help = "PCI paths of the devices that carry / and /usr (for the initramfs hooks)",
	.run = run,
};
