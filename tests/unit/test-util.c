// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the small helpers in src/sys/util.c. */
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

TEST(format_time_gives_utc_iso_8601_without_the_time_zone)
{
	char buf[64];

	format_time(0, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
	format_time(951782400, buf, sizeof(buf)); /* a leap day */
	CHECK_STR(buf, "2000-02-29T00:00:00Z");
	format_time(1795950000, buf, sizeof(buf));
	CHECK_STR(buf, "2026-11-29T11:00:00Z");
	format_time(4102444799LL, buf, sizeof(buf));
	CHECK_STR(buf, "2099-12-31T23:59:59Z");
}

TEST(strv_join_puts_the_separator_between_the_strings_only)
{
	struct strv sv = { 0 };
	char *s = strv_join(&sv, ",");

	CHECK_STR(s, "");
	free(s);
	strv_push(&sv, xstrdup("a"));
	s = strv_join(&sv, ", ");
	CHECK_STR(s, "a");
	free(s);
	strv_push(&sv, xstrdup("bc"));
	strv_push(&sv, xstrdup(""));
	s = strv_join(&sv, ", ");
	CHECK_STR(s, "a, bc, ");
	free(s);
	strv_free(&sv);
}

UNIT_MAIN(UNIT_T(format_time_gives_utc_iso_8601_without_the_time_zone),
	  UNIT_T(parse_hex_takes_digits_and_an_optional_0x_and_rejects_the_rest),
	  UNIT_T(root_path_puts_every_absolute_path_under_the_root),
	  UNIT_T(strv_join_puts_the_separator_between_the_strings_only))
