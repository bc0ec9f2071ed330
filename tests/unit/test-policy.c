// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the decisions (SPEC §6, src/core/policy.c) on device lists built in memory: no
 * fixture tree, no sysfs, one test per rule. The machines are the ones of tests/mkfixture.py, cut
 * to what the rules look at; tests/plans/ holds their whole-machine goldens.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "policy.h"
#include "unit.h"

#define CONF "/etc/vfio-claim.d/test.conf"

struct machine {
	struct pci_list devs;
	struct config cfg;
	struct protected_list prot;
	struct strv released;
	struct strv pinned;
	struct rule manual;
	bool have_manual;
	bool guests; /* a guest is starting: when=guest lines claim too */
	struct plan plan;
};

/* As config_load() starts: no files, no command line. */
static void machine_init(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	m->cfg.perms.mode = -1;
	m->cfg.keep_usb = true;
}

static void machine_free(struct machine *m)
{
	plan_free(&m->plan);
	pci_list_free(&m->devs);
	config_free(&m->cfg);
	protected_free(&m->prot);
	strv_free(&m->released);
	strv_free(&m->pinned);
	if (m->have_manual)
		rule_free(&m->manual);
}

/* "01:00.0" for domain 0, as the tests write them, to the kernel's "0000:01:00.0" */
static const char *full_addr(const char *addr, char buf[16])
{
	snprintf(buf, 16, "%s%s", strlen(addr) == 7 ? "0000:" : "", addr);
	return buf;
}

/*
 * Adds a PCI function as the sysfs reader would describe it: parent is the address of the bridge
 * above it (NULL: a root bus), ids "VVVV:DDDD", group -1 for none. The pointer is valid until the
 * next add().
 */
static struct pci_dev *add(struct machine *m, const char *addr, const char *parent, uint32_t class,
			   const char *ids, int group, const char *driver)
{
	char a[16], p[16];
	char *devpath = NULL, *pcipath = NULL;
	unsigned vendor = 0, device = 0;
	struct pci_dev *d;

	full_addr(addr, a);
	if (parent) {
		full_addr(parent, p);
		for (size_t i = 0; i < m->devs.n; i++)
			if (streq(m->devs.v[i].addr, p)) {
				devpath = xasprintf("%s/%s", m->devs.v[i].devpath, a);
				pcipath = xasprintf("%s/%s", m->devs.v[i].pcipath, a + 8);
			}
		CHECK(devpath != NULL); /* the parent is added first */
	} else {
		devpath = xasprintf("/devices/pci%.7s/%s", a, a);
		pcipath = xstrdup(a);
	}
	m->devs.v = xrealloc(m->devs.v, (m->devs.n + 1) * sizeof(*m->devs.v));
	d = &m->devs.v[m->devs.n++];
	memset(d, 0, sizeof(*d));
	CHECK(pci_dev_set_addr(d, a) == 0);
	CHECK(sscanf(ids, "%x:%x", &vendor, &device) == 2);
	d->vendor = (uint16_t)vendor;
	d->device = (uint16_t)device;
	d->class = class;
	d->header_type = (class >> 8) == 0x0604 ? 1 : 0;
	d->iommu_group = group;
	d->driver = driver ? xstrdup(driver) : NULL;
	d->devpath = devpath;
	d->pcipath = pcipath;
	d->boot_vga = (class >> 16) == 0x03 ? 0 : -1;
	d->sriov_numvfs = -1;
	return d;
}

static struct pci_dev *dev(struct machine *m, const char *addr)
{
	char a[16];
	int i;

	pci_list_finish(&m->devs);
	i = pci_find(&m->devs, full_addr(addr, a));
	CHECK(i >= 0);
	return i >= 0 ? &m->devs.v[i] : NULL;
}

/* One configuration file that must parse. */
static void conf(struct machine *m, const char *text)
{
	size_t before = m->cfg.nerrors;

	config_parse_text(&m->cfg, CONF, text);
	CHECK(m->cfg.nerrors == before);
}

static void protect(struct machine *m, const char *addr, const char *why)
{
	struct protected_dev *p;

	m->prot.v = xrealloc(m->prot.v, (m->prot.n + 1) * sizeof(*m->prot.v));
	p = &m->prot.v[m->prot.n++];
	memset(p, 0, sizeof(*p));
	full_addr(addr, p->addr);
	p->why = xstrdup(why);
}

static void release(struct machine *m, const char *addr)
{
	char a[16];

	strv_push(&m->released, xstrdup(full_addr(addr, a)));
	strv_sort(&m->released);
}

/* driver_override names another driver (session_plan() reads it) */
static void pin(struct machine *m, const char *addr, const char *driver)
{
	char a[16];

	strv_push(&m->pinned, xasprintf("%s %s", full_addr(addr, a), driver));
}

