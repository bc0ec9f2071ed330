// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Devices that follow their guests: claimed for a guest, whole IOMMU group and all or nothing
 * (claim_group()), and given back (release_group()) when the last guest that holds them stops.
 * The holders live in the devices' state entries (guest.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "log.h"

/* guests= from the holder names (an empty value when none is left). */
static void set_holders(struct kv *kv, const struct strv *names)
{
	char *list = strv_join(names, ",");

	kv_set(kv, "guests", list);
	free(list);
}

/* Adds a holder to an entry (once); the holder's record is written again. */
static void add_holder(struct kv *kv, const char *ename, const char *record)
{
	struct strv names;
	char *key = xasprintf("guest.%s", ename);

	guest_holders(kv, &names);
	if (!strv_contains(&names, ename))
		strv_push(&names, xstrdup(ename));
	set_holders(kv, &names);
	kv_set(kv, key, record);
	free(key);
	strv_free(&names);
}

/* Drops a holder from an entry: true if it held it. */
static bool drop_holder(struct kv *kv, const char *ename)
{
	struct strv names, rest = { 0 };
	char *key = xasprintf("guest.%s", ename);
	bool had;

	guest_holders(kv, &names);
	had = strv_contains(&names, ename);
	for (size_t i = 0; i < names.n; i++)
		if (!streq(names.v[i], ename))
			strv_push(&rest, xstrdup(names.v[i]));
	set_holders(kv, &rest);
	kv_del(kv, key);
	free(key);
	strv_free(&names);
	strv_free(&rest);
	return had;
}

/* The planned members of device i's IOMMU group (i alone without groups). */
static bool same_group(const struct session *s, size_t i, size_t j)
{
	int g = s->devs.v[i].iommu_group;

	return j == i || (g >= 0 && s->devs.v[j].iommu_group == g &&
			  s->plan.v[j].decision == DEC_CLAIM && !pci_is_bridge(&s->devs.v[j]));
}

/* Why device i cannot be given to a guest as it is, or NULL: checked before anything moves. */
static char *check_one(struct session *s, size_t i, bool *lifecycle)
{
	const struct pci_dev *d = &s->devs.v[i];
	const struct verdict *v = &s->plan.v[i];

	*lifecycle = false;
	if (v->decision == DEC_REFUSE)
		return xasprintf("%s: refused: %s", d->addr, v->reason);
	if (v->decision == DEC_CLAIM && v->guest_rule) {
		*lifecycle = true;
		return NULL;
	}
	if (pci_on_vfio(d))
		return NULL; /* claimed at boot or by hand: only checked */
	if (v->decision == DEC_CLAIM)
		return xasprintf("%s: selected by %s to be claimed at boot, but not on a VFIO "
				 "driver now (driver '%s'); 'vfio-claim claim %s' takes it",
				 d->addr, v->rule ? v->rule->origin : "a claim",
				 d->driver ? d->driver : "none", d->addr);
	return xasprintf("%s: not on a VFIO driver (driver '%s') and no when=guest claim line "
			 "selects it (%s); add 'claim %s when=guest' to a file in "
			 "/etc/vfio-claim.d, or claim it with 'vfio-claim claim %s', or let "
			 "libvirt detach it (managed='yes')",
			 d->addr, d->driver ? d->driver : "none", v->reason, d->addr, d->addr);
}

size_t guest_pick(const struct session *s, const struct rule *rule, const char *tag, bool *want)
{
	size_t matched = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		const struct verdict *v = &s->plan.v[i];

		if (pci_is_bridge(&s->devs.v[i]))
			continue;
		if (rule)
			for (size_t k = 0; k < rule->nsels && !want[i]; k++)
				want[i] = selector_match(&rule->sels[k], &s->devs.v[i]);
		else
			want[i] = v->rule && v->rule->tag && streq(v->rule->tag, tag);
		matched += want[i];
	}
	return matched;
}

