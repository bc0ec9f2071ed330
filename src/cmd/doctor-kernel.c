// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `doctor`'s checks of the running kernel: the IOMMU and its interrupt remapping, the vfio
 * modules, iommufd, the vfio-pci ids of the kernel command line and modprobe.d, and host drivers
 * built into the kernel.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"
#include "modload.h"

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

/* The fix for an IOMMU that is off: the CPU vendor's kernel parameter, or the firmware's switch. */
static char *iommu_fix(void)
{
	const char *param = iommu_param();
	char *cmdline = kernel_cmdline(), *fix;

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
	free(cmdline);
	return fix;
}

void check_iommu(struct session *s, struct report *rp)
{
	struct strv groups = { 0 };

	doctor_list("/sys/kernel/iommu_groups", &groups);
	if (groups.n > 0)
		report_add(rp, RES_OK, xasprintf("%zu IOMMU groups", groups.n), NULL);
	else
		report_add(rp, RES_FAIL,
			   xstrdup("no IOMMU groups in /sys/kernel/iommu_groups: the IOMMU is off, "
				   "and vfio cannot use any device"),
			   iommu_fix());
	strv_free(&groups);
}

/* Is the value of a boolean module parameter on ("Y", "1")? */
static bool param_on(const char *path)
{
	char *text = NULL;
	bool r = doctor_read(path, &text) == 0 && (streq(text, "Y") || streq(text, "1"));

	free(text);
	return r;
}

/* What the kernel shows of interrupt remapping. */
struct irq_facts {
	size_t intel, intel_ir, amd; /* IOMMU units: VT-d, VT-d that remap, AMD-Vi */
	char *without;		     /* the first VT-d unit that cannot remap, or NULL */
	int enabled;		     /* IR- interrupts in /proc/interrupts; -1: unreadable */
	bool unsafe;		     /* vfio_iommu_type1's allow_unsafe_interrupts */
	bool unsafe_fd;		     /* iommufd's (6.2 and later), for the devices it hands out */
};

/* One unit of /sys/class/iommu, counted in *f. */
static void irq_unit(const char *unit, struct irq_facts *f)
{
	char *ecap = xasprintf("/sys/class/iommu/%s/intel-iommu/ecap", unit);
	char *amd = root_path("/sys/class/iommu/%s/amd-iommu", unit), *text = NULL;

	if (doctor_read(ecap, &text) == 0) {
		/* ECAP bit 3: interrupt remapping supported (VT-d specification) */
		f->intel++;
		if (strtoull(text, NULL, 16) & (1ULL << 3))
			f->intel_ir++;
		else if (!f->without)
			f->without = xstrdup(unit);
	} else if (access(amd, F_OK) == 0) {
		f->amd++;
	}
	free(text);
	free(amd);
	free(ecap);
}