/* `vfio-claim claim [--force] WORDS`, as cmd-claim.c builds its rule. */
static void claim_by_hand(struct machine *m, const char *words, bool force)
{
	char *copy = xstrdup(words), *save = NULL, *argv[8];
	const char *bad = NULL, *why = NULL;
	size_t argc = 0;

	for (char *w = strtok_r(copy, " ", &save); w && argc < ARRAY_SIZE(argv);
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	CHECK(config_parse_rule_args(&m->manual, argv, argc, false, &bad, &why) == 0);
	m->manual.force = force;
	m->manual.origin = xstrdup("the vfio-claim claim command");
	m->have_manual = true;
	free(copy);
}

static void run(struct machine *m)
{
	const struct plan_input in = {
		.devs = &m->devs,
		.cfg = &m->cfg,
		.protected = &m->prot,
		.released = &m->released,
		.pinned = &m->pinned,
		.manual = m->have_manual ? &m->manual : NULL,
		.guests = m->guests,
	};

	pci_list_finish(&m->devs);
	plan_free(&m->plan);
	plan_build(&m->plan, &in);
	CHECK(m->plan.n == m->devs.n);
}

static const struct verdict *verdict(struct machine *m, const char *addr)
{
	const struct pci_dev *d = dev(m, addr);

	return d ? &m->plan.v[d - m->devs.v] : NULL;
}

/*
 * EXPECT(m, ADDR, DECISION, FRAGMENT...): the device's decision, and a reason holding every
 * fragment (why, and how to override).
 */
#define EXPECT(m, addr, ...) expect_at(__LINE__, m, addr, (const char *[]){ __VA_ARGS__, NULL })

static void expect_at(int line, struct machine *m, const char *addr, const char *const *want)
{
	const struct verdict *v = verdict(m, addr);
	const char *dec = want[0], *const *frags = want + 1;
	bool ok = v && streq(decision_name(v->decision), dec);

	for (size_t i = 0; ok && frags[i]; i++)
		ok = v->reason && strstr(v->reason, frags[i]);
	if (ok)
		return;
	fprintf(stderr, "    %s:%d: %s is '%s %s', expected '%s'", __FILE__, line, addr,
		v ? decision_name(v->decision) : "(absent)", v && v->reason ? v->reason : "", dec);
	for (size_t i = 0; frags[i]; i++)
		fprintf(stderr, " with '%s'", frags[i]);
	fprintf(stderr, "\n");
	unit_failed_checks++;
}

/* ------------------------------------------------------------------------------------------ */
/* The machines of tests/mkfixture.py */

/* Coffee Lake desktop: iGPU boots, GTX 1080 + HDMI audio share group 1 with their root port. */
static void desktop(struct machine *m)
{
	machine_init(m);
	add(m, "00:00.0", NULL, 0x060000, "8086:3e30", 0, NULL);
	add(m, "00:01.0", NULL, 0x060400, "8086:1901", 1, NULL);
	add(m, "00:02.0", NULL, 0x030000, "8086:3e92", 2, "i915")->boot_vga = 1;
	add(m, "00:14.0", NULL, 0x0c0330, "8086:a36d", 3, "xhci_hcd");
	add(m, "00:1c.0", NULL, 0x060400, "8086:a338", 4, NULL);
	add(m, "00:1d.0", NULL, 0x060400, "8086:a330", 5, NULL);
	add(m, "00:1f.0", NULL, 0x060100, "8086:a305", 6, NULL);
	add(m, "00:1f.3", NULL, 0x040300, "8086:a348", 6, "snd_hda_intel");
	add(m, "00:1f.4", NULL, 0x0c0500, "8086:a323", 6, "i801_smbus");
	add(m, "00:1f.6", NULL, 0x020000, "8086:15bc", 7, "e1000e");
	add(m, "01:00.0", "00:01.0", 0x030000, "10de:1b80", 1, "nouveau");
	add(m, "01:00.1", "00:01.0", 0x040300, "10de:10f0", 1, "snd_hda_intel");
	add(m, "02:00.0", "00:1c.0", 0x0c0330, "1b21:2142", 4, "xhci_hcd");
	add(m, "3d:00.0", "00:1d.0", 0x010802, "144d:a808", 5, "nvme");
	m->devs.have_i8042 = false;
}

/* Xeon server: PS/2 present, an 82599 whose first port has 2 VFs, ASPEED BMC boots. */
static void server(struct machine *m)
{
	machine_init(m);
	add(m, "00:00.0", NULL, 0x060000, "8086:2020", 0, NULL);
	add(m, "00:03.0", NULL, 0x060400, "8086:2032", 5, NULL);
	add(m, "00:14.0", NULL, 0x0c0330, "8086:a1af", 8, "xhci_hcd");
	add(m, "00:17.0", NULL, 0x010601, "8086:a102", 9, "ahci");
	add(m, "00:1c.0", NULL, 0x060400, "8086:a190", 10, NULL);
	add(m, "05:00.0", "00:03.0", 0x020000, "8086:10fb", 6, "ixgbe")->sriov_numvfs = 2;
	add(m, "05:00.1", "00:03.0", 0x020000, "8086:10fb", 7, "ixgbe")->sriov_numvfs = 0;
	add(m, "05:10.0", "00:03.0", 0x020000, "8086:10ed", 13, "ixgbevf");
	add(m, "05:10.2", "00:03.0", 0x020000, "8086:10ed", 14, "ixgbevf");
	add(m, "06:00.0", "00:1c.0", 0x060400, "1a03:1150", 11, NULL);
	add(m, "07:00.0", "06:00.0", 0x030000, "1a03:2000", 11, "ast")->boot_vga = 1;
	m->devs.have_i8042 = true;
}

/* Small office box: audio shares the chipset group with LPC, SMBus and SPI; one USB controller. */
static void chipset(struct machine *m)
{
	machine_init(m);
	add(m, "00:00.0", NULL, 0x060000, "8086:3ec2", 0, NULL);
	add(m, "00:14.0", NULL, 0x0c0330, "8086:a36d", 1, "xhci_hcd");
	add(m, "00:1c.0", NULL, 0x060400, "8086:a338", 2, NULL);
	add(m, "00:1d.0", NULL, 0x060400, "8086:a330", 4, NULL);
	add(m, "00:1f.0", NULL, 0x060100, "8086:a306", 5, NULL);
	add(m, "00:1f.3", NULL, 0x040300, "8086:a348", 5, "snd_hda_intel");
	add(m, "00:1f.4", NULL, 0x0c0500, "8086:a323", 5, "i801_smbus");
	add(m, "00:1f.5", NULL, 0x0c8000, "8086:a324", 5, NULL);
	add(m, "01:00.0", "00:1c.0", 0x020000, "8086:1539", 3, "igb");
	add(m, "02:00.0", "00:1d.0", 0x010802, "144d:a808", 4, "nvme");
	m->devs.have_i8042 = false;
}

/* Kaby Lake desktop booted without an IOMMU: no groups at all. */
static void noiommu(struct machine *m)
{
	machine_init(m);
	add(m, "00:00.0", NULL, 0x060000, "8086:591f", -1, NULL);
	add(m, "00:02.0", NULL, 0x030000, "8086:5912", -1, "i915")->boot_vga = 1;
	add(m, "00:14.0", NULL, 0x0c0330, "8086:a2af", -1, "xhci_hcd");
	add(m, "00:1d.0", NULL, 0x060400, "8086:a298", -1, NULL);
	add(m, "00:1f.0", NULL, 0x060100, "8086:a2c5", -1, NULL);
	add(m, "00:1f.6", NULL, 0x020000, "8086:15b8", -1, "e1000e");
	add(m, "01:00.0", "00:1d.0", 0x010802, "15b7:5006", -1, "nvme");
	m->devs.have_i8042 = false;
}

/* ------------------------------------------------------------------------------------------ */
/* Selection */

TEST(a_claim_selects_and_a_device_no_claim_matches_is_kept)
{
	struct machine m;

	desktop(&m);
	conf(&m, "# the NIC\nclaim 00:1f.6\n");
	run(&m);
	EXPECT(&m, "00:1f.6", "claim", "selected by " CONF ":2 ('00:1f.6')");
	CHECK(verdict(&m, "00:1f.6")->selected && verdict(&m, "00:1f.6")->rule);
	EXPECT(&m, "3d:00.0", "keep", "not selected");
	CHECK(!verdict(&m, "3d:00.0")->selected && !verdict(&m, "3d:00.0")->rule);
	/* a device on vfio-pci that no claim selects is the kernel's or a person's doing */
	free(dev(&m, "3d:00.0")->driver);
	dev(&m, "3d:00.0")->driver = xstrdup("vfio-pci");
	run(&m);
	EXPECT(&m, "3d:00.0", "keep", "not selected; bound to vfio-pci by the kernel");
	machine_free(&m);
}

TEST(an_exclude_wins_over_a_claim_and_names_its_file_line_and_selector)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim net nvme\nexclude 8086:15bc\n");
	config_parse_cmdline(&m.cfg, "root=/dev/sda1 vfio_claim.exclude=3d:00.*");
	run(&m);
	EXPECT(&m, "00:1f.6", "keep", "excluded by " CONF ":2 ('8086:15bc')");
	EXPECT(&m, "3d:00.0", "keep", "excluded by cmdline ('3d:00.*')");
	CHECK(verdict(&m, "00:1f.6")->selected && !verdict(&m, "00:1f.6")->rule);
	machine_free(&m);
}

