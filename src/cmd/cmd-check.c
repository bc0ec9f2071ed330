// SPDX-License-Identifier: GPL-2.0-or-later
/* `check`: validate the configuration (files and kernel command line) and print the plan. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "devobj.h"
#include "json.h"
#include "log.h"

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct strv claimed = { 0 }, late = { 0 };
	size_t count[3] = { 0 };
	struct session s;
	char *stale;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	/*
	 * The claims of this boot a rebuilt initramfs would make in time, from the entries the
	 * session read; said after the plan. Shown as text, the plan reads no entry: forgotten.
	 */
	state_list(&claimed);
	for (size_t k = 0; k < claimed.n; k++) {
		int i = pci_find(&s.devs, claimed.v[k]);
		char *state, *stage, *from;

		/* only a storage controller can be late: three values of its entry */
		if (i < 0 || !(pci_categories(s.devs.v[i].class) & CAT_STORAGE))
			continue;
		state = state_get(claimed.v[k], "state");
		stage = state_get(claimed.v[k], "stage");
		from = state_get(claimed.v[k], "taken_from");
		if (state && streq(state, "claimed") &&
		    late_storage(&s.devs.v[i], stage ?: "", from))
			strv_push(&late, xstrdup(claimed.v[k]));
		free(state);
		free(stage);
		free(from);
	}
	strv_free(&claimed);
	if (!opts->json)
		state_forget();
	session_plan(&s, NULL);
	stale = session_stale_image();
	for (size_t i = 0; i < s.devs.n; i++)
		count[s.plan.v[i].decision]++;
	if (opts->json) {
		struct names *db = names_open();
		struct jsonw w;

		jsonw_init(&w, stdout);
		jsonw_object_open(&w, NULL);
		jsonw_array_open(&w, "devices");
		for (size_t i = 0; i < s.devs.n; i++)
			devobj_json(&w, NULL, &s, db, i);
		jsonw_array_close(&w);
		names_close(db);
		jsonw_array_open(&w, "errors");
		for (size_t i = 0; i < s.cfg.nerrors; i++) {
			const struct config_error *e = &s.cfg.errors[i];

			jsonw_object_open(&w, NULL);
			jsonw_string(&w, "file", e->file);
			if (e->line)
				jsonw_uint(&w, "line", e->line);
			else
				jsonw_null(&w, "line");
			jsonw_string(&w, "message", e->message);
			jsonw_object_close(&w);
		}
		jsonw_array_close(&w);
		jsonw_object_open(&w, "summary");
		jsonw_uint(&w, "claim", count[DEC_CLAIM]);
		jsonw_uint(&w, "refuse", count[DEC_REFUSE]);
		jsonw_uint(&w, "keep", count[DEC_KEEP]);
		jsonw_object_close(&w);
		jsonw_bool(&w, "off", s.cfg.off);
		jsonw_string(&w, "stale_image", stale);
		jsonw_object_close(&w);
	} else {
		for (size_t i = 0; i < s.devs.n; i++) {
			const struct pci_dev *d = &s.devs.v[i];
			const struct verdict *v = &s.plan.v[i];
			printf("%-6s %s  %-7s %04x:%04x  %s\n", decision_name(v->decision), d->addr,
			       pci_category_name(d), d->vendor, d->device, v->reason);
		}
		if (s.cfg.off)
			printf("vfio_claim=off is on the kernel command line: no device is claimed "
			       "this boot\n");
		printf("%zu to claim, %zu refused, %zu kept%s\n", count[DEC_CLAIM],
		       count[DEC_REFUSE], count[DEC_KEEP],
		       s.cfg.nerrors ? "; the configuration has errors (below)" : "");
	}
	print_config_errors(&s.cfg);
	for (size_t k = 0; k < late.n; k++)
		log_warn("%s: %s", late.v[k], LATE_STORAGE);
	strv_free(&late);
	if (stale)
		log_warn("%s", stale);
	free(stale);
	r = s.cfg.nerrors ? EXIT_USAGE : 0;
	session_close(&s);
	return r;
}

const struct cmd cmd_check = {
	.name = "check",
	.help = "validate the configuration and print the plan: claim, keep or refuse, and why",
	.run = run,
};
