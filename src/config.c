// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Configuration (SPEC §4-5): /usr/lib/vfio-claim.d and /etc/vfio-claim.d, same-named files in /etc
 * replacing those in /usr/lib, read in lexical order; then the kernel command line. A file or a
 * parameter with an error is not applied at all.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static const char *const conf_dirs[] = { "/usr/lib/vfio-claim.d", "/etc/vfio-claim.d" };

void config_add_error(struct config *cfg, const char *file, unsigned line, const char *fmt, ...)
{
	struct config_error *e;
	va_list ap;

	cfg->errors = xrealloc(cfg->errors, (cfg->nerrors + 1) * sizeof(*cfg->errors));
	e = &cfg->errors[cfg->nerrors++];
	e->file = xstrdup(file);
	e->line = line;
	va_start(ap, fmt);
	if (vasprintf(&e->message, fmt, ap) < 0)
		abort();
	va_end(ap);
}

static void perms_free(struct perms *p)
{
	free(p->owner);
	free(p->group);
	p->owner = p->group = NULL;
	p->mode = -1;
}

void rule_free(struct rule *r)
{
	for (size_t i = 0; i < r->nsels; i++)
		selector_free(&r->sels[i]);
	free(r->sels);
	free(r->tag);
	free(r->origin);
	perms_free(&r->perms);
	memset(r, 0, sizeof(*r));
}

