/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"

/* A PCI device that carries a file system the host needs. */
struct protected_dev {
	char addr[16];
	char *why; /* "carries the root file system ('/dev/nvme0n1p2')" */
};

struct protected_list {
	struct protected_dev *v;
	size_t n;
	char *unresolved; /* root= that could not be found (before the storage driver binds) */
	bool have_record; /* /etc/vfio-claim/root-devices names a device (initramfs hooks) */
};

/* Walks from root= (and mount.usr=), the mount table and the initramfs record to PCI devices. */
void rootdev_find(const struct config *cfg, const struct pci_list *devs,
		  struct protected_list *out);
void protected_free(struct protected_list *p);
const char *protected_why(const struct protected_list *p, const char *addr);
/* The running process is in a chroot (an installer or image build): the root device is unknown. */
bool rootdev_in_chroot(void);
