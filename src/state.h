/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "util.h"

/* One state file: key=value lines a person reads with cat. */
struct kv {
	struct strv keys, values;
};

const char *kv_get(const struct kv *kv, const char *key);
void kv_set(struct kv *kv, const char *key, const char *value);
void kv_free(struct kv *kv);
char *kv_format(const struct kv *kv);
/* "key=value" lines into kv (lines without '=' are skipped). */
void kv_parse(struct kv *kv, const char *text);

/*
 * Creates /run/vfio-claim and its devices folder (0755 whatever the umask), or checks the
 * existing ones: not links, root's, writable by nobody else (a wrong mode of ours is repaired).
 * 0, or -ELOOP (a link), -EPERM (not trusted), another negative errno.
 */
int state_prepare(void);
/* What a state error means for a person: "not trusted; remove it" for -ELOOP and -EPERM. */
const char *state_strerror(int r);
/* Serializes claims and releases between processes (parallel udev workers). */
int state_lock(void);
void state_unlock(int fd);
int state_read(const char *addr, struct kv *kv);
int state_write(const char *addr, const struct kv *kv);
int state_list(struct strv *addrs);
/* The devices released by hand this boot (state=released), sorted. */
int state_released(struct strv *addrs);
/* A file beside the device entries, e.g. "config-errors". */
int state_read_file(const char *name, char **text);
int state_write_file(const char *name, const char *content);
int state_remove_file(const char *name);
