/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

#include "config.h"

/*
 * A user or group name, or a number, to its id through the root's /etc/passwd or /etc/group
 * (fgetpwent/fgetgrent on root_path(): no NSS, so it works in the initramfs and under --root).
 * 0; -ENOENT when the name is not there; -ERANGE for a number that does not fit uid_t/gid_t;
 * another negative errno when the file cannot be read.
 */
int perms_user_id(const char *name, uid_t *uid);
int perms_group_id(const char *name, gid_t *gid);
/* For config.check_name: the name (or number) is known to the root's user database. */
int perms_check_name(bool group, const char *name);
/* Both names of p: *uid, *gid are -1 where p names none. 0, or a negative errno as above. */
int perms_resolve(const struct perms *p, long *uid, long *gid);
/* The permissions for a device's group node: its claim's, else the default. */
void perms_effective(const struct rule *rule, const struct config *cfg, struct perms *out);
/* Applies them to /dev/vfio/GROUP: 0, or a negative errno. */
int perms_apply(int group, const struct perms *p);
/*
 * Applies them to the VFIO device cdev of PCI device ADDR (/dev/vfio/devices/vfioN, named by
 * /sys/bus/pci/devices/ADDR/vfio-dev/vfioN): 0, also when the kernel made none, or a negative
 * errno.
 */
int perms_apply_cdev(const char *addr, const struct perms *p);
/*
 * /dev/iommu (iommufd, which QEMU's iommufd backend opens next to /dev/vfio/devices/vfioN):
 * the default permissions line's, else those of the claim that set some (one node for every
 * group). perms_apply_iommufd(): 0 also when the kernel has no /dev/iommu.
 */
void perms_iommufd(const struct rule *rule, const struct config *cfg, struct perms *out);
int perms_apply_iommufd(const struct perms *p);
