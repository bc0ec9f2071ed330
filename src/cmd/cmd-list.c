// SPDX-License-Identifier: GPL-2.0-or-later
/* `list`: every PCI device, one line each: group, category, driver, claim state, tag, names. */
#include <errno.h>
#include <libsmartcols/libsmartcols.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
static typeof(scols_table_get_termwidth) *sym_scols_table_get_termwidth;
static typeof(scols_table_new_column) *sym_scols_table_new_column;
static typeof(scols_column_set_wrapfunc) *sym_scols_column_set_wrapfunc;
static typeof(scols_column_set_safechars) *sym_scols_column_set_safechars;
static typeof(scols_wrapnl_chunksize) *sym_scols_wrapnl_chunksize;
static typeof(scols_wrapnl_nextchunk) *sym_scols_wrapnl_nextchunk;
static typeof(scols_column_get_header) *sym_scols_column_get_header;
static typeof(scols_cell_set_data) *sym_scols_cell_set_data;
static typeof(scols_table_new_line) *sym_scols_table_new_line;
static typeof(scols_line_set_data) *sym_scols_line_set_data;
static typeof(scols_print_table) *sym_scols_print_table;

static int dlopen_libsmartcols(void)
{
	static const char *const sonames[] = { "libsmartcols.so.1", NULL };
	/* all there since libsmartcols 2.29 */
	static const struct dlsym_entry syms[] = {
		DLSYM_ENTRY(scols_new_table),		DLSYM_ENTRY(scols_unref_table),
		DLSYM_ENTRY(scols_table_get_termwidth), DLSYM_ENTRY(scols_table_new_column),
		DLSYM_ENTRY(scols_column_set_wrapfunc), DLSYM_ENTRY(scols_column_set_safechars),
		DLSYM_ENTRY(scols_wrapnl_chunksize),	DLSYM_ENTRY(scols_wrapnl_nextchunk),
		DLSYM_ENTRY(scols_column_get_header),	DLSYM_ENTRY(scols_cell_set_data),
		DLSYM_ENTRY(scols_table_new_line),	DLSYM_ENTRY(scols_line_set_data),
		DLSYM_ENTRY(scols_print_table),
	};

	ELF_NOTE_DLOPEN("smartcols", "The table of 'vfio-claim list'", "required",
			"libsmartcols.so.1");
	return dlopen_symbols(&libsmartcols_dl, sonames, syms, ARRAY_SIZE(syms));
}

/* A line of the table and its reason, set again once the width it wraps to is known. */
struct row {
	struct libscols_line *ln;
	char *reason;
};

/* The table being filled, and the width of each column's widest cell (its header's at least). */
struct table {
	struct libscols_table *tb;
	struct libscols_column *reason_col;
	size_t width[ARRAY_SIZE(columns)];
	size_t widest_word; /* of all the reasons */
	struct row *rows;   /* with -v, one per line */
	size_t nrows;
};

/*
 * How wide libsmartcols prints a text, in terminal cells. The program keeps the C locale, so
 * libsmartcols shows a byte that is not printable ASCII as "\xNN".
 */
static size_t cells(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s >= ' ' && *s <= '~' ? 1 : 4;
	return n;
}

static size_t longest_word(const char *s)
{
	size_t best = 0;

	while (*s) {
		size_t n = strcspn(s, " ");

		if (n > best)
			best = n;
		s += n;
		s += strspn(s, " ");
	}
	return best;
}

/*
 * The text with a newline for the blank before each word that would end past width. A word
 * longer than width gets a line of its own.
 */
static char *wrap_words(const char *text, size_t width)
{
	char *out = xstrdup(text), *line = out, *p = out;

	while (*p) {
		char *end = p + strcspn(p, " ");

		if (p > line && (size_t)(end - line) > width) {
			p[-1] = '\n';
			line = p;
		}
		p = *end ? end + 1 : end;
	}
	return out;
}

static void set_cell(struct table *t, struct libscols_line *ln, size_t col, const char *text)
{
	text = text && *text ? text : "-";
	sym_scols_line_set_data(ln, col, text);
	if (cells(text) > t->width[col])
		t->width[col] = cells(text);
}

