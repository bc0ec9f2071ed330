/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/*
 * A small JSON writer that owns the punctuation, like util-linux's ul_jsonwrt_*: the caller opens
 * and closes objects and arrays and writes members; the writer puts the commas, the colons, the
 * quotes and the escapes. Inside an object every call names its key; at the top level and inside
 * an array the key is NULL. Closing the top-level value (or writing a top-level scalar) ends the
 * document with a newline.
 *
 * Every string comes out as valid UTF-8 JSON whatever bytes go in: valid UTF-8 passes through;
 * each byte that is not part of a valid sequence (a stray continuation byte, an overlong form, a
 * surrogate, a code point above U+10FFFF, a truncated sequence) is written as \ufffd; control
 * characters (below 0x20, and 0x7f) are escaped.
 *
 * Write errors are left in the FILE's error flag for the caller to check once, at the end.
 */

#define JSONW_MAX_DEPTH 64

struct jsonw {
	FILE *f;
	unsigned depth;			  /* open objects and arrays */
	bool first[JSONW_MAX_DEPTH + 1];  /* nothing written yet at this depth */
	bool object[JSONW_MAX_DEPTH + 1]; /* an object is open at this depth (else an array) */
};

void jsonw_init(struct jsonw *w, FILE *f);
/*
 * Misuse would write invalid JSON, so it is a bug that abort()s: nesting deeper than
 * JSONW_MAX_DEPTH, closing what is not open, a key outside an object, no key inside one.
 */
void jsonw_object_open(struct jsonw *w, const char *key);
void jsonw_object_close(struct jsonw *w);
void jsonw_array_open(struct jsonw *w, const char *key);
void jsonw_array_close(struct jsonw *w);

void jsonw_string(struct jsonw *w, const char *key, const char *value); /* NULL: null */
void jsonw_stringf(struct jsonw *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void jsonw_int(struct jsonw *w, const char *key, long long value);
void jsonw_uint(struct jsonw *w, const char *key, unsigned long long value);
void jsonw_bool(struct jsonw *w, const char *key, bool value);
void jsonw_null(struct jsonw *w, const char *key);

/*
 * The length of the valid UTF-8 sequence at p (1 to 4), or 0 where the byte at p starts none
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF; the NUL ends the string). The
 * JSON writer's test, shared with the other writers of text for programs (export's formats).
 */
size_t utf8_len(const unsigned char *p);
