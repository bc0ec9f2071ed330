// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `doctor`'s checks of the configuration and the boot: the configuration's errors, this boot's
 * initramfs (did it run vfio-claim, from the current configuration, with the vfio modules and the
 * root-device record), and firmware framebuffers in a claimed GPU's memory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

void check_configuration(struct session *s, struct report *rp)
{
	if (s->cfg.nerrors)
		report_add(
		    rp, RES_FAIL,
		    xasprintf("%zu error%s in the configuration: what they meant is not claimed",
			      s->cfg.nerrors, s->cfg.nerrors == 1 ? "" : "s"),
		    xstrdup("run 'vfio-claim check' and correct the lines it names"));
	else if (s->cfg.off)
		report_add(
		    rp, RES_WARN,
		    xstrdup("vfio_claim=off is on the kernel command line: nothing is claimed this "
			    "boot"),
		    xstrdup("boot without vfio_claim=off"));
	else
		report_add(rp, RES_OK,
			   xasprintf("%zu claim line%s, no errors", s->cfg.claims.n,
				     s->cfg.claims.n == 1 ? "" : "s"),
			   NULL);
}

static const char rebuild_fix[] =
    "run 'update-initramfs -u' (or 'dracut -f') on this system, then reboot";

/* Did this boot's initramfs run vfio-claim (its early pass left the configuration digest)? */
static bool image_ran(void)
{
	char *digest = NULL;
	bool r = state_read_file(BOOT_DIGEST, &digest) == 0;

	free(digest);
	return r;
}

/* What this boot's initramfs recorded it holds (BOOT_IMAGE_CONTENTS): 0 or a negative errno. */
static int image_contents(struct kv *kv)
{
	char *text = NULL;
	int r = state_read_file(BOOT_IMAGE_CONTENTS, &text);

	if (r == 0)
		kv_parse(kv, text);
	free(text);
	return r;
}

static const char image_unknown[] =
    "unknown: this boot's initramfs did not record what it holds (built by an older vfio-claim)";

/* This boot's initramfs did not run vfio-claim: a fail when devices are configured. */
static void image_not_run(const struct session *s, struct report *rp)
{
	if (s->cfg.claims.n > 0)
		report_add(rp, RES_FAIL,
			   xstrdup("this boot's initramfs did not run vfio-claim: the configured "
				   "devices met their host drivers before udev claimed them"),
			   xasprintf("install the package's initramfs integration (initramfs-tools "
				     "or dracut) and %s",
				     rebuild_fix));
	else
		report_add(rp, RES_OK,
			   xstrdup("no device is configured, and this boot's initramfs did not run "
				   "vfio-claim"),
			   NULL);
}

void check_initramfs(struct session *s, struct report *rp)
{
	char *stale;

	if (!image_ran()) {
		image_not_run(s, rp);
		return;
	}
	stale = session_stale_image();
	if (stale)
		report_add(rp, RES_FAIL,
			   xstrdup("the configuration changed since this boot's initramfs was "
				   "built: unless the initramfs was rebuilt since, the next boot "
				   "claims what the old configuration says"),
			   xstrdup(rebuild_fix));
	else
		report_add(
		    rp, RES_OK,
		    xstrdup("this boot's initramfs was built from the current configuration"),
		    NULL);
	free(stale);
}

/* Said only when the initramfs ran vfio-claim ('initramfs' says when it did not). */
void check_initramfs_modules(struct session *s, struct report *rp)
{
	struct kv kv = { 0 };
	const char *missing;

	if (!image_ran())
		return;
	if (image_contents(&kv) < 0) {
		report_add(rp, RES_WARN, xstrdup(image_unknown), xstrdup(rebuild_fix));
		return;
	}
	missing = kv_get(&kv, "missing_modules") ?: "";
	if (*missing)
		report_add(rp, RES_FAIL,
			   xasprintf("this boot's initramfs has no %s: the early pass could not "
				     "give devices to vfio-pci, so host drivers met them first",
				     missing),
			   xasprintf("make sure the kernel has the modules (see 'vfio-modules'), "
				     "then %s",
				     rebuild_fix));
	else
		report_add(rp, RES_OK,
			   xstrdup("this boot's initramfs has vfio, vfio_iommu_type1 and vfio_pci"),
			   NULL);
	kv_free(&kv);
}

/* Said only when the initramfs ran vfio-claim, as 'initramfs-modules'. */
void check_initramfs_record(struct session *s, struct report *rp)
{
	struct kv kv = { 0 };
	const char *record;

	if (!image_ran())
		return;
	if (image_contents(&kv) < 0) {
		report_add(rp, RES_WARN, xstrdup(image_unknown), xstrdup(rebuild_fix));
		return;
	}
	record = kv_get(&kv, "root_record") ?: "no";
	if (streq(record, "yes"))
		report_add(rp, RES_OK,
			   xstrdup("this boot's initramfs knows which devices carry the root file "
				   "system"),
			   NULL);
	else
		report_add(rp, RES_WARN,
			   xasprintf("this boot's initramfs has %s root-device record: its early "
				     "pass refused every storage controller, which were claimed "
				     "late, if at all",
				     streq(record, "empty") ? "an empty" : "no"),
			   xasprintf("%s (on the running system, not in a chroot, so that the root "
				     "disk is found)",
				     rebuild_fix));
	kv_free(&kv);
}

