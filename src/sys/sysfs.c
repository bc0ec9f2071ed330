// SPDX-License-Identifier: GPL-2.0-or-later
/* The device model: every PCI function as sysfs shows it, read under the root prefix. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"

/* "ADDR/NAME" into buf (size bytes), without printf: it runs a few times per device. */
static void attr_name(char *buf, size_t size, const char *addr, const char *name)
{
	size_t a = strlen(addr), n = strlen(name);

	if (a + 1 + n >= size) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, addr, a);
	buf[a] = '/';
	memcpy(buf + a + 1, name, n + 1);
}

char *pci_sys_path(const struct pci_dev *d, const char *attr)
{
	return root_path("/sys%s%s%s", d->devpath, attr ? "/" : "", attr ? attr : "");
}

int pci_read_attr(const struct pci_dev *d, const char *attr, char **out)
{
	char *p = pci_sys_path(d, attr);
	int r = read_text(p, out);

	free(p);
	return r;
}

/*
 * A VFIO variant driver (mlx5_vfio_pci, hisi_acc_vfio_pci...) is built on vfio-pci-core: its
 * module holds vfio_pci_core (/sys/module/vfio_pci_core/holders/MODULE). Where vfio_pci_core
 * is built in there are no holders; every upstream variant driver's name then still ends in
 * "_vfio_pci".
 */
bool pci_driver_is_vfio_variant(const char *driver)
{
	char *p, *module = NULL;
	size_t len = strlen(driver);
	bool r;

	if (streq(driver, "vfio-pci"))
		return false;
	if (len > 9 && streq(driver + len - 9, "_vfio_pci"))
		return true;
	p = root_path("/sys/bus/pci/drivers/%s/module", driver);
	r = read_link_name(p, &module) == 0;
	free(p);
	if (!r)
		return false;
	p = root_path("/sys/module/vfio_pci_core/holders/%s", module);
	r = access(p, F_OK) == 0;
	free(p);
	free(module);
	return r;
}

int pci_refresh_driver(struct pci_dev *d)
{
	char *p = pci_sys_path(d, "driver"), *name = NULL;
	int r = read_link_name(p, &name);

	free(p);
	free(d->driver);
	d->driver = r < 0 ? NULL : name;
	d->vfio_variant = d->driver && pci_driver_is_vfio_variant(d->driver);
	return r == -ENOENT ? 0 : r;
}

static int read_int_at(int dirfd, const char *name, int *out)
{
	char buf[32];
	int r = read_line_at(dirfd, name, buf, sizeof(buf));

	if (r < 0)
		return r;
	*out = atoi(buf);
	return 0;
}

static uint32_t read_hex_at(int dirfd, const char *name)
{
	char buf[32];
	unsigned long v = 0;

	if (read_line_at(dirfd, name, buf, sizeof(buf)) < 0 ||
	    !parse_hex(buf, strlen(buf), 0xffffffff, &v))
		return 0;
	return (uint32_t)v;
}

/* ids, class and header type: one read of the config header, attributes as a fallback */
static void read_ids(struct pci_dev *d, int busfd)
{
	unsigned char c[64];
	char attr[64];
	ssize_t k = -1;
	int fd;

	attr_name(attr, sizeof(attr), d->addr, "config");
	fd = openat(busfd, attr, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		k = read(fd, c, sizeof(c));
		close(fd);
	}
	if (k >= 48) {
		d->vendor = (uint16_t)(c[0] | c[1] << 8);
		d->device = (uint16_t)(c[2] | c[3] << 8);
		d->class = (uint32_t)(c[9] | c[10] << 8 | c[11] << 16);
		d->header_type = c[0x0e];
		if ((c[0x0e] & 0x7f) == 0) {
			d->subvendor = (uint16_t)(c[0x2c] | c[0x2d] << 8);
			d->subdevice = (uint16_t)(c[0x2e] | c[0x2f] << 8);
		}
		return;
	}
	{
		int dfd = openat(busfd, d->addr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return;
		d->vendor = (uint16_t)read_hex_at(dfd, "vendor");
		d->device = (uint16_t)read_hex_at(dfd, "device");
		d->subvendor = (uint16_t)read_hex_at(dfd, "subsystem_vendor");
		d->subdevice = (uint16_t)read_hex_at(dfd, "subsystem_device");
		d->class = read_hex_at(dfd, "class");
		close(dfd);
	}
}

/* "../../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0" -> devpath and PCI path */
static int parse_devlink(struct pci_dev *d, const char *target)
{
	const char *p = strstr(target, "/devices/");
	char *copy, *save = NULL, *tok;
	size_t hops = 0, len = 0;
	char path[256];

	if (!p)
		return -EINVAL;
	d->devpath = xstrdup(p);
	copy = xstrdup(p);
	path[0] = '\0';
	for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!pci_addr_valid(tok))
			continue;
		/* "0000:00:1c.0" then "/02:00.0" per hop (no printf: it runs for every device) */
		size_t n = hops ? strlen(tok + 8) + 1 : strlen(tok);

		if (len + n < sizeof(path)) {
			if (hops)
				path[len] = '/';
			memcpy(path + len + (hops ? 1 : 0), hops ? tok + 8 : tok, hops ? n - 1 : n);
			len += n;
			path[len] = '\0';
		}
		hops++;
	}
	free(copy);
	d->pcipath = xstrdup(path);
	return hops ? 0 : -EINVAL;
}

