// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `doctor`: is this machine ready for passthrough, and is the boot set up as the configuration
 * says? One line per check, ok / warn / fail, each with its fix. The checks (doctor.h) run in the
 * order of the table below; each reads the root (--root DIR): sysfs, /proc, the module folder,
 * the state directory, /etc.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd.h"
#include "doctor.h"
#include "guest.h"
#include "json.h"
#include "log.h"
#include "modload.h"

static const char *const result_names[] = { "ok", "warn", "fail" };

/* One line of the report. */
struct finding {
	const char *name;
	enum result result;
	char *message, *fix; /* fix: NULL when ok */
};

struct report {
	struct finding *v;
	size_t n;
	const char *name; /* the check that runs */
};

void report_add(struct report *rp, enum result result, char *message, char *fix)
{
	rp->v = xrealloc(rp->v, (rp->n + 1) * sizeof(*rp->v));
	rp->v[rp->n++] = (struct finding){ rp->name, result, message, fix };
}

static void report_free(struct report *rp)
{
	for (size_t i = 0; i < rp->n; i++) {
		free(rp->v[i].message);
		free(rp->v[i].fix);
	}
	free(rp->v);
}

int doctor_read(const char *path, char **text)
{
	char *p = root_path("%s", path);
	int r = read_text(p, text);

	free(p);
	return r;
}

int doctor_list(const char *path, struct strv *names)
{
	char *p = root_path("%s", path);
	struct dirent *de;
	DIR *d = opendir(p);
	int r = d ? 0 : -errno;

	free(p);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			strv_push(names, xstrdup(de->d_name));
	if (d)
		closedir(d);
	strv_sort(names);
	return r;
}

bool doctor_claimed(const struct session *s, size_t i)
{
	return s->plan.v[i].decision == DEC_CLAIM || pci_on_vfio(&s->devs.v[i]);
}

/* The kernel command line under the root, or "". */
static char *kernel_cmdline(void)
{
	char *text = NULL;

	if (doctor_read("/proc/cmdline", &text) < 0)
		return xstrdup("");
	return text;
}

/* The value of a kernel parameter (the last one wins, '-' and '_' alike), or NULL. */
static char *cmdline_param(const char *cmdline, const char *name)
{
	char *copy = xstrdup(cmdline), *save = NULL, *found = NULL;
	size_t len = strlen(name);

	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		bool same = strlen(w) > len && w[len] == '=';

		for (size_t k = 0; same && k < len; k++)
			same = w[k] == name[k] || (strchr("-_", w[k]) && strchr("-_", name[k]));
		if (same) {
			free(found);
			found = xstrdup(w + len + 1);
		}
	}
	free(copy);
	return found;
}

/* "intel_iommu=on" or "amd_iommu=on" from /proc/cpuinfo, or NULL when the vendor is unknown. */
static const char *iommu_param(void)
{
	char *text = NULL;
	const char *r = NULL;

	if (doctor_read("/proc/cpuinfo", &text) == 0) {
		if (strstr(text, "GenuineIntel"))
			r = "intel_iommu=on";
		else if (strstr(text, "AuthenticAMD") || strstr(text, "HygonGenuine"))
			r = "amd_iommu=on";
	}
	free(text);
	return r;
}

void check_iommu(struct session *s, struct report *rp)
{
	struct strv groups = { 0 };
	const char *param;
	char *cmdline, *fix;

	doctor_list("/sys/kernel/iommu_groups", &groups);
	if (groups.n > 0) {
		report_add(rp, RES_OK, xasprintf("%zu IOMMU groups", groups.n), NULL);
		strv_free(&groups);
		return;
	}
	param = iommu_param();
	cmdline = kernel_cmdline();
	if (param && strstr(cmdline, param))
		fix = xasprintf("'%s' is on the kernel command line already: enable the IOMMU "
				"(VT-d, AMD-Vi or 'IOMMU') in the firmware setup",
				param);
	else
		fix = xasprintf(
		    "add %s%s%s to the kernel command line (GRUB_CMDLINE_LINUX in "
		    "/etc/default/grub, then 'update-grub') and enable the IOMMU (VT-d, AMD-Vi or "
		    "'IOMMU') in the firmware setup",
		    param ? "'" : "",
		    param ? param : "'intel_iommu=on' (Intel) or 'amd_iommu=on' (AMD)",
		    param ? "'" : "");
	report_add(
	    rp, RES_FAIL,
	    xstrdup("no IOMMU groups in /sys/kernel/iommu_groups: the IOMMU is off, and vfio "
		    "cannot use any device"),
	    fix);
	free(cmdline);
}

