// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Modules through libkmod, the systemd way: look up, check the init state (built in or live
 * counts as loaded), insert with dependencies. Every path goes through the root prefix: the
 * module folder, the modprobe.d folders and /sys/module.
 */
#include "modload.h"
#include "log.h"
#include "sysfs.h"

#include <errno.h>
#include <libkmod.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kmod_ctx *modload_new(void)
{
	static const char *const dirs[] = { "/etc/modprobe.d", "/run/modprobe.d",
					    "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d",
					    "/lib/modprobe.d" };
	char *release = NULL, *moddir, *conf[ARRAY_SIZE(dirs) + 1];
	struct kmod_ctx *ctx;

	if (kernel_release(&release) < 0)
		return NULL;
	moddir = root_path("/lib/modules/%s", release);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		conf[i] = root_path("%s", dirs[i]);
	conf[ARRAY_SIZE(dirs)] = NULL;
	ctx = kmod_new(moddir, (const char *const *)conf);
	if (ctx) {
		log_setup_kmod(ctx);
		kmod_load_resources(ctx);
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

bool module_loaded(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod = NULL;
	bool r = sys_module_present(name);

	/* built-in modules without parameters have no /sys/module entry: ask modules.builtin */
	if (!r && ctx && kmod_module_new_from_name(ctx, name, &mod) == 0) {
		r = kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN;
		kmod_module_unref(mod);
	}
	return r;
}

int modload_ensure(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL, *it;
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
	r = -ENOENT;
	kmod_list_foreach(it, list)
	{
		struct kmod_module *mod = kmod_module_get_module(it);

		/* under --root the running kernel is not the tree's: never insert into it */
		if (!root_is_host())
			r = -EOPNOTSUPP;
		else if (kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN)
			r = 0;
		else
			r = kmod_module_probe_insert_module(mod, KMOD_PROBE_IGNORE_COMMAND, NULL,
							    NULL, NULL, NULL);
		if (r == -EEXIST)
			r = 0;
		kmod_module_unref(mod);
		if (r == 0)
			break;
	}
	kmod_module_unref_list(list);
	return r;
}

int modload_lookup_alias(struct kmod_ctx *ctx, const char *modalias, char **module)
{
	struct kmod_list *list = NULL, *it;
	int r;

	*module = NULL;
	if (!ctx)
		return -ENOENT;
	r = kmod_module_new_from_lookup(ctx, modalias, &list);
	if (r < 0)
		return r;
	kmod_list_foreach(it, list)
	{
		struct kmod_module *mod = kmod_module_get_module(it);
		const char *n = kmod_module_get_name(mod);

		if (!*module && !streq(n, "vfio_pci"))
			*module = xstrdup(n);
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(list);
	return *module ? 0 : -ENOENT;
}
