#!/bin/bash
# Single-GPU passthrough on the single-gpu fixture (tests/mkfixture.py): the boot GPU (01:00.0,
# NVIDIA's driver, drm/card0) carries the console, fbcon (vtcon1, bind 1) on the firmware's
# EFI framebuffer (platform device efi-framebuffer.0, bound); its HDMI audio (01:00.1) shares
# its IOMMU group. A run-time claim unbinds the console and the framebuffer before the host
# driver and records them; a release or a rollback restores them after it.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GPU=0000:01:00.0
AUDIO=0000:01:00.1
EFIFB=efi-framebuffer.0

vtcon_bind() { cat "$ROOT/sys/class/vtconsole/$1/bind"; }
assert_vtcon() { [ "$(vtcon_bind "$1")" = "$2" ] || fail "$1/bind reads '$(vtcon_bind "$1")', expected '$2'"; }
efifb_driver() {
    local l="$ROOT/sys/bus/platform/devices/$EFIFB/driver"
    if [ -L "$l" ]; then basename "$(readlink "$l")"; else echo none; fi
}
assert_efifb() { [ "$(efifb_driver)" = "$1" ] || fail "$EFIFB is bound to '$(efifb_driver)', expected '$1'"; }
# the console as the fixture has it: fbcon on the EFI framebuffer, the dummy console unbound
assert_console_on_host() {
    assert_vtcon vtcon0 0
    assert_vtcon vtcon1 1
    assert_efifb efi-framebuffer
}

test_claiming_the_boot_gpu_unbinds_its_console_first_and_release_restores_it() {
    fixture single-gpu
    assert_console_on_host
    run claim --force "$GPU"
    assert_rc 0
    assert_driver "$GPU" vfio-pci
    assert_driver "$AUDIO" vfio-pci
    assert_vtcon vtcon1 0
    assert_vtcon vtcon0 0 # the dummy console was not ours to touch
    assert_efifb none
    assert_err "$GPU: console unbound before its driver: vtcon1, $EFIFB (efi-framebuffer)"
    [ "$(state_of "$GPU" vtcon_unbound)" = vtcon1 ] || fail "vtcon_unbound not recorded"
    [ "$(state_of "$GPU" fb_unbound)" = "efi-framebuffer:$EFIFB" ] || fail "fb_unbound not recorded"
    [ -z "$(state_of "$AUDIO" vtcon_unbound)" ] || fail "the audio function records a console"
    # the console went before the host driver: the framebuffer was off when nvidia let go
    run release "$GPU"
    assert_rc 0
    assert_driver "$GPU" nvidia
    assert_driver "$AUDIO" snd_hda_intel
    assert_console_on_host
    assert_err "$GPU: console bound again: vtcon1, $EFIFB (efi-framebuffer)"
    [ "$(state_of "$GPU" state)" = released ] || fail "state not released"
    ! grep -q '^vtcon_unbound=\|^fb_unbound=' "$ROOT/run/vfio-claim/devices/$GPU" ||
        fail "the console record was not cleared"
}

test_claiming_by_the_audio_function_takes_the_console_with_the_gpu() {
    fixture single-gpu
    run claim --force "$GPU" "$AUDIO"
    assert_rc 0
    assert_vtcon vtcon1 0
    assert_efifb none
    run release "$AUDIO" # the group goes back whole: the GPU, then its console
    assert_rc 0
    assert_driver "$GPU" nvidia
    assert_console_on_host
}

test_a_process_holding_the_card_is_named_and_nothing_changes() {
    fixture single-gpu
    local pid before target
    # a display server: a process of this test holding the fixture's card node open
    # shellcheck disable=SC2217 # it only holds the node open, as a display server does
    sleep 300 <"$ROOT/dev/dri/card0" &
    pid=$!
    HOLDER_PID=$pid
    trap 'kill "$HOLDER_PID" 2>/dev/null || true; rm -rf "${CLEANUP[@]}"' EXIT
    # the child opens the node after the fork: wait for it
    for _ in $(seq 100); do
        target=$(readlink "/proc/$pid/fd/0" || true)
        [ "$target" = "$ROOT/dev/dri/card0" ] && break
        sleep 0.05
    done
    [ "$target" = "$ROOT/dev/dri/card0" ] || fail "the holder did not open the card node"
    # the tree's /proc shows it as the host's would: the node's path inside the root
    mkdir -p "$ROOT/proc/$pid/fd"
    ln -s "${target#"$ROOT"}" "$ROOT/proc/$pid/fd/0"
    echo Xorg >"$ROOT/proc/$pid/comm"
    before=$(snapshot | grep -v ' \./run/vfio-claim\|^\./run/vfio-claim')
    run claim --force "$GPU"
    assert_rc 1
    assert_err "$GPU: held by Xorg (pid $pid) through /dev/dri/card0: stop the display manager first"
    # the state folder and its lock aside (the check runs under the lock), nothing was written
    diff <(echo "$before") <(snapshot | grep -v ' \./run/vfio-claim\|^\./run/vfio-claim') >&2 ||
        fail "a refused claim changed the tree"
    [ ! -e "$ROOT/run/vfio-claim/devices/$GPU" ] || fail "a refused claim wrote a state entry"
    assert_driver "$GPU" nvidia
    assert_console_on_host
    kill "$pid"
}

