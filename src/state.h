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

int state_prepare(void);
/* Serializes claims and releases between processes (parallel udev workers). */
int state_lock(void);
void state_unlock(int fd);
int state_read(const char *addr, struct kv *kv);
int state_write(const char *addr, const struct kv *kv);
int state_list(struct strv *addrs);
/* The devices released by hand this boot (state=released), sorted. */
int state_released(struct strv *addrs);
/* A file beside the device entries, e.g. "config-errors". */
int state_write_file(const char *name, const char *content);
int state_remove_file(const char *name);
