/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny harness for the C unit tests in tests/unit/: each file defines TEST(name) functions and
 * ends with UNIT_MAIN(test, ...). Every test prints "ok - FILE: name" or "not ok - FILE: name"
 * with the failed check; the program exits 1 if any failed. tests/run-unit.sh counts the lines.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed_checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "    %s:%d: check failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			unit_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                           \
			fprintf(stderr, "    %s:%d: '%s' is '%s', expected '%s'\n", __FILE__,      \
				__LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
			unit_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

/* CHECK_CONTAINS(haystack, needle): haystack is not NULL and contains needle */
#define CHECK_CONTAINS(h, n)                                                                       \
	do {                                                                                       \
		const char *h_ = (h), *n_ = (n);                                                   \
		if (!h_ || !strstr(h_, n_)) {                                                      \
			fprintf(stderr, "    %s:%d: '%s' is '%s', which lacks '%s'\n", __FILE__,   \
				__LINE__, #h, h_ ? h_ : "(null)", n_);                             \
			unit_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define TEST(name) static void name(void)

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define UNIT_T(fn)                                                                                 \
	{                                                                                          \
#fn, fn                                                                            \
	}

static inline int unit_run(const char *file, const struct unit_test *t, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		int before = unit_failed_checks;
		t[i].fn();
		if (unit_failed_checks > before) {
			printf("not ok - %s: %s\n", file, t[i].name);
			failed++;
		} else
			printf("ok - %s: %s\n", file, t[i].name);
	}
	fflush(stdout);
	return failed ? 1 : 0;
}

#define UNIT_MAIN(...)                                                                             \
	int main(void)                                                                             \
	{                                                                                          \
		static const struct unit_test tests_[] = { __VA_ARGS__ };                          \
		const char *f_ = strrchr(__FILE__, '/');                                           \
		return unit_run(f_ ? f_ + 1 : __FILE__, tests_,                                    \
				sizeof(tests_) / sizeof(tests_[0]));                               \
	}
