/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

/* A tiny JSON writer: the caller writes the structure, these write escaped values. */
void json_str(FILE *f, const char *s); /* null for NULL */
void json_kv_str(FILE *f, const char *key, const char *value, int *first);
void json_kv_int(FILE *f, const char *key, long value, int *first);
void json_kv_bool(FILE *f, const char *key, int value, int *first);
