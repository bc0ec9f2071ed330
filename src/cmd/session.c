// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the commands share: gathering the inputs of the plan (devices, configuration, the
 * protected devices, the devices released this boot), and claiming one device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "cmd.h"
#include "console.h"
#include "log.h"
#include "modload.h"
#include "perms.h"
#include "variant.h"

int session_open(struct session *s)
{
	int r;

	/*
	 * A session reads this boot's entries anew: a process that opens a second one (`run`, at
	 * its guest's exit, hours later) must not plan from the first one's reads.
	 */
	state_forget();
	memset(s, 0, sizeof(*s));
	r = pci_scan(&s->devs);
	if (r < 0) {
		log_error("cannot read PCI devices from '%s/sys/bus/pci/devices': %s", root_get(),
			  errstr(r));
		return r;
	}
	config_load(&s->cfg);
	rootdev_find(&s->cfg, &s->devs, &s->protected);
	for (size_t i = 0; i < s->protected.bad_record_lines.n; i++)
		log_warn("%s/etc/vfio-claim/root-devices: %s, ignoring", root_get(),
			 s->protected.bad_record_lines.v[i]);
	state_released(&s->released);
	return 0;
}

/* Why the summary cannot be used, for -v. */
static const char *summary_strerror(int r)
{
	if (r == -ESTALE)
		return "written on another boot, or this boot's id cannot be read";
	if (r == -EBADMSG)
		return "not what vfio-claim writes";
	return state_strerror(r);
}

int session_open_event(struct session *s, const struct strv *addrs)
{
	struct summary sum;
	struct strv seeds = { 0 };
	int r;

	state_forget(); /* as session_open() */
	r = summary_read(&sum);
	if (r < 0) {
		/* missing, stale or untrusted: every device once, and a new summary for the next */
		log_debug("'%s/run/vfio-claim/%s' cannot be used (%s): reading every PCI device",
			  root_get(), SUMMARY_FILE, summary_strerror(r));
		r = session_open(s);
		if (r < 0)
			return r;
		summary_from(&sum, &s->devs);
		r = state_prepare();
		if (r == 0)
			r = summary_write(&sum);
		if (r < 0)
			log_debug("cannot write '%s/run/vfio-claim/%s': %s", root_get(),
				  SUMMARY_FILE, summary_strerror(r));
		summary_free(&sum);
		return 0;
	}
	memset(s, 0, sizeof(*s));
	config_load(&s->cfg);
	for (size_t i = 0; i < addrs->n; i++)
		strv_push(&seeds, xstrdup(addrs->v[i]));
	/* the last-USB rule weighs every USB controller of the machine, each with its group */
	if (s->cfg.keep_usb && !pci_have_i8042())
		for (size_t i = 0; i < sum.usb.n; i++)
			strv_push(&seeds, xstrdup(sum.usb.v[i]));
	r = pci_read_around(&s->devs, &seeds);
	if (r < 0) {
		log_error("cannot read PCI devices from '%s/sys/bus/pci/devices': %s", root_get(),
			  errstr(r));
		session_close(s);
		goto out;
	}
	s->devs.have_iommu = s->devs.have_iommu || sum.have_iommu;
	/* a USB controller added since the summary was written: the next events weigh it too */
	for (size_t i = 0; i < addrs->n; i++) {
		int k = pci_find(&s->devs, addrs->v[i]);

		if (k < 0 || !pci_is_usb(&s->devs.v[k]) || strv_contains(&sum.usb, addrs->v[i]))
			continue;
		strv_push(&sum.usb, xstrdup(addrs->v[i]));
		strv_sort(&sum.usb);
		if (summary_write(&sum) < 0)
			log_debug("cannot add %s to '%s/run/vfio-claim/%s'", addrs->v[i],
				  root_get(), SUMMARY_FILE);
	}
	rootdev_find(&s->cfg, &s->devs, &s->protected);
	for (size_t i = 0; i < s->protected.bad_record_lines.n; i++)
		log_warn("%s/etc/vfio-claim/root-devices: %s, ignoring", root_get(),
			 s->protected.bad_record_lines.v[i]);
	state_released_of(&s->devs, &s->released);
out:
	strv_free(&seeds);
	summary_free(&sum);
	return r;
}

