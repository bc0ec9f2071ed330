#!/bin/sh
# Packaging checks: builds the Debian package from a copy of the work tree (the repository stays
# clean), then checks what a user installs: the files the contract requires, the update-initramfs
# trigger, the conffile, the initramfs-tools ORDER, the hooks' use of "vfio-claim image-config",
# the shell scripts, the man pages, and lintian. Assumes the build dependencies of debian/control are installed; the checks that
# need initramfs-tools, lintian, shellcheck or man-db are skipped when it is missing.
#
# usage: tests/test-packaging.sh
# Prints "ok - ..." or "not ok - ..." per check and "N passed, N failed" at the end; exits 1 when
# a check failed.
#
# tests/run-tests.sh sources every tests/test-*.sh and runs its test_* functions: here that is
# test_packaging, which runs this script once (not again for the sanitizer build: the package is
# built from the sources, not from the binary under test).
#
# shellcheck disable=SC2016 # sh -c '... "$1"' sh ARG: $1 expands in the inner shell, on purpose

# shellcheck disable=SC3028 # BASH_SOURCE: set when tests/run-tests.sh (bash) sources this file
pkg_script=${BASH_SOURCE:-$0}

# A skip is reported as one (exit 77 with the reason, see tests/run-tests.sh), never as a pass.
test_packaging() {
    if [ -n "${VFIO_CLAIM_SANITIZED:-}" ]; then
        echo "the package is built from the sources, not from the sanitized binary" \
            >"${SKIP_REASON_FILE:-/dev/null}"
        return 77
    fi
    if pkg_out=$(sh "$pkg_script" 2>&1); then
        # every check passed, unless some were skipped (a tool missing)
        pkg_skipped=$(printf '%s\n' "$pkg_out" | sed -n 's/^ok - \(.*\) # SKIP \(.*\)/\1 (\2)/p')
        [ -z "$pkg_skipped" ] && return 0
        printf '%s\n' "$pkg_skipped" | tr '\n' ';' >"${SKIP_REASON_FILE:-/dev/null}"
        return 77
    fi
    printf '%s\n' "$pkg_out" | sed 's/^/# /'
    return 1
}

pkg_ok() {
    echo "ok - $1"
    pkg_passed=$((pkg_passed + 1))
}

pkg_not_ok() {
    echo "not ok - $1"
    pkg_failed=$((pkg_failed + 1))
}

pkg_skip() {
    echo "ok - $1 # SKIP $2"
    pkg_skipped_n=$((pkg_skipped_n + 1))
}

# pkg_check DESCRIPTION COMMAND...: ok when COMMAND succeeds
pkg_check() {
    pkg_desc=$1
    shift
    if "$@"; then
        pkg_ok "$pkg_desc"
    else
        pkg_not_ok "$pkg_desc"
    fi
}

pkg_finish() {
    echo "$pkg_passed passed, $pkg_failed failed, $pkg_skipped_n skipped"
    [ "$pkg_failed" -eq 0 ] && exit 0
    exit 1
}

# pkg_has_file PATH [MODE]: the package ships PATH (a directory when PATH ends in /), with the
# permissions MODE (as ls prints them) when given
# shellcheck disable=SC2317 # called through pkg_check
pkg_has_file() {
    awk -v want="./${1#/}" -v mode="${2:-}" '
        $6 == want && (mode == "" || $1 == mode) { found = 1 }
        END { exit !found }' "$tmp/contents"
}

