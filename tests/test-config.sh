#!/bin/bash
# Configuration and kernel command line: every selector form, and bad input that changes nothing.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Malformed configuration lines: each must give exit 2 from check, FILE:LINE and the token.
BAD_LINES=(
    "claim|'claim' needs at least one selector"
    "exclude|'exclude' needs at least one selector"
    "claim 1:00.0|PCI address"
    "claim 001:00.0|PCI address"
    "claim 01:00.8|PCI address"
    "claim 01:20.0|PCI address"
    "claim 01:00|ids are VENDOR:DEVICE"
    "claim 01:00.00|PCI address"
    "claim 0000:01:00|ids are VENDOR:DEVICE"
    "claim 00000:01:00.0|PCI address"
    "claim zz:00.0|PCI address"
    "claim 10de|not a selector"
    "claim 10de:1b8|ids are VENDOR:DEVICE"
    "claim 10de:1b80:1458|ids are VENDOR:DEVICE"
    "claim 10de:1b80:1458:3fd4:0001|ids are VENDOR:DEVICE"
    "claim 0x10de:1b80|ids are VENDOR:DEVICE"
    "claim 10dg:1b80|ids are VENDOR:DEVICE"
    "claim gpus|not a selector"
    "claim GPU|not a selector"
    "claim class=0x03|six hex digits"
    "claim class=0x1000000|a class is"
    "claim class=0x030000/0|the mask is 0"
    "claim class=0x030000/0x00ff00|bits outside its mask"
    "claim class=|a class is"
    "claim path=|a PCI path"
    "claim path=0000:00:1c.0/|a PCI path"
    "claim path=00:1c.0/00.0|a PCI path"
    "claim path=0000:00:1c.0/0.0|a PCI path"
    "claim path=0000:00:1c.0//00.0|a PCI path"
    "claim gpu force|applies only to devices named by address"
    "claim 01:00.0 force force|given twice"
    "claim gpu tag=|a tag is"
    "claim gpu tag=a tag=b|given twice"
    "claim gpu tag=bad/name|a tag is"
    "claim gpu owner=|not a user name"
    "claim gpu owner='root'|not a user name"
    "claim gpu mode=0668|octal number"
    "claim gpu mode=01777|octal number"
    "claim gpu mode=rw|octal number"
    "claim gpu colour=red|unknown keyword"
    "exclude gpu force|not a selector"
    "exclude gpu tag=x|exclude takes only selectors"
    "permissions|'permissions' needs owner="
    "permissions owner=root mode=9|octal number"
    "permissions user=root|'permissions' takes owner="
    "option|'option' takes one NAME=VALUE"
    "option allow-boot-vga|an option is NAME=VALUE"
    "option allow-boot-vga=maybe|allow-boot-vga takes yes or no"
    "option keep-usb=2|keep-usb takes 1 or 0"
    "option group-policy=all|group-policy takes strict or whole"
    "option colour=blue|unknown option"
    "option keep-usb=1 extra|'option' takes one NAME=VALUE"
    "clam gpu|unknown directive"
    "claim\\ gpu|unknown directive"
    "install vfio-pci /bin/true|unknown directive"
)

