#!/bin/bash
# The state directory is trusted only if it is root's (SPEC §9): a folder of someone else's, a
# symbolic link where a folder or file of ours belongs, or a folder others can write to is never
# used as it is. Each test asserts the driver links, what was (not) written, the message, the
# exit code.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

test_state_dir_of_another_user_is_not_trusted_and_nothing_is_claimed() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    mkdir -p "$ROOT/run/vfio-claim/devices"
    chmod 0777 "$ROOT/run/vfio-claim" "$ROOT/run/vfio-claim/devices"
    chown -R 1000:1000 "$ROOT/run/vfio-claim"
    run boot
    assert_rc 1
    assert_err "cannot use the state directory '$ROOT/run/vfio-claim': not root's, or writable by other users: not trusted; remove it"
    # fail closed: the host keeps the whole group, nothing is written into the planted folder
    assert_driver 0000:01:00.0 nouveau
    assert_driver 0000:01:00.1 snd_hda_intel
    [ "$(override_of 0000:01:00.0)" = "(null)" ] || fail "override written"
    [ -z "$(ls -A "$ROOT/run/vfio-claim/devices")" ] || fail "a state file was written"
    [ ! -e "$ROOT/run/vfio-claim/lock" ] || fail "the lock was created in the foreign folder"
    [ "$(stat -c %a "$ROOT/run/vfio-claim")" = 777 ] || fail "someone else's folder changed"
}

test_state_dir_of_root_writable_by_others_is_repaired_to_0755() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    mkdir -p "$ROOT/run/vfio-claim/devices"
    chmod 0777 "$ROOT/run/vfio-claim" "$ROOT/run/vfio-claim/devices"
    run boot
    assert_rc 0
    assert_driver 0000:01:00.0 vfio-pci
    [ "$(stat -c %a "$ROOT/run/vfio-claim")" = 755 ] || fail "not repaired"
    [ "$(stat -c %a "$ROOT/run/vfio-claim/devices")" = 755 ] || fail "devices not repaired"
}

test_state_dir_that_is_a_symlink_is_not_followed() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    local elsewhere="$ROOT/elsewhere"
    mkdir -p "$elsewhere/devices" "$ROOT/run"
    ln -s "$elsewhere" "$ROOT/run/vfio-claim"
    run boot
    assert_rc 1
    assert_err "a symbolic link where a folder of ours belongs: not trusted; remove it"
    assert_driver 0000:01:00.0 nouveau
    assert_driver 0000:01:00.1 snd_hda_intel
    [ -z "$(ls -A "$elsewhere/devices")" ] || fail "wrote through the link"
    [ ! -e "$elsewhere/lock" ] || fail "locked through the link"
}

test_symlinked_lock_creates_nothing_elsewhere() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    mkdir -p "$ROOT/run/vfio-claim/devices"
    ln -s "$ROOT/created-through-the-lock" "$ROOT/run/vfio-claim/lock"
    run boot
    assert_rc 1
    assert_err "cannot lock '$ROOT/run/vfio-claim/lock'"
    [ ! -e "$ROOT/created-through-the-lock" ] || fail "the lock link was followed"
    assert_driver 0000:01:00.0 nouveau
}

test_symlinked_state_file_is_not_read() {
    fixture desktop
    conf 10-net.conf "claim 00:1f.6"
    mkdir -p "$ROOT/run/vfio-claim/devices"
    printf 'address=0000:00:1f.6\nstate=released\n' >"$ROOT/planted"
    ln -s "$ROOT/planted" "$ROOT/run/vfio-claim/devices/0000:00:1f.6"
    # a planted "released" entry would keep the device from its claim: it is not read
    run --json check
    plan_has "^0000:00:1f.6 claim selected by" || fail "the planted entry was read"
    run boot
    assert_rc 0
    assert_driver 0000:00:1f.6 vfio-pci
    # the entry is replaced by a file of ours, the link's target is untouched
    [ ! -L "$ROOT/run/vfio-claim/devices/0000:00:1f.6" ] || fail "still a link"
    grep -q '^state=released$' "$ROOT/planted" || fail "the target was written"
}

test_state_folders_are_0755_whatever_the_umask() {
    fixture desktop
    conf 10-gpu.conf "claim gpu"
    umask 077
    run boot
    assert_rc 0
    [ "$(stat -c %a "$ROOT/run/vfio-claim")" = 755 ] || fail "state dir $(stat -c %a "$ROOT/run/vfio-claim")"
    [ "$(stat -c %a "$ROOT/run/vfio-claim/devices")" = 755 ] || fail "devices dir"
    [ "$(stat -c %a "$ROOT/run/vfio-claim/devices/0000:01:00.0")" = 644 ] || fail "entry mode"
}

test_state_file_of_another_user_is_not_read() {
    fixture desktop
    conf 10-net.conf "claim 00:1f.6"
    mkdir -p "$ROOT/run/vfio-claim/devices"
    printf 'address=0000:00:1f.6\nstate=released\n' >"$ROOT/run/vfio-claim/devices/0000:00:1f.6"
    chown 1000:1000 "$ROOT/run/vfio-claim/devices/0000:00:1f.6"
    run --json check
    plan_has "^0000:00:1f.6 claim selected by" || fail "another user's entry was believed"
}
