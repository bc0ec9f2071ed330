// SPDX-License-Identifier: GPL-2.0-or-later
/* Small helpers shared by every part: memory, strings, paths under the root, files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static char *root_dir; /* "" for the running system, else the directory without trailing '/' */

static void oom(void)
{
	fputs("vfio-claim: error: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

void strv_push(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(char *));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (streq(sv->v[i], s))
			return true;
	return false;
}

char *strv_join(const struct strv *sv, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	char *out, *p;

	for (size_t i = 0; i < sv->n; i++)
		len += strlen(sv->v[i]) + (i ? seplen : 0);
	p = out = xmalloc(len);
	for (size_t i = 0; i < sv->n; i++)
		p = stpcpy(i ? stpcpy(p, sep) : p, sv->v[i]);
	*p = '\0';
	return out;
}

int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct strv *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(char *), strv_cmp);
}

int root_set(const char *dir)
{
	size_t n;

	free(root_dir);
	root_dir = NULL;
	if (!dir || !*dir)
		return 0;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return 0;
	root_dir = xstrndup(dir, n);
	return 0;
}

const char *root_get(void)
{
	return root_dir ? root_dir : "";
}

bool root_is_host(void)
{
	return !root_dir;
}

char *root_path(const char *fmt, ...)
{
	va_list ap;
	char *rel, *s;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		oom();
	va_end(ap);
	if (!root_dir)
		return rel;
	s = xasprintf("%s%s", root_dir, rel);
	free(rel);
	return s;
}

int read_fd(int fd, char **out, size_t max, size_t *length)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t k;

		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		k = read(fd, buf + len, cap - len - 1);
		if (k < 0) {
			int r = -errno;
			if (r == -EINTR)
				continue;
			free(buf);
			return r;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max) {
			free(buf);
			return -EFBIG;
		}
	}
	if (!buf)
		buf = xmalloc(1);
	buf[len] = '\0';
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	*out = buf;
	if (length)
		*length = len;
	return 0;
}

int read_text(const char *path, char **out)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, out, SIZE_MAX / 4, NULL);
	close(fd);
	return r;
}

int root_cmdline(const char **text)
{
	/* keyed by the root it was read under: unit tests change the root within one process */
	static char *cached, *cached_root;
	static int err;

	if (!cached_root || !streq(cached_root, root_get())) {
		char *p = root_path("/proc/cmdline");

		free(cached);
		free(cached_root);
		cached = NULL;
		err = read_text(p, &cached);
		cached_root = xstrdup(root_get());
		free(p);
	}
	*text = cached;
	return err;
}

int read_line_at(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t k;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	k = read(fd, buf, size - 1);
	close(fd);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int write_attr(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t k;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	k = write(fd, value, len);
	if (k < 0)
		r = -errno;
	else if ((size_t)k != len)
		r = -EIO;
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

static int write_all(int fd, const char *content)
{
	size_t len = strlen(content), off = 0;

	while (off < len) {
		ssize_t k = write(fd, content + off, len - off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)k;
	}
	return 0;
}

int write_atomic_at(int dirfd, const char *name, const char *content, unsigned mode)
{
	static unsigned seq;
	char tmp[PATH_MAX];
	int fd = -1, r;

	/* a new name in the folder, created exclusively: nothing planted there is followed */
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		snprintf(tmp, sizeof(tmp), ".#%s.%d.%u", name, (int)getpid(), seq++);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	r = write_all(fd, content);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int write_atomic(const char *path, const char *content, unsigned mode)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	int dirfd, r;

	dirfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (dirfd < 0)
		return -errno;
	r = write_atomic_at(dirfd, slash ? slash + 1 : path, content, mode);
	close(dirfd);
	return r;
}

int read_link_name(const char *path, char **name)
{
	char buf[PATH_MAX];
	ssize_t k;
	const char *base;

	k = readlink(path, buf, sizeof(buf) - 1);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	base = strrchr(buf, '/');
	*name = xstrdup(base ? base + 1 : buf);
	return 0;
}

int mkdir_p(const char *path, unsigned mode)
{
	char *p = xstrdup(path);
	int r = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			r = -errno;
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		r = -errno;
out:
	free(p);
	return r;
}

bool parse_hex(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 8)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v * 16 + (unsigned long)d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

char *strip(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

const char *errstr(int negerrno)
{
	return strerror(negerrno < 0 ? -negerrno : negerrno);
}

void format_time(time_t t, char *buf, size_t size)
{
	/*
	 * UTC by hand: glibc's gmtime_r() and strftime() read the time zone (/etc/localtime),
	 * which is the host's, outside any --root. Days to a civil date as in H. Hinnant's
	 * "chrono-compatible low-level date algorithms" (proleptic Gregorian calendar).
	 */
	long long days = t / 86400, secs = t % 86400, era, doe, yoe, doy, mp, y, m, d;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", y, m, d, secs / 3600,
		 secs / 60 % 60, secs % 60);
}

void format_now(char *buf, size_t size)
{
	format_time(time(NULL), buf, size);
}
