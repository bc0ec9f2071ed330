#!/bin/bash
# Modules under --root: libkmod inserts vfio-pci and its dependencies into the fake kernel when
# DIR/sys is sysfs, an insert failure leaves the group on its host drivers, the kernel release
# comes from DIR, and no command opens a path of the host outside DIR.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VFIO_MODULES="vfio vfio_pci_core vfio_pci vfio_iommu_type1"

module_live() { [ "$(cat "$ROOT/sys/module/$1/initstate" 2>/dev/null)" = live ]; }

assert_group_on_host() { # the GPU's group (bridge 00:01.0, 01:00.0, 01:00.1) as it was
    assert_driver 0000:01:00.0 nouveau
    assert_driver 0000:01:00.1 snd_hda_intel
    assert_driver 0000:00:01.0 none
    [ "$(override_of 0000:01:00.0)" = "(null)" ] || fail "01:00.0: override left set"
    [ "$(override_of 0000:01:00.1)" = "(null)" ] || fail "01:00.1: override left set"
}

test_boot_inserts_vfio_pci_and_its_dependencies_then_binds_the_group() {
    fixture desktop-novfio
    local m
    for m in $VFIO_MODULES; do ! module_live "$m" || fail "$m is live before boot"; done
    [ ! -e "$ROOT/sys/bus/pci/drivers/vfio-pci" ] || fail "vfio-pci driver before boot"
    conf 10.conf "claim 01:00.0"
    run boot
    assert_rc 0
    for m in $VFIO_MODULES; do module_live "$m" || fail "$m was not inserted"; done
    [ -d "$ROOT/sys/bus/pci/drivers/vfio-pci" ] || fail "no vfio-pci driver directory"
    assert_driver 0000:01:00.0 vfio-pci
    assert_driver 0000:01:00.1 vfio-pci
    assert_driver 0000:00:01.0 none
    assert_driver 0000:00:1f.6 e1000e
}

test_an_insert_failure_names_the_module_and_leaves_the_group_on_its_host_drivers() {
    fixture desktop-novfio
    conf 10.conf "claim 01:00.0"
    FAKEKERNEL_FAIL_INSERT=vfio_pci:ENOEXEC run boot
    assert_rc 1
    assert_err "0000:01:00.0: load module 'vfio-pci' failed: Exec format error"
    assert_group_on_host
    ! module_live vfio_pci || fail "vfio_pci is live"
    [ ! -e "$ROOT/sys/bus/pci/drivers/vfio-pci" ] || fail "vfio-pci driver directory appeared"
}

test_a_failing_dependency_fails_the_claim_too() {
    fixture desktop-novfio
    conf 10.conf "claim 01:00.0"
    FAKEKERNEL_FAIL_INSERT=vfio:EPERM run boot
    assert_rc 1
    assert_err "0000:01:00.0: load module 'vfio-pci' failed: Operation not permitted"
    assert_group_on_host
    ! module_live vfio_pci_core || fail "vfio_pci_core is live without vfio"
}

test_no_insert_when_the_root_sys_is_not_the_running_kernels_sysfs() {
    fixture desktop-novfio
    conf 10.conf "claim 01:00.0"
    FAKEKERNEL_NOT_SYSFS=1 run boot
    assert_rc 1
    assert_err "0000:01:00.0: load module 'vfio-pci' (not loaded under '$ROOT') failed"
    assert_group_on_host
    local m
    for m in $VFIO_MODULES; do ! module_live "$m" || fail "$m was inserted"; done
}

test_without_osrelease_the_only_module_folder_names_the_kernel() {
    fixture desktop-novfio
    rm "$ROOT/proc/sys/kernel/osrelease"
    conf 10.conf "claim 01:00.0"
    run boot
    assert_rc 0
    assert_driver 0000:01:00.0 vfio-pci
    assert_driver 0000:01:00.1 vfio-pci
}

test_without_osrelease_two_module_folders_are_an_error_not_the_hosts_uname() {
    fixture desktop-novfio
    rm "$ROOT/proc/sys/kernel/osrelease"
    # a second kernel, named like the host's: uname() would pick it, and claim with it
    cp -a "$ROOT/lib/modules/6.1.0-fixture" "$ROOT/lib/modules/$(uname -r)"
    conf 10.conf "claim 01:00.0"
    run boot
    assert_rc 1
    assert_err "0000:01:00.0: load module 'vfio-pci' (not found for this kernel) failed"
    assert_group_on_host
}