TEST(bridges_are_never_claimed_even_when_a_claim_selects_them)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 00:01.0 class=0x060000/0xffff00 00:1f.*\n");
	run(&m);
	EXPECT(&m, "00:00.0", "keep", "PCI bridge: bridges are never claimed, although a claim");
	EXPECT(&m, "00:01.0", "keep", "PCI bridge: bridges are never claimed, although a claim");
	EXPECT(&m, "00:1f.0", "keep", "PCI bridge: bridges are never claimed, although a claim");
	CHECK_STR(verdict(&m, "00:1c.0")->reason, "PCI bridge: bridges are never claimed");
	/* ... and a bridge in a group does not hold the group's endpoints back */
	EXPECT(&m, "00:1f.3", "claim");
	EXPECT(&m, "00:1f.4", "claim");
	/* the root port's group is not claimed through its bridge */
	EXPECT(&m, "01:00.0", "keep", "not selected");
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* Devices that follow their guests (when=guest) */

TEST(a_when_guest_line_keeps_its_device_until_a_guest_starts)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 01:00.0 when=guest\n");
	run(&m);
	EXPECT(&m, "01:00.0", "keep", "follows its guests (when=guest, " CONF ":1)");
	CHECK(verdict(&m, "01:00.0")->guest_rule != NULL);
	EXPECT(&m, "01:00.1", "keep",
	       "follows its guests with 0000:01:00.0 (same slot and IOMMU group 1");
	CHECK(verdict(&m, "01:00.1")->guest_rule != NULL);
	m.guests = true;
	run(&m);
	EXPECT(&m, "01:00.0", "claim", "selected by " CONF ":1 ('01:00.0')");
	EXPECT(&m, "01:00.1", "claim", "goes with 0000:01:00.0");
	/* the companion follows the same guests */
	CHECK(verdict(&m, "01:00.1")->guest_rule != NULL);
	machine_free(&m);
}

TEST(a_when_boot_line_wins_over_a_when_guest_line)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim gpu when=guest\nclaim 01:00.0\n");
	m.guests = true;
	run(&m);
	EXPECT(&m, "01:00.0", "claim", "selected by " CONF ":2 ('01:00.0')");
	CHECK(verdict(&m, "01:00.0")->guest_rule == NULL);
	/* the boot VGA device follows a guest only with force */
	EXPECT(&m, "00:02.0", "refuse", "boot VGA device", "by address with 'force'");
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* The boot VGA device */

TEST(the_boot_vga_device_is_refused_saying_how_to_claim_it)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim gpu\n");
	run(&m);
	EXPECT(&m, "00:02.0", "refuse", "boot VGA device", "allow-boot-vga=yes", "'force'");
	EXPECT(&m, "01:00.0", "claim", "selected by " CONF ":1 ('gpu')");
	machine_free(&m);
}

TEST(option_allow_boot_vga_lets_the_boot_vga_device_be_claimed)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim gpu\noption allow-boot-vga=yes\n");
	run(&m);
	EXPECT(&m, "00:02.0", "claim", "selected by " CONF ":1 ('gpu')");
	CHECK(!verdict(&m, "00:02.0")->forced);
	machine_free(&m);
}

TEST(force_with_its_address_claims_the_boot_vga_device)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 00:02.0 force\n");
	run(&m);
	EXPECT(&m, "00:02.0", "claim", "selected by " CONF ":1 ('00:02.0'), forced");
	CHECK(verdict(&m, "00:02.0")->forced);
	machine_free(&m);
}

TEST(a_refused_device_named_by_address_is_told_to_add_force_to_that_line)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim gpu\nclaim 00:02.0 tag=vm\n");
	run(&m);
	EXPECT(&m, "00:02.0", "refuse", "boot VGA device",
	       "or add 'force' to its claim at " CONF ":2 to claim it");
	machine_free(&m);

	/* named by category only: it needs its address and 'force' */
	desktop(&m);
	conf(&m, "claim gpu\n");
	run(&m);
	EXPECT(&m, "00:02.0", "refuse", "or name it by address with 'force' to claim it");
	machine_free(&m);

	/* the kernel command line has no 'force': the generic hint */
	desktop(&m);
	config_parse_cmdline(&m.cfg, "vfio_claim=00:02.0");
	run(&m);
	EXPECT(&m, "00:02.0", "refuse", "or name it by address with 'force' to claim it");
	machine_free(&m);

	/* by hand: the command that does it */
	desktop(&m);
	claim_by_hand(&m, "00:02.0", false);
	run(&m);
	EXPECT(&m, "00:02.0", "refuse", "run 'vfio-claim claim --force 0000:00:02.0' to claim it");
	machine_free(&m);
}

