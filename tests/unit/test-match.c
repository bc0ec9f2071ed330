// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the selectors (src/core/match.c): the crashes and truncations the fuzzer
 * (tests/fuzz/fuzz-selector.c) found, each named after what it proves. The inputs are also in
 * tests/fuzz/corpus/selector/.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "unit.h"
#include "util.h"

/* "path=0000:00:1c.0" and HOPS hops "/00.0" */
static char *long_path(size_t hops)
{
	char *s = xstrdup("path=0000:00:1c.0"), *t;

	for (size_t i = 0; i < hops; i++) {
		t = xasprintf("%s/%02zx.%zu", s, i % 32, i % 8);
		free(s);
		s = t;
	}
	return s;
}

/* What the generated udev rule must accept: the device's devpath, one new bus per hop. */
static char *long_devpath(size_t hops)
{
	char *s = xstrdup("/devices/pci0000:00/0000:00:1c.0"), *t;

	for (size_t i = 0; i < hops; i++) {
		t = xasprintf("%s/0000:%02zx:%02zx.%zu", s, i + 1, i % 32, i % 8);
		free(s);
		s = t;
	}
	return s;
}

/* The glob of DEVPATH=="..." in a udev match, or NULL. */
static char *devpath_glob(const char *m)
{
	size_t n = strlen(m);

	if (strncmp(m, "DEVPATH==\"", 10) != 0 || n < 11 || m[n - 1] != '"')
		return NULL;
	return xstrndup(m + 10, n - 11);
}

TEST(a_path_of_20_hops_gets_a_udev_match_that_accepts_its_devpath)
{
	/* fuzz corpus: selector/path-20-hops; was a stack-buffer-overflow in selector_udev_match */
	char *text = long_path(20), *devpath = long_devpath(20), *m = NULL, *glob;
	struct selector sel;
	const char *why;

	CHECK(selector_parse(text, &sel, &why) == 0);
	m = selector_udev_match(&sel);
	glob = m ? devpath_glob(m) : NULL;
	CHECK(glob != NULL);
	CHECK(glob && fnmatch(glob, devpath, 0) == 0);
	CHECK(m && !strchr(m, '\n'));
	free(glob);
	free(m);
	selector_free(&sel);
	free(devpath);
	free(text);
}

TEST(a_path_of_255_hops_parses_completely_never_truncated)
{
	/* fuzz corpus: selector/path-255-hops; was cut silently at 256 bytes into a shorter path */
	char *text = long_path(255), *devpath = long_devpath(255), *m, *glob;
	struct selector sel;
	const char *why = NULL;

	CHECK(selector_parse(text, &sel, &why) == 0);
	CHECK_STR(sel.u.path, text + 5);
	m = selector_udev_match(&sel);
	glob = devpath_glob(m);
	CHECK(glob && fnmatch(glob, devpath, 0) == 0);
	free(glob);
	free(m);
	selector_free(&sel);
	free(devpath);
	free(text);
}

TEST(a_path_longer_than_a_pci_domain_can_be_fails_naming_the_limit)
{
	/* fuzz corpus: selector/path-256-hops: a domain has 256 buses, so at most 255 hops */
	char *text = long_path(256);
	struct selector sel;
	const char *why = NULL;

	CHECK(selector_parse(text, &sel, &why) == -EINVAL);
	CHECK_CONTAINS(why, "at most 255 hops");
	selector_free(&sel);
	free(text);
}

TEST(a_path_past_the_old_256_byte_buffer_keeps_every_hop)
{
	/* 49 hops: the old 256-byte buffer kept 48 and a half ("/00"), a path no device has */
	char *text = long_path(49);
	struct selector sel;
	const char *why = NULL;

	CHECK(selector_parse(text, &sel, &why) == 0);
	CHECK_STR(sel.u.path, text + 5);
	selector_free(&sel);
	free(text);
}

