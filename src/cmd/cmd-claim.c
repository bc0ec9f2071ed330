// SPDX-License-Identifier: GPL-2.0-or-later
/* `claim`: claim devices now, by hand, for this boot only. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "devobj.h"
#include "guest.h"
#include "log.h"

/* The devices the claim named or took along, as they are now (SPEC §3 device objects). */
static void print_json(struct session *s, const struct rule *rule, const bool *handled)
{
	struct names *db = names_open();
	struct jsonw w;

	jsonw_init(&w, stdout);
	jsonw_object_open(&w, NULL);
	jsonw_array_open(&w, "devices");
	for (size_t i = 0; i < s->devs.n; i++) {
		bool named = false;

		for (size_t k = 0; k < rule->nsels; k++)
			named |= selector_match(&rule->sels[k], &s->devs.v[i]);
		if (named || handled[i] || s->plan.v[i].rule == rule)
			devobj_json(&w, NULL, s, db, i);
	}
	jsonw_array_close(&w);
	jsonw_object_close(&w);
	names_close(db);
}

/*
 * claim --guest NAME: the devices named follow guest NAME (unless a claim at boot has them,
 * which are only checked); all or nothing (guest_claim()).
 */
static int claim_for_guest(struct session *s, struct rule *rule, const char *guest, bool json)
{
	const struct guest_starter who = { .kind = "manual" };
	bool *want = xcalloc(s->devs.n, sizeof(bool));
	char *why = NULL;
	int r;

	s->guests = true;
	session_plan(s, rule);
	if (!guest_pick(s, rule, NULL, want)) {
		log_error("no PCI device matches the selectors given");
		free(want);
		return EXIT_RUNTIME;
	}
	r = guest_claim(s, guest, &who, want, &why);
	if (r < 0)
		log_error("%s: %s", guest, why);
	else
		for (size_t i = 0; i < s->devs.n; i++)
			if (want[i])
				fprintf(json ? stderr : stdout, "%s: on %s for guest '%s'\n",
					s->devs.v[i].addr, s->devs.v[i].driver, guest);
	if (json)
		print_json(s, rule, want);
	free(why);
	free(want);
	return r < 0 ? EXIT_RUNTIME : 0;
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "driver", required_argument, NULL, 'd' },
		{ "guest", required_argument, NULL, 'g' },
		{},
	};
	const char *guest = NULL;
	struct session s;
	struct rule rule;
	bool *handled;
	const char *bad = NULL, *why = NULL;
	bool force = false, plain = false;
	int c, failed = 0, matched = 0;

	while ((c = cmd_getopt(cmd, opts, argc, argv, "fd:g:", longopts)) != CMD_OPT_END) {
		if (c == 'g') {
			guest = optarg;
		} else if (c == 'd' && streq(optarg, "vfio-pci")) {
			plain = true;
		} else if (c == 'd') {
			log_error(
			    "--driver takes only 'vfio-pci' (plain vfio-pci instead of a VFIO "
			    "variant driver), not '%s'",
			    optarg);
			fprintf(stderr, "Try 'vfio-claim claim --help' for more information.\n");
			return EXIT_USAGE;
		} else if (c == 'f') {
			force = true;
		} else {
			return cmd_exit_code(c);
		}
	}
	if (optind >= argc) {
		log_error("claim needs at least one selector");
		fprintf(stderr, "Try 'vfio-claim claim --help' for more information.\n");
		return EXIT_USAGE;
	}
	if (config_parse_rule_args(&rule, argv + optind, (size_t)(argc - optind), false, &bad,
				   &why) < 0) {
		log_error("'%s': %s", bad ? bad : argv[optind], why);
		rule_free(&rule);
		return EXIT_USAGE;
	}
	rule.force = force;
	rule.plain_vfio = plain;
	rule.guest = guest != NULL;
	rule.origin = xstrdup(guest ? "the vfio-claim claim --guest command"
				    : "the vfio-claim claim command");
	if (guest && !(bad = guest_escape(guest))) {
		log_error("guest name '%s': a name is 1 to %d bytes", guest, GUEST_NAME_MAX);
		rule_free(&rule);
		return EXIT_USAGE;
	}
	free((char *)bad);
	if (session_open(&s) < 0) {
		rule_free(&rule);
		return EXIT_RUNTIME;
	}
	if (guest) {
		failed = claim_for_guest(&s, &rule, guest, opts->json);
		session_close(&s);
		rule_free(&rule);
		return failed;
	}
	/* a person asked for these devices: with vfio_claim=off, only this claim counts */
	if (s.cfg.off)
		log_info("vfio_claim=off is on the kernel command line: only the devices named "
			 "here are claimed");
	session_plan(&s, &rule);
	handled = xcalloc(s.devs.n, sizeof(bool));
	for (size_t i = 0; i < s.devs.n; i++) {
		const struct verdict *v = &s.plan.v[i];
		bool named = false;

		for (size_t k = 0; k < rule.nsels; k++)
			named |= selector_match(&rule.sels[k], &s.devs.v[i]);
		if (!named && v->rule != &rule)
			continue;
		if (named)
			matched++;
		if (v->decision == DEC_CLAIM && handled[i]) {
			continue;
		} else if (v->decision == DEC_CLAIM) {
			enum claim_result cr = claim_group(&s, i, "manual", handled);
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
	if (opts->json)
		print_json(&s, &rule, handled);
	free(handled);
	session_close(&s);
	rule_free(&rule);
	return failed ? EXIT_RUNTIME : 0;
}

const struct cmd cmd_claim = {
	.name = "claim",
	.args = "[--force] [--driver vfio-pci] [--guest NAME] SELECTOR...",
	.help = "claim devices now, for this boot only",
	.options_help = " -f, --force      claim devices named by address despite a safety rule\n"
			" -d, --driver vfio-pci  plain vfio-pci, not a VFIO variant driver\n"
			" -g, --guest NAME  for guest NAME: given back when no guest holds it\n"
			"                  (vfio-claim release --guest NAME)\n",
	.run = run,
};
