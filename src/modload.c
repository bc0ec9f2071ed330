// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Modules through libkmod, the systemd way: look up, check the init state (built in or live
 * counts as loaded), insert with dependencies. Every path goes through the root prefix: the
 * module folder, the modprobe.d folders, /sys/module and the kernel command line.
 *
 * Under --root DIR the running kernel is not DIR's, so nothing of it may leak in:
 *  - the kernel release comes from DIR (module_release()), never from uname();
 *  - loaded and built-in are decided from DIR/sys/module and DIR/lib/modules/VER/modules.builtin,
 *    never with kmod_module_get_initstate(), which reads the host's /sys/module;
 *  - libkmod's own reads of /sys/module are switched off (KMOD_PROBE_IGNORE_LOADED: the kernel
 *    answers EEXIST for a loaded module, which libkmod takes as success);
 *  - libkmod's read of /proc/cmdline is redirected to DIR/proc/cmdline (see open() below);
 *  - modules are inserted only when DIR/sys is the running kernel's sysfs (a chroot, an
 *    installer's /target with /sys bound): otherwise the kernel that would get them is not DIR's.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libkmod.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"
#include "modload.h"
#include "util.h"

/*
 * libkmod 30 reads the kernel command line in kmod_new() with open("/proc/cmdline"), whatever
 * folders it is given, and has no option to read it elsewhere; under --root that would apply the
 * host's module options (modprobe.blacklist=, NAME.param=) to DIR's modules. libkmod calls open()
 * through its PLT, and a definition in the program comes first in symbol lookup, so this open()
 * sees libkmod's calls (and the program's own). It rewrites exactly one name, "/proc/cmdline",
 * and only under --root; every other call, and every call on the running system, goes unchanged
 * to the next open() (libc's, or a preloaded one's such as the fake kernel of the tests). The
 * program itself never opens "/proc/cmdline" literally under --root: it uses root_path().
 * Weak, so that a test program may bring its own open() (tests/unit/test-policy.c counts calls).
 */
__attribute__((weak)) int open(const char *path, int flags, ...)
{
	static int (*next)(const char *, int, ...);
	char *redirected = NULL;
	mode_t mode = 0;
	int fd, err;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!next)
		next = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	if (!root_is_host() && streq(path, "/proc/cmdline"))
		redirected = root_path("%s", path);
	fd = next(redirected ? redirected : path, flags, mode);
	err = errno;
	free(redirected);
	errno = err;
	return fd;
}