TEST(a_path_starting_with_a_slash_is_refused_like_an_empty_hop)
{
	/* fuzz corpus: selector/crash-path-leading-slash: was read as 'path=0000:01:00.0' */
	struct selector sel;
	const char *why = NULL;

	CHECK(selector_parse("path=/0000:01:00.0", &sel, &why) == -EINVAL);
	CHECK_CONTAINS(why, "a PCI path is path=");
	selector_free(&sel);
}

TEST(vfs_of_selects_the_virtual_functions_of_one_physical_function)
{
	struct pci_dev vf = { .addr = "0000:18:01.0" }, other = { .addr = "0000:19:01.0" };
	struct pci_dev pf = { .addr = "0000:18:00.0" };
	struct selector sel;
	const char *why = NULL;
	char *m;

	memcpy(vf.physfn, "0000:18:00.0", 13);
	memcpy(other.physfn, "0000:19:00.0", 13);
	CHECK(selector_parse("vfs-of=18:00.0", &sel, &why) == 0);
	CHECK(sel.kind == SEL_VFS_OF);
	CHECK_STR(sel.u.pf, "0000:18:00.0");
	CHECK(selector_match(&sel, &vf));
	CHECK(!selector_match(&sel, &other));
	CHECK(!selector_match(&sel, &pf)); /* not the PF itself */
	m = selector_udev_match(&sel);
	CHECK_STR(m, "ATTR{physfn/sriov_drivers_autoprobe}==\"0\"");
	free(m);
	selector_free(&sel);
	for (const char *const *bad =
		 (const char *const[]){ "vfs-of=18:00", "vfs-of=18:00.*",
					"vfs-of=", "vfs-of=0000:18:00.8", "vfs-of=x", NULL };
	     *bad; bad++) {
		CHECK(selector_parse(*bad, &sel, &why) == -EINVAL);
		CHECK_CONTAINS(why, "vfs-of= takes the address of an SR-IOV physical function");
		selector_free(&sel);
	}
}

TEST(a_device_address_gives_its_four_fields_and_only_the_kernels_form_is_taken)
{
	struct pci_dev d = { 0 };

	CHECK(pci_dev_set_addr(&d, "ffff:ab:1f.7") == 0);
	CHECK(d.domain == 0xffff && d.bus == 0xab && d.slot == 0x1f && d.func == 7);
	CHECK(strcmp(d.addr, "ffff:ab:1f.7") == 0);
	CHECK(pci_dev_set_addr(&d, "0000:00:02.0") == 0);
	CHECK(d.domain == 0 && d.bus == 0 && d.slot == 2 && d.func == 0);
	/* upper case, a function past 7, a short or long form: refused, d unchanged */
	CHECK(pci_dev_set_addr(&d, "0000:0A:00.0") == -EINVAL);
	CHECK(pci_dev_set_addr(&d, "0000:00:00.8") == -EINVAL);
	CHECK(pci_dev_set_addr(&d, "00:02.0") == -EINVAL);
	CHECK(pci_dev_set_addr(&d, "0000:00:02.00") == -EINVAL);
	CHECK(d.slot == 2 && strcmp(d.addr, "0000:00:02.0") == 0);
}

UNIT_MAIN(UNIT_T(a_path_of_20_hops_gets_a_udev_match_that_accepts_its_devpath),
	  UNIT_T(a_path_of_255_hops_parses_completely_never_truncated),
	  UNIT_T(a_path_longer_than_a_pci_domain_can_be_fails_naming_the_limit),
	  UNIT_T(a_path_past_the_old_256_byte_buffer_keeps_every_hop),
	  UNIT_T(a_path_starting_with_a_slash_is_refused_like_an_empty_hop),
	  UNIT_T(vfs_of_selects_the_virtual_functions_of_one_physical_function),
	  UNIT_T(a_device_address_gives_its_four_fields_and_only_the_kernels_form_is_taken))
