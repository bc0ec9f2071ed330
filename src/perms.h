/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"

/* Names to numbers through the root's /etc/passwd and /etc/group (no NSS: works in initramfs). */
int perms_resolve(const struct perms *p, long *uid, long *gid);
/* The permissions for a device's group node: its claim's, else the default. */
void perms_effective(const struct rule *rule, const struct config *cfg, struct perms *out);
/* Applies them to /dev/vfio/GROUP: 0, or a negative errno. */
int perms_apply(int group, const struct perms *p);