TEST(force_does_not_reach_a_device_the_line_matches_by_category)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim gpu 01:00.0 force\n");
	run(&m);
	EXPECT(&m, "00:02.0", "refuse", "boot VGA device");
	CHECK(!verdict(&m, "00:02.0")->forced);
	EXPECT(&m, "01:00.0", "claim", ", forced");
	machine_free(&m);

	/* force on a line with no address is an error, and the file is not applied */
	desktop(&m);
	config_parse_text(&m.cfg, CONF, "claim gpu force\n");
	CHECK(m.cfg.nerrors == 1);
	CHECK_CONTAINS(m.cfg.nerrors ? m.cfg.errors[0].message : NULL,
		       "'force' applies only to devices named by address");
	run(&m);
	EXPECT(&m, "00:02.0", "keep", "not selected");
	EXPECT(&m, "01:00.0", "keep", "not selected");
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* Devices the host boots from */

TEST(a_protected_device_is_refused_with_its_reason)
{
	struct machine m;

	desktop(&m);
	protect(&m, "3d:00.0", "carries the root file system ('UUID=3f1c2a4e')");
	conf(&m, "claim nvme net\n");
	run(&m);
	EXPECT(&m, "3d:00.0", "refuse", "carries the root file system ('UUID=3f1c2a4e')",
	       "the host would lose it", "'force'");
	EXPECT(&m, "00:1f.6", "claim");
	machine_free(&m);
}

TEST(force_with_its_address_claims_a_protected_device)
{
	struct machine m;

	desktop(&m);
	protect(&m, "3d:00.0", "carries /home (from /etc/fstab)");
	conf(&m, "claim 3d:00.0 force\n");
	run(&m);
	EXPECT(&m, "3d:00.0", "claim", "('3d:00.0'), forced");
	machine_free(&m);
}

TEST(an_unresolved_root_without_a_record_refuses_every_storage_controller)
{
	struct machine m;

	server(&m);
	m.prot.unresolved = xstrdup("PARTUUID=0b7e2c4d");
	conf(&m, "claim storage net\n");
	run(&m);
	EXPECT(&m, "00:17.0", "refuse", "storage controller", "'PARTUUID=0b7e2c4d'",
	       "root-devices record", "rebuild the initramfs", "'force'");
	EXPECT(&m, "05:00.1", "claim");
	machine_free(&m);

	server(&m);
	m.prot.unresolved = xstrdup("PARTUUID=0b7e2c4d");
	conf(&m, "claim 00:17.0 force\n");
	run(&m);
	EXPECT(&m, "00:17.0", "claim", "forced");
	machine_free(&m);
}

TEST(an_unresolved_root_with_a_record_refuses_only_the_recorded_devices)
{
	struct machine m;

	desktop(&m);
	add(&m, "3e:00.0", "00:1d.0", 0x010601, "1b21:0612", 5, "ahci");
	m.prot.unresolved = xstrdup("UUID=3f1c2a4e");
	m.prot.have_record = true;
	protect(&m, "3d:00.0", "carries the root file system (recorded when the image was built)");
	conf(&m, "claim storage\n");
	run(&m);
	EXPECT(&m, "3d:00.0", "refuse", "recorded when the image was built");
	/* the other controller of the group is claimable, so only the group holds it back */
	EXPECT(&m, "3e:00.0", "refuse", "IOMMU group 5 also holds 0000:3d:00.0, which is refused");
	CHECK(!strstr(verdict(&m, "3e:00.0")->reason, "is not found yet"));
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* The last USB controller */

TEST(the_last_usb_controller_is_refused_on_a_machine_without_ps2)
{
	struct machine m;

	chipset(&m);
	conf(&m, "claim usb\n");
	run(&m);
	EXPECT(&m, "00:14.0", "refuse", "last USB controller left to the host",
	       "no PS/2 keyboard controller", "keep-usb=0", "'force'");
	machine_free(&m);
}

TEST(the_last_usb_controller_is_claimed_with_ps2_or_keep_usb_0_or_force)
{
	struct machine m;

	chipset(&m);
	m.devs.have_i8042 = true;
	conf(&m, "claim usb\n");
	run(&m);
	EXPECT(&m, "00:14.0", "claim", "selected by");
	machine_free(&m);

	chipset(&m);
	conf(&m, "claim usb\noption keep-usb=0\n");
	run(&m);
	EXPECT(&m, "00:14.0", "claim", "selected by");
	machine_free(&m);

	chipset(&m);
	conf(&m, "claim 00:14.0 force\n");
	run(&m);
	EXPECT(&m, "00:14.0", "claim", "forced");
	machine_free(&m);
}

TEST(of_two_selected_usb_controllers_the_lowest_is_refused_with_its_group)
{
	struct machine m;

	desktop(&m);
	/* the chipset's thermal controller shares the USB controller's group */
	add(&m, "00:14.2", NULL, 0x118000, "8086:a379", 3, NULL);
	conf(&m, "claim usb 00:14.2\n");
	run(&m);
	EXPECT(&m, "00:14.0", "refuse", "last USB controller left to the host");
	EXPECT(&m, "00:14.2", "refuse", "IOMMU group 3 also holds 0000:00:14.0, which is refused",
	       "last USB controller");
	EXPECT(&m, "02:00.0", "claim", "selected by");
	machine_free(&m);
}

TEST(a_forced_usb_controller_is_never_the_one_left_to_the_host)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim usb\nclaim 00:14.0 force\n");
	run(&m);
	EXPECT(&m, "00:14.0", "claim", "forced");
	EXPECT(&m, "02:00.0", "refuse", "last USB controller left to the host");
	machine_free(&m);
}

/*
 * `vfio-claim claim 02:00.0` when the configuration already put 00:14.0 on vfio-pci at boot:
 * refusing 00:14.0 in the plan does not give it back to the host, so 02:00.0 is the last one.
 */