/* A VF's physfn link: its PF's address in d->physfn. */
static void read_physfn(struct pci_dev *d, int busfd)
{
	char attr[64], target[PATH_MAX];
	ssize_t k;

	attr_name(attr, sizeof(attr), d->addr, "physfn");
	k = readlinkat(busfd, attr, target, sizeof(target) - 1);
	if (k > 0) {
		const char *base;

		target[k] = '\0';
		base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
		if (pci_addr_valid(base))
			memcpy(d->physfn, base, 13);
	}
}

/* A PF's VF layout, when it has sriov_numvfs (it is a PF); 0 or a negative errno. */
static int read_pf(struct pci_dev *d, int busfd)
{
	char attr[64], buf[32];
	unsigned long v = 0;
	int r;

	attr_name(attr, sizeof(attr), d->addr, "sriov_numvfs");
	r = read_int_at(busfd, attr, &d->sriov_numvfs);
	if (r < 0) {
		d->sriov_numvfs = -1;
		return r;
	}
	attr_name(attr, sizeof(attr), d->addr, "sriov_totalvfs");
	read_int_at(busfd, attr, &d->sriov_totalvfs);
	attr_name(attr, sizeof(attr), d->addr, "sriov_offset");
	read_int_at(busfd, attr, &d->sriov_offset);
	attr_name(attr, sizeof(attr), d->addr, "sriov_stride");
	read_int_at(busfd, attr, &d->sriov_stride);
	attr_name(attr, sizeof(attr), d->addr, "sriov_vf_device");
	/* the kernel prints it as "%x", without 0x */
	if (read_line_at(busfd, attr, buf, sizeof(buf)) == 0 &&
	    parse_hex(buf, strlen(buf), 0xffff, &v))
		d->sriov_vf_device = (uint16_t)v;
	return 0;
}

/*
 * SR-IOV, for a device read by name: a PF's VF layout, or a VF's physfn link. Only endpoints (a
 * type 0 config header) can be either, and a function is never both.
 */
static void read_sriov(struct pci_dev *d, int busfd)
{
	if (d->header_type & 0x7f)
		return; /* a bridge (read from its config header) */
	if (read_pf(d, busfd) < 0)
		read_physfn(d, busfd);
}

static bool path_exists(const char *rel)
{
	char *p = root_path("%s", rel);
	bool r = access(p, F_OK) == 0;

	free(p);
	return r;
}

