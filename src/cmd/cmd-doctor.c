// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `doctor`: is this machine ready for passthrough, and is the boot set up as the configuration
 * says? One line per check, ok / warn / fail, each with its fix. The checks (doctor.h) run in the
 * order of the table below; each reads the root (--root DIR): sysfs, /proc, the module folder,
 * the state directory, /etc.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "doctor.h"
#include "json.h"

static const char *const result_names[] = { "ok", "warn", "fail" };

static void report_free(struct report *rp)
{
	for (size_t i = 0; i < rp->n; i++) {
		free(rp->v[i].message);
		free(rp->v[i].fix);
	}
	free(rp->v);
}

static void print_json(const struct report *rp, const size_t count[3])
{
	struct jsonw w;

	jsonw_init(&w, stdout);
	jsonw_object_open(&w, NULL);
	jsonw_array_open(&w, "checks");
	for (size_t i = 0; i < rp->n; i++) {
		jsonw_object_open(&w, NULL);
		jsonw_string(&w, "name", rp->v[i].name);
		jsonw_string(&w, "result", result_names[rp->v[i].result]);
		jsonw_string(&w, "message", rp->v[i].message);
		jsonw_string(&w, "fix", rp->v[i].fix);
		jsonw_object_close(&w);
	}
	jsonw_array_close(&w);
	jsonw_object_open(&w, "summary");
	for (size_t k = 0; k < 3; k++)
		jsonw_uint(&w, result_names[k], count[k]);
	jsonw_object_close(&w);
	jsonw_object_close(&w);
}

/* "RESULT NAME MESSAGE; fix: FIX" lines, then the counts. */
static void print_text(const struct report *rp, const size_t count[3])
{
	for (size_t i = 0; i < rp->n; i++) {
		const struct finding *c = &rp->v[i];

		printf("%-4s %-19s %s", result_names[c->result], c->name, c->message);
		if (c->fix)
			printf("; fix: %s", c->fix);
		putchar('\n');
	}
	printf("%zu ok, %zu warn, %zu fail\n", count[RES_OK], count[RES_WARN], count[RES_FAIL]);
}

static void print(const struct report *rp, bool json)
{
	size_t count[ARRAY_SIZE(result_names)] = { 0 };

	for (size_t i = 0; i < rp->n; i++)
		count[rp->v[i].result]++;
	if (json)
		print_json(rp, count);
	else
		print_text(rp, count);
}

/* The checks, in the order of the report; a check adds its lines under its name. */
static const struct doctor_check {
	const char *name;
	void (*run)(struct session *s, struct report *rp);
} checks[] = {
	{ "iommu", check_iommu },
	{ "interrupt-remapping", check_interrupt_remapping },
	{ "vfio-modules", check_vfio_modules },
	{ "iommufd", check_iommufd },
	{ "configuration", check_configuration },
	{ "initramfs", check_initramfs },
	{ "initramfs-modules", check_initramfs_modules },
	{ "initramfs-record", check_initramfs_record },
	{ "vfio-pci-ids", check_vfio_pci_ids },
	{ "builtin-driver", check_builtin_driver },
	{ "framebuffer", check_framebuffer },
	{ "iommu-groups", check_iommu_groups },
	{ "reset", check_reset },
	{ "memlock", check_memlock },
	{ "guests", check_guests },
};

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct report rp = { 0 };
	struct session s;
	bool failed = false;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	session_plan(&s, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		rp.name = checks[i].name;
		checks[i].run(&s, &rp);
	}
	for (size_t i = 0; i < rp.n; i++)
		failed |= rp.v[i].result == RES_FAIL;
	print(&rp, opts->json);
	report_free(&rp);
	session_close(&s);
	return failed ? EXIT_RUNTIME : 0;
}

const struct cmd cmd_doctor = {
	.name = "doctor",
	.help = "is this machine ready for passthrough, and is the boot set up as configured: "
		"one line per check, ok / warn / fail, each with its fix",
	.run = run,
};
