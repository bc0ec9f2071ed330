// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holders.h"
#include "util.h"

/* A whole file and its length (cmdline holds NULs): 0 or a negative errno. */
static int read_all(int dirfd, const char *name, char **out, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *buf;
	int fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = xmalloc(cap);
	for (;;) {
		ssize_t k;

		if (n + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			free(buf);
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
out:
	close(fd);
	return r;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static const char *after_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* The group N of "/dev/vfio/N"; -1 for another VFIO node; -2 for anything else. */
static int vfio_node(const char *target)
{
	const char *p;

	if (streq(target, "/dev/iommu"))
		return -1;
	p = after_prefix(target, "/dev/vfio/devices/vfio");
	if (p)
		return all_digits(p) ? -1 : -2;
	p = after_prefix(target, "/dev/vfio/");
	if (p && all_digits(p) && strlen(p) < 10)
		return atoi(p);
	return -2;
}

/*
 * One value of a QEMU option string from p, as QEMU's get_opt_value(): up to a single ',', with
 * ",," read as ','. Returns where the next item starts.
 */
static const char *opt_value(const char *p, const char *end, char **value)
{
	char *v = xmalloc((size_t)(end - p) + 1), *o = v;

	while (p < end) {
		if (*p == ',') {
			if (p + 1 < end && p[1] == ',') {
				*o++ = ',';
				p += 2;
				continue;
			}
			p++;
			break;
		}
		*o++ = *p++;
	}
	*o = '\0';
	*value = v;
	return p;
}

/* The "guest" of a -name value: the first item is "guest" when it has no '=', as in QEMU. */
static char *guest_from_option(const char *s)
{
	const char *p = s, *end = s + strlen(s);
	char *guest = NULL;
	bool first = true;

	while (p < end) {
		size_t len = strcspn(p, "=,");
		char *value;

		if (p[len] != '=') {
			p = opt_value(p, end, &value);
			if (first) { /* "-name NAME,..." */
				free(guest);
				guest = value;
			} else
				free(value); /* a flag: "debug-threads" alone */
		} else {
			bool is_guest = len == 5 && strncmp(p, "guest", 5) == 0;

			p = opt_value(p + len + 1, end, &value);
			if (is_guest) { /* the last one wins, as in QEMU */
				free(guest);
				guest = value;
			} else
				free(value);
		}
		first = false;
	}
	if (guest && !*guest) {
		free(guest);
		guest = NULL;
	}
	return guest;
}

char *holders_qemu_guest_name(const char *args, size_t len)
{
	const char *p = args, *end = args + len;
	char *guest = NULL;

	while (p < end) {
		const char *arg = p, *next = memchr(p, '\0', (size_t)(end - p));

		if (!next)
			break; /* a last argument without its NUL is no "-name" with a value */
		next++;
		if ((streq(arg, "-name") || streq(arg, "--name")) && next < end) {
			char *value = xstrndup(next, (size_t)(end - next));

			free(guest); /* the last -name wins, as in QEMU */
			guest = guest_from_option(value);
			free(value);
		}
		p = next;
	}
	return guest;
}

static bool is_qemu(const char *comm, const char *args, size_t len)
{
	const char *base;

	if (comm && strncmp(comm, "qemu", 4) == 0)
		return true;
	if (len == 0 || !memchr(args, '\0', len))
		return false;
	base = strrchr(args, '/');
	base = base ? base + 1 : args;
	return strncmp(base, "qemu", 4) == 0;
}

static void add(struct holders *h, size_t *cap, int pid, int group, const char *node)
{
	if (h->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		h->v = xrealloc(h->v, *cap * sizeof(*h->v));
	}
	h->v[h->n++] = (struct holder){ .pid = pid, .group = group, .node = xstrdup(node) };
}

/* What one scan collects: the VFIO nodes' holders, those of any DRM node (either may be NULL). */
struct want {
	struct holders *vfio, *other;
	size_t vcap, ocap;
};

/*
 * The nodes one process holds, added to w's lists; then its command and guest name, read once
 * for both.
 */
static void scan_pid(struct want *w, int procfd, const char *pidname)
{
	struct holders *lists[2] = { w->vfio, w->other };
	size_t first[2] = { w->vfio ? w->vfio->n : 0, w->other ? w->other->n : 0 }, len = 0;
	char *fdpath = xasprintf("%s/fd", pidname), *comm = NULL, *args = NULL, *vm = NULL;
	int pid = atoi(pidname), fd, r;
	struct dirent *de;
	DIR *d;

	fd = openat(procfd, fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (errno == EACCES || errno == EPERM)
			for (int l = 0; l < 2; l++)
				if (lists[l])
					lists[l]->unreadable++;
		if (fd >= 0)
			close(fd);
		goto out; /* a process that ended is no holder */
	}
	while ((de = readdir(d))) {
		char target[PATH_MAX];
		ssize_t k = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		int group[2];

		if (k < 0)
			continue;
		target[k] = '\0';
		group[0] = w->vfio ? vfio_node(target) : -2;
		group[1] = -2;
		if (w->other && after_prefix(target, "/dev/dri/"))
			group[1] = -1;
		for (int l = 0; l < 2; l++) {
			bool seen = false;

			if (group[l] == -2)
				continue;
			for (size_t i = first[l]; i < lists[l]->n && !seen; i++)
				seen = streq(lists[l]->v[i].node, target);
			if (!seen)
				add(lists[l], l ? &w->ocap : &w->vcap, pid, group[l], target);
		}
	}
	closedir(d);
	if ((!w->vfio || w->vfio->n == first[0]) && (!w->other || w->other->n == first[1]))
		goto out;

	free(fdpath);
	fdpath = xasprintf("%s/comm", pidname);
	r = read_all(procfd, fdpath, &comm, &len);
	if (r == -ENOENT) { /* it ended meanwhile */
		for (int l = 0; l < 2; l++)
			if (lists[l]) {
				for (size_t i = first[l]; i < lists[l]->n; i++)
					free(lists[l]->v[i].node);
				lists[l]->n = first[l];
			}
		goto out;
	}
	if (r < 0)
		comm = NULL;
	else
		comm[strcspn(comm, "\n")] = '\0';
	free(fdpath);
	fdpath = xasprintf("%s/cmdline", pidname);
	if (read_all(procfd, fdpath, &args, &len) < 0) {
		args = NULL;
		len = 0;
	}
	if (args && is_qemu(comm, args, len))
		vm = holders_qemu_guest_name(args, len);
	for (int l = 0; l < 2; l++)
		for (size_t i = first[l]; lists[l] && i < lists[l]->n; i++) {
			lists[l]->v[i].command = comm ? xstrdup(comm) : NULL;
			lists[l]->v[i].vm = vm ? xstrdup(vm) : NULL;
		}
out:
	free(fdpath);
	free(comm);
	free(args);
	free(vm);
}

static int cmp_holder(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;
	int c;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	c = strcmp(x->node, y->node);
	if (c)
		return c;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int scan(struct want *w)
{
	char *proc = root_path("/proc");
	struct dirent *de;
	int r = 0, fd;
	DIR *d;

	if (w->vfio)
		*w->vfio = (struct holders){ 0 };
	if (w->other)
		*w->other = (struct holders){ 0 };
	fd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		r = errno == ENOENT ? 0 : -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while ((de = readdir(d)))
		if (all_digits(de->d_name) && strlen(de->d_name) < 10)
			scan_pid(w, dirfd(d), de->d_name);
	closedir(d);
	if (w->vfio && w->vfio->n)
		qsort(w->vfio->v, w->vfio->n, sizeof(*w->vfio->v), cmp_holder);
	if (w->other && w->other->n)
		qsort(w->other->v, w->other->n, sizeof(*w->other->v), cmp_holder);
out:
	free(proc);
	return r;
}

int holders_scan(struct holders *h)
{
	struct want w = { .vfio = h };

	return scan(&w);
}

int holders_scan_with_drm(struct holders *vfio, struct holders *drm)
{
	struct want w = { .vfio = vfio, .other = drm };

	return scan(&w);
}

void holders_select_nodes(const struct holders *from, const struct strv *nodes, struct holders *out)
{
	*out = (struct holders){ 0 };
	if (!nodes->n)
		return;
	out->unreadable = from->unreadable;
	for (size_t i = 0; i < from->n; i++)
		if (strv_contains(nodes, from->v[i].node)) {
			const struct holder *v = &from->v[i];

			out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
			out->v[out->n++] = (struct holder){
				.pid = v->pid,
				.group = -1,
				.command = v->command ? xstrdup(v->command) : NULL,
				.vm = v->vm ? xstrdup(v->vm) : NULL,
				.node = xstrdup(v->node),
			};
		}
}

char *holders_describe_nodes(const struct holders *h)
{
	char *out = NULL;

	/* one item per process, with every node it holds: sorted by pid */
	for (size_t i = 0; i < h->n; i++) {
		const struct holder *v = &h->v[i];
		bool seen = false;
		char *nodes = xstrdup(v->node), *s;

		for (size_t j = 0; j < i && !seen; j++)
			seen = h->v[j].pid == v->pid;
		if (seen) {
			free(nodes);
			continue;
		}
		for (size_t j = i + 1; j < h->n; j++)
			if (h->v[j].pid == v->pid) {
				s = xasprintf("%s and %s", nodes, h->v[j].node);
				free(nodes);
				nodes = s;
			}
		s = xasprintf("%s%s%s%s(pid %d) through %s", out ? out : "", out ? ", " : "",
			      v->command ? v->command : "", v->command ? " " : "", v->pid, nodes);
		free(nodes);
		free(out);
		out = s;
	}
	return out;
}

void holders_free(struct holders *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].command);
		free(h->v[i].vm);
		free(h->v[i].node);
	}
	free(h->v);
	*h = (struct holders){ 0 };
}

const struct holder *holders_of_group(const struct holders *h, int group, size_t *n)
{
	size_t i = 0, k = 0;

	if (group < 0) {
		*n = 0;
		return NULL;
	}
	while (i < h->n && h->v[i].group != group)
		i++;
	while (i + k < h->n && h->v[i + k].group == group)
		k++;
	*n = k;
	return k ? &h->v[i] : NULL;
}

const struct holder *holders_of_node(const struct holders *h, const char *node, size_t *n)
{
	size_t i = 0, k = 0;

	while (i < h->n && !streq(h->v[i].node, node))
		i++;
	while (i + k < h->n && streq(h->v[i + k].node, node))
		k++;
	*n = k;
	return k ? &h->v[i] : NULL;
}

char *holders_describe(const struct holders *h, int group)
{
	const struct holder *v;
	char *out = NULL, *s;
	size_t n;

	v = holders_of_group(h, group, &n);
	for (size_t i = 0; i < n; i++) {
		const char *sep = out ? ", " : "";

		if (v[i].command && v[i].vm)
			s = xasprintf("%s%s%d (%s, guest '%s')", out ? out : "", sep, v[i].pid,
				      v[i].command, v[i].vm);
		else if (v[i].command || v[i].vm)
			s = xasprintf("%s%s%d (%s%s%s)", out ? out : "", sep, v[i].pid,
				      v[i].vm ? "guest '" : "", v[i].command ?: v[i].vm,
				      v[i].vm ? "'" : "");
		else
			s = xasprintf("%s%s%d", out ? out : "", sep, v[i].pid);
		free(out);
		out = s;
	}
	return out;
}