test_a_render_node_holder_is_refused_too() {
    fixture single-gpu
    mkdir -p "$ROOT/proc/4321/fd"
    ln -s /dev/dri/renderD128 "$ROOT/proc/4321/fd/9"
    ln -s /dev/dri/card0 "$ROOT/proc/4321/fd/10"
    echo gnome-shell >"$ROOT/proc/4321/comm"
    run claim --force "$GPU"
    assert_rc 1
    assert_err "held by gnome-shell (pid 4321) through /dev/dri/card0 and /dev/dri/renderD128"
    assert_driver "$GPU" nvidia
    assert_console_on_host
}

test_a_failed_unbind_of_the_host_driver_rolls_back_and_restores_the_console() {
    fixture single-gpu
    echo "EBUSY 1" >"$ROOT/.fakekernel/$GPU.fail-unbind"
    run claim --force "$GPU"
    assert_rc 1
    assert_err "$GPU: unbind from 'nvidia' failed"
    assert_err "$GPU: console bound again: vtcon1, $EFIFB (efi-framebuffer)"
    assert_driver "$GPU" nvidia
    assert_driver "$AUDIO" snd_hda_intel
    assert_console_on_host
    [ "$(state_of "$GPU" state)" = failed ] || fail "state not failed"
    ! grep -q '^vtcon_unbound=\|^fb_unbound=' "$ROOT/run/vfio-claim/devices/$GPU" ||
        fail "a restored console is still recorded as unbound"
}

test_a_failed_unbind_of_the_framebuffer_changes_nothing() {
    fixture single-gpu
    echo "EBUSY" >"$ROOT/.fakekernel/$EFIFB.fail-unbind"
    run claim --force "$GPU"
    assert_rc 1
    assert_err "$GPU: unbind '$EFIFB' from 'efi-framebuffer' failed: Device or resource busy"
    assert_driver "$GPU" nvidia
    assert_driver "$AUDIO" snd_hda_intel
    assert_console_on_host # vtcon1, unbound first, is bound again
}

test_without_force_the_boot_gpu_is_refused_and_its_console_untouched() {
    fixture single-gpu
    local before
    before=$(snapshot)
    run claim "$GPU"
    assert_rc 1
    assert_err "$GPU: not claimed: boot VGA device"
    [ "$before" = "$(snapshot)" ] || fail "a refused claim changed the tree"
}

test_the_early_pass_leaves_the_console_alone() {
    fixture single-gpu
    conf 10-gpu.conf "claim $GPU force"
    run boot
    assert_rc 0
    assert_driver "$GPU" vfio-pci
    # before any DRM driver: the firmware's console stays (it shows the boot's prompts)
    assert_console_on_host
    [ -z "$(state_of "$GPU" vtcon_unbound)" ] || fail "the early pass recorded a console"
}

test_a_hostile_record_is_not_a_list_of_files_to_write() {
    fixture single-gpu
    run claim --force "$GPU"
    assert_rc 0
    local f="$ROOT/run/vfio-claim/devices/$GPU"
    sed -i 's|^vtcon_unbound=.*|vtcon_unbound=vtcon1 ../../../etc/passwd|; s|^fb_unbound=.*|fb_unbound=efi-framebuffer:efi-framebuffer.0 nvidia:../x|' "$f"
    run release "$GPU"
    assert_rc 0
    assert_err "its state entry names consoles or framebuffers that vfio-claim does not unbind, ignoring them"
    assert_console_on_host
}

# The desktop fixture with consoles: fbcon (vtcon1) bound, fb0 the boot iGPU's (i915, 00:02.0)
desktop_with_consoles() {
    fixture desktop
    local v
    for v in 0 1; do
        mkdir -p "$ROOT/sys/devices/virtual/vtconsole/vtcon$v" "$ROOT/sys/class/vtconsole"
        ln -s "../../devices/virtual/vtconsole/vtcon$v" "$ROOT/sys/class/vtconsole/vtcon$v"
    done
    echo "(S) dummy device" >"$ROOT/sys/devices/virtual/vtconsole/vtcon0/name"
    echo 0 >"$ROOT/sys/devices/virtual/vtconsole/vtcon0/bind"
    echo "(M) frame buffer device" >"$ROOT/sys/devices/virtual/vtconsole/vtcon1/name"
    echo 1 >"$ROOT/sys/devices/virtual/vtconsole/vtcon1/bind"
    graphics_fb fb0 0000:00:02.0
}
# graphics_fb fbN ADDR: a framebuffer of the PCI device ADDR (DRM fbdev emulation)
graphics_fb() {
    local dev
    dev=$(readlink -f "$ROOT/sys/bus/pci/devices/$2")
    mkdir -p "$dev/graphics/$1" "$ROOT/sys/class/graphics"
    ln -s "$dev" "$dev/graphics/$1/device"
    ln -s "$dev/graphics/$1" "$ROOT/sys/class/graphics/$1"
}

