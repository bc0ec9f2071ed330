// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdlib.h>

#include "json.h"
#include "util.h"

/*
 * The length of the valid UTF-8 sequence at p (1 to 4), or 0 if the byte at p does not start one
 * (RFC 3629 table 3-7: no overlongs, no surrogates, nothing above U+10FFFF). The string ends at
 * its NUL, so a truncated sequence meets a NUL where a continuation byte should be and is 0.
 */
size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, an overlong lead 0xc0/0xc1, or 0xf5..0xff */
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong below U+0800 */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates U+D800..U+DFFF */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong below U+10000 */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static void write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
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
		case '\r':
			fputs("\\r", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
		p++;
	}
	fputc('"', f);
}

void jsonw_init(struct jsonw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
	w->object[0] = false;
}

/*
 * The separator and the key before a value; its caller then writes the value. A member of an
 * object without a key, or a key outside an object, would be invalid JSON: a bug, so abort().
 */
static void value_start(struct jsonw *w, const char *key)
{
	if (!key != !w->object[w->depth])
		abort();
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (key) {
		write_string(w->f, key);
		fputc(':', w->f);
	}
}

/* After a complete value: a top-level value ends the document. */
static void value_end(struct jsonw *w)
{
	if (w->depth == 0) {
		fputc('\n', w->f);
		w->first[0] = true;
	}
}

static void container_open(struct jsonw *w, const char *key, bool object)
{
	if (w->depth >= JSONW_MAX_DEPTH)
		abort();
	value_start(w, key);
	fputc(object ? '{' : '[', w->f);
	w->depth++;
	w->first[w->depth] = true;
	w->object[w->depth] = object;
}

static void container_close(struct jsonw *w, bool object)
{
	if (w->depth == 0 || w->object[w->depth] != object)
		abort();
	w->depth--;
	fputc(object ? '}' : ']', w->f);
	value_end(w);
}

void jsonw_object_open(struct jsonw *w, const char *key)
{
	container_open(w, key, true);
}

void jsonw_object_close(struct jsonw *w)
{
	container_close(w, true);
}

void jsonw_array_open(struct jsonw *w, const char *key)
{
	container_open(w, key, false);
}

void jsonw_array_close(struct jsonw *w)
{
	container_close(w, false);
}

void jsonw_string(struct jsonw *w, const char *key, const char *value)
{
	value_start(w, key);
	if (value)
		write_string(w->f, value);
	else
		fputs("null", w->f);
	value_end(w);
}

void jsonw_stringf(struct jsonw *w, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort(); /* a format error: a bug */
	s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	jsonw_string(w, key, s);
	free(s);
}

void jsonw_int(struct jsonw *w, const char *key, long long value)
{
	value_start(w, key);
	fprintf(w->f, "%lld", value);
	value_end(w);
}

void jsonw_uint(struct jsonw *w, const char *key, unsigned long long value)
{
	value_start(w, key);
	fprintf(w->f, "%llu", value);
	value_end(w);
}

void jsonw_bool(struct jsonw *w, const char *key, bool value)
{
	value_start(w, key);
	fputs(value ? "true" : "false", w->f);
	value_end(w);
}

void jsonw_null(struct jsonw *w, const char *key)
{
	value_start(w, key);
	fputs("null", w->f);
	value_end(w);
}