/* A firmware framebuffer in /proc/iomem: "  c0000000-c07fffff : efifb". */
struct fb {
	uint64_t start, end;
	char *name;
};

static bool fb_name(const char *n)
{
	return streq(n, "efifb") || streq(n, "vesafb") || streq(n, "simpledrm") ||
	       streq(n, "BOOTFB") || strncmp(n, "simple-framebuffer", 18) == 0;
}

/* A line of /proc/iomem that is a firmware framebuffer: *fb (its name points into line). */
static bool iomem_fb(char *line, struct fb *fb)
{
	char *sep = strstr(line, " : "), *end;

	if (!sep)
		return false;
	fb->start = strtoull(line, &end, 16);
	if (*end != '-')
		return false;
	fb->end = strtoull(end + 1, NULL, 16);
	fb->name = strip(sep + 3);
	return fb_name(fb->name);
}

static void iomem_framebuffers(struct fb **fbs, size_t *n)
{
	char *text = NULL, *save = NULL;
	struct fb fb;

	*fbs = NULL;
	*n = 0;
	if (doctor_read("/proc/iomem", &text) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!iomem_fb(l, &fb))
			continue;
		*fbs = xrealloc(*fbs, (*n + 1) * sizeof(**fbs));
		(*fbs)[(*n)++] = (struct fb){ fb.start, fb.end, xstrdup(fb.name) };
	}
	free(text);
}

static void fbs_free(struct fb *fbs, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(fbs[k].name);
	free(fbs);
}

/* The kernel parameter that keeps a firmware framebuffer off. */
static const char *fb_param(const char *name)
{
	if (streq(name, "efifb"))
		return "video=efifb:off";
	if (streq(name, "vesafb"))
		return "video=vesafb:off";
	return "initcall_blacklist=sysfb_init";
}

/* A line of a device's resource file that is a memory BAR in use: its start and end. */
static bool mem_bar(const char *line, uint64_t *start, uint64_t *end)
{
	uint64_t flags;

	return sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, start, end, &flags) == 3 &&
	       (flags & 0x200) /* IORESOURCE_MEM */ && (*start || *end);
}

static void fb_in_bar(struct report *rp, const struct pci_dev *d, const struct fb *fb, unsigned bar)
{
	report_add(rp, RES_FAIL,
		   xasprintf("%s: the firmware framebuffer '%s' (%" PRIx64 "-%" PRIx64
			     ") lies in its memory (BAR %u): vfio-pci cannot reserve it, and the "
			     "guest's display stays dark",
			     d->addr, fb->name, fb->start, fb->end, bar),
		   xasprintf("make another GPU the boot display in the firmware setup, or add '%s' "
			     "to the kernel command line",
			     fb_param(fb->name)));
}

/* The framebuffers that lie in a GPU's memory BARs, each a fail: how many. */
static size_t fb_in_gpu(struct report *rp, const struct pci_dev *d, const struct fb *fbs,
			size_t nfb)
{
	char *text = NULL, *save = NULL;
	unsigned bar = 0;
	size_t found = 0;
	uint64_t start, end;

	if (pci_read_attr(d, "resource", &text) < 0)
		return 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), bar++) {
		if (!mem_bar(l, &start, &end))
			continue;
		for (size_t k = 0; k < nfb; k++)
			if (fbs[k].start <= end && start <= fbs[k].end) {
				fb_in_bar(rp, d, &fbs[k], bar);
				found++;
			}
	}
	free(text);
	return found;
}

void check_framebuffer(struct session *s, struct report *rp)
{
	struct fb *fbs;
	size_t nfb, found = 0;

	iomem_framebuffers(&fbs, &nfb);
	/* the kernel shows the addresses to root only */
	for (size_t k = 0; k < nfb && !found; k++)
		if (!fbs[k].start && !fbs[k].end) {
			found++;
			report_add(
			    rp, RES_WARN,
			    xstrdup("cannot tell: /proc/iomem hides its addresses from this user"),
			    xstrdup("run 'vfio-claim doctor' as root"));
		}
	for (size_t i = 0; i < s->devs.n && nfb; i++)
		if (doctor_claimed(s, i) && (pci_categories(s->devs.v[i].class) & CAT_GPU))
			found += fb_in_gpu(rp, &s->devs.v[i], fbs, nfb);
	if (!found)
		report_add(rp, RES_OK,
			   xstrdup("no firmware framebuffer lies in a claimed GPU's memory"), NULL);
	fbs_free(fbs, nfb);
}
