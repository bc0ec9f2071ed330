// SPDX-License-Identifier: GPL-2.0-or-later
/* `root-devices`: the PCI paths of the devices the host boots from, for the initramfs record. */
#include "cmd.h"
#include "log.h"

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct session s;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;

	r = rootdev_in_chroot();
	if (r > 0) {
		log_warn("running in a chroot: the root device of the system being built is not "
			 "known here, none is recorded");
		return 0;
	}
	if (r < 0) {
		log_warn(
		    "cannot tell whether this runs in a chroot ('%s/proc/1/root': %s): the root "
		    "device of the system being built may not be the one here, none is recorded",
		    root_get(), errstr(r));
		return 0;
	}
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	for (size_t i = 0; i < s.protected.n; i++) {
		int k = pci_find(&s.devs, s.protected.v[i].addr);
		if (k >= 0 && !pci_is_bridge(&s.devs.v[k]))
			printf("path=%s\n", s.devs.v[k].pcipath);
	}
	if (s.protected.unresolved)
		log_warn("root device '%s' not found", s.protected.unresolved);
	session_close(&s);
	return 0;
}

const struct cmd cmd_root_devices = {
	.name = "root-devices",
	.help = "PCI paths of the devices that carry / and /usr (for the initramfs hooks)",
	.run = run,
};
