// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The devices that must never be claimed because the host boots from them: root= and mount.usr=
 * resolved with libblkid (UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev paths), the mount table's
 * "/" and "/usr", and /etc/vfio-claim/root-devices, which the initramfs hooks write when the image
 * is built (in the initramfs the storage driver is not bound yet, so root= cannot be found).
 * From each block device, its slaves (dm, md) and its sysfs path lead to the PCI devices.
 */
#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rootdev.h"

static void protect(struct protected_list *out, const char *addr, const char *why)
{
	for (size_t i = 0; i < out->n; i++)
		if (streq(out->v[i].addr, addr))
			return;
	out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	snprintf(out->v[out->n].addr, sizeof(out->v[out->n].addr), "%s", addr);
	out->v[out->n].why = xstrdup(why);
	out->n++;
}

/* A block device's sysfs directory (under the root), its slaves, and the PCI devices above. */
static void walk_block(struct protected_list *out, const char *sysdir, const char *why, int depth)
{
	char real[PATH_MAX], *slaves, *start;
	DIR *d;
	struct dirent *de;

	if (depth > 8 || !realpath(sysdir, real))
		return;
	start = strstr(real, "/sys/devices/");
	for (char *tok = start ? start : real, *slash; tok; tok = slash ? slash + 1 : NULL) {
		char comp[64];
		size_t len;

		slash = strchr(tok, '/');
		len = slash ? (size_t)(slash - tok) : strlen(tok);
		if (len != 12 || len >= sizeof(comp))
			continue;
		memcpy(comp, tok, len);
		comp[len] = '\0';
		if (pci_addr_valid(comp))
			protect(out, comp, why);
	}
	slaves = xasprintf("%s/slaves", real);
	d = opendir(slaves);
	while (d && (de = readdir(d))) {
		char *s;
		if (de->d_name[0] == '.')
			continue;
		s = xasprintf("%s/%s", slaves, de->d_name);
		walk_block(out, s, why, depth + 1);
		free(s);
	}
	if (d)
		closedir(d);
	free(slaves);
}

static void walk_devnum(struct protected_list *out, unsigned maj, unsigned min, const char *why)
{
	char *p = root_path("/sys/dev/block/%u:%u", maj, min);

	walk_block(out, p, why, 0);
	free(p);
}

/* "/dev/nvme0n1p2", "/dev/mapper/vg-root", "/dev/disk/by-uuid/..." -> sysfs of the block device */
static int walk_devnode(struct protected_list *out, const char *node, const char *why)
{
	char *p = root_path("%s", node), real[PATH_MAX];
	struct stat st;
	int r = -ENOENT;

	if (stat(p, &st) == 0 && S_ISBLK(st.st_mode)) {
		walk_devnum(out, major(st.st_rdev), minor(st.st_rdev), why);
		r = 0;
	} else if (realpath(p, real)) {
		/* a fixture tree or a mounted image: the node's name is the kernel's name */
		const char *base = strrchr(real, '/');
		char *sys = root_path("/sys/class/block/%s", base ? base + 1 : real);
		if (access(sys, F_OK) == 0) {
			walk_block(out, sys, why, 0);
			r = 0;
		}
		free(sys);
	}
	free(p);
	return r;
}

static int walk_spec(struct protected_list *out, const char *spec, const char *what)
{
	static const struct {
		const char *tag, *dir;
	} links[] = {
		{ "UUID", "by-uuid" },
		{ "LABEL", "by-label" },
		{ "PARTUUID", "by-partuuid" },
		{ "PARTLABEL", "by-partlabel" },
	};
	char *why = xasprintf("carries %s ('%s')", what, spec);
	char *name = NULL, *value = NULL;
	int r = -ENOENT;

	if (spec[0] == '/') {
		r = walk_devnode(out, spec, why);
		goto out;
	}
	if (blkid_parse_tag_string(spec, &name, &value) < 0 || !name || !value) {
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		if (!streq(name, links[i].tag))
			continue;
		char *link = xasprintf("/dev/disk/%s/%s", links[i].dir, value);
		r = walk_devnode(out, link, why);
		free(link);
	}
	if (r < 0 && root_is_host()) {
		/* no udev links yet (early boot): probe the block devices */
		char *dev = blkid_evaluate_tag(name, value, NULL);
		if (dev) {
			r = walk_devnode(out, dev, why);
			free(dev);
		}
	}
out:
	free(name);
	free(value);
	free(why);
	return r;
}

/* mountinfo: "36 35 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw" */
static void walk_mounts(struct protected_list *out)
{
	char *p = root_path("/proc/self/mountinfo"), *text = NULL, *save = NULL;

	if (read_text(p, &text) < 0) {
		free(p);
		return;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned maj, min;
		char mnt[PATH_MAX], src[PATH_MAX], *dash;

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		if (!streq(mnt, "/") && !streq(mnt, "/usr"))
			continue;
		dash = strstr(line, " - ");
		if (!dash || sscanf(dash + 3, "%*s %4095s", src) != 1)
			src[0] = '\0';
		if (maj == 0)
			continue; /* rootfs, tmpfs, overlay: no block device */
		{
			char *why = xasprintf("carries the mounted file system '%s' (%s)", mnt,
					      src[0] ? src : "block device");
			walk_devnum(out, maj, min, why);
			free(why);
		}
	}
	free(text);
	free(p);
}

/* /etc/vfio-claim/root-devices: "path=..." lines written by the initramfs hooks */
static void walk_record(struct protected_list *out, const struct pci_list *devs)
{
	char *p = root_path("/etc/vfio-claim/root-devices"), *text = NULL, *save = NULL;

	if (read_text(p, &text) < 0) {
		free(p);
		return;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct selector sel;
		const char *why;

		line = strip(line);
		if (!*line || *line == '#')
			continue;
		if (selector_parse(line, &sel, &why) < 0) {
			strv_push(&out->bad_record_lines, xasprintf("'%s': %s", line, why));
			continue;
		}
		out->have_record = true;
		for (size_t i = 0; i < devs->n; i++)
			if (selector_match(&sel, &devs->v[i]))
				protect(out, devs->v[i].addr,
					"carried the root file system when the initramfs was built "
					"(/etc/vfio-claim/root-devices)");
		selector_free(&sel);
	}
	free(text);
	free(p);
}

bool rootdev_in_chroot(void)
{
	struct stat a, b;

	/* only meaningful for the running system: /proc/1/root is init's root */
	if (!root_is_host() || stat("/", &a) < 0 || stat("/proc/1/root/", &b) < 0)
		return false;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

void rootdev_find(const struct config *cfg, const struct pci_list *devs, struct protected_list *out)
{
	memset(out, 0, sizeof(*out));
	if (cfg->root_arg && walk_spec(out, cfg->root_arg, "the root file system") < 0)
		out->unresolved = xstrdup(cfg->root_arg);
	if (cfg->usr_arg)
		walk_spec(out, cfg->usr_arg, "/usr");
	walk_mounts(out);
	walk_record(out, devs);
}
