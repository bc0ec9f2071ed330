// SPDX-License-Identifier: GPL-2.0-or-later
/* `release`: the rescue path, back to the host drivers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "devobj.h"
#include "guest.h"
#include "log.h"

/* release --guest NAME: NAME stopped; what no guest holds any more goes back. */
static int release_guest(struct options *opts, const char *guest)
{
	struct session s;
	size_t gave = 0;
	bool *mine;
	int r;

	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	mine = xcalloc(s.devs.n + 1, sizeof(bool));
	r = guest_release(&s, guest, opts->json, &gave, mine);
	if (r == -EINVAL)
		log_error("guest name '%s': a name is 1 to %d bytes", guest, GUEST_NAME_MAX);
	else if (r < 0) {
		char *word = guest_word(guest);

		log_error("%s: not every device of the guest could be given back; it stays their "
			  "holder: stop what holds them and run 'vfio-claim release --guest %s' "
			  "again",
			  guest, word);
		free(word);
	}
	if (opts->json) {
		struct names *db = names_open();
		struct jsonw w;

		session_plan(&s, NULL);
		jsonw_init(&w, stdout);
		jsonw_object_open(&w, NULL);
		jsonw_array_open(&w, "devices");
		for (size_t i = 0; i < s.devs.n; i++)
			if (mine[i]) {
				pci_refresh_driver(&s.devs.v[i]);
				devobj_json(&w, NULL, &s, db, i);
			}
		jsonw_array_close(&w);
		jsonw_object_close(&w);
		names_close(db);
	}
	free(mine);
	session_close(&s);
	return r == -EINVAL ? EXIT_USAGE : r < 0 ? EXIT_RUNTIME : 0;
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "guest", required_argument, NULL, 'g' },
		{},
	};
	const char *guest = NULL;
	struct selector *sels = NULL;
	size_t nsels = 0;
	struct session s;
	bool all = false, *want, *mine;
	int c, failed = 0, matched = 0;

	while ((c = cmd_getopt(cmd, opts, argc, argv, "ag:", longopts)) != CMD_OPT_END) {
		if (c == 'g')
			guest = optarg;
		else if (c == 'a')
			all = true;
		else
			return cmd_exit_code(c);
	}
	if (guest && (all || optind < argc)) {
		log_error("release --guest NAME takes no selectors and no --all");
		return EXIT_USAGE;
	}
	if (guest)
		return release_guest(opts, guest);
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
			failed += release_group(&s, i, want, mine, opts->json, "released") < 0;
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
	.args = "SELECTOR...|--all|--guest NAME",
	.help = "give devices back to their host drivers (the rescue path)",
	.options_help = " -a, --all        every device held by vfio-pci\n"
			" -g, --guest NAME  guest NAME stopped: give back what no guest holds\n",
	.run = run,
};
