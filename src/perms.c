// SPDX-License-Identifier: GPL-2.0-or-later
/* Owner, group and mode of /dev/vfio/N from the policy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perms.h"

/* /etc/passwd or /etc/group: "name:x:ID:..." */
static long lookup_id(const char *file, const char *name)
{
	char *p, *text = NULL, *save = NULL;
	long id = -1;

	if (!name)
		return -1;
	if (name[strspn(name, "0123456789")] == '\0')
		return strtol(name, NULL, 10);
	p = root_path("%s", file);
	if (read_text(p, &text) == 0) {
		for (char *line = strtok_r(text, "\n", &save); line && id < 0;
		     line = strtok_r(NULL, "\n", &save)) {
			char *c1 = strchr(line, ':'), *c2;
			if (!c1)
				continue;
			*c1 = '\0';
			c2 = strchr(c1 + 1, ':');
			if (streq(line, name) && c2)
				id = strtol(c2 + 1, NULL, 10);
		}
		free(text);
	}
	free(p);
	return id < 0 ? -2 : id;
}

int perms_resolve(const struct perms *p, long *uid, long *gid)
{
	*uid = lookup_id("/etc/passwd", p->owner);
	*gid = lookup_id("/etc/group", p->group);
	if (*uid == -2 || *gid == -2)
		return -ENOENT;
	return 0;
}

void perms_effective(const struct rule *rule, const struct config *cfg, struct perms *out)
{
	const struct perms *r = rule ? &rule->perms : NULL;

	out->owner = r && r->owner ? r->owner : cfg->perms.owner;
	out->group = r && r->group ? r->group : cfg->perms.group;
	out->mode = r && r->mode >= 0 ? r->mode : cfg->perms.mode;
}

int perms_apply(int group, const struct perms *p)
{
	char *node;
	long uid, gid;
	int r = 0;

	if (group < 0 || (!p->owner && !p->group && p->mode < 0))
		return 0;
	r = perms_resolve(p, &uid, &gid);
	if (r < 0)
		return r;
	node = root_path("/dev/vfio/%d", group);
	if ((uid >= 0 || gid >= 0) && chown(node, (uid_t)uid, (gid_t)gid) < 0)
		r = -errno;
	if (r == 0 && p->mode >= 0 && chmod(node, (mode_t)p->mode) < 0)
		r = -errno;
	free(node);
	return r;
}