# The trace (strace -k) without the two reads kmod_new() makes of the host whatever it is given:
# /proc/cmdline (its modprobe.d-like options and blacklists, kmod 30 and later) and
# /sys/module/compression (kmod 31 and later). Only these paths, only read, only with kmod_new()
# of libkmod on the stack: docs/design.md says why neither can change an answer under --root.
without_kmod_new_reads() { # TRACE-FILE
    awk '
        function flush() { if (rec != "" && !(allowed && by_kmod_new)) printf "%s", rec }
        /^[0-9]+ / {
            flush(); rec = $0 "\n"; by_kmod_new = 0
            allowed = $0 ~ /^[0-9]+ +openat\(AT_FDCWD, "(\/proc\/cmdline|\/sys\/module\/compression)", O_RDONLY\|O_CLOEXEC\)/
            next
        }
        / > .*libkmod\.so\.2[^(]*\(kmod_new\+/ { by_kmod_new = 1 }
        { rec = rec $0 "\n" }
        END { flush() }' "$1"
}

# Every absolute path a traced run opened, stat'ed, executed... outside $ROOT, minus those
# this test can justify (each named below).
foreign_paths() { # TRACE-FILE
    local root_real
    root_real=$(readlink -f "$ROOT")
    grep -oE '"/[^"]*"' "$1" | tr -d '"' | sort -u | while read -r p; do
        case $p in
        "$root_real" | "$root_real"/* | "$ROOT" | "$ROOT"/*) continue ;;
        # the dynamic loader: its cache and the shared libraries (ASan's runtime included)
        /etc/ld.so.cache | /etc/ld.so.preload | /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) continue ;;
        # the program under test and the fake kernel (LD_PRELOAD): the test's own machinery
        "$VFIO_CLAIM" | "$FAKEKERNEL") continue ;;
        # names of the process's own descriptors: the fake kernel classifies writes by them
        /proc/self/fd/[0-9]*) continue ;;
        # the sanitizer runtime of the -fsanitize build reads its own process's files
        /proc/self/cmdline | /proc/self/environ | /proc/self/exe | /proc/self/maps)
            [ -n "${VFIO_CLAIM_SANITIZED:-}" ] && continue
            ;;
        esac
        # the folders above DIR: resolving DIR itself, and mkdir -p of folders under it
        [[ $root_real/ == "$p"/* || $p == / ]] && continue
        echo "$p"
    done
}

test_no_command_opens_a_host_path_outside_the_root() {
    command -v strace >/dev/null || skip "strace is not installed"
    strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace processes here"
    # -k: the stack of each call, to tell libkmod's kmod_new() reads from anything else
    strace -f -qq -k -o /dev/null true 2>/dev/null || skip "this strace cannot show stacks (-k)"
    fixture desktop-novfio
    conf 10.conf "claim 00:1f.6"
    local trace="$ROOT.trace" cmd bad
    CLEANUP+=("$trace" "$trace.rest")
    for cmd in check list boot status "release 0000:00:1f.6" "claim 00:1f.6" status \
        "export --plan prometheus" "export libvirt"; do
        # shellcheck disable=SC2086 # cmd is a command and its arguments
        # -s: whole strings, never a path cut short
        strace -f -qq -k -s 65535 -e trace=%file -o "$trace" \
            -E LD_PRELOAD="$FAKEKERNEL" -E FAKEKERNEL_ROOT="$ROOT" \
            -E ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0" \
            "$VFIO_CLAIM" --root "$ROOT" $cmd >/dev/null 2>&1 || fail "'$cmd' failed under strace"
        grep -q "$ROOT/proc/cmdline" "$trace" || [ "$cmd" = status ] || [ "$cmd" = list ] ||
            fail "'$cmd' never read $ROOT/proc/cmdline: is the trace complete?"
        without_kmod_new_reads "$trace" >"$trace.rest"
        bad=$(foreign_paths "$trace.rest")
        [ -z "$bad" ] || fail "'$cmd' opened paths outside $ROOT:"$'\n'"$bad"$'\n'"$(
            grep -F -A12 "\"${bad%%$'\n'*}\"" "$trace.rest" | head -40)"
    done
    # the run really loaded modules and moved the device: the trace covered libkmod's work
    module_live vfio_pci || fail "vfio_pci was not inserted"
    assert_driver 0000:00:1f.6 vfio-pci
}

# pci_module NAME ALIAS: a module with that pci: alias, indexed by depmod after the fixture's
# modules (not in modules.order, as a module built out of tree)
pci_module() {
    local moddir="$ROOT/lib/modules/6.1.0-fixture" src
    src=$(mktemp --suffix=.c)
    CLEANUP+=("$src")
    printf '%s\n' "static const char modinfo[] __attribute__((section(\".modinfo\"), used, aligned(1))) =" \
        "\"alias=$2\\0name=$1\\0depends=\\0license=GPL\\0vermagic=6.1.0-fixture SMP mod_unload \";" >"$src"
    mkdir -p "$moddir/kernel/extra"
    gcc -c -o "$moddir/kernel/extra/$1.ko" "$src" || fail "gcc"
    /usr/sbin/depmod -b "$ROOT" 6.1.0-fixture || fail "depmod"
}

test_the_host_module_a_claim_records_is_the_one_modprobe_finds() {
    # the lookup reads modules.alias and modprobe.d as text, in libkmod's order (an older
    # vfio-claim asked libkmod, and records the same)
    fixture desktop
    pci_module aa_gpu 'pci:v000010DEd00001B80sv*sd*bc*sc*i*'
    grep -q "aa_gpu" "$ROOT/lib/modules/6.1.0-fixture/modules.alias" || fail "not indexed"
    mkdir -p "$ROOT/etc/modprobe.d"
    printf '%s\n' 'alias pci:v00008086d000015BC* e1000e-custom' \
        'alias pci:v000010DEd000010F0* my-audio' 'blacklist my_audio' >"$ROOT/etc/modprobe.d/a.conf"
    run claim 01:00.0 00:1f.6
    assert_rc 0
    # two modules.alias matches: the first in depmod's module order, not the more specific
    [ "$(state_of 0000:01:00.0 host_module)" = nouveau ] ||
        fail "01:00.0: host_module '$(state_of 0000:01:00.0 host_module)'"
    # a modprobe.d alias answers before modules.alias
    [ "$(state_of 0000:00:1f.6 host_module)" = e1000e_custom ] ||
        fail "00:1f.6: host_module '$(state_of 0000:00:1f.6 host_module)'"
    [ "$(state_of 0000:00:1f.6 host_driver)" = e1000e ] || fail "00:1f.6: host_driver"
    # ... alone: its blacklisted module is dropped, and modules.alias is not asked
    [ "$(state_of 0000:01:00.1 host_module)" = none ] ||
        fail "01:00.1: host_module '$(state_of 0000:01:00.1 host_module)'"
    [ "$(state_of 0000:01:00.1 host_driver)" = snd_hda_intel ] || fail "01:00.1: host_driver"
}

test_a_host_driver_built_into_the_kernel_is_found_by_its_builtin_alias() {
    # a built-in driver's aliases are in modules.builtin.modinfo (NUL-separated, as the kernel
    # installs it; depmod indexes them in modules.builtin.alias.bin), not in modules.alias
    fixture desktop
    local moddir="$ROOT/lib/modules/6.1.0-fixture" ko
    ko=$(cd "$moddir" && find kernel -name e1000e.ko)
    [ -n "$ko" ] || fail "no e1000e.ko"
    rm "$moddir/$ko"
    echo "$ko" >>"$moddir/modules.builtin"
    printf '%s\0' 'e1000e.alias=pci:v00008086d000015BCsv*sd*bc*sc*i*' 'e1000e.license=GPL' \
        >>"$moddir/modules.builtin.modinfo"
    /usr/sbin/depmod -b "$ROOT" 6.1.0-fixture || fail "depmod"
    ! grep -q " e1000e$" "$moddir/modules.alias" || fail "e1000e still in modules.alias"
    run claim 00:1f.6
    assert_rc 0
    [ "$(state_of 0000:00:1f.6 host_module)" = e1000e ] ||
        fail "host_module '$(state_of 0000:00:1f.6 host_module)'"
    [ "$(state_of 0000:00:1f.6 host_driver)" = e1000e ] || fail "host_driver"
    # (no release here: the fake kernel probes through modules.alias, and has no built-ins)
}