static void rules_free(struct rules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_free(&rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

static void rules_move(struct rules *to, struct rules *from)
{
	if (from->n == 0)
		return;
	to->v = xrealloc(to->v, (to->n + from->n) * sizeof(*to->v));
	memcpy(to->v + to->n, from->v, from->n * sizeof(*from->v));
	to->n += from->n;
	free(from->v);
	from->v = NULL;
	from->n = 0;
}

void config_free(struct config *cfg)
{
	rules_free(&cfg->claims);
	rules_free(&cfg->excludes);
	perms_free(&cfg->perms);
	for (size_t i = 0; i < cfg->nerrors; i++) {
		free(cfg->errors[i].file);
		free(cfg->errors[i].message);
	}
	free(cfg->errors);
	free(cfg->root_arg);
	free(cfg->usr_arg);
	strv_free(&cfg->files);
	strv_free(&cfg->broken_files);
	memset(cfg, 0, sizeof(*cfg));
}

static bool valid_name(const char *s)
{
	/* user, group and tag names: what useradd and udev accept, no spaces or quotes */
	if (!*s || strlen(s) > 64 || *s == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

static int parse_mode(const char *s, int *mode)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 4)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return -EINVAL;
		v = v * 8 + (unsigned long)(*p - '0');
	}
	if (v > 0777)
		return -EINVAL;
	*mode = (int)v;
	return 0;
}

/* owner=, group=, mode= into perms; 1 if the word is not one of them */
static int parse_perm_word(struct perms *p, const char *w, const char **why)
{
	if (strncmp(w, "owner=", 6) == 0) {
		if (p->owner) {
			*why = "owner= given twice";
			return -EINVAL;
		}
		if (!valid_name(w + 6)) {
			*why = "not a user name or number";
			return -EINVAL;
		}
		p->owner = xstrdup(w + 6);
		return 0;
	}
	if (strncmp(w, "group=", 6) == 0) {
		if (p->group) {
			*why = "group= given twice";
			return -EINVAL;
		}
		if (!valid_name(w + 6)) {
			*why = "not a group name or number";
			return -EINVAL;
		}
		p->group = xstrdup(w + 6);
		return 0;
	}
	if (strncmp(w, "mode=", 5) == 0) {
		if (p->mode >= 0) {
			*why = "mode= given twice";
			return -EINVAL;
		}
		if (parse_mode(w + 5, &p->mode) < 0) {
			*why = "a mode is an octal number up to 0777, e.g. mode=0660";
			return -EINVAL;
		}
		return 0;
	}
	return 1;
}

int config_parse_rule_args(struct rule *rule, char **argv, size_t argc, bool allow_options,
			   const char **bad, const char **why)
{
	bool has_addr = false;

	memset(rule, 0, sizeof(*rule));
	rule->perms.mode = -1;
	for (size_t i = 0; i < argc; i++) {
		const char *w = argv[i];
		struct selector sel;
		int r;

		*bad = w;
		if (allow_options) {
			if (streq(w, "force")) {
				if (rule->force) {
					*why = "'force' given twice";
					return -EINVAL;
				}
				rule->force = true;
				continue;
			}
			if (strncmp(w, "tag=", 4) == 0) {
				if (rule->tag || !valid_name(w + 4)) {
					*why = rule->tag
						   ? "tag= given twice"
						   : "a tag is letters, digits, '_', '-' and '.'";
					return -EINVAL;
				}
				rule->tag = xstrdup(w + 4);
				continue;
			}
			r = parse_perm_word(&rule->perms, w, why);
			if (r <= 0) {
				if (r < 0)
					return r;
				continue;
			}
		}
		if (strchr(w, '=') && strncmp(w, "class=", 6) != 0 && strncmp(w, "path=", 5) != 0) {
			*why = allow_options ? "unknown keyword: claim takes force, tag=, owner=, "
					       "group= and mode= besides selectors"
					     : "exclude takes only selectors";
			return -EINVAL;
		}
		if (selector_parse(w, &sel, why) < 0)
			return -EINVAL;
		if (sel.kind == SEL_ADDR)
			has_addr = true;
		rule->sels = xrealloc(rule->sels, (rule->nsels + 1) * sizeof(*rule->sels));
		rule->sels[rule->nsels++] = sel;
	}
	*bad = NULL;
	if (rule->nsels == 0) {
		*why = "no selector given";
		return -EINVAL;
	}
	if (rule->force && !has_addr) {
		*bad = "force";
		*why = "'force' applies only to devices named by address; add the address";
		return -EINVAL;
	}
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (streq(v, "yes") || streq(v, "1") || streq(v, "true") || streq(v, "on"))
		*out = true;
	else if (streq(v, "no") || streq(v, "0") || streq(v, "false") || streq(v, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* The settings one file makes, applied only when the whole file is valid. */
struct file_result {
	struct rules claims, excludes;
	struct perms perms;
	int allow_boot_vga, keep_usb, group_policy; /* -1: not set */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int config_line_words(const char *line, struct config_word **words, size_t *n)
{
	size_t len = 0, cap = 0, i = 0, end;

	*words = NULL;
	*n = 0;
	/* a comment starts with '#' at the start of the line or after a space or tab */
	for (end = 0; line[end]; end++)
		if (line[end] == '#' && (end == 0 || line[end - 1] == ' ' || line[end - 1] == '\t'))
			break;
	for (size_t k = 0; k < end; k++) {
		unsigned char c = (unsigned char)line[k];
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return -EINVAL;
	}
	while (i < end) {
		size_t start;

		while (i < end && is_blank(line[i]))
			i++;
		if (i == end)
			break;
		start = i;
		while (i < end && !is_blank(line[i]))
			i++;
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			*words = xrealloc(*words, cap * sizeof(**words));
		}
		(*words)[len++] = (struct config_word){ .start = start, .len = i - start };
	}
	*n = len;
	return 0;
}

static int parse_line(struct file_result *fr, char **w, size_t n, const char **bad,
		      const char **why)
{
	const char *d = w[0];
	struct rule rule;

	*bad = d;
	if (streq(d, "claim") || streq(d, "exclude")) {
		bool claim = streq(d, "claim");
		struct rules *rs = claim ? &fr->claims : &fr->excludes;

		if (n < 2) {
			*why = claim ? "'claim' needs at least one selector"
				     : "'exclude' needs at least one selector";
			return -EINVAL;
		}
		if (config_parse_rule_args(&rule, w + 1, n - 1, claim, bad, why) < 0) {
			rule_free(&rule);
			if (!*bad)
				*bad = d;
			return -EINVAL;
		}
		rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof(*rs->v));
		rs->v[rs->n++] = rule;
		return 0;
	}
	if (streq(d, "permissions")) {
		struct perms p = { .mode = -1 };

		if (n < 2) {
			*why = "'permissions' needs owner=, group= or mode=";
			return -EINVAL;
		}
		if (fr->perms.owner || fr->perms.group || fr->perms.mode >= 0) {
			*why = "'permissions' given twice in one file";
			return -EINVAL;
		}
		for (size_t i = 1; i < n; i++) {
			int r = parse_perm_word(&p, w[i], why);
			*bad = w[i];
			if (r != 0) {
				if (r > 0)
					*why = "'permissions' takes owner=, group= and mode=";
				perms_free(&p);
				return -EINVAL;
			}
		}
		fr->perms = p;
		return 0;
	}
	if (streq(d, "option")) {
		const char *eq;
		bool b;

		if (n != 2) {
			*bad = n > 2 ? w[2] : d;
			*why = "'option' takes one NAME=VALUE";
			return -EINVAL;
		}
		*bad = w[1];
		eq = strchr(w[1], '=');
		if (!eq) {
			*why = "an option is NAME=VALUE";
			return -EINVAL;
		}
		if (strncmp(w[1], "allow-boot-vga=", 15) == 0) {
			if (parse_bool(eq + 1, &b) < 0) {
				*why = "allow-boot-vga takes yes or no";
				return -EINVAL;
			}
			fr->allow_boot_vga = b;
		} else if (strncmp(w[1], "keep-usb=", 9) == 0) {
			if (parse_bool(eq + 1, &b) < 0) {
				*why = "keep-usb takes 1 or 0";
				return -EINVAL;
			}
			fr->keep_usb = b;
		} else if (strncmp(w[1], "group-policy=", 13) == 0) {
			if (streq(eq + 1, "strict"))
				fr->group_policy = GROUP_STRICT;
			else if (streq(eq + 1, "whole"))
				fr->group_policy = GROUP_WHOLE;
			else {
				*why = "group-policy takes strict or whole";
				return -EINVAL;
			}
		} else {
			*why =
			    "unknown option: known are allow-boot-vga, keep-usb and group-policy";
			return -EINVAL;
		}
		return 0;
	}
	*why = "unknown directive: use claim, exclude, permissions or option";
	return -EINVAL;
}

void config_parse_text(struct config *cfg, const char *file, const char *text)
{
	struct file_result fr = {
		.perms.mode = -1, .allow_boot_vga = -1, .keep_usb = -1, .group_policy = -1
	};
	char *copy = xstrdup(text), *line;
	size_t nerr = cfg->nerrors;
	unsigned lineno = 0;
	const char *p = copy;

	/* strtok would skip empty lines and lose the numbering: walk the lines by hand */
	for (line = copy; p && *p; line = (char *)p) {
		char *nl = strchr(line, '\n');
		struct strv words = { 0 };
		struct config_word *pos = NULL;
		size_t npos = 0;
		const char *bad = NULL, *why = NULL;

		lineno++;
		p = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		if (config_line_words(line, &pos, &npos) < 0) {
			config_add_error(cfg, file, lineno, "control character in line");
			goto next;
		}
		for (size_t i = 0; i < npos; i++)
			strv_push(&words, xstrndup(line + pos[i].start, pos[i].len));
		if (words.n == 0)
			goto next;
		if (parse_line(&fr, words.v, words.n, &bad, &why) < 0)
			config_add_error(cfg, file, lineno, "'%s': %s", bad ? bad : words.v[0],
					 why);
		else if (fr.claims.n && !fr.claims.v[fr.claims.n - 1].origin)
			fr.claims.v[fr.claims.n - 1].origin = xasprintf("%s:%u", file, lineno);
		if (fr.excludes.n && !fr.excludes.v[fr.excludes.n - 1].origin)
			fr.excludes.v[fr.excludes.n - 1].origin = xasprintf("%s:%u", file, lineno);
	next:
		strv_free(&words);
		free(pos);
	}
	free(copy);

	strv_push(&cfg->files, xstrdup(file));
	if (cfg->nerrors > nerr) {
		/* a file with errors is not half-applied */
		strv_push(&cfg->broken_files, xstrdup(file));
		rules_free(&fr.claims);
		rules_free(&fr.excludes);
		perms_free(&fr.perms);
		return;
	}
	rules_move(&cfg->claims, &fr.claims);
	rules_move(&cfg->excludes, &fr.excludes);
	if (fr.perms.owner || fr.perms.group || fr.perms.mode >= 0) {
		perms_free(&cfg->perms);
		cfg->perms = fr.perms;
	}
	if (fr.allow_boot_vga >= 0)
		cfg->allow_boot_vga = fr.allow_boot_vga;
	if (fr.keep_usb >= 0)
		cfg->keep_usb = fr.keep_usb;
	if (fr.group_policy >= 0)
		cfg->group_policy = (enum group_policy)fr.group_policy;
}

/* Splits the kernel command line like the kernel does: spaces, with "double quotes". */
static void split_cmdline(const char *s, struct strv *out)
{
	while (*s) {
		char buf[4096];
		size_t n = 0;
		bool quoted = false;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		while (*s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n'))) {
			if (*s == '"')
				quoted = !quoted;
			else if (n + 1 < sizeof(buf))
				buf[n++] = *s;
			s++;
		}
		buf[n] = '\0';
		strv_push(out, xstrdup(buf));
	}
}

static void cmdline_param(struct config *cfg, const char *name, const char *value, bool exclude)
{
	struct strv parts = { 0 };
	struct rule rule;
	const char *bad = NULL, *why = NULL;
	char *copy = xstrdup(value), *save = NULL;

	if (!exclude) {
		/* "off" anywhere in the value turns every claim off: claiming less is safe */
		char *c2 = xstrdup(value), *s2 = NULL;
		for (char *t = strtok_r(c2, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
			if (streq(t, "off"))
				cfg->off = true;
		free(c2);
		if (cfg->off) {
			free(copy);
			return;
		}
	}
	if (!*value || value[0] == ',' || value[strlen(value) - 1] == ',' || strstr(value, ",,")) {
		config_add_error(cfg, name, 0,
				 "'%s': empty selector in the list; parameter ignored", value);
		free(copy);
		return;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		strv_push(&parts, xstrdup(t));
	free(copy);
	if (config_parse_rule_args(&rule, parts.v, parts.n, false, &bad, &why) < 0) {
		config_add_error(cfg, name, 0, "'%s': %s; parameter ignored", bad ? bad : value,
				 why);
		rule_free(&rule);
	} else {
		struct rules *rs = exclude ? &cfg->excludes : &cfg->claims;
		rule.origin = xstrdup("cmdline");
		rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof(*rs->v));
		rs->v[rs->n++] = rule;
	}
	strv_free(&parts);
}

void config_parse_cmdline(struct config *cfg, const char *cmdline)
{
	struct strv words = { 0 };

	split_cmdline(cmdline, &words);
	for (size_t i = 0; i < words.n; i++) {
		const char *w = words.v[i];

		if (strncmp(w, "vfio_claim=", 11) == 0)
			cmdline_param(cfg, "vfio_claim", w + 11, false);
		else if (strncmp(w, "vfio_claim.exclude=", 19) == 0)
			cmdline_param(cfg, "vfio_claim.exclude", w + 19, true);
		else if (streq(w, "vfio_claim") || strncmp(w, "vfio_claim.", 11) == 0 ||
			 strncmp(w, "vfio-claim", 10) == 0)
			config_add_error(
			    cfg, "vfio_claim", 0,
			    "'%s': unknown parameter: use vfio_claim=SEL[,SEL...], "
			    "vfio_claim.exclude=SEL[,SEL...] or vfio_claim=off; ignored",
			    w);
		else if (strncmp(w, "root=", 5) == 0) {
			free(cfg->root_arg);
			cfg->root_arg = xstrdup(w + 5);
		} else if (strncmp(w, "mount.usr=", 10) == 0) {
			free(cfg->usr_arg);
			cfg->usr_arg = xstrdup(w + 10);
		}
	}
	strv_free(&words);
}

bool config_file_masked(const char *path)
{
	char buf[PATH_MAX], *full = root_path("%s", path);
	ssize_t k = readlink(full, buf, sizeof(buf) - 1);

	free(full);
	if (k < 0)
		return false;
	buf[k] = '\0';
	return streq(buf, "/dev/null");
}

/* qsort: "/DIR/NAME.conf" paths by NAME */
static int cmp_file_name(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return strcmp(strrchr(x, '/') + 1, strrchr(y, '/') + 1);
}

void config_files(struct strv *paths)
{
	memset(paths, 0, sizeof(*paths));
	/* later folders replace same-named files of earlier ones */
	for (size_t i = 0; i < ARRAY_SIZE(conf_dirs); i++) {
		char *dir = root_path("%s", conf_dirs[i]);
		DIR *d = opendir(dir);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			size_t len = strlen(de->d_name), j;

			if (de->d_name[0] == '.' || len < 6 ||
			    !streq(de->d_name + len - 5, ".conf"))
				continue;
			for (j = 0; j < paths->n; j++)
				if (streq(strrchr(paths->v[j], '/') + 1, de->d_name))
					break;
			if (j < paths->n) {
				free(paths->v[j]);
				paths->v[j] = xasprintf("%s/%s", conf_dirs[i], de->d_name);
			} else {
				strv_push(paths, xasprintf("%s/%s", conf_dirs[i], de->d_name));
			}
		}
		if (d)
			closedir(d);
		free(dir);
	}
	/* lexical order of file name */
	if (paths->n > 1)
		qsort(paths->v, paths->n, sizeof(*paths->v), cmp_file_name);
}

void config_load_files(struct config *cfg)
{
	struct strv paths;

	memset(cfg, 0, sizeof(*cfg));
	cfg->perms.mode = -1;
	cfg->keep_usb = true;

	config_files(&paths);
	for (size_t i = 0; i < paths.n; i++) {
		char *full, *text = NULL;
		int r;

		if (config_file_masked(paths.v[i]))
			continue;
		full = root_path("%s", paths.v[i]);
		r = read_text(full, &text);
		if (r < 0) {
			config_add_error(cfg, paths.v[i], 0, "cannot read: %s", errstr(r));
			strv_push(&cfg->broken_files, xstrdup(paths.v[i]));
		} else {
			config_parse_text(cfg, paths.v[i], text);
			free(text);
		}
		free(full);
	}
	strv_free(&paths);
}

void config_load(struct config *cfg)
{
	char *p;

	config_load_files(cfg);
	p = root_path("/proc/cmdline");
	{
		char *cmdline = NULL;
		if (read_text(p, &cmdline) == 0) {
			config_parse_cmdline(cfg, cmdline);
			free(cmdline);
		}
	}
	free(p);
}