static void irq_facts(struct irq_facts *f)
{
	struct strv units = { 0 };
	char *interrupts = NULL;

	*f = (struct irq_facts){ .enabled = -1 };
	f->unsafe = param_on("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
	f->unsafe_fd = param_on("/sys/module/iommufd/parameters/allow_unsafe_interrupts");
	doctor_list("/sys/class/iommu", &units);
	for (size_t i = 0; i < units.n; i++)
		irq_unit(units.v[i], f);
	if (doctor_read("/proc/interrupts", &interrupts) == 0)
		f->enabled = strstr(interrupts, "IR-") != NULL;
	free(interrupts);
	strv_free(&units);
}

/* A module runs with allow_unsafe_interrupts=Y: iommufd's, else vfio_iommu_type1's. */
static void irq_unsafe(const struct irq_facts *f, struct report *rp)
{
	if (f->unsafe_fd && !f->unsafe)
		report_add(
		    rp, RES_WARN,
		    xstrdup("iommufd runs with allow_unsafe_interrupts=Y: it takes devices "
			    "without interrupt remapping, and a guest can then send the host "
			    "interrupts it should not"),
		    xstrdup("remove 'iommufd.allow_unsafe_interrupts=1' (kernel command line) "
			    "or 'options iommufd allow_unsafe_interrupts=1' (/etc/modprobe.d) "
			    "once the firmware enables interrupt remapping"));
	else
		report_add(
		    rp, RES_WARN,
		    xstrdup("vfio_iommu_type1 runs with allow_unsafe_interrupts=Y: it takes "
			    "devices without interrupt remapping, and a guest can then send "
			    "the host interrupts it should not"),
		    xstrdup("remove 'options vfio_iommu_type1 allow_unsafe_interrupts=1' from "
			    "/etc/modprobe.d once the firmware enables interrupt remapping "
			    "(x2APIC and VT-d, or AMD-Vi)"));
}

/* A unit that cannot remap, or remapping off: vfio refuses the devices. */
static void irq_missing(const struct irq_facts *f, struct report *rp)
{
	report_add(rp, RES_FAIL,
		   f->without ? xasprintf("IOMMU unit '%s' does not support interrupt remapping "
					  "(bit 3 of its ecap is clear): vfio refuses its devices",
					  f->without)
			      : xstrdup("interrupt remapping is off (no IR- interrupts in "
					"/proc/interrupts): vfio refuses devices"),
		   xstrdup("enable x2APIC and interrupt remapping in the firmware setup, and drop "
			   "'intremap=off' from the kernel command line; only if the hardware has "
			   "none: 'options vfio_iommu_type1 allow_unsafe_interrupts=1' in "
			   "/etc/modprobe.d (a guest can then forge interrupts)"));
}

void check_interrupt_remapping(struct session *s, struct report *rp)
{
	struct irq_facts f;

	if (!s->devs.have_iommu) {
		report_add(rp, RES_WARN, xstrdup("cannot be checked while the IOMMU is off"),
			   xstrdup("enable the IOMMU first (see the 'iommu' check)"));
		return;
	}
	irq_facts(&f);
	if (f.unsafe || f.unsafe_fd)
		irq_unsafe(&f, rp);
	else if (f.without || f.enabled == 0)
		irq_missing(&f, rp);
	else if (f.enabled == 1 || f.intel_ir > 0 || f.amd > 0)
		report_add(rp, RES_OK,
			   xstrdup(f.enabled == 1 ? "interrupts are remapped"
				   : f.intel_ir > 0
				       ? "every IOMMU unit supports interrupt remapping"
				       : "AMD-Vi remaps interrupts (not shown in sysfs)"),
			   NULL);
	else
		report_add(rp, RES_WARN,
			   xstrdup("cannot tell: no IOMMU unit in /sys/class/iommu says, and "
				   "/proc/interrupts cannot be read"),
			   xstrdup("look for 'Enabled IRQ remapping' in the kernel log (dmesg)"));
	free(f.without);
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

/* "y", "m" or "n" for CONFIG_NAME in the text of a kernel's config file (the last line wins). */
static const char *config_value(char *text, const char *name)
{
	size_t len = strlen(name);
	const char *r = "n";

	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, name, len) && line[len] == '=')
			r = line[len + 1] == 'y' ? "y" : line[len + 1] == 'm' ? "m" : "n";
	}
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
	if (doctor_read(path, &text) == 0)
		r = config_value(text, name);
	free(text);
	free(path);
	free(release);
	return r;
}

/* The VFIO device cdevs (/dev/vfio/devices/vfioN): the vfio-dev class, or the kernel's config. */
static bool vfio_cdevs(void)
{
	const char *config = kernel_config("CONFIG_VFIO_DEVICE_CDEV");
	char *cls = root_path("/sys/class/vfio-dev");
	bool r = access(cls, F_OK) == 0 || (config && streq(config, "y"));

	free(cls);
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
	char *message;

	if (iommufd_present() && vfio_cdevs())
		message =
		    xstrdup("iommufd (/dev/iommu) and the VFIO device nodes "
			    "(/dev/vfio/devices/vfioN) are there: QEMU and libvirt can use the "
			    "iommufd backend; claimed devices' nodes get the permissions of "
			    "/dev/vfio/N");
	else if (iommufd_present())
		message = xstrdup("iommufd (/dev/iommu) is there, but no VFIO device nodes "
				  "(CONFIG_VFIO_DEVICE_CDEV): virtual machines use the group nodes "
				  "/dev/vfio/N");
	else if (config && streq(config, "m"))
		message = xstrdup("iommufd is a module of this kernel, not loaded (no /dev/iommu): "
				  "virtual machines use the group nodes /dev/vfio/N; 'modprobe "
				  "iommufd' for QEMU's iommufd backend");
	else
		message =
		    xasprintf("the kernel has no iommufd (no /dev/iommu%s): virtual machines "
			      "use the group nodes /dev/vfio/N, as on every kernel before 6.2",
			      config ? ", CONFIG_IOMMUFD is not set" : "");
	report_add(rp, RES_OK, message, NULL);
}