/*
 * The driver another tool or a failed release pinned the device to through driver_override
 * ("" and "(null)" are no override), or NULL.
 */
static char *pinned_driver(const struct pci_dev *d)
{
	char *o = NULL;

	if (pci_read_attr(d, "driver_override", &o) == 0 && *o && !streq(o, "(null)") &&
	    !streq(o, "vfio-pci") && !pci_driver_is_vfio_variant(o))
		return o;
	free(o);
	return NULL;
}

void session_plan(struct session *s, const struct rule *manual)
{
	struct strv pinned = { 0 };
	struct plan_input in = {
		.devs = &s->devs,
		.cfg = &s->cfg,
		.protected = &s->protected,
		.released = &s->released,
		.manual = manual,
		.guests = s->guests,
	};

	plan_free(&s->plan);
	variant_find(&s->devs, &s->cfg, manual,
		     session_modules(s)); /* VFIO variant drivers of the devices a claim may take */
	plan_build(&s->plan, &in);
	/*
	 * Only what the plan would claim can be pinned away from it: their overrides are read,
	 * and the plan made again with them, so that every command tells the same story.
	 */
	for (size_t i = 0; i < s->plan.n && !manual; i++) {
		char *o;

		if (s->plan.v[i].decision != DEC_CLAIM || pci_on_vfio(&s->devs.v[i]))
			continue;
		o = pinned_driver(&s->devs.v[i]);
		if (o)
			strv_push(&pinned, xasprintf("%s %s", s->devs.v[i].addr, o));
		free(o);
	}
	if (pinned.n) {
		in.pinned = &pinned;
		plan_free(&s->plan);
		plan_build(&s->plan, &in);
	}
	strv_free(&pinned);
}

struct modules *session_modules(struct session *s)
{
	if (!s->modules)
		s->modules = modules_new();
	return s->modules;
}

char *session_stale_image(void)
{
	char *booted = NULL, *now;
	bool stale;

	if (state_read_file(BOOT_DIGEST, &booted) < 0)
		return NULL;
	now = config_digest();
	stale = !streq(strip(booted), now);
	free(booted);
	free(now);
	if (!stale)
		return NULL;
	return xstrdup("the configuration differs from the one this boot's initramfs was built "
		       "with: run 'update-initramfs -u' (or 'dracut -f') so that the next boot "
		       "claims as configured");
}

/*
 * The holders of the VFIO nodes, and with them (drm) those of the DRM nodes: one scan of /proc
 * for a run that needs both (a claim that moves a display device, then shows the devices).
 */
static void scan_holders(struct session *s, bool drm)
{
	if (!s->holders_scanned && drm) {
		s->holders_err = s->drm_err = holders_scan_with_drm(&s->holders, &s->drm);
		s->holders_scanned = s->drm_scanned = true;
	} else if (!s->holders_scanned) {
		s->holders_err = holders_scan(&s->holders);
		s->holders_scanned = true;
	} else if (drm && !s->drm_scanned) {
		/* the VFIO nodes' holders were asked for first: the DRM nodes' alone */
		s->drm_err = holders_scan_with_drm(NULL, &s->drm);
		s->drm_scanned = true;
	}
}

const struct holders *session_holders(struct session *s)
{
	scan_holders(s, false);
	if (!s->holders_warned) {
		int r = s->holders_err;

		if (r < 0)
			log_warn("cannot read '%s/proc': %s, ignoring", root_get(), errstr(r));
		else if (s->holders.unreadable)
			log_warn(
			    "the open files of %zu processes could not be read: the holders of "
			    "/dev/vfio may be incomplete",
			    s->holders.unreadable);
		s->holders_warned = true;
	}
	return &s->holders;
}

