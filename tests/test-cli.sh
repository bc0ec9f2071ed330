#!/bin/bash
# The command-line contract: help, version, bad options, exit codes, --json documents.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

test_help_goes_to_stdout_and_exits_0() {
    fixture desktop
    run --help
    assert_rc 0
    assert_out "Usage:"
    assert_out "vfio_claim=off"
    for c in list check boot udev claim release status; do assert_out " $c"; done
}

test_version() {
    fixture desktop
    run -V
    assert_rc 0
    [[ "$OUT" =~ ^vfio-claim\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version '$OUT'"
}

test_bad_option_says_try_help_and_exits_2() {
    fixture desktop
    run --frobnicate list
    assert_rc 2
    assert_err "Try 'vfio-claim --help' for more information."
    run list --frobnicate
    assert_rc 2
    run claim --frobnicate 01:00.0
    assert_rc 2
    assert_err "Try 'vfio-claim --help'"
}

test_unknown_or_missing_command_exits_2() {
    fixture desktop
    run frobnicate
    assert_rc 2
    assert_err "unknown command 'frobnicate'"
    run
    assert_rc 2
    assert_err "no command given"
}

test_bad_selector_on_the_command_line_exits_2_and_changes_nothing() {
    fixture desktop
    local before
    before=$(snapshot)
    run claim 01:00.9
    assert_rc 2
    assert_err "'01:00.9': a PCI address"
    run release 10de:xyz
    assert_rc 2
    run release
    assert_rc 2
    run release --all 01:00.0
    assert_rc 2
    [ "$before" = "$(snapshot)" ] || fail "the tree changed"
}

test_missing_sysfs_is_a_runtime_error_exit_1() {
    fixture desktop
    rm -rf "$ROOT/sys/bus/pci"
    run check
    assert_rc 1
    assert_err "cannot read PCI devices from '$ROOT/sys/bus/pci/devices'"
}

test_json_outputs_are_single_documents_with_the_contract_fields() {
    fixture desktop
    conf test.conf "claim gpu"
    local cmd
    for cmd in list check status; do
        run --json "$cmd"
        assert_rc 0
        python3 -c '
import json, sys
doc = json.loads(sys.stdin.read())
cmd = sys.argv[1]
assert isinstance(doc["devices"], list)
if cmd == "check":
    assert isinstance(doc["errors"], list)
    assert len(doc["devices"]) == 14, len(doc["devices"])
    for d in doc["devices"]:
        assert set(["device", "decision", "reason"]) <= set(d), d
        assert d["decision"] in ("claim", "keep", "refuse")
if cmd == "list":
    assert len(doc["devices"]) == 14
    nv = [d for d in doc["devices"] if d["device"] == "0000:3d:00.0"][0]
    assert nv["names"] == ["/dev/nvme0n1"] and nv["driver"] == "nvme" and nv["category"] == "nvme", nv
' "$cmd" <<<"$OUT" || fail "$cmd --json"
    done
}

test_list_shows_groups_names_drivers_and_why() {
    fixture desktop
    conf test.conf "claim gpu"
    run list
    assert_rc 0
    # one line per device, columns aligned: the header and every device line
    [ "$(wc -l <<<"$OUT")" -ge 15 ] || fail "not one line per device"
    assert_out "DEVICE       GROUP CATEGORY IDS       DRIVER        STATE    TAG USED-BY ATTACHED       NAME"
    assert_out "0000:01:00.0     1 gpu      10de:1b80 nouveau       selected -   -       /dev/dri/card1 -"
    assert_out "0000:00:02.0     2 gpu      8086:3e92 i915          refused  -   -       /dev/dri/card0 -"
    assert_out "0000:00:1f.6     7 net      8086:15bc e1000e        -        -   -       eno1           -"
    # the host's root disk: marked, and why
    assert_out "0000:3d:00.0     5 nvme     144d:a808 nvme          host     -   -       /dev/nvme0n1   -"
    assert_out "0000:3d:00.0: the host needs it: carries the root file system ('UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b')"
    assert_not_out "refuse: boot VGA device"
    # -v adds the decision and why
    run -v list
    assert_rc 0
    assert_out "refuse: boot VGA device"
    grep -q "^0000:00:02.0 .*refused .*refuse: boot VGA device" <<<"$OUT" || fail "REASON not on the device's line"
}

test_list_names_devices_from_pci_ids_under_the_root() {
    fixture desktop
    mkdir -p "$ROOT/usr/share/misc"
    printf '# pci.ids\n10de  NVIDIA Corporation\n\t1b80  GP104 [GeForce GTX 1080]\n\t10f0  GP104 High Definition Audio Controller\n8086  Intel Corporation\n\t15bc  Ethernet Connection (7) I219-V\n' \
        >"$ROOT/usr/share/misc/pci.ids"
    run list
    assert_rc 0
    assert_out "/dev/dri/card1 NVIDIA Corporation GP104 [GeForce GTX 1080]"
    assert_out "eno1           Intel Corporation Ethernet Connection (7) I219-V"
    # a vendor without this device: the vendor's name alone; an unknown vendor: nothing
    assert_out "0000:00:14.0     3 usb      8086:a36d xhci_hcd      -     -   -       -              Intel Corporation"
    assert_out "0000:3d:00.0     5 nvme     144d:a808 nvme          host  -   -       /dev/nvme0n1   -"
    run --json list
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
a = d["0000:01:00.1"]
assert (a["vendor_name"], a["device_name"]) == ("NVIDIA Corporation", "GP104 High Definition Audio Controller"), a
u = d["0000:00:14.0"]
assert (u["vendor_name"], u["device_name"]) == ("Intel Corporation", None), u
n = d["0000:3d:00.0"]
assert (n["vendor_name"], n["device_name"]) == (None, None), n
' <<<"$OUT" || fail "names in --json"
}

test_commands_without_arguments_refuse_extra_ones() {
    fixture desktop
    local c
    for c in check boot status; do
        run "$c" extra
        assert_rc 2
        assert_err "vfio-claim: error: $c takes no arguments: 'extra'"
    done
    # list takes selectors: one that is none is a usage error
    run list extra
    assert_rc 2
    assert_err "vfio-claim: error: 'extra': not a selector"
}

test_every_command_answers_help_with_its_usage_and_exit_0() {
    fixture desktop
    local c
    for c in list check boot udev claim release status root-devices; do
        run "$c" --help
        assert_rc 0
        assert_out "Usage:"
        assert_out "vfio-claim [options] $c"
        [ -z "$ERR" ] || fail "$c --help wrote to stderr"
    done
    # the one-line help of each command comes from its table entry
    run --help
    assert_out " release SELECTOR...|--all"
    assert_out " root-devices "
}

test_global_options_work_after_the_command() {
    fixture desktop
    conf test.conf "claim gpu"
    # --root after the command, --json after it, -v anywhere
    RC=0
    OUT=$(env LD_PRELOAD="$FAKEKERNEL" FAKEKERNEL_ROOT="$ROOT" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        "$VFIO_CLAIM" list --json --root "$ROOT" -v) || RC=$?
    assert_rc 0
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["devices"]) == 14' <<<"$OUT" ||
        fail "list --json --root DIR"
    run check --json
    assert_rc 0
    python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$OUT" || fail "check --json"
}

test_a_bad_option_names_the_command_and_the_option() {
    fixture desktop
    run release --frobnicate
    assert_rc 2
    assert_err "vfio-claim: error: release: unknown option '--frobnicate'"
    assert_err "Try 'vfio-claim --help' for more information."
    run status -x
    assert_rc 2
    assert_err "status: unknown option '-x'"
    run list --root
    assert_rc 2
    assert_err "list: option '--root' needs an argument"
}

test_a_write_error_on_stdout_exits_1() {
    fixture desktop
    [ -w /dev/full ] || skip "no /dev/full"
    RC=0
    vfio_claim --json check >/dev/full 2>"$ROOT/err" || RC=$?
    ERR=$(cat "$ROOT/err")
    assert_rc 1
    assert_err "write error on standard output: No space left on device"
    RC=0
    vfio_claim list >/dev/full 2>"$ROOT/err" || RC=$?
    assert_rc 1
}