static void table_line(struct table *t, const struct devinfo *di, bool verbose)
{
	struct libscols_line *ln = sym_scols_table_new_line(t->tb, NULL);
	const struct pci_dev *d = di->dev;
	char buf[32], *state, *used_by, *attached, *name;

	if (!ln)
		return;
	set_cell(t, ln, COL_DEVICE, d->addr);
	snprintf(buf, sizeof(buf), "%d", d->iommu_group);
	set_cell(t, ln, COL_GROUP, d->iommu_group >= 0 ? buf : NULL);
	set_cell(t, ln, COL_CATEGORY, pci_category_name(d));
	snprintf(buf, sizeof(buf), "%04x:%04x", d->vendor, d->device);
	set_cell(t, ln, COL_IDS, buf);
	set_cell(t, ln, COL_DRIVER, d->driver);
	state = state_text(di);
	set_cell(t, ln, COL_STATE, state);
	set_cell(t, ln, COL_TAG, di->tag);
	used_by = used_by_text(di);
	set_cell(t, ln, COL_USED_BY, used_by);
	attached = strv_join(&di->names, ",");
	set_cell(t, ln, COL_ATTACHED, attached);
	/* as lspci names it: the vendor, then the device */
	name = di->vendor_name || di->device_name
		   ? xasprintf("%s%s%s", di->vendor_name ? di->vendor_name : "",
			       di->vendor_name && di->device_name ? " " : "",
			       di->device_name ? di->device_name : "")
		   : NULL;
	set_cell(t, ln, COL_NAME, name);
	if (verbose) {
		char *reason =
		    di->decision ? xasprintf("%s: %s", di->decision, di->reason) : xstrdup("-");

		set_cell(t, ln, COL_REASON, reason);
		if (longest_word(reason) > t->widest_word)
			t->widest_word = longest_word(reason);
		t->rows[t->nrows++] = (struct row){ ln, reason };
	}
	free(state);
	free(used_by);
	free(attached);
	free(name);
}

/*
 * REASON on a terminal too narrow for the whole table, wrapped at blanks by one rule on every
 * libsmartcols. A wrap function that asks the column's width no longer works since 2.40: the
 * library cuts the text into chunks with it while it measures the column (width 0 then), sizes
 * the column to the widest chunk and never narrows a column with a wrap function of its own;
 * a plain SCOLS_FL_WRAP one is cut anywhere. So the width is decided here: every column but
 * NAME keeps its widest cell; REASON gets what is left, less up to a third kept for NAME, at
 * least its longest word and at most its longest text; libsmartcols cuts NAME to what remains.
 * Each reason gets a newline at the blank before each word that would end past that width, and
 * is printed one line per newline (scols_wrapnl_*, since 2.29); the header, padded to the width,
 * keeps the column from being narrowed further. Not on a terminal, nothing wraps.
 */
static void wrap_reasons(struct table *t)
{
	size_t term = sym_scols_table_get_termwidth(t->tb), fixed = ARRAY_SIZE(columns) - 1;
	size_t room, keep, width;
	char *header;

	if (!t->reason_col || !isatty(STDOUT_FILENO))
		return;
	for (size_t k = 0; k < ARRAY_SIZE(columns); k++)
		if (k != COL_NAME && k != COL_REASON)
			fixed += t->width[k];
	room = term > fixed ? term - fixed : 0;
	if (t->width[COL_NAME] + t->width[COL_REASON] <= room)
		return;
	keep = t->width[COL_NAME] < room / 3 ? t->width[COL_NAME] : room / 3;
	width = room - keep;
	if (width > t->width[COL_REASON])
		width = t->width[COL_REASON];
	if (width < t->widest_word)
		width = t->widest_word;
	if (width < strlen(columns[COL_REASON].name))
		width = strlen(columns[COL_REASON].name);

	header = xasprintf("%-*s", (int)width, columns[COL_REASON].name);

	sym_scols_cell_set_data(sym_scols_column_get_header(t->reason_col), header);
	free(header);
	for (size_t i = 0; i < t->nrows; i++) {
		char *text = wrap_words(t->rows[i].reason, width);

		sym_scols_line_set_data(t->rows[i].ln, COL_REASON, text);
		free(text);
	}
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
	struct table t = { 0 };
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
		t.tb = sym_scols_new_table();
		if (!t.tb) {
			log_error("cannot make a table: %s", errstr(-ENOMEM));
			r = EXIT_RUNTIME;
			goto out;
		}
		if (opts->verbose)
			t.rows = xcalloc(s.devs.n ? s.devs.n : 1, sizeof(*t.rows));
		for (size_t k = 0; k < ARRAY_SIZE(columns); k++) {
			struct libscols_column *cl;

			if (k == COL_REASON && !opts->verbose)
				continue;
			cl = sym_scols_table_new_column(t.tb, columns[k].name, columns[k].whint,
							columns[k].flags);
			t.width[k] = strlen(columns[k].name);
			/* one line of the table per line of the text (wrap_reasons()) */
			if (cl && k == COL_REASON) {
				sym_scols_column_set_wrapfunc(cl, sym_scols_wrapnl_chunksize,
							      sym_scols_wrapnl_nextchunk, NULL);
				sym_scols_column_set_safechars(cl, "\n");
				t.reason_col = cl;
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
			table_line(&t, &di, opts->verbose);
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
		wrap_reasons(&t);
		sym_scols_print_table(t.tb);
		if (notes.n)
			printf("\n");
		for (size_t k = 0; k < notes.n; k++)
			printf("%s\n", notes.v[k]);
	}
	if (!shown && (nsels || tag))
		log_info("no PCI device matches%s%s", tag ? " the tag " : "", tag ? tag : "");
out:
	if (t.tb)
		sym_scols_unref_table(t.tb);
	for (size_t i = 0; i < t.nrows; i++)
		free(t.rows[i].reason);
	free(t.rows);
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
