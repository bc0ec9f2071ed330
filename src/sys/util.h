/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b)   (strcmp((a), (b)) == 0)

/* Growable array of pointers, NULL-terminated. */
struct strv {
	char **v;
	size_t n, cap;
};

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void strv_push(struct strv *sv, char *s); /* takes ownership */
void strv_free(struct strv *sv);
bool strv_contains(const struct strv *sv, const char *s);
/* The strings with sep between them ("" for none), allocated. */
char *strv_join(const struct strv *sv, const char *sep);
void strv_sort(struct strv *sv);
/* qsort/bsearch comparison of two "char *" elements */
int strv_cmp(const void *a, const void *b);

/*
 * The root prefix: every absolute path the program touches goes through root_path().
 * An empty root means the running system.
 */
int root_set(const char *dir);
const char *root_get(void);
bool root_is_host(void);
char *root_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* File helpers: 0 or a negative errno. */
int read_text(const char *path, char **out); /* whole file, trailing newline stripped */
/*
 * The rest of an open file, at most max bytes (-EFBIG beyond), trailing newlines stripped;
 * *length (if not NULL): its length, which counts any NUL bytes in it.
 */
int read_fd(int fd, char **out, size_t max, size_t *length);
int read_line_at(int dirfd, const char *name, char *buf, size_t size);
int write_attr(const char *path, const char *value); /* one write(), like echo > sysfs */
int write_atomic(const char *path, const char *content, unsigned mode);
/* The same in the folder dirfd: a temporary file created there exclusively, then renamed. */
int write_atomic_at(int dirfd, const char *name, const char *content, unsigned mode);
int read_link_name(const char *path, char **name); /* basename of a symlink's target */
/*
 * The root's /proc/cmdline (trailing newline stripped), read once per run and root: the
 * configuration, modprobe's options and the resume device all come from one read. 0 and *text
 * (owned by the cache, valid until the root changes), or a negative errno.
 */
int root_cmdline(const char **text);
int mkdir_p(const char *path, unsigned mode);

bool parse_hex(const char *s, size_t len, unsigned long max, unsigned long *out);
char *strip(char *s);
const char *errstr(int negerrno);
/* The current time as "2026-11-22T06:00:00Z" (UTC, ISO 8601), for state files. */
void format_now(char *buf, size_t size);
void format_time(time_t t, char *buf, size_t size);
