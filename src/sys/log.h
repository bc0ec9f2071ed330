/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void log_set_verbose(int verbose);
int log_get_verbose(void);
/*
 * The boot stages (initramfs, udev): messages go to the kernel log instead of stderr, once it
 * could be opened (stderr is the console or the journal there, which show the kernel log).
 */
void log_open_kmsg(void);
void log_close(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A hook that must say one line (libvirt's): messages are kept instead of printed from
 * log_hold() on; log_held_flush() prints those kept, log_held_error() is the first error's text.
 */
void log_hold(void);
void log_held_flush(void);
const char *log_held_error(void);
bool log_holding(void);

#define log_error(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
