/*
 * fakekernel.so: an LD_PRELOAD shim that plays the kernel's PCI driver core on a fixture tree.
 *
 * With FAKEKERNEL_ROOT=DIR in the environment, writes to these files under DIR/sys do what the
 * kernel would do, on the tree (see docs/testing.md for the contract):
 *
 *   sys/devices/.../ADDR/driver_override     store the name, "(null)" on "\n"
 *   sys/bus/pci/drivers/NAME/bind            bind ADDR to NAME
 *   sys/bus/pci/drivers/NAME/unbind          unbind ADDR from NAME
 *   sys/bus/pci/drivers_probe                probe ADDR (override, else modules.alias)
 *   sys/devices/.../ADDR/sriov_numvfs        create (N) or remove (0) the PF's VFs
 *   sys/bus/platform/drivers/NAME/bind       bind platform device DEV to NAME (a firmware
 *   sys/bus/platform/drivers/NAME/unbind     framebuffer: efi-framebuffer.0), or unbind it
 *
 * VFIO drivers are vfio-pci and the VFIO variant drivers (a module that holds vfio_pci_core,
 * sys/module/vfio_pci_core/holders/MODULE): they bind only through driver_override and only a
 * device with an IOMMU group, and make /dev/vfio/N (and, in a tree with sys/class/vfio-dev, the
 * device's cdev /dev/vfio/devices/vfioN with ADDR/vfio-dev/vfioN, as CONFIG_VFIO_DEVICE_CDEV
 * kernels do).  A VF (a device with a physfn link) whose
 * PF's sriov_drivers_autoprobe reads 0 is probed by no driver unless its driver_override names
 * one (the kernel's pci_device_can_probe()).  Writing N to a PF's sriov_numvfs creates VFs
 * numbered from sriov_offset and sriov_stride, with the PF's vendor, class and subsystem ids,
 * sriov_vf_device's device id, physfn and virtfnN links and an IOMMU group each; each is
 * probed at once when the PF's sriov_drivers_autoprobe is 1, as the kernel does.  Every bind
 * appends "ADDR DRIVER" to DIR/.fakekernel/binds.log, so that a test can prove a driver never
 * had a device.
 *
 * How: open()/openat()/fopen()... of one of those files (found by its resolved path, so links
 * such as sys/bus/pci/devices/ADDR and openat() relative to a directory work) remembers the file
 * descriptor; write() on it performs the effect and returns the byte count, or -1 with the errno
 * the kernel would give, without writing to the file.  Effects change the tree with rename() of
 * a temporary (symlinks, file contents) so that readers never see half a change, and run under
 * flock(DIR/.fakekernel/lock) so that parallel processes see the state change atomically.
 *
 * Modules, as kmod's testsuite does (testsuite/init_module.c): init_module() and
 * syscall(__NR_finit_module, ...) (libkmod 30 calls finit_module through syscall()) never reach
 * the kernel.  The module's name comes from its .modinfo "name=" (else the file name); if
 * DIR/sys/module/NAME/initstate reads "live" the insert fails with EEXIST; otherwise it writes
 * sys/module/NAME/{initstate,refcnt,holders/} and, for a PCI driver (an alias starting with
 * "pci:" or "vfio_pci:"), the driver directory sys/bus/pci/drivers/DRIVER/ laid out like
 * tests/mkfixture.py's (DRIVER is the module's name, vfio_pci's is "vfio-pci"), so that
 * drivers_probe can bind to it.  Fault injection: FAKEKERNEL_FAIL_INSERT=NAME:ERRNO[,NAME:ERRNO]
 * (e.g. vfio_pci:ENOEXEC; '-' and '_' alike) makes inserting NAME fail with that errno.
 *
 * statfs()/fstatfs() of DIR/sys, and of anything under it, report SYSFS_MAGIC, so that a program
 * takes the tree for the running kernel's (as in a chroot with /sys bound) and inserts modules.
 * The shim's own check of DIR/sys (is this the real system?) uses the real statfs().
 * FAKEKERNEL_NOT_SYSFS=1 turns this off: DIR then looks like a mounted disk inspected from
 * outside, where a program must not insert modules.
 *
 * Nothing else is touched: reads, other files and other writes go straight to libc.  Without
 * FAKEKERNEL_ROOT (or with it naming "/" or a real sysfs) the shim is transparent.
 *
 * Build: cc -shared -fPIC -O2 -Wall -Wextra -o tests/fakekernel.so tests/fakekernel.c -ldl
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <unistd.h>

#define FK_EXPORT   __attribute__((visibility("default")))
#define FK_MAXFD    16384 /* descriptors above this are never special (they fail EMFILE) */
#define SYSFS_MAGIC 0x62656572
#define VFIO_DRIVER "vfio-pci"

enum fk_kind {
	FK_NONE,
	FK_OVERRIDE,
	FK_BIND,
	FK_UNBIND,
	FK_PROBE,
	FK_STATE,
	FK_NUMVFS,
	FK_PBIND,
	FK_PUNBIND
};

/* What a remembered descriptor is: its kind, the device address (driver_override) or driver
 * name (bind, unbind), and the inode it was opened on, to notice a descriptor number that was
 * closed behind our back (close_range, fclose of a stream) and reused. */
struct fk_fd {
	int kind;
	dev_t dev;
	ino_t ino;
	char arg[64];
};

static struct fk_fd fk_fds[FK_MAXFD];
static pthread_mutex_t fk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fk_once = PTHREAD_ONCE_INIT;
static char fk_root[PATH_MAX];
static size_t fk_rootlen;
static int fk_active;
static int fk_fake_sysfs; /* statfs of DIR/sys says SYSFS_MAGIC */
static unsigned long fk_tmpseq;

static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);
static FILE *(*real_fdopen)(int, const char *);
static int (*real_vdprintf)(int, const char *, va_list);
static int (*real_vdprintf_chk)(int, int, const char *, va_list);
static int (*real_statfs)(const char *, struct statfs *);
static int (*real_statfs64)(const char *, struct statfs64 *);
static int (*real_fstatfs)(int, struct statfs *);
static int (*real_fstatfs64)(int, struct statfs64 *);
static long (*real_syscall)(long, ...);
static int (*real_init_module)(void *, unsigned long, const char *);

/* ------------------------------------------------------------------------------------------ */
/* Setup */

static void *fk_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	return p;
}

static void fk_init_once(void)
{
	const char *root = getenv("FAKEKERNEL_ROOT");
	struct statfs sfs;
	char sys[PATH_MAX + 8];

	real_openat = (int (*)(int, const char *, int, ...))fk_sym("openat");
	real_openat64 = (int (*)(int, const char *, int, ...))fk_sym("openat64");
	real_write = (ssize_t(*)(int, const void *, size_t))fk_sym("write");
	real_close = (int (*)(int))fk_sym("close");
	real_dup = (int (*)(int))fk_sym("dup");
	real_dup2 = (int (*)(int, int))fk_sym("dup2");
	real_dup3 = (int (*)(int, int, int))fk_sym("dup3");
	real_fopen = (FILE * (*)(const char *, const char *)) fk_sym("fopen");
	real_fopen64 = (FILE * (*)(const char *, const char *)) fk_sym("fopen64");
	real_fdopen = (FILE * (*)(int, const char *)) fk_sym("fdopen");
	real_vdprintf = (int (*)(int, const char *, va_list))fk_sym("vdprintf");
	real_vdprintf_chk = (int (*)(int, int, const char *, va_list))fk_sym("__vdprintf_chk");
	real_statfs = (int (*)(const char *, struct statfs *))fk_sym("statfs");
	real_statfs64 = (int (*)(const char *, struct statfs64 *))fk_sym("statfs64");
	real_fstatfs = (int (*)(int, struct statfs *))fk_sym("fstatfs");
	real_fstatfs64 = (int (*)(int, struct statfs64 *))fk_sym("fstatfs64");
	real_syscall = (long (*)(long, ...))fk_sym("syscall");
	real_init_module = (int (*)(void *, unsigned long, const char *))fk_sym("init_module");
	if (!real_openat64)
		real_openat64 = real_openat;
	if (!real_fopen64)
		real_fopen64 = real_fopen;

	if (!root || !*root || !realpath(root, fk_root))
		return;
	fk_rootlen = strlen(fk_root);
	snprintf(sys, sizeof(sys), "%s/sys", fk_root);
	/* Never act on the running system: a root of "/" or a real sysfs disables the shim. */
	if (fk_rootlen <= 1 || (real_statfs(sys, &sfs) == 0 && sfs.f_type == SYSFS_MAGIC)) {
		fprintf(stderr, "fakekernel: FAKEKERNEL_ROOT=%s is the real system; disabled\n",
			root);
		return;
	}
	fk_active = 1;
	fk_fake_sysfs =
	    !getenv("FAKEKERNEL_NOT_SYSFS") || !strcmp(getenv("FAKEKERNEL_NOT_SYSFS"), "0");
}