TEST(a_usb_controller_already_on_vfio_pci_is_not_the_one_left_to_the_host)
{
	struct machine m;

	desktop(&m);
	free(dev(&m, "00:14.0")->driver);
	dev(&m, "00:14.0")->driver = xstrdup("vfio-pci");
	conf(&m, "claim 00:14.0\n");
	claim_by_hand(&m, "02:00.0", false);
	run(&m);
	EXPECT(&m, "02:00.0", "refuse", "last USB controller left to the host");
	EXPECT(&m, "00:14.0", "claim");
	machine_free(&m);

	/* both on vfio-pci already (vfio-pci.ids=): refusing either would give nothing back */
	desktop(&m);
	free(dev(&m, "00:14.0")->driver);
	dev(&m, "00:14.0")->driver = xstrdup("vfio-pci");
	free(dev(&m, "02:00.0")->driver);
	dev(&m, "02:00.0")->driver = xstrdup("vfio-pci");
	conf(&m, "claim usb\n");
	run(&m);
	EXPECT(&m, "00:14.0", "claim");
	EXPECT(&m, "02:00.0", "claim");
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* SR-IOV */

TEST(an_sriov_physical_function_with_vfs_enabled_is_refused)
{
	struct machine m;

	server(&m);
	conf(&m, "claim 8086:10fb 05:10.0\n");
	run(&m);
	EXPECT(&m, "05:00.0", "refuse", "SR-IOV physical function with 2 virtual functions",
	       "set sriov_numvfs to 0", "claim the virtual functions");
	EXPECT(&m, "05:10.0", "claim");
	machine_free(&m);
}

TEST(an_sriov_physical_function_without_vfs_is_claimed)
{
	struct machine m;

	server(&m);
	dev(&m, "05:00.0")->sriov_numvfs = 0;
	conf(&m, "claim 8086:10fb\n");
	run(&m);
	EXPECT(&m, "05:00.0", "claim", "selected by");
	EXPECT(&m, "05:00.1", "claim", "selected by");
	machine_free(&m);
}

/* 05:00.1 of the server without VFs yet: 63 VFs from routing id +128, stride 2 (05:10.1...) */
static bool selects_vfs_of_05_00_1(const char *text)
{
	const struct plan_input in = { .devs = NULL };
	struct machine m;
	struct pci_dev *pf;
	bool r;

	server(&m);
	pf = dev(&m, "05:00.1");
	pf->sriov_totalvfs = 63;
	pf->sriov_offset = 128;
	pf->sriov_stride = 2;
	pf->sriov_vf_device = 0x10ed;
	conf(&m, text);
	run(&m);
	{
		struct plan_input in2 = in;
		in2.devs = &m.devs;
		in2.cfg = &m.cfg;
		r = plan_selects_vfs_of(&m.plan, &in2, (size_t)(dev(&m, "05:00.1") - m.devs.v));
	}
	machine_free(&m);
	return r;
}

TEST(the_vfs_a_pf_can_create_are_selected_by_address_ids_path_or_vfs_of)
{
	CHECK(selects_vfs_of_05_00_1("claim 05:10.1\n"));
	CHECK(
	    selects_vfs_of_05_00_1("claim 05:1f.5\n")); /* the 63rd: routing id 0x501 + 128 + 124 */
	CHECK(selects_vfs_of_05_00_1("claim 8086:10ed\n"));
	CHECK(selects_vfs_of_05_00_1("claim path=0000:00:03.0/10.3\n"));
	CHECK(selects_vfs_of_05_00_1("claim vfs-of=0000:05:00.1\n"));
	CHECK(selects_vfs_of_05_00_1("claim net 05:00.0\nexclude 05:00.1\n"));
	/* not its VFs: the other PF's (05:10.0), one past sriov_totalvfs, or every one excluded */
	CHECK(!selects_vfs_of_05_00_1("claim 05:10.0\n"));
	CHECK(!selects_vfs_of_05_00_1("claim 05:1f.7\n")); /* it would be the 64th */
	CHECK(!selects_vfs_of_05_00_1("claim vfs-of=05:00.0\n"));
	CHECK(!selects_vfs_of_05_00_1("claim 8086:10ed\nexclude vfs-of=05:00.1\n"));
	/* vfio-pci takes the PF itself (no VFs enabled): it will have none */
	CHECK(!selects_vfs_of_05_00_1("claim 8086:10fb 8086:10ed\n"));
}

TEST(vfs_of_selects_the_vfs_of_that_pf_only)
{
	struct machine m;

	server(&m);
	memcpy(dev(&m, "05:10.0")->physfn, "0000:05:00.0", 13);
	memcpy(dev(&m, "05:10.2")->physfn, "0000:05:00.0", 13);
	conf(&m, "claim vfs-of=05:00.0\n");
	run(&m);
	EXPECT(&m, "05:10.0", "claim", "('vfs-of=05:00.0')");
	EXPECT(&m, "05:10.2", "claim");
	EXPECT(&m, "05:00.0", "keep", "not selected");
	EXPECT(&m, "05:00.1", "keep", "not selected");
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* VFIO variant drivers */

TEST(a_device_with_a_variant_driver_is_claimed_for_it_unless_the_line_says_vfio_pci)
{
	struct machine m;

	server(&m);
	dev(&m, "05:10.0")->variant = xstrdup("ixgbe_vfio_pci");
	conf(&m, "claim 05:10.0 05:10.2\n");
	run(&m);
	EXPECT(&m, "05:10.0", "claim", "for VFIO variant driver 'ixgbe_vfio_pci'",
	       "driver=vfio-pci");
	CHECK_STR(verdict(&m, "05:10.0")->driver, "ixgbe_vfio_pci");
	EXPECT(&m, "05:10.2", "claim");
	CHECK_STR(verdict(&m, "05:10.2")->driver, "vfio-pci");
	CHECK(!strstr(verdict(&m, "05:10.2")->reason, "variant"));
	machine_free(&m);

	server(&m);
	dev(&m, "05:10.0")->variant = xstrdup("ixgbe_vfio_pci");
	conf(&m, "claim 05:10.0 driver=vfio-pci\n");
	run(&m);
	EXPECT(&m, "05:10.0", "claim", "selected by");
	CHECK(!strstr(verdict(&m, "05:10.0")->reason, "variant"));
	CHECK_STR(verdict(&m, "05:10.0")->driver, "vfio-pci");
	machine_free(&m);

	/* by hand: claim --driver vfio-pci */
	server(&m);
	dev(&m, "05:10.0")->variant = xstrdup("ixgbe_vfio_pci");
	claim_by_hand(&m, "05:10.0", false);
	m.manual.plain_vfio = true;
	run(&m);
	CHECK_STR(verdict(&m, "05:10.0")->driver, "vfio-pci");
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* IOMMU groups */

TEST(functions_of_the_same_slot_and_group_go_with_the_claimed_one)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 01:00.0\n");
	run(&m);
	EXPECT(&m, "01:00.0", "claim");
	EXPECT(&m, "01:00.1", "claim", "goes with 0000:01:00.0 (same slot and IOMMU group 1)");
	CHECK(!verdict(&m, "01:00.1")->selected);
	CHECK(verdict(&m, "01:00.1")->rule == verdict(&m, "01:00.0")->rule);
	EXPECT(&m, "00:01.0", "keep", "PCI bridge");
	machine_free(&m);
}

TEST(a_function_in_a_group_of_its_own_goes_alone)
{
	struct machine m;

	server(&m);
	conf(&m, "claim 05:00.1\n");
	run(&m);
	EXPECT(&m, "05:00.1", "claim");
	EXPECT(&m, "05:00.0", "keep", "not selected");
	machine_free(&m);
}

TEST(an_unselected_chipset_function_refuses_the_group_naming_it)
{
	struct machine m;

	chipset(&m);
	conf(&m, "claim 00:1f.3\n");
	run(&m);
	/* the same slot on the root bus is the chipset, not a card: nothing goes along */
	EXPECT(&m, "00:1f.3", "refuse", "IOMMU group 5 also holds 0000:00:1f.4",
	       "which is not selected", "claim it too", "group-policy=whole");
	EXPECT(&m, "00:1f.4", "keep", "not selected");
	EXPECT(&m, "00:1f.5", "keep", "not selected");
	machine_free(&m);
}

TEST(a_group_whose_endpoints_are_all_selected_is_claimed)
{
	struct machine m;

	chipset(&m);
	conf(&m, "claim 00:1f.3 00:1f.4\nclaim class=0x0c8000/0xffff00\n");
	run(&m);
	EXPECT(&m, "00:1f.3", "claim", CONF ":1 ('00:1f.3')");
	EXPECT(&m, "00:1f.4", "claim", CONF ":1 ('00:1f.4')");
	EXPECT(&m, "00:1f.5", "claim", CONF ":2 ('class=0x0c8000/0xffff00')");
	EXPECT(&m, "00:1f.0", "keep", "PCI bridge");
	machine_free(&m);
}

TEST(group_policy_whole_takes_every_claimable_endpoint)
{
	struct machine m;

	chipset(&m);
	conf(&m, "claim audio\noption group-policy=whole\n");
	run(&m);
	EXPECT(&m, "00:1f.3", "claim", "('audio')");
	EXPECT(&m, "00:1f.4", "claim", "IOMMU group 5 is taken whole (option group-policy=whole)");
	EXPECT(&m, "00:1f.5", "claim", "IOMMU group 5 is taken whole");
	CHECK(verdict(&m, "00:1f.4")->rule == verdict(&m, "00:1f.3")->rule);
	EXPECT(&m, "00:1f.0", "keep", "PCI bridge");
	machine_free(&m);
}

TEST(a_member_on_vfio_pci_already_does_not_hold_the_group_back)
{
	struct machine m;

	chipset(&m);
	free(dev(&m, "00:1f.4")->driver);
	dev(&m, "00:1f.4")->driver = xstrdup("vfio-pci");
	dev(&m, "00:1f.5")->driver = xstrdup("vfio-pci");
	conf(&m, "claim 00:1f.3\n");
	run(&m);
	EXPECT(&m, "00:1f.3", "claim");
	machine_free(&m);
}

TEST(a_protected_or_refused_member_refuses_the_group)
{
	struct machine m;

	/* a companion that would go along, but cannot */
	desktop(&m);
	protect(&m, "01:00.1", "carries /home (from /etc/fstab)");
	conf(&m, "claim 01:00.0\n");
	run(&m);
	EXPECT(&m, "01:00.0", "refuse",
	       "IOMMU group 1 also holds 0000:01:00.1, which cannot be claimed (carries /home");
	EXPECT(&m, "01:00.1", "keep", "not selected");
	machine_free(&m);

	/* a selected member vetoed on its own */
	desktop(&m);
	protect(&m, "01:00.1", "carries /home (from /etc/fstab)");
	conf(&m, "claim 01:00.*\n");
	run(&m);
	EXPECT(&m, "01:00.1", "refuse", "carries /home");
	EXPECT(&m, "01:00.0", "refuse",
	       "IOMMU group 1 also holds 0000:01:00.1, which is refused (carries /home");
	machine_free(&m);

	/* the discrete card is the boot GPU: claiming its audio alone cannot take the group */
	desktop(&m);
	dev(&m, "00:02.0")->boot_vga = 0;
	dev(&m, "01:00.0")->boot_vga = 1;
	conf(&m, "claim 01:00.1\n");
	run(&m);
	EXPECT(&m, "01:00.1", "refuse", "IOMMU group 1 also holds 0000:01:00.0",
	       "which cannot be claimed (boot VGA device");
	EXPECT(&m, "01:00.0", "keep", "not selected");
	machine_free(&m);

	/* group-policy=whole takes only claimable endpoints */
	chipset(&m);
	protect(&m, "00:1f.5", "carries the firmware flash");
	conf(&m, "claim audio\noption group-policy=whole\n");
	run(&m);
	EXPECT(&m, "00:1f.3", "refuse", "0000:00:1f.5, which cannot be claimed");
	EXPECT(&m, "00:1f.4", "keep", "not selected");
	machine_free(&m);
}

TEST(an_excluded_member_refuses_the_group_naming_the_exclude)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 01:00.0\nexclude 01:00.1\n");
	run(&m);
	EXPECT(&m, "01:00.0", "refuse",
	       "IOMMU group 1 also holds 0000:01:00.1 (audio), excluded by " CONF ":2 ('01:00.1')",
	       "drop that exclude");
	EXPECT(&m, "01:00.1", "keep", "excluded by " CONF ":2");
	machine_free(&m);
}

TEST(a_forced_device_in_an_incomplete_group_is_claimed_with_a_warning)
{
	struct machine m;

	chipset(&m);
	conf(&m, "claim 00:1f.3 force\n");
	run(&m);
	EXPECT(&m, "00:1f.3", "claim", "forced, but vfio cannot use it until the whole group",
	       "0000:00:1f.4");
	machine_free(&m);
}

TEST(without_iommu_groups_a_selected_device_is_claimed_with_a_warning)
{
	struct machine m;

	noiommu(&m);
	conf(&m, "claim net\n");
	run(&m);
	CHECK(!m.devs.have_iommu);
	EXPECT(&m, "00:1f.6", "claim", "selected by " CONF ":1 ('net')", "no IOMMU groups",
	       "until the IOMMU is enabled", "intel_iommu=on");
	EXPECT(&m, "01:00.0", "keep");
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* vfio_claim=off and the devices released this boot */

TEST(vfio_claim_off_keeps_every_device)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim gpu net 3d:00.0 force\noption allow-boot-vga=yes\n");
	config_parse_cmdline(&m.cfg, "quiet vfio_claim=off");
	run(&m);
	for (size_t i = 0; i < m.devs.n; i++) {
		const char *a = m.devs.v[i].addr;
		EXPECT(&m, a, "keep");
		if (!pci_is_bridge(&m.devs.v[i]))
			EXPECT(&m, a, "keep", "vfio_claim=off on the kernel command line");
	}
	machine_free(&m);
}

TEST(a_claim_by_hand_still_claims_under_vfio_claim_off)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim net 01:00.0\n");
	config_parse_cmdline(&m.cfg, "vfio_claim=off");
	claim_by_hand(&m, "01:00.0", false);
	run(&m);
	/* the configuration's claims are off: the claim by hand is the one that selects it */
	EXPECT(&m, "01:00.0", "claim", "selected by the vfio-claim claim command ('01:00.0')");
	EXPECT(&m, "01:00.1", "claim", "goes with 0000:01:00.0");
	EXPECT(&m, "00:1f.6", "keep", "vfio_claim=off");
	machine_free(&m);
}

