// SPDX-License-Identifier: GPL-2.0-or-later
/* SR-IOV: a PF's sriov_drivers_autoprobe, so that the VFs a claim selects never meet a host driver.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sriov.h"

static char *record_name(const char *pf_addr)
{
	return xasprintf("sriov-autoprobe-%s", pf_addr);
}

bool sriov_autoprobe_ours(const char *pf_addr)
{
	char *name, *text = NULL;
	int r;

	if (!pci_addr_valid(pf_addr))
		return false;
	name = record_name(pf_addr);
	r = state_read_file(name, &text);
	free(text);
	free(name);
	return r == 0;
}

int sriov_autoprobe_off(struct session *s, size_t i, const char *stage)
{
	const struct pci_dev *pf = &s->devs.v[i];
	char *now = NULL, *name, *text, when[64];
	int r;

	r = pci_read_attr(pf, "sriov_drivers_autoprobe", &now);
	if (r < 0)
		return r;
	r = 0;
	/* off already: by us earlier this boot, or by someone else, whose choice it stays */
	if (streq(strip(now), "0"))
		goto out;
	name = record_name(pf->addr);
	format_now(when, sizeof(when));
	text = xasprintf("address=%s\nsriov_drivers_autoprobe=%s\nstage=%s\ntime=%s\n", pf->addr,
			 strip(now), stage, when);
	/* the record first: a PF switched off without one would never be switched back */
	r = state_write_file(name, text);
	if (r == 0) {
		r = bind_set_autoprobe(pf, "0");
		if (r < 0)
			state_remove_file(name);
		else
			r = 1;
	}
	free(text);
	free(name);
out:
	free(now);
	return r;
}

int sriov_probe_unselected(struct session *s, size_t i, struct bind_error *err)
{
	struct pci_dev *d = &s->devs.v[i];
	int r;

	if (!d->physfn[0] || !sriov_autoprobe_ours(d->physfn))
		return 0;
	r = pci_refresh_driver(d);
	if (r < 0 || d->driver)
		return 0; /* it has a driver: nothing to do */
	r = bind_probe_vf(session_modules(s), d, err);
	return r < 0 ? r : 1;
}

int sriov_release_done(struct session *s, size_t i)
{
	const struct pci_dev *vf = &s->devs.v[i];
	char *name, *text = NULL;
	struct kv kv = { 0 };
	const char *old;
	int pf, r;

	if (!vf->physfn[0] || (pf = pci_find(&s->devs, vf->physfn)) < 0)
		return 0;
	for (size_t k = 0; k < s->devs.n; k++) {
		struct pci_dev *o = &s->devs.v[k];

		if (k != i && streq(o->physfn, vf->physfn)) {
			pci_refresh_driver(o);
			if (pci_on_vfio(o))
				return 0; /* another VF of the PF stays claimed */
		}
	}
	name = record_name(vf->physfn);
	r = state_read_file(name, &text);
	if (r < 0) {
		r = r == -ENOENT ? 0 : r; /* not ours to restore */
		goto out;
	}
	kv_parse(&kv, text);
	old = kv_get(&kv, "sriov_drivers_autoprobe");
	r = bind_set_autoprobe(&s->devs.v[pf], old && streq(old, "0") ? "0" : "1");
	if (r == 0) {
		state_remove_file(name);
		r = 1;
	}
out:
	kv_free(&kv);
	free(text);
	free(name);
	return r;
}
