// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The module configuration of the root, read by the program itself (no libkmod): the kernel
 * release, modprobe.d's blacklists and options, the kernel command line's, and the VFIO
 * variant aliases. Commands that only decide (list, status, check, a udev event that loads
 * nothing) get their answers here without opening libkmod; and under --root every answer comes
 * from DIR alone, whatever libkmod reads of the host when it is opened (docs/design.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "config.h"
#include "modconf.h"

const char *const modconf_dirs[MODCONF_NDIRS] = { "/etc/modprobe.d", "/run/modprobe.d",
						  "/usr/local/lib/modprobe.d",
						  "/usr/lib/modprobe.d", "/lib/modprobe.d" };

static void underscores(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
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

static void add_options(struct modconf *mc, const char *name, const char *value)
{
	char *n = xstrdup(name);

	underscores(n);
	strv_push(&mc->opt_name, n);
	strv_push(&mc->opt_value, xstrdup(value));
}

/* One modprobe.d file: "blacklist NAME" and "options NAME ARGS..." (the rest is libkmod's). */
static void parse_conf(struct modconf *mc, char *text)
{
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *cmd, *name, *rest = NULL;

		cmd = strtok_r(l, " \t", &rest);
		if (!cmd || cmd[0] == '#')
			continue;
		name = strtok_r(NULL, " \t", &rest);
		if (!name)
			continue;
		if (streq(cmd, "blacklist")) {
			char *n = xstrdup(name);

			underscores(n);
			strv_push(&mc->blacklist, n);
		} else if (streq(cmd, "options") && rest) {
			char *v = strip(rest);

			if (*v)
				add_options(mc, name, v);
		}
	}
}

/* Backslash-newline joins lines, as in kmod's config reader. */
static void join_continued(char *s)
{
	char *w = s;

	for (char *c = s; *c; c++) {
		if (c[0] == '\\' && c[1] == '\n') {
			c++;
			continue;
		}
		*w++ = *c;
	}
	*w = '\0';
}

static void read_modprobe_d(struct modconf *mc)
{
	struct strv seen = { 0 }, files = { 0 }; /* names; "NAME\tPATH", sorted by name */

	for (size_t i = 0; i < MODCONF_NDIRS; i++) {
		char *dir = root_path("%s", modconf_dirs[i]);
		DIR *d = opendir(dir);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			size_t len = strlen(de->d_name);

			if (de->d_name[0] == '.' || len <= 5 ||
			    !streq(de->d_name + len - 5, ".conf") ||
			    strv_contains(&seen, de->d_name))
				continue;
			strv_push(&seen, xstrdup(de->d_name));
			strv_push(&files, xasprintf("%s\t%s/%s", de->d_name, dir, de->d_name));
		}
		if (d)
			closedir(d);
		free(dir);
	}
	strv_sort(&files);
	for (size_t i = 0; i < files.n; i++) {
		char *tab = strchr(files.v[i], '\t'), *text = NULL;

		if (read_text(tab + 1, &text) < 0)
			continue;
		join_continued(text);
		parse_conf(mc, text);
		free(text);
	}
	strv_free(&seen);
	strv_free(&files);
}

