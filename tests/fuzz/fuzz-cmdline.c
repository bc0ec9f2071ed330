// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the kernel command line (SPEC §5), then the udev rules generated from it.
 * Invariants: every rule it adds has a selector, comes from "cmdline" and re-parses from its
 * text; every error names a parameter; the generated rules are one directive per line, one rule
 * per claimed selector, none with vfio_claim=off.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "udevrules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmdline = fuzz_string(data, size), *rules;
	struct config cfg;
	size_t nsels;

	/* as config_load() starts */
	memset(&cfg, 0, sizeof(cfg));
	cfg.perms.mode = -1;
	cfg.keep_usb = true;
	config_parse_cmdline(&cfg, cmdline);

	for (size_t i = 0; i < cfg.nerrors; i++) {
		FUZZ_ASSERT(cfg.errors[i].file && *cfg.errors[i].file);
		FUZZ_ASSERT(cfg.errors[i].message && *cfg.errors[i].message);
	}
	nsels = fuzz_check_rules(&cfg.claims, "cmdline");
	fuzz_check_rules(&cfg.excludes, "cmdline");

	rules = udev_select_rules(&cfg);
	/* the two GOTO lines, one rule per claimed selector, and the one for SR-IOV VFs */
	FUZZ_ASSERT(udev_rules_check(rules) == 2 + (cfg.off ? 0 : nsels + (nsels ? 1 : 0)));

	free(rules);
	config_free(&cfg);
	free(cmdline);
	return 0;
}
