// SPDX-License-Identifier: GPL-2.0-or-later
/* What doctor's checks share (doctor.h): the report they add to, and the root's files. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

#include "doctor.h"

void report_add(struct report *rp, enum result result, char *message, char *fix)
{
	rp->v = xrealloc(rp->v, (rp->n + 1) * sizeof(*rp->v));
	rp->v[rp->n++] = (struct finding){ rp->name, result, message, fix };
}

int doctor_read(const char *path, char **text)
{
	char *p = root_path("%s", path);
	int r = read_text(p, text);

	free(p);
	return r;
}

int doctor_list(const char *path, struct strv *names)
{
	char *p = root_path("%s", path);
	struct dirent *de;
	DIR *d = opendir(p);
	int r = d ? 0 : -errno;

	free(p);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			strv_push(names, xstrdup(de->d_name));
	if (d)
		closedir(d);
	strv_sort(names);
	return r;
}

bool doctor_claimed(const struct session *s, size_t i)
{
	return s->plan.v[i].decision == DEC_CLAIM || pci_on_vfio(&s->devs.v[i]);
}