test_at_least_30_malformed_lines_each_exit_2_with_file_line_token_and_no_write() {
    [ ${#BAD_LINES[@]} -ge 30 ] || fail "only ${#BAD_LINES[@]} malformed lines"
    fixture desktop
    for entry in "${BAD_LINES[@]}"; do
        local line=${entry%%|*} want=${entry#*|}
        conf 50-bad.conf "# a comment" "claim 01:00.0" "$line"
        local before
        before=$(snapshot)
        run check
        [ "$RC" -eq 2 ] || fail "'$line': exit $RC, expected 2"
        assert_err "/etc/vfio-claim.d/50-bad.conf:3: "
        assert_err "$want"
        run boot
        [ "$(driver_of 0000:01:00.0)" = nouveau ] || fail "'$line': boot claimed from a broken file"
        # boot records the error in the state directory and changes nothing else
        grep -qF "50-bad.conf:3" "$ROOT/run/vfio-claim/config-errors" || fail "'$line': no config-errors"
        rm -rf "$ROOT/run/vfio-claim" "$ROOT/run/udev"
        [ "$before" = "$(snapshot)" ] || fail "'$line': the tree changed"
    done
}

test_error_names_the_offending_token() {
    fixture desktop
    conf 10-gpu.conf "claim gpu" "" "claim 10de:1b80 bogus"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/10-gpu.conf:3: 'bogus': not a selector"
}

test_broken_file_is_not_half_applied_but_others_are() {
    fixture desktop
    conf 10-good.conf "claim 00:1f.6"
    conf 20-broken.conf "claim 01:00.0" "claim nonsense"
    run --json check
    assert_rc 2
    plan_has "^0000:00:1f.6 claim selected by /etc/vfio-claim.d/10-good.conf:1 (.00:1f.6.)$" ||
        fail "the good file was not applied"
    plan_has "^0000:01:00.0 keep not selected" || fail "the broken file was half-applied"
    python3 -c '
import json, sys
e = json.load(sys.stdin)["errors"]
assert e == [{"file": "/etc/vfio-claim.d/20-broken.conf", "line": 2,
              "message": e[0]["message"]}], e
assert "nonsense" in e[0]["message"]
' <<<"$OUT" || fail "errors in --json"
}

BAD_CMDLINES=(
    "vfio_claim=|empty selector"
    "vfio_claim=01:00.0,,gpu|empty selector"
    "vfio_claim=01:00.0,|empty selector"
    "vfio_claim=gpu,bogus|not a selector"
    "vfio_claim=01:00.9|PCI address"
    "vfio_claim=gpu:force|ids are VENDOR:DEVICE"
    "vfio_claim.exclude=10de:xyz|ids are VENDOR:DEVICE"
    "vfio_claim.exclud=01:00.0|unknown parameter"
)

test_malformed_cmdline_values_exit_2_and_the_whole_parameter_is_ignored() {
    [ ${#BAD_CMDLINES[@]} -ge 5 ] || fail "too few"
    fixture desktop
    for entry in "${BAD_CMDLINES[@]}"; do
        local value=${entry%%|*} want=${entry#*|} before
        cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b ro $value vfio_claim=00:1f.6"
        before=$(snapshot)
        run --json check
        [ "$RC" -eq 2 ] || fail "'$value': exit $RC"
        assert_err "vfio_claim"
        assert_err "$want"
        # no half of the bad one applies; a bad claim is ignored (claiming less is safe) and
        # the valid one still applies, but a bad exclude means its devices are unknown: then
        # nothing is claimed from the configuration this boot (SPEC §5)
        plan_has "^0000:01:00.0 keep" || fail "'$value': half-applied"
        case $value in
        vfio_claim.ex*)
            plan_has "^0000:00:1f.6 keep an exclude could not be read (vfio_claim.exclud" ||
                fail "'$value': a bad exclude widened the claims"
            ;;
        *) plan_has "^0000:00:1f.6 claim selected by cmdline" || fail "'$value': good param lost" ;;
        esac
        [ "$before" = "$(snapshot)" ] || fail "'$value': check wrote to the tree"
    done
}

test_every_selector_form_selects_the_right_devices() {
    fixture desktop
    local sel want
    while IFS='|' read -r sel want; do
        conf 10-sel.conf "option keep-usb=0" "option group-policy=whole" "claim $sel"
        run --json check
        assert_rc 0
        got=$(plan_lines | awk '$2 != "keep" {print $1}' | sed 's/^0000://' | tr '\n' ' ')
        [ "$got" = "$want" ] || fail "'$sel' selects '$got', expected '$want'"
    done <<'EOF_SEL'
0000:00:1f.6|00:1f.6 
00:1f.6|00:1f.6 
01:00.*|01:00.0 01:00.1 
01:00.1|01:00.0 01:00.1 
10de:1b80|01:00.0 01:00.1 
10de:*|01:00.0 01:00.1 
8086:15bc:*:*|00:1f.6 
1b21:2142|02:00.0 
net|00:1f.6 
usb|00:14.0 02:00.0 
storage|3d:00.0 
nvme|3d:00.0 
class=0x0c0330|00:14.0 02:00.0 
class=0x020000/0xff0000|00:1f.6 
path=0000:00:1c.0/00.0|02:00.0 
path=0000:00:1f.6|00:1f.6 
EOF_SEL
}

test_etc_replaces_same_named_usr_lib_file_and_order_is_lexical() {
    fixture desktop
    mkdir -p "$ROOT/usr/lib/vfio-claim.d"
    printf 'claim 00:1f.6\n' >"$ROOT/usr/lib/vfio-claim.d/10-net.conf"
    printf 'claim 02:00.0\n' >"$ROOT/usr/lib/vfio-claim.d/20-usb.conf"
    conf 10-net.conf "# replaced by the admin: no claim"
    run --json check
    assert_rc 0
    plan_has "^0000:00:1f.6 keep" || fail "/etc did not replace /usr/lib"
    plan_has "^0000:02:00.0 claim selected by /usr/lib/vfio-claim.d/20-usb.conf:1" || fail "/usr/lib not read"
    # a file masked with /dev/null is ignored; later files set options last
    ln -sf /dev/null "$ROOT/etc/vfio-claim.d/20-usb.conf"
    run --json check
    plan_has "^0000:02:00.0 keep" || fail "masked file read"
}

test_cmdline_claims_excludes_and_off() {
    fixture desktop
    conf 10.conf "claim net"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio_claim=02:00.0,1b21:2142 vfio_claim.exclude=00:1f.6"
    run --json check
    assert_rc 0
    plan_has "^0000:02:00.0 claim selected by cmdline ('02:00.0')" || fail "vfio_claim= not applied"
    plan_has "^0000:00:1f.6 keep excluded by cmdline ('00:1f.6')" || fail "exclude not applied"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio_claim=02:00.0 quiet \"vfio_claim=off\""
    run --json check
    assert_rc 0
    [ "$(plan_lines | awk '$2 != "keep"' | wc -l)" -eq 0 ] || fail "vfio_claim=off claims"
    plan_has "^0000:00:1f.6 keep vfio_claim=off on the kernel command line" || fail "reason"
}
