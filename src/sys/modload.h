/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "util.h"

/*
 * The modules of the root's kernel: /lib/modules/VERSION and the modprobe.d folders. VERSION:
 * uname() on the running system; under --root, DIR/proc/sys/kernel/osrelease, else the only
 * folder in DIR/lib/modules. Made without I/O; libkmod is opened at the first lookup or
 * insertion (a missing libkmod is logged then, once, and those calls fail with -ELIBACC).
 */
struct modules;
struct modules *modules_new(void);
void modules_free(struct modules *m);
/*
 * Loaded, built in, or inserted now with its dependencies; modprobe.d 'install' commands are
 * ignored. -ENOENT: no such module for this kernel (or no kernel release); -EOPNOTSUPP: not loaded
 * under
 * --root, and DIR/sys is not the running kernel's sysfs, so nothing is inserted; other negative
 * errnos come from the insertion (-ENOEXEC, -EPERM, ...).
 */
int modload_ensure(struct modules *m, const char *name);
/*
 * The modules (not vfio-pci) whose aliases match the modalias, as modprobe finds them: the
 * root's modprobe.d and command-line blacklists honoured. Read from the module folder's text
 * files (modconf_alias_modules(), the answer libkmod gives, without mapping it); libkmod only
 * when modules.alias is missing. Appended to *modules; 0, -ENOENT when there is none,
 * -ELIBACC without libkmod.
 */
int modload_alias_modules(struct modules *m, const char *modalias, struct strv *modules);
/* The first of them, in *module. */
int modload_lookup_alias(struct modules *m, const char *modalias, char **module);
/*
 * The VFIO variant driver for a device (SPEC §7): the module, not vfio_pci, whose "vfio_pci:"
 * alias (modprobe.d, modules.alias, built-in drivers' modules.builtin.modinfo) matches the
 * modalias most specifically (fewest wildcards, then most literal characters; blacklisted
 * modules are skipped, built-in drivers are not). 0 with *module set, -ENOENT: none.
 * No libkmod: the files are read by modconf.c.
 */
int modload_vfio_variant(struct modules *m, const char *modalias, char **module);
/* Live or built in, from DIR/sys/module and DIR's modules.builtin only (no libkmod). */
bool module_loaded(struct modules *m, const char *name);
/* NAME is built into the kernel (modules.builtin; under --root DIR's only). */
bool modload_builtin(struct modules *m, const char *name);
/*
 * The kernel has NAME: loaded, built in, or a module file that modules.dep lists for it.
 * 0, or -ENOENT.
 */
int modload_present(struct modules *m, const char *name);
/*
 * The options modprobe would give NAME ("ids=10de:1b80 disable_vga=1"): from the modprobe.d
 * folders and DIR/proc/cmdline (NAME.opt=), as modprobe gathers them (modconf.c, no libkmod).
 * 0, or -ENOENT.
 */
int modload_options(struct modules *m, const char *name, char **options);
