// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Modules the systemd way (src/shared/module-util.c): look up, check whether the module is
 * there already (built in or live counts as loaded), insert with its dependencies. libkmod is
 * opened with dlopen() at the first insertion (or a lookup the text files cannot answer) and
 * called only through the sym_ table below; what needs no libkmod (loaded or built in,
 * blacklists, options, a modalias's modules, VFIO variant drivers) is answered from
 * /sys/module and the module folder (modconf.c), so that the runs that load nothing never map
 * libkmod nor what it links (libcrypto, liblzma, libzstd).
 *
 * Every path goes through the root prefix: the module folder and the modprobe.d folders given
 * to kmod_new(), /sys/module, modules.builtin. Under --root DIR:
 *  - the kernel release comes from DIR (modconf.c), never from uname();
 *  - loaded and built in are decided from DIR/sys/module and DIR's modules.builtin;
 *  - libkmod's own reads of /sys/module are switched off (KMOD_PROBE_IGNORE_LOADED: the kernel
 *    answers EEXIST for a loaded module, which counts as success);
 *  - modules are inserted only when DIR/sys is the running kernel's sysfs (a chroot, an
 *    installer's /target with /sys bound): otherwise the kernel that would get them is not DIR's;
 *  - kmod_new() itself reads the host's /proc/cmdline and (kmod 31 and later)
 *    /sys/module/compression, whatever it is given; docs/design.md says why neither can change
 *    an answer: blacklists and options come from modconf.c, never from libkmod.
 */
#include <errno.h>
#include <libkmod.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <syslog.h>
#include <unistd.h>

#include "dlopen.h"
#include "elf-note-dlopen.h"
#include "log.h"
#include "modconf.h"
#include "modload.h"

struct modules {
	struct modconf conf;
	struct kmod_ctx *ctx;
	int ctx_err; /* why ctx is NULL once tried */
	bool ctx_tried;
};

static void *libkmod_dl;
static typeof(kmod_list_next) *sym_kmod_list_next;
static typeof(kmod_load_resources) *sym_kmod_load_resources;
static typeof(kmod_module_get_module) *sym_kmod_module_get_module;
static typeof(kmod_module_get_name) *sym_kmod_module_get_name;
static typeof(kmod_module_get_path) *sym_kmod_module_get_path;
static typeof(kmod_module_new_from_lookup) *sym_kmod_module_new_from_lookup;
static typeof(kmod_module_probe_insert_module) *sym_kmod_module_probe_insert_module;
static typeof(kmod_module_unref) *sym_kmod_module_unref;
static typeof(kmod_module_unref_list) *sym_kmod_module_unref_list;
static typeof(kmod_new) *sym_kmod_new;
static typeof(kmod_set_log_fn) *sym_kmod_set_log_fn;
static typeof(kmod_set_log_priority) *sym_kmod_set_log_priority;
static typeof(kmod_unref) *sym_kmod_unref;

#define sym_kmod_list_foreach(it, first)                                                           \
	for ((it) = (first); (it); (it) = sym_kmod_list_next((first), (it)))

/* 0, or -ELIBACC (not installed) / -ELIBBAD (another version) */
static int dlopen_libkmod(void)
{
	static const char *const sonames[] = { "libkmod.so.2", NULL };
	static const struct dlsym_entry syms[] = {
		DLSYM_ENTRY(kmod_list_next),
		DLSYM_ENTRY(kmod_load_resources),
		DLSYM_ENTRY(kmod_module_get_module),
		DLSYM_ENTRY(kmod_module_get_name),
		DLSYM_ENTRY(kmod_module_get_path),
		DLSYM_ENTRY(kmod_module_new_from_lookup),
		DLSYM_ENTRY(kmod_module_probe_insert_module),
		DLSYM_ENTRY(kmod_module_unref),
		DLSYM_ENTRY(kmod_module_unref_list),
		DLSYM_ENTRY(kmod_new),
		DLSYM_ENTRY(kmod_set_log_fn),
		DLSYM_ENTRY(kmod_set_log_priority),
		DLSYM_ENTRY(kmod_unref),
	};

	ELF_NOTE_DLOPEN("kmod", "Looking up and loading the vfio and host driver modules",
			"required", "libkmod.so.2");
	return dlopen_symbols(&libkmod_dl, sonames, syms, ARRAY_SIZE(syms));
}

static void kmod_log(void *data, int priority, const char *file, int line, const char *fn,
		     const char *format, va_list args)
{
	char buf[1024];
	size_t n;

	vsnprintf(buf, sizeof(buf), format, args);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (priority <= LOG_ERR)
		log_msg(LOG_LVL_ERR, "libkmod: %s", buf);
	else if (priority <= LOG_WARNING)
		log_msg(LOG_LVL_WARN, "libkmod: %s", buf);
	else
		log_msg(LOG_LVL_DEBUG, "libkmod: %s", buf);
}

struct modules *modules_new(void)
{
	return xcalloc(1, sizeof(struct modules));
}

void modules_free(struct modules *m)
{
	if (!m)
		return;
	if (m->ctx)
		sym_kmod_unref(m->ctx);
	modconf_free(&m->conf);
	free(m);
}

/*
 * The libkmod context of the root's module folder and modprobe.d folders, made at the first
 * call. A missing libkmod is said once, here, since every caller only sees an errno: the one
 * message of this file, as systemd's dlopen_..._or_warn().
 */
