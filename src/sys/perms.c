// SPDX-License-Identifier: GPL-2.0-or-later
/* Owner, group and mode of /dev/vfio/N, /dev/vfio/devices/vfioN and /dev/iommu from the policy. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perms.h"

/* A decimal id below (id_t)-1, which chown() reads as "unchanged"; 1 if s is not a number. */
static int parse_id(const char *s, unsigned long *id)
{
	unsigned long long v = 0;

	if (!*s || s[strspn(s, "0123456789")] != '\0')
		return 1;
	for (; *s; s++) {
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v >= (uid_t)-1)
			return -ERANGE;
	}
	*id = (unsigned long)v;
	return 0;
}

/* A name (or number) through the root's /etc/passwd or /etc/group: 0 or a negative errno */
static int lookup_id(const char *name, bool group, unsigned long *id)
{
	char *path;
	FILE *f;
	int r = parse_id(name, id);

	if (r <= 0)
		return r;
	path = root_path(group ? "/etc/group" : "/etc/passwd");
	f = fopen(path, "re");
	free(path);
	if (!f)
		return -errno;
	r = -ENOENT;
	for (;;) {
		struct passwd *pw = group ? NULL : fgetpwent(f);
		struct group *gr = group ? fgetgrent(f) : NULL;

		if (!pw && !gr)
			break;
		if (streq(pw ? pw->pw_name : gr->gr_name, name)) {
			*id = pw ? pw->pw_uid : gr->gr_gid;
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

int perms_user_id(const char *name, uid_t *uid)
{
	unsigned long id;
	int r = lookup_id(name, false, &id);

	if (r == 0)
		*uid = (uid_t)id;
	return r;
}

int perms_group_id(const char *name, gid_t *gid)
{
	unsigned long id;
	int r = lookup_id(name, true, &id);

	if (r == 0)
		*gid = (gid_t)id;
	return r;
}

int perms_check_name(bool group, const char *name)
{
	uid_t uid;
	gid_t gid;

	return group ? perms_group_id(name, &gid) : perms_user_id(name, &uid);
}

int perms_resolve(const struct perms *p, long *uid, long *gid)
{
	uid_t u = 0;
	gid_t g = 0;
	int r;

	*uid = *gid = -1;
	if (p->owner) {
		r = perms_user_id(p->owner, &u);
		if (r < 0)
			return r;
		*uid = (long)u;
	}
	if (p->group) {
		r = perms_group_id(p->group, &g);
		if (r < 0)
			return r;
		*gid = (long)g;
	}
	return 0;
}

void perms_effective(const struct rule *rule, const struct config *cfg, struct perms *out)
{
	const struct perms *r = rule ? &rule->perms : NULL;

	out->owner = r && r->owner ? r->owner : cfg->perms.owner;
	out->group = r && r->group ? r->group : cfg->perms.group;
	out->mode = r && r->mode >= 0 ? r->mode : cfg->perms.mode;
}

static int apply_node(const char *node, const struct perms *p)
{
	long uid, gid;
	int r;

	if (!p->owner && !p->group && p->mode < 0)
		return 0;
	r = perms_resolve(p, &uid, &gid);
	if (r < 0)
		return r;
	if ((uid >= 0 || gid >= 0) && chown(node, (uid_t)uid, (gid_t)gid) < 0)
		r = -errno;
	if (r == 0 && p->mode >= 0 && chmod(node, (mode_t)p->mode) < 0)
		r = -errno;
	return r;
}

int perms_apply(int group, const struct perms *p)
{
	char *node;
	int r;

	if (group < 0)
		return 0;
	node = root_path("/dev/vfio/%d", group);
	r = apply_node(node, p);
	free(node);
	return r;
}

int perms_apply_cdev(const char *addr, const struct perms *p)
{
	char *dir = root_path("/sys/bus/pci/devices/%s/vfio-dev", addr);
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	free(dir);
	if (!d)
		return 0; /* no VFIO device cdev (CONFIG_VFIO_DEVICE_CDEV), or not on vfio */
	while ((de = readdir(d))) {
		char *node;
		int k;

		if (strncmp(de->d_name, "vfio", 4) || !de->d_name[4] ||
		    de->d_name[4 + strspn(de->d_name + 4, "0123456789")] != '\0')
			continue;
		node = root_path("/dev/vfio/devices/%s", de->d_name);
		k = access(node, F_OK) == 0 ? apply_node(node, p) : 0;
		if (k < 0 && r == 0)
			r = k;
		free(node);
	}
	closedir(d);
	return r;
}

void perms_iommufd(const struct rule *rule, const struct config *cfg, struct perms *out)
{
	const struct perms *d = &cfg->perms;

	if (d->owner || d->group || d->mode >= 0)
		*out = *d;
	else
		perms_effective(rule, cfg, out);
}

int perms_apply_iommufd(const struct perms *p)
{
	char *node = root_path("/dev/iommu");
	int r = 0;

	if (access(node, F_OK) == 0)
		r = apply_node(node, p);
	free(node);
	return r;
}
