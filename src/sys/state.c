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

void kv_del(struct kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->keys.n; i++)
		if (streq(kv->keys.v[i], key)) {
			free(kv->keys.v[i]);
			free(kv->values.v[i]);
			memmove(kv->keys.v + i, kv->keys.v + i + 1,
				(kv->keys.n - i - 1) * sizeof(char *));
			memmove(kv->values.v + i, kv->values.v + i + 1,
				(kv->values.n - i - 1) * sizeof(char *));
			kv->keys.n--;
			kv->values.n--;
			return;
		}
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
	memset(kv, 0, sizeof(*kv));
	/* as kv_set() line by line (a key again replaces its value), without copying the text */
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n'), *eq;
		size_t len = end ? (size_t)(end - line) : strlen(line), klen, i;

		eq = memchr(line, '=', len);
		if (eq && eq != line) {
			char *v;

			klen = (size_t)(eq - line);
			for (i = 0; i < kv->keys.n; i++)
				if (strncmp(kv->keys.v[i], line, klen) == 0 &&
				    kv->keys.v[i][klen] == '\0')
					break;
			v = xstrndup(eq + 1, len - klen - 1);
			if (i < kv->keys.n) {
				free(kv->values.v[i]);
				kv->values.v[i] = v;
			} else {
				strv_push(&kv->keys, xstrndup(line, klen));
				strv_push(&kv->values, v);
			}
		}
		line += len + (end ? 1 : 0);
	}
}

/* The two folders, once opened and checked: descriptors, or a negative errno. */
static int top_fd = -ENOENT, dev_fd = -ENOENT;
static bool prepared;

/*
 * The device entries this run has read (or listed, or written), so that each is read once per
 * run: a command that shows the plan and then the entries of this boot reads every entry once.
 * Another process may write an entry only under the lock: the cache is dropped when this
 * process takes the lock or lets it go, so that what is read under the lock is fresh, and stays
 * valid for as long as the lock is held (`boot` holds it for its whole pass).
 */
#define UNREAD 1 /* listed, not read yet */
struct cached {
	char addr[16];
	char *text; /* NULL unless err == 0 */
	int err;    /* 0, UNREAD, or read_at()'s negative errno */
};
static struct {
	struct cached *v;
	size_t n, cap;
	bool listed; /* v holds every entry of the folder */
} cache;

static void cache_drop(void)
{
	for (size_t i = 0; i < cache.n; i++)
		free(cache.v[i].text);
	free(cache.v);
	memset(&cache, 0, sizeof(cache));
}

/* The index of addr, or -(insertion point) - 1. */
static ssize_t cache_find(const char *addr)
{
	size_t lo = 0, hi = cache.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(cache.v[mid].addr, addr);

		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(ssize_t)lo - 1;
}

/* Sets addr's slot (added in order if new); takes text. */
static void cache_put(const char *addr, char *text, int err)
{
	ssize_t k = cache_find(addr);
	size_t i;

	if (strlen(addr) >= sizeof(cache.v[0].addr)) {
		free(text);
		return;
	}
	if (k >= 0) {
		i = (size_t)k;
		free(cache.v[i].text);
	} else {
		i = (size_t)(-k - 1);
		if (cache.n == cache.cap) {
			cache.cap = cache.cap ? 2 * cache.cap : 64;
			cache.v = xrealloc(cache.v, cache.cap * sizeof(*cache.v));
		}
		memmove(cache.v + i + 1, cache.v + i, (cache.n - i) * sizeof(*cache.v));
		cache.n++;
		snprintf(cache.v[i].addr, sizeof(cache.v[i].addr), "%s", addr);
	}
	cache.v[i].text = text;
	cache.v[i].err = err;
}

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
	cache_drop();
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

