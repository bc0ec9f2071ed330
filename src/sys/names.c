// SPDX-License-Identifier: GPL-2.0-or-later
#include <libudev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlopen.h"
#include "elf-note-dlopen.h"
#include "names.h"
#include "util.h"

/*
 * libudev is opened at the first names_open() on the running system (dlopen.c): the runs that
 * name no device (a udev event, boot, --version) never map it. Without it, names come from
 * pci.ids as in an image without a hwdb.
 */
static void *libudev_dl;
static typeof(udev_new) *sym_udev_new;
static typeof(udev_unref) *sym_udev_unref;
static typeof(udev_hwdb_new) *sym_udev_hwdb_new;
static typeof(udev_hwdb_unref) *sym_udev_hwdb_unref;
static typeof(udev_hwdb_get_properties_list_entry) *sym_udev_hwdb_get_properties_list_entry;
static typeof(udev_list_entry_get_next) *sym_udev_list_entry_get_next;
static typeof(udev_list_entry_get_name) *sym_udev_list_entry_get_name;
static typeof(udev_list_entry_get_value) *sym_udev_list_entry_get_value;

static int dlopen_libudev(void)
{
	static const char *const sonames[] = { "libudev.so.1", NULL };
	static const struct dlsym_entry syms[] = {
		DLSYM_ENTRY(udev_new),
		DLSYM_ENTRY(udev_unref),
		DLSYM_ENTRY(udev_hwdb_new),
		DLSYM_ENTRY(udev_hwdb_unref),
		DLSYM_ENTRY(udev_hwdb_get_properties_list_entry),
		DLSYM_ENTRY(udev_list_entry_get_next),
		DLSYM_ENTRY(udev_list_entry_get_name),
		DLSYM_ENTRY(udev_list_entry_get_value),
	};

	ELF_NOTE_DLOPEN("udev", "Vendor and device names from the udev hwdb", "recommended",
			"libudev.so.1");
	return dlopen_symbols(&libudev_dl, sonames, syms, ARRAY_SIZE(syms));
}

struct name_entry {
	uint32_t key; /* vendor, or vendor << 16 | device */
	uint32_t line;
	const char *name; /* points into names.text */
};

struct names {
	struct udev *udev;
	struct udev_hwdb *hwdb;
	char *text; /* pci.ids, cut into NUL-terminated names */
	struct name_entry *vendors, *devices;
	size_t n_vendors, n_devices;
};

/* Exactly four hex digits followed by a blank: an id field of pci.ids. */
static bool id_field(const char *s, uint16_t *id)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return false;
		v = v << 4 | (unsigned)d;
	}
	if (s[4] != ' ' && s[4] != '\t')
		return false;
	*id = (uint16_t)v;
	return true;
}

static void push(struct name_entry **v, size_t *n, size_t *cap, uint32_t key, uint32_t line,
		 const char *name)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = (struct name_entry){ .key = key, .line = line, .name = name };
}

static int cmp_entry(const void *a, const void *b)
{
	const struct name_entry *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * pci.ids: "VVVV  Vendor", then its devices "\tDDDD  Device", their subsystems "\t\tSSSS SSSS
 * Name" (not needed), '#' comments; the class section at the end ("C 02  Network controller",
 * "\t00  Ethernet controller") and any other line that is not a vendor end the current vendor,
 * so its subclasses are never taken for devices. Lines may end in CRLF; the last may lack its
 * newline.
 */