TEST(a_device_released_this_boot_is_kept_and_says_how_to_take_it_again)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 00:1f.6 3d:00.0\n");
	release(&m, "3d:00.0");
	release(&m, "00:1f.6");
	run(&m);
	EXPECT(&m, "00:1f.6", "keep", "selected by " CONF ":1 ('00:1f.6')",
	       "released by hand this boot", "'vfio-claim claim 0000:00:1f.6'");
	CHECK(verdict(&m, "00:1f.6")->released && !verdict(&m, "00:1f.6")->rule);
	EXPECT(&m, "3d:00.0", "keep", "released by hand this boot");
	machine_free(&m);
}

TEST(a_device_pinned_by_its_driver_override_is_kept_like_a_released_one)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 00:1f.6 01:00.*\n");
	pin(&m, "00:1f.6", "e1000e");
	pin(&m, "01:00.1", "snd_hda_intel");
	run(&m);
	EXPECT(&m, "00:1f.6", "keep", "selected by " CONF ":1 ('00:1f.6')",
	       "driver_override pins it to 'e1000e'", "'vfio-claim claim 0000:00:1f.6' takes it");
	EXPECT(&m, "01:00.0", "refuse",
	       "IOMMU group 1 also holds 0000:01:00.1, pinned to its host driver");
	/* a claim by hand overrides the pin */
	claim_by_hand(&m, "00:1f.6", false);
	run(&m);
	EXPECT(&m, "00:1f.6", "claim", "selected by");
	machine_free(&m);
}