/* Gives back the groups claimed by this start (moved[]): the rollback of guest_claim(). */
static void give_back_moved(struct session *s, const bool *moved)
{
	bool *want = xcalloc(s->devs.n, sizeof(bool)), *touched = xcalloc(s->devs.n, sizeof(bool));

	for (size_t i = 0; i < s->devs.n; i++) {
		pci_refresh_driver(&s->devs.v[i]);
		want[i] = moved[i] && pci_on_vfio(&s->devs.v[i]);
	}
	for (size_t i = 0; i < s->devs.n; i++)
		if (want[i] && !touched[i])
			release_group(s, i, want, touched, true, "returned");
	free(want);
	free(touched);
}

int guest_claim(struct session *s, const char *name, const struct guest_starter *who,
		const bool *want, char **why)
{
	size_t n = s->devs.n;
	bool *life = xcalloc(n, sizeof(bool)), *handled = xcalloc(n, sizeof(bool));
	bool *moved = xcalloc(n, sizeof(bool)), *hold = xcalloc(n, sizeof(bool));
	char *ename = guest_escape(name), *rec = NULL;
	int r = 0, lock, glock = -1;

	*why = NULL;
	if (!ename) {
		*why = xasprintf("guest name '%s': a name is 1 to %d bytes", name, GUEST_NAME_MAX);
		r = -EINVAL;
		goto out;
	}
	/* every device first: a refusal changes nothing */
	for (size_t i = 0; i < n && !*why; i++)
		if (want[i])
			*why = check_one(s, i, &life[i]);
	if (*why) {
		r = -EPERM;
		goto out;
	}
	state_prepare();
	glock = state_lock_guests();
	for (size_t i = 0; i < n; i++) {
		enum claim_result cr;

		if (!life[i] || handled[i])
			continue;
		cr = claim_group(s, i, "guest", handled);
		if (cr == CLAIM_FAILED || cr == CLAIM_SKIPPED) {
			*why = xasprintf("%s: %s; nothing was claimed for guest '%s'",
					 s->devs.v[i].addr,
					 cr == CLAIM_FAILED ? "could not be claimed (see above)"
							    : "not claimed (see above)",
					 name);
			r = -EIO;
			give_back_moved(s, moved);
			goto out;
		}
		for (size_t j = 0; j < n; j++)
			if (same_group(s, i, j)) {
				moved[j] = cr != CLAIM_ALREADY;
				hold[j] = true;
			}
	}
	/* the holders: this guest, on every member it moved or that another guest moved */
	rec = guest_record_of(who);
	lock = state_lock();
	for (size_t j = 0; j < n; j++) {
		struct kv kv;

		if (!hold[j])
			continue;
		if (state_read(s->devs.v[j].addr, &kv) < 0)
			memset(&kv, 0, sizeof(kv));
		if (!moved[j] && !streq(kv_get(&kv, "lifecycle") ?: "", "yes")) {
			/* on vfio-pci before this guest came (by hand): not the guest's to give
			 * back */
			kv_free(&kv);
			continue;
		}
		if (moved[j])
			kv_set(&kv, "lifecycle", "yes");
		add_holder(&kv, ename, rec);
		if (state_write(s->devs.v[j].addr, &kv) < 0 && !*why) {
			*why = xasprintf("%s: cannot record guest '%s' as its holder under "
					 "'%s/run/vfio-claim/devices'",
					 s->devs.v[j].addr, name, root_get());
			r = -EIO;
		}
		kv_free(&kv);
	}
	if (lock >= 0)
		state_unlock(lock);
	if (r < 0)
		give_back_moved(s, moved);
out:
	state_unlock(glock);
	free(rec);
	free(ename);
	free(life);
	free(handled);
	free(moved);
	free(hold);
	return r;
}

