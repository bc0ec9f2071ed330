// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the /proc holder scan (src/sys/holders.c) on a fake /proc under --root. */
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "holders.h"
#include "unit.h"
#include "util.h"

static char root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void make_root(void)
{
	strcpy(root, "/tmp/vfio-claim-holders-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	root_set(root);
}

static void remove_root(void)
{
	root_set(NULL);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ROOT/proc/PID/NAME with LEN bytes of content (NULs allowed). */
static void proc_file(const char *pid, const char *name, const char *content, size_t len)
{
	char *dir = xasprintf("%s/proc/%s", root, pid), *path = xasprintf("%s/%s", dir, name);
	FILE *f;

	CHECK(mkdir_p(dir, 0755) == 0);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fwrite(content, 1, len, f);
		fclose(f);
	}
	free(path);
	free(dir);
}

#define PROC_FILE(pid, name, literal) proc_file(pid, name, literal, sizeof(literal) - 1)

/* ROOT/proc/PID/fd/FD -> TARGET, a link as the kernel shows it. */
static void proc_fd(const char *pid, int fd, const char *target)
{
	char *dir = xasprintf("%s/proc/%s/fd", root, pid), *path = xasprintf("%s/%d", dir, fd);

	CHECK(mkdir_p(dir, 0755) == 0);
	CHECK(symlink(target, path) == 0);
	free(path);
	free(dir);
}

/* A machine with two guests, a process without -name, and processes that hold nothing. */
static void make_proc(void)
{
	make_root();
	/* libvirt's QEMU: guest=NAME, and the same group open twice */
	PROC_FILE("100", "comm", "qemu-system-x86\n");
	PROC_FILE("100", "cmdline",
		  "/usr/bin/qemu-system-x86_64\0-name\0"
		  "guest=test-vm-1,debug-threads=on\0-S\0-object\0"
		  "{\"qom-type\":\"secret\"}\0");
	proc_fd("100", 0, "/dev/null");
	proc_fd("100", 21, "/dev/vfio/vfio");
	proc_fd("100", 22, "/dev/vfio/12");
	proc_fd("100", 23, "/dev/vfio/12");
	/* QEMU started by hand */
	PROC_FILE("200", "comm", "qemu-system-x86\n");
	PROC_FILE("200", "cmdline",
		  "qemu-system-x86_64\0-enable-kvm\0-name\0myvm\0-m\0"
		  "2048\0");
	proc_fd("200", 9, "/dev/vfio/12");
	/* a program that opened the group, without -name */
	PROC_FILE("99", "comm", "cat\n");
	PROC_FILE("99", "cmdline", "cat\0/dev/vfio/12\0");
	proc_fd("99", 3, "/dev/vfio/12");
	/* not QEMU: its -name is not a guest's */
	PROC_FILE("600", "comm", "find\n");
	PROC_FILE("600", "cmdline", "find\0/\0-name\0vfio\0");
	proc_fd("600", 4, "/dev/vfio/12");
	/* another group, a name with a comma */
	PROC_FILE("300", "comm", "qemu-system-x86\n");
	PROC_FILE("300", "cmdline", "qemu-system-x86_64\0-name\0db,,prod,process=qemu-db\0");
	proc_fd("300", 5, "/dev/vfio/7");
	/* the cdev interface: a device node and iommufd */
	PROC_FILE("500", "comm", "qemu-system-x86\n");
	PROC_FILE("500", "cmdline", "qemu-system-x86_64\0-name\0guest=cdev-vm\0");
	proc_fd("500", 5, "/dev/vfio/devices/vfio0");
	proc_fd("500", 6, "/dev/iommu");
	/* links that are not VFIO groups */
	PROC_FILE("700", "comm", "ls\n");
	proc_fd("700", 5, "/dev/vfio/12x");
	proc_fd("700", 6, "/dev/vfio/devices/vfio");
	proc_fd("700", 7, "/dev/vfio/1/2");
	proc_fd("700", 8, "socket:[12345]");
	/* not processes: a non-numeric entry, and one that has ended (no fd folder) */
	PROC_FILE("self", "comm", "vfio-claim\n");
	proc_fd("self", 3, "/dev/vfio/12");
	PROC_FILE("sys", "x", "");
	PROC_FILE("400", "comm", "gone\n");
	/* a process that ended between reading its fds and its comm */
	proc_fd("800", 3, "/dev/vfio/12");
}

TEST(the_holders_of_a_group_name_the_process_and_the_guest)
{
	struct holders h;
	const struct holder *v;
	size_t n;

	make_proc();
	CHECK(holders_scan(&h) == 0);
	v = holders_of_group(&h, 12, &n);
	CHECK(n == 4);
	if (n == 4) {
		CHECK(v[0].pid == 99);
		CHECK_STR(v[0].command, "cat");
		CHECK(v[0].vm == NULL);
		CHECK(v[1].pid == 100);
		CHECK_STR(v[1].command, "qemu-system-x86");
		CHECK_STR(v[1].vm, "test-vm-1");
		CHECK_STR(v[1].node, "/dev/vfio/12");
		CHECK(v[2].pid == 200);
		CHECK_STR(v[2].vm, "myvm");
		CHECK(v[3].pid == 600);
		CHECK_STR(v[3].command, "find");
		CHECK(v[3].vm == NULL);
	}
	v = holders_of_group(&h, 7, &n);
	CHECK(n == 1 && v && v->pid == 300);
	if (n == 1)
		CHECK_STR(v->vm, "db,prod");
	CHECK(holders_of_group(&h, 3, &n) == NULL && n == 0);
	CHECK(holders_of_group(&h, -1, &n) == NULL && n == 0);
	holders_free(&h);
	remove_root();
}

TEST(holders_describe_reads_as_a_message_in_pid_order)
{
	struct holders h;
	char *s;

	make_proc();
	CHECK(holders_scan(&h) == 0);
	s = holders_describe(&h, 12);
	CHECK_STR(s, "99 (cat), 100 (qemu-system-x86, guest 'test-vm-1'), "
		     "200 (qemu-system-x86, guest 'myvm'), 600 (find)");
	free(s);
	s = holders_describe(&h, 7);
	CHECK_STR(s, "300 (qemu-system-x86, guest 'db,prod')");
	free(s);
	CHECK(holders_describe(&h, 5) == NULL);
	holders_free(&h);
	remove_root();
}

TEST(device_cdevs_and_iommufd_are_held_too_and_nothing_else)
{
	struct holders h;
	const struct holder *v;
	size_t n;

	make_proc();
	CHECK(holders_scan(&h) == 0);
	v = holders_of_node(&h, "/dev/vfio/devices/vfio0", &n);
	CHECK(n == 1 && v && v->pid == 500 && v->group == -1);
	if (n == 1)
		CHECK_STR(v->vm, "cdev-vm");
	v = holders_of_node(&h, "/dev/iommu", &n);
	CHECK(n == 1 && v && v->pid == 500);
	/* 100 twice on group 12 counts once; nothing of 700, "self", 400, 800 */
	CHECK(h.n == 7);
	for (size_t i = 0; i < h.n; i++)
		CHECK(h.v[i].pid != 700 && h.v[i].pid != 400 && h.v[i].pid != 800 &&
		      h.v[i].pid != 0);
	holders_free(&h);
	remove_root();
}

TEST(no_proc_under_the_root_means_no_holders)
{
	struct holders h;

	make_root();
	CHECK(holders_scan(&h) == 0);
	CHECK(h.n == 0 && h.v == NULL);
	CHECK(holders_describe(&h, 12) == NULL);
	holders_free(&h);
	remove_root();
}

TEST(the_holders_of_drm_nodes_are_named_once_per_process_with_their_nodes)
{
	struct strv nodes = { 0 };
	struct holders drm, h;
	char *s;

	make_root();
	proc_fd("1234", 12, "/dev/dri/card0");
	proc_fd("1234", 13, "/dev/dri/renderD128");
	proc_fd("1234", 14, "/dev/vfio/12"); /* not asked for */
	PROC_FILE("1234", "comm", "Xorg\n");
	proc_fd("77", 3, "/dev/dri/renderD128");
	PROC_FILE("77", "comm", "gnome-shell\n");
	proc_fd("88", 3, "/dev/dri/card1"); /* another card */
	PROC_FILE("88", "comm", "kwin_wayland\n");
	proc_fd("99", 3, "/dev/dri/card0"); /* ended before its comm was read */
	strv_push(&nodes, xstrdup("/dev/dri/card0"));
	strv_push(&nodes, xstrdup("/dev/dri/renderD128"));
	CHECK(holders_scan_with_drm(NULL, &drm) == 0);
	holders_select_nodes(&drm, &nodes, &h);
	CHECK(h.n == 3);
	s = holders_describe_nodes(&h);
	CHECK_STR(s, "Xorg (pid 1234) through /dev/dri/card0 and /dev/dri/renderD128, "
		     "gnome-shell (pid 77) through /dev/dri/renderD128");
	free(s);
	holders_free(&h);
	strv_free(&nodes);
	holders_select_nodes(&drm, &nodes, &h); /* no nodes: no holders */
	CHECK(h.n == 0 && holders_describe_nodes(&h) == NULL);
	holders_free(&h);
	holders_free(&drm);
	remove_root();
}

TEST(one_scan_answers_for_the_vfio_nodes_and_the_drm_nodes)
{
	struct strv nodes = { 0 };
	struct holders vfio, drm, h;
	size_t n;
	char *s;

	make_root();
	proc_fd("1234", 12, "/dev/dri/card0");
	proc_fd("1234", 14, "/dev/vfio/12");
	PROC_FILE("1234", "comm", "Xorg\n");
	proc_fd("77", 3, "/dev/dri/renderD128");
	PROC_FILE("77", "comm", "gnome-shell\n");
	proc_fd("88", 3, "/dev/dri/card1");
	PROC_FILE("88", "comm", "kwin_wayland\n");
	CHECK(holders_scan_with_drm(&vfio, &drm) == 0);
	CHECK(holders_of_group(&vfio, 12, &n) != NULL && n == 1);
	CHECK(vfio.n == 1 && drm.n == 3);
	strv_push(&nodes, xstrdup("/dev/dri/card0"));
	strv_push(&nodes, xstrdup("/dev/dri/renderD128"));
	holders_select_nodes(&drm, &nodes, &h);
	s = holders_describe_nodes(&h);
	CHECK_STR(s, "Xorg (pid 1234) through /dev/dri/card0, gnome-shell (pid 77) through "
		     "/dev/dri/renderD128");
	free(s);
	holders_free(&h);
	strv_free(&nodes);
	holders_select_nodes(&drm, &nodes, &h); /* no nodes: no holders */
	CHECK(h.n == 0);
	holders_free(&h);
	holders_free(&drm);
	holders_free(&vfio);
	remove_root();
}

static char *guest(const char *args, size_t len)
{
	return holders_qemu_guest_name(args, len);
}

#define CHECK_GUEST(literal, want)                                                                 \
	do {                                                                                       \
		char *g_ = guest(literal, sizeof(literal) - 1);                                    \
		const char *w_ = (want);                                                           \
		if (w_)                                                                            \
			CHECK_STR(g_, w_);                                                         \
		else                                                                               \
			CHECK(g_ == NULL);                                                         \
		free(g_);                                                                          \
	} while (0)

TEST(the_guest_name_is_read_as_qemu_reads_its_name_option)
{
	CHECK_GUEST("qemu\0-name\0guest=test-vm-1,debug-threads=on\0", "test-vm-1");
	CHECK_GUEST("qemu\0-name\0myvm\0", "myvm");
	CHECK_GUEST("qemu\0--name\0myvm\0", "myvm");
	CHECK_GUEST("qemu\0-name\0myvm,process=qemu-myvm\0", "myvm");
	CHECK_GUEST("qemu\0-name\0process=p,guest=late\0", "late");
	CHECK_GUEST("qemu\0-name\0a,,b,,,,c,debug-threads=on\0", "a,b,,c");
	CHECK_GUEST("qemu\0-name\0guest=x,,y\0", "x,y");
	CHECK_GUEST("qemu\0-name\0first\0-name\0second\0", "second");
	CHECK_GUEST("qemu\0-name\0debug-threads=on\0", NULL);
	CHECK_GUEST("qemu\0-name\0\0", NULL);
	CHECK_GUEST("qemu\0-name\0", NULL);
	CHECK_GUEST("qemu\0-m\0-name\0", NULL);
	CHECK_GUEST("qemu\0-name", NULL);
	CHECK_GUEST("qemu\0-name\0unterminated", "unterminated");
	CHECK_GUEST("qemu\0-S\0", NULL);
	CHECK_GUEST("", NULL);
}

UNIT_MAIN(UNIT_T(the_holders_of_a_group_name_the_process_and_the_guest),
	  UNIT_T(holders_describe_reads_as_a_message_in_pid_order),
	  UNIT_T(device_cdevs_and_iommufd_are_held_too_and_nothing_else),
	  UNIT_T(no_proc_under_the_root_means_no_holders),
	  UNIT_T(the_holders_of_drm_nodes_are_named_once_per_process_with_their_nodes),
	  UNIT_T(one_scan_answers_for_the_vfio_nodes_and_the_drm_nodes),
	  UNIT_T(the_guest_name_is_read_as_qemu_reads_its_name_option))
