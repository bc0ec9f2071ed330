// SPDX-License-Identifier: GPL-2.0-or-later
/* One device as every command shows it: the device object of SPEC §3. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devobj.h"
#include "guest.h"
#include "sysfs.h"

#define NAMES_MAX_DEPTH 10 /* usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb */

static bool is_dir_at(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* A whole disk's device node name from its uevent ("DEVTYPE=disk", "DEVNAME=sda"), or NULL. */
static char *disk_devname(int dfd, const char *name)
{
	char *path = xasprintf("%s/uevent", name), *text = NULL, *devname = NULL;
	bool disk = false;
	int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	free(path);
	if (fd < 0 || read_fd(fd, &text, 65536, NULL) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (streq(line, "DEVTYPE=disk"))
			disk = true;
		else if (!strncmp(line, "DEVNAME=", 8) && line[8])
			devname = line + 8;
	}
	devname = disk ? xstrdup(devname ? devname : name) : NULL;
	free(text);
	return devname;
}

/*
 * The names below one folder of the device's sysfs subtree. Links are not followed and other
 * PCI functions (below a bridge) are not entered: their names are their own.
 */
static void walk_names(int fd0, const char *dirname, int depth, struct strv *out)
{
	DIR *dir = fdopendir(fd0);
	struct dirent *de;

	if (!dir) {
		close(fd0);
		return;
	}
	while ((de = readdir(dir))) {
		const char *n = de->d_name;
		unsigned a, b, c;
		char *devname, tail;
		int fd;

		if (n[0] == '.' || !is_dir_at(dirfd(dir), de) || pci_addr_valid(n) ||
		    streq(n, "power"))
			continue;
		if (streq(dirname, "net")) {
			strv_push(out, xstrdup(n)); /* an interface, not a node */
			continue;
		}
		/* a VFIO device cdev (CONFIG_VFIO_DEVICE_CDEV): /dev/vfio/devices/vfioN */
		if (streq(dirname, "vfio-dev")) {
			if (!strncmp(n, "vfio", 4))
				strv_push(out, xasprintf("/dev/vfio/devices/%s", n));
			continue;
		}
		if (streq(dirname, "drm")) {
			if (!strncmp(n, "card", 4) && !strchr(n, '-'))
				strv_push(out, xasprintf("/dev/dri/%s", n));
			continue;
		}
		/* the path of a multipath NVMe namespace: its node is nvme<subsys>n<nsid> */
		if (sscanf(n, "nvme%uc%un%u%c", &a, &b, &c, &tail) == 3) {
			strv_push(out, xasprintf("/dev/nvme%un%u", a, c));
			continue;
		}
		devname = disk_devname(dirfd(dir), n);
		if (devname) {
			strv_push(out, xasprintf("/dev/%s", devname));
			free(devname);
			continue;
		}
		if (depth >= NAMES_MAX_DEPTH)
			continue;
		fd = openat(dirfd(dir), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			walk_names(fd, n, depth + 1, out);
	}
	closedir(dir);
}

void devobj_attached_names(const struct pci_dev *d, struct strv *out)
{
	struct strv all = { 0 };
	char *path;
	int fd;

	if (!d->devpath)
		return; /* not in sysfs (a device gone since its claim) */
	path = pci_sys_path(d, NULL);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(path);
	if (fd >= 0)
		walk_names(fd, "", 0, &all);
	strv_sort(&all);
	for (size_t i = 0; i < all.n; i++)
		if (i == 0 || !streq(all.v[i], all.v[i - 1]))
			strv_push(out, xstrdup(all.v[i]));
	strv_free(&all);
}

/* One of the values a state entry's key may hold (what state.c and session.c write), or NULL. */
static const char *known(const char *value, const char *const *values)
{
	for (size_t i = 0; value && values[i]; i++)
		if (streq(value, values[i]))
			return values[i];
	return NULL;
}

/* A value of a state entry, "none" and "" read as unknown. */
static const char *entry_get(const struct kv *kv, const char *key)
{
	const char *v = kv_get(kv, key);

	return v && *v && !streq(v, "none") ? v : NULL;
}

static void gather(struct devinfo *di, struct session *s, struct names *db, const struct pci_dev *d,
		   const struct verdict *v)
{
	static const char *const states[] = { "claimed",  "held",     "failed",
					      "released", "returned", NULL };
	static const char *const stages[] = { "initramfs", "udev", "manual", "guest", NULL };
	const char *es;
	bool vfio = pci_on_vfio(d);

	memset(di, 0, sizeof(*di));
	di->dev = d;
	if (db)
		names_lookup(db, d->vendor, d->device, &di->vendor_name, &di->device_name);
	devobj_attached_names(d, &di->names);
	for (size_t k = 0; k < s->protected.n; k++) {
		const struct protected_dev *p = &s->protected.v[k];

		if (!streq(p->addr, d->addr))
			continue;
		strv_push(&di->protected_by, xstrdup(p->why));
		for (size_t j = 0; j < p->more.n; j++)
			strv_push(&di->protected_by, xstrdup(p->more.v[j]));
	}
	if (v) {
		di->decision = decision_name(v->decision);
		di->reason = v->reason;
		if (v->rule) {
			di->tag = v->rule->tag;
			di->rule = v->rule->origin;
		}
	}
	if (d->iommu_group >= 0)
		di->holders = holders_of_group(session_holders(s), d->iommu_group, &di->nholders);

	if (state_read(d->addr, &di->entry) < 0)
		memset(&di->entry, 0, sizeof(di->entry));
	es = known(kv_get(&di->entry, "state"), states);
	if (es) {
		di->stage = known(kv_get(&di->entry, "stage"), stages);
		di->host_driver = entry_get(&di->entry, "host_driver");
		/* claimed: on vfio-pci now; held: no driver, our override keeps host drivers
		 * away; lost: either of them, and a host driver has it now, unless a release
		 * whose entry could not be written pinned it there (the plan knows) */
		if (streq(es, "claimed") && !vfio)
			di->state = v && v->released ? "released" : "lost";
		else if (streq(es, "held") && vfio)
			di->state = "claimed";
		else if (streq(es, "held") && d->driver)
			di->state = "lost";
		else
			di->state = es;
	} else if (vfio) {
		char *override = NULL;

		/* no entry of ours: the kernel's vfio-pci.ids= took it, unless our override is
		 * there (an entry that could not be written: stage unknown) */
		di->state = "claimed";
		if (pci_read_attr(d, "driver_override", &override) < 0 ||
		    (!streq(override, "vfio-pci") && !pci_driver_is_vfio_variant(override)))
			di->stage = "kernel";
		free(override);
	}
	di->follows_guests =
	    (v && v->guest_rule) || streq(kv_get(&di->entry, "lifecycle") ?: "", "yes");
	if (es && vfio && (streq(di->state, "claimed") || streq(di->state, "held")))
		guest_holders(&di->entry, &di->guests);
	/* claimed this boot: the tag, the rule and the reason it was claimed with */
	if (es && (streq(di->state, "claimed") || streq(di->state, "held"))) {
		const char *reason = entry_get(&di->entry, "reason");

		di->tag = entry_get(&di->entry, "tag");
		di->rule = entry_get(&di->entry, "rule");
		if (di->guests.n) {
			char *names = NULL;

			for (size_t k = 0; k < di->guests.n; k++) {
				char *g = guest_display(di->guests.v[k]);
				char *t =
				    xasprintf("%s%s'%s'", names ? names : "", names ? ", " : "", g);

				free(g);
				free(names);
				names = t;
			}
			di->own_reason =
			    xasprintf("claimed by guest%s %s (%s)", di->guests.n > 1 ? "s" : "",
				      names, di->rule ? di->rule : "claim --guest");
			di->reason = di->own_reason;
			free(names);
		} else if (reason && (!v || v->decision != DEC_CLAIM)) {
			di->own_reason = xasprintf("%s this boot (%s): %s", di->state,
						   di->stage ? di->stage : "stage unknown", reason);
			di->reason = di->own_reason;
		}
	}
}

void devinfo_get(struct devinfo *di, struct session *s, struct names *db, size_t i)
{
	gather(di, s, db, &s->devs.v[i], s->plan.n == s->devs.n ? &s->plan.v[i] : NULL);
}

void devinfo_get_dev(struct devinfo *di, struct session *s, struct names *db,
		     const struct pci_dev *d)
{
	gather(di, s, db, d, NULL);
}

void devinfo_free(struct devinfo *di)
{
	free(di->vendor_name);
	free(di->device_name);
	strv_free(&di->names);
	strv_free(&di->protected_by);
	kv_free(&di->entry);
	strv_free(&di->guests);
	free(di->own_reason);
	memset(di, 0, sizeof(*di));
}

/* A string member; an empty one (an empty pci.ids name or comm) is unknown too: null. */
static void text(struct jsonw *w, const char *key, const char *value)
{
	jsonw_string(w, key, value && *value ? value : NULL);
}

void devinfo_json_open(struct jsonw *w, const char *key, const struct devinfo *di)
{
	const struct pci_dev *d = di->dev;

	jsonw_object_open(w, key);
	jsonw_string(w, "device", d->addr);
	jsonw_uint(w, "domain", d->domain);
	jsonw_uint(w, "bus", d->bus);
	jsonw_uint(w, "slot", d->slot);
	jsonw_uint(w, "function", d->func);
	jsonw_stringf(w, "vendor_id", "%04x", d->vendor);
	jsonw_stringf(w, "device_id", "%04x", d->device);
	jsonw_stringf(w, "subsystem_vendor_id", "%04x", d->subvendor);
	jsonw_stringf(w, "subsystem_device_id", "%04x", d->subdevice);
	text(w, "vendor_name", di->vendor_name);
	text(w, "device_name", di->device_name);
	jsonw_stringf(w, "class", "0x%06x", d->class);
	jsonw_string(w, "category", pci_category_name(d));
	if (d->iommu_group >= 0)
		jsonw_int(w, "iommu_group", d->iommu_group);
	else
		jsonw_null(w, "iommu_group");
	text(w, "driver", d->driver);
	text(w, "decision", di->decision);
	text(w, "reason", di->reason);
	text(w, "tag", di->tag);
	jsonw_array_open(w, "names");
	for (size_t i = 0; i < di->names.n; i++)
		if (*di->names.v[i])
			jsonw_string(w, NULL, di->names.v[i]);
	jsonw_array_close(w);
	jsonw_array_open(w, "protected_by");
	for (size_t i = 0; i < di->protected_by.n; i++)
		if (*di->protected_by.v[i])
			jsonw_string(w, NULL, di->protected_by.v[i]);
	jsonw_array_close(w);
	jsonw_array_open(w, "holders");
	for (size_t i = 0; i < di->nholders; i++) {
		jsonw_object_open(w, NULL);
		jsonw_int(w, "pid", di->holders[i].pid);
		text(w, "command", di->holders[i].command);
		text(w, "vm", di->holders[i].vm);
		jsonw_object_close(w);
	}
	jsonw_array_close(w);
	text(w, "state", di->state);
	text(w, "stage", di->stage);
	text(w, "host_driver", di->host_driver);
	text(w, "rule", di->rule);
	text(w, "path", d->pcipath);
	text(w, "physfn", d->physfn[0] ? d->physfn : NULL);
	jsonw_bool(w, "follows_guests", di->follows_guests);
	jsonw_array_open(w, "guests");
	for (size_t i = 0; i < di->guests.n; i++) {
		const char *ename = di->guests.v[i];
		char *name = guest_display(ename), *gone = guest_gone(&di->entry, ename);
		long pid;
		const char *starter = guest_starter_of(&di->entry, ename, &pid);

		jsonw_object_open(w, NULL);
		text(w, "name", name);
		text(w, "starter", starter);
		if (pid > 0)
			jsonw_int(w, "pid", (int)pid);
		else
			jsonw_null(w, "pid");
		text(w, "gone", gone);
		jsonw_object_close(w);
		free(name);
		free(gone);
	}
	jsonw_array_close(w);
}

void devobj_json(struct jsonw *w, const char *key, struct session *s, struct names *db, size_t i)
{
	struct devinfo di;

	devinfo_get(&di, s, db, i);
	devinfo_json_open(w, key, &di);
	jsonw_object_close(w);
	devinfo_free(&di);
}
