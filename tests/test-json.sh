#!/bin/bash
# Every --json output is one document of the one schema (docs/vfio-claim.schema.json, SPEC §3):
# the same device object in list, check, status, claim, release and root-devices, null for
# unknown, arrays for lists, and valid UTF-8 whatever bytes the machine or the configuration held.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCHEMA="$TESTS_DIR/../docs/vfio-claim.schema.json"

# validate DOC: $OUT is valid UTF-8, parses as one JSON document, and is valid against the
# schema's definition DOC (list, check, status, claim, release, root-devices) and the whole schema
validate() {
    python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
    # shellcheck disable=SC2016 # "$defs" is JSON Schema's, not the shell's
    python3 -c '
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
raw = sys.stdin.buffer.read()
try:
    text = raw.decode("utf-8")  # strict: no invalid byte may get through
except UnicodeDecodeError as e:
    sys.exit("not UTF-8: %s" % e)
doc = json.loads(text)

def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)

for s in strings(doc):
    s.encode("utf-8")  # a lone surrogate escape (\ud800) is no character
one = dict(schema)
del one["anyOf"]
one["$ref"] = "#/$defs/" + sys.argv[2]
for s in (one, schema):
    errors = sorted(jsonschema.Draft202012Validator(s).iter_errors(doc), key=str)
    for e in errors[:5]:
        print("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message), file=sys.stderr)
    if errors:
        sys.exit("not valid against the schema (%s)" % sys.argv[2])
' "$SCHEMA" "$1" <<<"$OUT" || fail "$1 --json does not follow the schema"
}

