/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the libFuzzer targets in tests/fuzz/: a checked assertion that aborts (libFuzzer then
 * saves the input as a crash), and a checker of generated udev match text.
 */
#pragma once

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a NUL-terminated string (it ends at the first NUL byte, as a C string does). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_ASSERT(s);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* What one device shows udev: the value of a match key, or NULL for a key we never generate. */
static inline const char *udev_value(const struct pci_dev *d, const char *key, char *buf,
				     size_t size)
{
	if (strcmp(key, "KERNEL") == 0)
		return d->addr;
	if (strcmp(key, "DEVPATH") == 0)
		return d->devpath;
	if (strcmp(key, "ATTR{vendor}") == 0)
		snprintf(buf, size, "0x%04x", d->vendor);
	else if (strcmp(key, "ATTR{device}") == 0)
		snprintf(buf, size, "0x%04x", d->device);
	else if (strcmp(key, "ATTR{subsystem_vendor}") == 0)
		snprintf(buf, size, "0x%04x", d->subvendor);
	else if (strcmp(key, "ATTR{subsystem_device}") == 0)
		snprintf(buf, size, "0x%04x", d->subdevice);
	else if (strcmp(key, "ATTR{class}") == 0)
		snprintf(buf, size, "0x%06x", d->class);
	else if (strcmp(key, "ATTR{physfn/sriov_drivers_autoprobe}") == 0)
		/* a VF whose PF's autoprobe boot turned off; other devices have no physfn */
		snprintf(buf, size, "%s", d->physfn[0] ? "0" : "");
	else
		return NULL;
	return buf;
}

/*
 * Checks that m is a udev match list: KEY=="VALUE" items joined by ", ", each KEY one we know,
 * no newline and no quote inside a value. Returns 1 if the device matches it as udev would
 * (fnmatch globs, '|' alternatives), 0 if not; aborts if the text is not such a list.
 */
static inline int udev_match_eval(const char *m, const struct pci_dev *d)
{
	const char *p = m;
	int all = 1;

	FUZZ_ASSERT(!strchr(m, '\n') && !strchr(m, '\r'));
	for (;;) {
		char key[64], buf[32], *value, *alt, *save = NULL;
		const char *q = strstr(p, "==\""), *end, *have;
		int any = 0;

		FUZZ_ASSERT(q && (size_t)(q - p) < sizeof(key));
		memcpy(key, p, (size_t)(q - p));
		key[q - p] = '\0';
		have = udev_value(d, key, buf, sizeof(buf));
		FUZZ_ASSERT(have); /* a key we do not know: not something we generate */
		end = strchr(q + 3, '"');
		FUZZ_ASSERT(end);
		value = strndup(q + 3, (size_t)(end - q - 3));
		FUZZ_ASSERT(value && *value);
		for (alt = strtok_r(value, "|", &save); alt; alt = strtok_r(NULL, "|", &save))
			if (fnmatch(alt, have, 0) == 0)
				any = 1;
		free(value);
		all = all && any;
		p = end + 1;
		if (!*p)
			break;
		FUZZ_ASSERT(strncmp(p, ", ", 2) == 0);
		p += 2;
	}
	return all;
}

/* One line of a udev rule: KEY[{attr}] OP "VALUE" items joined by ", ", no quote in a value. */
static inline int udev_rule_line_ok(const char *p)
{
	for (;;) {
		const char *k = p;

		while ((*p >= 'A' && *p <= 'Z') || *p == '_')
			p++;
		if (p == k)
			return 0;
		if (*p == '{') {
			for (p++; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				  *p == '_' || *p == '/';)
				p++;
			if (*p++ != '}')
				return 0;
		}
		if ((p[0] == '=' || p[0] == '!') && p[1] == '=')
			p += 2;
		else if (p[0] == '=')
			p++;
		else
			return 0;
		if (*p++ != '"')
			return 0;
		while (*p && *p != '"' && *p != '\n')
			p++;
		if (*p++ != '"')
			return 0;
		if (!*p)
			return 1;
		if (strncmp(p, ", ", 2) != 0)
			return 0;
		p += 2;
	}
}

/*
 * Checks generated udev rules text: every line a comment, a rule or a LABEL, and no control
 * byte anywhere but the newlines that end lines. Returns the number of rule lines.
 */
static inline size_t udev_rules_check(const char *text)
{
	size_t rules = 0;
	char *copy = strdup(text), *line, *save = NULL;

	FUZZ_ASSERT(copy && *text && text[strlen(text) - 1] == '\n');
	FUZZ_ASSERT(!strstr(text, "\n\n"));
	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		FUZZ_ASSERT(*c == '\n' || (*c >= 0x20 && *c != 0x7f));
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (strncmp(line, "LABEL=", 6) == 0) {
			FUZZ_ASSERT(strcmp(line, "LABEL=\"vfio_claim_select_end\"") == 0);
			continue;
		}
		if (!udev_rule_line_ok(line)) {
			fprintf(stderr, "not a udev rule: '%s'\n", line);
			FUZZ_ASSERT(!"a line that is neither a comment, a rule nor a LABEL");
		}
		rules++;
	}
	free(copy);
	return rules;
}

/*
 * Every parsed rule has a selector and an origin (origin: the one expected, or NULL for any),
 * and each selector parses again from its text to the same kind. Returns the selectors counted.
 */
static inline size_t fuzz_check_rules(const struct rules *rs, const char *origin)
{
	size_t nsels = 0;

	for (size_t i = 0; i < rs->n; i++) {
		FUZZ_ASSERT(rs->v[i].nsels > 0 && rs->v[i].origin);
		FUZZ_ASSERT(!origin || strcmp(rs->v[i].origin, origin) == 0);
		for (size_t k = 0; k < rs->v[i].nsels; k++) {
			struct selector again;
			const char *why;

			FUZZ_ASSERT(selector_parse(rs->v[i].sels[k].text, &again, &why) == 0);
			FUZZ_ASSERT(again.kind == rs->v[i].sels[k].kind);
			selector_free(&again);
			nsels++;
		}
	}
	return nsels;
}