TEST(a_claim_by_hand_takes_a_released_device_again)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 00:1f.6 3d:00.0\n");
	release(&m, "00:1f.6");
	release(&m, "3d:00.0");
	claim_by_hand(&m, "00:1f.6", false);
	run(&m);
	EXPECT(&m, "00:1f.6", "claim", "selected by " CONF ":1 ('00:1f.6')");
	CHECK(!verdict(&m, "00:1f.6")->released);
	EXPECT(&m, "3d:00.0", "keep", "released by hand this boot");
	machine_free(&m);
}

TEST(a_released_member_refuses_the_group)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 01:00.*\n");
	release(&m, "01:00.1");
	run(&m);
	EXPECT(&m, "01:00.0", "refuse",
	       "IOMMU group 1 also holds 0000:01:00.1, released by hand this boot",
	       "'vfio-claim claim 0000:01:00.1'");
	EXPECT(&m, "01:00.1", "keep", "released by hand this boot");
	machine_free(&m);
}

TEST(a_claim_by_hand_of_one_function_takes_back_its_slot_released_with_it)
{
	struct machine m;

	desktop(&m);
	conf(&m, "claim 01:00.*\n");
	release(&m, "01:00.0");
	release(&m, "01:00.1");
	claim_by_hand(&m, "01:00.0", false);
	run(&m);
	EXPECT(&m, "01:00.0", "claim", "selected by " CONF ":1 ('01:00.*')");
	EXPECT(&m, "01:00.1", "claim", "goes with 0000:01:00.0 (same slot and IOMMU group 1)");
	/* the boot's plan, without the claim by hand, still keeps both */
	m.have_manual = false;
	rule_free(&m.manual);
	run(&m);
	EXPECT(&m, "01:00.0", "keep", "released by hand this boot");
	EXPECT(&m, "01:00.1", "keep", "released by hand this boot");
	machine_free(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* The plan is a pure function */

/*
 * While armed, these count every attempt to open or resolve a path in this program, libc's own
 * entry points included (fopen, opendir); the calls go on to the real functions.
 */
static bool io_armed;
static int io_calls;

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int open(const char *path, int flags, ...)
{
	va_list ap;
	unsigned mode;

	va_start(ap, flags);
	mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, unsigned) : 0;
	va_end(ap);
	io_calls += io_armed;
	return REAL(open)(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	unsigned mode;

	va_start(ap, flags);
	mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, unsigned) : 0;
	va_end(ap);
	io_calls += io_armed;
	return REAL(openat)(dirfd, path, flags, mode);
}

FILE *fopen(const char *path, const char *how)
{
	io_calls += io_armed;
	return REAL(fopen)(path, how);
}

DIR *opendir(const char *path)
{
	io_calls += io_armed;
	return REAL(opendir)(path);
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
	io_calls += io_armed;
	return REAL(readlink)(path, buf, size);
}

char *realpath(const char *path, char *resolved)
{
	io_calls += io_armed;
	return REAL(realpath)(path, resolved);
}

static int lowest_free_fd(void)
{
	int fd = dup(STDERR_FILENO);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* Every rule at once: each device's decision and reason, one line each. */
static char *plan_text(struct machine *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	for (size_t i = 0; f && i < m->plan.n; i++)
		fprintf(f, "%s %s %s\n", m->devs.v[i].addr, decision_name(m->plan.v[i].decision),
			m->plan.v[i].reason);
	if (f)
		fclose(f);
	return text;
}

TEST(the_plan_opens_nothing_and_does_not_depend_on_the_root)
{
	struct machine m;
	char *before, *after, *text = NULL;
	int fd;

	desktop(&m);
	add(&m, "3e:00.0", "00:1d.0", 0x010601, "1b21:0612", 5, "ahci");
	m.prot.unresolved = xstrdup("UUID=3f1c2a4e");
	protect(&m, "00:1f.6", "carries /srv (from /etc/fstab)");
	conf(&m, "claim gpu net usb 01:00.0 force\nexclude 3e:00.0\noption group-policy=whole\n");
	config_parse_cmdline(&m.cfg, "vfio_claim=3d:00.0");
	release(&m, "02:00.0");
	claim_by_hand(&m, "00:1f.3", false);
	run(&m);
	before = plan_text(&m);

	/* the trap sees what it is meant to see */
	root_set("/nonexistent");
	io_armed = true;
	io_calls = 0;
	CHECK(read_text("/nonexistent/etc/vfio-claim.d/x.conf", &text) < 0);
	CHECK(io_calls > 0);

	io_calls = 0;
	fd = lowest_free_fd();
	run(&m);
	run(&m);
	CHECK(lowest_free_fd() == fd);
	io_armed = false;
	CHECK(io_calls == 0);
	root_set(NULL);
	after = plan_text(&m);
	CHECK_STR(after, before);
	free(before);
	free(after);
	free(text);
	machine_free(&m);
}

UNIT_MAIN(UNIT_T(a_claim_selects_and_a_device_no_claim_matches_is_kept),
	  UNIT_T(an_exclude_wins_over_a_claim_and_names_its_file_line_and_selector),
	  UNIT_T(bridges_are_never_claimed_even_when_a_claim_selects_them),
	  UNIT_T(the_boot_vga_device_is_refused_saying_how_to_claim_it),
	  UNIT_T(option_allow_boot_vga_lets_the_boot_vga_device_be_claimed),
	  UNIT_T(force_with_its_address_claims_the_boot_vga_device),
	  UNIT_T(a_refused_device_named_by_address_is_told_to_add_force_to_that_line),
	  UNIT_T(force_does_not_reach_a_device_the_line_matches_by_category),
	  UNIT_T(a_protected_device_is_refused_with_its_reason),
	  UNIT_T(force_with_its_address_claims_a_protected_device),
	  UNIT_T(an_unresolved_root_without_a_record_refuses_every_storage_controller),
	  UNIT_T(an_unresolved_root_with_a_record_refuses_only_the_recorded_devices),
	  UNIT_T(the_last_usb_controller_is_refused_on_a_machine_without_ps2),
	  UNIT_T(the_last_usb_controller_is_claimed_with_ps2_or_keep_usb_0_or_force),
	  UNIT_T(of_two_selected_usb_controllers_the_lowest_is_refused_with_its_group),
	  UNIT_T(a_forced_usb_controller_is_never_the_one_left_to_the_host),
	  UNIT_T(a_usb_controller_already_on_vfio_pci_is_not_the_one_left_to_the_host),
	  UNIT_T(an_sriov_physical_function_with_vfs_enabled_is_refused),
	  UNIT_T(an_sriov_physical_function_without_vfs_is_claimed),
	  UNIT_T(the_vfs_a_pf_can_create_are_selected_by_address_ids_path_or_vfs_of),
	  UNIT_T(vfs_of_selects_the_vfs_of_that_pf_only),
	  UNIT_T(a_device_with_a_variant_driver_is_claimed_for_it_unless_the_line_says_vfio_pci),
	  UNIT_T(functions_of_the_same_slot_and_group_go_with_the_claimed_one),
	  UNIT_T(a_function_in_a_group_of_its_own_goes_alone),
	  UNIT_T(an_unselected_chipset_function_refuses_the_group_naming_it),
	  UNIT_T(a_group_whose_endpoints_are_all_selected_is_claimed),
	  UNIT_T(group_policy_whole_takes_every_claimable_endpoint),
	  UNIT_T(a_member_on_vfio_pci_already_does_not_hold_the_group_back),
	  UNIT_T(a_protected_or_refused_member_refuses_the_group),
	  UNIT_T(an_excluded_member_refuses_the_group_naming_the_exclude),
	  UNIT_T(a_forced_device_in_an_incomplete_group_is_claimed_with_a_warning),
	  UNIT_T(without_iommu_groups_a_selected_device_is_claimed_with_a_warning),
	  UNIT_T(vfio_claim_off_keeps_every_device),
	  UNIT_T(a_claim_by_hand_still_claims_under_vfio_claim_off),
	  UNIT_T(a_device_released_this_boot_is_kept_and_says_how_to_take_it_again),
	  UNIT_T(a_device_pinned_by_its_driver_override_is_kept_like_a_released_one),
	  UNIT_T(a_claim_by_hand_takes_a_released_device_again),
	  UNIT_T(a_released_member_refuses_the_group),
	  UNIT_T(a_claim_by_hand_of_one_function_takes_back_its_slot_released_with_it),
	  UNIT_T(a_when_guest_line_keeps_its_device_until_a_guest_starts),
	  UNIT_T(a_when_boot_line_wins_over_a_when_guest_line),
	  UNIT_T(the_plan_opens_nothing_and_does_not_depend_on_the_root))
