// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Decisions (SPEC §6): which devices a configuration selects, and the safety rules that veto a
 * selection: the boot VGA device, the devices the host boots from, the last USB controller of a
 * machine without PS/2, SR-IOV physical functions with VFs, and incomplete IOMMU groups.
 *
 * A pure function of its inputs (struct plan_input): nothing here opens, reads or resolves
 * anything, so every rule is tested on device arrays built in memory (tests/unit/test-policy.c).
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"

const char *decision_name(enum decision d)
{
	switch (d) {
	case DEC_CLAIM:
		return "claim";
	case DEC_REFUSE:
		return "refuse";
	default:
		return "keep";
	}
}

/* A verdict with a reason made for it (freed with the plan)... */
static void set(struct verdict *v, enum decision d, char *reason)
{
	if (v->own_reason)
		free((char *)v->reason);
	v->decision = d;
	v->reason = reason;
	v->own_reason = true;
}

/* ...or one of the fixed reasons most devices share: no copy per device. */
static void set_static(struct verdict *v, enum decision d, const char *reason)
{
	if (v->own_reason)
		free((char *)v->reason);
	v->decision = d;
	v->reason = reason;
	v->own_reason = false;
}

#define USB_REASON                                                                                 \
	"last USB controller left to the host, and the machine has no PS/2 keyboard controller "   \
	"(i8042): the keyboard would be lost; set 'option keep-usb=0' or %s to claim it"
#define FORCE_HINT "name it by address with 'force'"

static char *force_hint(const struct verdict *v, const struct pci_dev *d,
			const struct plan_input *in);

static char *usb_reason(const struct verdict *v, const struct pci_dev *d,
			const struct plan_input *in)
{
	char *hint = force_hint(v, d, in), *r = xasprintf(USB_REASON, hint);

	free(hint);
	return r;
}

/* The first selector of the rule that matches, or NULL. */
static const struct selector *rule_match(const struct rule *r, const struct pci_dev *d)
{
	for (size_t i = 0; i < r->nsels; i++)
		if (selector_match(&r->sels[i], d))
			return &r->sels[i];
	return NULL;
}

static bool on_vfio(const struct pci_dev *d)
{
	return pci_on_vfio(d);
}

const char *protected_why(const struct protected_list *p, const char *addr)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (streq(p->v[i].addr, addr))
			return p->v[i].why;
	return NULL;
}

void protected_free(struct protected_list *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].why);
		strv_free(&p->v[i].more);
	}
	free(p->v);
	free(p->unresolved);
	strv_free(&p->bad_record_lines);
	memset(p, 0, sizeof(*p));
}

static bool is_released(const struct plan_input *in, const char *addr)
{
	return in->released && in->released->n &&
	       bsearch(&addr, in->released->v, in->released->n, sizeof(char *), strv_cmp) != NULL;
}

/* The driver a device's driver_override pins it to, or NULL. */
static const char *pinned_to(const struct plan_input *in, const char *addr)
{
	size_t len = strlen(addr);

	for (size_t i = 0; in->pinned && i < in->pinned->n; i++)
		if (strncmp(in->pinned->v[i], addr, len) == 0 && in->pinned->v[i][len] == ' ')
			return in->pinned->v[i] + len + 1;
	return NULL;
}

/*
 * How to claim a vetoed device anyway: 'force' counts only on a claim that names it by address,
 * so a device a claim line already names by address needs just the word on that line.
 * v: the device's verdict, or NULL for a device that only goes along with another.
 */
static char *force_hint(const struct verdict *v, const struct pci_dev *d,
			const struct plan_input *in)
{
	const struct rules *claims = &in->cfg->claims;

	if (!v || !v->selected)
		return xstrdup(FORCE_HINT);
	if (in->manual && !in->manual->guest && rule_match(in->manual, d))
		return xasprintf("run 'vfio-claim claim --force %s'", d->addr);
	for (size_t r = 0; r < claims->n && !in->cfg->off; r++) {
		const struct rule *rule = &claims->v[r];

		/* the kernel command line has no 'force' */
		if (streq(rule->origin, "cmdline"))
			continue;
		for (size_t k = 0; k < rule->nsels; k++)
			if (rule->sels[k].kind == SEL_ADDR && selector_match(&rule->sels[k], d))
				return xasprintf("add 'force' to its claim at %s", rule->origin);
	}
	/* claim --guest: the line a guest's devices come from is on the command line */
	if (in->manual && rule_match(in->manual, d))
		return xasprintf("add '--force' to 'vfio-claim claim --guest' for %s", d->addr);
	return xstrdup(FORCE_HINT);
}

