/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "util.h"

/*
 * What modprobe would know about the root's modules, read without libkmod and only under the
 * root prefix: the kernel release's module folder, the modprobe.d folders' "blacklist" and
 * "options" lines with the kernel command line's modprobe.blacklist= and NAME.param=
 * (DIR/proc/cmdline), and the "vfio_pci:" aliases of modules.alias. Read at the first question.
 */
struct modconf {
	bool loaded, aliases_loaded;
	int moddir_err;	       /* why moddir is NULL: -ENOENT (no release), -ENOTUNIQ (several) */
	char *moddir;	       /* DIR/lib/modules/VERSION */
	struct strv blacklist; /* module names, '-' as '_' */
	struct strv opt_name, opt_value;
	struct strv variant_pattern, variant_module; /* modules.alias "alias vfio_pci:..." lines */
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
 * The VFIO variant driver for a modalias ("pci:v..."): the module, not vfio_pci and not
 * blacklisted, whose "vfio_pci:" alias in modules.alias matches it most specifically (fewest
 * wildcards, then most literal characters: libvirt's rule). 0 with *module set; -ENOENT: none;
 * -EINVAL: not a PCI modalias.
 */
int modconf_vfio_variant(struct modconf *mc, const char *modalias, char **module);
void modconf_free(struct modconf *mc);
