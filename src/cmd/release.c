// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Giving a device back to its host driver with the claimed members of its IOMMU group: the
 * mechanics that `release` and the stop of a device's last guest (guest.c) share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "cmd.h"
#include "console.h"
#include "guest-record.h"
#include "log.h"
#include "sriov.h"

bool held_by_vfio(const struct pci_dev *d)
{
	char *override = NULL;
	bool r = pci_on_vfio(d);

	if (!r && pci_read_attr(d, "driver_override", &override) == 0)
		r = streq(override, "vfio-pci") || pci_driver_is_vfio_variant(override);
	free(override);
	return r;
}

/*
 * Single-GPU passthrough: the consoles a claim unbound (its record), restored now that the host
 * driver is back, and the record cleared; what could not be restored stays recorded. 0, or the
 * negative errno of the first failure (logged).
 */
static int restore_consoles(struct pci_dev *d, struct kv *st)
{
	struct console_taken con, left = { 0 };
	int r = 0;

	if (console_from_record(st, &con) < 0)
		log_warn("%s: its state entry names consoles or framebuffers that vfio-claim does "
			 "not unbind, ignoring them",
			 d->addr);
	if (!console_taken_empty(&con))
		r = session_restore_console(d->addr, &con, &left);
	console_record(&left, st);
	console_taken_free(&con);
	console_taken_free(&left);
	return r;
}

/*
 * What a release did, for the person: on stdout (stderr with --json, where stdout is the
 * document), or kept with the other messages when a hook must say one line (log_hold()).
 */
static void say(bool json, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(bool json, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (log_holding())
		log_info("%s", strip(msg));
	else
		fputs(msg, json ? stderr : stdout);
	free(msg);
}

/* state: "released" (by hand), or "returned" (its last guest stopped: the holders go) */
static int release_one(struct session *s, struct pci_dev *d, bool json, const char *state)
{
	struct bind_error err = { { 0 } };
	struct kv st = { 0 };
	char buf[64];
	int lock, r, ret = 0;

	state_prepare();
	lock = state_lock();
	state_read(d->addr, &st);
	r = bind_release(session_modules(s), d, kv_get(&st, "host_module"), &err);
	if (r < 0) {
		log_error("%s: %s failed: %s", d->addr, err.step, errstr(r));
		ret = r;
		goto out;
	}
	/* with --json, stdout is the JSON document */
	if (d->driver && streq(state, "returned"))
		say(json, "%s: given back to '%s' (no guest holds it)\n", d->addr, d->driver);
	else if (streq(state, "returned"))
		say(json, "%s: given back; no host driver took it (no guest holds it)\n", d->addr);
	else if (d->driver)
		say(json, "%s: released, now bound to '%s'\n", d->addr, d->driver);
	else
		say(json, "%s: released; no host driver took it\n", d->addr);
	/* after the host driver, never before; a console left unbound fails the release */
	if (restore_consoles(d, &st) < 0)
		ret = -EIO;
	if (!kv_get(&st, "address"))
		kv_set(&st, "address", d->addr);
	kv_set(&st, "state", state);
	if (streq(state, "returned")) {
		struct strv names;

		guest_holders(&st, &names);
		for (size_t k = 0; k < names.n; k++) {
			char *key = xasprintf("guest.%s", names.v[k]);
			kv_del(&st, key);
			free(key);
		}
		strv_free(&names);
		kv_del(&st, "guests");
		kv_del(&st, "lifecycle");
	}
	kv_set(&st, "driver", d->driver ? d->driver : "none");
	format_now(buf, sizeof(buf));
	kv_set(&st, "released", buf);
	r = state_write(d->addr, &st);
	/*
	 * /run read-only or full: the kernel keeps the release instead. An override naming the
	 * host driver lets only that driver have the device, and no claim but one by hand
	 * overrides it (claim_group()), so a udev replay this boot does not take it again.
	 */
	if (r < 0 && d->driver && bind_pin(d) == 0)
		log_warn(
		    "%s: cannot record the release in the state directory (%s): its "
		    "driver_override now names '%s' instead, so that nothing claims it again this "
		    "boot; 'vfio-claim claim %s' does",
		    d->addr, state_strerror(r), d->driver, d->addr);
	else if (r < 0)
		log_warn("%s: cannot record the release in the state directory: %s; a udev event "
			 "for it this boot may claim it again",
			 d->addr, state_strerror(r));
out:
	kv_free(&st);
	state_unlock(lock);
	return ret;
}

/* The last claimed VF of a PF released: the PF's sriov_drivers_autoprobe as it was. */
static void sriov_released(struct session *s, size_t i)
{
	int r = sriov_release_done(s, i);

	if (r > 0)
		log_info("%s: sriov_drivers_autoprobe restored (its last claimed virtual function "
			 "was released)",
			 s->devs.v[i].physfn);
	else if (r < 0)
		log_warn("%s: cannot restore sriov_drivers_autoprobe: %s, ignoring",
			 s->devs.v[i].physfn, errstr(r));
}

/*
 * Releases device i with the other claimed functions of its IOMMU group (SPEC §7): a group split
 * between vfio-pci and host drivers is unusable to vfio. Says which went along when they were
 * not asked for. Clears want[] and sets touched[] for the members it handled; json: its
 * messages stay off stdout. 0, or a negative errno.
 */
int release_group(struct session *s, size_t i, bool *want, bool *touched, bool json,
		  const char *state)
{
	int g = s->devs.v[i].iommu_group;
	struct strv along = { 0 };
	size_t *members = xcalloc(s->devs.n, sizeof(size_t)), n = 0;
	char *holders, *names = NULL;
	int r = 0;

	for (size_t j = 0; j < s->devs.n; j++) {
		const struct pci_dev *m = &s->devs.v[j];

		if (j != i &&
		    (g < 0 || m->iommu_group != g || pci_is_bridge(m) || !held_by_vfio(m)))
			continue;
		members[n++] = j;
		if (!want[j])
			strv_push(&along, xstrdup(m->addr));
		want[j] = false;
	}
	if (g >= 0 && (holders = holders_describe(session_holders(s), g))) {
		log_error("%s: /dev/vfio/%d is in use by %s: stop it first, then release",
			  s->devs.v[i].addr, g, holders);
		free(holders);
		r = -EBUSY;
		goto out;
	}
	for (size_t k = 0; k < along.n; k++) {
		char *t = xasprintf("%s%s%s", names ? names : "",
				    !names	      ? ""
				    : k + 1 < along.n ? ", "
						      : " and ",
				    along.v[k]);
		free(names);
		names = t;
	}
	if (names)
		log_info("%s: releasing %s with it: the same IOMMU group %d, which vfio can use "
			 "only whole",
			 s->devs.v[i].addr, names, g);
	for (size_t k = 0; k < n; k++) {
		touched[members[k]] = true;
		if (release_one(s, &s->devs.v[members[k]], json, state) < 0)
			r = -EIO;
		else
			sriov_released(s, members[k]);
	}
out:
	free(names);
	strv_free(&along);
	free(members);
	return r;
}
