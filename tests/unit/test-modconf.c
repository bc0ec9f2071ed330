// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of modconf.c, the module configuration read without libkmod: modprobe.d's
 * blacklists and options (first folder wins for a file name), the kernel command line's, and the
 * VFIO variant aliases of modules.alias, all from a temporary root.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modconf.h"
#include "unit.h"
#include "util.h"

static void put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name), *slash = strrchr(p, '/');

	*slash = '\0';
	mkdir_p(p, 0755);
	*slash = '/';
	if (write_atomic(p, text, 0644) < 0)
		abort();
	free(p);
}

/* a root with one kernel, 6.1.0-unit */
static char *tree(void)
{
	char *dir = xstrdup("/tmp/vfio-claim-unit.XXXXXX");

	if (!mkdtemp(dir))
		abort();
	put(dir, "proc/sys/kernel/osrelease", "6.1.0-unit\n");
	put(dir, "lib/modules/6.1.0-unit/modules.alias",
	    "# Aliases extracted from modules themselves.\n"
	    "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core\n"
	    "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
	    "alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* mlx5-vfio-wide\n"
	    "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
	    "alias vfio_pci:v00008086d00001572sv*sd*bc*sc*i* i40e_vfio_pci\n");
	return dir;
}

static void remove_tree(char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "    cannot remove %s\n", dir);
	free(cmd);
	free(dir);
}

TEST(blacklists_come_from_the_roots_modprobe_d_and_command_line)
{
	char *dir = tree();
	struct modconf mc = { 0 };

	put(dir, "etc/modprobe.d/a.conf",
	    "# comment\nblacklist nouveau\n  blacklist  snd-hda-intel \n");
	put(dir, "usr/lib/modprobe.d/b.conf", "blacklist radeon\n");
	put(dir, "proc/cmdline", "BOOT_IMAGE=/vmlinuz modprobe.blacklist=e1000e,ixgbe quiet\n");
	root_set(dir);
	CHECK(modconf_blacklisted(&mc, "nouveau"));
	CHECK(modconf_blacklisted(&mc, "snd_hda_intel"));
	CHECK(modconf_blacklisted(&mc, "snd-hda-intel"));
	CHECK(modconf_blacklisted(&mc, "radeon"));
	CHECK(modconf_blacklisted(&mc, "e1000e"));
	CHECK(modconf_blacklisted(&mc, "ixgbe"));
	CHECK(!modconf_blacklisted(&mc, "i915"));
	CHECK(!modconf_blacklisted(&mc, "quiet"));
	CHECK_CONTAINS(modconf_moddir(&mc, NULL), "/lib/modules/6.1.0-unit");
	modconf_free(&mc);
	root_set(NULL);
	remove_tree(dir);
}

TEST(a_file_name_in_an_earlier_folder_hides_the_later_ones)
{
	char *dir = tree();
	struct modconf mc = { 0 };

	put(dir, "etc/modprobe.d/vendor.conf", "blacklist mine\n");
	put(dir, "lib/modprobe.d/vendor.conf", "blacklist theirs\n");
	put(dir, "lib/modprobe.d/vendor.conf.dpkg-old", "blacklist old\n");
	root_set(dir);
	CHECK(modconf_blacklisted(&mc, "mine"));
	CHECK(!modconf_blacklisted(&mc, "theirs"));
	CHECK(!modconf_blacklisted(&mc, "old"));
	modconf_free(&mc);
	root_set(NULL);
	remove_tree(dir);
}

TEST(options_join_modprobe_d_then_the_command_line)
{
	char *dir = tree();
	struct modconf mc = { 0 };
	char *o = NULL;

	put(dir, "etc/modprobe.d/vfio.conf",
	    "options vfio-pci ids=10de:1b80 \\\n disable_vga=1\noptions kvm ignore_msrs=1\n");
	put(dir, "proc/cmdline",
	    "ro vfio_pci.ids=8086:1572 vfio-pci.nointxmask=1 root=/dev/sda1\n");
	root_set(dir);
	CHECK(modconf_options(&mc, "vfio_pci", &o) == 0);
	CHECK_STR(o, "ids=10de:1b80  disable_vga=1 ids=8086:1572 nointxmask=1");
	free(o);
	CHECK(modconf_options(&mc, "e1000e", &o) == -ENOENT);
	CHECK(o == NULL);
	modconf_free(&mc);
	root_set(NULL);
	remove_tree(dir);
}

