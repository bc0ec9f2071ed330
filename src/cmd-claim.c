// SPDX-License-Identifier: GPL-2.0-or-later
/* `boot`, `udev` and `claim`: the three ways a device gets claimed, and `root-devices`. */
#include "cmd.h"
#include "json.h"
#include "log.h"
#include "perms.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define SELECT_RULES "/run/udev/rules.d/69-vfio-claim-select.rules"

/* The udev rule runs vfio-claim only for devices a claim can select: write their matches. */
static int write_select_rules(const struct config *cfg)
{
	char *dir = root_path("/run/udev/rules.d"), *path = root_path(SELECT_RULES), *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		abort();
	fprintf(
	    f,
	    "# Written by 'vfio-claim boot' from the configuration; do not edit.\n"
	    "# Marks the PCI devices that a claim can select, so that 70-vfio-claim.rules runs\n"
	    "# vfio-claim for them only.%s\n"
	    "ACTION!=\"add\", GOTO=\"vfio_claim_select_end\"\n"
	    "SUBSYSTEM!=\"pci\", GOTO=\"vfio_claim_select_end\"\n",
	    cfg->off ? " vfio_claim=off: none this boot." : "");
	for (size_t i = 0; i < cfg->claims.n && !cfg->off; i++) {
		const struct rule *rl = &cfg->claims.v[i];
		for (size_t k = 0; k < rl->nsels; k++) {
			char *m = selector_udev_match(&rl->sels[k]);
			/* udev allows comments only on lines of their own */
			fprintf(f, "# %s '%s'\n%s, ENV{VFIO_CLAIM_SELECT}=\"1\"\n", rl->origin,
				rl->sels[k].text, m);
			free(m);
		}
	}
	fputs("LABEL=\"vfio_claim_select_end\"\n", f);
	fclose(f);
	r = mkdir_p(dir, 0755);
	if (r == 0)
		r = write_atomic(path, text, 0644);
	if (r < 0)
		log_warn("cannot write '%s': %s, ignoring", path, errstr(r));
	free(text);
	free(dir);
	free(path);
	return r;
}

static void record_config_errors(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		abort();
	for (size_t i = 0; i < cfg->nerrors; i++) {
		const struct config_error *e = &cfg->errors[i];
		if (e->line)
			fprintf(f, "%s:%u: %s\n", e->file, e->line, e->message);
		else
			fprintf(f, "%s: %s\n", e->file, e->message);
	}
	for (size_t i = 0; i < cfg->broken_files.n; i++)
		fprintf(f, "not applied: %s\n", cfg->broken_files.v[i]);
	fclose(f);
	r = len ? state_write_file("config-errors", text) : state_remove_file("config-errors");
	if (r < 0)
		log_warn("cannot record configuration errors in the state directory: %s, ignoring",
			 errstr(r));
	free(text);
}

int cmd_boot(const struct options *opts, int argc, char *argv[])
{
	struct session s;
	int failed = 0, r;

	if (no_arguments(argc, argv) < 0)
		return EXIT_USAGE;
	log_open_kmsg();
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	r = state_prepare();
	if (r < 0)
		log_error("cannot create the state directory '%s/run/vfio-claim': %s", root_get(),
			  errstr(r));
	print_config_errors(&s.cfg);
	for (size_t i = 0; i < s.cfg.broken_files.n; i++)
		log_error("%s: not applied because of the errors above: nothing is claimed from it "
			  "this boot",
			  s.cfg.broken_files.v[i]);
	record_config_errors(&s.cfg);
	write_select_rules(&s.cfg);
	if (s.cfg.off) {
		log_info(
		    "vfio_claim=off on the kernel command line: no device is claimed this boot");
		session_close(&s);
		return 0;
	}
	session_plan(&s);
	for (size_t i = 0; i < s.devs.n; i++) {
		const struct verdict *v = &s.plan.v[i];

		if (v->decision == DEC_REFUSE)
			log_warn("%s: refused: %s", s.devs.v[i].addr, v->reason);
		else if (v->decision == DEC_CLAIM &&
			 claim_device(&s, i, "initramfs") == CLAIM_FAILED)
			failed++;
	}
	session_close(&s);
	return failed ? EXIT_RUNTIME : 0;
}