/* Is the value of a boolean module parameter on ("Y", "1")? */
static bool param_on(const char *path)
{
	char *text = NULL;
	bool r = doctor_read(path, &text) == 0 && (streq(text, "Y") || streq(text, "1"));

	free(text);
	return r;
}

void check_interrupt_remapping(struct session *s, struct report *rp)
{
	static const char unsafe_fix[] =
	    "remove 'options vfio_iommu_type1 allow_unsafe_interrupts=1' from /etc/modprobe.d "
	    "once the firmware enables interrupt remapping (x2APIC and VT-d, or AMD-Vi)";
	struct strv units = { 0 };
	size_t intel = 0, intel_ir = 0, amd = 0;
	char *interrupts = NULL, *without = NULL;
	bool unsafe = param_on("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
	/* iommufd (6.2 and later) has its own switch, for the devices it hands out */
	bool unsafe_fd = param_on("/sys/module/iommufd/parameters/allow_unsafe_interrupts");
	int enabled = -1; /* from /proc/interrupts: -1 when it cannot be read */

	if (!s->devs.have_iommu) {
		report_add(rp, RES_WARN, xstrdup("cannot be checked while the IOMMU is off"),
			   xstrdup("enable the IOMMU first (see the 'iommu' check)"));
		return;
	}
	doctor_list("/sys/class/iommu", &units);
	for (size_t i = 0; i < units.n; i++) {
		char *path = xasprintf("/sys/class/iommu/%s/intel-iommu/ecap", units.v[i]);
		char *text = NULL, *amdp = xasprintf("/sys/class/iommu/%s/amd-iommu", units.v[i]);
		char *full = root_path("%s", amdp);

		if (doctor_read(path, &text) == 0) {
			/* ECAP bit 3: interrupt remapping supported (VT-d specification) */
			intel++;
			if (strtoull(text, NULL, 16) & (1ULL << 3))
				intel_ir++;
			else if (!without)
				without = xstrdup(units.v[i]);
		} else if (access(full, F_OK) == 0) {
			amd++;
		}
		free(full);
		free(amdp);
		free(text);
		free(path);
	}
	if (doctor_read("/proc/interrupts", &interrupts) == 0)
		enabled = strstr(interrupts, "IR-") != NULL;

	if (unsafe_fd && !unsafe)
		report_add(
		    rp, RES_WARN,
		    xstrdup("iommufd runs with allow_unsafe_interrupts=Y: it takes devices without "
			    "interrupt remapping, and a guest can then send the host interrupts it "
			    "should not"),
		    xstrdup(
			"remove 'iommufd.allow_unsafe_interrupts=1' (kernel command line) or "
			"'options iommufd allow_unsafe_interrupts=1' (/etc/modprobe.d) once the "
			"firmware enables interrupt remapping"));
	else if (unsafe)
		report_add(
		    rp, RES_WARN,
		    xstrdup(
			"vfio_iommu_type1 runs with allow_unsafe_interrupts=Y: it takes devices "
			"without interrupt remapping, and a guest can then send the host "
			"interrupts it should not"),
		    xstrdup(unsafe_fix));
	else if (without || enabled == 0)
		report_add(
		    rp, RES_FAIL,
		    without ? xasprintf("IOMMU unit '%s' does not support interrupt remapping "
					"(bit 3 of its ecap is clear): vfio refuses its devices",
					without)
			    : xstrdup("interrupt remapping is off (no IR- interrupts in "
				      "/proc/interrupts): vfio refuses devices"),
		    xstrdup("enable x2APIC and interrupt remapping in the firmware setup, and drop "
			    "'intremap=off' from the kernel command line; only if the hardware "
			    "has none: 'options vfio_iommu_type1 allow_unsafe_interrupts=1' in "
			    "/etc/modprobe.d (a guest can then forge interrupts)"));
	else if (enabled == 1 || intel_ir > 0 || amd > 0)
		report_add(rp, RES_OK,
			   xstrdup(enabled == 1 ? "interrupts are remapped"
				   : intel_ir > 0
				       ? "every IOMMU unit supports interrupt remapping"
				       : "AMD-Vi remaps interrupts (not shown in sysfs)"),
			   NULL);
	else
		report_add(rp, RES_WARN,
			   xstrdup("cannot tell: no IOMMU unit in /sys/class/iommu says, and "
				   "/proc/interrupts cannot be read"),
			   xstrdup("look for 'Enabled IRQ remapping' in the kernel log (dmesg)"));
	free(interrupts);
	free(without);
	strv_free(&units);
}

/* iommufd is there: /dev/iommu, or the module (loaded or built in, with its parameters). */
static bool iommufd_present(void)
{
	char *dev = root_path("/dev/iommu"), *mod = root_path("/sys/module/iommufd");
	bool r = access(dev, F_OK) == 0 || access(mod, F_OK) == 0;

	free(dev);
	free(mod);
	return r;
}

/* "y", "m" or "n" for CONFIG_NAME in the running kernel's /boot/config-RELEASE; NULL: no file. */
static const char *kernel_config(const char *name)
{
	char *release = NULL, *path, *text = NULL;
	const char *r = NULL;

	if (doctor_read("/proc/sys/kernel/osrelease", &release) < 0)
		return NULL;
	path = xasprintf("/boot/config-%s", strip(release));
	if (doctor_read(path, &text) == 0) {
		size_t len = strlen(name);

		r = "n";
		for (char *line = text, *next; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (!strncmp(line, name, len) && line[len] == '=')
				r = line[len + 1] == 'y' ? "y" : line[len + 1] == 'm' ? "m" : "n";
		}
	}
	free(text);
	free(path);
	free(release);
	return r;
}

/*
 * iommufd and the VFIO device cdevs (kernel 6.2 and later): QEMU's and libvirt's iommufd backend
 * opens /dev/iommu and /dev/vfio/devices/vfioN instead of the group node /dev/vfio/N. Informative
 * only: a kernel without them (Debian 13's) passes devices through the group nodes as before.
 */
void check_iommufd(struct session *s, struct report *rp)
{
	const char *config = kernel_config("CONFIG_IOMMUFD");
	const char *cdev_config = kernel_config("CONFIG_VFIO_DEVICE_CDEV");
	char *cls = root_path("/sys/class/vfio-dev");
	bool cdev = access(cls, F_OK) == 0 || (cdev_config && streq(cdev_config, "y"));

	free(cls);
	if (iommufd_present() && cdev)
		report_add(
		    rp, RES_OK,
		    xstrdup("iommufd (/dev/iommu) and the VFIO device nodes "
			    "(/dev/vfio/devices/vfioN) are there: QEMU and libvirt can use the "
			    "iommufd backend; claimed devices' nodes get the permissions of "
			    "/dev/vfio/N"),
		    NULL);
	else if (iommufd_present())
		report_add(
		    rp, RES_OK,
		    xstrdup("iommufd (/dev/iommu) is there, but no VFIO device nodes "
			    "(CONFIG_VFIO_DEVICE_CDEV): virtual machines use the group nodes "
			    "/dev/vfio/N"),
		    NULL);
	else if (config && streq(config, "m"))
		report_add(
		    rp, RES_OK,
		    xstrdup("iommufd is a module of this kernel, not loaded (no /dev/iommu): "
			    "virtual machines use the group nodes /dev/vfio/N; 'modprobe iommufd' "
			    "for QEMU's iommufd backend"),
		    NULL);
	else
		report_add(
		    rp, RES_OK,
		    xasprintf("the kernel has no iommufd (no /dev/iommu%s): virtual machines use "
			      "the group nodes /dev/vfio/N, as on every kernel before 6.2",
			      config ? ", CONFIG_IOMMUFD is not set" : ""),
		    NULL);
}

static const char *const vfio_modules[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };

void check_modules(struct session *s, struct report *rp)
{
	struct modules *mods = session_modules(s);
	struct strv missing = { 0 };
	char *list;

	for (size_t i = 0; i < ARRAY_SIZE(vfio_modules); i++)
		if (modload_present(mods, vfio_modules[i]) < 0 &&
		    /* a kernel without the type1 container: iommufd takes its place */
		    !(streq(vfio_modules[i], "vfio_iommu_type1") && iommufd_present()))
			strv_push(&missing, xstrdup(vfio_modules[i]));
	if (!missing.n) {
		bool core = modload_present(mods, "vfio_pci_core") == 0;

		report_add(
		    rp, RES_OK,
		    xasprintf(
			"vfio, vfio_iommu_type1 and vfio_pci are there for the running kernel "
			"(loaded, built in or in its module folder)%s",
			!core ? ""
			: modload_builtin(mods, "vfio_pci_core")
			    ? "; vfio_pci_core (vfio_pci's and the variant drivers' core) is "
			      "built in"
			    : "; vfio_pci_core (vfio_pci's and the variant drivers' core) is a "
			      "module, which loading vfio_pci loads"),
		    NULL);
		return;
	}
	list = strv_join(&missing, ", ");
	report_add(
	    rp, RES_FAIL,
	    xasprintf("the running kernel has no %s (not loaded, not built in, not in "
		      "'%s/lib/modules/VERSION'): nothing can be claimed",
		      list, root_get()),
	    xstrdup("install the running kernel's modules (Debian: its linux-image package), or "
		    "build the kernel with CONFIG_VFIO_PCI and CONFIG_VFIO_IOMMU_TYPE1"));
	free(list);
	strv_free(&missing);
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

void check_initramfs(struct session *s, struct report *rp)
{
	char *stale;

	if (!image_ran() && s->cfg.claims.n > 0)
		report_add(rp, RES_FAIL,
			   xstrdup("this boot's initramfs did not run vfio-claim: the configured "
				   "devices met their host drivers before udev claimed them"),
			   xasprintf("install the package's initramfs integration (initramfs-tools "
				     "or dracut) and %s",
				     rebuild_fix));
	if (!image_ran() && s->cfg.claims.n == 0)
		report_add(rp, RES_OK,
			   xstrdup("no device is configured, and this boot's initramfs did not run "
				   "vfio-claim"),
			   NULL);
	if (!image_ran())
		return;
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

static void iomem_framebuffers(struct fb **fbs, size_t *n)
{
	char *text = NULL, *save = NULL;

	*fbs = NULL;
	*n = 0;
	if (doctor_read("/proc/iomem", &text) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(l, " : "), *end;
		uint64_t a, b;

		if (!sep)
			continue;
		a = strtoull(l, &end, 16);
		if (*end != '-')
			continue;
		b = strtoull(end + 1, NULL, 16);
		if (!fb_name(strip(sep + 3)))
			continue;
		*fbs = xrealloc(*fbs, (*n + 1) * sizeof(**fbs));
		(*fbs)[(*n)++] = (struct fb){ a, b, xstrdup(strip(sep + 3)) };
	}
	free(text);
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
	for (size_t i = 0; i < s->devs.n; i++) {
		const struct pci_dev *d = &s->devs.v[i];
		char *text = NULL, *save = NULL;
		unsigned bar = 0;

		if (!doctor_claimed(s, i) || !(pci_categories(d->class) & CAT_GPU) || !nfb ||
		    pci_read_attr(d, "resource", &text) < 0)
			continue;
		for (char *l = strtok_r(text, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save), bar++) {
			uint64_t start, end, flags;

			if (sscanf(l, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start, &end, &flags) !=
				3 ||
			    !(flags & 0x200) || (!start && !end)) /* IORESOURCE_MEM */
				continue;
			for (size_t k = 0; k < nfb; k++) {
				if (fbs[k].start > end || start > fbs[k].end)
					continue;
				found++;
				report_add(
				    rp, RES_FAIL,
				    xasprintf("%s: the firmware framebuffer '%s' (%" PRIx64
					      "-%" PRIx64
					      ") lies in its memory (BAR %u): vfio-pci cannot "
					      "reserve it, and the guest's display stays dark",
					      d->addr, fbs[k].name, fbs[k].start, fbs[k].end, bar),
				    xasprintf("make another GPU the boot display in the firmware "
					      "setup, or add '%s' to the kernel command line",
					      fb_param(fbs[k].name)));
			}
		}
		free(text);
	}
	if (!found)
		report_add(rp, RES_OK,
			   xstrdup("no firmware framebuffer lies in a claimed GPU's memory"), NULL);
	for (size_t k = 0; k < nfb; k++)
		free(fbs[k].name);
	free(fbs);
}

void check_builtin_drivers(struct session *s, struct report *rp)
{
	struct modules *m = session_modules(s);
	size_t found = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		const struct pci_dev *d = &s->devs.v[i];
		struct strv mods = { 0 };
		char *modalias = NULL;

		if (s->plan.v[i].decision != DEC_CLAIM ||
		    pci_read_attr(d, "modalias", &modalias) < 0)
			continue;
		modload_alias_modules(m, modalias, &mods);
		for (size_t k = 0; k < mods.n; k++) {
			if (!modload_builtin(m, mods.v[k]))
				continue;
			found++;
			report_add(
			    rp, RES_WARN,
			    xasprintf(
				"%s: its host driver '%s' is built into the kernel: it takes "
				"the device before the initramfs runs, and vfio-claim can only "
				"take it back from the driver afterwards",
				d->addr, mods.v[k]),
			    xasprintf(
				"use a kernel that builds '%s' as a module; or, if vfio-pci is "
				"built in as well, add 'vfio-pci.ids=%04x:%04x' to the kernel "
				"command line",
				mods.v[k], d->vendor, d->device));
		}
		strv_free(&mods);
		free(modalias);
	}
	if (!found)
		report_add(rp, RES_OK,
			   xstrdup("no selected device has a host driver built into the kernel"),
			   NULL);
}

/* "ids=A,B" words of a module's options appended to *ids. */
static void ids_words(const char *options, struct strv *ids)
{
	char *copy = xstrdup(options), *save = NULL;

	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char *s2 = NULL;

		if (strncmp(w, "ids=", 4) != 0)
			continue;
		for (char *id = strtok_r(w + 4, ",", &s2); id; id = strtok_r(NULL, ",", &s2))
			if (*id && !strv_contains(ids, id))
				strv_push(ids, xstrdup(id));
	}
	free(copy);
}

/* One vfio-pci id (VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE[:CLASS:MASK]]) against the plan. */
static size_t id_fights(struct session *s, struct report *rp, const char *id, const char *where)
{
	char *text = xstrdup(id), *p = text;
	struct selector sel;
	const char *why;
	size_t fights = 0;

	/* the class fields have no selector form: the ids alone are a superset, fine here */
	for (int colons = 0; *p; p++)
		if (*p == ':' && ++colons == 4)
			*p = '\0';
	if (selector_parse(text, &sel, &why) < 0) {
		report_add(rp, RES_WARN, xasprintf("vfio-pci ids '%s' (%s): %s", id, where, why),
			   xasprintf("correct it in the %s", where));
		free(text);
		return 1;
	}
	for (size_t i = 0; i < s->devs.n; i++) {
		const struct verdict *v = &s->plan.v[i];
		bool refused = v->decision == DEC_REFUSE || strncmp(v->reason, "excluded", 8) == 0;

		if (!selector_match(&sel, &s->devs.v[i]) || v->decision == DEC_CLAIM ||
		    pci_is_bridge(&s->devs.v[i]))
			continue;
		fights++;
		report_add(
		    rp, refused ? RES_FAIL : RES_WARN,
		    xasprintf("vfio-pci ids '%s' (%s) give %s to vfio-pci, but the configuration "
			      "%s it: %s",
			      id, where, s->devs.v[i].addr, refused ? "refuses" : "keeps",
			      v->reason),
		    xasprintf("remove '%s' from the %s and choose devices in /etc/vfio-claim.d "
			      "('claim %s'), where the safety rules apply",
			      id, where, text));
	}
	selector_free(&sel);
	free(text);
	return fights;
}

void check_vfio_ids(struct session *s, struct report *rp)
{
	struct strv cmd_ids = { 0 }, mod_ids = { 0 };
	char *cmdline = kernel_cmdline(), *value = NULL, *options = NULL;
	size_t fights = 0;

	value = cmdline_param(cmdline, "vfio_pci.ids");
	if (value) {
		char *w = xasprintf("ids=%s", value);
		ids_words(w, &cmd_ids);
		free(w);
	}
	/* libkmod gathers modprobe.d and the kernel command line: the rest is modprobe.d's */
	if (modload_options(session_modules(s), "vfio_pci", &options) == 0)
		ids_words(options, &mod_ids);
	for (size_t i = 0; i < cmd_ids.n; i++)
		fights += id_fights(s, rp, cmd_ids.v[i], "kernel command line");
	for (size_t i = 0; i < mod_ids.n; i++)
		if (!strv_contains(&cmd_ids, mod_ids.v[i]))
			fights +=
			    id_fights(s, rp, mod_ids.v[i], "'options vfio-pci' of modprobe.d");
	if (!fights)
		report_add(
		    rp, RES_OK,
		    xstrdup(cmd_ids.n || mod_ids.n
				? "the vfio-pci ids of the kernel command line and modprobe.d name "
				  "only devices the configuration claims"
				: "no vfio-pci ids on the kernel command line or in modprobe.d"),
		    NULL);
	free(options);
	free(value);
	free(cmdline);
	strv_free(&cmd_ids);
	strv_free(&mod_ids);
}

/* The configured owner of /dev/vfio/N: the default permissions', else the first claim's. */
static const char *configured_owner(const struct config *cfg)
{
	if (cfg->perms.owner)
		return cfg->perms.owner;
	for (size_t i = 0; i < cfg->claims.n; i++)
		if (cfg->claims.v[i].perms.owner)
			return cfg->claims.v[i].perms.owner;
	return NULL;
}

/*
 * The user's name (owner= may be a number) and the groups it is in, by name, from the root's
 * /etc/passwd and /etc/group; *name: NULL when the user is not there.
 */
static void user_groups(const char *user, char **name, struct strv *groups)
{
	char *passwd = NULL, *group = NULL, *save = NULL, *gid = NULL;

	*name = NULL;
	if (doctor_read("/etc/passwd", &passwd) == 0)
		for (char *l = strtok_r(passwd, "\n", &save); l && !*name;
		     l = strtok_r(NULL, "\n", &save)) {
			char *f[4] = { 0 }, *s2 = l;
			for (int k = 0; k < 4; k++)
				f[k] = strsep(&s2, ":");
			if (f[3] && (streq(f[0], user) || (f[2] && streq(f[2], user)))) {
				gid = xstrdup(f[3]);
				*name = xstrdup(f[0]);
			}
		}
	user = *name ? *name : user;
	save = NULL;
	if (doctor_read("/etc/group", &group) == 0)
		for (char *l = strtok_r(group, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *f[4] = { 0 }, *s2 = l, *s3 = NULL;
			bool in;
			for (int k = 0; k < 4; k++)
				f[k] = strsep(&s2, ":");
			if (!f[2])
				continue;
			in = gid && streq(f[2], gid);
			for (char *m = strtok_r(f[3] ? f[3] : (char[]){ "" }, ",", &s3); m && !in;
			     m = strtok_r(NULL, ",", &s3))
				in = streq(m, user);
			if (in)
				strv_push(groups, xstrdup(f[0]));
		}
	free(gid);
	free(passwd);
	free(group);
}

/* A memlock limit of pam_limits, in bytes; RLIM_INFINITY for unlimited. */
struct limit {
	rlim_t soft, hard;
	int src_soft, src_hard; /* priority of the line that set it: 0 user, 1 group, 2 '*' */
	char *file;		/* where the soft limit was set */
};

/* pam_limits: a user's line beats a group's, which beats '*'; among equals the later wins. */
static void limits_file(const char *file, const char *user, const struct strv *groups,
			struct limit *lim)
{
	char *text = NULL, *save = NULL;

	if (doctor_read(file, &text) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char dom[256], type[16], item[32], value[32];
		rlim_t v;
		int src;

		if (strchr(l, '#'))
			*strchr(l, '#') = '\0';
		if (sscanf(l, "%255s %15s %31s %31s", dom, type, item, value) != 4 ||
		    !streq(item, "memlock"))
			continue;
		if (user && streq(dom, user))
			src = 0;
		else if (dom[0] == '@' && strv_contains(groups, dom + 1))
			src = 1;
		else if (streq(dom, "*"))
			src = 2;
		else
			continue;
		if (streq(value, "unlimited") || streq(value, "infinity") || streq(value, "-1"))
			v = RLIM_INFINITY;
		else
			v = (rlim_t)strtoull(value, NULL, 10) * 1024; /* KiB */
		if ((streq(type, "soft") || streq(type, "-")) && src <= lim->src_soft) {
			lim->soft = v;
			lim->src_soft = src;
			free(lim->file);
			lim->file = xstrdup(file);
		}
		if ((streq(type, "hard") || streq(type, "-")) && src <= lim->src_hard) {
			lim->hard = v;
			lim->src_hard = src;
		}
	}
	free(text);
}

static char *size_text(rlim_t v)
{
	if (v == RLIM_INFINITY)
		return xstrdup("unlimited");
	if (v >= 1024ULL * 1024 * 1024)
		return xasprintf("%.1f GiB", (double)v / (1024.0 * 1024 * 1024));
	if (v >= 1024ULL * 1024)
		return xasprintf("%llu MiB", (unsigned long long)(v / (1024 * 1024)));
	return xasprintf("%llu KiB", (unsigned long long)(v / 1024));
}

void check_memlock(struct session *s, struct report *rp)
{
	static const rlim_t enough = 1024ULL * 1024 * 1024;
	const char *owner = configured_owner(&s->cfg);
	struct limit lim = { RLIM_INFINITY, RLIM_INFINITY, 3, 3, NULL };
	struct strv groups = { 0 }, files = { 0 };
	char *who, *size, *fix, *name = NULL;
	rlim_t value;

	if (owner) {
		user_groups(owner, &name, &groups);
		owner = name ? name : owner; /* limits.conf names users: a number is looked up */
	}
	limits_file("/etc/security/limits.conf", owner, &groups, &lim);
	doctor_list("/etc/security/limits.d", &files);
	for (size_t i = 0; i < files.n; i++) {
		size_t len = strlen(files.v[i]);
		char *f;

		if (len < 5 || !streq(files.v[i] + len - 5, ".conf"))
			continue;
		f = xasprintf("/etc/security/limits.d/%s", files.v[i]);
		limits_file(f, owner, &groups, &lim);
		free(f);
	}
	if (lim.src_soft < 3) {
		value = lim.soft;
		who = xasprintf("%s's sessions (%s)", owner ? owner : "every user", lim.file);
	} else if (root_is_host()) {
		struct rlimit rl;

		if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			rl.rlim_cur = 0;
		value = rl.rlim_cur;
		who = owner ? xasprintf("this process (no memlock line for '%s' in "
					"/etc/security/limits.conf or limits.d)",
					owner)
			    : xstrdup("this process (no owner= is configured for /dev/vfio)");
	} else {
		value = 0;
		who = NULL;
	}
	fix = xasprintf("give the user who runs the guest at least the guest's RAM: a line "
			"'%s - memlock unlimited' in /etc/security/limits.d/vfio.conf (then log "
			"in again); for a systemd service, 'LimitMEMLOCK=infinity' in its unit; "
			"libvirt raises the limit itself for guests with <hostdev> (or set "
			"<memtune><hard_limit> in the domain)",
			owner ? owner : "USER");
	if (!who) {
		report_add(
		    rp, RES_WARN,
		    xasprintf("unknown: no memlock line for %s in /etc/security/limits.conf or "
			      "limits.d, and the limit of this process is not the inspected "
			      "system's; a guest fails with 'vfio_dma_map ... Cannot allocate "
			      "memory' when it cannot lock its RAM",
			      owner ? owner : "every user ('*')"),
		    fix);
	} else {
		size = size_text(value);
		if (value != RLIM_INFINITY && value < enough)
			report_add(
			    rp, RES_WARN,
			    xasprintf("the locked-memory limit of %s is %s: a guest must lock all "
				      "its RAM, and fails with 'vfio_dma_map ... Cannot allocate "
				      "memory' above it",
				      who, size),
			    fix);
		else {
			report_add(rp, RES_OK,
				   xasprintf("the locked-memory limit of %s is %s%s", who, size,
					     value == RLIM_INFINITY
						 ? ""
						 : ": enough for guests up to that RAM"),
				   NULL);
			free(fix);
		}
		free(size);
	}
	free(who);
	free(name);
	free(lim.file);
	strv_free(&files);
	strv_free(&groups);
}

void check_reset(struct session *s, struct report *rp)
{
	size_t n = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		const struct pci_dev *d = &s->devs.v[i];
		char *method = NULL, *reset = pci_sys_path(d, "reset");
		int r;

		if (!doctor_claimed(s, i) || pci_is_bridge(d)) {
			free(reset);
			continue;
		}
		n++;
		r = pci_read_attr(d, "reset_method", &method);
		if (r == 0 && *strip(method))
			report_add(rp, RES_OK, xasprintf("%s: reset by %s", d->addr, method), NULL);
		else if (r == -ENOENT && access(reset, F_OK) == 0)
			report_add(rp, RES_OK,
				   xasprintf("%s: can be reset (this kernel has no reset_method)",
					     d->addr),
				   NULL);
		else
			report_add(
			    rp, RES_WARN,
			    xasprintf(
				"%s: no reset method: it cannot be reset between guests, and a "
				"guest finds it as the last one left it",
				d->addr),
			    xstrdup("claim every function of its slot (a bus reset may then work); "
				    "some GPUs need a vendor reset module; else reboot the host "
				    "between guests"));
		free(method);
		free(reset);
	}
	if (!n)
		report_add(rp, RES_OK, xstrdup("no device is claimed"), NULL);
}

void check_groups(struct session *s, struct report *rp)
{
	size_t n = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		const struct verdict *v = &s->plan.v[i];

		if (v->decision != DEC_REFUSE || strncmp(v->reason, "IOMMU group ", 12) != 0)
			continue;
		n++;
		report_add(
		    rp, RES_WARN, xasprintf("%s: refused: %s", s->devs.v[i].addr, v->reason),
		    xstrdup("claim the device it names as well, or set 'option group-policy=whole' "
			    "in /etc/vfio-claim.d; or move the card to a slot with an IOMMU group "
			    "of its own"));
	}
	if (!n)
		report_add(rp, RES_OK,
			   xstrdup("no claim is refused for an IOMMU group it cannot take whole"),
			   NULL);
}

