// SPDX-License-Identifier: GPL-2.0-or-later
#include "json.h"

void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void key(FILE *f, const char *k, int *first)
{
	if (!*first)
		fputc(',', f);
	*first = 0;
	json_str(f, k);
	fputc(':', f);
}

void json_kv_str(FILE *f, const char *k, const char *value, int *first)
{
	key(f, k, first);
	json_str(f, value);
}

void json_kv_int(FILE *f, const char *k, long value, int *first)
{
	key(f, k, first);
	fprintf(f, "%ld", value);
}

void json_kv_bool(FILE *f, const char *k, int value, int *first)
{
	key(f, k, first);
	fputs(value ? "true" : "false", f);
}
