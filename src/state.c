// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state directory (SPEC §9): /run/vfio-claim/devices/ADDR, one file per device, written
 * atomically (temporary file + rename), so that concurrent invocations never lose or corrupt an
 * entry, and the hand-off from the initramfs to the real root is a plain directory under /run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
	char *v = xstrdup(value ? value : "");

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

int state_prepare(void)
{
	static bool done; /* boot claims many devices: create the folders once */
	char *p;
	int r;

	if (done)
		return 0;
	p = root_path(STATE_DIR "/devices");
	r = mkdir_p(p, 0755);
	free(p);
	done = r == 0;
	return r;
}

int state_lock(void)
{
	char *p = root_path(STATE_DIR "/lock");
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(p);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int r = -errno;
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

int state_read(const char *addr, struct kv *kv)
{
	char *p = root_path(STATE_DIR "/devices/%s", addr), *text = NULL, *save = NULL;
	int r;

	memset(kv, 0, sizeof(*kv));
	r = read_text(p, &text);
	free(p);
	if (r < 0)
		return r;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		kv_set(kv, line, eq + 1);
	}
	free(text);
	return 0;
}

int state_write(const char *addr, const struct kv *kv)
{
	char *p = root_path(STATE_DIR "/devices/%s", addr), *text = kv_format(kv);
	int r = write_atomic(p, text, 0644);

	free(text);
	free(p);
	return r;
}

int state_list(struct strv *addrs)
{
	char *p = root_path(STATE_DIR "/devices");
	DIR *d = opendir(p);
	struct dirent *de;

	free(p);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
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

int state_write_file(const char *name, const char *content)
{
	char *p = root_path(STATE_DIR "/%s", name);
	int r = write_atomic(p, content, 0644);

	free(p);
	return r;
}

int state_remove_file(const char *name)
{
	char *p = root_path(STATE_DIR "/%s", name);
	int r = unlink(p) < 0 && errno != ENOENT ? -errno : 0;

	free(p);
	return r;
}