/* A guest that holds a device and is gone (its run process died, another boot). */
void check_guests(struct session *s, struct report *rp)
{
	size_t n = 0, held = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		struct strv names;
		struct kv kv;

		if (!pci_on_vfio(&s->devs.v[i]) || state_read(s->devs.v[i].addr, &kv) < 0)
			continue;
		guest_holders(&kv, &names);
		held += names.n > 0;
		for (size_t k = 0; k < names.n; k++) {
			char *gone = guest_gone(&kv, names.v[k]), *name;

			if (!gone)
				continue;
			n++;
			name = guest_display(names.v[k]);
			report_add(
			    rp, RES_WARN,
			    xasprintf("%s: guest '%s' is gone (%s), and the device stays on %s",
				      s->devs.v[i].addr, name, gone, s->devs.v[i].driver),
			    xasprintf("'vfio-claim release --guest %s' gives it back", names.v[k]));
			free(name);
			free(gone);
		}
		strv_free(&names);
		kv_free(&kv);
	}
	if (!n)
		report_add(rp, RES_OK,
			   held ? xasprintf("%zu device%s held by running guests", held,
					    held == 1 ? "" : "s")
				: xstrdup("no device is held by a guest"),
			   NULL);
}

void check_config(struct session *s, struct report *rp)
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