int guest_release(struct session *s, const char *name, bool json, size_t *gave, bool *affected)
{
	char *ename = guest_escape(name);
	size_t n = s->devs.n;
	bool *want = xcalloc(n, sizeof(bool)), *touched = xcalloc(n, sizeof(bool));
	bool *drop = xcalloc(n, sizeof(bool));
	FILE *out = json ? stderr : stdout;
	bool other = false;
	int r = 0, lock, glock = -1;

	*gave = 0;
	if (!ename) {
		r = -EINVAL;
		goto out;
	}
	state_prepare();
	glock = state_lock_guests();
	/* as they are now, under the lock: a start may have moved them since the session read */
	for (size_t i = 0; i < n; i++)
		pci_refresh_driver(&s->devs.v[i]);
	for (size_t i = 0; i < n; i++) {
		struct pci_dev *d = &s->devs.v[i];
		struct strv names;
		struct kv kv;

		if (state_read(d->addr, &kv) < 0)
			continue;
		guest_holders(&kv, &names);
		/* the name as given, only: a name may be another guest's escaped name */
		other = other || (guest_is_escaped(name) && !streq(name, ename) &&
				  strv_contains(&names, name));
		if (strv_contains(&names, ename)) {
			drop[i] = true;
			/* the last holder of a device that this lifecycle moved: it goes back */
			want[i] = names.n == 1 && streq(kv_get(&kv, "lifecycle") ?: "", "yes") &&
				  pci_on_vfio(d);
		}
		strv_free(&names);
		kv_free(&kv);
	}
	if (other && !memchr(drop, true, n)) {
		char *word = guest_shell_word(name);

		log_info("guest '%s' holds no device; %s is how the state writes another guest's "
			 "name: 'vfio-claim release --guest %s' gives that one back",
			 name, name, word);
		free(word);
	}
	/* a group goes back when none of its members has another holder */
	for (size_t i = 0; i < n; i++) {
		int g = s->devs.v[i].iommu_group;

		for (size_t j = 0; j < n && want[i] && g >= 0; j++)
			if (j != i && s->devs.v[j].iommu_group == g && drop[j] && !want[j] &&
			    pci_on_vfio(&s->devs.v[j]))
				want[i] = false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!want[i] || touched[i])
			continue;
		if (release_group(s, i, want, touched, json, "returned") < 0) {
			int g = s->devs.v[i].iommu_group;

			/* not given back: this guest stays its holder, for the next try */
			for (size_t j = 0; j < n; j++)
				if (j == i || (g >= 0 && s->devs.v[j].iommu_group == g))
					drop[j] = touched[j] = false;
			r = -EBUSY;
		}
	}
	/* the others: this guest no longer holds them */
	lock = state_lock();
	for (size_t i = 0; i < n; i++) {
		const struct pci_dev *d = &s->devs.v[i];
		struct strv names;
		struct kv kv;

		if (affected)
			affected[i] = drop[i] || touched[i];
		if (!drop[i])
			continue;
		if (touched[i]) {
			(*gave)++;
			continue;
		}
		if (state_read(d->addr, &kv) < 0)
			continue;
		if (!drop_holder(&kv, ename)) {
			kv_free(&kv);
			continue;
		}
		guest_holders(&kv, &names);
		/* back on a host driver already (libvirt reattaches its managed='yes' hostdevs) */
		if (!pci_on_vfio(d) && !names.n) {
			kv_set(&kv, "state", "returned");
			kv_set(&kv, "driver", d->driver ? d->driver : "none");
			kv_del(&kv, "lifecycle");
		}
		if (state_write(d->addr, &kv) < 0) {
			log_error("%s: cannot record that guest '%s' stopped: %s", d->addr, name,
				  state_strerror(-EIO));
			r = -EIO;
		} else if (!pci_on_vfio(d)) {
			fprintf(out, "%s: back on '%s' already\n", d->addr,
				d->driver ? d->driver : "no driver");
		} else if (names.n) {
			fprintf(out, "%s: stays on %s: still held by guest%s %s\n", d->addr,
				d->driver, names.n > 1 ? "s" : "", kv_get(&kv, "guests"));
		} else {
			fprintf(out, "%s: stays on %s: not claimed for a guest (%s)\n", d->addr,
				d->driver, kv_get(&kv, "rule") ?: "claimed by hand or at boot");
		}
		strv_free(&names);
		kv_free(&kv);
	}
	if (lock >= 0)
		state_unlock(lock);
out:
	state_unlock(glock);
	free(ename);
	free(want);
	free(touched);
	free(drop);
	return r;
}
