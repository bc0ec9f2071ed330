// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The devices that must never be claimed because the host boots from them: root= and mount.usr=
 * resolved with libblkid (UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev paths, MAJ:MIN), the mount
 * table's "/" and "/usr", every /etc/fstab entry mounted at boot and every swap entry, the
 * source devices of /etc/crypttab, resume= from the kernel command line, and
 * /etc/vfio-claim/root-devices, which the initramfs hooks write when the image is built (in the
 * initramfs the storage driver is not bound yet, so root= cannot be found).
 * From each block device, its slaves (dm, md, LVM) and its sysfs path lead to the PCI devices.
 */
#include <blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rootdev.h"

/*
 * The mount point a reason is about, for "/" and "/usr": root= and mount.usr= ("carries the root
 * file system ('UUID=...')", "carries /usr ('...')"), the mount table ("carries the mounted file
 * system '/' (...)") and fstab ("carries / (from /etc/fstab)") say the same thing three ways.
 */
static const char *carried_mount(const char *why)
{
	static const struct {
		const char *prefix, *mount;
	} says[] = {
		{ "carries the root file system (", "/" },
		{ "carries the mounted file system '/' (", "/" },
		{ "carries / (from ", "/" },
		{ "carries /usr (", "/usr" },
		{ "carries the mounted file system '/usr' (", "/usr" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(says); i++)
		if (strncmp(why, says[i].prefix, strlen(says[i].prefix)) == 0)
			return says[i].mount;
	return NULL;
}

/* A reason the device has already, or one that says the same mount point. */
static bool has_reason(const struct protected_dev *p, const char *why)
{
	const char *mount = carried_mount(why);

	if (streq(p->why, why) || strv_contains(&p->more, why))
		return true;
	if (!mount)
		return false;
	if (carried_mount(p->why) && streq(carried_mount(p->why), mount))
		return true;
	for (size_t k = 0; k < p->more.n; k++)
		if (carried_mount(p->more.v[k]) && streq(carried_mount(p->more.v[k]), mount))
			return true;
	return false;
}

/*
 * The PCI devices each block device's walk found, in order, by the names it was walked under
 * (and its real sysfs path): root= and the mount of "/" name the same disk, whose sysfs path and
 * slaves are then read once per run, and its devices protected again with the other reason.
 */
struct walked {
	char *name, *real;
	struct strv addrs;
};
static struct walked *walked;
static size_t nwalked;
static struct strv *recording; /* the walk under way: protect() notes each device */

static void walked_free(void)
{
	for (size_t i = 0; i < nwalked; i++) {
		free(walked[i].name);
		free(walked[i].real);
		strv_free(&walked[i].addrs);
	}
	free(walked);
	walked = NULL;
	nwalked = 0;
}

static void protect(struct protected_list *out, const char *addr, const char *why)
{
	if (recording)
		strv_push(recording, xstrdup(addr));
	for (size_t i = 0; i < out->n; i++)
		if (streq(out->v[i].addr, addr)) {
			/* the first reason decides; the others are kept for list to show, each
			 * mount point once */
			if (!has_reason(&out->v[i], why))
				strv_push(&out->v[i].more, xstrdup(why));
			return;
		}
	out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
	snprintf(out->v[out->n].addr, sizeof(out->v[out->n].addr), "%s", addr);
	out->v[out->n].why = xstrdup(why);
	out->n++;
}

/* A block device's sysfs directory (under the root), its slaves, and the PCI devices above. */
/*
 * A block device walked earlier in this run, by the name it was walked under (or its real sysfs
 * path): its devices protected again with this reason. False if it was not walked.
 */
static bool walked_again(struct protected_list *out, const char *key, bool real, const char *why)
{
	for (size_t i = 0; i < nwalked; i++)
		if (streq(real ? walked[i].real : walked[i].name, key)) {
			for (size_t k = 0; k < walked[i].addrs.n; k++)
				protect(out, walked[i].addrs.v[k], why);
			return true;
		}
	return false;
}

static void walk_block(struct protected_list *out, const char *sysdir, const char *why, int depth)
{
	char real[PATH_MAX], *slaves, *start;
	struct strv found = { 0 };
	bool top = depth == 0 && !recording;
	DIR *d;
	struct dirent *de;

	if (top && walked_again(out, sysdir, false, why))
		return;
	if (depth > 8 || !realpath(sysdir, real))
		return;
	if (top && walked_again(out, real, true, why))
		return;
	if (top)
		recording = &found;
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
	if (top) {
		recording = NULL;
		walked = xrealloc(walked, (nwalked + 1) * sizeof(*walked));
		walked[nwalked++] = (struct walked){ xstrdup(sysdir), xstrdup(real), found };
	}
}

static int walk_devnum(struct protected_list *out, unsigned maj, unsigned min, const char *why)
{
	char *p = root_path("/sys/dev/block/%u:%u", maj, min);
	int r = access(p, F_OK) < 0 ? -ENOENT : 0;

	if (r == 0)
		walk_block(out, p, why, 0);
	free(p);
	return r;
}

/* The kernel's device numbers: "259:2", or the hex of new_encode_dev() ("10302", "803"). */
static bool parse_devnum(const char *s, unsigned *maj, unsigned *min)
{
	unsigned long v;
	int n = 0;

	if (sscanf(s, "%u:%u%n", maj, min, &n) == 2 && s[n] == '\0')
		return true;
	if (!*s || strlen(s) > 8 || !parse_hex(s, strlen(s), 0xffffffff, &v))
		return false;
	*maj = (unsigned)((v & 0xfff00) >> 8);
	*min = (unsigned)((v & 0xff) | ((v >> 12) & 0xfff00));
	return true;
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

/* The tags of root= and fstab, and their /dev/disk folders. */
static const struct {
	const char *tag, *dir;
} links[] = {
	{ "UUID", "by-uuid" },
	{ "PARTUUID", "by-partuuid" },
	{ "LABEL", "by-label" },
	{ "PARTLABEL", "by-partlabel" },
};

/* A device named like root= or in fstab: "UUID=...", "/dev/...", "259:2"; why is the reason. */
static int walk_spec(struct protected_list *out, const char *spec, const char *why)
{
	char *name = NULL, *value = NULL;
	unsigned maj, min;
	int r = -ENOENT;

	if (spec[0] == '/') {
		r = walk_devnode(out, spec, why);
		goto out;
	}
	if (parse_devnum(spec, &maj, &min)) {
		r = walk_devnum(out, maj, min, why);
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
	return r;
}

static int walk_spec_what(struct protected_list *out, const char *spec, const char *what)
{
	char *why = xasprintf("carries %s ('%s')", what, spec);
	int r = walk_spec(out, spec, why);

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
static void walk_record(struct protected_list *out, const struct config *cfg,
			const struct pci_list *devs)
{
	char *p = root_path("/etc/vfio-claim/root-devices"), *text = NULL, *save = NULL;
	struct strv paths = { 0 }, made_for = { 0 };

	if (read_text(p, &text) < 0) {
		free(p);
		return;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = strip(line);
		if (!*line || *line == '#')
			continue;
		if (strncmp(line, "root=", 5) == 0)
			strv_push(&made_for, xstrdup(line + 5)); /* a root= it was made for */
		else
			strv_push(&paths, xstrdup(line));
	}
	/* a record made for another root= says nothing about this boot's disks */
	if (made_for.n && cfg->root_arg && !strv_contains(&made_for, cfg->root_arg)) {
		strv_push(
		    &out->bad_record_lines,
		    xasprintf("made for root=%s, but this boot has root=%s: not used; rebuild "
			      "the initramfs (update-initramfs -u or dracut -f)",
			      made_for.v[0], cfg->root_arg));
		strv_free(&paths);
	}
	strv_free(&made_for);
	for (size_t k = 0; k < paths.n; k++) {
		struct selector sel;
		const char *why;

		if (selector_parse(paths.v[k], &sel, &why) < 0) {
			strv_push(&out->bad_record_lines, xasprintf("'%s': %s", paths.v[k], why));
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
	strv_free(&paths);
	free(text);
	free(p);
}

/*
 * "\040": the octal escape of a printable ASCII character. Others stay escaped, so that no reason,
 * and no message quoting it, ever holds a newline or a control character.
 */
static bool is_octal_escape(const char *r)
{
	return r[0] == '\\' && r[1] >= '0' && r[1] <= '1' && r[2] >= '0' && r[2] <= '7' &&
	       r[3] >= '0' && r[3] <= '7' && (r[1] != '0' || r[2] >= '4') &&
	       !(r[1] == '1' && r[2] == '7' && r[3] == '7');
}

/* fstab(5) fields: blank-separated, "\040" and friends stand for a blank, a backslash, ... */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t", &save); tok && n < max;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *w = tok;
		for (char *r = tok; *r; r++) {
			if (is_octal_escape(r)) {
				*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
				r += 3;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		f[n++] = tok;
	}
	return n;
}

static bool has_option(const char *opts, const char *name)
{
	size_t len = strlen(name);

	for (const char *o = opts; o; o = strchr(o, ',') ? strchr(o, ',') + 1 : NULL)
		if (strncmp(o, name, len) == 0 && (o[len] == ',' || o[len] == '\0'))
			return true;
	return false;
}

/* A source that names a block device; "tmpfs", "server:/export", "//host/share", a file: not. */
static bool is_block_spec(const char *spec)
{
	static const char *const tags[] = { "UUID=", "LABEL=", "PARTUUID=", "PARTLABEL=" };

	if (strncmp(spec, "/dev/", 5) == 0)
		return spec[5] != '\0';
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++)
		if (strncmp(spec, tags[i], strlen(tags[i])) == 0 && spec[strlen(tags[i])])
			return true;
	return false;
}

/* Mounted at boot: not noauto, unless an automount unit mounts it on first access (systemd). */
static bool needed_at_boot(const char *opts)
{
	return !has_option(opts, "noauto") || has_option(opts, "x-systemd.automount");
}

int rootdev_fstab_line(char *line, const char **spec, char **why)
{
	char *f[4];
	size_t n;

	*spec = NULL;
	*why = NULL;
	n = split_fields(line, f, ARRAY_SIZE(f));
	if (n < 3 || f[0][0] == '#' || !is_block_spec(f[0]) || (n > 3 && !needed_at_boot(f[3])))
		return 0;
	*spec = f[0];
	if (streq(f[2], "swap"))
		*why = xstrdup("carries swap (from /etc/fstab)");
	else if (f[1][0] == '/')
		*why = xasprintf("carries %s (from /etc/fstab)", f[1]);
	else
		return 0; /* "none", a pseudo mount point */
	return 1;
}

int rootdev_crypttab_line(char *line, const char **spec, char **why)
{
	char *f[4];
	size_t n;

	*spec = NULL;
	*why = NULL;
	n = split_fields(line, f, ARRAY_SIZE(f));
	if (n < 2 || f[0][0] == '#' || !is_block_spec(f[1]) || (n > 3 && !needed_at_boot(f[3])))
		return 0;
	*spec = f[1];
	*why = xasprintf("carries '%s' (from /etc/crypttab)", f[0]);
	return 1;
}

char *rootdev_cmdline_arg(const char *cmdline, const char *name)
{
	size_t len = strlen(name);
	char *found = NULL;

	/* words as the kernel splits them: blanks, with "double quotes" around blanks */
	for (const char *s = cmdline; *s;) {
		char buf[4096];
		size_t n = 0;
		bool quoted = false;

		while (*s && isspace((unsigned char)*s))
			s++;
		for (; *s && (quoted || !isspace((unsigned char)*s)); s++) {
			if (*s == '"')
				quoted = !quoted;
			else if (n + 1 < sizeof(buf))
				buf[n++] = *s;
		}
		buf[n] = '\0';
		if (n > len && strncmp(buf, name, len) == 0 && buf[len] == '=') {
			free(found);
			found = xstrdup(buf + len + 1); /* the last one counts */
		}
	}
	return found;
}

/*
 * /etc/fstab or /etc/crypttab under the root, one entry at a time through parse. *failed (when
 * not NULL and not yet set): the first entry whose source is no block device here.
 */
static void walk_table(struct protected_list *out, const char *file,
		       int (*parse)(char *line, const char **spec, char **why), char **failed)
{
	char *p = root_path("%s", file), *text = NULL, *save = NULL;

	if (read_text(p, &text) < 0) {
		free(p);
		return;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *spec;
		char *why;

		if (parse(line, &spec, &why) > 0 && walk_spec(out, spec, why) < 0 && failed &&
		    !*failed)
			*failed = xasprintf("'%s' (%s)", spec, why);
		free(why);
	}
	free(text);
	free(p);
}

/* The last RESUME= of an initramfs-tools configuration file, as the shell would read it. */
static void resume_conf_value(const char *text, char **value)
{
	char *copy = xstrdup(text), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v;
		size_t len;

		line = strip(line);
		if (strncmp(line, "RESUME=", 7) != 0)
			continue;
		v = line + 7;
		len = strlen(v);
		if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
			v[len - 1] = '\0';
			v++;
		}
		free(*value);
		*value = xstrdup(v);
	}
	free(copy);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * RESUME= of initramfs-tools (initramfs.conf, then the files of conf.d in order: the last one
 * counts), the resume device an initramfs-tools image wakes from unless resume= says otherwise.
 */
static int walk_initramfs_resume(struct protected_list *out, char **failed)
{
	char *value = NULL, *text = NULL, *from = NULL,
	     *p = root_path("/etc/initramfs-tools/conf.d");
	struct strv files = { 0 };
	DIR *d = opendir(p);
	struct dirent *de;
	int r = 0;

	strv_push(&files, xstrdup("/etc/initramfs-tools/initramfs.conf"));
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			strv_push(&files, xasprintf("/etc/initramfs-tools/conf.d/%s", de->d_name));
	if (d)
		closedir(d);
	free(p);
	if (files.n > 2)
		qsort(files.v + 1, files.n - 1, sizeof(char *), cmp_names);
	for (size_t i = 0; i < files.n; i++) {
		char *v = NULL;

		p = root_path("%s", files.v[i]);
		if (read_text(p, &text) == 0)
			resume_conf_value(text, &v);
		if (v) {
			free(value);
			value = v;
			free(from);
			from = xstrdup(files.v[i]);
		}
		free(text);
		text = NULL;
		free(p);
	}
	if (value && *value && !streq(value, "none") && !streq(value, "auto")) {
		char *why = xasprintf("carries the resume device (RESUME= in %s)", from);

		r = walk_spec(out, value, why);
		if (r < 0 && failed && !*failed)
			*failed = xasprintf("'%s' (%s)", value, why);
		free(why);
	}
	free(value);
	free(from);
	strv_free(&files);
	return r;
}

static void walk_resume(struct protected_list *out)
{
	const char *text;
	char *spec;

	if (root_cmdline(&text) == 0 && (spec = rootdev_cmdline_arg(text, "resume"))) {
		if (*spec)
			walk_spec(out, spec, "carries the resume device (resume=)");
		free(spec);
	}
}

int rootdev_chroot_verdict(int root_err, const struct stat *root, int init_err,
			   const struct stat *init_root)
{
	if (init_err < 0)
		return init_err; /* /proc/1/root refused, or no /proc: cannot tell */
	if (root_err < 0)
		return root_err;
	return root->st_dev != init_root->st_dev || root->st_ino != init_root->st_ino;
}

int rootdev_in_chroot(void)
{
	char *root = root_path("/"), *init_root = root_path("/proc/1/root");
	struct stat a, b;
	int ra = stat(root, &a) < 0 ? -errno : 0;
	int rb = stat(init_root, &b) < 0 ? -errno : 0;

	free(root);
	free(init_root);
	return rootdev_chroot_verdict(ra, &a, rb, &b);
}

/* The source of the "/" entry of /etc/fstab under the root (to free), or NULL. */
static char *fstab_root_spec(void)
{
	char *p = root_path("/etc/fstab"), *text = NULL, *save = NULL, *spec = NULL;

	if (read_text(p, &text) == 0)
		for (char *line = strtok_r(text, "\n", &save); line && !spec;
		     line = strtok_r(NULL, "\n", &save)) {
			char *f[3];

			if (split_fields(line, f, ARRAY_SIZE(f)) == 3 && f[0][0] != '#' &&
			    streq(f[1], "/") && is_block_spec(f[0]))
				spec = xstrdup(f[0]);
		}
	free(text);
	free(p);
	return spec;
}

/* The real path of the block device node a spec names, under the root, or NULL. */
static char *spec_node(const char *spec)
{
	char *name = NULL, *value = NULL, *p = NULL, *real = NULL;

	if (spec[0] == '/')
		p = root_path("%s", spec);
	else if (blkid_parse_tag_string(spec, &name, &value) == 0 && name && value)
		for (size_t i = 0; i < ARRAY_SIZE(links) && !p; i++)
			if (streq(name, links[i].tag))
				p = root_path("/dev/disk/%s/%s", links[i].dir, value);
	if (p)
		real = realpath(p, NULL);
	free(p);
	free(name);
	free(value);
	return real;
}

/*
 * Every name of the root file system's device that root= may give on the installed system's
 * boot: the spec itself, the /dev/disk/by-* links to the same node, and its /dev name.
 */
static void root_aliases(const char *spec, struct strv *roots)
{
	char *node = spec_node(spec), *dev = root_path("/dev");
	size_t devlen = strlen(dev);

	strv_push(roots, xstrdup(spec));
	for (size_t i = 0; node && i < ARRAY_SIZE(links); i++) {
		char *dir = root_path("/dev/disk/%s", links[i].dir);
		DIR *d = opendir(dir);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char *link, *real, *alias;

			if (de->d_name[0] == '.')
				continue;
			link = xasprintf("%s/%s", dir, de->d_name);
			real = realpath(link, NULL);
			alias = xasprintf("%s=%s", links[i].tag, de->d_name);
			if (real && streq(real, node) && !strv_contains(roots, alias))
				strv_push(roots, alias);
			else
				free(alias);
			free(real);
			free(link);
		}
		if (d)
			closedir(d);
		free(dir);
	}
	if (node && strncmp(node, dev, devlen) == 0 && node[devlen] == '/') {
		char *alias = xstrdup(node + devlen - 4); /* "/dev/..." */

		memcpy(alias, "/dev", 4);
		if (!strv_contains(roots, alias))
			strv_push(roots, alias);
		else
			free(alias);
	}
	free(node);
	free(dev);
}

int rootdev_find_image(struct protected_list *out, struct strv *roots, char **missing)
{
	char *root = fstab_root_spec(), *why;

	walked_free();
	memset(out, 0, sizeof(*out));
	*missing = NULL;
	if (!root) {
		*missing = xstrdup("its /etc/fstab names no block device for /");
		return -ENOENT;
	}
	why = xasprintf("carries the root file system ('%s' in /etc/fstab)", root);
	if (walk_spec(out, root, why) < 0)
		*missing = xasprintf("'%s' (%s)", root, why);
	free(why);
	walk_table(out, "/etc/fstab", rootdev_fstab_line, missing);
	walk_table(out, "/etc/crypttab", rootdev_crypttab_line, missing);
	walk_initramfs_resume(out, missing);
	if (!*missing)
		root_aliases(root, roots);
	free(root);
	if (*missing) {
		char *m = *missing;

		*missing = xasprintf("%s is no disk here", m);
		free(m);
		protected_free(out);
		return -ENOENT;
	}
	return 0;
}

void rootdev_find(const struct config *cfg, const struct pci_list *devs, struct protected_list *out)
{
	walked_free(); /* the disks may have changed since the last find */
	memset(out, 0, sizeof(*out));
	if (cfg->root_arg && walk_spec_what(out, cfg->root_arg, "the root file system") < 0)
		out->unresolved = xstrdup(cfg->root_arg);
	if (cfg->usr_arg)
		walk_spec_what(out, cfg->usr_arg, "/usr");
	walk_mounts(out);
	walk_table(out, "/etc/fstab", rootdev_fstab_line, NULL);
	walk_table(out, "/etc/crypttab", rootdev_crypttab_line, NULL);
	walk_resume(out);
	walk_initramfs_resume(out, NULL);
	walk_record(out, cfg, devs);
}
