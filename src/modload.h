/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "util.h"

struct kmod_ctx;

/*
 * libkmod context for the root's /lib/modules/VERSION and modprobe.d folders, or NULL with errno
 * set. VERSION: uname() on the running system; under --root, DIR/proc/sys/kernel/osrelease, else
 * the only folder in DIR/lib/modules (ENOENT: none; ENOTUNIQ: several).
 */
struct kmod_ctx *modload_new(void);
void modload_unref(struct kmod_ctx *ctx);
/*
 * Loaded, built in, or inserted now with its dependencies; modprobe.d 'install' commands are
 * ignored. -ENOENT: no such module for this kernel (or no context); -EOPNOTSUPP: not loaded under
 * --root, and DIR/sys is not the running kernel's sysfs, so nothing is inserted; other negative
 * errnos come from the insertion (-ENOEXEC, -EPERM, ...).
 */
int modload_ensure(struct kmod_ctx *ctx, const char *name);
/*
 * The modules (not vfio-pci) whose aliases match the modalias, as modprobe finds them:
 * modprobe.d blacklists honoured. Appended to *modules; 0, or -ENOENT when there is none.
 */
int modload_alias_modules(struct kmod_ctx *ctx, const char *modalias, struct strv *modules);
/* The first of them, in *module. */
int modload_lookup_alias(struct kmod_ctx *ctx, const char *modalias, char **module);
/*
 * The VFIO variant driver for a device (SPEC §7): the module, not vfio_pci, whose "vfio_pci:"
 * alias in modules.alias matches the modalias most specifically (fewest wildcards, then most
 * literal characters; blacklisted modules are skipped). 0 with *module set, -ENOENT: none.
 */
int modload_vfio_variant(struct kmod_ctx *ctx, const char *modalias, char **module);
/* Live or built in; under --root read from DIR/sys/module and DIR's modules.builtin only. */
bool module_loaded(struct kmod_ctx *ctx, const char *name);
/* NAME is built into the kernel (modules.builtin; under --root DIR's only). */
bool modload_builtin(struct kmod_ctx *ctx, const char *name);
/*
 * The kernel has NAME: loaded, built in, or a module file that modules.dep lists for it.
 * 0, or -ENOENT.
 */
int modload_present(struct kmod_ctx *ctx, const char *name);
/*
 * The options modprobe would give NAME ("ids=10de:1b80 disable_vga=1"): from the modprobe.d
 * folders and the kernel command line (NAME.opt=), as libkmod gathers them. 0, or -ENOENT.
 */
int modload_options(struct kmod_ctx *ctx, const char *name, char **options);