/*
 * A safety rule of the device itself, or NULL. v as for force_hint(), which is asked only when
 * a rule applies: the plan of a machine of thousands of functions stays cheap.
 */
static char *veto(const struct pci_dev *d, const struct plan_input *in, const struct verdict *v)
{
	const struct config *cfg = in->cfg;
	const struct protected_list *prot = in->protected;
	char *hint = NULL, *r = NULL;
	const char *why;

	if (d->boot_vga == 1 && !cfg->allow_boot_vga) {
		hint = force_hint(v, d, in);
		r = xasprintf("boot VGA device: the console would go dark; set 'option "
			      "allow-boot-vga=yes' or %s to claim it",
			      hint);
	} else if ((why = protected_why(prot, d->addr))) {
		hint = force_hint(v, d, in);
		r = xasprintf("%s: the host would lose it; %s to claim it anyway", why, hint);
	}
	/*
	 * root= names a device nobody can find yet (the initramfs before its storage driver is
	 * loaded) and no record says which it is: any storage controller might carry it.
	 */
	else if (prot && prot->unresolved && !prot->have_record &&
		 (pci_categories(d->class) & CAT_STORAGE)) {
		hint = force_hint(v, d, in);
		r = xasprintf("storage controller, and the root file system '%s' is not found yet "
			      "and no /etc/vfio-claim/root-devices record says where it is: it "
			      "may carry it; rebuild the initramfs on the running system to "
			      "record the root device, or %s",
			      prot->unresolved, hint);
	} else if (d->sriov_numvfs > 0)
		r = xasprintf("SR-IOV physical function with %d virtual functions enabled: "
			      "vfio-pci cannot take it; set sriov_numvfs to 0 first, or claim "
			      "the virtual functions",
			      d->sriov_numvfs);
	free(hint);
	return r;
}

/* Members of each device's IOMMU group: idx[first[i] .. first[i] + count[i]) */
struct groups {
	size_t *idx, *first, *count;
};

