#!/bin/bash
# Tests of the fake kernel (tests/fakekernel.so) alone, on fixture trees from tests/mkfixture.py.
#
#   tests/fakekernel-selftest.sh            builds the shim into a temporary directory
#   FAKEKERNEL_SO=tests/fakekernel.so tests/fakekernel-selftest.sh    uses a built one
#
# Writes go through `fkw`, a tiny C program compiled below, because the shell's own echo and
# printf write through stdio, whose write() calls stay inside libc where no LD_PRELOAD library
# sees them.  One line per test, `ok - NAME` or `not ok - NAME`, then
# `N passed, N failed, N skipped`.
set -u

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/test-fakekernel.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
skipped=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() {
	echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	failed=$((failed + 1))
}

# ---- build ---------------------------------------------------------------------------------
so=${FAKEKERNEL_SO:-}
if [ -z "$so" ]; then
	so=$work/fakekernel.so
	cc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$so" "$here/fakekernel.c" -ldl || exit 1
fi
so=$(cd "$(dirname "$so")" && pwd)/$(basename "$so")

cat >"$work/fkw.c" <<'EOF'
/* fkw [-m MODE] FILE DATA...: write each DATA to FILE with one call; on failure print the
 * errno name on stdout, a message on stderr, and exit 1.
 * MODE: write (open O_WRONLY, write() per DATA), trunc (O_CREAT|O_TRUNC, like a shell
 * redirection), openat (openat() relative to the directory), fopen (fopen "w", fputs, fclose),
 * dprintf (open, dprintf). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, const char *file)
{
	int e = errno;
	printf("%s\n", strerrorname_np(e) ? strerrorname_np(e) : "E?");
	fprintf(stderr, "fkw: %s %s: %s\n", what, file, strerror(e));
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = "write";
	int i = 1, fd = -1;

	if (argc > 2 && !strcmp(argv[1], "-m")) {
		mode = argv[2];
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: fkw [-m MODE] FILE DATA...\n");
		return 2;
	}
	const char *file = argv[i++];
	if (!strcmp(mode, "fopen")) {
		FILE *f = fopen(file, "w");
		if (!f)
			return fail("fopen", file);
		for (; i < argc; i++)
			fputs(argv[i], f);
		return fclose(f) == 0 ? 0 : fail("fclose", file);
	}
	if (!strcmp(mode, "openat")) {
		char *d = strdup(file), *b = strdup(file);
		int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fd = dfd < 0 ? -1 : openat(dfd, basename(b), O_WRONLY | O_CLOEXEC);
	} else if (!strcmp(mode, "trunc")) {
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	} else {
		fd = open(file, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return fail("open", file);
	for (; i < argc; i++) {
		size_t len = strlen(argv[i]);
		ssize_t n = !strcmp(mode, "dprintf") ? dprintf(fd, "%s", argv[i])
						     : write(fd, argv[i], len);
		if (n != (ssize_t)len)
			return fail("write", file);
	}
	return close(fd) == 0 ? 0 : fail("close", file);
}
EOF
cc -O1 -Wall -Wextra -o "$work/fkw" "$work/fkw.c" || exit 1

cat >"$work/fkm.c" <<'EOF'
/* fkm finit|init FILE: insert a module file the way libkmod 30 does (finit_module through
 * syscall(), or init_module() of its bytes); fkm statfs|fstatfs PATH: print "sysfs" or "other".
 * On failure print the errno name on stdout and exit 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

extern long init_module(const void *mem, unsigned long len, const char *args);

static int fail(void)
{
	printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	return 1;
}

int main(int argc, char **argv)
{
	struct statfs sfs;
	struct stat st;
	int fd;

	if (argc != 3)
		return 2;
	if (!strcmp(argv[1], "statfs") || !strcmp(argv[1], "fstatfs")) {
		if (argv[1][0] == 's' ? statfs(argv[2], &sfs) :
		    ((fd = open(argv[2], O_RDONLY | O_CLOEXEC)) < 0 ? -1 : fstatfs(fd, &sfs)))
			return fail();
		puts(sfs.f_type == 0x62656572 ? "sysfs" : "other");
		return 0;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail();
	if (!strcmp(argv[1], "finit"))
		return syscall(SYS_finit_module, fd, "", 0) == 0 ? 0 : fail();
	if (fstat(fd, &st) < 0)
		return fail();
	char *mem = malloc(st.st_size);
	if (!mem || read(fd, mem, st.st_size) != st.st_size)
		return fail();
	return init_module(mem, st.st_size, "") == 0 ? 0 : fail();
}
EOF
cc -O1 -Wall -Wextra -o "$work/fkm" "$work/fkm.c" || exit 1
asan=yes
cc -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -o "$work/fkw-asan" \
	"$work/fkw.c" 2>/dev/null || asan=no

# ---- helpers -------------------------------------------------------------------------------
T=""  # the current fixture tree

fixture() { # MACHINE [mkfixture options]
	local m=$1
	shift
	T=$work/$m
	python3 "$here/mkfixture.py" "$@" "$m" "$T" >/dev/null || { echo "mkfixture $m failed"; exit 1; }
}

# fk ARGS...: run fkw under the shim on $T; prints the errno name on failure.
fk() { env LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" "$work/fkw" "$@"; }

dev() { echo "$T/sys/bus/pci/devices/$1"; }
drv_of() { # ADDR: the driver's name, or "-"
	local l
	l=$(readlink "$(dev "$1")/driver") && echo "${l##*/}" || echo -
}
claim() { # ADDR: what vfio-claim does
	local d
	d=$(drv_of "$1")
	fk "$(dev "$1")/driver_override" vfio-pci &&
		{ [ "$d" = - ] || [ "$d" = vfio-pci ] || fk "$T/sys/bus/pci/drivers/$d/unbind" "$1"; } &&
		fk "$T/sys/bus/pci/drivers_probe" "$1"
}
release() { # ADDR
	fk "$(dev "$1")/driver_override" $'\n' &&
		fk "$T/sys/bus/pci/drivers/vfio-pci/unbind" "$1" &&
		fk "$T/sys/bus/pci/drivers_probe" "$1"
}