/* The processes that hold one of nodes open (a display device's DRM nodes): 0 or -errno. */
static int drm_holders(struct session *s, const struct strv *nodes, struct holders *h)
{
	*h = (struct holders){ 0 };
	if (!nodes->n)
		return 0;
	scan_holders(s, true);
	if (s->drm_err < 0)
		return s->drm_err;
	holders_select_nodes(&s->drm, nodes, h);
	return 0;
}

void session_close(struct session *s)
{
	holders_free(&s->holders);
	holders_free(&s->drm);
	free(s->by_group);
	plan_free(&s->plan);
	protected_free(&s->protected);
	strv_free(&s->released);
	config_free(&s->cfg);
	pci_list_free(&s->devs);
	modules_free(s->modules);
	memset(s, 0, sizeof(*s));
}

void print_config_errors(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nerrors; i++) {
		const struct config_error *e = &cfg->errors[i];
		if (e->line)
			log_error("%s:%u: %s", e->file, e->line, e->message);
		else
			log_error("%s: %s", e->file, e->message);
	}
}

/* The driver a device has now (if not vfio-pci) and the module its modalias names. */
void host_driver_of(struct session *s, const struct pci_dev *d, char **driver, char **module)
{
	char *modalias = NULL;

	*driver = d->driver && !pci_on_vfio(d) ? xstrdup(d->driver) : NULL;
	*module = NULL;
	if (pci_read_attr(d, "modalias", &modalias) == 0)
		modload_lookup_alias(session_modules(s), modalias, module);
	free(modalias);
	if (!*driver && *module)
		*driver = xstrdup(*module);
}

/* Writes a device's state entry; logs a failure (the caller's exit code says it too). */
static int record(struct session *s, size_t i, const char *stage, const char *state,
		  const char *taken_from, const char *host_driver, const char *host_module,
		  const char *error, const struct console_taken *con)
{
	const struct pci_dev *d = &s->devs.v[i];
	const struct verdict *v = &s->plan.v[i];
	struct kv kv = { 0 };
	char buf[64];
	int r;

	kv_set(&kv, "address", d->addr);
	snprintf(buf, sizeof(buf), "%04x:%04x", d->vendor, d->device);
	kv_set(&kv, "ids", buf);
	snprintf(buf, sizeof(buf), "%04x:%04x", d->subvendor, d->subdevice);
	kv_set(&kv, "subsystem_ids", buf);
	snprintf(buf, sizeof(buf), "0x%06x", d->class);
	kv_set(&kv, "class", buf);
	kv_set(&kv, "category", pci_category_name(d));
	snprintf(buf, sizeof(buf), "%d", d->iommu_group);
	kv_set(&kv, "iommu_group", d->iommu_group >= 0 ? buf : "none");
	kv_set(&kv, "host_driver", host_driver ? host_driver : "none");
	/* the driver it was bound to when claimed: none when claimed before any driver */
	kv_set(&kv, "taken_from", taken_from ? taken_from : "none");
	kv_set(&kv, "host_module", host_module ? host_module : "none");
	/* the driver that holds it now: vfio-pci or a VFIO variant driver */
	kv_set(&kv, "driver", d->driver ? d->driver : "none");
	kv_set(&kv, "rule", v->rule ? v->rule->origin : "none");
	kv_set(&kv, "reason", v->reason);
	kv_set(&kv, "tag", v->rule && v->rule->tag ? v->rule->tag : "");
	kv_set(&kv, "stage", stage);
	kv_set(&kv, "state", state);
	format_now(buf, sizeof(buf));
	kv_set(&kv, "time", buf);
	if (error)
		kv_set(&kv, "error", error);
	/* what a release restores after the host driver: the consoles unbound for the claim */
	if (con)
		console_record(con, &kv);
	r = state_write(d->addr, &kv);
	if (r < 0)
		log_error("%s: cannot write its state entry under '%s/run/vfio-claim/devices': %s; "
			  "the next run of vfio-claim writes it again",
			  d->addr, root_get(), state_strerror(r));
	kv_free(&kv);
	return r;
}

