// SPDX-License-Identifier: GPL-2.0-or-later
/* `list`: every PCI device, one line each: group, category, driver, claim state, tag, names. */
#include <errno.h>
#include <libsmartcols/libsmartcols.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "devobj.h"
#include "dlopen.h"
#include "elf-note-dlopen.h"
#include "guest.h"
#include "json.h"
#include "log.h"
#include "names.h"

enum {
	COL_DEVICE,
	COL_GROUP,
	COL_CATEGORY,
	COL_IDS,
	COL_DRIVER,
	COL_STATE,
	COL_TAG,
	COL_USED_BY,
	COL_ATTACHED,
	COL_NAME,
	COL_REASON
};

static const struct column {
	const char *name;
	double whint;
	int flags;
} columns[] = {
	[COL_DEVICE] = { "DEVICE", 12, 0 },
	[COL_GROUP] = { "GROUP", 5, SCOLS_FL_RIGHT },
	[COL_CATEGORY] = { "CATEGORY", 8, 0 },
	[COL_IDS] = { "IDS", 9, 0 },
	[COL_DRIVER] = { "DRIVER", 0.1, 0 },
	[COL_STATE] = { "STATE", 0.1, 0 },
	/* on a narrow terminal the name is cut and the reason wraps within its column: the
	 * columns a person acts on (state, tag, holder, attached names) are never cut */
	[COL_TAG] = { "TAG", 0.1, 0 },
	[COL_USED_BY] = { "USED-BY", 0.1, 0 },
	[COL_ATTACHED] = { "ATTACHED", 0.1, 0 },
	[COL_NAME] = { "NAME", 0.2, SCOLS_FL_TRUNC },
	[COL_REASON] = { "REASON", 0.3, SCOLS_FL_WRAP },
};

/*
 * The STATE column: what happened to it this boot; else "host" when the host needs it, or what
 * the plan would do: "selected" (to be claimed), "refused" (selected, vetoed by a safety rule).
 */
static char *state_text(const struct devinfo *di)
{
	if (di->guests.n) {
		char *g = guest_display(di->guests.v[0]);
		char *t =
		    xasprintf("claimed by guest %s%s", g, di->guests.n > 1 ? " (and more)" : "");

		free(g);
		return t;
	}
	if (di->follows_guests && !(di->state && streq(di->state, "claimed")))
		return xstrdup("on host, for guests");
	if (di->state && (streq(di->state, "claimed") || streq(di->state, "held")))
		return xasprintf("%s (%s)", di->state, di->stage ? di->stage : "stage unknown");
	if (di->state)
		return xstrdup(di->state);
	if (di->protected_by.n)
		return xstrdup("host");
	if (di->decision && streq(di->decision, "refuse"))
		return xstrdup("refused");
	if (di->decision && streq(di->decision, "claim"))
		return xstrdup("selected");
	return xstrdup("-");
}

/* "test-vm-1 (4242 qemu-system-x86)" for each holder, the guest's name first. */
static char *used_by_text(const struct devinfo *di)
{
	struct strv parts = { 0 };
	char *out;

	for (size_t i = 0; i < di->nholders; i++) {
		const struct holder *h = &di->holders[i];
		const char *cmd = h->command ? h->command : "?";

		strv_push(&parts, h->vm ? xasprintf("%s (%d %s)", h->vm, h->pid, cmd)
					: xasprintf("%d %s", h->pid, cmd));
	}
	out = strv_join(&parts, ", ");
	strv_free(&parts);
	return out;
}

/* libsmartcols, opened when the table is printed (dlopen.c): no other run maps it */
static void *libsmartcols_dl;
static typeof(scols_new_table) *sym_scols_new_table;
static typeof(scols_unref_table) *sym_scols_unref_table;
static typeof(scols_table_new_column) *sym_scols_table_new_column;
static typeof(scols_column_set_wrapfunc) *sym_scols_column_set_wrapfunc;
static typeof(scols_column_get_width) *sym_scols_column_get_width;
static typeof(scols_column_get_header) *sym_scols_column_get_header;
static typeof(scols_cell_set_data) *sym_scols_cell_set_data;
static typeof(scols_table_new_line) *sym_scols_table_new_line;
static typeof(scols_line_set_data) *sym_scols_line_set_data;
static typeof(scols_print_table) *sym_scols_print_table;