static int cmp_group(const void *a, const void *b, void *data)
{
	const struct pci_list *devs = data;
	const struct pci_dev *x = &devs->v[*(const size_t *)a];
	const struct pci_dev *y = &devs->v[*(const size_t *)b];

	if (x->iommu_group != y->iommu_group)
		return x->iommu_group < y->iommu_group ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void groups_build(struct groups *gr, const struct pci_list *devs)
{
	size_t n = devs->n;

	gr->idx = xcalloc(n, sizeof(size_t));
	gr->first = xcalloc(n, sizeof(size_t));
	gr->count = xcalloc(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		gr->idx[i] = i;
	qsort_r(gr->idx, n, sizeof(size_t), cmp_group, (void *)devs);
	for (size_t s = 0, e; s < n; s = e) {
		for (e = s + 1;
		     e < n && devs->v[gr->idx[e]].iommu_group == devs->v[gr->idx[s]].iommu_group;
		     e++)
			;
		for (size_t k = s; k < e; k++) {
			gr->first[gr->idx[k]] = s;
			gr->count[gr->idx[k]] = e - s;
		}
	}
}

static void groups_free(struct groups *gr)
{
	free(gr->idx);
	free(gr->first);
	free(gr->count);
}

/* 1 + the index of a claimed function in the same plug-in slot (not a root bus) as j, or 0. */
static int slot_companion(const struct plan *plan, const struct pci_list *devs, const size_t *mem,
			  size_t nmem, size_t j)
{
	for (size_t k = 0; k < nmem && devs->v[j].parent >= 0; k++)
		if (mem[k] != j && plan->v[mem[k]].decision == DEC_CLAIM &&
		    pci_same_slot(&devs->v[mem[k]], &devs->v[j]))
			return (int)mem[k] + 1;
	return 0;
}

/* Why a group member keeps the group from being claimed, or NULL; *with: how it goes along. */
static char *member_block(const struct plan *plan, const struct plan_input *in,
			  const bool *excluded, const size_t *mem, size_t nmem, size_t j, int *with)
{
	const struct pci_list *devs = in->devs;
	const struct pci_dev *m = &devs->v[j];
	int g = m->iommu_group;
	char *why;

	*with = 0;
	if (plan->v[j].decision == DEC_CLAIM || pci_is_bridge(m))
		return NULL;
	if (plan->v[j].decision == DEC_REFUSE)
		return xasprintf("IOMMU group %d also holds %s, which is refused (%s)", g, m->addr,
				 plan->v[j].reason);
	if (on_vfio(m)) {
		/*
		 * Already on vfio-pci (claimed with its companion earlier this boot, or by the
		 * kernel): it never holds the group back. As a companion it still goes with it, so
		 * that its reason stays true and its state entry is kept (or repaired).
		 */
		if (!plan->v[j].released && !excluded[j] &&
		    (*with = slot_companion(plan, devs, mem, nmem, j)) &&
		    (why = veto(m, in, NULL))) {
			free(why);
			*with = 0;
		}
		return NULL;
	}
	if (plan->v[j].released) {
		/*
		 * A release gives back the whole group: a claim by hand of one function of the
		 * slot takes the others back with it, as they went.
		 */
		*with = in->manual ? slot_companion(plan, devs, mem, nmem, j) : 0;
		if (*with && rule_match(in->manual, &devs->v[*with - 1])) {
			why = veto(m, in, NULL);
			if (!why)
				return NULL;
			free(why);
		}
		*with = 0;
		return xasprintf("IOMMU group %d also holds %s, %s: vfio needs the whole group; "
				 "'vfio-claim claim %s' takes it again",
				 g, m->addr,
				 pinned_to(in, m->addr) ? "pinned to its host driver by its "
							  "driver_override"
							: "released by hand this boot",
				 m->addr);
	}
	if (excluded[j])
		return xasprintf("IOMMU group %d also holds %s (%s), %s: vfio needs the whole "
				 "group; drop that exclude to claim it",
				 g, m->addr, pci_category_name(m), plan->v[j].reason);
	/* a function of a plug-in card (not on a root bus) whose slot has a claimed function */
	*with = slot_companion(plan, devs, mem, nmem, j);
	if (!*with && in->cfg->group_policy == GROUP_WHOLE)
		*with = -1;
	if (!*with)
		return xasprintf("IOMMU group %d also holds %s (%s, class 0x%06x), which is not "
				 "selected: claim it too, or set 'option group-policy=whole'",
				 g, m->addr, pci_category_name(m), m->class);
	why = veto(m, in, NULL);
	if (!why)
		return NULL;
	{
		char *r = xasprintf("IOMMU group %d also holds %s, which cannot be claimed (%s)", g,
				    m->addr, why);
		free(why);
		return r;
	}
}

/*
 * vfio needs every endpoint of an IOMMU group. Functions of the same plug-in slot go along;
 * other endpoints must be selected themselves (or group-policy=whole takes them); a refused or
 * excluded one refuses the group.
 */
static void resolve_groups(struct plan *plan, const struct plan_input *in, const bool *excluded,
			   const struct groups *gr)
{
	const struct pci_list *devs = in->devs;
	size_t n = devs->n;
	bool *done = xcalloc(n, sizeof(bool));
	int *with = xcalloc(n, sizeof(int)); /* 1 + index of the device it goes with, -1: whole */

	for (size_t i = 0; i < n; i++) {
		const size_t *mem = gr->idx + gr->first[i];
		size_t nmem = gr->count[i];
		int g = devs->v[i].iommu_group;
		const struct rule *grule = NULL;
		char *block = NULL;

		if (done[i] || plan->v[i].decision != DEC_CLAIM || g < 0)
			continue;
		for (size_t k = 0; k < nmem; k++) {
			done[mem[k]] = true;
			if (!block)
				block = member_block(plan, in, excluded, mem, nmem, mem[k],
						     &with[mem[k]]);
			if (!grule && plan->v[mem[k]].decision == DEC_CLAIM)
				grule = plan->v[mem[k]].rule;
		}
		for (size_t k = 0; k < nmem; k++) {
			struct verdict *v = &plan->v[mem[k]];
			int w = with[mem[k]];

			if (block && v->decision == DEC_CLAIM) {
				if (v->forced)
					set(v, DEC_CLAIM,
					    xasprintf("%s; forced, but vfio cannot use it until "
						      "the whole "
						      "group is claimed: %s",
						      v->reason, block));
				else
					set(v, DEC_REFUSE, xstrdup(block));
			} else if (!block && w > 0) {
				v->rule = plan->v[w - 1].rule;
				set(v, DEC_CLAIM,
				    xasprintf("goes with %s (same slot and IOMMU group %d)",
					      devs->v[w - 1].addr, g));
			} else if (!block && w < 0) {
				v->rule = grule;
				set(v, DEC_CLAIM,
				    xasprintf(
					"IOMMU group %d is taken whole (option group-policy=whole)",
					g));
			}
		}
		free(block);
	}
	free(with);
	free(done);
}

/* Notes the first claim rule that selects the device, and whether one forces it by address. */
static void select_by(struct verdict *v, const struct selector **sel, const struct rule *r,
		      const struct pci_dev *d)
{
	const struct selector *s = rule_match(r, d);

	if (!s)
		return;
	if (!v->rule) {
		v->rule = r;
		*sel = s;
	}
	/* force counts only where a rule names this device by address */
	for (size_t k = 0; k < r->nsels && r->force; k++)
		if (r->sels[k].kind == SEL_ADDR && selector_match(&r->sels[k], d))
			v->forced = true;
}

/* The decision for one device on its own: selection, exclusion, and its own safety rules. */
static void decide(struct verdict *v, const struct pci_dev *d, const struct plan_input *in,
		   bool *excluded)
{
	const struct config *cfg = in->cfg;
	const struct selector *sel = NULL, *xsel = NULL;
	const struct rule *xrule = NULL;
	bool manual = in->manual && rule_match(in->manual, d);
	char *why;

	set_static(v, DEC_KEEP, "");
	v->rule = NULL;
	v->forced = false;
	v->released = false;
	v->guest_rule = NULL;
	/*
	 * with vfio_claim=off only a claim by hand counts; a claim at boot wins over a when=guest
	 * line (the guest only checks that device)
	 */
	for (size_t r = 0; r < cfg->claims.n && !cfg->off; r++)
		if (!cfg->claims.v[r].guest)
			select_by(v, &sel, &cfg->claims.v[r], d);
	if (in->manual && !in->manual->guest)
		select_by(v, &sel, in->manual, d);
	if (!v->rule) {
		for (size_t r = 0; r < cfg->claims.n && !cfg->off; r++)
			if (cfg->claims.v[r].guest)
				select_by(v, &sel, &cfg->claims.v[r], d);
		if (in->manual && in->manual->guest)
			select_by(v, &sel, in->manual, d);
		if (v->rule)
			v->guest_rule = v->rule;
	}
	for (size_t r = 0; r < cfg->excludes.n && !xrule; r++)
		if ((xsel = rule_match(&cfg->excludes.v[r], d)))
			xrule = &cfg->excludes.v[r];
	v->selected = v->rule != NULL;
	*excluded = xrule != NULL;

	if (pci_is_bridge(d))
		set_static(v, DEC_KEEP,
			   v->selected ? "PCI bridge: bridges are never claimed, although a claim "
					 "selects it"
				       : "PCI bridge: bridges are never claimed");
	else if (cfg->off && !manual)
		set_static(
		    v, DEC_KEEP,
		    "vfio_claim=off on the kernel command line: nothing is claimed this boot");
	else if (xrule)
		set(v, DEC_KEEP, xasprintf("excluded by %s ('%s')", xrule->origin, xsel->text));
	else if (cfg->exclude_unknown && v->selected && !manual)
		set(v, DEC_KEEP,
		    xasprintf(
			"an exclude could not be read (%s): the devices it meant are unknown, "
			"so nothing is claimed from the configuration this boot; "
			"'vfio-claim check' shows the error",
			cfg->exclude_unknown));
	else if (!v->selected)
		set_static(v, DEC_KEEP,
			   on_vfio(d) ? "not selected; bound to vfio-pci by the kernel "
					"(vfio-pci.ids=) or by hand"
				      : "not selected");
	else if (v->guest_rule && !in->guests)
		set(v, DEC_KEEP,
		    xasprintf("follows its guests (when=guest, %s): on its host driver until a "
			      "guest that uses it starts",
			      v->guest_rule->origin));
	else if (!manual && !v->guest_rule && is_released(in, d->addr)) {
		v->released = true;
		set(v, DEC_KEEP,
		    xasprintf("selected by %s ('%s'), but released by hand this boot (vfio-claim "
			      "release): 'vfio-claim claim %s' or the next boot takes it again",
			      v->rule->origin, sel->text, d->addr));
	} else if (!manual && pinned_to(in, d->addr)) {
		v->released = true;
		set(v, DEC_KEEP,
		    xasprintf("selected by %s ('%s'), but its driver_override pins it to '%s' (a "
			      "release this boot whose state could not be written, or driverctl): "
			      "'vfio-claim claim %s' takes it",
			      v->rule->origin, sel->text, pinned_to(in, d->addr), d->addr));
	} else if (!v->forced && (why = veto(d, in, v)))
		set(v, DEC_REFUSE, why);
	else
		set(v, DEC_CLAIM,
		    xasprintf("selected by %s ('%s')%s", v->rule->origin, sel->text,
			      v->forced ? ", forced" : ""));
	if (v->decision == DEC_KEEP)
		v->rule = NULL;
}

void plan_build(struct plan *plan, const struct plan_input *in)
{
	const struct pci_list *devs = in->devs;
	const struct config *cfg = in->cfg;
	size_t n = devs->n;
	bool *excluded = xcalloc(n, sizeof(bool));
	bool *usb_veto = xcalloc(n, sizeof(bool));
	struct groups gr;

	memset(plan, 0, sizeof(*plan));
	plan->n = n;
	plan->v = xcalloc(n, sizeof(*plan->v));
	groups_build(&gr, devs);

	/*
	 * The last-USB rule depends on the groups' outcome and can refuse a group in turn:
	 * start again from the individual decisions with the new veto until nothing changes.
	 */
	for (size_t round = 0; round <= n; round++) {
		size_t host_usb = 0;
		int victim = -1;

		for (size_t i = 0; i < n; i++) {
			decide(&plan->v[i], &devs->v[i], in, &excluded[i]);
			if (usb_veto[i])
				set(&plan->v[i], DEC_REFUSE,
				    usb_reason(&plan->v[i], &devs->v[i], in));
		}
		if (devs->have_iommu)
			resolve_groups(plan, in, excluded, &gr);
		if (!cfg->keep_usb || devs->have_i8042)
			break;
		for (size_t i = 0; i < n; i++) {
			const struct pci_dev *d = &devs->v[i];
			if (!pci_is_usb(d))
				continue;
			if (plan->v[i].decision != DEC_CLAIM && !on_vfio(d))
				host_usb++;
			/* one already on vfio-pci is not given back by refusing it here */
			else if (plan->v[i].decision == DEC_CLAIM && !plan->v[i].forced &&
				 !on_vfio(d) && victim < 0)
				victim = (int)i;
		}
		if (host_usb > 0 || victim < 0)
			break;
		usb_veto[victim] = true;
	}

	for (size_t i = 0; i < n; i++)
		if (plan->v[i].decision == DEC_CLAIM && !devs->have_iommu) {
			char *r =
			    xasprintf("%s; no IOMMU groups: vfio cannot use it until the IOMMU is "
				      "enabled (intel_iommu=on or amd_iommu=on)",
				      plan->v[i].reason);
			set(&plan->v[i], DEC_CLAIM, r);
		}

	/* a companion that goes with a device of a when=guest line follows the same guests */
	for (size_t i = 0; i < n; i++)
		if (plan->v[i].rule && plan->v[i].rule->guest)
			plan->v[i].guest_rule = plan->v[i].rule;
	/* no guest starting: the functions of its slot and IOMMU group will go with it, say so */
	for (size_t i = 0; i < n && !in->guests && devs->have_iommu; i++) {
		const struct pci_dev *d = &devs->v[i];

		if (plan->v[i].decision != DEC_KEEP || !plan->v[i].guest_rule)
			continue;
		for (size_t j = 0; j < n; j++) {
			const struct pci_dev *c = &devs->v[j];
			struct verdict *v = &plan->v[j];

			if (j == i || v->selected || v->decision != DEC_KEEP || pci_is_bridge(c) ||
			    c->iommu_group != d->iommu_group || c->domain != d->domain ||
			    c->bus != d->bus || c->slot != d->slot)
				continue;
			v->guest_rule = plan->v[i].guest_rule;
			set(v, DEC_KEEP,
			    xasprintf("follows its guests with %s (same slot and IOMMU group %d; "
				      "when=guest, %s)",
				      d->addr, d->iommu_group, plan->v[i].guest_rule->origin));
		}
	}

	/* the driver it is claimed for: its VFIO variant driver, unless driver=vfio-pci */
	for (size_t i = 0; i < n; i++) {
		struct verdict *v = &plan->v[i];
		const char *variant = devs->v[i].variant;

		if (v->decision != DEC_CLAIM)
			continue;
		v->driver = "vfio-pci";
		if (variant && !(v->rule && v->rule->plain_vfio)) {
			v->driver = variant;
			set(v, DEC_CLAIM,
			    xasprintf("%s; for VFIO variant driver '%s' ('driver=vfio-pci' on the "
				      "claim line takes plain vfio-pci)",
				      v->reason, variant));
		}
	}

	groups_free(&gr);
	free(excluded);
	free(usb_veto);
}

/* A claim would select it (and no exclude keeps it): the decision of a device before vetoes. */
static bool would_select(const struct plan_input *in, const struct pci_dev *d)
{
	const struct config *cfg = in->cfg;
	bool selected = false;

	if (cfg->off || cfg->exclude_unknown)
		return false;
	for (size_t r = 0; r < cfg->claims.n && !selected; r++)
		selected = !cfg->claims.v[r].guest && rule_match(&cfg->claims.v[r], d) != NULL;
	for (size_t r = 0; r < cfg->excludes.n && selected; r++)
		selected = rule_match(&cfg->excludes.v[r], d) == NULL;
	return selected;
}

bool plan_selects_vfs_of(const struct plan *plan, const struct plan_input *in, size_t i)
{
	const struct pci_dev *pf = &in->devs->v[i];
	unsigned rid = pf->bus << 8 | pf->slot << 3 | pf->func;
	const char *up = pf->pcipath ? strrchr(pf->pcipath, '/') : NULL;
	bool found = false;

	/* vfio-pci taking the PF itself leaves it no VFs */
	if (pf->sriov_numvfs < 0 || plan->v[i].decision == DEC_CLAIM)
		return false;
	for (int k = 0; k < pf->sriov_totalvfs && !found; k++) {
		unsigned r =
		    rid + (unsigned)pf->sriov_offset + (unsigned)k * (unsigned)pf->sriov_stride;
		struct pci_dev vf = { .iommu_group = -1, .boot_vga = -1, .sriov_numvfs = -1 };

		if (r > 0xffff)
			break;
		vf.domain = pf->domain;
		vf.bus = r >> 8;
		vf.slot = (r >> 3) & 0x1f;
		vf.func = r & 7;
		snprintf(vf.addr, sizeof(vf.addr), "%04x:%02x:%02x.%u", vf.domain, vf.bus, vf.slot,
			 vf.func);
		vf.vendor = pf->vendor;
		vf.device = pf->sriov_vf_device;
		vf.subvendor = pf->subvendor;
		vf.subdevice = pf->subdevice;
		vf.class = pf->class;
		memcpy(vf.physfn, pf->addr, 13);
		/* behind the same bridge as its PF: the PF's path with its own last hop */
		vf.pcipath = up ? xasprintf("%.*s/%02x.%u", (int)(up - pf->pcipath), pf->pcipath,
					    vf.slot, vf.func)
				: xstrdup(vf.addr);
		found = would_select(in, &vf);
		free(vf.pcipath);
	}
	return found;
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		if (plan->v[i].own_reason)
			free((char *)plan->v[i].reason);
	free(plan->v);
	memset(plan, 0, sizeof(*plan));
}