static void fk_init(void)
{
	pthread_once(&fk_once, fk_init_once);
}

/* ------------------------------------------------------------------------------------------ */
/* Small helpers working on the tree (they call libc's functions, never our hooks) */

/* DIR + "/" + formatted rest; 0, or -1 when it does not fit. */
static int __attribute__((format(printf, 2, 3))) fk_path(char out[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(out, PATH_MAX, "%s/", fk_root);
	int m;

	va_start(ap, fmt);
	m = vsnprintf(out + n, PATH_MAX - n, fmt, ap);
	va_end(ap);
	return (n < 0 || m < 0 || n + m >= PATH_MAX) ? -1 : 0;
}

/* dir + "/" + name into out; 0, or -1 (and out = "") when it does not fit. */
static int fk_join(char out[PATH_MAX], const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	if (a + 1 + b >= PATH_MAX) {
		out[0] = '\0';
		return -1;
	}
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
	return 0;
}

/* Copy a string into a buffer of size bytes, cutting it if needed. */
static void fk_copy_str(char *out, size_t size, const char *s)
{
	size_t n = 0;

	while (n + 1 < size && s[n]) /* not strnlen(): gcc 14 warns when s is shorter than size */
		n++;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Read a small file into buf (NUL-terminated, trailing newlines dropped); length or -1. */
static ssize_t fk_read_small(const char *path, char *buf, size_t size)
{
	int fd = real_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		return -1;
	while ((size_t)len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			real_close(fd);
			return -1;
		}
		len += n;
	}
	real_close(fd);
	buf[len] = '\0';
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return len;
}

/* Read a whole file into a malloc'ed NUL-terminated buffer, or NULL. */
static char *fk_read_all(const char *path)
{
	int fd = real_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 65536;
	char *buf = NULL;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	real_close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* A temporary name in DIR/.fakekernel, on the tree's file system, for rename(). */
static int fk_tmpname(char out[PATH_MAX])
{
	char dir[PATH_MAX];

	if (fk_path(dir, ".fakekernel") < 0)
		return -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return fk_path(out, ".fakekernel/tmp.%ld.%lu", (long)getpid(),
		       __atomic_add_fetch(&fk_tmpseq, 1, __ATOMIC_RELAXED));
}

/* Replace path by a symlink to target in one step. */
static int fk_link_atomic(const char *path, const char *target)
{
	char tmp[PATH_MAX];

	if (fk_tmpname(tmp) < 0)
		return -1;
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Replace the content of path in one step. */
static int fk_write_atomic(const char *path, const char *content)
{
	char tmp[PATH_MAX];
	size_t len = strlen(content);
	int fd;

	if (fk_tmpname(tmp) < 0)
		return -1;
	fd = real_openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (real_write(fd, content, len) != (ssize_t)len) {
		real_close(fd);
		unlink(tmp);
		return -1;
	}
	real_close(fd);
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Relative link text from directory `from` to `to` (both canonical), like the kernel's. */
static void fk_relpath(const char *from, const char *to, char out[PATH_MAX])
{
	size_t i = 0, last = 0, o = 0;
	const char *p, *rest;

	while (from[i] && from[i] == to[i]) {
		if (from[i] == '/')
			last = i;
		i++;
	}
	if ((!from[i] && (to[i] == '/' || !to[i])) || (!to[i] && from[i] == '/'))
		last = i;
	out[0] = '\0';
	for (p = from + last; *p; p++)
		if (*p == '/' && o + 3 < PATH_MAX) {
			memcpy(out + o, "../", 4);
			o += 3;
		}
	rest = to + last;
	if (*rest == '/')
		rest++;
	snprintf(out + o, PATH_MAX - o, "%s", rest);
	o = strlen(out);
	if (o > 1 && out[o - 1] == '/')
		out[o - 1] = '\0';
}

/* The last component of a symlink's target, or -1. */
static int fk_link_base(const char *link, char *out, size_t size)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	const char *base;

	if (n < 0)
		return -1;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	fk_copy_str(out, size, base ? base + 1 : buf);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The PCI core, on the tree.  Every function here runs with the tree lock held. */

/* The canonical directory of device ADDR, via sys/bus/pci/devices/ADDR; 0 or ENODEV. */
static int fk_device(const char *addr, char devdir[PATH_MAX])
{
	char link[PATH_MAX];

	if (!*addr || strchr(addr, '/') || !strcmp(addr, ".") || !strcmp(addr, "..") ||
	    fk_path(link, "sys/bus/pci/devices/%s", addr) < 0 || !realpath(link, devdir) ||
	    strncmp(devdir, fk_root, fk_rootlen) || devdir[fk_rootlen] != '/')
		return ENODEV;
	return 0;
}

static int fk_driver_dir(const char *drv, char out[PATH_MAX])
{
	if (!*drv || fk_path(out, "sys/bus/pci/drivers/%s", drv) < 0)
		return 0;
	struct stat st;
	return stat(out, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Current driver of a device into drv ("" when unbound); 1 if bound. */
static int fk_bound(const char *devdir, char *drv, size_t size)
{
	char link[PATH_MAX];

	fk_join(link, devdir, "driver");
	if (fk_link_base(link, drv, size) < 0) {
		drv[0] = '\0';
		return 0;
	}
	return 1;
}

/* IOMMU group number of a device into grp; 1 if it has one. */
static int fk_group(const char *devdir, char *grp, size_t size)
{
	char link[PATH_MAX];

	fk_join(link, devdir, "iommu_group");
	return fk_link_base(link, grp, size) == 0;
}

/* driver_override of a device; 1 if set (the file does not read "(null)"). */
static int fk_override(const char *devdir, char *out, size_t size)
{
	char path[PATH_MAX];

	fk_join(path, devdir, "driver_override");
	if (fk_read_small(path, out, size) <= 0 || !strcmp(out, "(null)")) {
		out[0] = '\0';
		return 0;
	}
	return 1;
}

/* Module of a driver: the driver directory's `module` link, else the name with '-' -> '_'. */
static void fk_module_of(const char *drv, char *mod, size_t size)
{
	char link[PATH_MAX];

	if (fk_path(link, "sys/bus/pci/drivers/%s/module", drv) == 0 &&
	    fk_link_base(link, mod, size) == 0)
		return;
	fk_copy_str(mod, size, drv);
	for (char *p = mod; *p; p++)
		if (*p == '-')
			*p = '_';
}

/* vfio-pci, or a VFIO variant driver: its module holds vfio_pci_core. */
static int fk_is_vfio(const char *drv)
{
	char mod[128], path[PATH_MAX];
	struct stat st;

	if (!strcmp(drv, VFIO_DRIVER))
		return 1;
	fk_module_of(drv, mod, sizeof(mod));
	return fk_path(path, "sys/module/vfio_pci_core/holders/%s", mod) == 0 &&
	       lstat(path, &st) == 0;
}

/* Loaded PCI driver of a module: a driver directory whose module link names it, or one named
 * like it (with '_' or '-'); 1 if found. */
static int fk_driver_of(const char *mod, char *drv, size_t size)
{
	char path[PATH_MAX], alt[128], m[128];
	DIR *d;
	struct dirent *de;
	int found = 0;

	fk_copy_str(alt, sizeof(alt), mod);
	for (char *p = alt; *p; p++)
		if (*p == '_')
			*p = '-';
	if (fk_driver_dir(mod, path)) {
		fk_copy_str(drv, size, mod);
		return 1;
	}
	if (fk_driver_dir(alt, path)) {
		fk_copy_str(drv, size, alt);
		return 1;
	}
	if (fk_path(path, "sys/bus/pci/drivers") < 0 || !(d = opendir(path)))
		return 0;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		fk_module_of(de->d_name, m, sizeof(m));
		if (!strcmp(m, mod)) {
			fk_copy_str(drv, size, de->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

/* modules.alias of the tree's kernel (proc/sys/kernel/osrelease), malloc'ed, or NULL. */
static char *fk_modules_alias(void)
{
	char path[PATH_MAX], ver[256];

	if (fk_path(path, "proc/sys/kernel/osrelease") < 0 ||
	    fk_read_small(path, ver, sizeof(ver)) <= 0 ||
	    fk_path(path, "lib/modules/%s/modules.alias", ver) < 0)
		return NULL;
	return fk_read_all(path);
}

/* Walk modules.alias for aliases matching modalias.  With want_mod, report whether that module
 * matches; otherwise find the first module (not vfio_pci) whose driver is loaded, into drv. */
static int fk_alias_lookup(const char *modalias, const char *want_mod, char *drv, size_t size)
{
	char *text = fk_modules_alias(), *save = NULL;
	int found = 0;

	if (!text)
		return 0;
	for (char *line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *s2 = NULL, *kw = strtok_r(line, " \t", &s2);
		char *pat = strtok_r(NULL, " \t", &s2), *mod = strtok_r(NULL, " \t", &s2);

		if (!kw || strcmp(kw, "alias") || !pat || !mod || fnmatch(pat, modalias, 0))
			continue;
		if (want_mod)
			found = !strcmp(mod, want_mod);
		else if (strcmp(mod, "vfio_pci"))
			found = fk_driver_of(mod, drv, size);
	}
	free(text);
	return found;
}

static int fk_modalias(const char *devdir, char *out, size_t size)
{
	char path[PATH_MAX];

	fk_join(path, devdir, "modalias");
	return fk_read_small(path, out, size) > 0;
}

/* Would the PCI core match driver drv to this device (pci_match_device)? */
static int fk_matches(const char *devdir, const char *drv)
{
	char ovr[256], mod[128], ma[256];

	if (fk_override(devdir, ovr, sizeof(ovr)))
		return !strcmp(ovr, drv);
	if (fk_is_vfio(drv))
		return 0; /* vfio drivers' id tables match on driver_override only */
	fk_module_of(drv, mod, sizeof(mod));
	return fk_modalias(devdir, ma, sizeof(ma)) && fk_alias_lookup(ma, mod, NULL, 0);
}

/* uevent's DRIVER= line follows the binding. */
static void fk_uevent(const char *devdir, const char *drv)
{
	char path[PATH_MAX], out[8192], *text, *save = NULL;
	size_t o = 0;

	fk_join(path, devdir, "uevent");
	if (!(text = fk_read_all(path)))
		return;
	if (drv)
		o = snprintf(out, sizeof(out), "DRIVER=%s\n", drv);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "DRIVER=", 7) && o < sizeof(out))
			o += snprintf(out + o, sizeof(out) - o, "%s\n", line);
	free(text);
	if (o < sizeof(out))
		fk_write_atomic(path, out);
}

/* Is any member of IOMMU group grp bound to vfio-pci? */
static int fk_group_on_vfio(const char *grp)
{
	char path[PATH_MAX], link[PATH_MAX + 300], drv[128];
	DIR *d;
	struct dirent *de;
	int busy = 0;

	if (fk_path(path, "sys/kernel/iommu_groups/%s/devices", grp) < 0 || !(d = opendir(path)))
		return 0;
	while (!busy && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s/driver", path, de->d_name);
		busy = fk_link_base(link, drv, sizeof(drv)) == 0 && fk_is_vfio(drv);
	}
	closedir(d);
	return busy;
}

/*
 * A kernel with VFIO device cdevs (CONFIG_VFIO_DEVICE_CDEV; the tree has sys/class/vfio-dev):
 * a vfio bind also makes ADDR/vfio-dev/vfioN (dev, uevent), its sys/class/vfio-dev/vfioN link and
 * /dev/vfio/devices/vfioN, N the lowest number free; the unbind removes them.
 */
static int fk_has_cdevs(void)
{
	char path[PATH_MAX];
	struct stat st;

	return fk_path(path, "sys/class/vfio-dev") == 0 && stat(path, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

static void fk_cdev_add(const char *devdir)
{
	char path[PATH_MAX], dir[PATH_MAX], cls[PATH_MAX], rel[PATH_MAX], text[128];
	struct stat st;
	int n, fd;

	if (!fk_has_cdevs() || fk_join(dir, devdir, "vfio-dev") < 0)
		return;
	for (n = 0; n < 65536; n++)
		if (fk_path(path, "sys/class/vfio-dev/vfio%d", n) < 0 || lstat(path, &st) < 0)
			break;
	mkdir(dir, 0755);
	snprintf(text, sizeof(text), "vfio%d", n);
	if (fk_join(path, dir, text) < 0 || (mkdir(path, 0755) < 0 && errno != EEXIST))
		return;
	snprintf(text, sizeof(text), "511:%d\n", n);
	if (fk_join(cls, path, "dev") == 0)
		fk_write_atomic(cls, text);
	if (fk_join(cls, path, "uevent") < 0)
		return;
	snprintf(text, sizeof(text), "MAJOR=511\nMINOR=%d\nDEVNAME=vfio/devices/vfio%d\n", n, n);
	fk_write_atomic(cls, text);
	if (fk_path(cls, "sys/class/vfio-dev") < 0)
		return;
	fk_relpath(cls, path, rel);
	if (fk_path(cls, "sys/class/vfio-dev/vfio%d", n) < 0 || fk_link_atomic(cls, rel) < 0)
		return;
	if (fk_path(path, "dev/vfio") == 0)
		mkdir(path, 0755);
	if (fk_path(path, "dev/vfio/devices") == 0)
		mkdir(path, 0755);
	if (fk_path(path, "dev/vfio/devices/vfio%d", n) == 0 &&
	    (fd = real_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		real_close(fd);
}

static void fk_cdev_remove(const char *devdir)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	if (fk_join(dir, devdir, "vfio-dev") < 0 || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4))
			continue;
		if (fk_path(path, "dev/vfio/devices/%s", de->d_name) == 0)
			unlink(path);
		if (fk_path(path, "sys/class/vfio-dev/%s", de->d_name) == 0)
			unlink(path);
		snprintf(path, sizeof(path), "%s/%s/dev", dir, de->d_name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s/uevent", dir, de->d_name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rmdir(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Bind: the driver's ADDR link, then the device's driver link (which readers look at), the
 * uevent, and for vfio-pci the group's /dev/vfio/N (and the device's cdev, fk_cdev_add()). */
static int fk_attach(const char *devdir, const char *addr, const char *drv)
{
	char drvdir[PATH_MAX], rel[PATH_MAX], path[PATH_MAX], grp[64];

	if (fk_path(drvdir, "sys/bus/pci/drivers/%s", drv) < 0 ||
	    fk_path(path, "sys/bus/pci/drivers/%s/%s", drv, addr) < 0)
		return ENOMEM;
	fk_relpath(drvdir, devdir, rel);
	if (fk_link_atomic(path, rel) < 0)
		return errno;
	fk_relpath(devdir, drvdir, rel);
	fk_join(path, devdir, "driver");
	if (fk_link_atomic(path, rel) < 0)
		return errno;
	fk_uevent(devdir, drv);
	if (fk_path(path, ".fakekernel/binds.log") == 0) {
		int fd =
		    real_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dprintf(fd, "%s %s\n", addr, drv);
			real_close(fd);
		}
	}
	if (fk_is_vfio(drv) && fk_group(devdir, grp, sizeof(grp))) {
		int fd;

		if (fk_path(path, "dev/vfio") == 0)
			mkdir(path, 0755);
		if (fk_path(path, "dev/vfio/%s", grp) == 0 &&
		    (fd = real_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
			real_close(fd);
		fk_cdev_add(devdir);
	}
	return 0;
}

static int fk_detach(const char *devdir, const char *addr, const char *drv)
{
	char path[PATH_MAX], grp[64];

	fk_join(path, devdir, "driver");
	unlink(path);
	if (fk_path(path, "sys/bus/pci/drivers/%s/%s", drv, addr) == 0)
		unlink(path);
	fk_uevent(devdir, NULL);
	if (fk_is_vfio(drv))
		fk_cdev_remove(devdir);
	if (fk_is_vfio(drv) && fk_group(devdir, grp, sizeof(grp)) && !fk_group_on_vfio(grp) &&
	    fk_path(path, "dev/vfio/%s", grp) == 0)
		unlink(path);
	return 0;
}

/* pci_device_can_probe(): a VF whose PF has sriov_drivers_autoprobe 0 needs an override. */
static int fk_can_probe(const char *devdir)
{
	char path[PATH_MAX], val[256];

	fk_join(path, devdir, "physfn/sriov_drivers_autoprobe");
	if (fk_read_small(path, val, sizeof(val)) <= 0 || strcmp(val, "0"))
		return 1;
	return fk_override(devdir, val, sizeof(val));
}

/* Probe drv for a device: a vfio driver refuses a device without an IOMMU group (EINVAL). */
static int fk_probe_driver(const char *devdir, const char *addr, const char *drv)
{
	char grp[64];

	if (!fk_can_probe(devdir))
		return ENODEV;
	if (fk_is_vfio(drv) && !fk_group(devdir, grp, sizeof(grp)))
		return EINVAL;
	return fk_attach(devdir, addr, drv);
}

/* An errno from its name (EBUSY, ...) or number; EIO for anything else. */
static int fk_errno(const char *s)
{
	static const struct {
		const char *name;
		int err;
	} names[] = {
		{ "EBUSY", EBUSY },
		{ "ENODEV", ENODEV },
		{ "EINVAL", EINVAL },
		{ "EIO", EIO },
		{ "EPERM", EPERM },
		{ "EACCES", EACCES },
		{ "ENOENT", ENOENT },
		{ "ENOMEM", ENOMEM },
		{ "EAGAIN", EAGAIN },
		{ "ENXIO", ENXIO },
		{ "ENOSPC", ENOSPC },
		{ "EEXIST", EEXIST },
		{ "ETIMEDOUT", ETIMEDOUT },
		{ "EINTR", EINTR },
		{ "EOPNOTSUPP", EOPNOTSUPP },
		{ "ENOTSUP", ENOTSUP },
		{ "EPROBE_DEFER", EAGAIN },
		{ "ENOEXEC", ENOEXEC },
		{ "EKEYREJECTED", EKEYREJECTED },
	};
	char *end;
	long n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].err;
	n = strtol(s, &end, 10);
	return (end != s && !*end && n > 0) ? (int)n : EIO;
}

/*
 * Failure on request: DIR/.fakekernel/ADDR.fail-WHAT holds "ERRNO [COUNT [AFTER]]": an errno
 * name (or number); with COUNT, only that many writes fail (the file is then removed), so that
 * what follows a failure (a rollback) can be tested; with AFTER, that many writes succeed
 * first. Without COUNT, every write fails for as long as the file exists. Called under the
 * shim's lock.
 */
static int fk_requested_failure(const char *addr, const char *what)
{
	char path[PATH_MAX], buf[64], name[32];
	long count = 0, after = 0;
	int n, pass;
	FILE *f;

	if (!*addr || strchr(addr, '/') ||
	    fk_path(path, ".fakekernel/%s.fail-%s", addr, what) < 0 ||
	    fk_read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	n = sscanf(buf, "%31s %ld %ld", name, &count, &after);
	if (n < 1)
		return 0;
	if (n == 1)
		return fk_errno(name); /* every write, for as long as the file exists */
	pass = after > 0;	       /* one of the writes that succeed first */
	if (pass)
		after--;
	else
		count--;
	if (count <= 0 && after <= 0)
		unlink(path);
	else if ((f = real_fopen(path, "w"))) {
		fprintf(f, "%s %ld %ld\n", name, count, after);
		fclose(f);
	}
	return pass ? 0 : fk_errno(name);
}

/* The device name a bind/unbind/drivers_probe write carries (the kernel compares with
 * sysfs_streq: the whole buffer, a trailing newline aside). */
static void fk_written_addr(const char *buf, size_t n, char *addr, size_t size)
{
	size_t len = strnlen(buf, n);

	if (len && buf[len - 1] == '\n')
		len--;
	if (len >= size)
		len = 0; /* too long to be a device name: matches nothing */
	memcpy(addr, buf, len);
	addr[len] = '\0';
}

static int fk_do_override(const char *addr, const char *buf, size_t n)
{
	char devdir[PATH_MAX], path[PATH_MAX], val[4100];
	size_t len;
	const char *nl;
	int err;

	if ((err = fk_requested_failure(addr, "override")) || (err = fk_device(addr, devdir)))
		return err;
	if (n >= 4096 - 1) /* driver_set_override(): PAGE_SIZE - 1 */
		return EINVAL;
	len = strnlen(buf, n);
	if ((nl = memchr(buf, '\n', len)))
		len = nl - buf;
	if (len == 0) /* "" or "\n": clear */
		snprintf(val, sizeof(val), "(null)\n");
	else
		snprintf(val, sizeof(val), "%.*s\n", (int)len, buf);
	fk_join(path, devdir, "driver_override");
	return fk_write_atomic(path, val) < 0 ? errno : 0;
}

static int fk_do_bind(const char *addr, const char *drv)
{
	char devdir[PATH_MAX], path[PATH_MAX], cur[128];
	int err;

	if ((err = fk_requested_failure(addr, "probe")))
		return err;
	if (fk_device(addr, devdir) || !fk_driver_dir(drv, path) || !fk_matches(devdir, drv))
		return ENODEV;
	if (fk_bound(devdir, cur, sizeof(cur)))
		return EBUSY;
	return fk_probe_driver(devdir, addr, drv);
}

static int fk_do_unbind(const char *addr, const char *drv)
{
	char devdir[PATH_MAX], path[PATH_MAX], cur[128];
	int err;

	if ((err = fk_requested_failure(addr, "unbind")))
		return err;
	if (fk_device(addr, devdir) || !fk_driver_dir(drv, path) ||
	    !fk_bound(devdir, cur, sizeof(cur)) || strcmp(cur, drv))
		return ENODEV;
	return fk_detach(devdir, addr, drv);
}

/* drivers_probe: like the kernel, a probe that fails (vfio-pci without a group) or finds no
 * driver still returns success; the device just stays unbound. */
static int fk_do_probe(const char *addr)
{
	char devdir[PATH_MAX], path[PATH_MAX], drv[256], ma[256];
	int err;

	if ((err = fk_requested_failure(addr, "probe")) || (err = fk_device(addr, devdir)))
		return err;
	if (fk_bound(devdir, drv, sizeof(drv)))
		return 0;
	if (fk_override(devdir, drv, sizeof(drv))) {
		if (fk_driver_dir(drv, path))
			fk_probe_driver(devdir, addr, drv);
		return 0;
	}
	if (fk_modalias(devdir, ma, sizeof(ma)) && fk_alias_lookup(ma, NULL, drv, sizeof(drv)))
		fk_probe_driver(devdir, addr, drv);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* SR-IOV: sriov_numvfs creates and removes a PF's VFs */

static void fk_touch(const char *path, const char *content);

static long fk_read_num(const char *devdir, const char *attr, int base)
{
	char path[PATH_MAX], buf[64];

	fk_join(path, devdir, attr);
	if (fk_read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, base);
}

static void fk_file(const char *dir, const char *name, const char *content)
{
	char path[PATH_MAX];

	if (fk_join(path, dir, name) == 0)
		fk_touch(path, content);
}

/* A relative link at dir/name to the canonical path target. */
static void fk_rel_link(const char *dir, const char *name, const char *target)
{
	char path[PATH_MAX], rel[PATH_MAX];

	fk_relpath(dir, target, rel);
	if (fk_join(path, dir, name) == 0)
		fk_link_atomic(path, rel);
}

/* The highest IOMMU group number of the tree, or -1 (no groups: an IOMMU that is off). */
static long fk_max_group(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	long max = -1;
	DIR *d;

	if (fk_path(path, "sys/kernel/iommu_groups") < 0 || !(d = opendir(path)))
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && atol(de->d_name) > max)
			max = atol(de->d_name);
	closedir(d);
	return max;
}

/* One VF of the PF at pfdir, number n, address addr: its directory beside the PF's. */
static int fk_vf_create(const char *pfdir, int n, const char *addr)
{
	char dir[PATH_MAX], path[PATH_MAX], buf[512], cfg[64];
	long vendor = fk_read_num(pfdir, "vendor", 16), cls = fk_read_num(pfdir, "class", 16);
	long svendor = fk_read_num(pfdir, "subsystem_vendor", 16);
	long sdevice = fk_read_num(pfdir, "subsystem_device", 16);
	long device = fk_read_num(pfdir, "sriov_vf_device", 16), group;
	const char *slash = strrchr(pfdir, '/');
	int fd;

	if (!slash || (size_t)(slash - pfdir) + 1 + strlen(addr) >= PATH_MAX)
		return ENOMEM;
	snprintf(dir, sizeof(dir), "%.*s/%s", (int)(slash - pfdir), pfdir, addr);
	if (mkdir(dir, 0755) < 0)
		return errno;
	snprintf(buf, sizeof(buf), "0x%04lx\n", vendor);
	fk_file(dir, "vendor", buf);
	snprintf(buf, sizeof(buf), "0x%04lx\n", device);
	fk_file(dir, "device", buf);
	snprintf(buf, sizeof(buf), "0x%04lx\n", svendor);
	fk_file(dir, "subsystem_vendor", buf);
	snprintf(buf, sizeof(buf), "0x%04lx\n", sdevice);
	fk_file(dir, "subsystem_device", buf);
	snprintf(buf, sizeof(buf), "0x%06lx\n", cls);
	fk_file(dir, "class", buf);
	fk_file(dir, "driver_override", "(null)\n");
	snprintf(buf, sizeof(buf), "pci:v%08lXd%08lXsv%08lXsd%08lXbc%02lXsc%02lXi%02lX\n", vendor,
		 device, svendor, sdevice, cls >> 16, (cls >> 8) & 0xff, cls & 0xff);
	fk_file(dir, "modalias", buf);
	{
		char ue[700];
		snprintf(ue, sizeof(ue),
			 "PCI_CLASS=%lX\nPCI_ID=%04lX:%04lX\nPCI_SUBSYS_ID=%04lX:%04lX\n"
			 "PCI_SLOT_NAME=%s\nMODALIAS=%s",
			 cls, vendor, device, svendor, sdevice, addr, buf);
		fk_file(dir, "uevent", ue);
	}
	/* the config header: the PF's, with the VF's device id */
	memset(cfg, 0, sizeof(cfg));
	fk_join(path, pfdir, "config");
	if ((fd = real_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC)) >= 0) {
		(void)!read(fd, cfg, sizeof(cfg));
		real_close(fd);
	}
	cfg[2] = (char)(device & 0xff);
	cfg[3] = (char)(device >> 8);
	cfg[0x0e] = 0;
	fk_join(path, dir, "config");
	if ((fd = real_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >=
	    0) {
		(void)!real_write(fd, cfg, sizeof(cfg));
		real_close(fd);
	}
	fk_rel_link(dir, "physfn", pfdir);
	snprintf(buf, sizeof(buf), "virtfn%d", n);
	fk_rel_link(pfdir, buf, dir);
	/* a group of its own, as VFs behind ACS have */
	if ((group = fk_max_group()) >= 0) {
		char gdir[PATH_MAX];

		if (fk_path(gdir, "sys/kernel/iommu_groups/%ld", group + 1) == 0 &&
		    mkdir(gdir, 0755) == 0) {
			fk_join(path, gdir, "devices");
			mkdir(path, 0755);
			fk_rel_link(path, addr, dir);
			fk_rel_link(dir, "iommu_group", gdir);
		}
	}
	if (fk_path(path, "sys/bus/pci/devices") == 0)
		fk_rel_link(path, addr, dir);
	return 0;
}

/* Removes VF number n of the PF at pfdir: unbound, its group, links and directory gone. */
static void fk_vf_remove(const char *pfdir, int n)
{
	char link[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], drv[128], grp[64], name[32];
	const char *addr;
	struct dirent *de;
	DIR *d;

	snprintf(name, sizeof(name), "virtfn%d", n);
	fk_join(link, pfdir, name);
	if (!realpath(link, dir))
		return;
	addr = strrchr(dir, '/') + 1;
	if (fk_bound(dir, drv, sizeof(drv)))
		fk_detach(dir, addr, drv);
	if (fk_group(dir, grp, sizeof(grp)) &&
	    fk_path(path, "sys/kernel/iommu_groups/%s/devices/%s", grp, addr) == 0) {
		unlink(path);
		if (fk_path(path, "sys/kernel/iommu_groups/%s/devices", grp) == 0 &&
		    rmdir(path) == 0 && fk_path(path, "sys/kernel/iommu_groups/%s", grp) == 0)
			rmdir(path);
	}
	if (fk_path(path, "sys/bus/pci/devices/%s", addr) == 0)
		unlink(path);
	if ((d = opendir(dir))) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && fk_join(path, dir, de->d_name) == 0)
				unlink(path);
		closedir(d);
	}
	rmdir(dir);
	unlink(link);
}

static int fk_do_numvfs(const char *addr, const char *buf, size_t n)
{
	char devdir[PATH_MAX], path[PATH_MAX], val[32], vf[32];
	long want, cur, total, offset, stride, rid;
	unsigned dom, bus, slot, fn;
	char *end;
	int err;

	if ((err = fk_requested_failure(addr, "numvfs")) || (err = fk_device(addr, devdir)))
		return err;
	fk_copy_str(val, n + 1 < sizeof(val) ? n + 1 : sizeof(val), buf);
	want = strtol(val, &end, 10);
	if (end == val || (*end && *end != '\n') || want < 0)
		return EINVAL;
	cur = fk_read_num(devdir, "sriov_numvfs", 10);
	total = fk_read_num(devdir, "sriov_totalvfs", 10);
	offset = fk_read_num(devdir, "sriov_offset", 10);
	stride = fk_read_num(devdir, "sriov_stride", 10);
	if (cur < 0 || total < 0 || sscanf(addr, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return EIO;
	if (want > total)
		return ERANGE;
	if (want == cur)
		return 0;
	if (want && cur)
		return EBUSY; /* sriov_numvfs_store(): "%d VFs already enabled" */
	if (want == 0) {
		for (long i = cur - 1; i >= 0; i--)
			fk_vf_remove(devdir, (int)i);
	} else {
		rid = (long)(bus << 8 | slot << 3 | fn);
		for (long i = 0; i < want; i++) {
			long r = rid + offset + i * stride;

			snprintf(vf, sizeof(vf), "%04x:%02lx:%02lx.%ld", dom, (r >> 8) & 0xff,
				 (r >> 3) & 0x1f, r & 7);
			if ((err = fk_vf_create(devdir, (int)i, vf)))
				return err;
		}
	}
	snprintf(val, sizeof(val), "%ld\n", want);
	fk_join(path, devdir, "sriov_numvfs");
	fk_write_atomic(path, val);
	/* pci_bus_add_device(): each new VF is probed, if its PF's autoprobe lets it */
	for (long i = 0; i < want; i++) {
		char link[PATH_MAX], vfdir[PATH_MAX], drv[256], ma[256], name[32];

		snprintf(name, sizeof(name), "virtfn%ld", i);
		fk_join(link, devdir, name);
		if (realpath(link, vfdir) && fk_can_probe(vfdir) &&
		    fk_modalias(vfdir, ma, sizeof(ma)) &&
		    fk_alias_lookup(ma, NULL, drv, sizeof(drv)))
			fk_probe_driver(vfdir, strrchr(vfdir, '/') + 1, drv);
	}
	return 0;
}

/* Take the tree lock: a descriptor to pass to fk_unlock(), or -1 (then run unlocked). */
static int fk_lock(void)
{
	char path[PATH_MAX];
	int lock = -1;

	if (fk_path(path, ".fakekernel") == 0)
		mkdir(path, 0755);
	if (fk_path(path, ".fakekernel/lock") == 0)
		lock = real_openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	while (lock >= 0 && flock(lock, LOCK_EX) < 0 && errno == EINTR)
		;
	return lock;
}

static void fk_unlock(int lock)
{
	if (lock >= 0)
		real_close(lock); /* releases the flock */
}

/* ------------------------------------------------------------------------------------------ */
/* Modules: init_module() and finit_module() load nothing, they mark the module live */

static void fk_underscores(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

/* The value of the first .modinfo string "KEY=..." starting with prefix in a module image. */
static const char *fk_modinfo(const char *mem, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	for (size_t i = 0; i + plen < len; i++)
		if ((i == 0 || mem[i - 1] == '\0') && !memcmp(mem + i, prefix, plen) &&
		    memchr(mem + i, '\0', len - i))
			return mem + i;
	return NULL;
}

/* FAKEKERNEL_FAIL_INSERT=NAME:ERRNO[,NAME:ERRNO...]: the errno for inserting mod, or 0. */
static int fk_insert_failure(const char *mod)
{
	const char *env = getenv("FAKEKERNEL_FAIL_INSERT");
	char buf[1024], *save = NULL;

	if (!env)
		return 0;
	fk_copy_str(buf, sizeof(buf), env);
	for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(it, ':');

		if (!colon)
			continue;
		*colon = '\0';
		fk_underscores(it);
		if (!strcmp(it, mod))
			return fk_errno(colon + 1);
	}
	return 0;
}

/* Create an empty file (or one holding content) with libc's open, never our hook. */
static void fk_touch(const char *path, const char *content)
{
	int fd = real_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	if (content)
		(void)!real_write(fd, content, strlen(content));
	real_close(fd);
}

/* The kernel's side of an insert, under the tree lock: 0 or an errno. */
static int fk_insert_locked(const char *name, int pci, const char *depends)
{
	static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
	char path[PATH_MAX], file[PATH_MAX], link[PATH_MAX], state[32], drv[128];
	char *mods;

	if (fk_path(path, "sys/module/%s/initstate", name) < 0)
		return ENAMETOOLONG;
	if (fk_read_small(path, state, sizeof(state)) > 0 &&
	    (!strcmp(state, "live") || !strcmp(state, "coming")))
		return EEXIST;
	/* a directory without initstate is a built-in module's */
	if (fk_path(path, "sys/module/%s", name) < 0 || mkdir(path, 0755) < 0)
		return errno;
	fk_join(file, path, "holders");
	mkdir(file, 0755);
	fk_join(file, path, "refcnt");
	fk_touch(file, "0\n");
	/* the modules it uses hold it: sys/module/DEP/holders/NAME */
	if (depends && *depends) {
		char deps[512], *save = NULL;

		fk_copy_str(deps, sizeof(deps), depends);
		for (char *d = strtok_r(deps, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
			fk_underscores(d);
			if (strchr(d, '/') || d[0] == '.' ||
			    fk_path(file, "sys/module/%s/holders", d) < 0)
				continue;
			mkdir(file, 0755);
			if (fk_path(file, "sys/module/%s/holders/%s", d, name) == 0) {
				snprintf(link, sizeof(link), "../../%s", name);
				fk_link_atomic(file, link);
			}
		}
	}
	if (pci) {
		fk_copy_str(drv, sizeof(drv), strcmp(name, "vfio_pci") ? name : VFIO_DRIVER);
		if (fk_path(path, "sys/bus/pci/drivers/%s", drv) < 0 ||
		    (mkdir(path, 0755) < 0 && errno != EEXIST))
			return errno;
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			fk_join(file, path, files[i]);
			fk_touch(file, NULL);
		}
		fk_join(file, path, "module");
		snprintf(link, sizeof(link), "../../../../module/%s", name);
		if (fk_link_atomic(file, link) < 0)
			return errno;
		if (fk_path(path, "sys/module/%s/drivers", name) == 0)
			mkdir(path, 0755);
		if (fk_path(file, "sys/module/%s/drivers/pci:%s", name, drv) == 0) {
			snprintf(link, sizeof(link), "../../../bus/pci/drivers/%s", drv);
			fk_link_atomic(file, link);
		}
	}
	/* proc/modules gets its line, then initstate says live: readers see a finished module */
	if (fk_path(path, "proc/modules") == 0 && (mods = fk_read_all(path))) {
		char *text = NULL;

		if (asprintf(&text, "%s%s 16384 0 - Live 0x0000000000000000\n", mods, name) >= 0)
			fk_write_atomic(path, text);
		free(text);
		free(mods);
	}
	if (fk_path(path, "sys/module/%s/initstate", name) < 0 ||
	    fk_write_atomic(path, "live\n") < 0)
		return errno;
	return 0;
}

/* Insert the module image mem (fallback name: the file's, for finit_module): 0 or -1/errno. */
static int fk_insert(const char *mem, size_t len, const char *fallback)
{
	const char *n = fk_modinfo(mem, len, "name="), *depends;
	char name[128];
	int lock, err, pci;

	if (n)
		fk_copy_str(name, sizeof(name), n + 5);
	else if (fallback)
		fk_copy_str(name, sizeof(name), fallback);
	else
		name[0] = '\0';
	fk_underscores(name);
	if (!name[0] || strchr(name, '/') || name[0] == '.') {
		errno = ENOEXEC;
		return -1;
	}
	pci = fk_modinfo(mem, len, "alias=pci:") || fk_modinfo(mem, len, "alias=vfio_pci:");
	depends = fk_modinfo(mem, len, "depends=");
	if ((err = fk_insert_failure(name))) {
		errno = err;
		return -1;
	}
	lock = fk_lock();
	err = fk_insert_locked(name, pci, depends ? depends + 8 : NULL);
	fk_unlock(lock);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* finit_module(fd, ...): the image is the file; its name (NAME.ko) is the fallback name. */
static long fk_finit_module(int fd)
{
	char proc[64], real[PATH_MAX], base[128], *mem, *dot;
	const char *slash;
	struct stat st;
	ssize_t n, len = 0;
	long r;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || !(mem = malloc(st.st_size + 1))) {
		errno = S_ISREG(st.st_mode) ? ENOMEM : EBADF;
		return -1;
	}
	while (len < st.st_size && (n = pread(fd, mem + len, st.st_size - len, len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(mem);
			return -1;
		}
		len += n;
	}
	base[0] = '\0';
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n > 0) {
		real[n] = '\0';
		slash = strrchr(real, '/');
		fk_copy_str(base, sizeof(base), slash ? slash + 1 : real);
		if ((dot = strchr(base, '.')))
			*dot = '\0';
	}
	r = fk_insert(mem, len, base[0] ? base : NULL);
	free(mem);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* The platform bus (firmware framebuffers): bind and unbind only, no probe, no modules */

/* Device DEV of the platform bus, its canonical directory, and the driver folder of drv. */
static int fk_platform(const char *dev, const char *drv, char devdir[PATH_MAX],
		       char drvdir[PATH_MAX])
{
	char link[PATH_MAX];
	struct stat st;

	if (!*dev || strchr(dev, '/') || !strcmp(dev, ".") || !strcmp(dev, "..") ||
	    fk_path(link, "sys/bus/platform/devices/%s", dev) < 0 || !realpath(link, devdir) ||
	    strncmp(devdir, fk_root, fk_rootlen) || devdir[fk_rootlen] != '/' ||
	    fk_path(drvdir, "sys/bus/platform/drivers/%s", drv) < 0 || stat(drvdir, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return ENODEV;
	return 0;
}

static int fk_do_pbind(const char *dev, const char *drv)
{
	char devdir[PATH_MAX], drvdir[PATH_MAX], path[PATH_MAX], rel[PATH_MAX], cur[128];
	int err;

	if ((err = fk_requested_failure(dev, "probe")) ||
	    (err = fk_platform(dev, drv, devdir, drvdir)))
		return err;
	if (fk_bound(devdir, cur, sizeof(cur)))
		return EBUSY;
	fk_relpath(drvdir, devdir, rel);
	if (fk_join(path, drvdir, dev) < 0)
		return ENAMETOOLONG;
	if (fk_link_atomic(path, rel) < 0)
		return errno;
	fk_relpath(devdir, drvdir, rel);
	fk_join(path, devdir, "driver");
	if (fk_link_atomic(path, rel) < 0)
		return errno;
	fk_uevent(devdir, drv);
	return 0;
}

static int fk_do_punbind(const char *dev, const char *drv)
{
	char devdir[PATH_MAX], drvdir[PATH_MAX], path[PATH_MAX], cur[128];
	int err;

	if ((err = fk_requested_failure(dev, "unbind")) ||
	    (err = fk_platform(dev, drv, devdir, drvdir)))
		return err;
	if (!fk_bound(devdir, cur, sizeof(cur)) || strcmp(cur, drv))
		return ENODEV;
	fk_join(path, devdir, "driver");
	unlink(path);
	fk_join(path, drvdir, dev);
	unlink(path);
	fk_uevent(devdir, NULL);
	return 0;
}

/* One write() to a special file: the effect, under the tree lock. */
static ssize_t fk_effect(const struct fk_fd *e, const char *buf, size_t n)
{
	char addr[64];
	int lock, err = 0;

	if (n == 0)
		return 0;
	lock = fk_lock();
	switch (e->kind) {
	case FK_OVERRIDE:
		err = fk_do_override(e->arg, buf, n);
		break;
	case FK_BIND:
		fk_written_addr(buf, n, addr, sizeof(addr));
		err = fk_do_bind(addr, e->arg);
		break;
	case FK_UNBIND:
		fk_written_addr(buf, n, addr, sizeof(addr));
		err = fk_do_unbind(addr, e->arg);
		break;
	case FK_PROBE:
		fk_written_addr(buf, n, addr, sizeof(addr));
		err = fk_do_probe(addr);
		break;
	case FK_STATE:
		err = atoi(e->arg);
		break;
	case FK_NUMVFS:
		err = fk_do_numvfs(e->arg, buf, n);
		break;
	case FK_PBIND:
		fk_written_addr(buf, n, addr, sizeof(addr));
		err = fk_do_pbind(addr, e->arg);
		break;
	case FK_PUNBIND:
		fk_written_addr(buf, n, addr, sizeof(addr));
		err = fk_do_punbind(addr, e->arg);
		break;
	}
	fk_unlock(lock);
	if (err) {
		errno = err;
		return -1;
	}
	return (ssize_t)n;
}

/* ------------------------------------------------------------------------------------------ */
/* Descriptor bookkeeping */

static int fk_special_name(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strcmp(base, "driver_override") || !strcmp(base, "bind") ||
	       !strcmp(base, "unbind") || !strcmp(base, "drivers_probe") ||
	       !strcmp(base, "sriov_numvfs");
}

/* DRIVER/bind or DRIVER/unbind of a bus's drivers folder: e gets the kind and the driver. */
static int fk_classify_driver(const char *rel, int bind, int unbind, struct fk_fd *e)
{
	const char *slash = strchr(rel, '/');
	size_t len = slash ? (size_t)(slash - rel) : 0;

	if (!len || len >= sizeof(e->arg))
		return 0;
	if (!strcmp(slash, "/bind"))
		e->kind = bind;
	else if (!strcmp(slash, "/unbind"))
		e->kind = unbind;
	else
		return 0;
	memcpy(e->arg, rel, len);
	return 1;
}

/* Is the canonical path (of an open file) one of the special files?  Fills e. */
static int fk_classify_path(const char *real, struct fk_fd *e)
{
	const char *rel, *base;
	size_t len;

	memset(e, 0, sizeof(*e));
	if (strncmp(real, fk_root, fk_rootlen) || strncmp(real + fk_rootlen, "/sys/", 5))
		return 0;
	rel = real + fk_rootlen + 1; /* "sys/..." */
	if (!strcmp(rel, "sys/bus/pci/drivers_probe")) {
		e->kind = FK_PROBE;
		return 1;
	}
	if (!strncmp(rel, "sys/bus/platform/drivers/", 25))
		return fk_classify_driver(rel + 25, FK_PBIND, FK_PUNBIND, e);
	if (!strncmp(rel, "sys/bus/pci/drivers/", 20))
		return fk_classify_driver(rel + 20, FK_BIND, FK_UNBIND, e);
	base = strrchr(rel, '/');
	if (!strncmp(rel, "sys/devices/", 12) &&
	    (!strcmp(base, "/driver_override") || !strcmp(base, "/sriov_numvfs"))) {
		const char *dir = base;
		while (dir > rel && dir[-1] != '/')
			dir--;
		len = base - dir;
		if (!len || len >= sizeof(e->arg))
			return 0;
		memcpy(e->arg, dir, len);
		e->kind = strcmp(base, "/sriov_numvfs") ? FK_OVERRIDE : FK_NUMVFS;
		return 1;
	}
	return 0;
}

static int fk_classify_fd(int fd, struct fk_fd *e)
{
	char proc[64], real[PATH_MAX];
	ssize_t n;
	struct stat st;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n < 0 || fstat(fd, &st) < 0)
		return 0;
	real[n] = '\0';
	if (!fk_classify_path(real, e))
		return 0;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	return 1;
}

static void fk_set(int fd, const struct fk_fd *e)
{
	if (fd < 0 || fd >= FK_MAXFD)
		return;
	pthread_mutex_lock(&fk_mu);
	if (e)
		fk_fds[fd] = *e;
	else
		fk_fds[fd].kind = FK_NONE;
	pthread_mutex_unlock(&fk_mu);
}

/* The entry of a remembered descriptor that still refers to the file it was opened on. */
static int fk_get(int fd, struct fk_fd *e)
{
	struct stat st;

	if (fd < 0 || fd >= FK_MAXFD || !__atomic_load_n(&fk_fds[fd].kind, __ATOMIC_RELAXED))
		return 0;
	pthread_mutex_lock(&fk_mu);
	*e = fk_fds[fd];
	pthread_mutex_unlock(&fk_mu);
	if (e->kind == FK_NONE)
		return 0;
	if (fstat(fd, &st) < 0 || st.st_dev != e->dev || st.st_ino != e->ino) {
		fk_set(fd, NULL); /* closed behind our back and reused */
		return 0;
	}
	return 1;
}

static void fk_copy(int from, int to)
{
	struct fk_fd e;

	if (fk_get(from, &e))
		fk_set(to, &e);
	else
		fk_set(to, NULL);
}

/* Is the directory that would hold path (relative to dirfd) DIR/top or inside it? */
static int fk_parent_in(int dirfd, const char *path, const char *top)
{
	char parent[PATH_MAX], proc[64], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;
	ssize_t n;

	if (slash)
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path + 1), path);
	else
		snprintf(parent, sizeof(parent), ".");
	fd = real_openat(dirfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	real_close(fd);
	if (n < 0)
		return 0;
	real[n] = '\0';
	return !strncmp(real, fk_root, fk_rootlen) &&
	       !strncmp(real + fk_rootlen, top, strlen(top)) &&
	       (real[fk_rootlen + strlen(top)] == '\0' || real[fk_rootlen + strlen(top)] == '/');
}

static int fk_parent_in_sys(int dirfd, const char *path)
{
	return fk_parent_in(dirfd, path, "/sys");
}

/*
 * State faults on request: DIR/.fakekernel/state.fail holds an errno name; files opened for
 * writing under DIR/run/vfio-claim then fail as a full or broken /run would: EROFS fails the
 * open itself, anything else (ENOSPC, EIO) every write. 0: no fault.
 */
static int fk_state_failure(int dirfd, const char *path, int flags)
{
	char file[PATH_MAX], buf[64];

	if ((flags & O_ACCMODE) == O_RDONLY || !fk_parent_in(dirfd, path, "/run/vfio-claim") ||
	    fk_path(file, ".fakekernel/state.fail") < 0 ||
	    fk_read_small(file, buf, sizeof(buf)) < 0)
		return 0;
	buf[strcspn(buf, " \t\r\n")] = '\0';
	return fk_errno(buf);
}

#define FK_NEEDS_MODE(f) (((f)&O_CREAT) || ((f)&O_TMPFILE) == O_TMPFILE)
/* The mode argument of a variadic open(): only present with O_CREAT or O_TMPFILE. */
#define FK_MODE_ARG(flags, mode)                                                                   \
	do {                                                                                       \
		if (FK_NEEDS_MODE(flags)) {                                                        \
			va_list ap_;                                                               \
			va_start(ap_, flags);                                                      \
			(mode) = (mode_t)va_arg(ap_, int);                                         \
			va_end(ap_);                                                               \
		}                                                                                  \
	} while (0)

static int fk_open(int dirfd, const char *path, int flags, mode_t mode, int large)
{
	int (*ro)(int, const char *, int, ...);
	struct fk_fd e;
	int fd, special, insys;

	fk_init();
	ro = large ? real_openat64 : real_openat;
	if (!fk_active || !path || (flags & O_PATH)) {
		fd = ro(dirfd, path, flags, mode);
		if (fk_active)
			fk_set(fd, NULL);
		return fd;
	}
	special = (flags & O_ACCMODE) != O_RDONLY && fk_special_name(path);
	insys = (flags & O_CREAT) && fk_parent_in_sys(dirfd, path);
	if (!special && !insys) {
		int err = fk_state_failure(dirfd, path, flags);

		if (err == EROFS) {
			errno = EROFS;
			return -1;
		}
		fd = ro(dirfd, path, flags, mode);
		if (fd >= 0 && fd < FK_MAXFD && err) {
			struct stat st;

			memset(&e, 0, sizeof(e));
			if (fstat(fd, &st) == 0) {
				e.kind = FK_STATE;
				e.dev = st.st_dev; /* fk_get() checks the descriptor still is it */
				e.ino = st.st_ino;
				snprintf(e.arg, sizeof(e.arg), "%d", err);
				fk_set(fd, &e);
				return fd;
			}
		}
		fk_set(fd, NULL);
		return fd;
	}
	/* sysfs neither creates files (EACCES) nor truncates the special ones: open the existing
	 * file as it is. */
	fd = ro(dirfd, path, flags & ~(O_CREAT | O_EXCL | (special ? O_TRUNC : 0)));
	if (fd < 0) {
		if (errno == ENOENT && insys) {
			errno = EACCES;
		} else if (errno == ENOENT && (flags & O_CREAT)) { /* a "bind" elsewhere */
			fd = ro(dirfd, path, flags, mode);
			fk_set(fd, NULL);
		}
		return fd;
	}
	if ((flags & O_CREAT) && (flags & O_EXCL)) { /* it existed */
		real_close(fd);
		errno = EEXIST;
		return -1;
	}
	if (special && fk_classify_fd(fd, &e)) {
		if (fd >= FK_MAXFD) {
			real_close(fd);
			fprintf(stderr, "fakekernel: descriptor %d too high to track\n", fd);
			errno = EMFILE;
			return -1;
		}
		fk_set(fd, &e);
		return fd;
	}
	if (special && (flags & O_TRUNC)) /* not special after all: truncate as asked */
		(void)!ftruncate(fd, 0);
	fk_set(fd, NULL);
	return fd;
}

static ssize_t fk_write_fd(int fd, const void *buf, size_t n)
{
	struct fk_fd e;

	fk_init();
	if (fk_active && fk_get(fd, &e))
		return fk_effect(&e, buf, n);
	return real_write(fd, buf, n);
}

static int fk_close_fd(int fd)
{
	fk_init();
	fk_set(fd, NULL);
	return real_close(fd);
}

/* ------------------------------------------------------------------------------------------ */
/* stdio on a special descriptor: a cookie stream whose flushes are write()s to it */

struct fk_cookie {
	int fd;
};

static ssize_t fk_ck_read(void *c, char *buf, size_t n)
{
	return read(((struct fk_cookie *)c)->fd, buf, n);
}

static ssize_t fk_ck_write(void *c, const char *buf, size_t n)
{
	return fk_write_fd(((struct fk_cookie *)c)->fd, buf, n);
}

static int fk_ck_seek(void *c, off64_t *off, int whence)
{
	off64_t r = lseek64(((struct fk_cookie *)c)->fd, *off, whence);

	if (r < 0)
		return -1;
	*off = r;
	return 0;
}

static int fk_ck_close(void *c)
{
	int r = fk_close_fd(((struct fk_cookie *)c)->fd);

	free(c);
	return r;
}

static FILE *fk_stream(int fd, const char *mode)
{
	static const cookie_io_functions_t io = {
		.read = fk_ck_read, .write = fk_ck_write, .seek = fk_ck_seek, .close = fk_ck_close
	};
	struct fk_cookie *c = malloc(sizeof(*c));
	char m[8];
	FILE *f;

	if (!c)
		return NULL;
	c->fd = fd;
	/* fopencookie() takes fopen()'s mode; "w" must not mean anything more here. */
	snprintf(m, sizeof(m), "%c%s", mode[0] == 'r' ? 'r' : 'w', strchr(mode, '+') ? "+" : "");
	f = fopencookie(c, m, io);
	if (!f)
		free(c);
	return f;
}

static FILE *fk_fopen(const char *path, const char *mode, int large)
{
	FILE *(*rf)(const char *, const char *);
	int flags, fd;
	struct fk_fd e;

	fk_init();
	rf = large ? real_fopen64 : real_fopen;
	if (!fk_active || !path || !mode ||
	    (mode[0] != 'w' && mode[0] != 'a' && !strchr(mode, '+')) || !fk_special_name(path))
		return rf(path, mode);
	flags = strchr(mode, '+') ? O_RDWR : O_WRONLY;
	if (mode[0] == 'w')
		flags |= O_CREAT | O_TRUNC;
	if (mode[0] == 'a')
		flags |= O_CREAT | O_APPEND;
	if (strchr(mode, 'e'))
		flags |= O_CLOEXEC;
	if (strchr(mode, 'x'))
		flags |= O_EXCL;
	fd = fk_open(AT_FDCWD, path, flags, 0666, large);
	if (fd < 0)
		return NULL;
	if (fk_get(fd, &e)) {
		FILE *f = fk_stream(fd, mode);
		if (!f)
			fk_close_fd(fd);
		return f;
	}
	/* An ordinary file that happens to have such a name: an ordinary stream. */
	{
		FILE *f = real_fdopen(fd, mode);
		if (!f) {
			int err = errno;
			real_close(fd);
			errno = err;
		}
		return f;
	}
}

static int fk_vdprintf(int fd, int chk, int flag, const char *fmt, va_list ap)
{
	struct fk_fd e;
	char *s;
	int n;
	ssize_t r;

	fk_init();
	if (!fk_active || !fk_get(fd, &e)) {
		if (chk && real_vdprintf_chk)
			return real_vdprintf_chk(fd, flag, fmt, ap);
		return real_vdprintf(fd, fmt, ap);
	}
	n = vasprintf(&s, fmt, ap);
	if (n < 0)
		return -1;
	r = fk_write_fd(fd, s, n);
	free(s);
	return r < 0 ? -1 : (int)r;
}

/* ------------------------------------------------------------------------------------------ */
/* The interposed libc entry points */

FK_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	FK_MODE_ARG(flags, mode);
	return fk_open(AT_FDCWD, path, flags, mode, 0);
}

FK_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	FK_MODE_ARG(flags, mode);
	return fk_open(AT_FDCWD, path, flags, mode, 1);
}

FK_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	FK_MODE_ARG(flags, mode);
	return fk_open(dirfd, path, flags, mode, 0);
}

FK_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	FK_MODE_ARG(flags, mode);
	return fk_open(dirfd, path, flags, mode, 1);
}

/* _FORTIFY_SOURCE turns some open() calls into these. */
FK_EXPORT int __open_2(const char *path, int flags)
{
	return fk_open(AT_FDCWD, path, flags, 0, 0);
}

FK_EXPORT int __open64_2(const char *path, int flags)
{
	return fk_open(AT_FDCWD, path, flags, 0, 1);
}

FK_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return fk_open(dirfd, path, flags, 0, 0);
}

FK_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return fk_open(dirfd, path, flags, 0, 1);
}

FK_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	return fk_write_fd(fd, buf, n);
}

FK_EXPORT int close(int fd)
{
	return fk_close_fd(fd);
}

FK_EXPORT int dup(int fd)
{
	int r;

	fk_init();
	r = real_dup(fd);
	if (r >= 0 && fk_active)
		fk_copy(fd, r);
	return r;
}

FK_EXPORT int dup2(int fd, int to)
{
	int r;

	fk_init();
	r = real_dup2(fd, to);
	if (r >= 0 && fd != to && fk_active)
		fk_copy(fd, r);
	return r;
}

FK_EXPORT int dup3(int fd, int to, int flags)
{
	int r;

	fk_init();
	r = real_dup3(fd, to, flags);
	if (r >= 0 && fk_active)
		fk_copy(fd, r);
	return r;
}

FK_EXPORT FILE *fopen(const char *path, const char *mode)
{
	return fk_fopen(path, mode, 0);
}

FK_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return fk_fopen(path, mode, 1);
}

FK_EXPORT FILE *fdopen(int fd, const char *mode)
{
	struct fk_fd e;

	fk_init();
	if (fk_active && fk_get(fd, &e))
		return fk_stream(fd, mode);
	return real_fdopen(fd, mode);
}

FK_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	return fk_vdprintf(fd, 0, 0, fmt, ap);
}

FK_EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fk_vdprintf(fd, 0, 0, fmt, ap);
	va_end(ap);
	return r;
}

FK_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	return fk_vdprintf(fd, 1, flag, fmt, ap);
}

FK_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fk_vdprintf(fd, 1, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* Module insertion never reaches the kernel while the shim is active. */
FK_EXPORT long init_module(const void *mem, unsigned long len, const char *args)
{
	fk_init();
	if (!fk_active)
		return real_init_module((void *)mem, len, args);
	return fk_insert(mem, len, NULL);
}

/* libkmod calls finit_module as syscall(__NR_finit_module, fd, args, flags); other system
 * calls pass through with their six argument registers. */
FK_EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	fk_init();
	if (fk_active && nr == SYS_finit_module)
		return fk_finit_module((int)a[0]);
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Is the canonical path DIR/sys or under it? */
static int fk_real_in_sys(const char *real)
{
	return !strncmp(real, fk_root, fk_rootlen) &&
	       (!strcmp(real + fk_rootlen, "/sys") || !strncmp(real + fk_rootlen, "/sys/", 5));
}

static int fk_path_in_sys(const char *path)
{
	char real[PATH_MAX];

	return fk_active && fk_fake_sysfs && path && realpath(path, real) && fk_real_in_sys(real);
}

static int fk_fd_in_sys(int fd)
{
	char proc[64], real[PATH_MAX];
	ssize_t n;

	if (!fk_active || !fk_fake_sysfs)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n < 0)
		return 0;
	real[n] = '\0';
	return fk_real_in_sys(real);
}

/* DIR/sys is sysfs to the program under test (the shim's own check uses real_statfs). */
FK_EXPORT int statfs(const char *path, struct statfs *buf)
{
	int r;

	fk_init();
	r = real_statfs(path, buf);
	if (r == 0 && fk_path_in_sys(path))
		buf->f_type = SYSFS_MAGIC;
	return r;
}

FK_EXPORT int statfs64(const char *path, struct statfs64 *buf)
{
	int r;

	fk_init();
	r = real_statfs64(path, buf);
	if (r == 0 && fk_path_in_sys(path))
		buf->f_type = SYSFS_MAGIC;
	return r;
}

FK_EXPORT int fstatfs(int fd, struct statfs *buf)
{
	int r;

	fk_init();
	r = real_fstatfs(fd, buf);
	if (r == 0 && fk_fd_in_sys(fd))
		buf->f_type = SYSFS_MAGIC;
	return r;
}

FK_EXPORT int fstatfs64(int fd, struct statfs64 *buf)
{
	int r;

	fk_init();
	r = real_fstatfs64(fd, buf);
	if (r == 0 && fk_fd_in_sys(fd))
		buf->f_type = SYSFS_MAGIC;
	return r;
}

/*
 * FAKEKERNEL_FAIL_DLOPEN=SONAME[,SONAME...]: dlopen() of that name fails as for a library that is
 * not installed (dlerror() then says so), so a test can take a library away from the program
 * under test without touching the machine. Works whether or not FAKEKERNEL_ROOT is set.
 */
static char fk_dlerror_buf[256];
static int fk_dlerror_pending;

static int fk_dlopen_refused(const char *name)
{
	const char *env = getenv("FAKEKERNEL_FAIL_DLOPEN");
	char buf[1024], *save = NULL;

	if (!env || !name)
		return 0;
	fk_copy_str(buf, sizeof(buf), env);
	for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save))
		if (!strcmp(it, name))
			return 1;
	return 0;
}

FK_EXPORT void *dlopen(const char *name, int flags)
{
	static void *(*real_dlopen)(const char *, int);

	if (fk_dlopen_refused(name)) {
		snprintf(fk_dlerror_buf, sizeof(fk_dlerror_buf),
			 "%s: cannot open shared object file: No such file or directory", name);
		fk_dlerror_pending = 1;
		return NULL;
	}
	if (!real_dlopen)
		real_dlopen = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	return real_dlopen(name, flags);
}

FK_EXPORT char *dlerror(void)
{
	static char *(*real_dlerror)(void);

	if (fk_dlerror_pending) {
		fk_dlerror_pending = 0;
		return fk_dlerror_buf;
	}
	if (!real_dlerror)
		real_dlerror = (char *(*)(void))dlsym(RTLD_NEXT, "dlerror");
	return real_dlerror();
}
