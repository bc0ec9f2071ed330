#!/bin/bash
# Parallel udev workers: entries are never lost or corrupted.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# run_bg ARGS...: like run, in the background, output discarded
run_bg() { vfio_claim "$@" >/dev/null 2>&1 & }

well_formed() { # ADDR: every key once, the address right, nothing else
    local f="$ROOT/run/vfio-claim/devices/$1" k
    [ -f "$f" ] || fail "$1: no state entry"
    for k in address ids subsystem_ids class category iommu_group host_driver host_module rule reason tag stage state time; do
        [ "$(grep -c "^$k=" "$f")" -eq 1 ] || fail "$1: key '$k' not exactly once"
    done
    [ "$(state_of "$1" address)" = "$1" ] || fail "$1: wrong address"
    [ "$(state_of "$1" state)" = claimed ] || fail "$1: state $(state_of "$1" state)"
    grep -qv '^[a-z_]*=' "$f" && fail "$1: a malformed line"
    return 0
}

test_32_udev_workers_on_different_devices() {
    fixture bench64
    conf 10.conf "claim net nvme usb"
    run --json check
    local devs
    mapfile -t devs < <(plan_lines | awk '$2 == "claim" {print $1}' | head -32)
    [ ${#devs[@]} -eq 32 ] || fail "only ${#devs[@]} claimable devices in the tree"
    local d
    for d in "${devs[@]}"; do
        run_bg udev "$(readlink -f "$ROOT/sys/bus/pci/devices/$d" | sed "s|^$ROOT/sys||")"
    done
    wait
    for d in "${devs[@]}"; do
        well_formed "$d"
        assert_driver "$d" vfio-pci
    done
    [ "$(find "$ROOT/run/vfio-claim/devices" -type f | wc -l)" -eq 32 ] || fail "extra or missing entries"
    [ -z "$(find "$ROOT/run/vfio-claim" -name '.#*')" ] || fail "temporary files left"
}

test_8_udev_workers_on_the_same_device() {
    fixture desktop
    conf 10.conf "claim 00:1f.6"

    for _ in 1 2 3 4 5 6 7 8; do
        run_bg udev /devices/pci0000:00/0000:00:1f.6
    done
    wait
    well_formed 0000:00:1f.6
    [ "$(state_of 0000:00:1f.6 host_driver)" = e1000e ] || fail "host driver lost: $(state_of 0000:00:1f.6 host_driver)"
    assert_driver 0000:00:1f.6 vfio-pci
    [ "$(find "$ROOT/run/vfio-claim/devices" -type f | wc -l)" -eq 1 ] || fail "entries"
    [ -z "$(find "$ROOT/run/vfio-claim" -name '.#*')" ] || fail "temporary files left"
}