static bool valid_release(const char *s)
{
	return *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

/*
 * The kernel release whose modules to use. The running system: uname(). Under --root:
 * DIR/proc/sys/kernel/osrelease, else the only folder in DIR/lib/modules; never the host's
 * uname(), which names another kernel. -ENOENT: neither is there; -ENOTUNIQ: several folders
 * and no osrelease to choose.
 */
static int module_release(char **out)
{
	struct utsname u;
	struct dirent *de;
	char *p, *text = NULL, *found = NULL;
	DIR *d;
	int r = 0;

	*out = NULL;
	if (root_is_host()) {
		if (uname(&u) < 0)
			return -errno;
		*out = xstrdup(u.release);
		return 0;
	}
	p = root_path("/proc/sys/kernel/osrelease");
	if (read_text(p, &text) == 0) {
		char *s = strip(text);

		if (valid_release(s))
			*out = xstrdup(s);
	}
	free(text);
	free(p);
	if (*out)
		return 0;

	p = root_path("/lib/modules");
	d = opendir(p);
	if (!d) {
		r = -errno;
		free(p);
		return r;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (found) {
			r = -ENOTUNIQ;
			break;
		}
		found = xstrdup(de->d_name);
	}
	closedir(d);
	free(p);
	if (r == 0 && !found)
		r = -ENOENT;
	if (r < 0) {
		free(found);
		return r;
	}
	*out = found;
	return 0;
}

/* NULL with errno set: ENOENT (no kernel release under --root), ENOTUNIQ (several), ENOMEM. */
struct kmod_ctx *modload_new(void)
{
	static const char *const dirs[] = { "/etc/modprobe.d", "/run/modprobe.d",
					    "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d",
					    "/lib/modprobe.d" };
	char *release = NULL, *moddir, *conf[ARRAY_SIZE(dirs) + 1];
	struct kmod_ctx *ctx;
	int r;

	r = module_release(&release);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	moddir = root_path("/lib/modules/%s", release);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		conf[i] = root_path("%s", dirs[i]);
	conf[ARRAY_SIZE(dirs)] = NULL;
	ctx = kmod_new(moddir, (const char *const *)conf);
	if (ctx) {
		log_setup_kmod(ctx);
		kmod_load_resources(ctx);
	} else {
		errno = ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		free(conf[i]);
	free(moddir);
	free(release);
	return ctx;
}

void modload_unref(struct kmod_ctx *ctx)
{
	if (ctx)
		kmod_unref(ctx);
}

static void underscores(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

/* /sys/module/NAME under the root: "live" or built in (no initstate) */
static bool sys_module_present(const char *name)
{
	char *n = xstrdup(name), *p;
	bool r;

	underscores(n);
	p = root_path("/sys/module/%s", n);
	r = access(p, F_OK) == 0;
	if (r) {
		char *state = NULL, *ip = xasprintf("%s/initstate", p);
		if (read_text(ip, &state) == 0)
			r = streq(state, "live") || streq(state, "coming");
		free(state);
		free(ip);
	}
	free(p);
	free(n);
	return r;
}

/* Is NAME listed in the context's modules.builtin ("kernel/drivers/vfio/vfio.ko" lines)? */
static bool listed_builtin(struct kmod_ctx *ctx, const char *name)
{
	char *n = xstrdup(name), *p = xasprintf("%s/modules.builtin", kmod_get_dirname(ctx));
	char *text = NULL, *save = NULL;
	bool r = false;

	underscores(n);
	if (read_text(p, &text) == 0)
		for (char *l = strtok_r(text, "\n", &save); l && !r;
		     l = strtok_r(NULL, "\n", &save)) {
			char *base = strrchr(l, '/');
			size_t len;

			base = base ? base + 1 : l;
			len = strlen(base);
			if (len > 3 && streq(base + len - 3, ".ko")) {
				base[len - 3] = '\0';
				underscores(base);
				r = streq(base, n);
			}
		}
	free(text);
	free(p);
	free(n);
	return r;
}

/* Built-in modules without parameters have no /sys/module entry: ask modules.builtin. */
static bool module_builtin(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod = NULL;
	bool r = false;

	if (!ctx)
		return false;
	if (!root_is_host())
		return listed_builtin(ctx, name);
	if (kmod_module_new_from_name(ctx, name, &mod) == 0) {
		r = kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN;
		kmod_module_unref(mod);
	}
	return r;
}

bool module_loaded(struct kmod_ctx *ctx, const char *name)
{
	return sys_module_present(name) || module_builtin(ctx, name);
}

/* Under --root, may modules be inserted? Only when DIR/sys is the running kernel's sysfs. */
static int root_can_insert(void)
{
	char *p = root_path("/sys");
	struct statfs sfs;
	int r = 0;

	if (statfs(p, &sfs) < 0)
		r = errno == ENOENT ? -EOPNOTSUPP : -errno;
	else if (sfs.f_type != SYSFS_MAGIC)
		r = -EOPNOTSUPP;
	free(p);
	return r;
}

int modload_ensure(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL, *it;
	unsigned flags = KMOD_PROBE_IGNORE_COMMAND;
	int r;

	if (module_loaded(ctx, name))
		return 0;
	if (!ctx)
		return -ENOENT;
	r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;
	if (!root_is_host()) {
		/* libkmod must not read the host's /sys/module; a loaded module gives EEXIST */
		flags |= KMOD_PROBE_IGNORE_LOADED;
		r = root_can_insert();
		if (r < 0) {
			kmod_module_unref_list(list);
			return r;
		}
	}
	r = -ENOENT;
	kmod_list_foreach (it, list) {
		struct kmod_module *mod = kmod_module_get_module(it);

		if (root_is_host() && kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN)
			r = 0;
		else
			r = kmod_module_probe_insert_module(mod, flags, NULL, NULL, NULL, NULL);
		if (r == -EEXIST)
			r = 0;
		kmod_module_unref(mod);
		if (r == 0)
			break;
	}
	kmod_module_unref_list(list);
	return r;
}

int modload_alias_modules(struct kmod_ctx *ctx, const char *modalias, struct strv *modules)
{
	struct kmod_list *list = NULL, *filtered = NULL, *it;
	int r;

	if (!ctx)
		return -ENOENT;
	r = kmod_module_new_from_lookup(ctx, modalias, &list);
	if (r < 0)
		return r;
	/* modprobe.d blacklists apply to alias lookups, as for modprobe */
	r = kmod_module_apply_filter(ctx, KMOD_FILTER_BLACKLIST, list, &filtered);
	kmod_module_unref_list(list);
	if (r < 0)
		return r;
	kmod_list_foreach (it, filtered) {
		struct kmod_module *mod = kmod_module_get_module(it);
		const char *n = kmod_module_get_name(mod);

		if (!streq(n, "vfio_pci") && !strv_contains(modules, n))
			strv_push(modules, xstrdup(n));
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(filtered);
	return modules->n ? 0 : -ENOENT;
}

int modload_lookup_alias(struct kmod_ctx *ctx, const char *modalias, char **module)
{
	struct strv mods = { 0 };
	int r = modload_alias_modules(ctx, modalias, &mods);

	*module = r == 0 ? xstrdup(mods.v[0]) : NULL;
	strv_free(&mods);
	return r;
}

bool modload_builtin(struct kmod_ctx *ctx, const char *name)
{
	return module_builtin(ctx, name);
}

int modload_present(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL, *it;
	int r = -ENOENT;

	if (module_loaded(ctx, name))
		return 0;
	if (!ctx || kmod_module_new_from_lookup(ctx, name, &list) < 0)
		return -ENOENT;
	kmod_list_foreach (it, list) {
		struct kmod_module *mod = kmod_module_get_module(it);

		if (kmod_module_get_path(mod))
			r = 0;
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(list);
	return r;
}

int modload_options(struct kmod_ctx *ctx, const char *name, char **options)
{
	struct kmod_module *mod = NULL;
	const char *o;

	*options = NULL;
	if (!ctx || kmod_module_new_from_name(ctx, name, &mod) < 0)
		return -ENOENT;
	o = kmod_module_get_options(mod);
	*options = o ? xstrdup(o) : NULL;
	kmod_module_unref(mod);
	return o ? 0 : -ENOENT;
}

/*
 * How specific a modules.alias pattern is: fewer wildcards first, then more literal characters
 * (libvirt's rule for VFIO variant drivers: the most specific match wins).
 */
static long alias_score(const char *pattern)
{
	long stars = 0, literal = 0;

	for (const char *c = pattern; *c; c++)
		if (*c == '*' || *c == '?')
			stars++;
		else
			literal++;
	return (1000 - stars) * 100000 + literal;
}

/* The best score among mod's aliases that match key; 0 when its aliases cannot be read. */
static long module_best_alias(struct kmod_module *mod, const char *key)
{
	struct kmod_list *info = NULL, *it;
	long best = 0;

	if (kmod_module_get_info(mod, &info) < 0)
		return 0;
	kmod_list_foreach (it, info) {
		const char *k = kmod_module_info_get_key(it), *v = kmod_module_info_get_value(it);

		if (k && v && streq(k, "alias") && fnmatch(v, key, 0) == 0 && alias_score(v) > best)
			best = alias_score(v);
	}
	kmod_module_info_free_list(info);
	return best;
}

int modload_vfio_variant(struct kmod_ctx *ctx, const char *modalias, char **module)
{
	struct kmod_list *list = NULL, *filtered = NULL, *it;
	long best = -1;
	char *key;
	int r;

	*module = NULL;
	if (!ctx)
		return -ENOENT;
	if (strncmp(modalias, "pci:", 4) != 0)
		return -EINVAL;
	/* the kernel's modules.alias form: "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*" */
	key = xasprintf("vfio_pci:%s", modalias + 4);
	r = kmod_module_new_from_lookup(ctx, key, &list);
	if (r < 0)
		goto out;
	/* a blacklisted variant driver is not used: plain vfio-pci then */
	r = kmod_module_apply_filter(ctx, KMOD_FILTER_BLACKLIST, list, &filtered);
	kmod_module_unref_list(list);
	if (r < 0)
		goto out;
	kmod_list_foreach (it, filtered) {
		struct kmod_module *mod = kmod_module_get_module(it);
		const char *n = kmod_module_get_name(mod);

		if (!streq(n, "vfio_pci")) {
			long score = module_best_alias(mod, key);

			if (score > best) {
				best = score;
				free(*module);
				*module = xstrdup(n);
			}
		}
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(filtered);
	r = *module ? 0 : -ENOENT;
out:
	free(key);
	return r;
}
