# vfio-claim: plain Makefile (honours CFLAGS, LDFLAGS, CPPFLAGS, PREFIX, DESTDIR)
VERSION    := 0.1.0
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
PKG_CONFIG ?= pkg-config

CC        ?= cc
# -Os: a run is bound by its system calls (sysfs reads, binds), not by its own code; -Os makes the
# text 16% smaller for about 1% more instructions per run (check, boot, udev; callgrind).
CFLAGS    ?= -Os -g
WARNFLAGS := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
             -Wno-unused-parameter -Werror=implicit-function-declaration
PKGS      := libkmod libudev blkid smartcols
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
# libkmod, libudev and libsmartcols are opened with dlopen() at their first use (src/sys/dlopen.c,
# .note.dlopen): their headers only; libblkid (the protected set of nearly every run) is linked. -ldl where dlopen() is not in the C library itself (glibc before 2.34).
LIBDL      := $(shell printf '\043include <dlfcn.h>\nint main(void){return !dlopen;}\n' | \
                $(CC) -x c -o /dev/null - 2>/dev/null || echo -ldl)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(filter-out libkmod libudev smartcols,$(PKGS))) $(LIBDL)
# libxml2 is opened with dlopen() too (src/sys/domxml.c): its headers only, never linked.
PKG_CFLAGS += $(shell $(PKG_CONFIG) --cflags libxml-2.0)

# Folders by layer (docs/design.md, "Source layout"): src/cmd (the commands), src/core (the pure
# decisions), src/sys (the system side).
LAYERS := cmd core sys
SRCS := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
OBJS := $(SRCS:.c=.o)
HDRS := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.h))
INCLUDES := $(foreach l,$(LAYERS),-Isrc/$(l))
# Everything but main(): what the C unit tests in tests/unit/ link against.
LIB_SRCS := $(filter-out src/cmd/main.c,$(SRCS))
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:.c=)

all: vfio-claim

vfio-claim: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

