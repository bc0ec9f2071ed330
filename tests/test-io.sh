#!/bin/bash
# What `check` and `boot` read, counted with strace (file reads, never time): each file once.
#  - the root's /proc/cmdline: once per run (the configuration, modprobe's options, resume=);
#  - each state entry under /run/vfio-claim/devices: at most once;
#  - each device's sysfs attribute files: no path opened twice;
#  - sriov_numvfs only where the device has SR-IOV: no failed open of it on any other device.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_strace() {
    command -v strace >/dev/null || skip "strace is not installed"
    strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace processes here"
}

# trace LOG ARGS...: vfio_claim ARGS under strace (file calls), the fake kernel's own files left
# out of the log
trace() {
    local log=$1
    shift
    strace -f -qq -s 256 -e trace=%file -o "$log.all" \
        -E LD_PRELOAD="$FAKEKERNEL" -E FAKEKERNEL_ROOT="$ROOT" \
        -E ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0" \
        "$VFIO_CLAIM" --root "$ROOT" "$@" >/dev/null 2>&1 || fail "'$*' failed under strace"
    grep -vF "$ROOT/.fakekernel" "$log.all" | grep -v 'readlink("/proc/self/fd/' >"$log"
    grep -q "$ROOT/proc/cmdline" "$log" || fail "the trace of '$*' is not complete"
}

# reads LOG: one line per file opened for reading, named so that the same file has one name:
# "cmdline", "state ADDR", "sys ADDR/ATTR" (by the bus folder or the device path), with
# " ENOENT" when the open failed
reads() {
    python3 - "$1" "$ROOT" <<'PY'
import re, sys

log, root = sys.argv[1], sys.argv[2]
addr = r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]"
for line in open(log):
    m = re.search(r'\bopenat\((\w+), "([^"]*)", ([A-Z_|]+)', line) or \
        re.search(r'\bopen\(()"([^"]*)", ([A-Z_|]+)', line)
    if not m or "O_WRONLY" in m.group(3) or "O_RDWR" in m.group(3) or "O_DIRECTORY" in m.group(3):
        continue
    path, flags = m.group(2), m.group(3)
    failed = " ENOENT" if "= -1 ENOENT" in line else ""
    if path == root + "/proc/cmdline":
        print("cmdline" + failed)
    elif re.fullmatch(addr, path) and "O_NOFOLLOW" in flags:
        print("state " + path + failed)  # relative to the devices folder of the state
    elif path.startswith(root + "/sys/") or re.match(addr + "/", path):
        # the attribute of the last PCI address in the path
        parts = path.split("/")
        k = max((i for i, p in enumerate(parts) if re.fullmatch(addr, p)), default=None)
        if k is not None and k + 1 < len(parts):
            print("sys " + "/".join(parts[k:]) + failed)
PY
}

# assert_read_once LOG [boot]: every assertion of this file on one trace (of boot: see below)
assert_read_once() {
    local r twice
    r=$(reads "$1")
    [ "$(grep -c '^cmdline$' <<<"$r")" -eq 1 ] ||
        fail "proc/cmdline read $(grep -c '^cmdline' <<<"$r") times"
    grep -q '^state ' <<<"$r" || fail "no state entry read: the test proves nothing"
    twice=$(grep -v ' ENOENT$' <<<"$r" | sort | uniq -d | head -n 5)
    [ -z "$twice" ] || fail "opened more than once: $(tr '\n' ' ' <<<"$twice")"
    if [ "${2:-}" = boot ]; then
        # boot asks the PFs without VFs too (a claim may select the VFs they will make), but
        # never a device it claims, nor a bridge
        local a
        while read -r a; do
            [ -n "$a" ] || continue
            [ "$(state_of "$a" state)" != claimed ] || fail "$a: claimed, yet asked for sriov_numvfs"
            [ $((0x$(od -An -tx1 -j14 -N1 "$ROOT/sys/bus/pci/devices/$a/config" | tr -d ' ') & 0x7f)) -eq 0 ] ||
                fail "$a: a bridge, asked for sriov_numvfs"
        done < <(sed -n 's|^sys \([^/]*\)/sriov_numvfs ENOENT$|\1|p' <<<"$r")
    elif grep -q '/sriov_numvfs ENOENT$' <<<"$r"; then
        fail "sriov_numvfs asked of $(grep -c '/sriov_numvfs ENOENT$' <<<"$r") devices without SR-IOV"
    fi
}

test_check_reads_each_file_once() {
    need_strace
    fixture server
    conf net.conf "claim net"
    run boot
    assert_rc 0
    # a release by hand this boot: its entry is read for the plan, and for the storage warning
    grep -q 'state=claimed' "$ROOT"/run/vfio-claim/devices/* || fail "boot claimed nothing"
    trace "$ROOT/check.log" check
    assert_read_once "$ROOT/check.log"
    # the PF with VFs enabled is still refused, its layout read once (named by its VFs)
    run check
    assert_out "SR-IOV physical function with 2 virtual functions enabled"
}

test_check_json_reads_each_file_once() {
    need_strace
    fixture cloud
    conf vfs.conf "claim net"
    run boot
    trace "$ROOT/check.log" check --json
    assert_read_once "$ROOT/check.log"
}

test_boot_again_reads_each_file_once() {
    need_strace
    fixture bench64
    conf net.conf "claim net"
    run boot
    assert_rc 0
    # the idempotent second pass (the coldplug of a booted machine), as make bench measures it
    trace "$ROOT/boot.log" boot
    assert_read_once "$ROOT/boot.log" boot
}
