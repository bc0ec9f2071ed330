/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "policy.h"
#include "sysfs.h"

/*
 * The devices the host boots from (the protected set the policy takes as input): root= and
 * mount.usr= resolved with libblkid, the mount table, and the initramfs record.
 */
void rootdev_find(const struct config *cfg, const struct pci_list *devs,
		  struct protected_list *out);
/* The running process is in a chroot (an installer or image build): the root device is unknown. */
bool rootdev_in_chroot(void);
