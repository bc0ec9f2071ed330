#!/bin/bash
# VFIO variant drivers (SPEC §7) on the cloud fixture: its ConnectX-6 Dx VF (15b3:101e) has a
# vfio_pci: alias of mlx5_vfio_pci in modules.alias, whose module is not loaded yet.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VF=0000:17:00.2

test_the_plan_names_the_variant_driver() {
    fixture cloud
    conf 10.conf "claim 15b3:101e"
    run --json check
    assert_rc 0
    plan_has "^$VF claim selected by /etc/vfio-claim.d/10.conf:1 ('15b3:101e'); for VFIO variant driver 'mlx5_vfio_pci'" ||
        fail "the plan does not name mlx5_vfio_pci"
    # a device without a variant of its own keeps plain vfio-pci, and the reason says nothing
    conf 10.conf "claim 15b3:101e 00:14.0"
    run --json check
    plan_has "^0000:00:14.0 claim selected by /etc/vfio-claim.d/10.conf:1 ('00:14.0')$" ||
        fail "a device without a variant driver"
}

test_boot_claims_the_device_for_its_variant_driver() {
    fixture cloud
    conf 10.conf "claim 15b3:101e"
    run boot
    assert_rc 0
    [ "$(override_of $VF)" = mlx5_vfio_pci ] || fail "driver_override is '$(override_of $VF)'"
    assert_driver $VF mlx5_vfio_pci
    [ "$(cat "$ROOT/sys/module/mlx5_vfio_pci/initstate")" = live ] || fail "module not loaded"
    [ -e "$ROOT/dev/vfio/10" ] || fail "no /dev/vfio/10"
    assert_err "$VF: claimed for mlx5_vfio_pci, taken from host driver 'mlx5_core'"
    [ "$(state_of $VF driver)" = mlx5_vfio_pci ] || fail "state driver= '$(state_of $VF driver)'"
    [ "$(state_of $VF state)" = claimed ] || fail "state"
    [ "$(state_of $VF host_driver)" = mlx5_core ] || fail "host_driver"
    # every command takes it for claimed: status holds, list says claimed, a replay is a no-op
    run --json status
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}["'$VF'"]
assert d["driver"] == "mlx5_vfio_pci" and d["holds"], d
' <<<"$OUT" || fail "status --json"
    run list
    assert_out "claimed (initramfs)"
    local before
    before=$(snapshot)
    sleep 1
    run boot
    assert_rc 0
    run udev /devices/pci0000:00/0000:00:01.0/$VF
    assert_rc 0
    assert_out "VFIO_CLAIM=claimed"
    assert_not_err "driver_override names another driver"
    [ "$before" = "$(snapshot)" ] || fail "a second boot or the udev replay changed the tree"
}

test_driver_vfio_pci_on_the_claim_line_forces_plain_vfio_pci() {
    fixture cloud
    conf 10.conf "claim 15b3:101e driver=vfio-pci"
    run --json check
    plan_has "^$VF claim selected by /etc/vfio-claim.d/10.conf:1 ('15b3:101e')$" ||
        fail "the plan still names a variant"
    run boot
    assert_rc 0
    assert_driver $VF vfio-pci
    [ "$(override_of $VF)" = vfio-pci ] || fail "driver_override"
    [ ! -e "$ROOT/sys/module/mlx5_vfio_pci" ] || fail "the variant module was loaded"
    [ "$(state_of $VF driver)" = vfio-pci ] || fail "state driver="
}

test_claim_by_hand_with_driver_vfio_pci() {
    fixture cloud
    run claim --driver mlx5_vfio_pci $VF
    assert_rc 2
    assert_err "--driver takes only 'vfio-pci'"
    assert_driver $VF mlx5_core
    run claim --driver vfio-pci $VF
    assert_rc 0
    assert_driver $VF vfio-pci
    run release $VF
    run claim $VF
    assert_rc 0
    assert_driver $VF mlx5_vfio_pci
}

