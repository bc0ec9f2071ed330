// SPDX-License-Identifier: GPL-2.0-or-later
/* `check`: validate the configuration (files and kernel command line) and print the plan. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"
#include "log.h"

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct session s;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	session_plan(&s, NULL);
	if (opts->json) {
		fputs("{\"devices\":[", stdout);
		for (size_t i = 0; i < s.devs.n; i++) {
			const struct pci_dev *d = &s.devs.v[i];
			const struct verdict *v = &s.plan.v[i];
			int f = 1;

			fputs(i ? ",{" : "{", stdout);
			json_kv_str(stdout, "device", d->addr, &f);
			json_kv_str(stdout, "decision", decision_name(v->decision), &f);
			json_kv_str(stdout, "reason", v->reason, &f);
			json_kv_str(stdout, "category", pci_category_name(d), &f);
			json_kv_int(stdout, "iommu_group", d->iommu_group, &f);
			json_kv_str(stdout, "rule", v->rule ? v->rule->origin : NULL, &f);
			fputc('}', stdout);
		}
		fputs("],\"errors\":[", stdout);
		for (size_t i = 0; i < s.cfg.nerrors; i++) {
			const struct config_error *e = &s.cfg.errors[i];
			int f = 1;
			fputs(i ? ",{" : "{", stdout);
			json_kv_str(stdout, "file", e->file, &f);
			json_kv_int(stdout, "line", e->line, &f);
			json_kv_str(stdout, "message", e->message, &f);
			fputc('}', stdout);
		}
		fputc(']', stdout);
		json_kv_bool(stdout, "off", s.cfg.off, &(int){ 0 });
		fputs("}\n", stdout);
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
	}
	print_config_errors(&s.cfg);
	r = s.cfg.nerrors ? EXIT_USAGE : 0;
	session_close(&s);
	return r;
}

const struct cmd cmd_check = {
	.name = "check",
	.help = "validate the configuration and print the plan: claim, keep or refuse, and why",
	.run = run,
};
