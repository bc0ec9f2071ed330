#!/bin/bash
# Faults never leave a group half-taken or a device without a driver (SPEC §7, §9): the fake
# kernel fails one sysfs write on request (DIR/.fakekernel/ADDR.fail-WHAT, "ERRNO [COUNT]"), and
# each test asserts the driver link of every member of the IOMMU group, the overrides, the
# state entries, the message and the exit code. The desktop's GPU 01:00.0 and its HDMI audio
# 01:00.1 share IOMMU group 1; "claim gpu" takes both.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

inject() { # inject ADDR WHAT ERRNO [COUNT [AFTER]]
    mkdir -p "$ROOT/.fakekernel"
    echo "$3${4:+ $4}${5:+ $5}" >"$ROOT/.fakekernel/$1.fail-$2"
}

# Both functions of the GPU back on their host drivers, overrides cleared, both entries "failed".
assert_gpu_group_given_back() {
    assert_driver 0000:01:00.0 nouveau
    assert_driver 0000:01:00.1 snd_hda_intel
    [ "$(override_of 0000:01:00.0)" = "(null)" ] || fail "01:00.0 override left: $(override_of 0000:01:00.0)"
    [ "$(override_of 0000:01:00.1)" = "(null)" ] || fail "01:00.1 override left: $(override_of 0000:01:00.1)"
    [ "$(state_of 0000:01:00.0 state)" = failed ] || fail "01:00.0 not recorded as failed"
    [ "$(state_of 0000:01:00.1 state)" = failed ] || fail "01:00.1 not recorded as failed"
}

test_unbind_failure_of_the_second_function_gives_the_first_back() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    inject 0000:01:00.1 unbind EBUSY
    run boot
    assert_rc 1
    assert_err "0000:01:00.1: unbind from 'snd_hda_intel' failed: Device or resource busy"
    assert_err "IOMMU group 1 is claimed whole or not at all: giving the other members back"
    assert_err "0000:01:00.0: given back to 'nouveau'"
    assert_gpu_group_given_back
    grep -q "^error=not claimed: 0000:01:00.1 of the same IOMMU group: unbind" \
        "$ROOT/run/vfio-claim/devices/0000:01:00.0" || fail "01:00.0's entry does not say why"
}

test_probe_failure_leaves_no_device_without_a_driver() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    inject 0000:01:00.1 probe ENODEV 1
    run boot
    assert_rc 1
    assert_err "0000:01:00.1: probe with vfio-pci failed: No such device"
    assert_err "0000:01:00.1: given back to 'snd_hda_intel'"
    assert_err "0000:01:00.0: given back to 'nouveau'"
    assert_gpu_group_given_back
}

test_override_failure_einval_gives_the_group_back() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    inject 0000:01:00.1 override EINVAL 1
    run boot
    assert_rc 1
    assert_err "0000:01:00.1: write 'vfio-pci' to driver_override failed: Invalid argument"
    assert_gpu_group_given_back
}

test_a_device_that_vanishes_before_its_claim_fails_the_group_cleanly() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    # the kernel answers ENODEV for a device that was removed since the scan
    inject 0000:01:00.1 override ENODEV
    run claim gpu
    assert_rc 1
    assert_err "0000:01:00.1: write 'vfio-pci' to driver_override failed: No such device"
    assert_driver 0000:01:00.0 nouveau
    assert_driver 0000:01:00.1 snd_hda_intel
    [ "$(override_of 0000:01:00.0)" = "(null)" ] || fail "override left"
}

test_a_failed_group_is_not_tried_again_for_each_member() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    inject 0000:01:00.1 unbind EBUSY
    run boot
    [ "$(grep -c 'unbind from' <<<"$ERR")" -eq 1 ] || fail "the group was tried more than once"
}

test_a_failed_rollback_says_so() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    inject 0000:01:00.1 unbind EBUSY
    # 01:00.0's first unbind (from nouveau, the claim) succeeds, its second (from vfio-pci,
    # the rollback) fails
    inject 0000:01:00.0 unbind EBUSY 1 1
    run boot
    assert_rc 1
    assert_err "0000:01:00.0: could not give it back: unbind from 'vfio-pci' failed: Device or resource busy"
    assert_driver 0000:01:00.1 snd_hda_intel
    [ "$(override_of 0000:01:00.0)" = "(null)" ] || fail "override left: a reboot would not help"
}

