/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "util.h"

/*
 * Which processes hold VFIO nodes open: /dev/vfio/N (an IOMMU group), /dev/vfio/devices/vfioX
 * (a device's cdev) and /dev/iommu (iommufd), found by one scan of the fd links under
 * root_path("/proc"), done once per run.
 */
struct holder {
	int pid;
	char *command; /* /proc/PID/comm, or NULL if it could not be read */
	char *vm;      /* for QEMU, the guest's name (-name guest=NAME or -name NAME), else NULL */
	int group;     /* N of /dev/vfio/N; -1 for a cdev or /dev/iommu */
	char *node;    /* "/dev/vfio/12", "/dev/vfio/devices/vfio0" or "/dev/iommu" */
};

struct holders {
	struct holder *v; /* one per process and node, sorted by group, node, pid */
	size_t n;
	size_t unreadable; /* processes whose fds could not be read (not root): holders may lack */
};

/* 0 or a negative errno; no /proc under the root means no holders. */
int holders_scan(struct holders *h);
/*
 * The same scan, for a display device's DRM nodes too (single-GPU passthrough): the VFIO nodes'
 * holders (holders_scan()) into vfio (NULL: not asked), and those of every DRM node
 * (/dev/dri/...) into drm, group -1, for holders_select_nodes(). 0 or a negative errno.
 */
int holders_scan_with_drm(struct holders *vfio, struct holders *drm);
/* The holders in from that hold one of nodes ("/dev/dri/card0") open. */
void holders_select_nodes(const struct holders *from, const struct strv *nodes,
			  struct holders *out);
/* "Xorg (pid 1234) through /dev/dri/card0, 99 ..." of every holder in h, or NULL when none. */
char *holders_describe_nodes(const struct holders *h);
void holders_free(struct holders *h);

/* The holders of /dev/vfio/GROUP, in pid order: the first, and their count in *n (0: NULL). */
const struct holder *holders_of_group(const struct holders *h, int group, size_t *n);
/* The holders of one node ("/dev/vfio/devices/vfio0", "/dev/iommu"), in pid order. */
const struct holder *holders_of_node(const struct holders *h, const char *node, size_t *n);

/*
 * The holders of /dev/vfio/GROUP for a message, or NULL if none:
 * "1234 (qemu-system-x86, guest 'test-vm-1'), 99 (cat)".
 */
char *holders_describe(const struct holders *h, int group);

/*
 * The guest's name in a QEMU command line (ARGS: LEN bytes of NUL-separated arguments, as in
 * /proc/PID/cmdline): from "-name guest=NAME,..." (libvirt) or "-name NAME[,...]", with ",,"
 * read as a comma, as QEMU parses option values. NULL if there is none.
 */
char *holders_qemu_guest_name(const char *args, size_t len);