static int lock_file(const char *name)
{
	int r = open_dirs(false), fd;

	if (r < 0)
		return r;
	fd = openat(top_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
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

/* state_lock() is reentrant: the outermost call takes it, the matching state_unlock() ends it */
static int lock_fd = -1;
static unsigned lock_depth;

int state_lock(void)
{
	int fd;

	if (lock_depth) {
		lock_depth++;
		return lock_fd;
	}
	fd = lock_file("lock");
	if (fd < 0)
		return fd;
	cache_drop(); /* read before the lock: another process may have written since */
	lock_fd = fd;
	lock_depth = 1;
	return fd;
}

int state_lock_guests(void)
{
	return lock_file("guest-lock");
}

void state_unlock(int fd)
{
	if (fd < 0)
		return;
	if (lock_depth && fd == lock_fd) {
		if (--lock_depth)
			return;
		lock_fd = -1;
		cache_drop(); /* without the lock, others write again */
	}
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

/* addr's entry, read once per run (the cache above): 0 and *text (the cache's), or -errno. */
static int read_entry(const char *addr, const char **text)
{
	ssize_t k;
	char *t = NULL;
	int r = open_dirs(false);

	*text = NULL;
	if (r < 0)
		return r;
	k = cache_find(addr);
	if (k >= 0 && cache.v[k].err != UNREAD) {
		*text = cache.v[k].text;
		return cache.v[k].err;
	}
	if (k < 0 && cache.listed)
		return -ENOENT; /* not in the folder when it was listed */
	r = read_at(dev_fd, addr, &t);
	if (r == 0) {
		/* kept for the run at its size, not in read_fd()'s 8 KiB buffer */
		char *fit = xstrdup(t);

		free(t);
		t = fit;
	} else {
		free(t);
		t = NULL;
	}
	cache_put(addr, t, r);
	*text = t;
	return r;
}

char *state_get(const char *addr, const char *key)
{
	const char *text, *found = NULL;
	size_t klen = strlen(key), flen = 0;

	if (read_entry(addr, &text) < 0)
		return NULL;
	/* the last "key=" line, as kv_parse() keeps it */
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > klen && line[klen] == '=' && strncmp(line, key, klen) == 0) {
			found = line + klen + 1;
			flen = len - klen - 1;
		}
		line += len + (end ? 1 : 0);
	}
	return found ? xstrndup(found, flen) : NULL;
}

void state_forget(void)
{
	cache_drop();
}

int state_read(const char *addr, struct kv *kv)
{
	const char *text;
	int r;

	memset(kv, 0, sizeof(*kv));
	r = read_entry(addr, &text);
	if (r < 0)
		return r;
	kv_parse(kv, text);
	return 0;
}

int state_write(const char *addr, const struct kv *kv)
{
	char *text = kv_format(kv);
	int r = open_dirs(false);

	if (r == 0)
		r = write_atomic_at(dev_fd, addr, text, 0644);
	if (r == 0)
		cache_put(addr, text, 0); /* what a read now would find */
	else
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
	if (cache.listed) {
		for (size_t i = 0; i < cache.n; i++)
			if (cache.v[i].err != -ENOENT)
				strv_push(addrs, xstrdup(cache.v[i].addr));
		return 0;
	}
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
	for (size_t i = 0; i < addrs->n; i++) {
		ssize_t k = cache_find(addrs->v[i]);

		/* new, or missing when asked before: read when asked */
		if (k < 0 || cache.v[k].err < 0)
			cache_put(addrs->v[i], NULL, UNREAD);
	}
	cache.listed = true;
	return 0;
}

/*
 * Does the entry of addr say state=released (its last state= line, as kv_parse() reads it)? Only
 * that line is looked at: the whole entry is parsed when a command shows the device.
 */
static bool entry_released(const char *addr)
{
	const char *text, *line;
	bool released = false;

	if (read_entry(addr, &text) < 0)
		return false;
	for (line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (strncmp(line, "state=", 6) == 0)
			released = strncmp(line + 6, "released", 8) == 0 &&
				   (line[14] == '\n' || line[14] == '\0');
	return released;
}

int state_released(struct strv *addrs)
{
	struct strv all = { 0 };
	int r = state_list(&all);

	for (size_t i = 0; i < all.n; i++)
		if (entry_released(all.v[i]))
			strv_push(addrs, xstrdup(all.v[i]));
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

/*
 * The summary: the machine-wide facts one udev event needs but cannot read without listing every
 * PCI function (the USB controllers for the last-USB rule, whether the machine has IOMMU
 * groups). `boot` writes it; a udev event that finds it missing, stale or untrusted reads every
 * device once and writes it again.
 */
#define SUMMARY_VERSION "1"

void summary_free(struct summary *sum)
{
	free(sum->boot_id);
	strv_free(&sum->usb);
	memset(sum, 0, sizeof(*sum));
}

int summary_boot_id(char **id)
{
	char *p = root_path("/proc/sys/kernel/random/boot_id");
	int r = read_text(p, id);

	free(p);
	if (r == 0 && (!**id || strpbrk(*id, " \n="))) {
		free(*id);
		*id = NULL;
		r = -EINVAL;
	}
	return r;
}

void summary_from(struct summary *sum, const struct pci_list *devs)
{
	memset(sum, 0, sizeof(*sum));
	summary_boot_id(&sum->boot_id);
	sum->have_iommu = devs->have_iommu;
	sum->ndevices = devs->n;
	for (size_t i = 0; i < devs->n; i++)
		if (pci_is_usb(&devs->v[i]))
			strv_push(&sum->usb, xstrdup(devs->v[i].addr));
}

int summary_write(const struct summary *sum)
{
	struct kv kv = { 0 };
	char *text, *usb, count[32];
	size_t len = 1;
	int r;

	if (!sum->boot_id)
		return -ENOENT; /* it could never be told from another boot's */
	r = open_dirs(false);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sum->usb.n; i++)
		len += strlen(sum->usb.v[i]) + 1;
	usb = xcalloc(1, len);
	for (size_t i = 0; i < sum->usb.n; i++) {
		if (i)
			strcat(usb, " ");
		strcat(usb, sum->usb.v[i]);
	}
	snprintf(count, sizeof(count), "%zu", sum->ndevices);
	kv_set(&kv, "version", SUMMARY_VERSION);
	kv_set(&kv, "boot_id", sum->boot_id);
	kv_set(&kv, "iommu_groups", sum->have_iommu ? "yes" : "no");
	kv_set(&kv, "usb_controllers", usb);
	kv_set(&kv, "devices", count);
	text = kv_format(&kv);
	r = write_atomic_at(top_fd, SUMMARY_FILE, text, 0644);
	free(text);
	free(usb);
	kv_free(&kv);
	return r;
}

/* Fills sum from the file's text; -EBADMSG when a line is missing or not what we write. */
static int summary_parse(struct summary *sum, const char *text)
{
	const char *v, *iommu, *usb, *id;
	struct kv kv;
	int r = -EBADMSG;

	kv_parse(&kv, text);
	v = kv_get(&kv, "version");
	id = kv_get(&kv, "boot_id");
	iommu = kv_get(&kv, "iommu_groups");
	usb = kv_get(&kv, "usb_controllers");
	if (!v || !streq(v, SUMMARY_VERSION) || !id || !*id || !iommu || !usb ||
	    !(streq(iommu, "yes") || streq(iommu, "no")))
		goto out;
	sum->boot_id = xstrdup(id);
	sum->have_iommu = streq(iommu, "yes");
	{
		char *copy = xstrdup(usb), *save = NULL;
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
			strv_push(&sum->usb, xstrdup(t));
		free(copy);
	}
	for (size_t i = 0; i < sum->usb.n; i++)
		if (!pci_addr_valid(sum->usb.v[i]))
			goto out;
	r = 0;
out:
	kv_free(&kv);
	return r;
}

int summary_read(struct summary *sum)
{
	char *text = NULL, *now = NULL;
	struct stat st;
	int fd, r;

	memset(sum, 0, sizeof(*sum));
	r = open_dirs(false);
	if (r < 0)
		return r;
	fd = openat(top_fd, SUMMARY_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ELOOP : -errno;
	/* trusted as the folder is: a regular file of ours that nobody else can write */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022))
		r = -EPERM;
	else
		r = read_fd(fd, &text, 1 << 20, NULL);
	close(fd);
	if (r == 0)
		r = summary_parse(sum, text);
	/* made on another boot (or this one cannot be told): the machine may have changed */
	if (r == 0 && (summary_boot_id(&now) < 0 || !streq(now, sum->boot_id)))
		r = -ESTALE;
	free(now);
	free(text);
	if (r < 0)
		summary_free(sum);
	return r;
}

int state_released_of(const struct pci_list *devs, struct strv *addrs)
{
	int r = open_dirs(false);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (size_t i = 0; i < devs->n; i++)
		if (entry_released(devs->v[i].addr))
			strv_push(addrs, xstrdup(devs->v[i].addr));
	strv_sort(addrs);
	return 0;
}