static void print(const struct report *rp, bool json)
{
	size_t count[3] = { 0 };
	struct jsonw w;

	for (size_t i = 0; i < rp->n; i++)
		count[rp->v[i].result]++;
	if (json) {
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
		for (size_t k = 0; k < ARRAY_SIZE(count); k++)
			jsonw_uint(&w, result_names[k], count[k]);
		jsonw_object_close(&w);
		jsonw_object_close(&w);
		return;
	}
	for (size_t i = 0; i < rp->n; i++) {
		const struct finding *c = &rp->v[i];

		printf("%-4s %-19s %s", result_names[c->result], c->name, c->message);
		if (c->fix)
			printf("; fix: %s", c->fix);
		putchar('\n');
	}
	printf("%zu ok, %zu warn, %zu fail\n", count[RES_OK], count[RES_WARN], count[RES_FAIL]);
}

/* The checks, in the order of the report; a check adds its lines under its name. */
static const struct doctor_check {
	const char *name;
	void (*run)(struct session *s, struct report *rp);
} checks[] = {
	{ "iommu", check_iommu },
	{ "interrupt-remapping", check_interrupt_remapping },
	{ "vfio-modules", check_modules },
	{ "iommufd", check_iommufd },
	{ "configuration", check_config },
	{ "initramfs", check_initramfs },
	{ "initramfs-modules", check_initramfs_modules },
	{ "initramfs-record", check_initramfs_record },
	{ "vfio-pci-ids", check_vfio_ids },
	{ "builtin-driver", check_builtin_drivers },
	{ "framebuffer", check_framebuffer },
	{ "iommu-groups", check_groups },
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