static int dlopen_libsmartcols(void)
{
	static const char *const sonames[] = { "libsmartcols.so.1", NULL };
	static const struct dlsym_entry syms[] = {
		DLSYM_ENTRY(scols_new_table),	     DLSYM_ENTRY(scols_unref_table),
		DLSYM_ENTRY(scols_table_new_column), DLSYM_ENTRY(scols_column_set_wrapfunc),
		DLSYM_ENTRY(scols_column_get_width), DLSYM_ENTRY(scols_column_get_header),
		DLSYM_ENTRY(scols_cell_set_data),    DLSYM_ENTRY(scols_table_new_line),
		DLSYM_ENTRY(scols_line_set_data),    DLSYM_ENTRY(scols_print_table),
	};

	ELF_NOTE_DLOPEN("smartcols", "The table of 'vfio-claim list'", "required",
			"libsmartcols.so.1");
	return dlopen_symbols(&libsmartcols_dl, sonames, syms, ARRAY_SIZE(syms));
}

/*
 * REASON wraps at word boundaries (libsmartcols' own wrap cuts anywhere). The widest chunk is
 * the whole text, so the column is as wide as that where the terminal allows; on a narrow one
 * libsmartcols narrows it down to its header's width, which run() makes the longest word's, and
 * each line of the cell ends at the last blank that fits.
 */
static size_t whole_text(const struct libscols_column *cl, const char *data, void *userdata)
{
	return data ? strlen(data) : 0;
}

static size_t longest_word(const char *data)
{
	size_t best = 0;

	while (data && *data) {
		size_t n = strcspn(data, " ");

		if (n > best)
			best = n;
		data += n;
		data += strspn(data, " ");
	}
	return best;
}

static char *next_line_of_words(const struct libscols_column *cl, char *data, void *userdata)
{
	size_t width = sym_scols_column_get_width(cl);
	char *cut = NULL;

	if (!data || !width || strlen(data) <= width)
		return NULL;
	for (char *p = data; p <= data + width && *p; p++)
		if (*p == ' ')
			cut = p;
	if (!cut)
		cut = strchr(data, ' '); /* a word wider than the column: it overflows */
	if (!cut)
		return NULL;
	*cut = '\0';
	return cut + 1;
}

static void set_cell(struct libscols_line *ln, size_t col, const char *text)
{
	sym_scols_line_set_data(ln, col, text && *text ? text : "-");
}

static void table_line(struct libscols_table *tb, const struct devinfo *di, bool verbose,
		       size_t *widest_word)
{
	struct libscols_line *ln = sym_scols_table_new_line(tb, NULL);
	const struct pci_dev *d = di->dev;
	char buf[32], *state, *used_by, *attached, *name, *reason = NULL;

	if (!ln)
		return;
	set_cell(ln, COL_DEVICE, d->addr);
	snprintf(buf, sizeof(buf), "%d", d->iommu_group);
	set_cell(ln, COL_GROUP, d->iommu_group >= 0 ? buf : NULL);
	set_cell(ln, COL_CATEGORY, pci_category_name(d));
	snprintf(buf, sizeof(buf), "%04x:%04x", d->vendor, d->device);
	set_cell(ln, COL_IDS, buf);
	set_cell(ln, COL_DRIVER, d->driver);
	state = state_text(di);
	set_cell(ln, COL_STATE, state);
	set_cell(ln, COL_TAG, di->tag);
	used_by = used_by_text(di);
	set_cell(ln, COL_USED_BY, used_by);
	attached = strv_join(&di->names, ",");
	set_cell(ln, COL_ATTACHED, attached);
	/* as lspci names it: the vendor, then the device */
	name = di->vendor_name || di->device_name
		   ? xasprintf("%s%s%s", di->vendor_name ? di->vendor_name : "",
			       di->vendor_name && di->device_name ? " " : "",
			       di->device_name ? di->device_name : "")
		   : NULL;
	set_cell(ln, COL_NAME, name);
	if (verbose && di->decision)
		reason = xasprintf("%s: %s", di->decision, di->reason);
	if (verbose)
		set_cell(ln, COL_REASON, reason);
	if (reason && longest_word(reason) > *widest_word)
		*widest_word = longest_word(reason);
	free(state);
	free(used_by);
	free(attached);
	free(name);
	free(reason);
}

