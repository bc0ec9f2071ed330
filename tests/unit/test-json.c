// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the JSON writer (src/core/json.c): punctuation, escapes, and valid UTF-8 whatever
 * comes.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "unit.h"

/* The writer on a memory stream; out() closes it and returns what was written. */
static FILE *mem;
static char *mem_buf;
static size_t mem_len;

static void start(struct jsonw *w)
{
	mem = open_memstream(&mem_buf, &mem_len);
	jsonw_init(w, mem);
}

static char *out(void)
{
	fclose(mem);
	return mem_buf;
}

/* The string value as one top-level document. */
static char *string_doc(const char *s)
{
	struct jsonw w;

	start(&w);
	jsonw_string(&w, NULL, s);
	return out();
}

/*
 * A small strict JSON validator (RFC 8259), written apart from the writer: the raw text must be
 * valid UTF-8 and follow the grammar; strings are decoded so that tests can compare them.
 */
struct parser {
	const unsigned char *p, *end;
	char *dec; /* the last string decoded, NUL-terminated */
	size_t dec_len;
};

/* One UTF-8 sequence from p: its code point, or -1 if it is not valid UTF-8. */
static long decode_utf8(const unsigned char *p, const unsigned char *end, size_t *len)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n;
	long cp;

	if (p[0] < 0x80)
		n = 1, cp = p[0];
	else if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07;
	else
		return -1;
	if ((size_t)(end - p) < n)
		return -1;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = n;
	return cp;
}

static bool valid_utf8(const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;
	size_t len;

	while (p < end) {
		if (decode_utf8(p, end, &len) < 0)
			return false;
		p += len;
	}
	return true;
}

