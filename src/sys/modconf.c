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
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

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

static void aliases_push(struct modconf_aliases *a, const char *pattern, const char *module)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->pattern = xrealloc(a->pattern, a->cap * sizeof(*a->pattern));
		a->module = xrealloc(a->module, a->cap * sizeof(*a->module));
	}
	a->pattern[a->n] = pattern;
	a->module[a->n++] = module;
}

/* '-' as '_' outside [...], as kmod normalizes an alias pattern */
static void alias_underscores(char *s)
{
	for (; *s; s++) {
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close) {
				s = close;
				continue;
			}
		}
		if (*s == '-')
			*s = '_';
	}
}

/*
 * One modprobe.d file: "blacklist NAME", "options NAME ARGS..." and "alias PATTERN NAME" (the
 * rest is libkmod's).
 */
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
		} else if (streq(cmd, "alias")) {
			char *module = strtok_r(NULL, " \t", &rest), *pattern, *m;

			if (!module)
				continue;
			pattern = xstrdup(name);
			m = xstrdup(module);
			alias_underscores(pattern);
			underscores(m);
			aliases_push(&mc->conf, pattern, m);
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

/* a VFIO variant driver's alias ("vfio_pci:v...") */
static bool variant_alias(const char *pattern)
{
	return strncmp(pattern, "vfio_pci:", 9) == 0;
}

/* the aliases this file keeps: a PCI device's, and the VFIO variant drivers' */
static bool kept_alias(const char *pattern)
{
	return (pattern[0] == 'p' && strncmp(pattern, "pci:", 4) == 0) ||
	       (pattern[0] == 'v' && variant_alias(pattern));
}

/*
 * The PCI lines of modules.alias ("alias PATTERN MODULE"), cut in place: one pass with memchr(),
 * for a Debian kernel's 26,000 lines are read by every run that looks a module up (a VF's udev
 * event too).
 */
static void alias_lines(struct modconf *mc, char *text)
{
	char *end = text + strlen(text);

	for (char *line = text, *nl; line < end; line = nl + 1) {
		char *pattern, *module, *sp;

		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		*nl = '\0';
		/* kept_alias() first: it turns away most lines at their first character */
		if (strncmp(line, "alias ", 6) != 0)
			continue;
		pattern = line + 6;
		if (*pattern == ' ' || *pattern == '\t')
			pattern += strspn(pattern, " \t");
		if (!kept_alias(pattern) || !(sp = strpbrk(pattern, " \t")))
			continue;
		*sp = '\0';
		module = sp + 1 + strspn(sp + 1, " \t");
		module[strcspn(module, " \t")] = '\0';
		if (!*module)
			continue;
		if (strchr(module, '-'))
			underscores(module);
		aliases_push(variant_alias(pattern) ? &mc->variants : &mc->modules, pattern,
			     module);
	}
}

/*
 * modules.alias's "alias PATTERN MODULE" lines and the built-in modules' "NAME.alias=PATTERN"
 * entries of modules.builtin.modinfo (NUL-separated, as the kernel installs it; depmod makes
 * modules.builtin.alias.bin from it), the PCI ones, once. The texts are kept and cut in place.
 */
static void load_aliases(struct modconf *mc)
{
	char *p;
	size_t len = 0;
	int fd;

	if (mc->aliases_loaded)
		return;
	mc->aliases_loaded = true;
	if (!modconf_moddir(mc, NULL)) {
		mc->alias_err = -ENOENT;
		return;
	}
	p = xasprintf("%s/modules.alias", mc->moddir);
	mc->alias_err = read_text(p, &mc->alias_text);
	free(p);
	if (mc->alias_err == 0)
		alias_lines(mc, mc->alias_text);

	p = xasprintf("%s/modules.builtin.modinfo", mc->moddir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd < 0 || read_fd(fd, &mc->builtin_text, SIZE_MAX / 4, &len) < 0)
		len = 0;
	if (fd >= 0)
		close(fd);
	for (char *e = mc->builtin_text, *end = e + len; e && e < end; e += strlen(e) + 1) {
		char *dot = strchr(e, '.');

		if (!dot || dot == e || strncmp(dot, ".alias=", 7) != 0 || !kept_alias(dot + 7))
			continue;
		*dot = '\0';
		underscores(e);
		aliases_push(variant_alias(dot + 7) ? &mc->builtin_variants : &mc->builtin, dot + 7,
			     e);
	}
}

/*
 * An alias pattern matches a key as fnmatch() says; the literal start is compared first, which
 * turns away nearly every line of modules.alias at its first characters.
 */
static bool alias_match(const char *pattern, const char *key)
{
	const char *p = pattern, *k = key;

	for (; *p && *p != '*' && *p != '?' && *p != '[' && *p != '\\'; p++, k++)
		if (*p != *k)
			return false;
	return fnmatch(pattern, key, 0) == 0;
}

/* Adds the modules of the aliases that match key; how many matched, kept or not. */
static size_t add_matches(struct modconf *mc, const struct modconf_aliases *a, const char *key,
			  struct strv *out)
{
	size_t found = 0;

	for (size_t i = 0; i < a->n; i++) {
		const char *mod = a->module[i];

		if (!alias_match(a->pattern[i], key))
			continue;
		found++;
		if (!streq(mod, "vfio_pci") && !modconf_blacklisted(mc, mod) &&
		    !strv_contains(out, mod))
			strv_push(out, xstrdup(mod));
	}
	return found;
}

int modconf_alias_modules(struct modconf *mc, const char *modalias, struct strv *out)
{
	if (strncmp(modalias, "pci:", 4) != 0)
		return -EINVAL;
	load(mc);
	load_aliases(mc);
	if (mc->alias_err < 0)
		return -ENODATA;
	/* libkmod's order: the first source with a match answers alone */
	if (add_matches(mc, &mc->conf, modalias, out) == 0 &&
	    add_matches(mc, &mc->modules, modalias, out) == 0)
		add_matches(mc, &mc->builtin, modalias, out);
	return 0;
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

/*
 * The best "vfio_pci:" match of one source, better than *best. A built-in driver is not
 * skipped for a blacklist line: blacklisting stops modprobe from loading a module for an
 * alias, and a built-in one is never loaded, it is there from boot (nor does the kernel's
 * module_blacklist= reach it).
 */
static void best_variant(struct modconf *mc, const struct modconf_aliases *a, bool builtin,
			 const char *key, long *best, const char **found)
{
	for (size_t i = 0; i < a->n; i++) {
		const char *pat = a->pattern[i], *mod = a->module[i];
		long score;

		if (!variant_alias(pat) || streq(mod, "vfio_pci") || !alias_match(pat, key))
			continue;
		score = alias_score(pat);
		/* a blacklisted variant driver is not used: plain vfio-pci then */
		if (score > *best && (builtin || !modconf_blacklisted(mc, mod))) {
			*best = score;
			*found = mod;
		}
	}
}

int modconf_vfio_variant(struct modconf *mc, const char *modalias, char **module)
{
	long best = -1;
	const char *found = NULL;
	char *key;

	*module = NULL;
	if (strncmp(modalias, "pci:", 4) != 0)
		return -EINVAL;
	load(mc);
	load_aliases(mc);
	/* the kernel's modules.alias form: "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*" */
	key = xasprintf("vfio_pci:%s", modalias + 4);
	best_variant(mc, &mc->conf, false, key, &best, &found);
	best_variant(mc, &mc->variants, false, key, &best, &found);
	best_variant(mc, &mc->builtin_variants, true, key, &best, &found);
	free(key);
	if (!found)
		return -ENOENT;
	*module = xstrdup(found);
	return 0;
}

static void aliases_free(struct modconf_aliases *a, bool owned)
{
	for (size_t i = 0; owned && i < a->n; i++) {
		free((char *)a->pattern[i]);
		free((char *)a->module[i]);
	}
	free(a->pattern);
	free(a->module);
}

void modconf_free(struct modconf *mc)
{
	free(mc->moddir);
	strv_free(&mc->blacklist);
	strv_free(&mc->opt_name);
	strv_free(&mc->opt_value);
	aliases_free(&mc->conf, true);
	aliases_free(&mc->modules, false);
	aliases_free(&mc->builtin, false);
	aliases_free(&mc->variants, false);
	aliases_free(&mc->builtin_variants, false);
	free(mc->alias_text);
	free(mc->builtin_text);
	memset(mc, 0, sizeof(*mc));
}
