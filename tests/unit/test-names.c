// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of PCI vendor and device names (src/sys/names.c) from a pci.ids under --root. */
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include "names.h"
#include "unit.h"
#include "util.h"

static char root[] = "/tmp/vfio-claim-names-XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A fresh root holding FILE (relative to the root) with CONTENT; the root is then --root. */
static void make_root(const char *file, const char *content)
{
	CHECK(mkdtemp(strcpy(root, "/tmp/vfio-claim-names-XXXXXX")) != NULL);
	if (file) {
		char *path = xasprintf("%s%s", root, file), *dir = xstrdup(path);
		FILE *f;

		*strrchr(dir, '/') = '\0';
		CHECK(mkdir_p(dir, 0755) == 0);
		f = fopen(path, "w");
		CHECK(f != NULL);
		if (f) {
			fputs(content, f);
			fclose(f);
		}
		free(dir);
		free(path);
	}
	root_set(root);
}

static void remove_root(void)
{
	root_set(NULL);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* "vendor|device" for one lookup, "(null)" for an unknown name. */
static char *lookup(struct names *n, uint16_t vendor, uint16_t device)
{
	char *v, *d, *s;

	names_lookup(n, vendor, device, &v, &d);
	s = xasprintf("%s|%s", v ? v : "(null)", d ? d : "(null)");
	free(v);
	free(d);
	return s;
}

#define CHECK_LOOKUP(n, vendor, device, want)                                                      \
	do {                                                                                       \
		char *s_ = lookup((n), (vendor), (device));                                        \
		CHECK_STR(s_, (want));                                                             \
		free(s_);                                                                          \
	} while (0)

static const char pciids[] =
    "#\n"
    "#\tList of PCI ID's\n"
    "#\n"
    "# Vendors, devices and subsystems.\n"
    "0001  SafeNet (wrong ID)\n"
    "8086  Intel Corporation\n"
    "\t100e  82540EM Gigabit Ethernet Controller\n"
    "\t\t1028 002e  Optiplex GX260\n"
    "# a comment between devices keeps the vendor\n"
    "\t10d3  82574L Gigabit Network Connection\n"
    "1af4  Red Hat, Inc.\n"
    "\t1000  Virtio network device\n"
    "1b36  Red Hat, Inc.\n"
    "\t0010  QEMU NVM Express Controller\n"
    "\n"
    "# List of known device classes, subclasses and programming interfaces\n"
    "C 01  Mass storage controller\n"
    "\t08  Non-Volatile memory controller\n"
    "\t\t02  NVM Express\n"
    "C 0c  Serial bus controller\n"
    "\t0003  Not a device: a line of the class section\n"
    "\t03  USB controller\n";

TEST(vendor_and_device_names_come_from_the_roots_pci_ids)
{
	struct names *n;

	make_root("/usr/share/misc/pci.ids", pciids);
	n = names_open();
	CHECK_LOOKUP(n, 0x8086, 0x100e, "Intel Corporation|82540EM Gigabit Ethernet Controller");
	CHECK_LOOKUP(n, 0x8086, 0x10d3, "Intel Corporation|82574L Gigabit Network Connection");
	CHECK_LOOKUP(n, 0x1b36, 0x0010, "Red Hat, Inc.|QEMU NVM Express Controller");
	CHECK_LOOKUP(n, 0x0001, 0x0000, "SafeNet (wrong ID)|(null)");
	names_close(n);
	remove_root();
}

TEST(a_vendor_without_that_device_has_a_vendor_name_only)
{
	struct names *n;

	make_root("/usr/share/misc/pci.ids", pciids);
	n = names_open();
	CHECK_LOOKUP(n, 0x8086, 0x1234, "Intel Corporation|(null)");
	/* a subsystem line is not a device */
	CHECK_LOOKUP(n, 0x8086, 0x1028, "Intel Corporation|(null)");
	CHECK_LOOKUP(n, 0xabcd, 0x100e, "(null)|(null)");
	names_close(n);
	remove_root();
}

TEST(a_device_of_the_next_vendor_is_not_found_for_the_previous_one)
{
	struct names *n;

	make_root("/usr/share/misc/pci.ids", pciids);
	n = names_open();
	CHECK_LOOKUP(n, 0x1af4, 0x0010, "Red Hat, Inc.|(null)");
	CHECK_LOOKUP(n, 0x1b36, 0x1000, "Red Hat, Inc.|(null)");
	CHECK_LOOKUP(n, 0x1af4, 0x1000, "Red Hat, Inc.|Virtio network device");
	names_close(n);
	remove_root();
}

TEST(the_class_section_is_not_taken_for_vendors_or_devices)
{
	struct names *n;

	make_root("/usr/share/misc/pci.ids", pciids);
	n = names_open();
	/* the last vendor before "C 01" keeps only its own device */
	CHECK_LOOKUP(n, 0x1b36, 0x0003, "Red Hat, Inc.|(null)");
	CHECK_LOOKUP(n, 0x1b36, 0x0008, "Red Hat, Inc.|(null)");
	CHECK_LOOKUP(n, 0x0c03, 0x0000, "(null)|(null)");
	CHECK_LOOKUP(n, 0x0108, 0x0002, "(null)|(null)");
	names_close(n);
	remove_root();
}

TEST(names_keep_their_first_letter_and_nothing_after_their_end)
{
	struct names *n;

	make_root("/usr/share/misc/pci.ids", "1234  A\n"
					     "\t0001  B\n"
					     "1235\tTabbed Vendor   \n"
					     "\t0002\tTabbed Device\t\n");
	n = names_open();
	CHECK_LOOKUP(n, 0x1234, 0x0001, "A|B");
	CHECK_LOOKUP(n, 0x1235, 0x0002, "Tabbed Vendor|Tabbed Device");
	names_close(n);
	remove_root();
}

TEST(a_file_without_a_final_newline_or_with_crlf_lines_is_read)
{
	struct names *n;

	make_root("/usr/share/misc/pci.ids", "8086  Intel Corporation\r\n"
					     "\t100e  82540EM Gigabit Ethernet Controller\r\n"
					     "10de  NVIDIA Corporation\r\n"
					     "\t1c82  GP107 [GeForce GTX 1050 Ti]");
	n = names_open();
	CHECK_LOOKUP(n, 0x8086, 0x100e, "Intel Corporation|82540EM Gigabit Ethernet Controller");
	CHECK_LOOKUP(n, 0x10de, 0x1c82, "NVIDIA Corporation|GP107 [GeForce GTX 1050 Ti]");
	names_close(n);
	remove_root();
}

TEST(hwdata_pci_ids_is_read_when_misc_has_none)
{
	struct names *n;

	make_root("/usr/share/hwdata/pci.ids", "10ec  Realtek Semiconductor Co., Ltd.\n");
	n = names_open();
	CHECK_LOOKUP(n, 0x10ec, 0x8168, "Realtek Semiconductor Co., Ltd.|(null)");
	names_close(n);
	remove_root();
}

TEST(the_first_of_two_entries_with_one_id_wins_and_unsorted_files_are_found)
{
	struct names *n;

	make_root("/usr/share/misc/pci.ids", "ffff  Last\n"
					     "\t0001  Z\n"
					     "0002  First\n"
					     "\t0001  One\n"
					     "\t0001  Duplicate\n"
					     "0002  Again\n");
	n = names_open();
	CHECK_LOOKUP(n, 0x0002, 0x0001, "First|One");
	CHECK_LOOKUP(n, 0xffff, 0x0001, "Last|Z");
	names_close(n);
	remove_root();
}

TEST(under_a_root_without_pci_ids_nothing_has_a_name_not_even_from_the_hosts_hwdb)
{
	struct names *n;

	make_root(NULL, NULL);
	n = names_open();
	CHECK_LOOKUP(n, 0x8086, 0x100e, "(null)|(null)");
	names_close(n);
	names_close(NULL);
	remove_root();
}

TEST(on_the_running_system_names_come_from_the_hwdb)
{
	struct names *n;
	char *v, *d;

	root_set(NULL);
	n = names_open();
	names_lookup(n, 0x8086, 0x100e, &v, &d);
	if (!v && access("/lib/udev/hwdb.bin", F_OK) != 0 &&
	    access("/etc/udev/hwdb.bin", F_OK) != 0)
		fprintf(stderr, "    (this machine has no udev hwdb: nothing to compare)\n");
	else {
		CHECK_STR(v, "Intel Corporation");
		/* the device's own name, as lspci prints it, without a subsystem's */
		CHECK_STR(d, "82540EM Gigabit Ethernet Controller");
	}
	free(v);
	free(d);
	names_close(n);
}

UNIT_MAIN(UNIT_T(vendor_and_device_names_come_from_the_roots_pci_ids),
	  UNIT_T(a_vendor_without_that_device_has_a_vendor_name_only),
	  UNIT_T(a_device_of_the_next_vendor_is_not_found_for_the_previous_one),
	  UNIT_T(the_class_section_is_not_taken_for_vendors_or_devices),
	  UNIT_T(names_keep_their_first_letter_and_nothing_after_their_end),
	  UNIT_T(a_file_without_a_final_newline_or_with_crlf_lines_is_read),
	  UNIT_T(hwdata_pci_ids_is_read_when_misc_has_none),
	  UNIT_T(the_first_of_two_entries_with_one_id_wins_and_unsorted_files_are_found),
	  UNIT_T(under_a_root_without_pci_ids_nothing_has_a_name_not_even_from_the_hosts_hwdb),
	  UNIT_T(on_the_running_system_names_come_from_the_hwdb))