static void put_utf8(struct parser *ps, long cp)
{
	char *d = ps->dec + ps->dec_len;

	if (cp < 0x80) {
		d[0] = (char)cp;
		ps->dec_len += 1;
	} else if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3f));
		ps->dec_len += 2;
	} else {
		d[0] = (char)(0xe0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		ps->dec_len += 3;
	}
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool parse_string(struct parser *ps)
{
	free(ps->dec);
	ps->dec = malloc((size_t)(ps->end - ps->p) * 3 + 1);
	ps->dec_len = 0;
	if (ps->p >= ps->end || *ps->p != '"')
		return false;
	ps->p++;
	while (ps->p < ps->end && *ps->p != '"') {
		size_t len;
		long cp;

		if (*ps->p < 0x20 || *ps->p == 0x7f)
			return false; /* the writer promises to escape DEL as well */
		if (*ps->p != '\\') {
			if (decode_utf8(ps->p, ps->end, &len) < 0)
				return false;
			memcpy(ps->dec + ps->dec_len, ps->p, len);
			ps->dec_len += len;
			ps->p += len;
			continue;
		}
		if (ps->end - ps->p < 2)
			return false;
		switch (ps->p[1]) {
		case '"':
		case '\\':
		case '/':
			put_utf8(ps, ps->p[1]);
			break;
		case 'b':
			put_utf8(ps, '\b');
			break;
		case 'f':
			put_utf8(ps, '\f');
			break;
		case 'n':
			put_utf8(ps, '\n');
			break;
		case 'r':
			put_utf8(ps, '\r');
			break;
		case 't':
			put_utf8(ps, '\t');
			break;
		case 'u':
			cp = 0;
			if (ps->end - ps->p < 6)
				return false;
			for (int i = 2; i < 6; i++) {
				int c = ps->p[i];
				int v = c >= '0' && c <= '9'   ? c - '0'
					: c >= 'a' && c <= 'f' ? c - 'a' + 10
					: c >= 'A' && c <= 'F' ? c - 'A' + 10
							       : -1;
				if (v < 0)
					return false;
				cp = cp << 4 | v;
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				return false; /* the writer never needs surrogate escapes */
			put_utf8(ps, cp);
			ps->p += 4;
			break;
		default:
			return false;
		}
		ps->p += 2;
	}
	if (ps->p >= ps->end)
		return false;
	ps->p++;
	ps->dec[ps->dec_len] = '\0';
	return true;
}

static bool parse_value(struct parser *ps, int depth);

static bool parse_container(struct parser *ps, int depth, char close, bool members)
{
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return true;
	}
	for (;;) {
		skip_ws(ps);
		if (members) {
			if (!parse_string(ps))
				return false;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return false;
			ps->p++;
		}
		if (!parse_value(ps, depth + 1))
			return false;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return false;
		if (*ps->p == close) {
			ps->p++;
			return true;
		}
		if (*ps->p != ',')
			return false;
		ps->p++;
	}
}

static bool parse_literal(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static bool parse_number(struct parser *ps)
{
	const unsigned char *start;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	start = ps->p;
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	if (ps->p == start || (*start == '0' && ps->p - start > 1))
		return false; /* no digits, or a leading zero */
	return true;	      /* the writer writes integers only */
}

static bool parse_value(struct parser *ps, int depth)
{
	if (depth > 100)
		return false;
	skip_ws(ps);
	if (ps->p >= ps->end)
		return false;
	switch (*ps->p) {
	case '{':
		return parse_container(ps, depth, '}', true);
	case '[':
		return parse_container(ps, depth, ']', false);
	case '"':
		return parse_string(ps);
	case 't':
		return parse_literal(ps, "true");
	case 'f':
		return parse_literal(ps, "false");
	case 'n':
		return parse_literal(ps, "null");
	default:
		return parse_number(ps);
	}
}

/* One JSON document, valid UTF-8, ending with exactly one newline. */
static bool valid_document(const char *text, size_t len, struct parser *ps)
{
	ps->p = (const unsigned char *)text;
	ps->end = ps->p + len;
	ps->dec = NULL;
	if (!valid_utf8(ps->p, len) || len < 2 || text[len - 1] != '\n')
		return false;
	if (!parse_value(ps, 0))
		return false;
	return ps->p == ps->end - 1;
}

TEST(members_and_elements_are_separated_by_exactly_one_comma)
{
	struct jsonw w;

	start(&w);
	jsonw_object_open(&w, NULL);
	jsonw_string(&w, "device", "0000:01:00.0");
	jsonw_int(&w, "iommu_group", -1);
	jsonw_uint(&w, "domain", 18446744073709551615ULL);
	jsonw_bool(&w, "claimed", true);
	jsonw_bool(&w, "force", false);
	jsonw_null(&w, "tag");
	jsonw_string(&w, "driver", NULL);
	jsonw_array_open(&w, "names");
	jsonw_array_close(&w);
	jsonw_object_open(&w, "empty");
	jsonw_object_close(&w);
	jsonw_array_open(&w, "holders");
	jsonw_object_open(&w, NULL);
	jsonw_int(&w, "pid", 1234);
	jsonw_stringf(&w, "class", "0x%06x", 0x30000);
	jsonw_object_close(&w);
	jsonw_object_open(&w, NULL);
	jsonw_int(&w, "pid", 99);
	jsonw_object_close(&w);
	jsonw_array_open(&w, NULL);
	jsonw_int(&w, NULL, 1);
	jsonw_int(&w, NULL, 2);
	jsonw_array_close(&w);
	jsonw_array_close(&w);
	jsonw_object_close(&w);
	CHECK_STR(out(),
		  "{\"device\":\"0000:01:00.0\",\"iommu_group\":-1,"
		  "\"domain\":18446744073709551615,\"claimed\":true,\"force\":false,"
		  "\"tag\":null,\"driver\":null,\"names\":[],\"empty\":{},"
		  "\"holders\":[{\"pid\":1234,\"class\":\"0x030000\"},{\"pid\":99},[1,2]]}\n");
	free(mem_buf);
}

TEST(each_top_level_value_ends_with_a_newline)
{
	struct jsonw w;

	start(&w);
	jsonw_array_open(&w, NULL);
	jsonw_array_close(&w);
	jsonw_int(&w, NULL, 7);
	jsonw_object_open(&w, NULL);
	jsonw_object_close(&w);
	CHECK_STR(out(), "[]\n7\n{}\n");
	free(mem_buf);
}

TEST(quotes_backslashes_and_control_characters_are_escaped)
{
	char *s = string_doc("q\" b\\ n\n t\t r\r b\b f\f 01\x01 1f\x1f 7f\x7f / ~");

	CHECK_STR(s, "\"q\\\" b\\\\ n\\n t\\t r\\r b\\b f\\f 01\\u0001 1f\\u001f 7f\\u007f / "
		     "~\"\n");
	free(s);
	s = string_doc("");
	CHECK_STR(s, "\"\"\n");
	free(s);
}

TEST(keys_are_escaped_like_values)
{
	struct jsonw w;

	start(&w);
	jsonw_object_open(&w, NULL);
	jsonw_string(&w, "a\"b\n\xff", "v");
	jsonw_object_close(&w);
	CHECK_STR(out(), "{\"a\\\"b\\n\\ufffd\":\"v\"}\n");
	free(mem_buf);
}

TEST(valid_utf8_passes_through_unchanged)
{
	/* 2, 3 and 4 bytes, and the edges: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF,
	 * U+10000, U+10FFFF */
	const char *in = "é € 𝄞 \xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 "
			 "\xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf";
	char *s = string_doc(in), *want = malloc(strlen(in) + 4);

	sprintf(want, "\"%s\"\n", in);
	CHECK_STR(s, want);
	free(s);
	free(want);
}

TEST(each_invalid_byte_becomes_one_replacement_character)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a\x80z", "\"a\\ufffdz\"\n" },		   /* lone continuation */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"\n" },		   /* overlong '/' */
		{ "\xc1\xbf", "\"\\ufffd\\ufffd\"\n" },		   /* overlong */
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"\n" }, /* overlong, 3 bytes */
		{ "\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n" }, /* overlong, 4 */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"\n" },	      /* surrogate U+D800 */
		{ "\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"\n" },	      /* surrogate U+DFFF */
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n" }, /* U+110000 */
		{ "\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n" }, /* lead 0xf5 */
		{ "x\xe2\x82", "\"x\\ufffd\\ufffd\"\n" },	     /* truncated at the end */
		{ "\xe2\x82x", "\"\\ufffd\\ufffdx\"\n" },	     /* truncated before ASCII */
		{ "\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"\n" },   /* truncated 4-byte */
		{ "\xff\xfe", "\"\\ufffd\\ufffd\"\n" },		     /* never in UTF-8 */
		{ "\xe2\x82\xe2\x82\xac", "\"\\ufffd\\ufffd€\"\n" }, /* truncated, then valid */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = string_doc(cases[i].in);

		CHECK_STR(s, cases[i].want);
		free(s);
	}
}

