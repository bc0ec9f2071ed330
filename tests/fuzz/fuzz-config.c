// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: one configuration file (SPEC §4), then the udev rules generated from it.
 * Input: "FILE NAME\0TEXT", or TEXT alone (the file is then /etc/vfio-claim.d/fuzz.conf): file
 * names come from readdir() and may hold any byte but '/' and NUL.
 * Invariants: a file with an error applies no claim; every error names the file and a line of
 * it; every rule has a selector and an origin, and its selectors re-parse from their text; the
 * generated rules are one directive per line (comments, rules, the LABEL), one rule per claimed
 * selector, whatever the file name or the selectors hold.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "udevrules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	const char *text;
	char *file, *rules;
	struct config cfg;
	unsigned lines = 1;
	size_t nsels, len;

	/* the text after the file name may hold NUL bytes: each is an error at its line */
	if (nul) {
		file = fuzz_string(data, (size_t)(nul - data));
		text = (const char *)nul + 1;
		len = size - (size_t)(nul - data) - 1;
	} else {
		file = strdup("/etc/vfio-claim.d/fuzz.conf");
		text = (const char *)data;
		len = size;
	}
	for (size_t k = 0; k < len; k++)
		lines += text[k] == '\n';

	/* as config_load() starts */
	memset(&cfg, 0, sizeof(cfg));
	cfg.perms.mode = -1;
	cfg.keep_usb = true;
	config_parse_buf(&cfg, file, text, len);

	FUZZ_ASSERT(cfg.files.n == 1 && strcmp(cfg.files.v[0], file) == 0);
	if (cfg.nerrors) /* not half-applied: bad input never widens a claim */
		FUZZ_ASSERT(cfg.claims.n == 0 && cfg.broken_files.n == 1);
	for (size_t i = 0; i < cfg.nerrors; i++) {
		FUZZ_ASSERT(strcmp(cfg.errors[i].file, file) == 0);
		FUZZ_ASSERT(cfg.errors[i].line >= 1 && cfg.errors[i].line <= lines);
		FUZZ_ASSERT(cfg.errors[i].message && *cfg.errors[i].message);
	}
	fuzz_check_rules(&cfg.claims, NULL);
	fuzz_check_rules(&cfg.excludes, NULL);
	/* when=guest lines are no boot claim: the udev rules never mark their devices */
	nsels = 0;
	for (size_t i = 0; i < cfg.claims.n; i++)
		if (!cfg.claims.v[i].guest)
			nsels += cfg.claims.v[i].nsels;

	rules = udev_select_rules(&cfg);
	/*
	 * the two GOTO lines, then one rule per claimed selector and, when there is a claim line
	 * (when=guest too), the rule for the VFs of PFs whose autoprobe is off: nothing injected,
	 * nothing lost
	 */
	FUZZ_ASSERT(udev_rules_check(rules) == 2 + nsels + (cfg.claims.n ? 1 : 0));

	free(rules);
	config_free(&cfg);
	free(file);
	return 0;
}
