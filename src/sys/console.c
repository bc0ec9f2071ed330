// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The console of a display device (single-GPU passthrough): frame-buffer consoles
 * (/sys/class/vtconsole) and firmware framebuffers (platform devices), unbound before a run-time
 * claim and restored after the give-back. Never a module unload: built-in drivers are normal.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "console.h"
#include "sysfs.h"

/* The platform drivers of a firmware framebuffer (sysfb and its users). */
static const char *const fw_fb_drivers[] = {
	"efi-framebuffer",
	"simple-framebuffer",
	"vesa-framebuffer",
};

static int fail(struct console_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->step, sizeof(err->step), fmt, ap);
	va_end(ap);
	return r;
}

bool console_stage_applies(const char *stage)
{
	return !streq(stage, "initramfs") && !streq(stage, "udev");
}

bool console_is_display(const struct pci_dev *d)
{
	return (d->class >> 16) == 0x03;
}

/* A name of one path component we may put in a sysfs path. */
static bool plain_name(const char *s)
{
	return *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..") && strlen(s) < 64;
}

static bool is_vtcon_name(const char *s)
{
	if (strncmp(s, "vtcon", 5) != 0 || !s[5] || strlen(s) > 12)
		return false;
	for (s += 5; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool is_fw_fb_driver(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(fw_fb_drivers); i++)
		if (streq(s, fw_fb_drivers[i]))
			return true;
	return false;
}

bool console_on_card(const struct pci_dev *d)
{
	char *dir, *card, real_card[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *g;

	if (d->boot_vga == 1)
		return true;
	card = pci_sys_path(d, NULL);
	dir = root_path("/sys/class/graphics");
	g = realpath(card, real_card) ? opendir(dir) : NULL;
	while (g && !found && (de = readdir(g))) {
		char *link, real[PATH_MAX];

		if (strncmp(de->d_name, "fb", 2) != 0)
			continue;
		link = xasprintf("%s/%s/device", dir, de->d_name);
		found = realpath(link, real) && streq(real, real_card);
		free(link);
	}
	if (g)
		closedir(g);
	free(dir);
	free(card);
	return found;
}

int console_drm_nodes(const struct pci_dev *d, struct strv *nodes)
{
	char *p = pci_sys_path(d, "drm");
	DIR *dir = opendir(p);
	struct dirent *de;
	int r = 0;

	free(p);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir)))
		if ((strncmp(de->d_name, "card", 4) == 0 ||
		     strncmp(de->d_name, "renderD", 7) == 0) &&
		    plain_name(de->d_name))
			strv_push(nodes, xasprintf("/dev/dri/%s", de->d_name));
	closedir(dir);
	strv_sort(nodes);
	return r;
}

/* A vtconsole's attribute (name, bind), stripped: 0 or -errno. */
static int vtcon_read(const char *vtcon, const char *attr, char **out)
{
	char *p = root_path("/sys/class/vtconsole/%s/%s", vtcon, attr);
	int r = read_text(p, out);

	free(p);
	return r;
}

static int vtcon_write(const char *vtcon, const char *value)
{
	char *p = root_path("/sys/class/vtconsole/%s/bind", vtcon);
	int r = write_attr(p, value);

	free(p);
	return r;
}

/* A frame-buffer console: its name reads "(S) frame buffer device" (fbcon). */
static bool vtcon_is_fb(const char *vtcon)
{
	char *name = NULL;
	bool r = vtcon_read(vtcon, "name", &name) == 0 && strstr(name, "frame buffer device");

	free(name);
	return r;
}

/* 1 bound, 0 unbound, or a negative errno. */
static int vtcon_bound(const char *vtcon)
{
	char *v = NULL;
	int r = vtcon_read(vtcon, "bind", &v);

	if (r == 0)
		r = streq(strip(v), "1") ? 1 : 0;
	free(v);
	return r;
}

/* The devices bound to a platform driver: the links in its driver folder, sorted. */
static void platform_bound(const char *driver, struct strv *devs)
{
	char *p = root_path("/sys/bus/platform/drivers/%s", driver);
	DIR *dir = opendir(p);
	struct dirent *de;

	while (dir && (de = readdir(dir))) {
		char *dev, *entry;
		struct stat st;

		if (de->d_name[0] == '.' || streq(de->d_name, "module") || !plain_name(de->d_name))
			continue;
		/* a device link, and a device of the platform bus of that name */
		entry = xasprintf("%s/%s", p, de->d_name);
		dev = root_path("/sys/bus/platform/devices/%s", de->d_name);
		if (lstat(entry, &st) == 0 && S_ISLNK(st.st_mode) && lstat(dev, &st) == 0)
			strv_push(devs, xstrdup(de->d_name));
		free(entry);
		free(dev);
	}
	if (dir)
		closedir(dir);
	free(p);
	strv_sort(devs);
}