# The work tree as git sees it (tracked and untracked files, without ignored build products), so
# that the copy builds like a fresh checkout; cp -a and "make clean" where git cannot tell.
pkg_copy_tree() {
    mkdir "$tmp/src" || return 1
    if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
            (cd "$top" && xargs -0 sh -c 'for f; do
                if [ -e "$f" ] || [ -L "$f" ]; then printf "%s\n" "$f"; fi
            done' sh) |
            tar -C "$top" -cf - -T - | tar -C "$tmp/src" -xf -
    else
        cp -a "$top/." "$tmp/src/" && make -C "$tmp/src" clean >/dev/null
    fi
}

pkg_main() {
    top=$(cd "$(dirname "$pkg_script")/.." && pwd) || exit 1
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-packaging.XXXXXX") || exit 1
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 1' HUP INT TERM
    pkg_passed=0
    pkg_skipped_n=0
    pkg_failed=0

    if pkg_copy_tree && (cd "$tmp/src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
        pkg_ok "dpkg-buildpackage -us -uc -b builds the package"
    else
        pkg_not_ok "dpkg-buildpackage -us -uc -b builds the package"
        tail -n 40 "$tmp/build.log" | sed 's/^/# /'
        pkg_finish
    fi

    deb=
    changes=
    for f in "$tmp"/vfio-claim_*.deb "$tmp"/vfio-claim_*.changes; do
        case $f in
        *.deb) [ -f "$f" ] && deb=$f ;;
        *.changes) [ -f "$f" ] && changes=$f ;;
        esac
    done
    if [ -z "$deb" ] || [ -z "$changes" ]; then
        pkg_not_ok "the build leaves vfio-claim_*.deb and a .changes file"
        pkg_finish
    fi
    dpkg-deb -c "$deb" >"$tmp/contents"
    dpkg-deb -x "$deb" "$tmp/root"
    dpkg-deb -e "$deb" "$tmp/control"

    # Debian 12 keeps udev rules in /lib/udev (udevdir in udev.pc), later releases in /usr/lib/udev.
    udevdir=$(pkg-config --variable=udevdir udev 2>/dev/null)
    udevdir=${udevdir:-/lib/udev}
    for spec in \
        /usr/sbin/vfio-claim:-rwxr-xr-x \
        "$udevdir/rules.d/70-vfio-claim.rules:-rw-r--r--" \
        /usr/share/initramfs-tools/hooks/vfio-claim:-rwxr-xr-x \
        /usr/share/initramfs-tools/scripts/init-top/00-vfio-claim:-rwxr-xr-x \
        /usr/lib/dracut/modules.d/90vfio-claim/module-setup.sh:-rwxr-xr-x \
        /usr/lib/dracut/modules.d/90vfio-claim/vfio-claim-boot.sh:-rwxr-xr-x \
        /etc/vfio-claim.d/example.conf:-rw-r--r-- \
        /usr/lib/vfio-claim.d/:drwxr-xr-x \
        /usr/share/man/man8/vfio-claim.8.gz:-rw-r--r-- \
        /usr/share/man/man5/vfio-claim.conf.5.gz:-rw-r--r-- \
        /usr/share/bash-completion/completions/vfio-claim:-rw-r--r-- \
        /usr/share/doc/vfio-claim/copyright:-rw-r--r--; do
        pkg_check "the package ships ${spec%:*} (${spec##*:})" \
            pkg_has_file "${spec%:*}" "${spec##*:}"
    done

    # libvirt runs every executable in /etc/libvirt/hooks/qemu.d (virhook.c, stat(): links count)
    pkg_check "the package links /etc/libvirt/hooks/qemu.d/vfio-claim to /usr/sbin/vfio-claim" \
        awk '$1 ~ /^l/ && $6 == "./etc/libvirt/hooks/qemu.d/vfio-claim" && $7 == "->" &&
             $8 == "/usr/sbin/vfio-claim" { found = 1 } END { exit !found }' "$tmp/contents"
    pkg_check "the libvirt hook link resolves to the program in the unpacked package" \
        sh -c '[ "$(readlink "$1/etc/libvirt/hooks/qemu.d/vfio-claim")" = /usr/sbin/vfio-claim ] &&
               [ -x "$1/usr/sbin/vfio-claim" ]' sh "$tmp/root"
    pkg_check "the postinst reloads a running libvirtd or virtqemud (hooks are found at start or reload)" \
        sh -c 'grep -q "deb-systemd-invoke reload" "$1/postinst" &&
               grep -q "libvirtd.service virtqemud.service" "$1/postinst"' sh "$tmp/control"
    pkg_check "the package recommends libxml2 (opened with dlopen() by the libvirt hook)" \
        sh -c 'dpkg-deb -f "$1" Recommends | grep -q "libxml2"' sh "$deb"
    pkg_check "vfio-claim declares libxml2 in its .note.dlopen (ELF dlopen metadata)" \
        sh -c 'readelf -p .note.dlopen "$1" | grep -qF "\"soname\":[\"libxml2.so.16\",\"libxml2.so.2\"]"' \
        sh "$tmp/root/usr/sbin/vfio-claim"
    pkg_check "vfio-claim is not linked to libxml2 (dlopen() at first use)" \
        sh -c '! readelf -d "$1" | grep -q "libxml2"' sh "$tmp/root/usr/sbin/vfio-claim"

    pkg_check "installing or removing the package activates the update-initramfs trigger" \
        grep -qx 'activate-noawait update-initramfs' "$tmp/control/triggers"
    pkg_check "/etc/vfio-claim.d/example.conf is a conffile" \
        grep -qx '/etc/vfio-claim.d/example.conf' "$tmp/control/conffiles"
    pkg_check "the package depends on initramfs-tools | dracut" \
        sh -c 'dpkg-deb -f "$1" Depends | grep -q "initramfs-tools | dracut"' sh "$deb"
    pkg_check "the shipped example configuration claims nothing (every line a comment)" \
        sh -c '! grep -v -e "^[[:space:]]*#" -e "^[[:space:]]*\$" "$1" | grep -q .' sh \
        "$tmp/root/etc/vfio-claim.d/example.conf"

    rules=$tmp/root$udevdir/rules.d/70-vfio-claim.rules
    pkg_check "the udev rule skips every event but add, like 80-drivers.rules" \
        sh -c 'grep -qx "ACTION!=\"add\", GOTO=\"vfio_claim_end\"" "$1" &&
               grep -qx "LABEL=\"vfio_claim_end\"" "$1"' sh "$rules"
    pkg_check "the udev rule runs vfio-claim for PCI devices only when they are selected" \
        sh -c 'grep "SUBSYSTEM==\"pci\"" "$1" | grep "IMPORT{program}" |
               grep -q "ENV{VFIO_CLAIM_SELECT}==\"1\""' sh "$rules"
    pkg_check "the udev rule never waits for udevadm settle" \
        sh -c '! grep -q "settle" "$1"' sh "$rules"

    # initramfs-tools writes ORDER with cache_run_scripts (hook-functions): run it over the
    # system's init-top scripts and ours, as mkinitramfs does, and find ours before "udev".
    if [ -r /usr/share/initramfs-tools/hook-functions ] &&
        [ -e /usr/share/initramfs-tools/scripts/init-top/udev ]; then
        mkdir -p "$tmp/initrd/scripts/init-top" "$tmp/conf/scripts/init-top"
        cp -p /usr/share/initramfs-tools/scripts/init-top/* "$tmp/initrd/scripts/init-top/"
        rm -f "$tmp/initrd/scripts/init-top/ORDER" "$tmp/initrd/scripts/init-top/00-vfio-claim"
        ours=$tmp/root/usr/share/initramfs-tools/scripts/init-top/00-vfio-claim
        cp -p "$ours" "$tmp/initrd/scripts/init-top/"
        cp -p "$ours" "$tmp/conf/scripts/init-top/"
        (
            # shellcheck disable=SC2034 # read by get_source in hook-functions
            CONFDIR=$tmp/conf
            # shellcheck disable=SC1091
            . /usr/share/initramfs-tools/hook-functions
            cache_run_scripts "$tmp/initrd" /scripts/init-top
        )
        sed -n 's|^/scripts/init-top/\([^ ]*\) .*|\1|p' "$tmp/initrd/scripts/init-top/ORDER" \
            >"$tmp/order"
        order=$(tr '\n' ' ' <"$tmp/order")
        pkg_check "initramfs-tools ORDER runs init-top/00-vfio-claim before init-top/udev ($order)" \
            awk '$0 == "00-vfio-claim" { ours = NR } $0 == "udev" { udev = NR }
                END { exit !(ours && udev && ours < udev) }' "$tmp/order"
    else
        pkg_skip "initramfs-tools ORDER runs init-top/00-vfio-claim before init-top/udev" \
            "initramfs-tools is not installed"
    fi

    # One grammar: the hooks leave the configuration to the program (vfio-claim image-config,
    # tested in tests/test-image-config.sh), and nothing under initramfs-hook/ or dracut/ reads it.
    hook=$tmp/root/usr/share/initramfs-tools/hooks/vfio-claim
    setup=$tmp/root/usr/lib/dracut/modules.d/90vfio-claim/module-setup.sh
    pkg_check "the initramfs-tools hook writes the configuration with vfio-claim image-config" \
        grep -qE '^[^#]*/usr/sbin/vfio-claim image-config "\$\{?DESTDIR\}?"' "$hook"
    pkg_check "dracut's install() writes the configuration with vfio-claim image-config" \
        sh -c 'grep -A1 -F "/usr/sbin/vfio-claim \${dracutsysrootdir:+--root \"\$dracutsysrootdir\"} \\" "$1" |
               grep -qF "image-config \"\$initdir\""' sh "$setup"
    pkg_check "dracut's check() asks vfio-claim image-config --needed" \
        grep -qF 'image-config --needed' "$setup"
    pkg_check "the package ships no copy-config helper (no /usr/lib/vfio-claim/)" \
        sh -c '! grep -q "^\./usr/lib/vfio-claim/" "$1"' sh "$tmp/contents"
    for f in "$top"/initramfs-hook/* "$top"/dracut/*/*; do
        # code only, not comments: no grep, awk, sed or getent, no configuration or user database
        pkg_check "${f#"$top"/} does not read the configuration itself" \
            sh -c '! sed "s/#.*//" "$1" |
                   grep -qE "(^|[^[:alnum:]_-])(grep|awk|sed|getent)([^[:alnum:]_-]|\$)|vfio-claim\.d|/etc/(passwd|group)"' \
            sh "$f"
    done

    # dracut's functions on a --sysroot, with the installed program in place of /usr/sbin/vfio-claim
    # (as make install's SBINDIR does) and dracut's own functions stubbed.
    sysroot=$tmp/sysroot
    mkdir -p "$sysroot/etc/vfio-claim.d" "$tmp/initdir"
    printf '%s\n' 'root:x:0:0::/root:/bin/sh' 'qemu:x:64055:108::/nonexistent:/usr/sbin/nologin' \
        >"$sysroot/etc/passwd"
    printf '%s\n' 'root:x:0:' 'kvm:x:108:' >"$sysroot/etc/group"
    sed "s|/usr/sbin/vfio-claim|$tmp/root/usr/sbin/vfio-claim|g" "$setup" >"$tmp/module-setup.sh"
    dracut_call() { # FUNCTION: its exit status
        bash -c 'require_binaries() { :; }; inst_multiple() { :; }; inst_rules() { :; }
                 inst_libdir_file() { :; }
                 inst_hook() { :; }; derror() { echo "$*" >&2; }
                 hostonly=yes dracutsysrootdir=$2 initdir=$3 moddir=/nonexistent
                 . "$1" && "$4"' sh "$tmp/module-setup.sh" "$sysroot" "$tmp/initdir" "$1" \
            2>>"$tmp/dracut.err"
    }
    echo "exclude gpu" >"$sysroot/etc/vfio-claim.d/vm.conf"
    pkg_check "dracut check(): a host-only image leaves the module out when nothing is claimed" \
        sh -c '[ "$1" = 255 ]' sh "$(dracut_call check; echo $?)"
    printf '%s\n' '# a comment' 'claim 0000:01:00.0 owner=qemu group=kvm # group=kvm' \
        >"$sysroot/etc/vfio-claim.d/vm.conf"
    pkg_check "dracut check(): a host-only image carries the module when a file claims" \
        dracut_call check
    pkg_check "dracut install() writes the configuration with the sysroot's numbers" \
        sh -c 'dracut_ok=$1; [ "$dracut_ok" = 0 ] &&
               grep -qx "claim 0000:01:00.0 owner=64055 group=108 # group=kvm" \
                   "$2/etc/vfio-claim.d/vm.conf"' sh "$(dracut_call install; echo $?)" \
        "$tmp/initdir"
    [ -s "$tmp/dracut.err" ] && sed 's/^/# /' "$tmp/dracut.err"

    if command -v shellcheck >/dev/null 2>&1; then
        for script in usr/share/initramfs-tools/hooks/vfio-claim \
            usr/share/initramfs-tools/scripts/init-top/00-vfio-claim \
            usr/lib/dracut/modules.d/90vfio-claim/module-setup.sh \
            usr/lib/dracut/modules.d/90vfio-claim/vfio-claim-boot.sh; do
            # SC1091: the framework headers source files that shellcheck cannot follow
            pkg_check "shellcheck: /$script" shellcheck -e SC1091 "$tmp/root/$script"
        done
    else
        pkg_skip "shellcheck of the boot scripts" "shellcheck is not installed"
    fi

    if command -v man >/dev/null 2>&1; then
        for page in usr/share/man/man8/vfio-claim.8.gz usr/share/man/man5/vfio-claim.conf.5.gz; do
            pkg_check "man --warnings reports nothing for /$page" \
                sh -c 'out=$(LC_ALL=C.UTF-8 MANWIDTH=80 \
                           man --warnings -E UTF-8 -l -Tutf8 -Z "$1" 2>&1 >/dev/null) &&
                       [ -z "$out" ] || { printf "# %s\n" "$out"; false; }' sh "$tmp/root/$page"
        done
    else
        pkg_skip "man --warnings on the man pages" "man-db is not installed"
    fi

    if command -v lintian >/dev/null 2>&1; then
        lintian --tag-display-limit 0 "$changes" >"$tmp/lintian.out" 2>&1
        sed 's/^/# /' "$tmp/lintian.out"
        pkg_check "lintian reports no error" sh -c '! grep -q "^E: " "$1"' sh "$tmp/lintian.out"
    else
        pkg_skip "lintian" "lintian is not installed"
    fi

    pkg_finish
}

case ${0##*/} in
test-packaging.sh) pkg_main ;;
esac
