// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the small helpers in src/util.c. */
#include "unit.h"
#include "util.h"

TEST(parse_hex_takes_digits_and_an_optional_0x_and_rejects_the_rest)
{
	unsigned long v = 0;

	CHECK(parse_hex("10de", 4, 0xffff, &v) && v == 0x10de);
	CHECK(parse_hex("0x3", 3, 0xff, &v) && v == 3);
	CHECK(!parse_hex("10dg", 4, 0xffff, &v));
	CHECK(!parse_hex("10000", 5, 0xffff, &v));
	CHECK(!parse_hex("0x", 2, 0xff, &v));
}

TEST(root_path_puts_every_absolute_path_under_the_root)
{
	char *p;

	root_set("/tmp/x//");
	p = root_path("/sys/bus/pci");
	CHECK_STR(p, "/tmp/x/sys/bus/pci");
	free(p);
	root_set(NULL);
	p = root_path("/sys");
	CHECK_STR(p, "/sys");
	free(p);
}

UNIT_MAIN(UNIT_T(parse_hex_takes_digits_and_an_optional_0x_and_rejects_the_rest),
	  UNIT_T(root_path_puts_every_absolute_path_under_the_root))