static void parse_pciids(struct names *n)
{
	size_t vcap = 0, dcap = 0;
	int32_t vendor = -1; /* the vendor whose devices follow, or -1 */
	uint32_t lineno = 0;
	char *line, *next;

	for (line = n->text; line && *line; line = next) {
		size_t len;
		uint16_t id;
		char *name;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		len = strlen(line);
		while (len > 0 &&
		       (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (line[0] == '\t' && line[1] == '\t')
			continue;
		if (line[0] == '\t') {
			if (vendor < 0 || !id_field(line + 1, &id))
				continue;
			name = line + 5 + strspn(line + 5, " \t");
			if (*name)
				push(&n->devices, &n->n_devices, &dcap, (uint32_t)vendor << 16 | id,
				     lineno, name);
			continue;
		}
		if (!id_field(line, &id)) {
			vendor = -1;
			continue;
		}
		vendor = id;
		name = line + 4 + strspn(line + 4, " \t");
		if (*name)
			push(&n->vendors, &n->n_vendors, &vcap, id, lineno, name);
	}
	if (n->vendors)
		qsort(n->vendors, n->n_vendors, sizeof(*n->vendors), cmp_entry);
	if (n->devices)
		qsort(n->devices, n->n_devices, sizeof(*n->devices), cmp_entry);
}

/* The first entry of the file with this key, in O(log n). */
static const char *find(const struct name_entry *v, size_t n, uint32_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].key == key ? v[lo].name : NULL;
}

struct names *names_open(void)
{
	static const char *const pciids[] = { "/usr/share/misc/pci.ids",
					      "/usr/share/hwdata/pci.ids" };
	struct names *n = xcalloc(1, sizeof(*n));

	if (root_is_host()) {
		/* the hwdb is the running system's: never used for another root */
		if (dlopen_libudev() == 0)
			n->udev = sym_udev_new();
		if (n->udev)
			n->hwdb = sym_udev_hwdb_new(n->udev);
		if (n->hwdb)
			return n;
		/* no hwdb (a minimal system, an initramfs): its pci.ids, if it has one */
	}
	for (size_t i = 0; i < ARRAY_SIZE(pciids) && !n->text; i++) {
		char *path = root_path("%s", pciids[i]);

		if (read_text(path, &n->text) < 0)
			n->text = NULL;
		free(path);
	}
	if (n->text)
		parse_pciids(n);
	return n;
}

void names_close(struct names *n)
{
	if (!n)
		return;
	if (n->hwdb)
		sym_udev_hwdb_unref(n->hwdb);
	if (n->udev)
		sym_udev_unref(n->udev);
	free(n->vendors);
	free(n->devices);
	free(n->text);
	free(n);
}

/*
 * The hwdb is asked with the vendor and device only: with the subsystem ids as well, its model
 * name becomes "Device (Subsystem)", which neither lspci nor pci.ids under --root print.
 */
static void hwdb_lookup(struct names *n, uint16_t vendor, uint16_t device, char **vendor_name,
			char **device_name)
{
	struct udev_list_entry *e;
	char modalias[32];

	snprintf(modalias, sizeof(modalias), "pci:v%08Xd%08X", vendor, device);
	for (e = sym_udev_hwdb_get_properties_list_entry(n->hwdb, modalias, 0); e;
	     e = sym_udev_list_entry_get_next(e)) {
		const char *key = sym_udev_list_entry_get_name(e),
			   *value = sym_udev_list_entry_get_value(e);

		if (!value || !*value)
			continue;
		if (streq(key, "ID_VENDOR_FROM_DATABASE") && !*vendor_name)
			*vendor_name = xstrdup(value);
		else if (streq(key, "ID_MODEL_FROM_DATABASE") && !*device_name)
			*device_name = xstrdup(value);
	}
}

void names_lookup(struct names *n, uint16_t vendor, uint16_t device, char **vendor_name,
		  char **device_name)
{
	const char *s;

	*vendor_name = NULL;
	*device_name = NULL;
	if (!n)
		return;
	if (n->hwdb) {
		hwdb_lookup(n, vendor, device, vendor_name, device_name);
		return;
	}
	s = find(n->vendors, n->n_vendors, vendor);
	if (s)
		*vendor_name = xstrdup(s);
	s = find(n->devices, n->n_devices, (uint32_t)vendor << 16 | device);
	if (s)
		*device_name = xstrdup(s);
}
