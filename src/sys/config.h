/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "match.h"

enum group_policy { GROUP_STRICT, GROUP_WHOLE };

struct perms {
	char *owner, *group; /* names or numbers, NULL: unchanged */
	int mode;	     /* -1: unchanged */
};

struct rule {
	struct selector *sels;
	size_t nsels;
	bool force;
	bool plain_vfio; /* driver=vfio-pci: never a VFIO variant driver */
	bool guest;	 /* when=guest: follows its guests, never claimed at boot */
	char *tag;
	struct perms perms;
	char *origin; /* "FILE:LINE" or "cmdline" */
};

struct rules {
	struct rule *v;
	size_t n;
};

struct config_error {
	char *file; /* "vfio_claim" and friends for the kernel command line */
	unsigned line;
	char *message;
};

struct config {
	struct rules claims, excludes;
	struct perms perms; /* default for /dev/vfio/N */
	bool allow_boot_vga, keep_usb;
	enum group_policy group_policy;
	bool off; /* vfio_claim=off */
	/*
	 * Where an exclude could not be parsed ("FILE:LINE", a file, or "vfio_claim.exclude"): the
	 * devices it meant are unknown, so nothing is claimed from the configuration this boot.
	 */
	char *exclude_unknown;
	/* Checks owner=/group= names while parsing (config_load sets it), or NULL: 0 or -errno */
	int (*check_name)(bool group, const char *name);
	char *root_arg, *usr_arg; /* root= and mount.usr= from the command line */
	struct config_error *errors;
	size_t nerrors;
	struct strv files;	  /* files read, in order */
	struct strv broken_files; /* files not applied because of errors */
};

/*
 * A digest of the configuration files (names and contents, as config_load() chooses them):
 * the image carries the one it was built from, so that the running system can tell when the
 * configuration changed since (SPEC §8). 16 hex digits.
 */
char *config_digest(void);
/* A user, group or tag name as a claim line takes it: letters, digits, '_', '-', '.'. */
bool config_valid_name(const char *s);

#define IMAGE_DIGEST "/etc/vfio-claim/config-digest" /* in the image */
#define BOOT_DIGEST  "image-config-digest"	     /* in the state directory: this boot's image */
/* Reads the configuration folders and the kernel command line under the root. */
void config_load(struct config *cfg);
/* The configuration folders only, without the kernel command line. */
void config_load_files(struct config *cfg);
/*
 * The files config_load() reads, as paths under the root (/etc/vfio-claim.d/NAME.conf): those of
 * /usr/lib/vfio-claim.d and /etc/vfio-claim.d, a file in /etc replacing the same-named one in
 * /usr/lib, in lexical order of file name. Masked files are listed too.
 */
void config_files(struct strv *paths);
/* The file (a path under the root) is masked: a symlink to /dev/null. */
bool config_file_masked(const char *path);
/*
 * One line (without its newline) cut as config_parse_text() cuts it: the words before the
 * comment, as offsets into the line. 0, or -EINVAL for a control character (no words then).
 */
struct config_word {
	size_t start, len;
};
int config_line_words(const char *line, struct config_word **words, size_t *n);
void config_free(struct config *cfg);
/* One configuration file's text: exported for the tests and for `claim` arguments. */
void config_parse_text(struct config *cfg, const char *file, const char *text);
/* The same for len bytes that may hold NUL bytes (an error at their line). */
void config_parse_buf(struct config *cfg, const char *file, const char *text, size_t len);
void config_parse_cmdline(struct config *cfg, const char *cmdline);
/* Splits the kernel command line like the kernel does: spaces, with "double quotes". */
void cmdline_split(const char *s, struct strv *out);
int config_parse_rule_args(struct rule *rule, char **argv, size_t argc, bool allow_options,
			   const char **bad, const char **why);
void rule_free(struct rule *r);
void config_add_error(struct config *cfg, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