/* DIR/proc/cmdline: modprobe.blacklist=A,B and NAME.param[=value], as libkmod reads them. */
static void read_cmdline(struct modconf *mc)
{
	struct strv words = { 0 };
	const char *text;

	if (root_cmdline(&text) == 0)
		cmdline_split(text, &words);
	for (size_t i = 0; i < words.n; i++) {
		char *w = words.v[i], *dot = strchr(w, '.'), *eq = strchr(w, '=');

		if (!dot || dot == w || (eq && eq < dot) || !dot[1] || dot[1] == '=')
			continue;
		*dot = '\0';
		if (streq(w, "modprobe") && eq && strncmp(dot + 1, "blacklist=", 10) == 0) {
			char *save = NULL;

			for (char *t = strtok_r(eq + 1, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				char *n = xstrdup(t);

				underscores(n);
				strv_push(&mc->blacklist, n);
			}
		} else {
			add_options(mc, w, dot + 1);
		}
	}
	strv_free(&words);
}

static void load(struct modconf *mc)
{
	char *release = NULL;

	if (mc->loaded)
		return;
	mc->loaded = true;
	mc->moddir_err = module_release(&release);
	if (mc->moddir_err == 0)
		mc->moddir = root_path("/lib/modules/%s", release);
	free(release);
	read_modprobe_d(mc);
	read_cmdline(mc);
}

const char *modconf_moddir(struct modconf *mc, int *err)
{
	load(mc);
	if (err)
		*err = mc->moddir_err;
	return mc->moddir;
}

bool modconf_blacklisted(struct modconf *mc, const char *name)
{
	char *n = xstrdup(name);
	bool r;

	load(mc);
	underscores(n);
	r = strv_contains(&mc->blacklist, n);
	free(n);
	return r;
}

int modconf_options(struct modconf *mc, const char *name, char **options)
{
	char *n = xstrdup(name), *all = NULL;

	load(mc);
	underscores(n);
	for (size_t i = 0; i < mc->opt_name.n; i++) {
		char *t;

		if (!streq(mc->opt_name.v[i], n))
			continue;
		t = all ? xasprintf("%s %s", all, mc->opt_value.v[i]) : xstrdup(mc->opt_value.v[i]);
		free(all);
		all = t;
	}
	free(n);
	*options = all;
	return all ? 0 : -ENOENT;
}

/* modules.alias's "alias vfio_pci:PATTERN MODULE" lines, once */
static void load_aliases(struct modconf *mc)
{
	char *p, *text = NULL, *save = NULL;

	if (mc->aliases_loaded)
		return;
	mc->aliases_loaded = true;
	if (!modconf_moddir(mc, NULL))
		return;
	p = xasprintf("%s/modules.alias", mc->moddir);
	if (read_text(p, &text) == 0)
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *pattern, *module, *rest = NULL;

			if (strncmp(l, "alias vfio_pci:", 15) != 0)
				continue;
			pattern = strtok_r(l + 6, " \t", &rest);
			module = strtok_r(NULL, " \t", &rest);
			if (!pattern || !module)
				continue;
			underscores(module);
			strv_push(&mc->variant_pattern, xstrdup(pattern));
			strv_push(&mc->variant_module, xstrdup(module));
		}
	free(text);
	free(p);
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

int modconf_vfio_variant(struct modconf *mc, const char *modalias, char **module)
{
	long best = -1;
	const char *found = NULL;
	char *key;

	*module = NULL;
	if (strncmp(modalias, "pci:", 4) != 0)
		return -EINVAL;
	load_aliases(mc);
	if (!mc->variant_pattern.n)
		return -ENOENT;
	/* the kernel's modules.alias form: "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*" */
	key = xasprintf("vfio_pci:%s", modalias + 4);
	for (size_t i = 0; i < mc->variant_pattern.n; i++) {
		const char *pat = mc->variant_pattern.v[i], *mod = mc->variant_module.v[i];
		long score;

		if (streq(mod, "vfio_pci") || fnmatch(pat, key, 0) != 0)
			continue;
		score = alias_score(pat);
		/* a blacklisted variant driver is not used: plain vfio-pci then */
		if (score > best && !modconf_blacklisted(mc, mod)) {
			best = score;
			found = mod;
		}
	}
	free(key);
	if (!found)
		return -ENOENT;
	*module = xstrdup(found);
	return 0;
}

void modconf_free(struct modconf *mc)
{
	free(mc->moddir);
	strv_free(&mc->blacklist);
	strv_free(&mc->opt_name);
	strv_free(&mc->opt_value);
	strv_free(&mc->variant_pattern);
	strv_free(&mc->variant_module);
	memset(mc, 0, sizeof(*mc));
}