test_a_second_gpu_without_the_console_leaves_the_host_console_alone() {
    desktop_with_consoles
    run claim 0000:01:00.0
    assert_rc 0
    assert_driver 0000:01:00.0 vfio-pci
    assert_vtcon vtcon1 1
    assert_not_err "console unbound"
    [ -z "$(state_of 0000:01:00.0 vtcon_unbound)" ] || fail "a console was recorded"
}

test_a_second_gpu_with_a_framebuffer_of_its_own_takes_the_console_off() {
    desktop_with_consoles
    graphics_fb fb1 0000:01:00.0 # nouveau's fbdev: fbcon may draw on it
    run claim 0000:01:00.0
    assert_rc 0
    assert_vtcon vtcon1 0
    [ "$(state_of 0000:01:00.0 vtcon_unbound)" = vtcon1 ] || fail "vtcon_unbound not recorded"
    [ -z "$(state_of 0000:01:00.0 fb_unbound)" ] || fail "a firmware framebuffer of a non-boot GPU"
    run release 0000:01:00.0
    assert_rc 0
    assert_driver 0000:01:00.0 nouveau
    assert_vtcon vtcon1 1
}

test_a_framebuffer_the_kernel_removed_is_reported_not_restored() {
    fixture single-gpu
    run claim --force "$GPU"
    assert_rc 0
    # Linux 6.0+: vfio-pci removes the firmware framebuffer of a VGA device it binds, for good;
    # fbcon's console leaves with the last framebuffer
    rm "$ROOT/sys/bus/platform/devices/$EFIFB" "$ROOT/sys/class/vtconsole/vtcon1"
    rm -r "$ROOT/sys/devices/platform/$EFIFB" "$ROOT/sys/devices/virtual/vtconsole/vtcon1"
    run release "$GPU"
    assert_rc 0
    assert_driver "$GPU" nvidia
    assert_err "$GPU: vtcon1, $EFIFB (efi-framebuffer) no longer exist (the kernel removes a firmware framebuffer"
    assert_err "the console comes back with the card's own driver"
    assert_not_err "console bound again"
    ! grep -q '^vtcon_unbound=\|^fb_unbound=' "$ROOT/run/vfio-claim/devices/$GPU" ||
        fail "what no longer exists is still recorded"
}

test_a_framebuffer_that_cannot_be_bound_again_fails_the_release_and_stays_recorded() {
    fixture single-gpu
    run claim --force "$GPU"
    assert_rc 0
    echo EBUSY >"$ROOT/.fakekernel/$EFIFB.fail-probe"
    run release "$GPU"
    assert_rc 1
    assert_driver "$GPU" nvidia # the host driver first: it is back
    assert_err "$GPU: cannot restore its console: bind '$EFIFB' to 'efi-framebuffer' failed: Device or resource busy; still unbound: $EFIFB (efi-framebuffer)"
    assert_vtcon vtcon1 1 # the rest is restored all the same
    assert_efifb none
    [ "$(state_of "$GPU" fb_unbound)" = "efi-framebuffer:$EFIFB" ] || fail "what is still unbound is not recorded"
    [ -z "$(state_of "$GPU" vtcon_unbound)" ] || fail "a restored console is still recorded"
}

test_a_boot_gpu_that_follows_a_guest_needs_force_and_gets_its_console_back_when_it_stops() {
    fixture single-gpu
    conf 10-desk.conf "claim $GPU when=guest"
    run claim --guest desk "$GPU"
    assert_rc 1
    assert_err "add 'force' to its claim at /etc/vfio-claim.d/10-desk.conf:1"
    assert_driver "$GPU" nvidia
    assert_console_on_host
    conf 10-desk.conf "claim $GPU when=guest force"
    mkdir -p "$ROOT/proc/4321/fd"
    ln -s /dev/dri/card0 "$ROOT/proc/4321/fd/10"
    echo Xorg >"$ROOT/proc/4321/comm"
    run claim --guest desk "$GPU"
    assert_rc 1
    assert_err "$GPU: held by Xorg (pid 4321) through /dev/dri/card0: stop the display manager first"
    assert_driver "$GPU" nvidia
    assert_console_on_host
    [ ! -e "$ROOT/run/vfio-claim/devices/$GPU" ] || fail "a refused start left a state entry"
    rm -r "$ROOT/proc/4321"
    run claim --guest desk "$GPU"
    assert_rc 0
    assert_driver "$GPU" vfio-pci
    assert_driver "$AUDIO" vfio-pci
    assert_vtcon vtcon1 0
    assert_efifb none
    assert_err "$GPU: console unbound before its driver: vtcon1, $EFIFB (efi-framebuffer)"
    run release --guest desk
    assert_rc 0
    assert_driver "$GPU" nvidia
    assert_driver "$AUDIO" snd_hda_intel
    assert_console_on_host
    assert_err "$GPU: console bound again: vtcon1, $EFIFB (efi-framebuffer)"
    ! grep -q '^vtcon_unbound=\|^fb_unbound=' "$ROOT/run/vfio-claim/devices/$GPU" ||
        fail "the console record was not cleared"
}