test_release_gives_the_device_back_from_its_variant_driver() {
    fixture cloud
    conf 10.conf "claim 15b3:101e"
    run boot
    assert_driver $VF mlx5_vfio_pci
    run release $VF
    assert_rc 0
    assert_out "$VF: released, now bound to 'mlx5_core'"
    assert_driver $VF mlx5_core
    [ "$(override_of $VF)" = "(null)" ] || fail "override not cleared"
    [ ! -e "$ROOT/dev/vfio/10" ] || fail "/dev/vfio/10 left"
    [ "$(state_of $VF state)" = released ] || fail "state"
    [ "$(state_of $VF driver)" = mlx5_core ] || fail "state driver="
}

test_a_failed_variant_probe_gives_the_device_back() {
    fixture cloud
    conf 10.conf "claim 15b3:101e"
    echo "ENODEV 1" >"$ROOT/.fakekernel/$VF.fail-probe"
    run boot
    assert_rc 1
    assert_err "$VF: probe with mlx5_vfio_pci failed"
    assert_driver $VF mlx5_core
    [ "$(override_of $VF)" = "(null)" ] || fail "override left"
}

# variant_module NAME ALIAS: a fake module with that vfio_pci: alias, indexed by depmod
variant_module() {
    local moddir="$ROOT/lib/modules/6.1.0-fixture" src
    src=$(mktemp --suffix=.c)
    printf '%s\n' "static const char modinfo[] __attribute__((section(\".modinfo\"), used, aligned(1))) =" \
        "\"alias=$2\\0name=$1\\0depends=\\0license=GPL\\0vermagic=6.1.0-fixture SMP mod_unload \";" >"$src"
    gcc -c -o "$moddir/kernel/drivers/vfio/pci/$1.ko" "$src" || fail "gcc"
    rm -f "$src"
    /usr/sbin/depmod -b "$ROOT" 6.1.0-fixture || fail "depmod"
}

test_the_most_specific_vfio_pci_alias_wins() {
    fixture cloud
    # vendor-wide and catch-all variant modules besides mlx5_vfio_pci's device-specific alias
    variant_module aaa_vfio_pci 'vfio_pci:v000015B3d*sv*sd*bc*sc*i*'
    variant_module zzz_vfio_pci 'vfio_pci:v*d*sv*sd*bc02sc*i*'
    grep -q "aaa_vfio_pci" "$ROOT/lib/modules/6.1.0-fixture/modules.alias" || fail "not indexed"
    conf 10.conf "claim 15b3:101e 18:00.0"
    run --json check
    plan_has "^$VF claim .*for VFIO variant driver 'mlx5_vfio_pci'" || fail "not the most specific"
    plan_has "^0000:18:00.0 claim .*for VFIO variant driver 'zzz_vfio_pci'" || fail "class-wide"
    # a blacklisted variant is not used: then the vendor-wide alias beats the class-wide one
    mkdir -p "$ROOT/etc/modprobe.d"
    echo "blacklist mlx5_vfio_pci" >"$ROOT/etc/modprobe.d/bl.conf"
    run --json check
    plan_has "^$VF claim .*for VFIO variant driver 'aaa_vfio_pci'" || fail "blacklist ignored, or class over vendor"
}

test_driver_option_errors_name_file_and_line() {
    fixture cloud
    conf 10.conf "claim 15b3:101e driver=mlx5_vfio_pci"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/10.conf:1: 'driver=mlx5_vfio_pci': driver= takes only 'vfio-pci'"
    conf 10.conf "claim 15b3:101e driver=vfio-pci driver=vfio-pci"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/10.conf:1: 'driver=vfio-pci': driver= given twice"
    conf 10.conf "exclude 15b3:101e driver=vfio-pci"
    run check
    assert_rc 2
    assert_err "exclude takes only selectors"
}

