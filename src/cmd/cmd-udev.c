// SPDX-License-Identifier: GPL-2.0-or-later
/* `udev`: one device from a udev rule (hotplug, SR-IOV VFs, coldplug replay); KEY=value output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "perms.h"
#include "sriov.h"

/* "/sys/devices/..." or "/devices/..." (DEVPATH) -> the kernel name and the path */
static const char *devpath_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/*
 * The IOMMU group of a vfio node (/dev/vfio/N) and its PCI devices, or the PCI device above
 * vfio-dev/vfioN (*group -1); -ENODEV for the control node /dev/vfio/vfio, which has none.
 */
static int vfio_node_group(const char *devpath, const char *subsystem, int *group,
			   struct strv *addrs)
{
	*group = -1;
	if (streq(subsystem, "vfio")) {
		const char *name = devpath_name(devpath);
		if (name[strspn(name, "0123456789")] != '\0' || !*name)
			return -ENODEV;
		*group = atoi(name);
		pci_group_addrs(*group, addrs);
	} else {
		/* .../0000:01:00.0/vfio-dev/vfio0: the PCI device is two levels up */
		char *copy = xstrdup(devpath), *cut = strstr(copy, "/vfio-dev/");
		if (cut) {
			*cut = '\0';
			if (pci_addr_valid(devpath_name(copy)))
				strv_push(addrs, xstrdup(devpath_name(copy)));
		}
		free(copy);
	}
	return 0;
}

/* The keys for one node: numeric owner and group (the image's udevd resolves no names). */
static void print_perms(const char *node, const struct perms *p)
{
	long uid, gid;

	if (perms_resolve(p, &uid, &gid) < 0) {
		log_warn("%s: unknown owner '%s' or group '%s', ignoring", node,
			 p->owner ? p->owner : "", p->group ? p->group : "");
		return;
	}
	if (uid >= 0)
		printf("VFIO_CLAIM_OWNER=%ld\n", uid);
	if (gid >= 0)
		printf("VFIO_CLAIM_GROUP=%ld\n", gid);
	if (p->mode >= 0)
		printf("VFIO_CLAIM_MODE=%04o\n", p->mode);
}

/*
 * /dev/vfio/N and /dev/vfio/devices/vfioN: owner, group and mode from the policy; a device's
 * cdev gets those of its group's node, as at the claim (claim_group()).
 */
static int udev_vfio_node(struct session *s, int group, const struct strv *addrs)
{
	const struct rule *rule = NULL;
	bool cdev = group < 0; /* vfio-dev: the device's node, with its group's permissions */
	struct perms p;

	if (group < 0 && addrs->n) {
		/* a vfio-dev node: the group of the device it was made for */
		int i = pci_find(&s->devs, addrs->v[0]);
		if (i >= 0)
			group = s->devs.v[i].iommu_group;
	}
	session_plan(s, NULL);
	for (size_t i = 0; i < s->devs.n && group >= 0; i++)
		if (s->devs.v[i].iommu_group == group && s->plan.v[i].decision == DEC_CLAIM &&
		    s->plan.v[i].rule) {
			rule = s->plan.v[i].rule;
			if (rule->perms.owner || rule->perms.group || rule->perms.mode >= 0)
				break;
		}
	char node[64];

	perms_effective(rule, &s->cfg, &p);
	if (cdev)
		snprintf(node, sizeof(node), "the /dev/vfio/devices node of %s",
			 addrs->n ? addrs->v[0] : "?");
	else
		snprintf(node, sizeof(node), "/dev/vfio/%d", group);
	print_perms(node, &p);
	return 0;
}

/* An SR-IOV VF not claimed, whose PF's autoprobe boot turned off: its host driver gets it. */
static void udev_unselected_vf(struct session *s, size_t i)
{
	struct bind_error err = { { 0 } };
	int r = sriov_probe_unselected(s, i, &err);

	if (r > 0)
		log_info("%s: virtual function not claimed: probed for its host driver '%s'",
			 s->devs.v[i].addr, s->devs.v[i].driver);
	else if (r < 0)
		log_error("%s: virtual function not claimed: %s failed: %s", s->devs.v[i].addr,
			  err.step, errstr(r));
}

/*
 * /dev/iommu, which QEMU's iommufd backend opens: the permissions of the vfio nodes, once a
 * device is claimed (perms_iommufd()); nothing while none is.
 */
