// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state directory (SPEC §9): /run/vfio-claim/devices/ADDR, one file per device, written
 * atomically (temporary file + rename), so that concurrent invocations never lose or corrupt an
 * entry, and the hand-off from the initramfs to the real root is a plain directory under /run.
 *
 * The directory is trusted only if it is ours (root's) and nobody else can write to it: it is
 * opened once without following symbolic links, checked with fstat(), and every file in it is
 * reached relative to that descriptor, again without following links.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "sysfs.h"

#define STATE_DIR "/run/vfio-claim"

const char *kv_get(const struct kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->keys.n; i++)
		if (streq(kv->keys.v[i], key))
			return kv->values.v[i];
	return NULL;
}

void kv_set(struct kv *kv, const char *key, const char *value)
{
	char *v;

	/* a key that would read back as another (a newline, an '=') is a bug of the caller */
	if (!*key || strpbrk(key, "=\n"))
		abort();
	v = xstrdup(value ? value : "");

	/* one line per key: newlines would break the format */
	for (char *p = v; *p; p++)
		if (*p == '\n')
			*p = ' ';
	for (size_t i = 0; i < kv->keys.n; i++)
		if (streq(kv->keys.v[i], key)) {
			free(kv->values.v[i]);
			kv->values.v[i] = v;
			return;
		}
	strv_push(&kv->keys, xstrdup(key));
	strv_push(&kv->values, v);
}

void kv_free(struct kv *kv)
{
	strv_free(&kv->keys);
	strv_free(&kv->values);
}

char *kv_format(const struct kv *kv)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < kv->keys.n; i++)
		len += strlen(kv->keys.v[i]) + strlen(kv->values.v[i]) + 2;
	p = s = xmalloc(len);
	for (size_t i = 0; i < kv->keys.n; i++)
		p += sprintf(p, "%s=%s\n", kv->keys.v[i], kv->values.v[i]);
	*p = '\0';
	return s;
}

void kv_parse(struct kv *kv, const char *text)
{
	char *copy = xstrdup(text), *save = NULL;

	memset(kv, 0, sizeof(*kv));
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq || eq == line)
			continue;
		*eq = '\0';
		kv_set(kv, line, eq + 1);
	}
	free(copy);
}

/* The two folders, once opened and checked: descriptors, or a negative errno. */
static int top_fd = -ENOENT, dev_fd = -ENOENT;
static bool prepared;

/*
 * Opens a state folder without following links and checks that it can be trusted: owned by
 * root (or by the user running us, for tests under --root), writable by nobody else. A folder
 * of ours with a wrong mode (made under another umask, or loosened) is repaired when we may
 * write. Returns the descriptor, or -ELOOP (a link), -ENOTDIR, -EPERM (someone else's, or
 * writable by others and not repairable here).
 */
static int open_trusted(int atfd, const char *name, bool create)
{
	struct stat st;
	int fd;

	if (create && mkdirat(atfd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(atfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ELOOP : -errno; /* a link, or not a folder */
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	if ((st.st_mode & 07777) != 0755 && create && fchmod(fd, 0755) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (!create && (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static int open_dirs(bool create)
{
	char *run;
	int runfd, r;

	if (prepared || (!create && top_fd >= 0))
		return dev_fd < 0 ? dev_fd : 0;
	run = root_path("/run");
	if (top_fd >= 0)
		close(top_fd);
	if (dev_fd >= 0)
		close(dev_fd);
	top_fd = dev_fd = -ENOENT;
	r = create ? mkdir_p(run, 0755) : 0;
	runfd = r < 0 ? r : open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(run);
	if (runfd < 0)
		return r < 0 ? r : -errno;
	top_fd = open_trusted(runfd, "vfio-claim", create);
	close(runfd);
	if (top_fd < 0)
		return top_fd;
	dev_fd = open_trusted(top_fd, "devices", create);
	if (dev_fd < 0)
		return dev_fd;
	prepared = create;
	return 0;
}

const char *state_strerror(int r)
{
	if (r == -ELOOP)
		return "a symbolic link where a folder of ours belongs: not trusted; remove it";
	if (r == -EPERM)
		return "not root's, or writable by other users: not trusted; remove it";
	return errstr(r);
}

int state_prepare(void)
{
	return open_dirs(true);
}

int state_lock(void)
{
	int r = open_dirs(false), fd;

	if (r < 0)
		return r;
	fd = openat(top_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A regular file in a state folder, never through a link: 0, or a negative errno. */
static int read_at(int dirfd, const char *name, char **text)
{
	struct stat st;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ELOOP : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	/* a file someone else put here (while the folder was open to others) says nothing */
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	r = read_fd(fd, text, 1 << 20, NULL);
	close(fd);
	return r;
}

int state_read(const char *addr, struct kv *kv)
{
	char *text = NULL;
	int r;

	memset(kv, 0, sizeof(*kv));
	r = open_dirs(false);
	if (r < 0)
		return r;
	r = read_at(dev_fd, addr, &text);
	if (r < 0)
		return r;
	kv_parse(kv, text);
	free(text);
	return 0;
}

int state_write(const char *addr, const struct kv *kv)
{
	char *text = kv_format(kv);
	int r = open_dirs(false);

	if (r == 0)
		r = write_atomic_at(dev_fd, addr, text, 0644);
	free(text);
	return r;
}

int state_list(struct strv *addrs)
{
	struct dirent *de;
	DIR *d;
	int fd, r = open_dirs(false);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	fd = openat(dev_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	while ((de = readdir(d)))
		if (pci_addr_valid(de->d_name))
			strv_push(addrs, xstrdup(de->d_name));
	closedir(d);
	strv_sort(addrs);
	return 0;
}

int state_released(struct strv *addrs)
{
	struct strv all = { 0 };
	int r = state_list(&all);

	for (size_t i = 0; i < all.n; i++) {
		struct kv kv;
		if (state_read(all.v[i], &kv) == 0 && streq(kv_get(&kv, "state") ?: "", "released"))
			strv_push(addrs, xstrdup(all.v[i]));
		kv_free(&kv);
	}
	strv_free(&all);
	strv_sort(addrs);
	return r;
}

int state_read_file(const char *name, char **text)
{
	int r = open_dirs(false);

	if (r < 0)
		return r;
	return read_at(top_fd, name, text);
}

int state_write_file(const char *name, const char *content)
{
	int r = open_dirs(false);

	if (r < 0)
		return r;
	return write_atomic_at(top_fd, name, content, 0644);
}

int state_remove_file(const char *name)
{
	int r = open_dirs(false);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	return unlinkat(top_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}
