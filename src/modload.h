/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

struct kmod_ctx;

/* libkmod context for the root's /lib/modules/$(uname -r) and modprobe.d folders, or NULL. */
struct kmod_ctx *modload_new(void);
void modload_unref(struct kmod_ctx *ctx);
/*
 * Loaded, built in, or inserted now; modprobe.d 'install' commands are ignored.
 * -ENOENT: no such module; -EOPNOTSUPP: not loaded under --root (nothing is inserted there).
 */
int modload_ensure(struct kmod_ctx *ctx, const char *name);
/* The first module (not vfio-pci) whose alias matches the modalias, in *module. */
int modload_lookup_alias(struct kmod_ctx *ctx, const char *modalias, char **module);
bool module_loaded(struct kmod_ctx *ctx, const char *name);
