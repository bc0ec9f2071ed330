// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of src/sys/rootdev.c: the chroot decision (as systemd's running_in_chroot(), with
 * "cannot tell" never reported as "not in a chroot"), /etc/fstab and /etc/crypttab lines, and
 * resume= on the kernel command line.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootdev.h"
#include "unit.h"
#include "util.h"

TEST(chroot_verdict_compares_device_and_inode_and_cannot_tell_is_an_error)
{
	struct stat root = { .st_dev = 2049, .st_ino = 2 }, init = root;

	CHECK(rootdev_chroot_verdict(0, &root, 0, &init) == 0);
	init.st_ino = 131073;
	CHECK(rootdev_chroot_verdict(0, &root, 0, &init) == 1);
	init = root;
	init.st_dev = 2050;
	CHECK(rootdev_chroot_verdict(0, &root, 0, &init) == 1);
	/* /proc/1/root refused (ptrace access mode), no /proc: cannot tell, never "not" */
	CHECK(rootdev_chroot_verdict(0, &root, -EACCES, &init) == -EACCES);
	CHECK(rootdev_chroot_verdict(0, &root, -EPERM, &init) == -EPERM);
	CHECK(rootdev_chroot_verdict(0, &root, -ENOENT, &init) == -ENOENT);
	CHECK(rootdev_chroot_verdict(-EIO, &root, 0, &init) == -EIO);
}