/* "/sys/devices/..." or "/devices/..." (DEVPATH) -> the kernel name and the path */
static const char *devpath_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* /dev/vfio/N and /dev/vfio/devices/vfioN: owner, group and mode from the policy */
static int udev_vfio_node(struct session *s, const char *devpath, const char *subsystem)
{
	const struct rule *rule = NULL;
	struct perms p;
	long uid, gid;
	int group = -1;

	if (streq(subsystem, "vfio")) {
		const char *name = devpath_name(devpath);
		if (name[strspn(name, "0123456789")] != '\0' || !*name)
			return 0; /* the control node /dev/vfio/vfio */
		group = atoi(name);
	} else {
		/* .../0000:01:00.0/vfio-dev/vfio0: the PCI device is two levels up */
		char *copy = xstrdup(devpath), *cut = strstr(copy, "/vfio-dev/");
		if (cut) {
			*cut = '\0';
			int i = pci_find(&s->devs, devpath_name(copy));
			if (i >= 0)
				group = s->devs.v[i].iommu_group;
		}
		free(copy);
	}
	session_plan(s);
	for (size_t i = 0; i < s->devs.n && group >= 0; i++)
		if (s->devs.v[i].iommu_group == group && s->plan.v[i].decision == DEC_CLAIM &&
		    s->plan.v[i].rule) {
			rule = s->plan.v[i].rule;
			if (rule->perms.owner || rule->perms.group || rule->perms.mode >= 0)
				break;
		}
	perms_effective(rule, &s->cfg, &p);
	if (perms_resolve(&p, &uid, &gid) < 0) {
		log_warn("/dev/vfio/%d: unknown owner '%s' or group '%s', ignoring", group,
			 p.owner ? p.owner : "", p.group ? p.group : "");
		return 0;
	}
	if (uid >= 0)
		printf("VFIO_CLAIM_OWNER=%ld\n", uid);
	if (gid >= 0)
		printf("VFIO_CLAIM_GROUP=%ld\n", gid);
	if (p.mode >= 0)
		printf("VFIO_CLAIM_MODE=%04o\n", p.mode);
	return 0;
}

int cmd_udev(const struct options *opts, int argc, char *argv[])
{
	const char *devpath = argc > 1 ? argv[1] : getenv("DEVPATH");
	const char *subsystem = getenv("SUBSYSTEM");
	struct session s;
	int i, r = 0;

	if (argc > 2) {
		log_error("udev takes one device path: '%s'", argv[2]);
		return EXIT_USAGE;
	}
	if (!devpath || !*devpath) {
		log_error("udev needs a device path, or DEVPATH in the environment");
		return EXIT_USAGE;
	}
	if (strncmp(devpath, "/sys/", 5) == 0)
		devpath += 4;
	log_open_kmsg();
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	if (!subsystem)
		subsystem = strstr(devpath, "/vfio-dev/")	? "vfio-dev"
			    : strstr(devpath, "/virtual/vfio/") ? "vfio"
								: "pci";
	if (streq(subsystem, "vfio") || streq(subsystem, "vfio-dev")) {
		r = udev_vfio_node(&s, devpath, subsystem);
		goto out;
	}
	i = pci_find(&s.devs, devpath_name(devpath));
	if (i < 0) {
		log_error("'%s' is not a PCI device under '%s/sys'", devpath, root_get());
		r = EXIT_RUNTIME;
		goto out;
	}
	session_plan(&s);
	{
		const struct verdict *v = &s.plan.v[i];
		struct kv st = { 0 };
		const char *state = "kept";

		state_read(s.devs.v[i].addr, &st);
		if (v->decision == DEC_REFUSE) {
			state = "refused";
			log_warn("%s: refused: %s", s.devs.v[i].addr, v->reason);
		} else if (v->decision == DEC_CLAIM &&
			   streq(kv_get(&st, "state") ?: "", "released")) {
			printf("VFIO_CLAIM=kept\nVFIO_CLAIM_REASON=released by hand this boot "
			       "(vfio-claim release)\n");
			kv_free(&st);
			goto out;
		} else if (v->decision == DEC_CLAIM) {
			enum claim_result cr = claim_device(&s, (size_t)i, "udev");
			state = cr == CLAIM_FAILED ? "failed" : "claimed";
		}
		printf("VFIO_CLAIM=%s\nVFIO_CLAIM_REASON=%s\n", state, v->reason);
		kv_free(&st);
	}
out:
	session_close(&s);
	return r;
}