static int udev_iommufd_node(struct session *s)
{
	const struct rule *rule = NULL;
	bool any = false;
	struct perms p;

	session_plan(s, NULL);
	for (size_t i = 0; i < s->devs.n && !rule; i++) {
		const struct verdict *v = &s->plan.v[i];

		if (v->decision != DEC_CLAIM && !pci_on_vfio(&s->devs.v[i]))
			continue;
		any = true;
		if (v->rule &&
		    (v->rule->perms.owner || v->rule->perms.group || v->rule->perms.mode >= 0))
			rule = v->rule;
	}
	if (!any)
		return 0;
	perms_iommufd(rule, &s->cfg, &p);
	print_perms("/dev/iommu", &p);
	return 0;
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	const char *devpath, *subsystem = getenv("SUBSYSTEM");
	struct strv addrs = { 0 };
	struct session s;
	int i, r;

	r = cmd_parse_plain(cmd, opts, argc, argv, true);
	if (r >= 0)
		return r;
	r = 0;
	if (argc - optind > 1) {
		log_error("udev takes one device path: '%s'", argv[optind + 1]);
		return EXIT_USAGE;
	}
	devpath = optind < argc ? argv[optind] : getenv("DEVPATH");
	if (!devpath || !*devpath) {
		log_error("udev needs a device path, or DEVPATH in the environment");
		return EXIT_USAGE;
	}
	if (strncmp(devpath, "/sys/", 5) == 0)
		devpath += 4;
	log_open_kmsg();
	if (!subsystem)
		subsystem = strstr(devpath, "/vfio-dev/")	? "vfio-dev"
			    : strstr(devpath, "/virtual/vfio/") ? "vfio"
								: "pci";
	/* /dev/iommu (iommufd): one node for the machine, one event a boot */
	if (streq(subsystem, "misc")) {
		if (!streq(devpath_name(devpath), "iommu"))
			return 0;
		if (session_open(&s) < 0)
			return EXIT_RUNTIME;
		r = udev_iommufd_node(&s);
		goto out;
	}
	/* one event reads its device (or group), not the machine: session_open_event() */
	if (streq(subsystem, "vfio") || streq(subsystem, "vfio-dev")) {
		int group;

		if (vfio_node_group(devpath, subsystem, &group, &addrs) < 0)
			return 0; /* the control node: no policy sets its permissions */
		if (session_open_event(&s, &addrs) < 0) {
			strv_free(&addrs);
			return EXIT_RUNTIME;
		}
		r = udev_vfio_node(&s, group, &addrs);
		goto out;
	}
	if (pci_addr_valid(devpath_name(devpath)))
		strv_push(&addrs, xstrdup(devpath_name(devpath)));
	if (session_open_event(&s, &addrs) < 0) {
		strv_free(&addrs);
		return EXIT_RUNTIME;
	}
	i = pci_find(&s.devs, devpath_name(devpath));
	if (i < 0) {
		log_error("'%s' is not a PCI device under '%s/sys'", devpath, root_get());
		r = EXIT_RUNTIME;
		goto out;
	}
	session_plan(&s, NULL);
	{
		const struct verdict *v = &s.plan.v[i];
		const char *state = "kept";

		/* a device released by hand this boot is kept: the plan says so (v->released) */
		if (v->decision == DEC_REFUSE) {
			state = "refused";
			if (refusal_is_new(s.devs.v[i].addr, v->reason))
				log_warn("%s: refused: %s", s.devs.v[i].addr, v->reason);
		}
		if (v->decision != DEC_CLAIM)
			udev_unselected_vf(&s, (size_t)i);
		if (v->decision == DEC_CLAIM) {
			enum claim_result cr = claim_group(&s, (size_t)i, "udev", NULL);
			state = cr == CLAIM_FAILED    ? "failed"
				: cr == CLAIM_SKIPPED ? "kept"
						      : "claimed";
		}
		printf("VFIO_CLAIM=%s\nVFIO_CLAIM_REASON=%s\n", state, v->reason);
	}
out:
	session_close(&s);
	strv_free(&addrs);
	return r;
}

const struct cmd cmd_udev = {
	.name = "udev",
	.args = "[SYSPATH]",
	.help = "one device, from a udev rule (KEY=value lines for IMPORT{program})",
	.run = run,
};
