#!/bin/bash
# Libraries on demand: libkmod (and libcrypto, liblzma, libzstd that it links) is mapped only by
# the runs that look up or load a module, libsmartcols only by the table of list, libudev only to
# name devices on the running system; they are declared in .note.dlopen rather than DT_NEEDED, and
# a missing library is a clear error naming its package at the command that needs it.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HEAVY="libkmod.so.2 libcrypto.so liblzma.so libzstd.so"
ON_DEMAND="libsmartcols.so.1 libudev.so.1"

# mapped ARGS...: run ARGS with the dynamic loader's log (LD_DEBUG=files); sets OUT, ERR, RC
# and MAPPED, the names of every shared object the process loaded, at start or by dlopen().
mapped() {
    local log
    log=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-lddebug.XXXXXX")
    CLEANUP+=("$log")
    LD_DEBUG=files LD_DEBUG_OUTPUT="$log/ld" run "$@"
    MAPPED=$(cat "$log"/ld.* | sed -n 's/.*[[:space:]]file=\([^ ]*\) \[[0-9]*\];.*/\1/p' | sort -u)
    grep -q '^libc\.so\.6$' <<<"$MAPPED" || fail "no loader log for '$*': is LD_DEBUG honoured?"
}

assert_lean() { # RUN [LIBS]: the last mapped run loaded none of LIBS (default $HEAVY)
    local lib
    for lib in ${2:-$HEAVY}; do
        ! grep -q "^$lib" <<<"$MAPPED" || fail "'$1' mapped $lib:"$'\n'"$MAPPED"
    done
}

test_version_list_status_check_and_a_quiet_udev_event_never_map_libkmod() {
    fixture desktop
    conf 10-gpu.conf "claim gpu" # a selected device: its VFIO variant driver is looked up
    run boot
    assert_rc 0
    assert_driver 0000:01:00.0 vfio-pci
    mapped --version
    assert_rc 0
    assert_lean --version "$HEAVY $ON_DEMAND"
    local cmd
    for cmd in list "list -v" status check "export libvirt"; do
        # shellcheck disable=SC2086 # cmd is a command and its arguments
        mapped $cmd
        assert_rc 0
        assert_lean "$cmd"
    done
    # an event for a device no claim selects loads nothing, nor does the coldplug replay of the
    # claimed GPU
    mapped udev /devices/pci0000:00/0000:00:1f.6
    assert_rc 0
    assert_lean "udev 00:1f.6" "$HEAVY $ON_DEMAND"
    assert_driver 0000:00:1f.6 e1000e
    mapped udev /devices/pci0000:00/0000:00:01.0/0000:01:00.0
    assert_rc 0
    assert_lean "udev 01:00.0" "$HEAVY $ON_DEMAND"
    # the table needs libsmartcols, --json does not; the hwdb is never the host's under --root
    mapped list
    grep -q '^libsmartcols\.so\.1$' <<<"$MAPPED" || fail "list did not map libsmartcols"
    assert_lean list libudev.so.1
    mapped --json list
    assert_lean "--json list" "libsmartcols.so.1 libudev.so.1"
}

# numvfs N: `echo N > sriov_numvfs` of the cloud fixture's E810 PF, through the fake kernel
numvfs() {
    env LD_PRELOAD="$FAKEKERNEL" FAKEKERNEL_ROOT="$ROOT" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, sys.argv[2].encode())
os.close(fd)
' "$ROOT/sys/bus/pci/devices/0000:18:00.0/sriov_numvfs" "$1" || fail "cannot write sriov_numvfs"
}

test_a_vf_claimed_at_its_udev_event_maps_no_libkmod_when_vfio_pci_is_loaded() {
    # the burst of VF events: each looks up its host module (modules.alias, read as text) and
    # finds vfio-pci loaded; none maps libkmod, and the state still names the host module
    local vf0=0000:18:01.0 vf1=0000:18:01.1 vf=/devices/pci0000:00/0000:00:02.0
    fixture cloud
    conf 10.conf "claim vfs-of=18:00.0" "exclude $vf1"
    run boot
    assert_rc 0
    [ "$(cat "$ROOT/sys/module/vfio_pci/initstate")" = live ] || fail "vfio_pci is not loaded"
    numvfs 2 # autoprobe off: the VFs come without a driver
    mapped udev $vf/$vf0
    assert_rc 0
    assert_out "VFIO_CLAIM=claimed"
    assert_lean "udev $vf0 (no driver yet)"
    assert_driver $vf0 vfio-pci
    [ "$(state_of $vf0 host_driver)" = iavf ] || fail "host_driver '$(state_of $vf0 host_driver)'"
    [ "$(state_of $vf0 host_module)" = iavf ] || fail "host_module '$(state_of $vf0 host_module)'"
    assert_err "$vf0: claimed for vfio-pci before host module 'iavf'"
    # the excluded VF is probed for its host driver, whose module is loaded: nothing to load
    mapped udev $vf/$vf1
    assert_rc 0
    assert_lean "udev $vf1 (not claimed)"
    assert_driver $vf1 iavf

    # VFs the kernel bound to iavf while adding them (autoprobe on), claimed afterwards
    fixture cloud
    run boot
    numvfs 2
    assert_driver $vf0 iavf
    conf 10.conf "claim 8086:1889"
    mapped udev $vf/$vf0
    assert_rc 0
    assert_out "VFIO_CLAIM=claimed"
    assert_lean "udev $vf0 (bound to iavf)"
    assert_driver $vf0 vfio-pci
    [ "$(state_of $vf0 host_driver)" = iavf ] || fail "host_driver '$(state_of $vf0 host_driver)'"
    [ "$(state_of $vf0 host_module)" = iavf ] || fail "host_module '$(state_of $vf0 host_module)'"
    assert_err "$vf0: claimed for vfio-pci, taken from host driver 'iavf'"
}