test_a_modprobe_d_alias_names_a_variant_driver_ranked_with_modules_alias() {
    fixture cloud
    mkdir -p "$ROOT/etc/modprobe.d"
    # kmod's rules: '-' is '_' in module names, lines may be continued
    printf '%s\n' 'alias vfio_pci:v00008086d*sv*sd*bc02sc*i* cfg-vfio-pci' \
        "alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* \\" '  vendor_vfio_pci' >"$ROOT/etc/modprobe.d/v.conf"
    conf 10.conf "claim 15b3:101e 18:00.0"
    run --json check
    assert_rc 0
    plan_has "^0000:18:00.0 claim .*for VFIO variant driver 'cfg_vfio_pci'" ||
        fail "the modprobe.d alias is not used"
    # modules.alias's device-specific alias of mlx5_vfio_pci beats the vendor-wide line
    plan_has "^$VF claim .*for VFIO variant driver 'mlx5_vfio_pci'" || fail "not the most specific"
    # a more specific modprobe.d line beats it; a blacklisted module is skipped
    echo 'alias vfio_pci:v000015B3d0000101Esv000015B3sd*bc*sc*i* my_mlx5_vfio_pci' \
        >>"$ROOT/etc/modprobe.d/v.conf"
    echo 'blacklist cfg_vfio_pci' >"$ROOT/etc/modprobe.d/bl.conf"
    run --json check
    plan_has "^$VF claim .*for VFIO variant driver 'my_mlx5_vfio_pci'" ||
        fail "the more specific modprobe.d alias lost"
    plan_has "^0000:18:00.0 claim selected by /etc/vfio-claim.d/10.conf:1 ('18:00.0')$" ||
        fail "a blacklisted modprobe.d variant is used"
}

# builtin_variant NAME ALIAS: a variant driver built into the fixture's kernel: its alias in
# modules.builtin.modinfo (NUL-separated MODULE.KEY=VALUE, as the kernel installs it, from
# which depmod makes modules.builtin.alias.bin), its path in modules.builtin
builtin_variant() {
    local moddir="$ROOT/lib/modules/6.1.0-fixture"
    printf '%s.alias=%s\0%s.license=GPL\0' "$1" "$2" "$1" >>"$moddir/modules.builtin.modinfo"
    echo "kernel/drivers/vfio/pci/$1.ko" >>"$moddir/modules.builtin"
    /usr/sbin/depmod -b "$ROOT" 6.1.0-fixture || fail "depmod"
}

test_a_variant_driver_built_into_the_kernel_is_used_and_cannot_be_blacklisted() {
    fixture cloud
    builtin_variant ice_vfio_pci 'vfio_pci:v00008086d*sv*sd*bc02sc*i*'
    builtin_variant vendor_vfio_pci 'vfio_pci:v000015B3d*sv*sd*bc*sc*i*'
    conf 10.conf "claim 15b3:101e 18:00.0"
    run --json check
    assert_rc 0
    plan_has "^0000:18:00.0 claim .*for VFIO variant driver 'ice_vfio_pci'" ||
        fail "the built-in variant is not used"
    plan_has "^$VF claim .*for VFIO variant driver 'mlx5_vfio_pci'" || fail "not the most specific"
    # modprobe's blacklist is about loading modules: a built-in driver is there from boot
    mkdir -p "$ROOT/etc/modprobe.d"
    echo 'blacklist ice_vfio_pci' >"$ROOT/etc/modprobe.d/bl.conf"
    run --json check
    plan_has "^0000:18:00.0 claim .*for VFIO variant driver 'ice_vfio_pci'" ||
        fail "a blacklist line dropped a built-in variant"
    # the claim: nothing to load, the driver the kernel registered at boot takes the device
    mkdir -p "$ROOT/sys/bus/pci/drivers/ice_vfio_pci"
    run boot
    assert_rc 0
    assert_driver 0000:18:00.0 ice_vfio_pci
    [ ! -e "$ROOT/sys/module/ice_vfio_pci/initstate" ] || fail "a built-in was inserted"
    [ "$(state_of 0000:18:00.0 driver)" = ice_vfio_pci ] || fail "state driver="
}
