// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Configuration (SPEC §4-5): /usr/lib/vfio-claim.d and /etc/vfio-claim.d, same-named files in /etc
 * replacing those in /usr/lib, read in lexical order; then the kernel command line. A file or a
 * parameter with an error is not applied at all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "perms.h"

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
	free(cfg->exclude_unknown);
	strv_free(&cfg->files);
	strv_free(&cfg->broken_files);
	memset(cfg, 0, sizeof(*cfg));
}

bool config_valid_name(const char *s)
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
/* A number where a name may stand must fit uid_t/gid_t, below (id_t)-1 ("unchanged") */
static bool id_fits(const char *s)
{
	unsigned long long v = 0;

	if (s[strspn(s, "0123456789")] != '\0')
		return true; /* a name */
	for (; *s; s++) {
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v >= 4294967295ULL)
			return false;
	}
	return true;
}

static int parse_perm_word(struct perms *p, const char *w, const char **why)
{
	if (strncmp(w, "owner=", 6) == 0) {
		if (p->owner) {
			*why = "owner= given twice";
			return -EINVAL;
		}
		if (!config_valid_name(w + 6)) {
			*why = "not a user name or number";
			return -EINVAL;
		}
		if (!id_fits(w + 6)) {
			*why = "a user id must be below 4294967295";
			return -ERANGE;
		}
		p->owner = xstrdup(w + 6);
		return 0;
	}
	if (strncmp(w, "group=", 6) == 0) {
		if (p->group) {
			*why = "group= given twice";
			return -EINVAL;
		}
		if (!config_valid_name(w + 6)) {
			*why = "not a group name or number";
			return -EINVAL;
		}
		if (!id_fits(w + 6)) {
			*why = "a group id must be below 4294967295";
			return -ERANGE;
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
	bool has_addr = false, seen_when = false;

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
				if (rule->tag || !config_valid_name(w + 4)) {
					*why = rule->tag
						   ? "tag= given twice"
						   : "a tag is letters, digits, '_', '-' and '.'";
					return -EINVAL;
				}
				rule->tag = xstrdup(w + 4);
				continue;
			}
			if (strncmp(w, "driver=", 7) == 0) {
				if (rule->plain_vfio) {
					*why = "driver= given twice";
					return -EINVAL;
				}
				if (!streq(w + 7, "vfio-pci")) {
					*why = "driver= takes only 'vfio-pci' (plain "
					       "vfio-pci instead of a VFIO variant driver)";
					return -EINVAL;
				}
				rule->plain_vfio = true;
				continue;
			}
			if (strncmp(w, "when=", 5) == 0) {
				if (seen_when) {
					*why = "when= given twice";
					return -EINVAL;
				}
				seen_when = true;
				if (streq(w + 5, "guest")) {
					rule->guest = true;
				} else if (!streq(w + 5, "boot")) {
					*why =
					    "when= takes 'boot' (the default: claimed at boot) or "
					    "'guest' (claimed while a guest that uses it runs)";
					return -EINVAL;
				}
				continue;
			}
			r = parse_perm_word(&rule->perms, w, why);
			if (r <= 0) {
				if (r < 0)
					return r;
				continue;
			}
		}
		if (strchr(w, '=') && strncmp(w, "class=", 6) != 0 && strncmp(w, "path=", 5) != 0 &&
		    strncmp(w, "vfs-of=", 7) != 0) {
			*why = allow_options ? "unknown keyword: claim takes force, tag=, driver=, "
					       "when=, owner=, group= and mode= besides selectors"
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

/* The first word of a line, as far as it can be read: "claim", "exclude", ... */
static char *first_word(const char *line, size_t len)
{
	size_t i = 0, start;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	start = i;
	while (i < len && (unsigned char)line[i] > 0x20 && line[i] != 0x7f && line[i] != '#')
		i++;
	return xstrndup(line + start, i - start);
}

/* owner=/group= names that the root's user database does not know: an error of the line */
static int check_names(const struct config *cfg, const struct perms *p, const char **bad,
		       const char **why)
{
	if (!cfg->check_name)
		return 0;
	if (p->owner && cfg->check_name(false, p->owner) < 0) {
		*bad = p->owner;
		*why = "no such user in the root's /etc/passwd";
		return -ENOENT;
	}
	if (p->group && cfg->check_name(true, p->group) < 0) {
		*bad = p->group;
		*why = "no such group in the root's /etc/group";
		return -ENOENT;
	}
	return 0;
}

void config_parse_buf(struct config *cfg, const char *file, const char *text, size_t len)
{
	struct file_result fr = {
		.perms.mode = -1, .allow_boot_vga = -1, .keep_usb = -1, .group_policy = -1
	};
	size_t nerr = cfg->nerrors, off = 0;
	unsigned lineno = 0;

	/* by length, not strtok: empty lines keep the numbering, a NUL byte is not the end */
	while (off < len) {
		const char *start = text + off, *nl = memchr(start, '\n', len - off);
		size_t llen = nl ? (size_t)(nl - start) : len - off;
		struct strv words = { 0 };
		struct config_word *pos = NULL;
		size_t npos = 0, nerr_line = cfg->nerrors;
		const char *bad = NULL, *why = NULL;
		char *line = NULL, *directive;

		off += llen + (nl ? 1 : 0);
		lineno++;
		if (memchr(start, '\0', llen)) {
			config_add_error(cfg, file, lineno, "NUL byte in line");
			goto next;
		}
		line = xstrndup(start, llen);
		if (config_line_words(line, &pos, &npos) < 0) {
			config_add_error(cfg, file, lineno, "control character in line");
			goto next;
		}
		for (size_t i = 0; i < npos; i++)
			strv_push(&words, xstrndup(line + pos[i].start, pos[i].len));
		if (words.n == 0)
			goto next;
		if (parse_line(&fr, words.v, words.n, &bad, &why) < 0) {
			config_add_error(cfg, file, lineno, "'%s': %s", bad ? bad : words.v[0],
					 why);
			goto next;
		}
		if (streq(words.v[0], "claim")) {
			struct rule *r = &fr.claims.v[fr.claims.n - 1];
			r->origin = xasprintf("%s:%u", file, lineno);
			if (check_names(cfg, &r->perms, &bad, &why) < 0)
				config_add_error(cfg, file, lineno, "'%s': %s", bad, why);
		} else if (streq(words.v[0], "exclude")) {
			fr.excludes.v[fr.excludes.n - 1].origin = xasprintf("%s:%u", file, lineno);
		} else if (streq(words.v[0], "permissions") &&
			   check_names(cfg, &fr.perms, &bad, &why) < 0) {
			config_add_error(cfg, file, lineno, "'%s': %s", bad, why);
		}
	next:
		/*
		 * A line in error that is not plainly a claim, permissions or option line may have
		 * been an exclude (or a misspelt one): the devices it meant are unknown.
		 */
		directive = first_word(start, strnlen(start, llen));
		if (cfg->nerrors > nerr_line && !streq(directive, "claim") &&
		    !streq(directive, "permissions") && !streq(directive, "option") &&
		    !cfg->exclude_unknown)
			cfg->exclude_unknown = xasprintf("%s:%u", file, lineno);
		free(directive);
		free(line);
		strv_free(&words);
		free(pos);
	}

	strv_push(&cfg->files, xstrdup(file));
	/* the excludes that parse always apply: bad input never widens a claim */
	rules_move(&cfg->excludes, &fr.excludes);
	if (cfg->nerrors > nerr) {
		/* a file with errors is not half-applied: none of its claims or settings */
		strv_push(&cfg->broken_files, xstrdup(file));
		rules_free(&fr.claims);
		perms_free(&fr.perms);
		return;
	}
	rules_move(&cfg->claims, &fr.claims);
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

void config_parse_text(struct config *cfg, const char *file, const char *text)
{
	config_parse_buf(cfg, file, text, strlen(text));
}

void cmdline_split(const char *s, struct strv *out)
{
	while (*s) {
		const char *start;
		char *word, *w;
		bool quoted = false;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		/* a word of any length: cutting one would drop what follows (an exclude) */
		for (start = s; *s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n')); s++)
			if (*s == '"')
				quoted = !quoted;
		w = word = xstrndup(start, (size_t)(s - start));
		for (const char *c = word; *c; c++)
			if (*c != '"')
				*w++ = *c;
		*w = '\0';
		strv_push(out, word);
	}
}

/* off, 0, no, false in any case: vfio_claim=off, the escape hatch from the boot menu */
static bool is_off(const char *v)
{
	return strcasecmp(v, "off") == 0 || strcasecmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
	       strcasecmp(v, "false") == 0;
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
			if (is_off(t))
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
		goto bad;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		strv_push(&parts, xstrdup(t));
	if (config_parse_rule_args(&rule, parts.v, parts.n, false, &bad, &why) < 0) {
		config_add_error(cfg, name, 0, "'%s': %s; parameter ignored", bad ? bad : value,
				 why);
		rule_free(&rule);
		goto bad;
	} else {
		struct rules *rs = exclude ? &cfg->excludes : &cfg->claims;
		rule.origin = xstrdup("cmdline");
		rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof(*rs->v));
		rs->v[rs->n++] = rule;
	}
	goto out;
bad:
	/* a claim ignored claims less; an exclude ignored would claim more: claim nothing */
	if (exclude && !cfg->exclude_unknown)
		cfg->exclude_unknown = xstrdup(name);
out:
	free(copy);
	strv_free(&parts);
}

/* "vfio-claim.exclude=X" -> "vfio_claim.exclude": the kernel reads '-' and '_' alike in names */
static char *param_name(const char *w)
{
	size_t n = strcspn(w, "=");
	char *name = xstrndup(w, n);

	for (char *c = name; *c; c++)
		if (*c == '-')
			*c = '_';
	return name;
}

void config_parse_cmdline(struct config *cfg, const char *cmdline)
{
	struct strv words = { 0 };

	cmdline_split(cmdline, &words);
	for (size_t i = 0; i < words.n; i++) {
		const char *w = words.v[i], *eq = strchr(w, '=');
		char *name = param_name(w);

		if (streq(name, "vfio_claim") && eq)
			cmdline_param(cfg, "vfio_claim", eq + 1, false);
		else if (streq(name, "vfio_claim.exclude") && eq)
			cmdline_param(cfg, "vfio_claim.exclude", eq + 1, true);
		else if (strncmp(name, "vfio_claim", 10) == 0 &&
			 (name[10] == '\0' || name[10] == '.')) {
			config_add_error(
			    cfg, "vfio_claim", 0,
			    "'%s': unknown parameter: use vfio_claim=SEL[,SEL...], "
			    "vfio_claim.exclude=SEL[,SEL...] or vfio_claim=off; ignored",
			    w);
			/* vfio_claim.exclude without a value, a misspelt one: its devices unknown
			 */
			if (strncmp(name, "vfio_claim.ex", 13) == 0 && !cfg->exclude_unknown)
				cfg->exclude_unknown = xstrdup(name);
		} else if (strncmp(w, "root=", 5) == 0) {
			free(cfg->root_arg);
			cfg->root_arg = xstrdup(w + 5);
		} else if (strncmp(w, "mount.usr=", 10) == 0) {
			free(cfg->usr_arg);
			cfg->usr_arg = xstrdup(w + 10);
		}
		free(name);
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

#define CONFIG_MAX_SIZE (1 << 20)

/* A configuration folder or file that someone else could have written is not used. */
static const char *untrusted(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return "owned by another user";
	if (st->st_mode & S_IWOTH)
		return "writable by every user";
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0)
		return "writable by a group other than root's";
	return NULL;
}

/* "/etc/vfio-claim.d/a\nb.conf" -> "/etc/vfio-claim.d/a?b.conf", for messages */
static char *printable(const char *s)
{
	char *p = xstrdup(s);

	for (char *c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return p;
}

/*
 * One configuration file's text: a regular file (a FIFO or a device is an error, never a hang),
 * at most CONFIG_MAX_SIZE bytes, that nobody but root can have written. *why: the reason.
 */
static int read_config_file(const char *full, char **text, size_t *len, const char **why)
{
	struct stat st;
	int fd, r;

	*why = NULL;
	fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		r = -EINVAL;
		goto out;
	}
	if ((*why = untrusted(&st))) {
		r = -EPERM;
		goto out;
	}
	r = read_fd(fd, text, CONFIG_MAX_SIZE, len);
	if (r == -EFBIG)
		*why = "larger than 1 MiB";
out:
	close(fd);
	return r;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A file or folder that cannot be used: an error, and the excludes it may hold are unknown. */
static void unusable(struct config *cfg, const char *path, char *message)
{
	char *name = printable(path);

	config_add_error(cfg, name, 0, "%s", message);
	strv_push(&cfg->broken_files, xstrdup(name));
	if (!cfg->exclude_unknown)
		cfg->exclude_unknown = xstrdup(name);
	free(name);
	free(message);
}

void config_load_files(struct config *cfg)
{
	bool bad_dir[ARRAY_SIZE(conf_dirs)] = { false };
	struct strv paths;

	memset(cfg, 0, sizeof(*cfg));
	cfg->perms.mode = -1;
	cfg->keep_usb = true;
	cfg->check_name = perms_check_name;

	for (size_t i = 0; i < ARRAY_SIZE(conf_dirs); i++) {
		char *dir = root_path("%s", conf_dirs[i]);
		struct stat st;
		const char *why;

		if (stat(dir, &st) == 0 && (why = untrusted(&st))) {
			unusable(
			    cfg, conf_dirs[i],
			    xasprintf("the folder is %s: not used; fix its owner and mode", why));
			bad_dir[i] = true;
		}
		free(dir);
	}
	config_files(&paths);
	for (size_t i = 0; i < paths.n; i++) {
		const char *path = paths.v[i], *why = NULL;
		char *full, *text = NULL;
		size_t len = 0, k;
		int r;

		for (k = 0; k < ARRAY_SIZE(conf_dirs); k++)
			if (bad_dir[k] && strncmp(path, conf_dirs[k], strlen(conf_dirs[k])) == 0 &&
			    path[strlen(conf_dirs[k])] == '/')
				break;
		if (k < ARRAY_SIZE(conf_dirs) || config_file_masked(path))
			continue; /* in a folder that is not used, or masked */
		if (has_control(path)) {
			unusable(cfg, path,
				 xstrdup("the file name holds control characters: not used"));
			continue;
		}
		full = root_path("%s", path);
		r = read_config_file(full, &text, &len, &why);
		free(full);
		if (r < 0) {
			unusable(
			    cfg, path,
			    xasprintf("cannot read: %s%s", why ? why : errstr(r),
				      r == -EPERM ? ": not used; fix its owner and mode" : ""));
			continue;
		}
		config_parse_buf(cfg, path, text, len);
		free(text);
	}
	strv_free(&paths);
}

/* FNV-1a, 64 bits: enough to tell that a configuration changed (not a security measure) */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

char *config_digest(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct strv paths;

	config_files(&paths);
	for (size_t i = 0; i < paths.n; i++) {
		char *full = root_path("%s", paths.v[i]), *text = NULL;
		const char *why;
		size_t len = 0;

		h = fnv1a(h, paths.v[i], strlen(paths.v[i]) + 1);
		if (config_file_masked(paths.v[i]))
			h = fnv1a(h, "masked", 7);
		else if (read_config_file(full, &text, &len, &why) == 0)
			h = fnv1a(h, text, len + 1);
		else
			h = fnv1a(h, "unreadable", 11);
		free(text);
		free(full);
	}
	strv_free(&paths);
	return xasprintf("%016llx", (unsigned long long)h);
}

void config_load(struct config *cfg)
{
	const char *cmdline;

	config_load_files(cfg);
	if (root_cmdline(&cmdline) == 0)
		config_parse_cmdline(cfg, cmdline);
}
