// SPDX-License-Identifier: GPL-2.0-or-later
/* `release`: the rescue path, back to the host drivers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "cmd.h"
#include "devobj.h"
#include "log.h"
#include "sriov.h"

static bool held_by_vfio(const struct pci_dev *d)
{
	char *override = NULL;
	bool r = pci_on_vfio(d);

	if (!r && pci_read_attr(d, "driver_override", &override) == 0)
		r = streq(override, "vfio-pci") || pci_driver_is_vfio_variant(override);
	free(override);
	return r;
}

static int release_one(struct session *s, struct pci_dev *d, bool json)
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
	if (d->driver)
		fprintf(json ? stderr : stdout, "%s: released, now bound to '%s'\n", d->addr,
			d->driver);
	else
		fprintf(json ? stderr : stdout, "%s: released; no host driver took it\n", d->addr);
	if (!kv_get(&st, "address"))
		kv_set(&st, "address", d->addr);
	kv_set(&st, "state", "released");
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
static int release_group(struct session *s, size_t i, bool *want, bool *touched, bool json)
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
		if (release_one(s, &s->devs.v[members[k]], json) < 0)
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

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{},
	};
	struct selector *sels = NULL;
	size_t nsels = 0;
	struct session s;
	bool all = false, *want, *mine;
	int c, failed = 0, matched = 0;

	while ((c = cmd_getopt(cmd, opts, argc, argv, "a", longopts)) != CMD_OPT_END) {
		if (c != 'a')
			return cmd_exit_code(c);
		all = true;
	}
	if (all == (optind < argc)) {
		log_error("release needs selectors or --all, not both");
		return EXIT_USAGE;
	}
	if (cmd_parse_selectors(NULL, argc, argv, optind, &sels, &nsels) < 0)
		return EXIT_USAGE;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	want = xcalloc(s.devs.n, sizeof(bool));
	mine = xcalloc(s.devs.n + 1, sizeof(bool)); /* the devices this release touched */
	for (size_t i = 0; i < s.devs.n; i++) {
		for (size_t k = 0; k < nsels && !want[i]; k++)
			want[i] = selector_match(&sels[k], &s.devs.v[i]);
		want[i] = (all || want[i]) && held_by_vfio(&s.devs.v[i]);
		matched += want[i];
	}
	for (size_t i = 0; i < s.devs.n; i++)
		if (want[i])
			failed += release_group(&s, i, want, mine, opts->json) < 0;
	if (opts->json) {
		struct names *db = names_open();
		struct jsonw w;

		/* the plan as it stands after these releases */
		strv_free(&s.released);
		state_released(&s.released);
		session_plan(&s, NULL);
		jsonw_init(&w, stdout);
		jsonw_object_open(&w, NULL);
		jsonw_array_open(&w, "devices");
		for (size_t i = 0; i < s.devs.n; i++)
			if (mine[i])
				devobj_json(&w, NULL, &s, db, i);
		jsonw_array_close(&w);
		jsonw_object_close(&w);
		names_close(db);
	}
	free(mine);
	if (!matched && !all) {
		log_error("no device matching the selectors is held by vfio-pci");
		failed++;
	}
	cmd_selectors_free(sels, nsels);
	free(want);
	session_close(&s);
	return failed ? EXIT_RUNTIME : 0;
}

const struct cmd cmd_release = {
	.name = "release",
	.args = "SELECTOR...|--all",
	.help = "give devices back to their host drivers (the rescue path)",
	.options_help = " -a, --all        every device held by vfio-pci\n",
	.run = run,
};