# jq_py EXPR: prints the Python expression EXPR of the document in $OUT (as doc)
jq_py() { python3 -c 'import json, sys; doc = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$OUT"; }

pci_count() { find "$ROOT/sys/bus/pci/devices" -mindepth 1 -maxdepth 1 | wc -l; }

test_every_command_follows_the_schema_on_every_fixture_machine() {
    local m
    for m in desktop desktop-home server chipset noiommu; do
        fixture "$m"
        conf 10.conf "claim gpu net tag=vm" "claim 00:1f.6 01:00.* tag=router"
        run --json list
        assert_rc 0
        validate list
        [ "$(jq_py 'len(doc["devices"])')" -eq "$(pci_count)" ] || fail "$m: list misses devices"
        run --json check
        validate check
        [ "$(jq_py 'len(doc["devices"])')" -eq "$(pci_count)" ] || fail "$m: check misses devices"
        run --json root-devices
        assert_rc 0
        validate root-devices
        run --json boot
        run --json status
        assert_rc 0
        validate status
        run --json list --tag vm
        assert_rc 0
        validate list
        # export json: the same device objects, for what is claimed (or planned)
        run export json
        assert_rc 0
        validate list
        [ "$(jq_py 'all(d["state"] == "claimed" for d in doc["devices"])')" = True ] ||
            fail "$m: export json: $OUT"
        run export json --plan --tag router
        assert_rc 0
        validate list
        [ "$(jq_py 'all(d["decision"] == "claim" for d in doc["devices"])')" = True ] ||
            fail "$m: export json --plan: $OUT"
        run -v --json list net
        assert_rc 0
        validate list
    done
}

test_claim_and_release_describe_the_devices_they_moved() {
    fixture desktop
    run --json claim 00:1f.6
    assert_rc 0
    validate claim
    [ "$(jq_py '[(d["device"], d["driver"], d["state"], d["stage"]) for d in doc["devices"]]')" = \
        "[('0000:00:1f.6', 'vfio-pci', 'claimed', 'manual')]" ] || fail "claim --json"
    run --json release 00:1f.6
    assert_rc 0
    validate release
    [ "$(jq_py '[(d["device"], d["driver"], d["state"]) for d in doc["devices"]]')" = \
        "[('0000:00:1f.6', 'e1000e', 'released')]" ] || fail "release --json"
    assert_err "0000:00:1f.6: released, now bound to 'e1000e'"
    # a refused claim is still a device object, with the refusal
    run --json claim 00:02.0
    assert_rc 1
    validate claim
    [ "$(jq_py '[(d["device"], d["decision"], d["state"]) for d in doc["devices"]]')" = \
        "[('0000:00:02.0', 'refuse', None)]" ] || fail "refused claim --json"
}

test_the_device_object_holds_what_a_user_asks_about() {
    fixture desktop
    conf 10.conf "claim gpu tag=desktop-vm"
    run boot
    mkdir -p "$ROOT/proc/4242/fd"
    ln -s /dev/vfio/1 "$ROOT/proc/4242/fd/20"
    echo qemu-system-x86 >"$ROOT/proc/4242/comm"
    printf 'qemu-system-x86_64\0-name\0guest=test-vm-1,debug-threads=on\0' >"$ROOT/proc/4242/cmdline"
    run --json list
    validate list
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
g = d["0000:01:00.0"]
assert (g["domain"], g["bus"], g["slot"], g["function"]) == (0, 1, 0, 0), g
assert (g["vendor_id"], g["device_id"], g["class"], g["category"]) == ("10de", "1b80", "0x030000", "gpu"), g
assert (g["iommu_group"], g["driver"], g["decision"], g["tag"]) == (1, "vfio-pci", "claim", "desktop-vm"), g
assert (g["state"], g["stage"], g["host_driver"]) == ("claimed", "initramfs", "nouveau"), g
assert g["names"] == ["/dev/dri/card1"], g
assert g["holders"] == [{"pid": 4242, "command": "qemu-system-x86", "vm": "test-vm-1"}], g
a = d["0000:01:00.1"]
assert a["reason"] == "goes with 0000:01:00.0 (same slot and IOMMU group 1)" and a["tag"] == "desktop-vm", a
n = d["0000:3d:00.0"]
assert n["names"] == ["/dev/nvme0n1"] and n["protected_by"] == [
    "carries the root file system (\x27UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b\x27)"], n
e = d["0000:00:1f.6"]
assert e["names"] == ["eno1"] and e["protected_by"] == [] and e["holders"] == [] and e["tag"] is None, e
assert e["state"] is None and e["stage"] is None and e["vendor_name"] is None, e
' <<<"$OUT" || fail "list --json device objects"
    # the disks of a SATA controller and of a second NVMe, as /dev nodes
    fixture desktop-home
    run --json list
    validate list
    [ "$(jq_py '[d["names"] for d in doc["devices"] if d["device"] in ("0000:00:17.0", "0000:04:00.0")]')" = \
        "[['/dev/sda'], ['/dev/nvme1n1']]" ] || fail "attached disks: $OUT"
}

test_a_companion_claimed_by_hand_says_why_after_the_claim() {
    fixture desktop
    run claim 01:00.0
    assert_rc 0
    run --json list
    validate list
    [ "$(jq_py '[d["reason"] for d in doc["devices"] if d["device"] == "0000:01:00.1"][0]')" = \
        "claimed this boot (manual): goes with 0000:01:00.0 (same slot and IOMMU group 1)" ] ||
        fail "the companion's reason"
    run -v list 01:00.1
    assert_out "claimed (manual)"
    assert_out "claimed this boot (manual): goes with 0000:01:00.0"
    assert_not_out "not selected"
}

test_invalid_utf8_in_names_configuration_and_processes_stays_valid_json() {
    fixture desktop
    mkdir -p "$ROOT/usr/share/misc"
    # a vendor and a device name with bytes that are no UTF-8 (latin-1, a stray continuation)
    printf '10de  NVIDIA \xe9 Corporation\n\t1b80  GP104 \x80\xff [GeForce]\n' >"$ROOT/usr/share/misc/pci.ids"
    # an interface name with such bytes
    mkdir -p "$ROOT/sys/devices/pci0000:00/0000:00:1f.6/net/eth$(printf '\xfe\xc3')"
    # a configuration file whose name and a tag hold them: errors name the file and the token
    conf "$(printf '20-\xff.conf')" "$(printf 'claim gpu tag=vm\xc0\xaf')"
    conf 10.conf "claim 00:1f.6 tag=router"
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b ro vfio_claim=$(printf '\xed\xa0\x80')"
    run --json check
    assert_rc 2
    validate check
    [ "$(jq_py 'len(doc["errors"])')" -ge 2 ] || fail "the errors are not reported"
    run boot
    # a guest name and a command with such bytes
    mkdir -p "$ROOT/proc/77/fd"
    ln -s /dev/vfio/7 "$ROOT/proc/77/fd/3"
    printf 'qemu\xff\n' >"$ROOT/proc/77/comm"
    printf 'qemu-system-x86_64\0-name\0guest=vm-\xf5\x80,debug-threads=on\0' >"$ROOT/proc/77/cmdline"
    # and one whose command is empty: unknown, null, never ""
    mkdir -p "$ROOT/proc/78/fd"
    ln -s /dev/vfio/7 "$ROOT/proc/78/fd/3"
    : >"$ROOT/proc/78/comm"
    local doc
    for doc in list status root-devices; do
        run --json "$doc"
        assert_rc 0
        validate "$doc"
    done
    run --json list
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
g = d["0000:01:00.0"]
assert g["vendor_name"] == "NVIDIA \ufffd Corporation" and g["device_name"] == "GP104 \ufffd\ufffd [GeForce]", g
e = d["0000:00:1f.6"]
assert "eth\ufffd\ufffd" in e["names"], e
assert e["holders"][0]["command"] == "qemu\ufffd" and e["holders"][0]["vm"].startswith("vm-\ufffd"), e
assert e["holders"][1] == {"pid": 78, "command": None, "vm": None}, e
' <<<"$OUT" || fail "invalid bytes are not replaced by U+FFFD"
    run --json release 00:1f.6
    assert_rc 1 # held by the process
    validate release
}

test_list_filters_by_selector_and_tag() {
    fixture desktop
    conf 10.conf "claim gpu tag=desktop" "claim 00:1f.6 tag=router"
    run list --tag router
    assert_rc 0
    assert_out "0000:00:1f.6"
    assert_not_out "0000:01:00.0"
    [ "$(wc -l <<<"$OUT")" -eq 2 ] || fail "list --tag router: header and one device"
    run list gpu 3d:00.0
    assert_rc 0
    assert_out "0000:00:02.0"
    assert_out "0000:01:00.0"
    assert_out "0000:3d:00.0"
    assert_not_out "0000:01:00.1"
    run --json list --tag desktop 01:00.*
    validate list
    [ "$(jq_py '[d["device"] for d in doc["devices"]]')" = "['0000:01:00.0', '0000:01:00.1']" ] ||
        fail "selector and tag together"
    run list --tag nosuchtag
    assert_rc 0
    [ "$(wc -l <<<"$OUT")" -eq 1 ] || fail "an unknown tag lists no device"
    run list --tag
    assert_rc 2
    assert_err "list: option '--tag' needs an argument"
}