/* A temporary root whose proc/1/root is a symlink to target (NULL: none) */
static char *chroot_tree(const char *target)
{
	char *dir = xstrdup("/tmp/vfio-claim-unit.XXXXXX"), *p;

	if (!mkdtemp(dir))
		abort();
	p = xasprintf("%s/proc/1", dir);
	mkdir_p(p, 0755);
	free(p);
	p = xasprintf("%s/other", dir);
	mkdir(p, 0755);
	free(p);
	if (target) {
		p = xasprintf("%s/proc/1/root", dir);
		if (symlink(target, p) < 0)
			abort();
		free(p);
	}
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

TEST(in_chroot_reads_init_root_under_the_root)
{
	char *dir;

	dir = chroot_tree("../..");
	root_set(dir);
	CHECK(rootdev_in_chroot() == 0);
	remove_tree(dir);

	dir = chroot_tree("../../other");
	root_set(dir);
	CHECK(rootdev_in_chroot() == 1);
	remove_tree(dir);

	dir = chroot_tree(NULL);
	root_set(dir);
	CHECK(rootdev_in_chroot() == -ENOENT);
	remove_tree(dir);

	dir = chroot_tree("root");
	root_set(dir);
	CHECK(rootdev_in_chroot() == -ELOOP);
	remove_tree(dir);
	root_set(NULL);
}

/* fstab LINE -> "SPEC|WHY", or "" for no entry */
static char *fstab(const char *line, int (*parse)(char *, const char **, char **))
{
	char *copy = xstrdup(line), *why, *res;
	const char *spec;
	int r = parse(copy, &spec, &why);

	CHECK((r > 0) == (spec != NULL && why != NULL));
	res = r > 0 ? xasprintf("%s|%s", spec, why) : xstrdup("");
	free(why);
	free(copy);
	return res;
}

#define CHECK_LINE(parse, line, expected)                                                          \
	do {                                                                                       \
		char *got_ = fstab(line, parse);                                                   \
		CHECK_STR(got_, expected);                                                         \
		free(got_);                                                                        \
	} while (0)

TEST(fstab_lines_mounted_at_boot_name_their_mount_point)
{
	CHECK_LINE(rootdev_fstab_line, "UUID=6b2d /home ext4 defaults 0 2",
		   "UUID=6b2d|carries /home (from /etc/fstab)");
	CHECK_LINE(rootdev_fstab_line, "  LABEL=data\t/srv/my\\040files  ext4 nofail",
		   "LABEL=data|carries /srv/my files (from /etc/fstab)");
	CHECK_LINE(rootdev_fstab_line, "/dev/sdb1 /srv/a\\134b\\012c\\177 ext4",
		   "/dev/sdb1|carries /srv/a\\b\\012c\\177 (from /etc/fstab)");
	CHECK_LINE(rootdev_fstab_line, "/dev/mapper/vg0-data /srv ext4",
		   "/dev/mapper/vg0-data|carries /srv (from /etc/fstab)");
	CHECK_LINE(rootdev_fstab_line, "PARTUUID=0f9e none swap sw 0 0",
		   "PARTUUID=0f9e|carries swap (from /etc/fstab)");
	CHECK_LINE(rootdev_fstab_line, "PARTLABEL=home /home ext4 noauto,x-systemd.automount",
		   "PARTLABEL=home|carries /home (from /etc/fstab)");
	CHECK_LINE(rootdev_fstab_line, "UUID=6b2d /home ext4 rw,noautodefrag",
		   "UUID=6b2d|carries /home (from /etc/fstab)");
}

TEST(fstab_lines_not_needed_at_boot_or_without_a_block_device)
{
	CHECK_LINE(rootdev_fstab_line, "UUID=6b2d /home ext4 noauto,user 0 2", "");
	CHECK_LINE(rootdev_fstab_line, "UUID=6b2d /home ext4 user,noauto", "");
	CHECK_LINE(rootdev_fstab_line, "# UUID=6b2d /home ext4 defaults", "");
	CHECK_LINE(rootdev_fstab_line, "", "");
	CHECK_LINE(rootdev_fstab_line, "proc /proc proc defaults 0 0", "");
	CHECK_LINE(rootdev_fstab_line, "tmpfs /tmp tmpfs nosuid,nodev 0 0", "");
	CHECK_LINE(rootdev_fstab_line, "nas:/export /media nfs4 _netdev 0 0", "");
	CHECK_LINE(rootdev_fstab_line, "//nas/share /media cifs credentials=/x 0 0", "");
	CHECK_LINE(rootdev_fstab_line, "/swapfile none swap sw 0 0", "");
	CHECK_LINE(rootdev_fstab_line, "UUID= /home ext4 defaults", "");
	CHECK_LINE(rootdev_fstab_line, "/dev/ /home ext4 defaults", "");
	CHECK_LINE(rootdev_fstab_line, "UUID=6b2d /home", "");
	CHECK_LINE(rootdev_fstab_line, "UUID=6b2d none ext4 defaults", "");
}

TEST(crypttab_lines_name_their_mapping)
{
	CHECK_LINE(rootdev_crypttab_line, "cryptdata UUID=c4a1 none luks,discard",
		   "UUID=c4a1|carries 'cryptdata' (from /etc/crypttab)");
	CHECK_LINE(rootdev_crypttab_line, "cryptswap /dev/disk/by-id/nvme-x-part2",
		   "/dev/disk/by-id/nvme-x-part2|carries 'cryptswap' (from /etc/crypttab)");
	CHECK_LINE(rootdev_crypttab_line, "cryptdata UUID=c4a1 none luks,noauto", "");
	CHECK_LINE(rootdev_crypttab_line, "vault /var/lib/vault.img /etc/key luks", "");
	CHECK_LINE(rootdev_crypttab_line, "# cryptdata UUID=c4a1 none luks", "");
	CHECK_LINE(rootdev_crypttab_line, "cryptdata", "");
}

TEST(cmdline_arg_takes_the_last_value_and_honours_quotes)
{
	char *v;

	v = rootdev_cmdline_arg("root=UUID=1 resume=UUID=a quiet resume=\"/dev/disk/by-label/my "
				"swap\" resume_offset=4096 noresume\n",
				"resume");
	CHECK_STR(v, "/dev/disk/by-label/my swap");
	free(v);
	v = rootdev_cmdline_arg("root=UUID=1 noresume resume_offset=4096 ro", "resume");
	CHECK(v == NULL);
	free(v);
	v = rootdev_cmdline_arg("resume=", "resume");
	CHECK_STR(v, "");
	free(v);
	v = rootdev_cmdline_arg("", "resume");
	CHECK(v == NULL);
}

UNIT_MAIN(UNIT_T(chroot_verdict_compares_device_and_inode_and_cannot_tell_is_an_error),
	  UNIT_T(in_chroot_reads_init_root_under_the_root),
	  UNIT_T(fstab_lines_mounted_at_boot_name_their_mount_point),
	  UNIT_T(fstab_lines_not_needed_at_boot_or_without_a_block_device),
	  UNIT_T(crypttab_lines_name_their_mapping),
	  UNIT_T(cmdline_arg_takes_the_last_value_and_honours_quotes))