src/%.o: src/%.c $(HDRS)
	$(CC) $(CPPFLAGS) $(INCLUDES) -DVERSION='"$(VERSION)"' -D_GNU_SOURCE -std=gnu11 $(WARNFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

# C unit tests: pure code (parsers, decisions, writers) on data built in memory, with sanitizers.
tests/unit/test-%: tests/unit/test-%.c tests/unit/unit.h $(LIB_SRCS) $(HDRS)
	$(CC) -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -std=gnu11 $(WARNFLAGS) -Wno-missing-prototypes \
		$(INCLUDES) $(PKG_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined -o $@ $< $(LIB_SRCS) $(PKG_LIBS)

tests/fakekernel.so: tests/fakekernel.c
	$(CC) -shared -fPIC -O2 -Wall -Wextra -o $@ $< -ldl

# The sanitizer build lives in its own folder so it never mixes objects with the normal one.
build-asan/vfio-claim: $(SRCS) $(HDRS)
	mkdir -p build-asan
	$(CC) -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -std=gnu11 $(WARNFLAGS) $(INCLUDES) $(PKG_CFLAGS) \
		-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
		-o $@ $(SRCS) $(PKG_LIBS)

# libFuzzer targets, one per parser (tests/fuzz/), built with clang in their own folder.
# `make fuzz FUZZ_SECONDS=N` runs each for N seconds; check-unit runs each for 30 s on its corpus.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))

build-fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(LIB_SRCS) $(HDRS)
	mkdir -p build-fuzz
	$(FUZZ_CC) -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -DFUZZING -std=gnu11 $(WARNFLAGS) \
		-Wno-missing-prototypes -Wno-format-nonliteral $(INCLUDES) $(PKG_CFLAGS) -O1 -g \
		-fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ $< $(LIB_SRCS) $(PKG_LIBS)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# `make check` and `make demo` first install what they need (as root, on Debian 13 or 12).
# The Debian 13 guests boot the package that check-trixie built with Debian 13's own tools.
TRIXIE_DEB = $${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}/debs-out/trixie/vfio-claim_$(VERSION)_$$(dpkg --print-architecture).deb
check:
	tests/deps.sh check
	$(MAKE) check-unit check-trixie
	$(MAKE) check-vm VM_DEB_trixie="$(TRIXIE_DEB)"

check-unit: vfio-claim tests/fakekernel.so build-asan/vfio-claim $(UNIT_BINS) $(FUZZ_BINS)
	tests/run-unit.sh $(UNIT_BINS)
	tests/fuzz/run.sh --check 30 $(FUZZ_BINS)
	FAKEKERNEL_SO=tests/fakekernel.so tests/fakekernel-selftest.sh
	tests/run-tests.sh ./vfio-claim
	VFIO_CLAIM_SANITIZED=1 tests/run-tests.sh build-asan/vfio-claim
	clang-format --dry-run -Werror src/*/*.c src/*/*.h tests/*.c tests/unit/*.c tests/unit/*.h \
		tests/fuzz/*.c tests/fuzz/*.h
	shellcheck -x tests/*.sh tests/vm/*.sh tests/fuzz/*.sh tests/chroot/*.sh
	shellcheck -s bash completion/vfio-claim

# The build, unit, fixture and packaging tests in a fresh Debian 13 (trixie) chroot, with its own
# compiler, kmod, debhelper and lintian; leaves its package in CACHE/debs-out/trixie/.
check-trixie:
	tests/chroot/trixie-test.sh

# Boots of Debian's kernels under QEMU with the package installed (tests/vm/). VM_RELEASES: the
# guests' Debian releases; the first gets every boot test and the SR-IOV test, the others the quick
# set (the claim boot of each generator) unless VM_FULL=1. VM_DEB_<release>=FILE: the package for
# that release's guests (default: built from this tree on this host).
VM_RELEASES ?= trixie bookworm
VM_FULL ?=
vm_full = $(or $(filter 1 yes,$(VM_FULL)),$(filter $(1),$(firstword $(VM_RELEASES))))
vm_deb = $(if $(VM_DEB_$(1)),--deb $(VM_DEB_$(1)))
check-vm:
	$(foreach r,$(VM_RELEASES),tests/vm/boot-tests.sh --release $(r) $(call vm_deb,$(r)) \
		$(if $(call vm_full,$(r)),,--quick) && \
		$(if $(call vm_full,$(r)),tests/vm/sriov-test.sh --release $(r) $(call vm_deb,$(r)) &&)) true
	tests/vm/gpu-test.sh
	tests/vm/libvirt-test.sh

# Not part of check: SOAK_BOOTS boots (default 20) of each generator on SOAK_RELEASE (Debian 13),
# the guest's PCI devices placed anew each time.
SOAK_BOOTS ?= 20
SOAK_RELEASE ?= trixie
soak:
	tests/vm/soak.sh --release $(SOAK_RELEASE) --boots $(SOAK_BOOTS) $(call vm_deb,$(SOAK_RELEASE))

# The README's main command.
demo:
	tests/deps.sh demo
	tests/vm/demo.sh

bench: vfio-claim tests/fakekernel.so
	tests/bench.sh ./vfio-claim

format:
	clang-format -i src/*/*.c src/*/*.h tests/*.c tests/unit/*.c tests/unit/*.h tests/fuzz/*.c \
		tests/fuzz/*.h

clean:
	rm -f vfio-claim src/*/*.o tests/fakekernel.so $(UNIT_BINS)
	rm -rf build-asan build-fuzz tests/out

# install: the program and everything that puts it into a Debian system and its boot.
# The boot integrations sit where initramfs-tools, dracut and udev look for them, whatever PREFIX
# says; the rule and hooks name the program as $(SBINDIR)/vfio-claim. The initramfs-tools boot
# script is installed as init-top/00-vfio-claim so that ORDER runs it before "udev" (see
# initramfs-hook/init-top). udev rules go to udevdir of udev.pc: /lib/udev on Debian 12 (which
# asks packages not to move files between /lib and /usr/lib yet), /usr/lib/udev on Debian 13
# (merged /usr; udev.pc is in systemd-dev there); override with UDEVDIR=.
# The example configuration goes to /etc/vfio-claim.d as a conffile: it is fully commented, so it
# claims nothing, and it sits where a user looks for the configuration and starts editing, like
# the commented files in /etc/modprobe.d. /usr/lib/vfio-claim.d is for other packages' defaults.
SYSCONFDIR    ?= /etc
UDEVDIR       ?= $(or $(shell $(PKG_CONFIG) --variable=udevdir udev 2>/dev/null),/lib/udev)
INITRAMFSDIR  ?= /usr/share/initramfs-tools
DRACUTDIR     ?= /usr/lib/dracut/modules.d
VENDORCONFDIR := /usr/lib/vfio-claim.d
# bash completion: where bash-completion looks (its pkg-config file), else Debian's folder
BASHCOMPDIR   ?= $(or $(shell $(PKG_CONFIG) --variable=completionsdir bash-completion 2>/dev/null),/usr/share/bash-completion/completions)
# libvirt runs every executable in /etc/libvirt/hooks/qemu.d as "PATH GUEST OP SUBOP EXTRA"
# (virhook.c; libvirt 6.5 and later): a link to the program, which acts as the hook when its
# argv[0] lies in a folder named qemu.d. Absolute, as Debian wants links between top-level folders.
LIBVIRTHOOKDIR ?= $(SYSCONFDIR)/libvirt/hooks/qemu.d
SUBST_SBIN    := sed -e 's|/usr/sbin/vfio-claim|$(SBINDIR)/vfio-claim|g'

install: vfio-claim
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UDEVDIR)/rules.d \
		$(DESTDIR)$(INITRAMFSDIR)/hooks $(DESTDIR)$(INITRAMFSDIR)/scripts/init-top \
		$(DESTDIR)$(DRACUTDIR)/90vfio-claim \
		$(DESTDIR)$(SYSCONFDIR)/vfio-claim.d $(DESTDIR)$(VENDORCONFDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 vfio-claim $(DESTDIR)$(SBINDIR)/vfio-claim
	$(SUBST_SBIN) udev/70-vfio-claim.rules > $(DESTDIR)$(UDEVDIR)/rules.d/70-vfio-claim.rules
	chmod 0644 $(DESTDIR)$(UDEVDIR)/rules.d/70-vfio-claim.rules
	$(SUBST_SBIN) initramfs-hook/hook > $(DESTDIR)$(INITRAMFSDIR)/hooks/vfio-claim
	$(SUBST_SBIN) initramfs-hook/init-top > $(DESTDIR)$(INITRAMFSDIR)/scripts/init-top/00-vfio-claim
	$(SUBST_SBIN) dracut/90vfio-claim/module-setup.sh > $(DESTDIR)$(DRACUTDIR)/90vfio-claim/module-setup.sh
	$(SUBST_SBIN) dracut/90vfio-claim/vfio-claim-boot.sh > $(DESTDIR)$(DRACUTDIR)/90vfio-claim/vfio-claim-boot.sh
	chmod 0755 $(DESTDIR)$(INITRAMFSDIR)/hooks/vfio-claim \
		$(DESTDIR)$(INITRAMFSDIR)/scripts/init-top/00-vfio-claim \
		$(DESTDIR)$(DRACUTDIR)/90vfio-claim/module-setup.sh \
		$(DESTDIR)$(DRACUTDIR)/90vfio-claim/vfio-claim-boot.sh
	install -m 0644 conf.d/*.conf $(DESTDIR)$(SYSCONFDIR)/vfio-claim.d/
	install -m 0644 docs/vfio-claim.8 $(DESTDIR)$(MANDIR)/man8/vfio-claim.8
	install -m 0644 docs/vfio-claim.conf.5 $(DESTDIR)$(MANDIR)/man5/vfio-claim.conf.5
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 completion/vfio-claim $(DESTDIR)$(BASHCOMPDIR)/vfio-claim
	install -d $(DESTDIR)$(LIBVIRTHOOKDIR)
	ln -sfn $(SBINDIR)/vfio-claim $(DESTDIR)$(LIBVIRTHOOKDIR)/vfio-claim

.PHONY: all check check-unit check-trixie check-vm soak demo bench format clean install fuzz