bool refusal_is_new(const char *addr, const char *reason)
{
	char *text = NULL, *line = xasprintf("%s %s", addr, reason), *save = NULL;
	int lock = state_lock();
	bool is_new = true;

	if (state_read_file(REFUSALS, &text) == 0)
		for (char *l = strtok_r(text, "\n", &save); l && is_new;
		     l = strtok_r(NULL, "\n", &save))
			is_new = !streq(l, line);
	if (is_new) {
		char *all = NULL;

		/* strtok_r() cut the text: read it again to add the line */
		free(text);
		text = NULL;
		state_read_file(REFUSALS, &text);
		all = xasprintf("%s%s%s\n", text ? text : "",
				text && *text && text[strlen(text) - 1] != '\n' ? "\n" : "", line);
		state_write_file(REFUSALS, all); /* when it fails, the next run says it again */
		free(all);
	}
	if (lock >= 0)
		state_unlock(lock);
	free(text);
	free(line);
	return is_new;
}

bool late_storage(const struct pci_dev *d, const char *stage, const char *host_driver)
{
	return (pci_categories(d->class) & CAT_STORAGE) && streq(stage, "udev") && host_driver &&
	       !streq(host_driver, "none");
}

/*
 * driver_override names another driver than vfio-pci or a VFIO variant driver: a release whose
 * state could not be written pinned it to its host driver (or driverctl did): only a claim by
 * hand overrides that.
 */
static bool pinned_elsewhere(const struct pci_dev *d)
{
	char *o = pinned_driver(d);
	bool r = o != NULL;

	free(o);
	return r;
}

/* One planned member of an IOMMU group being claimed. */
struct member {
	size_t i;
	char *before;	     /* the driver bound when we started, or NULL */
	char *host, *module; /* the host driver (or the module that would take it) */
	bool already;	     /* on vfio-pci and recorded as claimed: nothing to do */
	bool touched;	     /* bind_claim() ran: undo it if the group fails */
	bool was_vfio;	     /* on vfio-pci already, without its entry: the entry is repaired */
	int bound;	     /* bind_claim(): 0 on vfio-pci, 1 held by the override only */
	struct console_taken con; /* the consoles unbound before a display device moved */
};

static const struct pci_list *sort_list; /* for cmp_by_group(): qsort has no argument */

static int cmp_by_group(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int gi = sort_list->v[i].iommu_group, gj = sort_list->v[j].iommu_group;

	if (gi != gj)
		return gi < gj ? -1 : 1;
	return i < j ? -1 : i > j;
}

/*
 * The planned claims of i's IOMMU group (i alone without IOMMU groups), in address order: from
 * an index of the devices by group made once per run, not a pass over every device per claim.
 */
static struct member *group_members(struct session *s, size_t i, size_t *n)
{
	int g = s->devs.v[i].iommu_group;
	size_t lo = 0, hi, count = 0;
	struct member *m;

	if (s->nby_group != s->devs.n || !s->by_group) {
		free(s->by_group);
		s->by_group = xcalloc(s->devs.n ? s->devs.n : 1, sizeof(*s->by_group));
		for (size_t j = 0; j < s->devs.n; j++)
			s->by_group[j] = j;
		sort_list = &s->devs;
		qsort(s->by_group, s->devs.n, sizeof(*s->by_group), cmp_by_group);
		s->nby_group = s->devs.n;
	}
	if (g >= 0) {
		/* the first of group g */
		hi = s->devs.n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (s->devs.v[s->by_group[mid]].iommu_group < g)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (hi = lo; hi < s->devs.n && s->devs.v[s->by_group[hi]].iommu_group == g; hi++)
			count++;
	}
	m = xcalloc(count + 1, sizeof(*m));
	*n = 0;
	if (g < 0) {
		m[(*n)++].i = i;
		return m;
	}
	for (size_t k = lo; k < lo + count; k++) {
		size_t j = s->by_group[k];

		if (j == i || s->plan.v[j].decision == DEC_CLAIM)
			m[(*n)++].i = j;
	}
	return m;
}

