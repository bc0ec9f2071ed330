// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The holders of a device that follows its guests, as its state entry records them
 * (guest-record.h): guest names escaped and shown, who started each guest, and whether it is gone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest-record.h"

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '@' || c == '-';
}

char *guest_escape(const char *name)
{
	size_t len = strlen(name);
	char *out, *p;

	if (len == 0 || len > GUEST_NAME_MAX)
		return NULL;
	p = out = xmalloc(3 * len + 1);
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (name_char(*c))
			*p++ = (char)*c;
		else
			p += sprintf(p, "%%%02X", *c);
	*p = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool guest_is_escaped(const char *name)
{
	if (!*name || strlen(name) > 3 * GUEST_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0)
			p += 2;
		else if (!name_char((unsigned char)*p))
			return false;
	}
	return true;
}

/* The bytes of an escaped name (a bad %XX kept as it is); *len: how many. */
static char *unescape(const char *ename, size_t *len)
{
	char *out = xmalloc(strlen(ename) + 1), *o = out;

	for (const char *p = ename; *p; p++) {
		int hi = *p == '%' ? hexval(p[1]) : -1, lo = hi >= 0 ? hexval(p[2]) : -1;

		if (hi < 0 || lo < 0) {
			*o++ = *p;
			continue;
		}
		*o++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

static bool control_byte(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

char *guest_display(const char *ename)
{
	size_t len;
	char *out = unescape(ename, &len);

	for (size_t i = 0; i < len; i++)
		if (control_byte((unsigned char)out[i]) || out[i] == '\'' || out[i] == '\\') {
			free(out);
			return xstrdup(ename);
		}
	return out;
}

char *guest_shell_word(const char *ename)
{
	size_t len;
	char *name = unescape(ename, &len), *out = xmalloc(4 * len + 4), *o = out;
	bool plain = true, ansi = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		plain = plain && name_char(c);
		ansi = ansi || control_byte(c) || c == '!';
	}
	if (plain) {
		free(out);
		return name;
	}
	/* $'...' for what "..." cannot hold (a control byte; '!', which bash expands there) */
	o = stpcpy(o, ansi ? "$'" : "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (ansi && control_byte(c))
			o += sprintf(o, "\\x%02x", c);
		else if (ansi ? c == '\'' || c == '\\' : strchr("\"\\$`", c) != NULL)
			o += sprintf(o, "\\%c", c);
		else
			*o++ = (char)c;
	}
	strcpy(o, ansi ? "'" : "\"");
	free(name);
	return out;
}

void guest_holders(const struct kv *entry, struct strv *names)
{
	const char *v = kv_get(entry, "guests");
	char *copy, *save = NULL;

	memset(names, 0, sizeof(*names));
	if (!v || !*v)
		return;
	copy = xstrdup(v);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*t && !strv_contains(names, t))
			strv_push(names, xstrdup(t));
	free(copy);
}

/* The value of WORD=... in a holder's record ("starter=run pid=1 start=2 boot=ID"), or NULL. */
static char *holder_field(const struct kv *entry, const char *ename, const char *word)
{
	char *key = xasprintf("guest.%s", ename), *res = NULL;
	const char *v = kv_get(entry, key);
	size_t wl = strlen(word);

	free(key);
	for (const char *p = v; p && *p;) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > wl && strncmp(p, word, wl) == 0 && p[wl] == '=') {
			res = xasprintf("%.*s", (int)(n - wl - 1), p + wl + 1);
			break;
		}
		p = end ? end + 1 : NULL;
	}
	return res;
}

const char *guest_starter_of(const struct kv *entry, const char *ename, long *pid)
{
	static const char *const kinds[] = { "run", "libvirt", "manual" };
	char *k = holder_field(entry, ename, "starter"), *p = holder_field(entry, ename, "pid");
	const char *res = NULL;

	*pid = p ? strtol(p, NULL, 10) : 0;
	for (size_t i = 0; k && i < ARRAY_SIZE(kinds); i++)
		if (streq(k, kinds[i]))
			res = kinds[i];
	free(k);
	free(p);
	return res;
}

/* Field 22 of /proc/PID/stat (PID "self" too): when the process started, in clock ticks. */
static int proc_start_time(const char *pid, char **start)
{
	char *path = root_path("/proc/%s/stat", pid), *text = NULL, *p;
	unsigned long long t;
	int r = read_text(path, &text);

	free(path);
	if (r < 0)
		return r;
	/* the command (field 2) may hold spaces and parentheses: count from its last ')' */
	p = strrchr(text, ')');
	r = -EBADMSG;
	if (p && sscanf(p + 1,
			" %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			"%*d %*d %llu",
			&t) == 1) {
		*start = xasprintf("%llu", t);
		r = 0;
	}
	free(text);
	return r;
}

char *guest_gone(const struct kv *entry, const char *ename)
{
	char *boot = holder_field(entry, ename, "boot"), *now = NULL, *why = NULL;
	char *starter = holder_field(entry, ename, "starter");

	if (boot && summary_boot_id(&now) == 0 && !streq(boot, now))
		why = xstrdup("it was recorded on another boot");
	else if (starter && streq(starter, "run")) {
		char *pid = holder_field(entry, ename, "pid");
		char *start = holder_field(entry, ename, "start"), *t = NULL;
		char *dir = pid ? root_path("/proc/%s", pid) : NULL;
		int r = pid ? proc_start_time(pid, &t) : -EINVAL;

		if (r == -ENOENT || !pid || (dir && access(dir, F_OK) < 0))
			why = xasprintf("its 'vfio-claim run' process (pid %s) is gone",
					pid ? pid : "unknown");
		else if (r == 0 && start && !streq(start, "unknown") && !streq(start, t))
			why = xasprintf("its 'vfio-claim run' process (pid %s) is gone (the pid "
					"now belongs to another process)",
					pid);
		free(dir);
		free(t);
		free(pid);
		free(start);
	}
	free(boot);
	free(now);
	free(starter);
	return why;
}

/* What the state records about who started the guest. */
char *guest_record_of(const struct guest_starter *who)
{
	char *boot = NULL, *start = NULL, *rec;

	summary_boot_id(&boot);
	if (who->pid > 0) {
		/* our own process: /proc/self under the root */
		if (who->pid != getpid() || proc_start_time("self", &start) < 0) {
			char *p = xasprintf("%ld", (long)who->pid);

			if (proc_start_time(p, &start) < 0)
				start = NULL;
			free(p);
		}
		rec = xasprintf("starter=%s pid=%ld start=%s boot=%s", who->kind, (long)who->pid,
				start ? start : "unknown", boot ? boot : "unknown");
	} else {
		rec = xasprintf("starter=%s boot=%s", who->kind, boot ? boot : "unknown");
	}
	free(boot);
	free(start);
	return rec;
}

char *guest_word(const char *name)
{
	char *ename = guest_escape(name), *word;

	if (!ename)
		return xstrdup(name);
	word = guest_shell_word(ename);
	free(ename);
	return word;
}