static const char *const vfio_modules[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };

/* The vfio modules the running kernel lacks (not loaded, not built in, no module file). */
static void vfio_missing(struct modules *mods, struct strv *missing)
{
	for (size_t i = 0; i < ARRAY_SIZE(vfio_modules); i++)
		if (modload_present(mods, vfio_modules[i]) < 0 &&
		    /* a kernel without the type1 container: iommufd takes its place */
		    !(streq(vfio_modules[i], "vfio_iommu_type1") && iommufd_present()))
			strv_push(missing, xstrdup(vfio_modules[i]));
}

/* What the kernel has of vfio_pci_core, for the ok line: "", or "; ..." */
static const char *vfio_core(struct modules *mods)
{
	if (modload_present(mods, "vfio_pci_core") != 0)
		return "";
	if (modload_builtin(mods, "vfio_pci_core"))
		return "; vfio_pci_core (vfio_pci's and the variant drivers' core) is built in";
	return "; vfio_pci_core (vfio_pci's and the variant drivers' core) is a module, which "
	       "loading vfio_pci loads";
}

void check_vfio_modules(struct session *s, struct report *rp)
{
	struct modules *mods = session_modules(s);
	struct strv missing = { 0 };
	char *list;

	vfio_missing(mods, &missing);
	if (!missing.n) {
		report_add(
		    rp, RES_OK,
		    xasprintf("vfio, vfio_iommu_type1 and vfio_pci are there for the running "
			      "kernel (loaded, built in or in its module folder)%s",
			      vfio_core(mods)),
		    NULL);
		return;
	}
	list = strv_join(&missing, ", ");
	report_add(
	    rp, RES_FAIL,
	    xasprintf("the running kernel has no %s (not loaded, not built in, not in "
		      "'%s/lib/modules/VERSION'): nothing can be claimed",
		      list, root_get()),
	    xstrdup("install the running kernel's modules (Debian: its linux-image package), "
		    "or build the kernel with CONFIG_VFIO_PCI and CONFIG_VFIO_IOMMU_TYPE1"));
	free(list);
	strv_free(&missing);
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

/*
 * A vfio-pci id (VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE[:CLASS:MASK]]) as a selector, in *text its
 * fields up to the subsystem's: the class fields have no selector form, and the ids alone are a
 * superset, fine here. 0, or -EINVAL with *why.
 */
static int id_selector(const char *id, char **text, struct selector *sel, const char **why)
{
	char *p = *text = xstrdup(id);

	for (int colons = 0; *p; p++)
		if (*p == ':' && ++colons == 4)
			*p = '\0';
	return selector_parse(*text, sel, why);
}

/* Device i matches a vfio-pci id that the plan does not claim it for (a bridge never counts). */
static bool id_fights_plan(const struct session *s, size_t i, const struct selector *sel)
{
	return selector_match(sel, &s->devs.v[i]) && s->plan.v[i].decision != DEC_CLAIM &&
	       !pci_is_bridge(&s->devs.v[i]);
}

/* A device the id gives vfio-pci: a fail when the configuration refuses it, else a warning. */
static void id_fight(struct report *rp, const struct pci_dev *d, const struct verdict *v,
		     const char *id, const char *where, const char *text)
{
	bool refused = v->decision == DEC_REFUSE || strncmp(v->reason, "excluded", 8) == 0;

	report_add(rp, refused ? RES_FAIL : RES_WARN,
		   xasprintf("vfio-pci ids '%s' (%s) give %s to vfio-pci, but the configuration "
			     "%s it: %s",
			     id, where, d->addr, refused ? "refuses" : "keeps", v->reason),
		   xasprintf("remove '%s' from the %s and choose devices in /etc/vfio-claim.d "
			     "('claim %s'), where the safety rules apply",
			     id, where, text));
}

/* One vfio-pci id against the plan: the findings it adds. */
static size_t id_fights(struct session *s, struct report *rp, const char *id, const char *where)
{
	struct selector sel;
	const char *why;
	char *text;
	size_t fights = 0;

	if (id_selector(id, &text, &sel, &why) < 0) {
		report_add(rp, RES_WARN, xasprintf("vfio-pci ids '%s' (%s): %s", id, where, why),
			   xasprintf("correct it in the %s", where));
		free(text);
		return 1;
	}
	for (size_t i = 0; i < s->devs.n; i++)
		if (id_fights_plan(s, i, &sel)) {
			id_fight(rp, &s->devs.v[i], &s->plan.v[i], id, where, text);
			fights++;
		}
	selector_free(&sel);
	free(text);
	return fights;
}

/* The vfio-pci ids of the kernel command line (vfio_pci.ids=, the last one), appended. */
static void cmdline_ids(struct strv *ids)
{
	char *cmdline = kernel_cmdline(), *value = cmdline_param(cmdline, "vfio_pci.ids");

	if (value) {
		char *w = xasprintf("ids=%s", value);

		ids_words(w, ids);
		free(w);
	}
	free(value);
	free(cmdline);
}

void check_vfio_pci_ids(struct session *s, struct report *rp)
{
	struct strv cmd_ids = { 0 }, mod_ids = { 0 };
	char *options = NULL;
	size_t fights = 0;

	cmdline_ids(&cmd_ids);
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
		report_add(rp, RES_OK,
			   xstrdup(cmd_ids.n || mod_ids.n
				       ? "the vfio-pci ids of the kernel command line and "
					 "modprobe.d name only devices the configuration claims"
				       : "no vfio-pci ids on the kernel command line or in "
					 "modprobe.d"),
			   NULL);
	free(options);
	strv_free(&cmd_ids);
	strv_free(&mod_ids);
}

/* The host drivers of device d (the modules of its modalias) built into the kernel, appended. */
static void builtin_drivers(struct modules *m, const struct pci_dev *d, struct strv *builtin)
{
	struct strv mods = { 0 };
	char *modalias = NULL;

	if (pci_read_attr(d, "modalias", &modalias) < 0)
		return;
	modload_alias_modules(m, modalias, &mods);
	for (size_t k = 0; k < mods.n; k++)
		if (modload_builtin(m, mods.v[k]))
			strv_push(builtin, xstrdup(mods.v[k]));
	strv_free(&mods);
	free(modalias);
}

static void builtin_driver(struct report *rp, const struct pci_dev *d, const char *module)
{
	report_add(
	    rp, RES_WARN,
	    xasprintf("%s: its host driver '%s' is built into the kernel: it takes the "
		      "device before the initramfs runs, and vfio-claim can only take it "
		      "back from the driver afterwards",
		      d->addr, module),
	    xasprintf("use a kernel that builds '%s' as a module; or, if vfio-pci is built in "
		      "as well, add 'vfio-pci.ids=%04x:%04x' to the kernel command line",
		      module, d->vendor, d->device));
}

void check_builtin_driver(struct session *s, struct report *rp)
{
	struct modules *m = session_modules(s);
	size_t found = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		struct strv builtin = { 0 };

		if (s->plan.v[i].decision != DEC_CLAIM)
			continue;
		builtin_drivers(m, &s->devs.v[i], &builtin);
		for (size_t k = 0; k < builtin.n; k++, found++)
			builtin_driver(rp, &s->devs.v[i], builtin.v[k]);
		strv_free(&builtin);
	}
	if (!found)
		report_add(rp, RES_OK,
			   xstrdup("no selected device has a host driver built into the kernel"),
			   NULL);
}