# check_tree: every driver link has its back link and vice versa, uevent agrees, /dev/vfio/N
# exists exactly for groups with a member on vfio-pci, no temporary files are left.
check_tree() {
	local errs=() d a drv back g want l
	for d in "$T"/sys/bus/pci/devices/*; do
		a=${d##*/}
		drv=$(drv_of "$a")
		if [ "$drv" != - ]; then
			[ -d "$T/sys/bus/pci/drivers/$drv" ] || errs+=("$a: driver $drv has no directory")
			back=$(readlink -f "$T/sys/bus/pci/drivers/$drv/$a" 2>/dev/null)
			[ "$back" = "$(readlink -f "$d")" ] || errs+=("$a: no back link from $drv")
			grep -qx "DRIVER=$drv" "$d/uevent" || errs+=("$a: uevent does not say $drv")
		else
			! grep -q '^DRIVER=' "$d/uevent" || errs+=("$a: unbound but uevent has DRIVER=")
		fi
	done
	for l in "$T"/sys/bus/pci/drivers/*/????:??:??.?; do
		[ -L "$l" ] || continue
		drv=${l%/*}
		drv=${drv##*/}
		[ "$(drv_of "${l##*/}")" = "$drv" ] || errs+=("$l: stale link")
	done
	if [ -d "$T/sys/kernel/iommu_groups" ]; then
		for g in "$T"/sys/kernel/iommu_groups/*; do
			want=no
			for d in "$g"/devices/*; do
				[ "$(drv_of "${d##*/}")" = vfio-pci ] && want=yes
			done
			if [ -e "$T/dev/vfio/${g##*/}" ]; then
				[ $want = yes ] || errs+=("dev/vfio/${g##*/} without a vfio-pci member")
			else
				[ $want = no ] || errs+=("dev/vfio/${g##*/} missing")
			fi
		done
	fi
	if compgen -G "$T/.fakekernel/tmp.*" >/dev/null; then
		errs+=("temporary files left in .fakekernel")
	fi
	[ ${#errs[@]} -eq 0 ] && return 0
	printf '%s\n' "${errs[@]}"
	return 1
}

# expect NAME CONDITION-DESCRIPTION...: helpers collect failures in $why
why=()
want() { # DESCRIPTION COMMAND...: record DESCRIPTION unless COMMAND succeeds
	local d=$1
	shift
	"$@" || why+=("$d")
}
report() { # NAME
	if [ ${#why[@]} -eq 0 ]; then ok "$1"; else not_ok "$1" "${why[@]}"; fi
	why=()
}
eq() { [ "$1" = "$2" ]; }
contains() { [[ $1 == *"$2"* ]]; }
empty_dir() { [ -z "$(ls -A "$1")" ]; }
silent() { ! cat "$@" | grep -q .; }
release_unbound() { # ADDR: release a device that vfio-pci never took
	fk "$(dev "$1")/driver_override" $'\n' && fk "$T/sys/bus/pci/drivers_probe" "$1"
}
refuses_real_root() {
	env LD_PRELOAD="$so" FAKEKERNEL_ROOT=/ "$work/fkw" "$work/saved" x 2>&1 | grep -q "real system"
}

# ---- fixtures look right -------------------------------------------------------------------
for m in desktop server chipset noiommu cloud; do
	fixture $m
	want "depmod indexes" test -s "$T/lib/modules/6.1.0-fixture/modules.alias.bin"
	want "vfio_pci alias" grep -qx 'alias vfio_pci:v\*d\*sv\*sd\*bc\*sc\*i\* vfio_pci' \
		"$T/lib/modules/6.1.0-fixture/modules.alias"
	want "consistent tree" check_tree
	# every bound device's driver matches it through modules.alias (what a probe would pick)
	for d in "$T"/sys/bus/pci/devices/*; do
		drv=$(drv_of "${d##*/}")
		[ "$drv" = - ] && continue
		mod=$(readlink "$T/sys/bus/pci/drivers/$drv/module")
		ma=$(cat "$d/modalias")
		hit=no
		while read -r _ pat modname; do
			# shellcheck disable=SC2053  # the alias is a glob pattern
			[ "$modname" = "${mod##*/}" ] && [[ $ma == $pat ]] && hit=yes
		done <"$T/lib/modules/6.1.0-fixture/modules.alias"
		want "${d##*/}: $drv has no matching alias" eq $hit yes
	done
	report "fixture $m"
done

# ---- claim and release ---------------------------------------------------------------------
fixture desktop
gpu=0000:01:00.0
want "claim writes succeed" claim $gpu
want "driver is vfio-pci" eq "$(drv_of $gpu)" vfio-pci
want "kernel-style link" eq "$(readlink "$(dev $gpu)/driver")" ../../../../bus/pci/drivers/vfio-pci
want "back link" test "$(readlink -f "$T/sys/bus/pci/drivers/vfio-pci/$gpu")" = \
	"$(readlink -f "$(dev $gpu)")"
want "nouveau link gone" test ! -e "$T/sys/bus/pci/drivers/nouveau/$gpu"
want "override stored" eq "$(cat "$(dev $gpu)/driver_override")" vfio-pci
want "uevent" grep -qx DRIVER=vfio-pci "$(dev $gpu)/uevent"
want "dev/vfio/1" test -f "$T/dev/vfio/1"
want "consistent" check_tree
report "override + unbind + drivers_probe puts the device on vfio-pci"

want "release writes succeed" release $gpu
want "back on nouveau" eq "$(drv_of $gpu)" nouveau
want "override cleared" eq "$(cat "$(dev $gpu)/driver_override")" "(null)"
want "dev/vfio/1 gone" test ! -e "$T/dev/vfio/1"
want "consistent" check_tree
report "clearing the override + unbind + drivers_probe gives it back to its host module"

claim $gpu && claim 0000:01:00.1 && release $gpu
want "dev/vfio/1 kept while 01:00.1 is on vfio-pci" test -f "$T/dev/vfio/1"
release 0000:01:00.1
want "dev/vfio/1 gone after the last member" test ! -e "$T/dev/vfio/1"
want "audio back on snd_hda_intel" eq "$(drv_of 0000:01:00.1)" snd_hda_intel
report "dev/vfio/N lives while any group member is on vfio-pci"

# ---- errors as the kernel gives them ---------------------------------------------------------
nic=0000:00:1f.6
want "unbind from the wrong driver: ENODEV" eq "$(fk "$T/sys/bus/pci/drivers/nouveau/unbind" $nic 2>/dev/null)" ENODEV
want "unbind of an unknown device: ENODEV" eq "$(fk "$T/sys/bus/pci/drivers/e1000e/unbind" 0000:09:00.0 2>/dev/null)" ENODEV
want "short address: ENODEV" eq "$(fk "$T/sys/bus/pci/drivers/e1000e/unbind" 00:1f.6 2>/dev/null)" ENODEV
want "bind of a bound device: EBUSY" eq "$(fk "$T/sys/bus/pci/drivers/e1000e/bind" $nic 2>/dev/null)" EBUSY
want "bind to a driver that does not match: ENODEV" eq "$(fk "$T/sys/bus/pci/drivers/nouveau/bind" $nic 2>/dev/null)" ENODEV
want "bind to vfio-pci without override: ENODEV" eq "$(fk "$T/sys/bus/pci/drivers/vfio-pci/bind" $nic 2>/dev/null)" ENODEV
want "bind to a missing driver: ENOENT at open" eq "$(fk "$T/sys/bus/pci/drivers/foo/bind" $nic 2>/dev/null)" ENOENT
want "still on e1000e" eq "$(drv_of $nic)" e1000e
fk "$T/sys/bus/pci/drivers/e1000e/unbind" "$nic"$'\n' >/dev/null
want "unbind with a trailing newline" eq "$(drv_of $nic)" -
want "bind back" fk "$T/sys/bus/pci/drivers/e1000e/bind" $nic
want "bound again" eq "$(drv_of $nic)" e1000e
want "driver_override is not truncated or created" eq "$(fk -m trunc "$(dev $nic)/driver_override" abc 2>&1; cat "$(dev $nic)/driver_override")" abc
fk "$(dev $nic)/driver_override" "" >/dev/null
want "empty write is a no-op" eq "$(cat "$(dev $nic)/driver_override")" abc
fk "$(dev $nic)/driver_override" $'\n' >/dev/null
want "newline clears" eq "$(cat "$(dev $nic)/driver_override")" "(null)"
want "new file under sys: EACCES" eq "$(fk -m trunc "$(dev $nic)/driver_overridx" x 2>/dev/null)" EACCES
want "and not created" test ! -e "$(dev $nic)/driver_overridx"
want "consistent" check_tree
report "errors: ENODEV, EBUSY, ENOENT like the kernel"

printf 'EBUSY\n' >"$T/.fakekernel/$nic.fail-unbind"
want "requested EBUSY" eq "$(fk "$T/sys/bus/pci/drivers/e1000e/unbind" $nic 2>/dev/null)" EBUSY
want "still bound" eq "$(drv_of $nic)" e1000e
rm "$T/.fakekernel/$nic.fail-unbind"
want "unbind works again" fk "$T/sys/bus/pci/drivers/e1000e/unbind" $nic
printf 'ENODEV\n' >"$T/.fakekernel/$nic.fail-probe"
want "requested probe failure" eq "$(fk "$T/sys/bus/pci/drivers_probe" $nic 2>/dev/null)" ENODEV
want "unbound" eq "$(drv_of $nic)" -
rm "$T/.fakekernel/$nic.fail-probe"
printf 'EINVAL\n' >"$T/.fakekernel/$nic.fail-override"
want "requested override failure" eq "$(fk "$(dev $nic)/driver_override" vfio-pci 2>/dev/null)" EINVAL
rm "$T/.fakekernel/$nic.fail-override"
want "probe back to e1000e" fk "$T/sys/bus/pci/drivers_probe" $nic
want "on e1000e" eq "$(drv_of $nic)" e1000e
report "an EBUSY request file makes the unbind write fail (and other requests)"

# ---- the ways a program writes -------------------------------------------------------------
usb=0000:02:00.0
for m in openat fopen dprintf; do
	want "$m: override" fk -m $m "$(dev $usb)/driver_override" vfio-pci
	want "$m: unbind" fk -m $m "$T/sys/bus/pci/drivers/xhci_hcd/unbind" $usb
	want "$m: probe" fk -m $m "$T/sys/bus/pci/drivers_probe" $usb
	want "$m: on vfio-pci" eq "$(drv_of $usb)" vfio-pci
	want "$m: error reaches the caller" eq "$(fk -m $m "$T/sys/bus/pci/drivers/vfio-pci/unbind" 0000:00:14.0 2>/dev/null)" ENODEV
	release $usb
	want "$m: released" eq "$(drv_of $usb)" xhci_hcd
done
# dd writes with write() after dup2() of its output, so a shell can drive the shim through it.
printf vfio-pci | env LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" dd of="$(dev $usb)/driver_override" status=none 2>/dev/null
want "dd: override" eq "$(cat "$(dev $usb)/driver_override")" vfio-pci
out=$(printf %s $usb | env LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" dd of="$T/sys/bus/pci/drivers/e1000e/unbind" status=none 2>&1)
want "dd: error reported" contains "$out" "No such device"
fk "$(dev $usb)/driver_override" $'\n' >/dev/null
want "consistent" check_tree
report "openat, fopen, dprintf and dd (dup2) go through the shim"

# Without FAKEKERNEL_ROOT the shim is transparent.
cp "$(dev $nic)/driver_override" "$work/saved"
env LD_PRELOAD="$so" "$work/fkw" "$(dev $nic)/driver_override" plain
want "plain write without FAKEKERNEL_ROOT" eq "$(cat "$(dev $nic)/driver_override")" "plain)"
cp "$work/saved" "$(dev $nic)/driver_override"
want "FAKEKERNEL_ROOT=/ is refused" refuses_real_root
report "transparent without a fixture root"

# ---- no IOMMU, no vfio ---------------------------------------------------------------------
fixture noiommu
nic=0000:00:1f.6
want "override" fk "$(dev $nic)/driver_override" vfio-pci
want "unbind" fk "$T/sys/bus/pci/drivers/e1000e/unbind" $nic
want "bind to vfio-pci: EINVAL" eq "$(fk "$T/sys/bus/pci/drivers/vfio-pci/bind" $nic 2>/dev/null)" EINVAL
want "drivers_probe succeeds (the probe error is only logged)" fk "$T/sys/bus/pci/drivers_probe" $nic
want "left unbound" eq "$(drv_of $nic)" -
want "no dev/vfio node" empty_dir "$T/dev/vfio"
want "release" release_unbound $nic
want "back on e1000e" eq "$(drv_of $nic)" e1000e
want "consistent" check_tree
report "vfio-pci bind without an IOMMU group fails (noiommu)"

fixture desktop --no-vfio
want "no vfio-pci driver" test ! -e "$T/sys/bus/pci/drivers/vfio-pci"
want "vfio modules not live" test ! -e "$T/sys/module/vfio_pci/initstate"
want "vfio modules on disk" grep -q vfio-pci.ko "$T/lib/modules/6.1.0-fixture/modules.dep"
nic=0000:00:1f.6
want "claim writes succeed" claim $nic
want "left unbound (vfio-pci not loaded)" eq "$(drv_of $nic)" -
want "release" release_unbound $nic
want "back on e1000e" eq "$(drv_of $nic)" e1000e
report "--no-vfio: an override to an unloaded driver leaves the device unbound"

# ---- modules -------------------------------------------------------------------------------
fkm() { env LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" "$work/fkm" "$@"; }
ko=lib/modules/6.1.0-fixture/kernel/drivers/vfio
fixture desktop --no-vfio
want "statfs of DIR/sys says sysfs" eq "$(fkm statfs "$T/sys")" sysfs
want "statfs under DIR/sys says sysfs" eq "$(fkm statfs "$T/sys/bus/pci")" sysfs
want "fstatfs under DIR/sys says sysfs" eq "$(fkm fstatfs "$T/sys/bus/pci/drivers_probe")" sysfs
want "statfs of DIR is left alone" eq "$(fkm statfs "$T")" other
want "FAKEKERNEL_NOT_SYSFS=1 turns it off" eq "$(FAKEKERNEL_NOT_SYSFS=1 fkm statfs "$T/sys")" other
want "without FAKEKERNEL_ROOT statfs is real" eq "$("$work/fkm" statfs "$T/sys")" other
report "statfs()/fstatfs() of DIR/sys report SYSFS_MAGIC"

want "finit_module of vfio.ko" fkm finit "$T/$ko/vfio.ko"
want "vfio live" eq "$(cat "$T/sys/module/vfio/initstate")" live
want "vfio is no PCI driver" test ! -e "$T/sys/bus/pci/drivers/vfio"
want "init_module of vfio-pci-core.ko" fkm init "$T/$ko/pci/vfio-pci-core.ko"
want "finit_module of vfio-pci.ko" fkm finit "$T/$ko/pci/vfio-pci.ko"
want "vfio_pci live" eq "$(cat "$T/sys/module/vfio_pci/initstate")" live
want "proc/modules lists it" grep -q '^vfio_pci ' "$T/proc/modules"
want "vfio-pci driver directory" test -f "$T/sys/bus/pci/drivers/vfio-pci/bind"
want "its module link" eq "$(readlink -f "$T/sys/bus/pci/drivers/vfio-pci/module")" "$T/sys/module/vfio_pci"
want "a second insert: EEXIST" eq "$(fkm finit "$T/$ko/pci/vfio-pci.ko")" EEXIST
nic=0000:00:1f.6
want "claim writes succeed" claim $nic
want "drivers_probe binds to the inserted vfio-pci" eq "$(drv_of $nic)" vfio-pci
want "consistent" check_tree
report "init_module/finit_module mark the module live and make its PCI driver"

fixture desktop --no-vfio
want "FAKEKERNEL_FAIL_INSERT=vfio-pci:ENOEXEC" \
	eq "$(FAKEKERNEL_FAIL_INSERT=vfio-pci:ENOEXEC fkm finit "$T/$ko/pci/vfio-pci.ko")" ENOEXEC
want "not live" test ! -e "$T/sys/module/vfio_pci"
want "no driver directory" test ! -e "$T/sys/bus/pci/drivers/vfio-pci"
want "another module of the list: EPERM" \
	eq "$(FAKEKERNEL_FAIL_INSERT=vfio_pci:ENOEXEC,vfio:EPERM fkm init "$T/$ko/vfio.ko")" EPERM
want "other modules still insert" env FAKEKERNEL_FAIL_INSERT=vfio_pci:ENOEXEC \
	LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" "$work/fkm" finit "$T/$ko/vfio_iommu_type1.ko"
want "vfio_iommu_type1 live" eq "$(cat "$T/sys/module/vfio_iommu_type1/initstate")" live
report "FAKEKERNEL_FAIL_INSERT=NAME:ERRNO makes that insert fail"

# ---- SR-IOV --------------------------------------------------------------------------------
fixture cloud
pf=0000:18:00.0
want "fixture: no VFs yet" eq "$(cat "$(dev $pf)/sriov_numvfs")" 0
want "more than sriov_totalvfs: ERANGE" eq "$(fk "$(dev $pf)/sriov_numvfs" 5 2>/dev/null)" ERANGE
want "write 2 to sriov_numvfs" fk "$(dev $pf)/sriov_numvfs" 2
want "numvfs reads 2" eq "$(cat "$(dev $pf)/sriov_numvfs")" 2
want "VF 0 at offset 8" test -d "$(dev 0000:18:01.0)"
want "VF 1 at stride 1" test -d "$(dev 0000:18:01.1)"
want "no third VF" test ! -e "$(dev 0000:18:01.2)"
want "VF device id from sriov_vf_device" eq "$(cat "$(dev 0000:18:01.0)/device")" 0x1889
want "PF's vendor" eq "$(cat "$(dev 0000:18:01.0)/vendor")" 0x8086
want "physfn link" eq "$(readlink -f "$(dev 0000:18:01.1)/physfn")" "$(readlink -f "$(dev $pf)")"
want "virtfn1 link" eq "$(readlink -f "$(dev $pf)/virtfn1")" "$(readlink -f "$(dev 0000:18:01.1)")"
want "a group of its own" test -L "$(dev 0000:18:01.0)/iommu_group"
want "modalias" eq "$(cat "$(dev 0000:18:01.0)/modalias")" \
	pci:v00008086d00001889sv00008086sd00000002bc02sc00i00
want "autoprobe 1: VF 0 on iavf at once" eq "$(drv_of 0000:18:01.0)" iavf
want "autoprobe 1: VF 1 on iavf at once" eq "$(drv_of 0000:18:01.1)" iavf
want "binds logged" grep -qx "0000:18:01.0 iavf" "$T/.fakekernel/binds.log"
want "a second non-zero count: EBUSY" eq "$(fk "$(dev $pf)/sriov_numvfs" 3 2>/dev/null)" EBUSY
want "consistent" check_tree
want "write 0 removes them" fk "$(dev $pf)/sriov_numvfs" 0
want "VF 0 gone" test ! -e "$(dev 0000:18:01.0)"
want "virtfn0 gone" test ! -e "$(dev $pf)/virtfn0"
want "iavf link gone" test ! -e "$T/sys/bus/pci/drivers/iavf/0000:18:01.0"
want "consistent after removal" check_tree
report "sriov_numvfs creates VFs (probed while sriov_drivers_autoprobe is 1) and removes them"

fixture cloud
printf '0\n' >"$(dev $pf)/sriov_drivers_autoprobe"
want "create 2 VFs" fk "$(dev $pf)/sriov_numvfs" 2
want "autoprobe 0: VF 0 unbound" eq "$(drv_of 0000:18:01.0)" -
want "nothing bound" test ! -e "$T/.fakekernel/binds.log"
want "drivers_probe without an override succeeds" fk "$T/sys/bus/pci/drivers_probe" 0000:18:01.0
want "but binds nothing (pci_device_can_probe)" eq "$(drv_of 0000:18:01.0)" -
want "bind without an override: ENODEV" \
	eq "$(fk "$T/sys/bus/pci/drivers/iavf/bind" 0000:18:01.0 2>/dev/null)" ENODEV
want "override iavf" fk "$(dev 0000:18:01.0)/driver_override" iavf
want "drivers_probe with the override" fk "$T/sys/bus/pci/drivers_probe" 0000:18:01.0
want "VF 0 on iavf" eq "$(drv_of 0000:18:01.0)" iavf
want "override vfio-pci for VF 1" fk "$(dev 0000:18:01.1)/driver_override" vfio-pci
want "drivers_probe VF 1" fk "$T/sys/bus/pci/drivers_probe" 0000:18:01.1
want "VF 1 on vfio-pci" eq "$(drv_of 0000:18:01.1)" vfio-pci
want "VF 1 never met iavf" bash -c "! grep -q '^0000:18:01.1 iavf' '$T/.fakekernel/binds.log'"
want "consistent" check_tree
report "sriov_drivers_autoprobe 0: a new VF is probed only through its driver_override"

# ---- VFIO variant drivers ------------------------------------------------------------------
fixture cloud
vf=0000:17:00.2
vko=lib/modules/6.1.0-fixture/kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko
want "variant not loaded yet" test ! -e "$T/sys/module/mlx5_vfio_pci"
want "insert mlx5_vfio_pci" fkm finit "$T/$vko"
want "its driver directory" test -f "$T/sys/bus/pci/drivers/mlx5_vfio_pci/bind"
want "vfio_pci_core holds it (depends=)" test -L "$T/sys/module/vfio_pci_core/holders/mlx5_vfio_pci"
want "vfio holds it" test -L "$T/sys/module/vfio/holders/mlx5_vfio_pci"
want "no match without an override" eq "$(fk "$T/sys/bus/pci/drivers/mlx5_core/unbind" $vf &&
	fk "$T/sys/bus/pci/drivers/mlx5_vfio_pci/bind" $vf 2>/dev/null)" ENODEV
want "override mlx5_vfio_pci" fk "$(dev $vf)/driver_override" mlx5_vfio_pci
want "probe" fk "$T/sys/bus/pci/drivers_probe" $vf
want "on mlx5_vfio_pci" eq "$(drv_of $vf)" mlx5_vfio_pci
want "its group's /dev/vfio node" test -e "$T/dev/vfio/10"
want "unbind" fk "$T/sys/bus/pci/drivers/mlx5_vfio_pci/unbind" $vf
want "/dev/vfio/10 gone" test ! -e "$T/dev/vfio/10"
report "a VFIO variant driver (holds vfio_pci_core) binds through driver_override and makes /dev/vfio/N"

# ---- sanitizers ----------------------------------------------------------------------------
if [ $asan = yes ]; then
	fixture desktop
	nic=0000:00:1f.6
	libasan=$(cc -print-file-name=libasan.so)
	out=$(env LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" "$work/fkw-asan" "$(dev $nic)/driver_override" vfio-pci 2>&1)
	want "plain preload is refused by ASan (documented)" contains "$out" "ASan runtime does not come first"
	want "ASAN_OPTIONS=verify_asan_link_order=0: override" env ASAN_OPTIONS=verify_asan_link_order=0 \
		LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" "$work/fkw-asan" "$(dev $nic)/driver_override" vfio-pci
	want "ASAN_OPTIONS=verify_asan_link_order=0: unbind" env ASAN_OPTIONS=verify_asan_link_order=0 \
		LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" "$work/fkw-asan" "$T/sys/bus/pci/drivers/e1000e/unbind" $nic
	want "LD_PRELOAD=libasan.so:fakekernel.so" env LD_PRELOAD="$libasan:$so" FAKEKERNEL_ROOT="$T" \
		"$work/fkw-asan" "$T/sys/bus/pci/drivers_probe" $nic
	want "on vfio-pci" eq "$(drv_of $nic)" vfio-pci
	out=$(env ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$so" FAKEKERNEL_ROOT="$T" \
		"$work/fkw-asan" -m fopen "$T/sys/bus/pci/drivers/e1000e/unbind" $nic 2>/dev/null)
	want "errors reach an ASan program" eq "$out" ENODEV
	want "consistent" check_tree
	report "works under -fsanitize=address,undefined"
else
	echo "ok - works under -fsanitize=address,undefined # SKIP no libasan"
	skipped=$((skipped + 1))
fi

# ---- concurrency ---------------------------------------------------------------------------
fixture desktop
devs=(0000:01:00.0 0000:01:00.1 0000:00:1f.6 0000:02:00.0 0000:00:14.0)
declare -A host
for a in "${devs[@]}"; do host[$a]=$(drv_of "$a"); done
worker() { # N: claim and release the devices, racing with the other workers
	local i a l
	for i in 1 2 3 4 5 6; do
		a=${devs[$(((i + $1) % ${#devs[@]}))]}
		claim "$a" >/dev/null 2>&1
		l=$(readlink "$(dev "$a")/driver") && [ ! -d "$T/sys/bus/pci/drivers/${l##*/}" ] &&
			echo "$a: driver link to '$l'"
		release "$a" >/dev/null 2>&1
	done
}
pids=()
for w in $(seq 1 16); do
	worker "$w" >"$work/worker.$w" &
	pids+=($!)
done
wait "${pids[@]}"
want "no dangling link seen" silent "$work"/worker.*
want "consistent after the race" check_tree
for a in "${devs[@]}"; do # settle: every device back to its host driver
	fk "$(dev "$a")/driver_override" $'\n' >/dev/null
	[ "$(drv_of "$a")" = vfio-pci ] && fk "$T/sys/bus/pci/drivers/vfio-pci/unbind" "$a" >/dev/null
	fk "$T/sys/bus/pci/drivers_probe" "$a" >/dev/null
	want "$a back on ${host[$a]}" eq "$(drv_of "$a")" "${host[$a]}"
done
want "consistent after settling" check_tree
want "no dev/vfio nodes left" empty_dir "$T/dev/vfio"
report "16 concurrent bind/unbind cycles leave a consistent tree"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
