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
#include "log.h"
#include "modload.h"
#include "perms.h"

int session_open(struct session *s)
{
	int r;

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

void session_plan(struct session *s, const struct rule *manual)
{
	const struct plan_input in = {
		.devs = &s->devs,
		.cfg = &s->cfg,
		.protected = &s->protected,
		.released = &s->released,
		.manual = manual,
	};

	plan_free(&s->plan);
	plan_build(&s->plan, &in);
}

struct kmod_ctx *session_kmod(struct session *s)
{
	if (!s->kmod)
		s->kmod = modload_new();
	return s->kmod;
}

const struct holders *session_holders(struct session *s)
{
	if (!s->holders_scanned) {
		int r = holders_scan(&s->holders);
		if (r < 0)
			log_warn("cannot read '%s/proc': %s, ignoring", root_get(), errstr(r));
		else if (s->holders.unreadable)
			log_warn(
			    "the open files of %zu processes could not be read: the holders of "
			    "/dev/vfio may be incomplete",
			    s->holders.unreadable);
		s->holders_scanned = true;
	}
	return &s->holders;
}

void session_close(struct session *s)
{
	holders_free(&s->holders);
	plan_free(&s->plan);
	protected_free(&s->protected);
	strv_free(&s->released);
	config_free(&s->cfg);
	pci_list_free(&s->devs);
	modload_unref(s->kmod);
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

	*driver = d->driver && !streq(d->driver, "vfio-pci") ? xstrdup(d->driver) : NULL;
	*module = NULL;
	if (pci_read_attr(d, "modalias", &modalias) == 0)
		modload_lookup_alias(session_kmod(s), modalias, module);
	free(modalias);
	if (!*driver && *module)
		*driver = xstrdup(*module);
}

static void record(struct session *s, size_t i, const char *stage, const char *state,
		   const char *host_driver, const char *host_module, const char *error)
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
	kv_set(&kv, "host_module", host_module ? host_module : "none");
	kv_set(&kv, "rule", v->rule ? v->rule->origin : "none");
	kv_set(&kv, "reason", v->reason);
	kv_set(&kv, "tag", v->rule && v->rule->tag ? v->rule->tag : "");
	kv_set(&kv, "stage", stage);
	kv_set(&kv, "state", state);
	format_now(buf, sizeof(buf));
	kv_set(&kv, "time", buf);
	if (error)
		kv_set(&kv, "error", error);
	r = state_write(d->addr, &kv);
	if (r < 0)
		log_error("%s: cannot write state file under '%s/run/vfio-claim/devices': %s",
			  d->addr, root_get(), state_strerror(r));
	kv_free(&kv);
}

enum claim_result claim_device(struct session *s, size_t i, const char *stage)
{
	struct pci_dev *d = &s->devs.v[i];
	const struct verdict *v = &s->plan.v[i];
	struct bind_error err = { { 0 } };
	struct kv old = { 0 };
	char *host = NULL, *module = NULL;
	enum claim_result res;
	struct perms p;
	int lock, r, b;
	bool bound;

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
	pci_refresh_driver(d);
	if (d->driver && streq(d->driver, "vfio-pci") && state_read(d->addr, &old) == 0 &&
	    streq(kv_get(&old, "state") ?: "", "claimed")) {
		res = CLAIM_ALREADY; /* idempotent: the coldplug replay changes nothing */
		goto out;
	}
	host_driver_of(s, d, &host, &module);
	bound = d->driver && !streq(d->driver, "vfio-pci");
	b = bind_claim(session_kmod(s), d, &err);
	if (b < 0) {
		char *e = xasprintf("%s failed: %s", err.step, errstr(b));
		log_error("%s: %s", d->addr, e);
		record(s, i, stage, "failed", host, module, e);
		free(e);
		res = CLAIM_FAILED;
		goto out;
	}
	record(s, i, stage, b == 1 ? "held" : "claimed", host, module, NULL);
	if (b == 1)
		log_warn("%s: kept from host drivers by driver_override, but vfio-pci did not bind "
			 "(no IOMMU group): enable the IOMMU to use it",
			 d->addr);
	else
		log_info("%s: claimed for vfio-pci%s%s%s (%s)", d->addr,
			 !host	 ? ""
			 : bound ? ", taken from host driver '"
				 : " before host module '",
			 host ? host : "", host ? "'" : "", v->reason);
	perms_effective(v->rule, &s->cfg, &p);
	r = perms_apply(d->iommu_group, &p);
	if (r < 0)
		log_warn("%s: cannot set owner/group/mode of /dev/vfio/%d: %s, ignoring", d->addr,
			 d->iommu_group, errstr(r));
	res = b == 1 ? CLAIM_HELD : CLAIM_DONE;
out:
	kv_free(&old);
	free(host);
	free(module);
	state_unlock(lock);
	return res;
}
