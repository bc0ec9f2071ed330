// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of src/rootdev.c: /etc/fstab and /etc/crypttab lines, and resume= on the kernel
 * command line.
 */
#include <stdlib.h>

#include "rootdev.h"
#include "unit.h"
#include "util.h"

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

UNIT_MAIN(UNIT_T(fstab_lines_mounted_at_boot_name_their_mount_point),
	  UNIT_T(fstab_lines_not_needed_at_boot_or_without_a_block_device),
	  UNIT_T(crypttab_lines_name_their_mapping),
	  UNIT_T(cmdline_arg_takes_the_last_value_and_honours_quotes))