/* Bytes a fuzzer would try: mostly sequences that are almost UTF-8, some random. */
static size_t random_bytes(unsigned char *buf, size_t max, uint32_t *seed)
{
	static const unsigned char interesting[] = { 0x00, 0x01, 0x1f, 0x20, '"',  '\\', 0x7f,
						     0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
						     0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff };
	size_t n = 0, want;

#define RND() (*seed = *seed * 1103515245u + 12345u, (*seed >> 8) & 0xffffff)
	want = RND() % max;
	while (n < want) {
		uint32_t r = RND();
		uint32_t cp;

		switch (r % 4) {
		case 0: /* a valid code point, some of them near the surrogates and the top */
			cp = RND() % 0x110000;
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp -= 0x800;
			if (cp < 0x80)
				buf[n++] = (unsigned char)cp;
			else if (cp < 0x800 && n + 2 <= max) {
				buf[n++] = (unsigned char)(0xc0 | cp >> 6);
				buf[n++] = (unsigned char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000 && n + 3 <= max) {
				buf[n++] = (unsigned char)(0xe0 | cp >> 12);
				buf[n++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				buf[n++] = (unsigned char)(0x80 | (cp & 0x3f));
			} else if (n + 4 <= max) {
				buf[n++] = (unsigned char)(0xf0 | cp >> 18);
				buf[n++] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
				buf[n++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				buf[n++] = (unsigned char)(0x80 | (cp & 0x3f));
			} else
				buf[n++] = 'x';
			break;
		case 1:
			buf[n++] = interesting[RND() % sizeof(interesting)];
			break;
		case 2:
			buf[n++] = (unsigned char)(0x80 | (RND() & 0x3f)); /* continuation */
			break;
		default:
			buf[n++] = (unsigned char)RND();
		}
	}
#undef RND
	return n;
}

TEST(ten_thousand_random_byte_strings_give_valid_json_that_keeps_valid_text)
{
	unsigned char in[64 + 1];
	uint32_t seed = 20261130;
	int invalid_docs = 0, kept = 0, replaced = 0;

	for (int i = 0; i < 10000; i++) {
		size_t n = random_bytes(in, sizeof(in) - 1, &seed);
		struct parser ps;
		struct jsonw w;
		char *text;
		size_t len;

		in[n] = '\0';
		n = strlen((char *)in); /* a C string ends at its first NUL */
		start(&w);
		jsonw_object_open(&w, NULL);
		jsonw_string(&w, (char *)in, (char *)in);
		jsonw_array_open(&w, "a");
		jsonw_string(&w, NULL, (char *)in);
		jsonw_array_close(&w);
		jsonw_object_close(&w);
		text = out();
		len = mem_len;
		if (!valid_document(text, len, &ps)) {
			if (invalid_docs++ < 3)
				fprintf(stderr, "    invalid JSON for input %d: %s", i, text);
		} else if (valid_utf8(in, n)) {
			/* the last string decoded is the array's element: the input, unchanged */
			if (ps.dec_len == n && memcmp(ps.dec, in, n) == 0)
				kept++;
			else if (invalid_docs++ < 3)
				fprintf(stderr, "    valid input %d changed: %s", i, text);
		} else {
			if (strstr(ps.dec, "\xef\xbf\xbd"))
				replaced++;
			else if (invalid_docs++ < 3)
				fprintf(stderr, "    invalid input %d without U+FFFD: %s", i, text);
		}
		free(ps.dec);
		free(text);
	}
	CHECK(invalid_docs == 0);
	/* the generator must exercise both paths, or this test proves little */
	CHECK(kept > 500);
	CHECK(replaced > 500);
}

enum misuse { KEY_IN_ARRAY, NO_KEY_IN_OBJECT, WRONG_CLOSE, CLOSE_TOP, TOO_DEEP, NONE };

/* Whether the misuse kills a child with SIGABRT (the sanitizers' reports are not wanted here). */
static bool aborts(enum misuse m)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct jsonw w;

		signal(SIGABRT, SIG_DFL);
		jsonw_init(&w, fopen("/dev/null", "w"));
		jsonw_object_open(&w, NULL);
		jsonw_array_open(&w, "a");
		switch (m) {
		case KEY_IN_ARRAY:
			jsonw_int(&w, "k", 1);
			break;
		case NO_KEY_IN_OBJECT:
			jsonw_array_close(&w);
			jsonw_int(&w, NULL, 1);
			break;
		case WRONG_CLOSE:
			jsonw_object_close(&w);
			break;
		case CLOSE_TOP:
			jsonw_array_close(&w);
			jsonw_object_close(&w);
			jsonw_object_close(&w);
			break;
		case TOO_DEEP:
			for (int i = 0; i < JSONW_MAX_DEPTH; i++)
				jsonw_array_open(&w, NULL);
			break;
		case NONE:
			for (int i = 0; i < JSONW_MAX_DEPTH - 2; i++)
				jsonw_array_open(&w, NULL);
			jsonw_int(&w, NULL, 1);
			break;
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

TEST(misuse_that_would_write_invalid_json_aborts)
{
	CHECK(aborts(KEY_IN_ARRAY));
	CHECK(aborts(NO_KEY_IN_OBJECT));
	CHECK(aborts(WRONG_CLOSE));
	CHECK(aborts(CLOSE_TOP));
	CHECK(aborts(TOO_DEEP));
	CHECK(!aborts(NONE));
}

UNIT_MAIN(UNIT_T(members_and_elements_are_separated_by_exactly_one_comma),
	  UNIT_T(each_top_level_value_ends_with_a_newline),
	  UNIT_T(quotes_backslashes_and_control_characters_are_escaped),
	  UNIT_T(keys_are_escaped_like_values), UNIT_T(valid_utf8_passes_through_unchanged),
	  UNIT_T(each_invalid_byte_becomes_one_replacement_character),
	  UNIT_T(ten_thousand_random_byte_strings_give_valid_json_that_keeps_valid_text),
	  UNIT_T(misuse_that_would_write_invalid_json_aborts))