test_state_write_failure_after_the_bind_exits_1_and_is_repaired_by_the_next_run() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    # a directory where the entry of 01:00.0 belongs: its atomic rename fails (EISDIR)
    mkdir -p "$ROOT/run/vfio-claim/devices/0000:01:00.0/x"
    run boot
    assert_rc 1
    assert_err "0000:01:00.0: cannot write its state entry under '$ROOT/run/vfio-claim/devices'"
    assert_err "the next run of vfio-claim writes it again"
    # the device stays claimed (its group is whole), and status does not call it the kernel's
    assert_driver 0000:01:00.0 vfio-pci
    assert_driver 0000:01:00.1 vfio-pci
    run status
    assert_not_out "0000:01:00.0 kernel"
    assert_out "its state entry is missing"
    # what is not known is said so, never a bare '?'
    grep -qE '^0000:01:00\.0 +unknown +claimed +unknown +vfio-pci ' <<<"$OUT" ||
        fail "status does not say the stage and host driver are unknown"
    ! grep -q ' ? ' <<<"$OUT" || fail "status prints '?'"
    run list 01:00.0
    assert_out "claimed (stage unknown)"
    # the next run repairs the entry
    rm -rf "$ROOT/run/vfio-claim/devices/0000:01:00.0"
    run udev /devices/pci0000:00/0000:00:01.0/0000:01:00.0
    assert_rc 0
    [ "$(state_of 0000:01:00.0 state)" = claimed ] || fail "entry not repaired"
    assert_driver 0000:01:00.0 vfio-pci
}

test_udev_rechecks_a_release_under_the_lock() {
    fixture desktop
    conf 10-net.conf "claim 00:1f.6"
    mkdir -p "$ROOT/run/vfio-claim/devices"
    chmod 0755 "$ROOT/run/vfio-claim" "$ROOT/run/vfio-claim/devices"
    # a release in progress holds the lock
    exec 9>"$ROOT/run/vfio-claim/lock"
    flock 9
    vfio_claim udev /devices/pci0000:00/0000:00:1f.6 >"$ROOT/udev.out" 2>&1 &
    local pid=$! n=0
    # the event has made its plan (not released yet) once it opens the lock to wait on it
    until readlink "/proc/$pid/fd/"* 2>/dev/null | grep -q "run/vfio-claim/lock"; do
        n=$((n + 1))
        [ "$n" -lt 200 ] || fail "the udev event never reached the lock"
        sleep 0.05
    done
    # the release finishes: its entry says released, then it lets go of the lock
    printf 'address=0000:00:1f.6\nstate=released\n' >"$ROOT/run/vfio-claim/devices/0000:00:1f.6"
    flock -u 9
    exec 9>&-
    wait "$pid" || true
    OUT=$(cat "$ROOT/udev.out")
    assert_out "VFIO_CLAIM=kept"
    assert_out "released by hand this boot"
    assert_driver 0000:00:1f.6 e1000e
}

test_a_full_or_failing_run_after_the_bind_exits_1_and_loses_nothing() {
    local err
    for err in ENOSPC EIO; do
        fixture desktop
        conf 10-gpu.conf "claim gpu"
        mkdir -p "$ROOT/.fakekernel"
        echo "$err" >"$ROOT/.fakekernel/state.fail"
        run boot
        assert_rc 1
        assert_err "0000:01:00.0: cannot write its state entry"
        # the group stays whole on vfio-pci, and status does not call it the kernel's
        assert_driver 0000:01:00.0 vfio-pci
        assert_driver 0000:01:00.1 vfio-pci
        run status
        assert_not_out "vfio-pci.ids="
        # /run works again: the next run writes the entries
        rm "$ROOT/.fakekernel/state.fail"
        run boot
        assert_rc 0
        assert_err "0000:01:00.1: on vfio-pci already; its state entry is written again (goes with 0000:01:00.0"
        [ "$(state_of 0000:01:00.0 state)" = claimed ] || fail "$err: 01:00.0 not repaired"
        [ "$(state_of 0000:01:00.1 state)" = claimed ] || fail "$err: 01:00.1 not repaired"
    done
}

test_a_release_on_a_read_only_run_stays_released() {
    fixture desktop
    conf 10-net.conf "claim 00:1f.6"
    run boot
    assert_driver 0000:00:1f.6 vfio-pci
    mkdir -p "$ROOT/.fakekernel"
    echo EROFS >"$ROOT/.fakekernel/state.fail"
    run release 00:1f.6
    assert_rc 0
    assert_out "0000:00:1f.6: released, now bound to 'e1000e'"
    assert_err "its driver_override now names 'e1000e' instead, so that nothing claims it again this boot"
    assert_driver 0000:00:1f.6 e1000e
    [ "$(override_of 0000:00:1f.6)" = e1000e ] || fail "not pinned"
    # a udev replay this boot (the entry still says claimed) does not take it again
    run udev /devices/pci0000:00/0000:00:1f.6
    assert_out "VFIO_CLAIM=kept"
    assert_driver 0000:00:1f.6 e1000e
    # check, list and boot tell the same story: kept, and why
    run check
    assert_rc 0
    assert_out "driver_override pins it to 'e1000e'"
    assert_out "'vfio-claim claim 0000:00:1f.6' takes it"
    run -v list
    assert_out "driver_override pins it to 'e1000e'"
    run --json list
    python3 -c 'import json, sys
d = [x for x in json.load(sys.stdin)["devices"] if x["device"] == "0000:00:1f.6"][0]
assert d["state"] == "released", d["state"]' <<<"$OUT" || fail "not shown as released"
    run boot
    assert_driver 0000:00:1f.6 e1000e
    # a claim by hand does
    rm "$ROOT/.fakekernel/state.fail"
    run claim 00:1f.6
    assert_rc 0
    assert_driver 0000:00:1f.6 vfio-pci
}
