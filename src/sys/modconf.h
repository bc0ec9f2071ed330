/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "util.h"

/* "alias PATTERN MODULE" entries of one source, in the order modprobe meets them */
struct modconf_aliases {
	const char **pattern, **module; /* into the source's text (files) or owned (modprobe.d) */
	size_t n, cap;
};

/*
 * What modprobe would know about the root's modules, read without libkmod and only under the
 * root prefix: the kernel release's module folder, the modprobe.d folders' "blacklist",
 * "options" and "alias" lines with the kernel command line's modprobe.blacklist= and
 * NAME.param= (DIR/proc/cmdline), and the "pci:" and "vfio_pci:" aliases of modules.alias and
 * of the built-in modules (modules.builtin.modinfo). Read at the first question.
 */
struct modconf {
	bool loaded, aliases_loaded;
	int moddir_err;	       /* why moddir is NULL: -ENOENT (no release), -ENOTUNIQ (several) */
	int alias_err;	       /* why modules.alias could not be read (0: read) */
	char *moddir;	       /* DIR/lib/modules/VERSION */
	struct strv blacklist; /* module names, '-' as '_' */
	struct strv opt_name, opt_value;
	struct modconf_aliases conf;	 /* modprobe.d "alias" lines (owned strings) */
	char *alias_text, *builtin_text; /* modules.alias, modules.builtin.modinfo, cut in place */
	struct modconf_aliases modules;	 /* modules.alias's "pci:" lines */
	struct modconf_aliases builtin;	 /* the built-in modules' "pci:" aliases */
	/* their "vfio_pci:" ones apart: a variant lookup goes through these few only */
	struct modconf_aliases variants, builtin_variants;
};

/* modprobe's folders, first wins for a file name (kmod's default_config_paths) */
#define MODCONF_NDIRS 5
extern const char *const modconf_dirs[MODCONF_NDIRS];

/* The module folder (NULL with *err set when the release cannot be told). */
const char *modconf_moddir(struct modconf *mc, int *err);
/* NAME ('-' and '_' alike) is blacklisted in modprobe.d or by modprobe.blacklist=. */
bool modconf_blacklisted(struct modconf *mc, const char *name);
/* The options modprobe would give NAME, modprobe.d's then the command line's. 0, or -ENOENT. */
int modconf_options(struct modconf *mc, const char *name, char **options);
/*
 * The modules a PCI modalias ("pci:v...") resolves to, in libkmod's lookup order: the
 * modprobe.d "alias" lines that match, else modules.alias's (in file order, which is depmod's
 * module order, the order of libkmod's index), else the built-in modules'; vfio_pci and the
 * blacklisted dropped, each name once. Appended to *out: 0 (none found is 0 too); -ENODATA:
 * DIR has no modules.alias to read (ask libkmod); -EINVAL: not a PCI modalias.
 */
int modconf_alias_modules(struct modconf *mc, const char *modalias, struct strv *out);
/*
 * The VFIO variant driver for a modalias ("pci:v..."): the module, not vfio_pci, whose
 * "vfio_pci:" alias in modprobe.d, modules.alias or modules.builtin.modinfo matches it most
 * specifically (fewest wildcards, then most literal characters: libvirt's rule); a blacklisted
 * module is skipped, a built-in driver is not (it is never loaded, it is there). 0 with *module
 * set; -ENOENT: none; -EINVAL: not a PCI modalias.
 */
int modconf_vfio_variant(struct modconf *mc, const char *modalias, char **module);
void modconf_free(struct modconf *mc);
