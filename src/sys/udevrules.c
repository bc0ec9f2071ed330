// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The generated udev rules: /run/udev/rules.d/69-vfio-claim-select.rules marks the PCI devices a
 * configured selector can select, so that 70-vfio-claim.rules spawns vfio-claim for them only.
 */
#include <stdlib.h>

#include "udevrules.h"

/*
 * Writes s for a comment line: a control byte (a newline in a file name would start a line of
 * its own, a rule) and the backslash become \xNN, so the comment stays one line.
 */
static void put_escaped(FILE *f, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '\\')
			fprintf(f, "\\x%02x", *c);
		else
			fputc(*c, f);
}

char *udev_select_rules(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	fprintf(
	    f,
	    "# Written by 'vfio-claim boot' from the configuration; do not edit.\n"
	    "# Marks the PCI devices that a claim can select, so that 70-vfio-claim.rules runs\n"
	    "# vfio-claim for them only.%s\n"
	    "ACTION!=\"add\", GOTO=\"vfio_claim_select_end\"\n"
	    "SUBSYSTEM!=\"pci\", GOTO=\"vfio_claim_select_end\"\n",
	    cfg->off ? " vfio_claim=off: none this boot." : "");
	for (size_t i = 0; i < cfg->claims.n && !cfg->off; i++) {
		const struct rule *rl = &cfg->claims.v[i];
		/* when=guest: the host driver keeps it; a guest's start claims it, not udev */
		for (size_t k = 0; k < rl->nsels && !rl->guest; k++) {
			char *m = selector_udev_match(&rl->sels[k]);
			/* udev allows comments only on lines of their own */
			fputs("# ", f);
			put_escaped(f, rl->origin);
			fputs(" '", f);
			put_escaped(f, rl->sels[k].text);
			fprintf(f, "'\n%s, ENV{VFIO_CLAIM_SELECT}=\"1\"\n", m);
			free(m);
		}
	}
	/* the VFs of a PF whose autoprobe boot turned off: claimed, or probed for their host */
	if (cfg->claims.n && !cfg->off)
		fputs("# SR-IOV VFs of physical functions whose sriov_drivers_autoprobe is "
		      "off\n" UDEV_MATCH_AUTOPROBE_OFF ", ENV{VFIO_CLAIM_SELECT}=\"1\"\n",
		      f);
	fputs("LABEL=\"vfio_claim_select_end\"\n", f);
	if (fclose(f) != 0)
		abort();
	return text;
}

int udev_select_rules_write(const struct config *cfg)
{
	char *dir = root_path("/run/udev/rules.d"), *path = root_path(SELECT_RULES);
	char *text = udev_select_rules(cfg);
	int r;

	r = mkdir_p(dir, 0755);
	if (r == 0)
		r = write_atomic(path, text, 0644);
	free(text);
	free(dir);
	free(path);
	return r;
}
