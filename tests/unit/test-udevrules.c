// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the generated udev rules (src/sys/udevrules.c): what the fuzzer
 * (tests/fuzz/fuzz-config.c) found. The inputs are also in tests/fuzz/corpus/config/.
 */
#include <stdlib.h>

#include "config.h"
#include "udevrules.h"
#include "unit.h"

/* The rules for one file FILE holding TEXT, parsed as config_load() would. */
static char *rules_for(const char *file, const char *text)
{
	struct config cfg;
	char *rules;

	memset(&cfg, 0, sizeof(cfg));
	cfg.perms.mode = -1;
	cfg.keep_usb = true;
	config_parse_text(&cfg, file, text);
	CHECK(cfg.nerrors == 0 && cfg.claims.n == 1);
	rules = udev_select_rules(&cfg);
	config_free(&cfg);
	return rules;
}

/* The number of lines of text that start with prefix. */
static size_t lines_starting(const char *text, const char *prefix)
{
	size_t n = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		n += strncmp(l, prefix, strlen(prefix)) == 0;
	return n;
}

TEST(a_file_name_with_a_newline_injects_no_line_into_the_rules)
{
	/* fuzz corpus: config/filename-newline */
	char *rules = rules_for("/etc/vfio-claim.d/a\nLABEL=\"x\"\nGOTO=\"y\".conf", "claim gpu\n");

	CHECK_CONTAINS(rules,
		       "# /etc/vfio-claim.d/a\\x0aLABEL=\"x\"\\x0aGOTO=\"y\".conf:1 'gpu'\n");
	CHECK(lines_starting(rules, "LABEL=") == 1);
	CHECK(lines_starting(rules, "GOTO=") == 0);
	free(rules);
}

TEST(a_file_name_with_control_bytes_stays_one_comment_line)
{
	/* fuzz corpus: config/filename-control (an escape sequence and a carriage return) */
	char *rules = rules_for("/etc/vfio-claim.d/\x1b[31mred\r.conf", "claim 01:00.0\n");

	CHECK_CONTAINS(rules, "# /etc/vfio-claim.d/\\x1b[31mred\\x0d.conf:1 '01:00.0'\n"
			      "KERNEL==\"0000:01:00.0\", ENV{VFIO_CLAIM_SELECT}=\"1\"\n");
	CHECK(!strchr(rules, '\r') && !strchr(rules, '\x1b'));
	free(rules);
}

UNIT_MAIN(UNIT_T(a_file_name_with_a_newline_injects_no_line_into_the_rules),
	  UNIT_T(a_file_name_with_control_bytes_stays_one_comment_line))