int cmd_claim(const struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct session s;
	struct rule rule;
	const char *bad = NULL, *why = NULL;
	bool force = false;
	int c, failed = 0, matched = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			printf("Usage: vfio-claim claim [--force] SELECTOR...\n");
			return 0;
		default:
			fprintf(stderr, "Try 'vfio-claim --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		log_error("claim needs at least one selector");
		return EXIT_USAGE;
	}
	if (config_parse_rule_args(&rule, argv + optind, (size_t)(argc - optind), false, &bad,
				   &why) < 0) {
		log_error("'%s': %s", bad ? bad : argv[optind], why);
		rule_free(&rule);
		return EXIT_USAGE;
	}
	rule.force = force;
	rule.origin = xstrdup("the vfio-claim claim command");
	if (session_open(&s) < 0) {
		rule_free(&rule);
		return EXIT_RUNTIME;
	}
	if (s.cfg.off) {
		/* a person asked for these devices: only this claim counts this boot */
		log_info("vfio_claim=off is on the kernel command line: only the devices named "
			 "here are claimed");
		s.cfg.off = false;
		for (size_t i = 0; i < s.cfg.claims.n; i++)
			rule_free(&s.cfg.claims.v[i]);
		s.cfg.claims.n = 0;
	}
	s.cfg.claims.v = xrealloc(s.cfg.claims.v, (s.cfg.claims.n + 1) * sizeof(rule));
	s.cfg.claims.v[s.cfg.claims.n++] = rule;
	session_plan(&s);
	for (size_t i = 0; i < s.devs.n; i++) {
		const struct rule *mine = &s.cfg.claims.v[s.cfg.claims.n - 1];
		const struct verdict *v = &s.plan.v[i];
		bool named = false;

		for (size_t k = 0; k < mine->nsels; k++)
			named |= selector_match(&mine->sels[k], &s.devs.v[i]);
		if (!named && v->rule != mine)
			continue;
		if (named)
			matched++;
		if (v->decision == DEC_CLAIM) {
			enum claim_result cr = claim_device(&s, i, "manual");
			if (cr == CLAIM_FAILED)
				failed++;
			else if (cr == CLAIM_ALREADY)
				log_info("%s: already claimed", s.devs.v[i].addr);
		} else if (named) {
			log_error("%s: not claimed: %s", s.devs.v[i].addr, v->reason);
			failed++;
		}
	}
	if (!matched) {
		log_error("no PCI device matches the selectors given");
		failed++;
	}
	session_close(&s);
	return failed ? EXIT_RUNTIME : 0;
}

int cmd_root_devices(const struct options *opts, int argc, char *argv[])
{
	struct session s;

	if (rootdev_in_chroot()) {
		log_warn("running in a chroot: the root device of the system being built is not "
			 "known here, none is recorded");
		return 0;
	}
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	session_plan(&s);
	for (size_t i = 0; i < s.plan.protected.n; i++) {
		int k = pci_find(&s.devs, s.plan.protected.v[i].addr);
		if (k >= 0 && !pci_is_bridge(&s.devs.v[k]))
			printf("path=%s\n", s.devs.v[k].pcipath);
	}
	if (s.plan.protected.unresolved)
		log_warn("root device '%s' not found", s.plan.protected.unresolved);
	session_close(&s);
	return 0;
}
