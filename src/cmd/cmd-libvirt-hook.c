// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `libvirt-hook`: libvirt's qemu hook (/etc/libvirt/hooks/qemu.d/vfio-claim, a link to the
 * program; main.c runs this command for it). libvirt runs it as "HOOK GUEST OPERATION
 * SUBOPERATION EXTRA" with the domain XML on standard input, and refuses to start the guest when
 * it exits non-zero at "prepare begin", showing what it printed. So:
 *
 *   prepare begin  the guest's PCI hostdevs: a when=guest device is claimed for it (whole IOMMU
 *                  group, every safety rule); one that a claim at boot has, or that is on a
 *                  VFIO driver already, is checked; a managed='yes' hostdev that no claim line
 *                  names is libvirt's to detach, after this hook; any other is an error. All or
 *                  nothing, and one line on failure.
 *   release end    release --guest GUEST: what no other guest holds goes back.
 *   anything else  nothing (exit 0 at once).
 *
 * It never calls back into libvirtd (libvirt forbids it from a hook) and never runs a shell.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domxml.h"
#include "guest.h"
#include "log.h"

/* Standard input to its end: libvirt writes the whole document, whatever we need of it. */
static int read_stdin(char **buf, size_t *len, bool keep)
{
	char chunk[65536];
	size_t cap = 0;

	*buf = NULL;
	*len = 0;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EBADF ? 0 : -errno; /* no standard input: an empty one */
		if (n == 0)
			break;
		if (!keep)
			continue;
		if (*len + (size_t)n > DOMXML_MAX_SIZE) {
			keep = false;
			*len = DOMXML_MAX_SIZE + 1;
			continue; /* drained, then refused */
		}
		if (*len + (size_t)n + 1 > cap) {
			cap = (*len + (size_t)n + 1) * 2;
			*buf = xrealloc(*buf, cap);
		}
		memcpy(*buf + *len, chunk, (size_t)n);
		*len += (size_t)n;
	}
	if (*len > DOMXML_MAX_SIZE)
		return -EFBIG;
	if (*buf)
		(*buf)[*len] = '\0';
	return 0;
}

/* Says the one line libvirt shows, and keeps the rest (kept messages) for the log: 1. */
static int refuse(const char *guest, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(const char *guest, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vfio-claim: %s: ", guest);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_RUNTIME;
}

static int prepare(const char *guest)
{
	const struct guest_starter who = { .kind = "libvirt" };
	struct domxml dom;
	struct session s;
	char *buf = NULL, *err = NULL, *why = NULL;
	bool *want = NULL;
	size_t len = 0;
	int r, ret = 0;

	r = read_stdin(&buf, &len, true);
	if (r == -EFBIG) {
		free(buf);
		return refuse(guest, "domain XML on standard input is larger than %u bytes",
			      DOMXML_MAX_SIZE);
	}
	if (r < 0) {
		free(buf);
		return refuse(guest, "cannot read the domain XML on standard input: %s",
			      strerror(-r));
	}
	r = domxml_parse(buf ? buf : "", len, &dom, &err);
	free(buf);
	if (r < 0) {
		ret = refuse(guest, "domain XML: %s", err ? err : strerror(-r));
		free(err);
		return ret;
	}
	if (!dom.nhostdevs) {
		domxml_free(&dom);
		return 0; /* nothing of ours: fast, and nothing read from sysfs */
	}
	log_hold();
	if (session_open(&s) < 0) {
		domxml_free(&dom);
		return refuse(guest, "cannot read the PCI devices: %s",
			      log_held_error() ? log_held_error() : "unknown error");
	}
	s.guests = true;
	session_plan(&s, NULL);
	want = xcalloc(s.devs.n, sizeof(bool));
	for (size_t k = 0; k < dom.nhostdevs && !ret; k++) {
		const struct domxml_hostdev *h = &dom.hostdevs[k];
		char addr[32];
		int i;

		snprintf(addr, sizeof(addr), "%04x:%02x:%02x.%x", h->domain, h->bus, h->slot,
			 h->function);
		i = pci_find(&s.devs, addr);
		if (i < 0) {
			ret = refuse(guest, "%s: no such PCI device on this host", addr);
			break;
		}
		/* managed='yes' that no claim line names: libvirt detaches it after this hook */
		if (h->managed && s.plan.v[i].decision == DEC_KEEP)
			continue;
		want[i] = true;
	}
	if (!ret) {
		r = guest_claim(&s, guest, &who, want, &why);
		if (r == -EIO && log_held_error())
			ret = refuse(guest, "%s; nothing was claimed for this guest",
				     log_held_error());
		else if (r < 0)
			ret = refuse(guest, "%s", why);
	}
	if (!ret)
		log_held_flush(); /* libvirt keeps a successful hook's output in its log */
	free(why);
	free(want);
	session_close(&s);
	domxml_free(&dom);
	return ret;
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	const char *guest, *op, *sub;
	char *buf = NULL;
	size_t len;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, true);
	if (r >= 0)
		return r;
	if (argc - optind < 3 || argc - optind > 4) {
		log_error("libvirt-hook takes GUEST OPERATION SUBOPERATION [EXTRA], as libvirt "
			  "runs its qemu hooks");
		fprintf(stderr, "Try 'vfio-claim libvirt-hook --help' for more information.\n");
		return EXIT_USAGE;
	}
	guest = argv[optind];
	op = argv[optind + 1];
	sub = argv[optind + 2];
	if (streq(op, "prepare") && streq(sub, "begin"))
		return prepare(guest);
	/* every other operation: the document read to its end (libvirt writes it all), and
	 * nothing else done */
	read_stdin(&buf, &len, false);
	if (streq(op, "release") && streq(sub, "end"))
		return guest_give_back(guest) < 0 ? EXIT_RUNTIME : 0;
	return 0;
}

const struct cmd cmd_libvirt_hook = {
	.name = "libvirt-hook",
	.args = "GUEST OPERATION SUBOPERATION [EXTRA]",
	.help = "libvirt's qemu hook (domain XML on standard input): claims a guest's devices at "
		"'prepare begin', gives them back at 'release end'",
	.run = run,
};