/* A device the filters let through: any selector given, and the tag given. */
static bool wanted(const struct pci_dev *d, const struct devinfo *di, const struct selector *sels,
		   size_t nsels, const char *tag)
{
	bool match = nsels == 0;

	for (size_t k = 0; k < nsels && !match; k++)
		match = selector_match(&sels[k], d);
	return match && (!tag || (di->tag && streq(di->tag, tag)));
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "tag", required_argument, NULL, 't' },
		{},
	};
	struct libscols_table *tb = NULL;
	struct libscols_column *reason_col = NULL;
	size_t widest_word = 0;
	struct selector *sels = NULL;
	struct strv notes = { 0 };
	const char *tag = NULL;
	struct names *db = NULL;
	size_t nsels = 0, shown = 0;
	struct jsonw w;
	struct session s;
	int c, r = 0;

	while ((c = cmd_getopt(cmd, opts, argc, argv, "t:", longopts)) != CMD_OPT_END) {
		if (c != 't')
			return cmd_exit_code(c);
		tag = optarg;
	}
	if (cmd_parse_selectors(NULL, argc, argv, optind, &sels, &nsels) < 0)
		return EXIT_USAGE;
	if (session_open(&s) < 0) {
		r = EXIT_RUNTIME;
		goto out_sels;
	}
	session_plan(&s, NULL);
	db = names_open();
	if (opts->json) {
		jsonw_init(&w, stdout);
		jsonw_object_open(&w, NULL);
		jsonw_array_open(&w, "devices");
	} else {
		if (dlopen_libsmartcols() < 0) {
			log_error(
			    "libsmartcols is not installed (package libsmartcols1): the table "
			    "cannot be printed ('list --json' needs no library)");
			r = EXIT_RUNTIME;
			goto out;
		}
		tb = sym_scols_new_table();
		if (!tb) {
			log_error("cannot make a table: %s", errstr(-ENOMEM));
			r = EXIT_RUNTIME;
			goto out;
		}
		for (size_t k = 0; k < ARRAY_SIZE(columns); k++) {
			struct libscols_column *cl;

			if (k == COL_REASON && !opts->verbose)
				continue;
			cl = sym_scols_table_new_column(tb, columns[k].name, columns[k].whint,
							columns[k].flags);
			if (cl && k == COL_REASON) {
				sym_scols_column_set_wrapfunc(cl, whole_text, next_line_of_words,
							      NULL);
				reason_col = cl;
			}
		}
	}
	for (size_t i = 0; i < s.devs.n; i++) {
		struct devinfo di;

		devinfo_get(&di, &s, db, i);
		if (!wanted(&s.devs.v[i], &di, sels, nsels, tag)) {
			devinfo_free(&di);
			continue;
		}
		shown++;
		if (opts->json) {
			devinfo_json_open(&w, NULL, &di);
			jsonw_object_close(&w);
		} else {
			table_line(tb, &di, opts->verbose, &widest_word);
			for (size_t k = 0; k < di.protected_by.n; k++)
				strv_push(&notes, xasprintf("%s: the host needs it: %s",
							    di.dev->addr, di.protected_by.v[k]));
		}
		devinfo_free(&di);
	}
	if (opts->json) {
		jsonw_array_close(&w);
		jsonw_object_close(&w);
	} else {
		/*
		 * libsmartcols narrows a column down to its header's width: a header as wide as
		 * the longest word (trailing blanks) keeps every word of REASON whole
		 */
		if (reason_col && widest_word > strlen("REASON")) {
			char *header = xasprintf("%-*s", (int)widest_word, "REASON");

			sym_scols_cell_set_data(sym_scols_column_get_header(reason_col), header);
			free(header);
		}
		sym_scols_print_table(tb);
		if (notes.n)
			printf("\n");
		for (size_t k = 0; k < notes.n; k++)
			printf("%s\n", notes.v[k]);
	}
	if (!shown && (nsels || tag))
		log_info("no PCI device matches%s%s", tag ? " the tag " : "", tag ? tag : "");
out:
	if (tb)
		sym_scols_unref_table(tb);
	strv_free(&notes);
	names_close(db);
	session_close(&s);
out_sels:
	cmd_selectors_free(sels, nsels);
	return r;
}

const struct cmd cmd_list = {
	.name = "list",
	.args = "[--tag TAG] [SELECTOR...]",
	.help = "every PCI device: group, category, driver, claim state, tag, attached names "
		"(and why, with -v)",
	.options_help =
	    " -t, --tag TAG    only the devices claimed (or to be claimed) with this tag\n",
	.run = run,
};