static int platform_write(const char *driver, const char *attr, const char *dev)
{
	char *p = root_path("/sys/bus/platform/drivers/%s/%s", driver, attr);
	int r = write_attr(p, dev);

	free(p);
	return r;
}

/* The driver a platform device is bound to, or NULL. */
static char *platform_driver_of(const char *dev)
{
	char *p = root_path("/sys/bus/platform/devices/%s/driver", dev), *name = NULL;

	if (read_link_name(p, &name) < 0)
		name = NULL;
	free(p);
	return name;
}

bool console_taken_empty(const struct console_taken *t)
{
	return !t->vtcons.n && !t->fbs.n;
}

void console_taken_free(struct console_taken *t)
{
	strv_free(&t->vtcons);
	strv_free(&t->fbs);
}

/* "efi-framebuffer:efi-framebuffer.0" into its driver and device (pointers into a copy). */
static char *split_fb(const char *entry, const char **driver, const char **dev)
{
	char *copy = xstrdup(entry), *colon = strchr(copy, ':');

	if (!colon) {
		free(copy);
		return NULL;
	}
	*colon = '\0';
	*driver = copy;
	*dev = colon + 1;
	return copy;
}

static int restore_fb(const char *entry, struct console_error *err)
{
	const char *driver, *dev;
	char *copy = split_fb(entry, &driver, &dev), *now, *p;
	struct stat st;
	int r = 0;

	if (!copy)
		return fail(err, -EINVAL, "read '%s'", entry);
	p = root_path("/sys/bus/platform/devices/%s", dev);
	if (lstat(p, &st) < 0) {
		/*
		 * The kernel removed the firmware's framebuffer for good when a driver took the
		 * card (vfio-pci does when it binds a VGA device, a DRM driver when it takes the
		 * display): nothing to bind again.
		 */
		free(p);
		free(copy);
		return 1;
	}
	free(p);
	now = platform_driver_of(dev);
	if (!now) {
		r = platform_write(driver, "bind", dev);
		free(now);
		now = platform_driver_of(dev);
		if (r < 0)
			r = fail(err, r, "bind '%s' to '%s'", dev, driver);
		else if (!now || !streq(now, driver))
			r = fail(err, -EIO,
				 "verify: '%s' is bound to '%s' after its bind, not '%s'", dev,
				 now ? now : "none", driver);
	}
	free(now);
	free(copy);
	return r;
}

static int restore_vtcon(const char *vtcon, struct console_error *err)
{
	char *p = root_path("/sys/class/vtconsole/%s", vtcon);
	struct stat st;
	int r;

	r = lstat(p, &st);
	free(p);
	if (r < 0)
		return 1; /* fbcon leaves with the last framebuffer and takes the next by itself */
	r = vtcon_bound(vtcon);
	if (r == 1)
		return 0; /* bound again already: fbcon took the new framebuffer by itself */
	if (r < 0)
		return fail(err, r, "read /sys/class/vtconsole/%s/bind", vtcon);
	if (!vtcon_is_fb(vtcon))
		return fail(err, -ENODEV, "%s is no frame-buffer console any more", vtcon);
	r = vtcon_write(vtcon, "1");
	if (r < 0)
		return fail(err, r, "write 1 to /sys/class/vtconsole/%s/bind", vtcon);
	if (vtcon_bound(vtcon) != 1)
		return fail(err, -EIO, "verify: /sys/class/vtconsole/%s/bind does not read 1",
			    vtcon);
	return 0;
}

/* One item's restore into left (failed) or gone; the first failure into first and err. */
static void restored(int r, const char *item, struct strv *left, struct strv *gone, int *first,
		     const struct console_error *e, struct console_error *err)
{
	if (r < 0) {
		strv_push(left, xstrdup(item));
		if (!*first) {
			*first = r;
			*err = *e;
		}
	} else if (r > 0 && gone) {
		strv_push(gone, xstrdup(item));
	}
}

int console_restore(const struct console_taken *t, struct console_taken *left,
		    struct console_taken *gone, struct console_error *err)
{
	struct console_error e = { { 0 } };
	int first = 0;

	*left = (struct console_taken){ 0 };
	if (gone)
		*gone = (struct console_taken){ 0 };
	/* the reverse of console_take(): the framebuffers, then the consoles that draw on them */
	for (size_t i = t->fbs.n; i-- > 0;)
		restored(restore_fb(t->fbs.v[i], &e), t->fbs.v[i], &left->fbs,
			 gone ? &gone->fbs : NULL, &first, &e, err);
	for (size_t i = t->vtcons.n; i-- > 0;)
		restored(restore_vtcon(t->vtcons.v[i], &e), t->vtcons.v[i], &left->vtcons,
			 gone ? &gone->vtcons : NULL, &first, &e, err);
	strv_sort(&left->fbs);
	strv_sort(&left->vtcons);
	if (gone) {
		strv_sort(&gone->fbs);
		strv_sort(&gone->vtcons);
	}
	return first;
}

