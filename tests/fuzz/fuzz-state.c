// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: state files (SPEC §9), key=value lines.
 * 1. Any text: kv_parse(), kv_format(), kv_parse() again gives the same pairs, in order; no key
 *    is empty or holds '=' or a newline, no value holds a newline.
 * 2. The input as KEY\0VALUE\0KEY\0VALUE...: kv_set() each pair, then kv_format() and kv_parse():
 *    every pair whose key is non-empty and has no '=' or newline comes back with its last value
 *    (newlines in values written as spaces), whatever the other pairs hold.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "state.h"

static int key_ok(const char *k)
{
	return *k && !strchr(k, '=') && !strchr(k, '\n');
}

static void round_trip_text(const char *text)
{
	struct kv a, b;
	char *t;

	kv_parse(&a, text);
	t = kv_format(&a);
	kv_parse(&b, t);
	FUZZ_ASSERT(a.keys.n == a.values.n && a.keys.n == b.keys.n && b.keys.n == b.values.n);
	for (size_t i = 0; i < a.keys.n; i++) {
		FUZZ_ASSERT(key_ok(a.keys.v[i]) && !strchr(a.values.v[i], '\n'));
		FUZZ_ASSERT(strcmp(a.keys.v[i], b.keys.v[i]) == 0);
		FUZZ_ASSERT(strcmp(a.values.v[i], b.values.v[i]) == 0);
	}
	free(t);
	kv_free(&a);
	kv_free(&b);
}

static void round_trip_pairs(const uint8_t *data, size_t size)
{
	struct strv parts = { 0 };
	struct kv kv = { 0 }, back;
	const uint8_t *p = data, *end = data + size;
	char *t;

	while (p < end) {
		const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
		size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);

		strv_push(&parts, fuzz_string(p, n));
		p += n + 1;
	}
	for (size_t i = 0; i + 1 < parts.n; i += 2) {
		/*
		 * kv_set() aborts on a key that would read back as another ("x\nstate",
		 * "state=released", corpus state/known-key-injection-*) or an empty one: the
		 * program's keys are constants, such a key is a bug of the caller. Not fuzzed.
		 */
		if (!*parts.v[i] || !key_ok(parts.v[i]))
			goto out;
		kv_set(&kv, parts.v[i], parts.v[i + 1]);
	}
	t = kv_format(&kv);
	kv_parse(&back, t);
	for (size_t i = 0; i + 1 < parts.n; i += 2) {
		const char *key = parts.v[i], *got;
		char *want;

		if (!key_ok(key))
			continue;
		want = strdup(kv_get(&kv, key));
		for (char *c = want; *c; c++)
			if (*c == '\n')
				*c = ' ';
		got = kv_get(&back, key);
		if (!got || strcmp(got, want) != 0) {
			fprintf(stderr, "key '%s': '%s' written, '%s' read back\n", key, want,
				got ? got : "(none)");
			FUZZ_ASSERT(!"a key/value pair lost or changed in the round trip");
		}
		free(want);
	}
	free(t);
	kv_free(&back);
out:
	kv_free(&kv);
	strv_free(&parts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);

	round_trip_text(text);
	round_trip_pairs(data, size);
	free(text);
	return 0;
}
