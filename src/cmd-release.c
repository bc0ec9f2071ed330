// SPDX-License-Identifier: GPL-2.0-or-later
/* `release`: the rescue path back to host drivers; `status`: what this boot claimed. */
#include "bind.h"
#include "cmd.h"
#include "json.h"
#include "log.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static bool held_by_vfio(const struct pci_dev *d)
{
	char *override = NULL;
	bool r = d->driver && streq(d->driver, "vfio-pci");

	if (!r && pci_read_attr(d, "driver_override", &override) == 0)
		r = streq(override, "vfio-pci");
	free(override);
	return r;
}

static int release_one(struct session *s, struct pci_dev *d)
{
	struct bind_error err = { { 0 } };
	struct kv st = { 0 };
	char *holders = NULL, buf[64];
	int lock, r, ret = 0;

	if (d->iommu_group >= 0 && (holders = vfio_group_holders(d->iommu_group))) {
		log_error("%s: /dev/vfio/%d is in use by %s: stop it first, then release", d->addr,
			  d->iommu_group, holders);
		free(holders);
		return -1;
	}
	state_prepare();
	lock = state_lock();
	state_read(d->addr, &st);
	r = bind_release(session_kmod(s), d, kv_get(&st, "host_module"), &err);
	if (r < 0) {
		log_error("%s: %s failed: %s", d->addr, err.step, errstr(r));
		ret = -1;
		goto out;
	}
	if (d->driver)
		printf("%s: released, now bound to '%s'\n", d->addr, d->driver);
	else
		printf("%s: released; no host driver took it\n", d->addr);
	if (!kv_get(&st, "address"))
		kv_set(&st, "address", d->addr);
	kv_set(&st, "state", "released");
	kv_set(&st, "driver", d->driver ? d->driver : "none");
	format_now(buf, sizeof(buf));
	kv_set(&st, "released", buf);
	r = state_write(d->addr, &st);
	if (r < 0)
		log_warn("%s: cannot record the release in the state directory: %s, ignoring",
			 d->addr, errstr(r));
out:
	kv_free(&st);
	state_unlock(lock);
	return ret;
}

int cmd_release(const struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct selector *sels = NULL;
	size_t nsels = 0;
	struct session s;
	bool all = false;
	int c, failed = 0, matched = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+ah", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'h':
			printf("Usage: vfio-claim release SELECTOR...|--all\n");
			return 0;
		default:
			fprintf(stderr, "Try 'vfio-claim --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (all == (optind < argc)) {
		log_error("release needs selectors or --all, not both");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		const char *why;
		sels = xrealloc(sels, (nsels + 1) * sizeof(*sels));
		if (selector_parse(argv[i], &sels[nsels], &why) < 0) {
			log_error("'%s': %s", argv[i], why);
			for (size_t k = 0; k < nsels; k++)
				selector_free(&sels[k]);
			free(sels);
			return EXIT_USAGE;
		}
		nsels++;
	}
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	for (size_t i = 0; i < s.devs.n; i++) {
		struct pci_dev *d = &s.devs.v[i];
		bool want = all;

		for (size_t k = 0; k < nsels && !want; k++)
			want = selector_match(&sels[k], d);
		if (!want || !held_by_vfio(d))
			continue;
		matched++;
		if (release_one(&s, d) < 0)
			failed++;
	}
	if (!matched && !all) {
		log_error("no device matching the selectors is held by vfio-pci");
		failed++;
	}
	for (size_t k = 0; k < nsels; k++)
		selector_free(&sels[k]);
	free(sels);
	session_close(&s);
	return failed ? EXIT_RUNTIME : 0;
}

int cmd_status(const struct options *opts, int argc, char *argv[])
{
	struct strv addrs = { 0 };
	struct session s;
	char *errors = NULL, *p;
	int n = 0;

	if (no_arguments(argc, argv) < 0)
		return EXIT_USAGE;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	state_list(&addrs);
	/* devices the kernel gave to vfio-pci (vfio-pci.ids=) have no entry of ours */
	for (size_t i = 0; i < s.devs.n; i++)
		if (s.devs.v[i].driver && streq(s.devs.v[i].driver, "vfio-pci") &&
		    !strv_contains(&addrs, s.devs.v[i].addr))
			strv_push(&addrs, xstrdup(s.devs.v[i].addr));
	strv_sort(&addrs);
	p = root_path("/run/vfio-claim/config-errors");
	read_text(p, &errors);
	free(p);

	if (opts->json)
		fputs("{\"devices\":[", stdout);
	else
		printf("%-12s %-9s %-9s %-14s %-10s %-5s %s\n", "DEVICE", "STAGE", "STATE",
		       "HOST_DRIVER", "DRIVER", "HOLDS", "RULE");
	for (size_t k = 0; k < addrs.n; k++) {
		struct kv st = { 0 };
		int i = pci_find(&s.devs, addrs.v[k]);
		const char *driver = i >= 0 ? s.devs.v[i].driver : NULL;
		bool has = state_read(addrs.v[k], &st) == 0;
		const char *state = has ? kv_get(&st, "state") : "claimed";
		bool holds = driver && streq(driver, "vfio-pci");

		if (opts->json) {
			int f = 1;
			fputs(n++ ? ",{" : "{", stdout);
			json_kv_str(stdout, "device", addrs.v[k], &f);
			json_kv_str(stdout, "stage", has ? kv_get(&st, "stage") : "kernel", &f);
			json_kv_str(stdout, "state", state, &f);
			json_kv_str(stdout, "host_driver", has ? kv_get(&st, "host_driver") : NULL,
				    &f);
			json_kv_str(stdout, "driver", driver, &f);
			json_kv_bool(stdout, "holds", holds, &f);
			json_kv_str(stdout, "rule", has ? kv_get(&st, "rule") : NULL, &f);
			json_kv_str(stdout, "tag", has ? kv_get(&st, "tag") : NULL, &f);
			json_kv_str(stdout, "time", has ? kv_get(&st, "time") : NULL, &f);
			json_kv_str(stdout, "error", has ? kv_get(&st, "error") : NULL, &f);
			fputc('}', stdout);
		} else {
			printf("%-12s %-9s %-9s %-14s %-10s %-5s %s\n", addrs.v[k],
			       has ? kv_get(&st, "stage") ?: "?" : "kernel", state ? state : "?",
			       has ? kv_get(&st, "host_driver") ?: "?" : "?",
			       driver ? driver : "none", holds ? "yes" : "no",
			       has ? kv_get(&st, "rule") ?: "" : "vfio-pci.ids=");
			if (has && kv_get(&st, "error"))
				printf("\terror: %s\n", kv_get(&st, "error"));
		}
		kv_free(&st);
	}
	if (opts->json) {
		fputs("],\"config_errors\":", stdout);
		json_str(stdout, errors);
		fputs("}\n", stdout);
	} else {
		if (!addrs.n)
			printf("no device claimed this boot\n");
		if (errors)
			printf("configuration errors at boot:\n%s\n", errors);
	}
	free(errors);
	strv_free(&addrs);
	session_close(&s);
	return 0;
}