/* Which driver holds each device: one directory listing per driver, not a readlink per device. */
static void scan_drivers(struct pci_list *list)
{
	char *p = root_path("/sys/bus/pci/drivers");
	DIR *dir = opendir(p);
	struct dirent *de;

	free(p);
	while (dir && (de = readdir(dir))) {
		DIR *drv;
		struct dirent *e;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || !(drv = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		int variant = -1; /* asked once per driver, when it holds a device */
		while ((e = readdir(drv))) {
			int i;
			if (!pci_addr_valid(e->d_name) || (i = pci_find(list, e->d_name)) < 0)
				continue;
			free(list->v[i].driver);
			list->v[i].driver = xstrdup(de->d_name);
			if (variant < 0)
				variant = pci_driver_is_vfio_variant(de->d_name);
			list->v[i].vfio_variant = variant;
		}
		closedir(drv);
	}
	if (dir)
		closedir(dir);
}

/*
 * The attributes of one device whose bus link points to target: a few syscalls, the config
 * header, the group link (pci_scan() and the read of one udev event's devices share it).
 */
static int read_dev(int busfd, const char *addr, const char *target, struct pci_dev *d,
		    bool by_name)
{
	char link[PATH_MAX], attr[64];
	ssize_t k;

	memset(d, 0, sizeof(*d));
	pci_dev_set_addr(d, addr); /* valid: checked by the callers */
	d->iommu_group = -1;
	d->boot_vga = -1;
	d->parent = -1;
	d->sriov_numvfs = -1;
	if (parse_devlink(d, target) < 0) {
		free(d->devpath);
		free(d->pcipath);
		return -EINVAL;
	}
	read_ids(d, busfd);
	attr_name(attr, sizeof(attr), d->addr, "iommu_group");
	k = readlinkat(busfd, attr, link, sizeof(link) - 1);
	if (k > 0) {
		link[k] = '\0';
		d->iommu_group = atoi(strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	}
	if ((d->class >> 8) == 0x0300) {
		attr_name(attr, sizeof(attr), d->addr, "boot_vga");
		read_int_at(busfd, attr, &d->boot_vga);
	}
	/*
	 * Read by name (one udev event), a PF's VFs may not be among the devices read: it asks.
	 * In a whole scan, only the VFs' links are read, and the PFs they name (pci_scan()).
	 */
	if (by_name)
		read_sriov(d, busfd);
	else if (!(d->header_type & 0x7f))
		read_physfn(d, busfd);
	return 0;
}

int pci_scan(struct pci_list *list)
{
	char *busdir = root_path("/sys/bus/pci/devices");
	DIR *dir = opendir(busdir);
	size_t cap = 0;
	struct dirent *de;
	int r = 0;

	memset(list, 0, sizeof(*list));
	if (!dir) {
		r = -errno;
		goto out;
	}
	/* count first: one exact allocation instead of a doubling array copied as it grows */
	while ((de = readdir(dir)))
		cap += pci_addr_valid(de->d_name);
	rewinddir(dir);
	list->v = xcalloc(cap ? cap : 1, sizeof(*list->v));
	/* a few syscalls per device: the bus link, the config header, the group link */
	while ((de = readdir(dir))) {
		char target[PATH_MAX];
		struct pci_dev *d;
		ssize_t k;

		if (!pci_addr_valid(de->d_name))
			continue;
		k = readlinkat(dirfd(dir), de->d_name, target, sizeof(target) - 1);
		if (k < 0)
			continue;
		target[k] = '\0';
		if (list->n == cap)
			break; /* a device added since the count: the next run sees it */
		d = &list->v[list->n];
		if (read_dev(dirfd(dir), de->d_name, target, d, false) < 0)
			continue;
		list->n++;
	}
	pci_list_finish(list);
	/*
	 * A PF with VFs enabled is named by their physfn links: its layout is read once, and no
	 * other device is asked for sriov_numvfs (pci_read_sriov_pfs() asks them all)
	 */
	for (size_t i = 0; i < list->n; i++) {
		int k = list->v[i].physfn[0] ? pci_find(list, list->v[i].physfn) : -1;

		if (k >= 0 && list->v[k].sriov_numvfs < 0)
			read_pf(&list->v[k], dirfd(dir));
	}
	closedir(dir);
	scan_drivers(list);
	list->have_i8042 = pci_have_i8042();
out:
	free(busdir);
	return r;
}

int pci_read_sriov_pfs(struct pci_list *list, const bool *want)
{
	char *busdir = root_path("/sys/bus/pci/devices");
	int busfd = open(busdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	free(busdir);
	if (busfd < 0)
		return -errno;
	for (size_t i = 0; i < list->n; i++) {
		struct pci_dev *d = &list->v[i];

		if ((!want || want[i]) && d->sriov_numvfs < 0 && !d->physfn[0] &&
		    !(d->header_type & 0x7f))
			read_pf(d, busfd);
	}
	close(busfd);
	return 0;
}

/*
 * Targeted reads, for one udev event: a device, its slot, its IOMMU group and the bridges above
 * them, each read by name instead of listing every PCI function of the machine (SPEC §9).
 */

bool pci_have_i8042(void)
{
	return path_exists("/sys/bus/platform/devices/i8042") ||
	       path_exists("/sys/bus/serio/devices/serio0");
}

/* One device by its name in /sys/bus/pci/devices, read as pci_scan() reads it. */
static int read_one(int busfd, const char *addr, struct pci_dev *d)
{
	char target[PATH_MAX], attr[64];
	ssize_t k;
	int r;

	memset(d, 0, sizeof(*d));
	if (!pci_addr_valid(addr))
		return -EINVAL;
	k = readlinkat(busfd, addr, target, sizeof(target) - 1);
	if (k < 0)
		return -errno;
	target[k] = '\0';
	r = read_dev(busfd, addr, target, d, true);
	if (r < 0)
		return r;
	/* the driver link names the driver whose folder lists the device (scan_drivers()) */
	attr_name(attr, sizeof(attr), d->addr, "driver");
	k = readlinkat(busfd, attr, target, sizeof(target) - 1);
	if (k > 0) {
		target[k] = '\0';
		d->driver = xstrdup(strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
		d->vfio_variant = pci_driver_is_vfio_variant(d->driver);
	}
	return 0;
}

int pci_group_addrs(int group, struct strv *addrs)
{
	char *p = root_path("/sys/kernel/iommu_groups/%d/devices", group);
	DIR *dir = opendir(p);
	struct dirent *de;

	free(p);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (pci_addr_valid(de->d_name))
			strv_push(addrs, xstrdup(de->d_name));
	closedir(dir);
	strv_sort(addrs);
	return 0;
}

/* Adds the device named addr unless the list has it; 0, or a negative errno (-ENOENT: none). */
static int add_one(struct pci_list *list, size_t *cap, int busfd, const char *addr)
{
	for (size_t i = 0; i < list->n; i++)
		if (streq(list->v[i].addr, addr))
			return 0;
	if (list->n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		list->v = xrealloc(list->v, *cap * sizeof(*list->v));
	}
	if (read_one(busfd, addr, &list->v[list->n]) < 0)
		return -ENOENT;
	list->n++;
	return 0;
}

int pci_read_around(struct pci_list *list, const struct strv *addrs)
{
	int busfd;
	size_t cap = 0, seeds;

	memset(list, 0, sizeof(*list));
	{
		char *busdir = root_path("/sys/bus/pci/devices");
		busfd = open(busdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(busdir);
	}
	if (busfd < 0)
		return -errno;
	for (size_t k = 0; k < addrs->n; k++)
		add_one(list, &cap, busfd, addrs->v[k]);
	/*
	 * the other functions of each one's slot, the other members of its IOMMU group, and the
	 * physical function of an SR-IOV VF (in another slot)
	 */
	seeds = list->n;
	for (size_t i = 0; i < seeds; i++) {
		struct strv group = { 0 };
		char addr[16];
		int g = list->v[i].iommu_group;

		for (unsigned f = 0; f < 8; f++) {
			snprintf(addr, sizeof(addr), "%04x:%02x:%02x.%u", list->v[i].domain,
				 list->v[i].bus, list->v[i].slot, f);
			add_one(list, &cap, busfd, addr);
		}
		if (list->v[i].physfn[0]) { /* read_dev() read its link */
			char pf[16];

			memcpy(pf, list->v[i].physfn, sizeof(pf));
			add_one(list, &cap, busfd, pf);
		}
		if (g >= 0 && pci_group_addrs(g, &group) == 0)
			for (size_t k = 0; k < group.n; k++)
				add_one(list, &cap, busfd, group.v[k]);
		strv_free(&group);
	}
	/* the bridges above every one of them: the PCI components of its device path */
	for (size_t i = 0; i < list->n; i++) {
		char *copy = xstrdup(list->v[i].devpath), *save = NULL;

		for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
			if (pci_addr_valid(tok))
				add_one(list, &cap, busfd, tok);
		free(copy);
	}
	close(busfd);
	pci_list_finish(list);
	list->have_i8042 = pci_have_i8042();
	return 0;
}
