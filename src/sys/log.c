// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one log sink: stderr, and the kernel log when a boot stage asks for it.
 * Helpers never print; commands log once, at the caller.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int verbosity;
static int kmsg_fd = -1;
static bool holding;
static struct strv held;
static char *held_error;

void log_set_verbose(int verbose)
{
	verbosity = verbose;
}

int log_get_verbose(void)
{
	return verbosity;
}

void log_open_kmsg(void)
{
	char *path;

	if (kmsg_fd >= 0)
		return;
	path = root_path("/dev/kmsg");
	kmsg_fd = open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
	free(path);
}

void log_hold(void)
{
	holding = true;
}

void log_held_flush(void)
{
	for (size_t i = 0; i < held.n; i++)
		fprintf(stderr, "%s\n", held.v[i]);
	strv_free(&held);
}

bool log_holding(void)
{
	return holding;
}

const char *log_held_error(void)
{
	return held_error;
}

void log_close(void)
{
	strv_free(&held);
	free(held_error);
	held_error = NULL;
	holding = false;
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = -1;
}

static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[LOG_LVL_ERR] = "error: ",
		[LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_INFO] = "",
		[LOG_LVL_DEBUG] = "debug: ",
	};
	char msg[2048];

	if (lvl == LOG_LVL_DEBUG && verbosity < 1)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (holding && lvl != LOG_LVL_DEBUG) {
		if (lvl == LOG_LVL_ERR && !held_error)
			held_error = xstrdup(msg);
		strv_push(&held, xasprintf("vfio-claim: %s%s", prefix[lvl], msg));
		return;
	}
	/*
	 * In the boot stages the kernel log is the one sink: the initramfs scripts' stderr is the
	 * console, which shows the kernel log too, dracut logs its hooks' output to the kernel
	 * log again, and udevd sends its programs' stderr to the journal, which has the kernel
	 * log: each message would appear twice.
	 */
	if (kmsg_fd < 0 || lvl == LOG_LVL_DEBUG)
		fprintf(stderr, "vfio-claim: %s%s\n", prefix[lvl], msg);
	if (kmsg_fd >= 0 && lvl != LOG_LVL_DEBUG) {
		char line[2200];
		int n =
		    snprintf(line, sizeof(line), "<%d>vfio-claim: %s%s\n", lvl, prefix[lvl], msg);
		if (n > 0 && write(kmsg_fd, line,
				   (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0) {
			/* the kernel log is best effort: stderr already has the message */
		}
	}
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
