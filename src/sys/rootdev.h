/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/stat.h>

#include "config.h"
#include "policy.h"
#include "sysfs.h"

/*
 * The devices the host boots from (the protected set the policy takes as input): root= and
 * mount.usr= resolved with libblkid, the mount table's / and /usr, /etc/fstab (entries mounted at
 * boot, swap), /etc/crypttab, resume=, and the initramfs record; through dm, md and LVM.
 */
void rootdev_find(const struct config *cfg, const struct pci_list *devs,
		  struct protected_list *out);

/*
 * The process runs in a chroot (an installer or image build), where the root device of the
 * system being built is not known: 1 yes, 0 no, a negative errno when it cannot tell (init's root,
 * /proc/1/root under the root, cannot be read: no /proc, or EACCES). Compares the device and
 * inode of / and /proc/1/root, as systemd's running_in_chroot() does.
 */
int rootdev_in_chroot(void);
/*
 * In a chroot (an installer's /target with /dev and /sys bound, an image build): the devices
 * the system being built boots from, from its own files only (/etc/fstab with its "/" entry,
 * /etc/crypttab, initramfs-tools' RESUME=), never the host's root=, mounts or resume=.
 * roots: the names root= may give that device on its boot. 0; or -ENOENT with *missing saying
 * which of them is no disk here (to free), and nothing found: a partial record would let the
 * early pass claim a disk the boot needs.
 */
int rootdev_find_image(struct protected_list *out, struct strv *roots, char **missing);
/* The decision of rootdev_in_chroot() on two stat() results (err: 0 or a negative errno). */
int rootdev_chroot_verdict(int root_err, const struct stat *root, int init_err,
			   const struct stat *init_root);

/*
 * One line of /etc/fstab or /etc/crypttab (split and unescaped in place): 1 with the source it
 * needs at boot in *spec (pointing into line) and the reason in *why (to free), as in "carries
 * /home (from /etc/fstab)"; 0 with both NULL for a comment, a noauto entry, a pseudo or network
 * file system, a file.
 */
int rootdev_fstab_line(char *line, const char **spec, char **why);
int rootdev_crypttab_line(char *line, const char **spec, char **why);
/* The value of the last NAME= on a kernel command line, or NULL (to free). */
char *rootdev_cmdline_arg(const char *cmdline, const char *name);