test_boot_and_claim_map_libkmod_and_insert_the_modules() {
    fixture desktop-novfio
    conf 10.conf "claim 01:00.0"
    mapped boot
    assert_rc 0
    grep -q '^libkmod\.so\.2$' <<<"$MAPPED" || fail "boot did not map libkmod"
    assert_lean boot "$ON_DEMAND"
    [ "$(cat "$ROOT/sys/module/vfio_pci/initstate")" = live ] || fail "vfio_pci was not inserted"
    assert_driver 0000:01:00.0 vfio-pci

    fixture desktop-novfio
    mapped claim 00:1f.6
    assert_rc 0
    grep -q '^libkmod\.so\.2$' <<<"$MAPPED" || fail "claim did not map libkmod"
    [ "$(cat "$ROOT/sys/module/vfio_pci/initstate")" = live ] || fail "vfio_pci was not inserted"
    assert_driver 0000:00:1f.6 vfio-pci
}

test_without_libkmod_a_claim_names_the_package_and_changes_nothing() {
    fixture desktop-novfio
    FAKEKERNEL_FAIL_DLOPEN=libkmod.so.2 run claim 00:1f.6
    assert_rc 1
    assert_err "vfio-claim: error: libkmod is not installed (package libkmod2): kernel modules cannot be looked up or loaded"
    [ "$(grep -c 'libkmod is not installed' <<<"$ERR")" -eq 1 ] || fail "said more than once"
    assert_driver 0000:00:1f.6 e1000e
    [ "$(override_of 0000:00:1f.6)" = "(null)" ] || fail "override left set"
    # the commands that only decide do not need it
    FAKEKERNEL_FAIL_DLOPEN=libkmod.so.2 run list
    assert_rc 0
    assert_not_err libkmod
    assert_out "0000:00:1f.6"
}

test_without_libsmartcols_list_names_the_package_and_json_still_works() {
    fixture desktop
    FAKEKERNEL_FAIL_DLOPEN=libsmartcols.so.1 run list
    assert_rc 1
    assert_err "vfio-claim: error: libsmartcols is not installed (package libsmartcols1)"
    FAKEKERNEL_FAIL_DLOPEN=libsmartcols.so.1 run --json list
    assert_rc 0
    assert_out '"device":"0000:00:1f.6"'
}

test_the_libraries_opened_on_demand_are_declared_in_the_dlopen_note_not_linked() {
    command -v objcopy >/dev/null || skip "objcopy (binutils) is not installed"
    local lib
    local note
    fixture desktop
    note="$ROOT.note"
    CLEANUP+=("$note")
    readelf -d "$VFIO_CLAIM" | grep -q 'NEEDED.*libc\.so' || fail "no NEEDED entries read"
    for lib in libkmod libudev libsmartcols libxml2; do
        ! readelf -d "$VFIO_CLAIM" | grep -q "NEEDED.*$lib" || fail "$lib is linked (DT_NEEDED)"
    done
    objcopy -O binary --only-section=.note.dlopen "$VFIO_CLAIM" "$note" 2>/dev/null ||
        fail "no .note.dlopen section"
    python3 - "$note" <<'PY' || fail "the .note.dlopen notes do not declare libkmod, libudev, libsmartcols, libxml2"
import json, struct, sys
data, found = open(sys.argv[1], "rb").read(), []
off = 0
while off + 12 <= len(data):
    namesz, descsz, ntype = struct.unpack_from("<III", data, off)
    off += 12
    name = data[off:off + namesz].rstrip(b"\0"); off += (namesz + 3) & ~3
    desc = data[off:off + descsz].rstrip(b"\0"); off += (descsz + 3) & ~3
    if name == b"FDO" and ntype == 0x407C0C0A:
        found += json.loads(desc)
sonames = {e["feature"]: e["soname"] for e in found}
assert sonames == {"kmod": ["libkmod.so.2"], "udev": ["libudev.so.1"],
                   "smartcols": ["libsmartcols.so.1"],
                   "libvirt-hook": ["libxml2.so.16", "libxml2.so.2"]}, found
assert all(e["priority"] in ("required", "recommended", "suggested") and e["description"]
           for e in found), found
PY
}