/* Gives every member touched so far back to the driver it had; logs each. */
static void roll_back(struct session *s, struct member *m, size_t n)
{
	for (size_t k = n; k-- > 0;) {
		struct pci_dev *d = &s->devs.v[m[k].i];
		struct bind_error err = { { 0 } };
		int r;

		if (!m[k].touched)
			continue;
		r = bind_rollback(d, m[k].before, &err);
		if (r < 0)
			log_error("%s: could not give it back: %s failed: %s", d->addr, err.step,
				  errstr(r));
		else if (d->driver)
			log_info("%s: given back to '%s'", d->addr, d->driver);
		else
			log_info("%s: left to its host driver's module, which is not loaded yet",
				 d->addr);
	}
}

/*
 * Single-GPU passthrough (SPEC §7): before a run-time claim moves a display device, no process
 * may hold its DRM nodes (named, refused), and its frame-buffer consoles and firmware
 * framebuffer are unbound, before its host driver; each member's m[k].con says what was. 0, or
 * a negative errno (logged) with nothing changed.
 */
static int take_consoles(struct member *m, size_t n, struct session *s, const char *stage)
{
	int r = 0;

	if (!console_stage_applies(stage))
		return 0;
	for (size_t k = 0; k < n && r == 0; k++) {
		const struct pci_dev *d = &s->devs.v[m[k].i];
		struct strv nodes = { 0 };
		struct holders h = { 0 };
		char *who;

		if (m[k].already || !console_is_display(d) || pci_on_vfio(d))
			continue;
		r = console_drm_nodes(d, &nodes);
		if (r == 0)
			r = drm_holders(s, &nodes, &h);
		if (r < 0)
			log_error("%s: cannot tell which processes hold its DRM nodes: %s", d->addr,
				  errstr(r));
		else if ((who = holders_describe_nodes(&h))) {
			log_error("%s: held by %s: stop the display manager first", d->addr, who);
			free(who);
			r = -EBUSY;
		} else if (h.unreadable) {
			/* fail closed: a display server we cannot see may be drawing on it */
			log_error(
			    "%s: cannot tell which processes hold its DRM nodes: the open files "
			    "of %zu processes could not be read (run as root)",
			    d->addr, h.unreadable);
			r = -EACCES;
		}
		holders_free(&h);
		strv_free(&nodes);
	}
	for (size_t k = 0; k < n && r == 0; k++) {
		const struct pci_dev *d = &s->devs.v[m[k].i];
		struct console_error err = { { 0 } };
		char *what;

		if (m[k].already || !console_is_display(d) || pci_on_vfio(d))
			continue;
		r = console_take(d, &m[k].con, &err);
		if (r < 0) {
			log_error("%s: %s failed: %s", d->addr, err.step, errstr(r));
			break;
		}
		what = console_describe(&m[k].con);
		if (what)
			log_info("%s: console unbound before its driver: %s", d->addr, what);
		free(what);
	}
	if (r < 0)
		for (size_t k = 0; k < n; k++) {
			const struct pci_dev *d = &s->devs.v[m[k].i];
			struct console_taken left;
			struct console_error err = { { 0 } };
			int q = console_restore(&m[k].con, &left, NULL, &err);

			if (q < 0)
				log_error("%s: could not restore its console: %s failed: %s",
					  d->addr, err.step, errstr(q));
			console_taken_free(&left);
			console_taken_free(&m[k].con);
		}
	return r;
}

int session_restore_console(const char *addr, const struct console_taken *t,
			    struct console_taken *left)
{
	struct console_taken gone, done = { 0 };
	struct console_error err = { { 0 } };
	char *what;
	int r = console_restore(t, left, &gone, &err);