TEST(the_most_specific_vfio_pci_alias_wins_and_blacklisted_ones_are_skipped)
{
	char *dir = tree();
	struct modconf mc = { 0 };
	char *m = NULL;

	root_set(dir);
	CHECK(modconf_vfio_variant(&mc, "pci:v000015B3d0000101Esv000015B3sd00000001bc02sc00i00",
				   &m) == 0);
	CHECK_STR(m, "mlx5_vfio_pci");
	free(m);
	CHECK(modconf_vfio_variant(&mc, "pci:v000015B3d00001019sv0sd0bc02sc00i00", &m) == 0);
	CHECK_STR(m, "mlx5_vfio_wide");
	free(m);
	/* vfio_pci's own catch-all alias is never a variant */
	CHECK(modconf_vfio_variant(&mc, "pci:v000010DEd00001B80sv0sd0bc03sc00i00", &m) == -ENOENT);
	CHECK(m == NULL);
	CHECK(modconf_vfio_variant(&mc, "usb:v1234", &m) == -EINVAL);
	modconf_free(&mc);

	put(dir, "etc/modprobe.d/no-mlx.conf", "blacklist mlx5_vfio_pci\n");
	CHECK(modconf_vfio_variant(&mc, "pci:v000015B3d0000101Esv000015B3sd00000001bc02sc00i00",
				   &m) == 0);
	CHECK_STR(m, "mlx5_vfio_wide");
	free(m);
	modconf_free(&mc);
	root_set(NULL);
	remove_tree(dir);
}

TEST(without_a_kernel_release_there_is_no_module_folder)
{
	char *dir = xstrdup("/tmp/vfio-claim-unit.XXXXXX"), *m = NULL;
	struct modconf mc = { 0 };
	int err = 0;

	if (!mkdtemp(dir))
		abort();
	root_set(dir);
	CHECK(modconf_moddir(&mc, &err) == NULL);
	CHECK(err == -ENOENT);
	CHECK(modconf_vfio_variant(&mc, "pci:v000015B3d0000101E", &m) == -ENOENT);
	modconf_free(&mc);
	root_set(NULL);
	remove_tree(dir);
}

/* modules.alias as depmod writes it, and as a hand may leave it: the lookup reads every form */
TEST(modules_alias_lines_are_read_whatever_their_blanks_and_last_newline)
{
	char *dir = tree();
	struct modconf mc = { 0 };
	struct strv out = { 0 };
	const char *key = "pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00";

	put(dir, "lib/modules/6.1.0-unit/modules.alias",
	    "# Aliases extracted from modules themselves.\n"
	    "alias usb:v1AF4p1041d*dc*dsc*dp*ic*isc*ip*in* not-pci\n"
	    "alias pci:v00001AF4d00001041sv*sd*bc*sc*i* virtio-net\n"
	    "alias  pci:v00001AF4d*sv*sd*bc02sc*i*\tnet-wide  trailing words\n"
	    "alias pci:v00001AF4d00001042sv*sd*bc*sc*i* virtio_blk\n"
	    "alias pci:v*d*sv*sd*bc02sc00i00 last-without-newline");
	root_set(dir);
	CHECK(modconf_alias_modules(&mc, key, &out) == 0);
	/* in file order, '-' as '_', the USB line and the other device left out */
	CHECK(out.n == 3);
	CHECK(out.n == 3 && streq(out.v[0], "virtio_net") && streq(out.v[1], "net_wide") &&
	      streq(out.v[2], "last_without_newline"));
	strv_free(&out);
	modconf_free(&mc);
	root_set(NULL);
	remove_tree(dir);
}

UNIT_MAIN(UNIT_T(blacklists_come_from_the_roots_modprobe_d_and_command_line),
	  UNIT_T(a_file_name_in_an_earlier_folder_hides_the_later_ones),
	  UNIT_T(options_join_modprobe_d_then_the_command_line),
	  UNIT_T(the_most_specific_vfio_pci_alias_wins_and_blacklisted_ones_are_skipped),
	  UNIT_T(without_a_kernel_release_there_is_no_module_folder),
	  UNIT_T(modules_alias_lines_are_read_whatever_their_blanks_and_last_newline))
