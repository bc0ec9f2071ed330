// SPDX-License-Identifier: GPL-2.0-or-later
/* `boot`: the early pass, before udevd starts: claim every selected device now. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "modload.h"
#include "sriov.h"
#include "udevrules.h"

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
	if (cfg->exclude_unknown)
		fprintf(f,
			"nothing claimed from the configuration: the exclude at %s could not be "
			"read\n",
			cfg->exclude_unknown);
	fclose(f);
	r = len ? state_write_file("config-errors", text) : state_remove_file("config-errors");
	if (r < 0)
		log_warn("cannot record configuration errors in the state directory: %s, ignoring",
			 errstr(r));
	free(text);
}

/* The digest of the configuration this image was built from, for check and status later. */
static void record_image_digest(void)
{
	char *p = root_path(IMAGE_DIGEST), *digest = NULL;
	int r;

	if (read_text(p, &digest) < 0) {
		free(p);
		return; /* not an image made by our hooks */
	}
	r = state_write_file(BOOT_DIGEST, digest);
	if (r < 0)
		log_warn("cannot record the image's configuration digest: %s, ignoring",
			 state_strerror(r));
	free(digest);
	free(p);
}

/*
 * What this boot's image holds, for `doctor` on the running system, which cannot open the image:
 * whether it has a root-device record, and which vfio modules it lacks. Only in an image made by
 * our hooks (it carries the configuration digest).
 */
static void record_image_contents(struct session *s)
{
	static const char *const modules[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };
	char *p = root_path(IMAGE_DIGEST), *record = NULL, *text = NULL;
	const char *has_record;
	size_t len = 0;
	FILE *f;
	int r;

	r = access(p, F_OK);
	free(p);
	if (r < 0)
		return; /* not an image made by our hooks */
	p = root_path(IMAGE_RECORD);
	has_record = read_text(p, &record) < 0 ? "no" : strstr(record, "path=") ? "yes" : "empty";
	f = open_memstream(&text, &len);
	if (!f)
		abort();
	fprintf(f, "root_record=%s\nmissing_modules=", has_record);
	for (size_t i = 0, n = 0; i < ARRAY_SIZE(modules); i++)
		if (modload_present(session_modules(s), modules[i]) < 0)
			fprintf(f, "%s%s", n++ ? " " : "", modules[i]);
	fputc('\n', f);
	if (fclose(f) != 0)
		abort();
	r = state_write_file(BOOT_IMAGE_CONTENTS, text);
	if (r < 0)
		log_warn("cannot record what the image holds: %s, ignoring", state_strerror(r));
	free(text);
	free(record);
	free(p);
}

/* PFs whose VFs a claim selects: new VFs wait, unbound, for the udev pass (SPEC §7). */
static void sriov_autoprobe_pfs(struct session *s)
{
	const struct plan_input in = {
		.devs = &s->devs,
		.cfg = &s->cfg,
		.protected = &s->protected,
		.released = &s->released,
	};
	bool *unclaimed, any = false;

	/* nothing the configuration claims at boot: no VF can be selected (would_select()) */
	for (size_t r = 0; r < s->cfg.claims.n; r++)
		any = any || !s->cfg.claims.v[r].guest;
	if (!any || s->cfg.exclude_unknown)
		return;
	unclaimed = xcalloc(s->devs.n ? s->devs.n : 1, sizeof(bool));

	/*
	 * The scan knows the PFs that have VFs; those with none enabled yet are asked here, and
	 * only among what the plan leaves (vfio-pci taking a PF leaves it no VFs). The plan did
	 * not need them: only VFs enabled refuse a PF.
	 */
	for (size_t i = 0; i < s->devs.n; i++)
		unclaimed[i] = s->plan.v[i].decision != DEC_CLAIM;
	pci_read_sriov_pfs(&s->devs, unclaimed);
	free(unclaimed);
	for (size_t i = 0; i < s->devs.n; i++) {
		int r;

		if (!plan_selects_vfs_of(&s->plan, &in, i))
			continue;
		r = sriov_autoprobe_off(s, i, "initramfs");
		if (r > 0)
			log_info(
			    "%s: sriov_drivers_autoprobe turned off: the configuration selects "
			    "virtual functions of it, which then meet no host driver; the udev "
			    "pass claims them, or probes the others for their host driver",
			    s->devs.v[i].addr);
		else if (r < 0)
			log_warn("%s: cannot turn sriov_drivers_autoprobe off: %s; its new virtual "
				 "functions may meet their host driver first, ignoring",
				 s->devs.v[i].addr, errstr(r));
	}
}

/* The machine-wide facts each later udev event reads instead of every device (state.h). */
static void record_summary(const struct pci_list *devs)
{
	struct summary sum;
	int r;

	summary_from(&sum, devs);
	r = summary_write(&sum);
	if (r < 0)
		log_warn(
		    "cannot write '%s/run/vfio-claim/%s' (%s): each udev event reads every PCI "
		    "device instead, ignoring",
		    root_get(), SUMMARY_FILE,
		    sum.boot_id ? state_strerror(r) : "the boot id cannot be read");
	summary_free(&sum);
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct session s;
	bool *handled;
	int failed = 0, lock, r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	log_open_kmsg();
	/*
	 * The whole pass under the state lock (claim_group() takes it again, nested): the entries
	 * read for the plan stay true until its claims, so each is read once.
	 */
	r = state_prepare();
	lock = r < 0 ? r : state_lock();
	if (session_open(&s) < 0) {
		state_unlock(lock);
		return EXIT_RUNTIME;
	}
	if (r < 0)
		log_error("cannot use the state directory '%s/run/vfio-claim': %s", root_get(),
			  state_strerror(r));
	print_config_errors(&s.cfg);
	for (size_t i = 0; i < s.cfg.broken_files.n; i++)
		log_error("%s: not applied because of the errors above: nothing is claimed from it "
			  "this boot (its excludes that parse still apply)",
			  s.cfg.broken_files.v[i]);
	if (s.cfg.exclude_unknown)
		log_error("an exclude could not be read (%s): the devices it meant are unknown, so "
			  "nothing is claimed from the configuration this boot",
			  s.cfg.exclude_unknown);
	record_config_errors(&s.cfg);
	record_image_digest();
	record_image_contents(&s);
	record_summary(&s.devs);
	r = udev_select_rules_write(&s.cfg);
	if (r < 0)
		log_warn("cannot write '%s%s': %s, ignoring", root_get(), SELECT_RULES, errstr(r));
	if (s.cfg.off) {
		log_info(
		    "vfio_claim=off on the kernel command line: no device is claimed this boot");
		session_close(&s);
		state_unlock(lock);
		return 0;
	}
	session_plan(&s, NULL);
	sriov_autoprobe_pfs(&s);
	handled = xcalloc(s.devs.n, sizeof(bool));
	for (size_t i = 0; i < s.devs.n; i++) {
		const struct verdict *v = &s.plan.v[i];

		if (v->decision == DEC_REFUSE && refusal_is_new(s.devs.v[i].addr, v->reason))
			log_warn("%s: refused: %s", s.devs.v[i].addr, v->reason);
		else if (v->decision == DEC_CLAIM && !handled[i] &&
			 claim_group(&s, i, "initramfs", handled) == CLAIM_FAILED)
			failed++;
	}
	free(handled);
	session_close(&s);
	state_unlock(lock);
	return failed ? EXIT_RUNTIME : 0;
}

const struct cmd cmd_boot = {
	.name = "boot",
	.help = "the early pass: claim every selected device now (used by the initramfs hooks)",
	.run = run,
};