	/* restored: neither left nor gone */
	for (size_t i = 0; i < t->vtcons.n; i++)
		if (!strv_contains(&left->vtcons, t->vtcons.v[i]) &&
		    !strv_contains(&gone.vtcons, t->vtcons.v[i]))
			strv_push(&done.vtcons, xstrdup(t->vtcons.v[i]));
	for (size_t i = 0; i < t->fbs.n; i++)
		if (!strv_contains(&left->fbs, t->fbs.v[i]) &&
		    !strv_contains(&gone.fbs, t->fbs.v[i]))
			strv_push(&done.fbs, xstrdup(t->fbs.v[i]));
	if ((what = console_describe(&done)))
		log_info("%s: console bound again: %s", addr, what);
	free(what);
	if ((what = console_describe(&gone)))
		log_warn("%s: %s no longer exist%s (the kernel removes a firmware framebuffer for "
			 "good when a driver takes the card, and fbcon leaves with the last "
			 "framebuffer): the console comes back with the card's own driver",
			 addr, what, gone.vtcons.n + gone.fbs.n > 1 ? "" : "s");
	free(what);
	if (r < 0) {
		what = console_describe(left);
		log_error("%s: cannot restore its console: %s failed: %s; still unbound: %s", addr,
			  err.step, errstr(r), what);
		free(what);
	}
	console_taken_free(&done);
	console_taken_free(&gone);
	return r;
}

/*
 * After a rollback: the consoles of the members given back to their host driver restored; a
 * member that stayed on vfio-pci keeps them in its record, for its release.
 */
static void restore_consoles(struct session *s, struct member *m, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct pci_dev *d = &s->devs.v[m[k].i];
		struct console_taken left;

		if (console_taken_empty(&m[k].con) || pci_on_vfio(d))
			continue;
		session_restore_console(d->addr, &m[k].con, &left);
		console_taken_free(&m[k].con);
		m[k].con = left;
	}
}

enum claim_result claim_group(struct session *s, size_t i, const char *stage, bool *handled)
{
	/* by hand, or for a guest: a release by hand this boot does not hold them back */
	bool manual = streq(stage, "manual") || streq(stage, "guest");
	struct member *m;
	size_t n, done = 0;
	enum claim_result res = CLAIM_DONE;
	int lock, r;

	r = state_prepare();
	if (r < 0) {
		log_error("cannot use the state directory '%s/run/vfio-claim': %s", root_get(),
			  state_strerror(r));
		return CLAIM_FAILED;
	}
	lock = state_lock();
	if (lock < 0) {
		log_error("cannot lock '%s/run/vfio-claim/lock': %s", root_get(),
			  state_strerror(lock));
		return CLAIM_FAILED;
	}
	m = group_members(s, i, &n);
	for (size_t k = 0; k < n && handled; k++)
		handled[m[k].i] = true;
	for (size_t k = 0; k < n; k++) {
		struct pci_dev *d = &s->devs.v[m[k].i];
		struct kv old;
		const char *state;

		pci_refresh_driver(d);
		state_read(d->addr, &old);
		state = kv_get(&old, "state") ?: "";
		/* a release may have finished since the plan was made: it holds, under the lock */
		if (!manual && (streq(state, "released") || pinned_elsewhere(d))) {
			log_info(
			    "%s: %s: not claimed again; 'vfio-claim claim %s' takes it", d->addr,
			    streq(state, "released")
				? "released by hand this boot (vfio-claim release)"
				: "its driver_override names another driver (a release that could "
				  "not be recorded, or driverctl)",
			    d->addr);
			kv_free(&old);
			res = CLAIM_SKIPPED;
			goto out;
		}
		m[k].already = pci_on_vfio(d) && streq(state, "claimed");
		done += m[k].already;
		kv_free(&old);
	}
	if (done == n) {
		res = CLAIM_ALREADY; /* idempotent: the coldplug replay changes nothing */
		goto out;
	}
	if (take_consoles(m, n, s, stage) < 0) {
		res = CLAIM_FAILED;
		goto out;
	}