static int kmod_ctx(struct modules *m, struct kmod_ctx **out)
{
	char *conf[MODCONF_NDIRS + 1];
	const char *moddir;
	int r;

	if (!m->ctx_tried) {
		m->ctx_tried = true;
		r = dlopen_libkmod();
		if (r < 0) {
			log_error("libkmod is not installed (package libkmod2): kernel modules "
				  "cannot be looked up or loaded");
			m->ctx_err = r;
		} else if (!(moddir = modconf_moddir(&m->conf, NULL))) {
			m->ctx_err = -ENOENT; /* no kernel release under --root: no module */
		} else {
			for (size_t i = 0; i < MODCONF_NDIRS; i++)
				conf[i] = root_path("%s", modconf_dirs[i]);
			conf[MODCONF_NDIRS] = NULL;
			m->ctx = sym_kmod_new(moddir, (const char *const *)conf);
			for (size_t i = 0; i < MODCONF_NDIRS; i++)
				free(conf[i]);
			if (m->ctx) {
				sym_kmod_set_log_fn(m->ctx, kmod_log, NULL);
				sym_kmod_set_log_priority(
				    m->ctx, log_get_verbose() > 0 ? LOG_DEBUG : LOG_WARNING);
				sym_kmod_load_resources(m->ctx);
			} else {
				m->ctx_err = -ENOMEM;
			}
		}
	}
	*out = m->ctx;
	return m->ctx ? 0 : m->ctx_err;
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

/*
 * Built-in modules without parameters have no /sys/module entry: is NAME listed in the module
 * folder's modules.builtin ("kernel/drivers/vfio/vfio.ko" lines)?
 */
bool modload_builtin(struct modules *m, const char *name)
{
	const char *moddir = modconf_moddir(&m->conf, NULL);
	char *n, *p, *text = NULL, *save = NULL;
	bool r = false;

	if (!moddir)
		return false;
	n = xstrdup(name);
	p = xasprintf("%s/modules.builtin", moddir);
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

bool module_loaded(struct modules *m, const char *name)
{
	return sys_module_present(name) || modload_builtin(m, name);
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

int modload_ensure(struct modules *m, const char *name)
{
	struct kmod_list *list = NULL, *it;
	unsigned flags = KMOD_PROBE_IGNORE_COMMAND;
	struct kmod_ctx *ctx;
	int r;

	if (module_loaded(m, name))
		return 0;
	r = kmod_ctx(m, &ctx);
	if (r < 0)
		return r;
	r = sym_kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;
	if (!root_is_host()) {
		/* libkmod must not read the host's /sys/module; a loaded module gives EEXIST */
		flags |= KMOD_PROBE_IGNORE_LOADED;
		r = root_can_insert();
		if (r < 0) {
			sym_kmod_module_unref_list(list);
			return r;
		}
	}
	r = -ENOENT;
	sym_kmod_list_foreach(it, list)
	{
		struct kmod_module *mod = sym_kmod_module_get_module(it);

		if (module_loaded(m, sym_kmod_module_get_name(mod)))
			r = 0;
		else
			r = sym_kmod_module_probe_insert_module(mod, flags, NULL, NULL, NULL, NULL);
		if (r == -EEXIST)
			r = 0;
		sym_kmod_module_unref(mod);
		if (r == 0)
			break;
	}
	sym_kmod_module_unref_list(list);
	return r;
}

/*
 * Looks up, then drops what is blacklisted (modprobe's rule for alias lookups): the names,
 * not vfio_pci, appended to *out. The blacklists are modconf's, the root's alone. The module
 * folder's text files answer as libkmod's indexes would (modconf_alias_modules()), so that a
 * lookup maps no libkmod; libkmod only where they are missing.
 */
static int lookup_allowed(struct modules *m, const char *alias, struct strv *out)
{
	struct kmod_list *list = NULL, *it;
	struct kmod_ctx *ctx;
	int r = modconf_alias_modules(&m->conf, alias, out);

	if (r != -ENODATA && r != -EINVAL)
		return r;
	r = kmod_ctx(m, &ctx);
	if (r < 0)
		return r;
	r = sym_kmod_module_new_from_lookup(ctx, alias, &list);
	if (r < 0)
		return r;
	sym_kmod_list_foreach(it, list)
	{
		struct kmod_module *mod = sym_kmod_module_get_module(it);
		const char *n = sym_kmod_module_get_name(mod);

		if (!streq(n, "vfio_pci") && !modconf_blacklisted(&m->conf, n) &&
		    !strv_contains(out, n))
			strv_push(out, xstrdup(n));
		sym_kmod_module_unref(mod);
	}
	sym_kmod_module_unref_list(list);
	return 0;
}

int modload_alias_modules(struct modules *m, const char *modalias, struct strv *modules)
{
	int r = lookup_allowed(m, modalias, modules);

	if (r < 0)
		return r;
	return modules->n ? 0 : -ENOENT;
}

int modload_lookup_alias(struct modules *m, const char *modalias, char **module)
{
	struct strv mods = { 0 };
	int r = modload_alias_modules(m, modalias, &mods);

	*module = r == 0 ? xstrdup(mods.v[0]) : NULL;
	strv_free(&mods);
	return r;
}

int modload_present(struct modules *m, const char *name)
{
	struct kmod_list *list = NULL, *it;
	struct kmod_ctx *ctx;
	int r = -ENOENT;

	if (module_loaded(m, name))
		return 0;
	if (kmod_ctx(m, &ctx) < 0 || sym_kmod_module_new_from_lookup(ctx, name, &list) < 0)
		return -ENOENT;
	sym_kmod_list_foreach(it, list)
	{
		struct kmod_module *mod = sym_kmod_module_get_module(it);

		if (sym_kmod_module_get_path(mod))
			r = 0;
		sym_kmod_module_unref(mod);
	}
	sym_kmod_module_unref_list(list);
	return r;
}

int modload_options(struct modules *m, const char *name, char **options)
{
	return modconf_options(&m->conf, name, options);
}

int modload_vfio_variant(struct modules *m, const char *modalias, char **module)
{
	return modconf_vfio_variant(&m->conf, modalias, module);
}