int console_take(const struct pci_dev *d, struct console_taken *t, struct console_error *err)
{
	char *dir = root_path("/sys/class/vtconsole");
	struct strv vts = { 0 };
	struct dirent *de;
	DIR *v;
	int r = 0;

	*t = (struct console_taken){ 0 };
	if (!console_on_card(d))
		goto out;
	v = opendir(dir);
	while (v && (de = readdir(v)))
		if (is_vtcon_name(de->d_name))
			strv_push(&vts, xstrdup(de->d_name));
	if (v)
		closedir(v);
	strv_sort(&vts);
	for (size_t i = 0; i < vts.n && r == 0; i++) {
		if (!vtcon_is_fb(vts.v[i]) || vtcon_bound(vts.v[i]) != 1)
			continue;
		r = vtcon_write(vts.v[i], "0");
		if (r == 0 && vtcon_bound(vts.v[i]) != 0)
			r = -EIO;
		if (r < 0)
			fail(err, r, "write 0 to /sys/class/vtconsole/%s/bind", vts.v[i]);
		else
			strv_push(&t->vtcons, xstrdup(vts.v[i]));
	}
	/* a firmware framebuffer is the boot display's: on the boot VGA device */
	for (size_t k = 0; k < ARRAY_SIZE(fw_fb_drivers) && r == 0 && d->boot_vga == 1; k++) {
		struct strv devs = { 0 };

		platform_bound(fw_fb_drivers[k], &devs);
		for (size_t i = 0; i < devs.n && r == 0; i++) {
			char *now;

			r = platform_write(fw_fb_drivers[k], "unbind", devs.v[i]);
			now = platform_driver_of(devs.v[i]);
			if (r == 0 && now)
				r = -EIO;
			if (r < 0)
				fail(err, r, "unbind '%s' from '%s'", devs.v[i], fw_fb_drivers[k]);
			else
				strv_push(&t->fbs, xasprintf("%s:%s", fw_fb_drivers[k], devs.v[i]));
			free(now);
		}
		strv_free(&devs);
	}
	if (r < 0) {
		struct console_taken left;
		struct console_error ignored;

		/* nothing half-done: what this call unbound is bound again */
		console_restore(t, &left, NULL, &ignored);
		console_taken_free(&left);
		console_taken_free(t);
	}
out:
	strv_free(&vts);
	free(dir);
	return r;
}

static char *join(const struct strv *sv)
{
	char *out = NULL;

	for (size_t i = 0; i < sv->n; i++) {
		char *s = xasprintf("%s%s%s", out ? out : "", out ? " " : "", sv->v[i]);
		free(out);
		out = s;
	}
	return out;
}

void console_record(const struct console_taken *t, struct kv *kv)
{
	char *vt = join(&t->vtcons), *fb = join(&t->fbs);

	if (vt)
		kv_set(kv, CONSOLE_KEY_VTCON, vt);
	else
		kv_del(kv, CONSOLE_KEY_VTCON);
	if (fb)
		kv_set(kv, CONSOLE_KEY_FB, fb);
	else
		kv_del(kv, CONSOLE_KEY_FB);
	free(vt);
	free(fb);
}

/* The words of a record value, each kept if ok() says so: false when one was dropped. */
static bool words(const char *value, bool (*ok)(const char *), struct strv *out)
{
	char *copy = xstrdup(value ? value : ""), *save = NULL;
	bool all = true;

	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (ok(w) && !strv_contains(out, w))
			strv_push(out, xstrdup(w));
		else if (!ok(w))
			all = false;
	}
	free(copy);
	strv_sort(out);
	return all;
}

static bool fb_entry_ok(const char *w)
{
	const char *driver, *dev;
	char *copy = split_fb(w, &driver, &dev);
	bool ok = copy && is_fw_fb_driver(driver) && plain_name(dev) && !strchr(dev, ':');

	free(copy);
	return ok;
}

int console_from_record(const struct kv *kv, struct console_taken *t)
{
	bool all;

	*t = (struct console_taken){ 0 };
	all = words(kv_get(kv, CONSOLE_KEY_VTCON), is_vtcon_name, &t->vtcons);
	all = words(kv_get(kv, CONSOLE_KEY_FB), fb_entry_ok, &t->fbs) && all;
	return all ? 0 : -EBADMSG;
}

char *console_describe(const struct console_taken *t)
{
	char *out = NULL;

	for (size_t i = 0; i < t->vtcons.n + t->fbs.n; i++) {
		const char *driver = NULL, *dev = NULL;
		char *copy = NULL, *s;

		if (i < t->vtcons.n)
			dev = t->vtcons.v[i];
		else
			copy = split_fb(t->fbs.v[i - t->vtcons.n], &driver, &dev);
		s = xasprintf("%s%s%s%s%s%s", out ? out : "", out ? ", " : "", dev ? dev : "?",
			      driver ? " (" : "", driver ? driver : "", driver ? ")" : "");
		free(out);
		free(copy);
		out = s;
	}
	return out;
}