	for (size_t k = 0; k < n; k++) {
		struct pci_dev *d = &s->devs.v[m[k].i];
		struct bind_error err = { { 0 } };
		char *e;

		if (m[k].already)
			continue;
		m[k].before = xstrdup(d->driver && !pci_on_vfio(d) ? d->driver : NULL);
		m[k].was_vfio = pci_on_vfio(d);
		host_driver_of(s, d, &m[k].host, &m[k].module);
		m[k].touched = !m[k].was_vfio; /* a rollback gives back only what this run moved */
		m[k].bound = bind_claim(session_modules(s), d, s->plan.v[m[k].i].driver, &err);
		if (m[k].bound >= 0)
			continue;
		/* all or nothing: a group split between vfio-pci and host drivers is useless */
		e = xasprintf("%s failed: %s", err.step, errstr(m[k].bound));
		log_error("%s: %s", d->addr, e);
		if (n > 1)
			log_error("IOMMU group %d is claimed whole or not at all: giving the other "
				  "members back",
				  d->iommu_group);
		roll_back(s, m, n);
		restore_consoles(s, m, n); /* after the host driver, as a release does */
		for (size_t j = 0; j < n; j++) {
			char *why = j == k
					? xstrdup(e)
					: xasprintf("not claimed: %s of the same IOMMU group: %s",
						    d->addr, e);
			if (!m[j].already)
				record(s, m[j].i, stage, "failed", m[j].before, m[j].host,
				       m[j].module, why, &m[j].con);
			free(why);
		}
		free(e);
		res = CLAIM_FAILED;
		goto out;
	}

	for (size_t k = 0; k < n; k++) {
		struct pci_dev *d = &s->devs.v[m[k].i];
		const struct verdict *v = &s->plan.v[m[k].i];
		const char *host = m[k].host;
		struct perms p;

		if (m[k].already)
			continue;
		/* the device stays claimed when its entry cannot be written: the next run repairs
		 */
		if (record(s, m[k].i, stage, m[k].bound == 1 ? "held" : "claimed", m[k].before,
			   host, m[k].module, NULL, &m[k].con) < 0)
			res = CLAIM_FAILED;
		if (m[k].was_vfio)
			log_info("%s: on vfio-pci already; its state entry is written again (%s)",
				 d->addr, v->reason);
		else if (m[k].bound == 1)
			log_warn("%s: kept from host drivers by driver_override, but vfio-pci did "
				 "not bind (no IOMMU group): enable the IOMMU to use it",
				 d->addr);
		else
			log_info("%s: claimed for %s%s%s%s (%s)", d->addr, d->driver,
				 !host	       ? ""
				 : m[k].before ? ", taken from host driver '"
					       : " before host module '",
				 host ? host : "", host ? "'" : "", v->reason);
		if (late_storage(d, stage, m[k].before))
			log_warn("%s: %s", d->addr, LATE_STORAGE);
		perms_effective(v->rule, &s->cfg, &p);
		r = perms_apply(d->iommu_group, &p);
		if (r < 0)
			log_warn("%s: cannot set owner/group/mode of /dev/vfio/%d: %s, ignoring",
				 d->addr, d->iommu_group, errstr(r));
		r = perms_apply_cdev(d->addr, &p);
		if (r < 0)
			log_warn(
			    "%s: cannot set owner/group/mode of its /dev/vfio/devices node: %s, "
			    "ignoring",
			    d->addr, errstr(r));
		perms_iommufd(v->rule, &s->cfg, &p);
		r = perms_apply_iommufd(&p);
		if (r < 0)
			log_warn("%s: cannot set owner/group/mode of /dev/iommu: %s, ignoring",
				 d->addr, errstr(r));
		if (res == CLAIM_DONE && m[k].bound == 1)
			res = CLAIM_HELD;
	}
out:
	for (size_t k = 0; k < n; k++) {
		free(m[k].before);
		free(m[k].host);
		free(m[k].module);
		console_taken_free(&m[k].con);
	}
	free(m);
	state_unlock(lock);
	return res;
}
