#!/bin/bash
# export FORMAT: the claimed (or planned) devices in each consumer's format, checked by the
# consumer's own schema or a strict parser: libvirt's domain schema (virt-xml-validate), YAML
# (python3-yaml) field by field, the Prometheus text format, QEMU's own -device checks.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The desktop with its GPU and the GPU's audio function claimed (tag gaming), the onboard NIC
# claimed (tag router), and names for them in the root's pci.ids.
claimed_desktop() {
    fixture desktop
    conf 10-gpu.conf "claim gpu tag=gaming"
    conf 20-net.conf "claim 00:1f.6 tag=router"
    pci_ids '10de  NVIDIA Corporation' '	1b80  GP104 [GeForce GTX 1080]' \
        '	10f0  GP104 High Definition Audio Controller' '8086  Intel Corporation' \
        '	15bc  Ethernet Connection (7) I219-V'
    run boot
    assert_rc 0
    assert_driver 0000:01:00.0 vfio-pci
    assert_driver 0000:01:00.1 vfio-pci
    assert_driver 0000:00:1f.6 vfio-pci
}

pci_ids() { # pci_ids LINES...: the root's pci.ids (printf %b: \xNN writes any byte)
    mkdir -p "$ROOT/usr/share/misc"
    printf '%b\n' '# pci.ids' "$@" >"$ROOT/usr/share/misc/pci.ids"
}

# Names no format may copy raw: quotes, a backslash, markup, two dashes, a YAML comment and
# mapping mark, bytes that are not UTF-8, a trailing dash.
NASTY_VENDOR='NVIDIA "Corp" \\ <&> -- x'
NASTY_DEVICE='GP104 [GeForce: GTX #1080] \xff\xfe end-'

# The devices of export json's output, one address a line
json_devices() {
    python3 -c '
import json, sys
for d in json.load(sys.stdin)["devices"]:
    print(d["device"])
' <<<"$OUT"
}

# libvirt's <hostdev> elements inside a minimal domain, validated with libvirt's own schema
validate_libvirt() {
    command -v virt-xml-validate >/dev/null || skip "virt-xml-validate (libvirt-clients) is not installed"
    local xml="$ROOT/domain.xml"
    {
        echo "<domain type='kvm'><name>export-test</name><memory>131072</memory>"
        echo "<os><type>hvm</type></os><devices>"
        printf '%s\n' "$OUT"
        echo "</devices></domain>"
    } >"$xml"
    virt-xml-validate "$xml" domain >/dev/null 2>&1 ||
        fail "libvirt's domain schema rejects the output: $(virt-xml-validate "$xml" domain 2>&1)"
}

# A strict reader of the Prometheus text format (exposition format 0.0.4) that prints each
# sample as JSON: UTF-8, HELP and TYPE once per metric before its samples, the samples of a
# metric together, names and label names as the format allows, label values with only the
# escapes \\ \" \n, no label set twice, values that are numbers.
prom_parse() {
    python3 -c '
import json, re, sys
raw = sys.stdin.buffer.read()
text = raw.decode("utf-8")  # strict: invalid UTF-8 fails
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
def die(msg, line):
    sys.exit("line %r: %s" % (line, msg))
helps, types, done, samples, seen = set(), {}, set(), [], set()
current = None
for line in text.split("\n"):
    if line == "":
        continue
    if line.startswith("#"):
        m = re.fullmatch(r"# (HELP|TYPE) (\S+) (.*)", line)
        if not m:
            die("a comment that is not HELP or TYPE", line)
        kind, name, rest = m.groups()
        if not NAME.fullmatch(name):
            die("bad metric name", line)
        if name in done or (kind == "HELP" and name in helps) or (kind == "TYPE" and name in types):
            die("HELP or TYPE twice, or after the samples", line)
        if kind == "TYPE":
            if rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                die("bad type", line)
            types[name] = rest
        else:
            helps.add(name)
        continue
    m = NAME.match(line)
    if not m:
        die("no metric name", line)
    name, i, labels = m.group(0), m.end(), {}
    if name != current:
        if name in done:
            die("samples of a metric apart", line)
        if current:
            done.add(current)
        current = name
    if name not in types or name not in helps:
        die("sample before its HELP and TYPE", line)
    if i < len(line) and line[i] == "{":
        i += 1
        while line[i] != "}":
            lm = LABEL.match(line, i)
            if not lm or line[lm.end():lm.end() + 2] != "=\"":
                die("bad label", line)
            key, i, val = lm.group(0), lm.end() + 2, ""
            while line[i] != "\"":
                if line[i] == "\\":
                    esc = line[i + 1]
                    if esc not in "\\\"n":
                        die("bad escape", line)
                    val += {"n": "\n"}.get(esc, esc)
                    i += 2
                else:
                    val += line[i]
                    i += 1
            i += 1
            if key in labels:
                die("label twice", line)
            labels[key] = val
            if line[i] == ",":
                i += 1
        i += 1
    rest = line[i:]
    if not rest.startswith(" "):
        die("no space before the value", line)
    value = float(rest.split()[0])
    if len(rest.split()) > 2:
        die("junk after the value", line)
    key = (name, tuple(sorted(labels.items())))
    if key in seen:
        die("the same label set twice", line)
    seen.add(key)
    samples.append(dict(name=name, labels=labels, value=value))
for name in types:
    if types[name] and name not in helps:
        sys.exit("TYPE without HELP: " + name)
print(json.dumps(samples))
'
}

test_export_libvirt_validates_against_libvirts_domain_schema() {
    claimed_desktop
    run export libvirt
    assert_rc 0
    [ "$(grep -c "<hostdev mode='subsystem' type='pci' managed='no'>" <<<"$OUT")" = 3 ] ||
        fail "expected three <hostdev> elements"
    validate_libvirt
    python3 -c '
import sys, xml.etree.ElementTree as ET
doc = ET.fromstring("<devices>" + sys.stdin.read() + "</devices>")
got = [(h.get("managed"), tuple(h.find("source/address").get(k) for k in ("domain", "bus", "slot", "function")))
       for h in doc.findall("hostdev")]
want = [("no", ("0x0000", "0x00", "0x1f", "0x6")), ("no", ("0x0000", "0x01", "0x00", "0x0")),
        ("no", ("0x0000", "0x01", "0x00", "0x1"))]
assert got == want, got
' <<<"$OUT" || fail "the source addresses are not the claimed devices"
    assert_out "<!-- 0000:01:00.0 NVIDIA Corporation GP104 [GeForce GTX 1080] -->"
}

test_export_libvirt_stays_valid_xml_whatever_bytes_the_names_hold() {
    claimed_desktop
    pci_ids "10de  $NASTY_VENDOR" "	1b80  $NASTY_DEVICE"
    run export libvirt 01:00.0
    assert_rc 0
    validate_libvirt
    python3 -c '
import sys
from xml.dom import minidom
doc = minidom.parseString(b"<devices>" + sys.stdin.buffer.read() + b"</devices>")
comment = [n for n in doc.getElementsByTagName("hostdev")[0].childNodes if n.nodeType == n.COMMENT_NODE][0].data
assert comment == " 0000:01:00.0 NVIDIA \"Corp\" \\ <&> - - x GP104 [GeForce: GTX #1080] \ufffd\ufffd end- ", repr(comment)
' <<<"$OUT" || fail "the name in the comment"
}

test_export_qemu_keeps_the_functions_of_a_slot_together() {
    claimed_desktop
    run export qemu
    assert_rc 0
    # 00:1f.6 is function 6 of a slot whose function 0 is not exported: the guest needs a 0
    local want
    want=$(
        cat <<'EOF'
-device pcie-root-port,id=vfio-claim-port0,chassis=64,slot=0
-device vfio-pci,host=0000:00:1f.6,id=hostdev-0000-00-1f-6,bus=vfio-claim-port0,addr=00.0
-device pcie-root-port,id=vfio-claim-port1,chassis=65,slot=0
-device vfio-pci,host=0000:01:00.0,id=hostdev-0000-01-00-0,bus=vfio-claim-port1,addr=00.0,multifunction=on
-device vfio-pci,host=0000:01:00.1,id=hostdev-0000-01-00-1,bus=vfio-claim-port1,addr=00.1
EOF
    )
    [ "$OUT" = "$want" ] || fail "the -device arguments differ from: $want"
    # every line is two words that no shell splits or expands
    ! grep -qv '^-device [A-Za-z0-9,.:=_-]*$' <<<"$OUT" || fail "a line is not shell-safe"
}

test_export_qemu_arguments_are_accepted_by_qemu() {
    command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
    claimed_desktop
    run export qemu
    assert_rc 0
    # vfio-pci needs the host device; pci-testdev takes its place to check the guest layout
    local args=() line qtree
    while read -r line; do
        line=${line#-device }
        [[ $line != vfio-pci,host=* ]] || line=pci-testdev,${line#vfio-pci,host=*,}
        args+=(-device "$line")
    done <<<"$OUT"
    qtree=$(printf 'info qtree\nquit\n' | timeout 60 qemu-system-x86_64 -machine q35,accel=tcg \
        -nodefaults -display none -S -monitor stdio "${args[@]}" 2>&1) ||
        fail "qemu rejects the arguments: $qtree"
    # both functions of the GPU's slot sit behind one root port, as functions 0 and 1
    python3 -c '
import re, sys
lines = sys.stdin.read().split("\n")
start = [i for i, l in enumerate(lines) if l.strip() == "bus: vfio-claim-port1"][0]
indent = len(lines[start]) - len(lines[start].lstrip())
port = []
for l in lines[start + 1:]:
    if l.strip() and len(l) - len(l.lstrip()) <= indent:
        break
    port.append(l)
port = "\n".join(port)
ids = re.findall(r"id \"(hostdev-[^\"]+)\"", port)
addrs = re.findall(r"addr = (\S+)", port)
assert ids == ["hostdev-0000-01-00-0", "hostdev-0000-01-00-1"] or ids == ["hostdev-0000-01-00-1", "hostdev-0000-01-00-0"], ids
assert sorted(addrs) == ["00.0", "00.1"], addrs
' <<<"$qtree" || fail "the GPU's functions are not one slot in the guest: $qtree"
    # the same layout without multifunction=on is refused by QEMU: the check can fail
    args=("${args[@]/,multifunction=on/}")
    ! printf 'quit\n' | timeout 60 qemu-system-x86_64 -machine q35,accel=tcg -nodefaults \
        -display none -S -monitor stdio "${args[@]}" >/dev/null 2>&1 ||
        fail "qemu took function 1 without multifunction=on on function 0"
}

test_export_kdevops_yaml_has_numbers_and_a_name_per_device() {
    claimed_desktop
    run export kdevops
    assert_rc 0
    python3 -c '
import sys, yaml
doc = yaml.safe_load(sys.stdin)
p = doc["pcipassthrough"]
assert list(doc) == ["pcipassthrough"], doc
assert sorted(p) == ["passthrough_0000_00_1f_6", "passthrough_0000_01_00_0", "passthrough_0000_01_00_1"], sorted(p)
gpu = p["passthrough_0000_01_00_0"]
# kdevops hex()es them: numbers, not strings
assert gpu["domain"] == 0 and gpu["bus"] == 1 and gpu["slot"] == 0 and gpu["function"] == 0, gpu
assert all(type(gpu[k]) is int for k in ("domain", "bus", "slot", "function")), gpu
assert gpu["name"] == "NVIDIA Corporation GP104 [GeForce GTX 1080]", gpu
nic = p["passthrough_0000_00_1f_6"]
assert (nic["bus"], nic["slot"], nic["function"]) == (0, 0x1f, 6), nic
assert nic["name"] == "Intel Corporation Ethernet Connection (7) I219-V", nic
assert p["passthrough_0000_01_00_1"]["function"] == 1
' <<<"$OUT" || fail "kdevops YAML"
}

test_export_yaml_is_safe_for_any_name() {
    claimed_desktop
    pci_ids "10de  $NASTY_VENDOR" "	1b80  $NASTY_DEVICE"
    run export kdevops 01:00.0
    assert_rc 0
    python3 -c '
import sys, yaml
doc = yaml.safe_load(sys.stdin.buffer.read().decode("utf-8"))
name = doc["pcipassthrough"]["passthrough_0000_01_00_0"]["name"]
assert name == "NVIDIA \"Corp\" \\ <&> -- x GP104 [GeForce: GTX #1080] \ufffd\ufffd end-", repr(name)
' <<<"$OUT" || fail "kdevops name"
    run export libvirt-provider 01:00.0
    assert_rc 0
    python3 -c '
import sys, yaml
doc = yaml.safe_load(sys.stdin.buffer.read().decode("utf-8"))
v = doc["vendors"][0]
assert v["name"] == "nvidia-corp-x", v
assert v["devices"][0]["name"] == "gp104-geforce-gtx-1080-end", v
' <<<"$OUT" || fail "libvirt-provider names"
}

test_export_libvirt_provider_writes_pci_devices_yaml() {
    claimed_desktop
    run export libvirt-provider
    assert_rc 0
    python3 -c '
import re, sys, yaml
doc = yaml.safe_load(sys.stdin)
vendors = {v["id"]: v for v in doc["vendors"]}
assert sorted(vendors) == ["0x10de", "0x8086"], vendors
nv = vendors["0x10de"]
assert nv["name"] == "nvidia-corporation", nv
# libvirt-provider matches a device entry by vendor and PCI class (the sysfs class file)
assert nv["devices"] == [
    {"id": "0x030000", "name": "gp104-geforce-gtx-1080", "type": "gpu"},
    {"id": "0x040300", "name": "gp104-high-definition-audio-controller", "type": "audio"}], nv
intel = vendors["0x8086"]
assert intel["name"] == "intel-corporation", intel
assert intel["devices"] == [{"id": "0x020000", "name": "ethernet-connection-7-i219-v", "type": "network"}], intel
# what its validator and its resource names (TYPE.VENDOR/DEVICE) need
for v in doc["vendors"]:
    assert type(v["id"]) is str and re.fullmatch("0x[0-9a-f]+", v["id"])
    assert len({d["id"] for d in v["devices"]}) == len(v["devices"])
    assert len({d["name"] for d in v["devices"]}) == len(v["devices"])
    for d in v["devices"]:
        assert re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", d["type"] + "." + v["name"]), (d, v)
        assert re.fullmatch(r"[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?", d["name"]), d
' <<<"$OUT" || fail "pci_devices.yaml"
}

test_export_libvirt_provider_gives_one_entry_per_vendor_and_class() {
    # the server's two i210 ports: one model, one class, so one entry that lists both
    fixture server
    conf 10-net.conf "claim 03:00.0 04:00.0"
    run boot
    assert_rc 0
    assert_driver 0000:03:00.0 vfio-pci
    assert_driver 0000:04:00.0 vfio-pci
    run export libvirt-provider
    assert_rc 0
    python3 -c '
import sys, yaml
doc = yaml.safe_load(sys.stdin)
assert doc == {"vendors": [{"id": "0x8086", "name": "vendor-8086", "devices": [
    {"id": "0x020000", "name": "device-1533", "type": "network"}]}]}, doc
' <<<"$OUT" || fail "one entry for both ports"
    assert_out "# 0000:03:00.0 8086:1533"
    assert_out "# 0000:04:00.0 8086:1533"
}

test_export_prometheus_is_a_valid_textfile_with_one_gauge_per_device_and_state() {
    claimed_desktop
    run export prometheus
    assert_rc 0
    local samples
    samples=$(printf '%s\n' "$OUT" | prom_parse) || fail "not the Prometheus text format: $samples"
    python3 -c '
import json, sys
samples = json.load(sys.stdin)
state = [s for s in samples if s["name"] == "vfio_claim_device_state"]
devices = sorted({s["labels"]["device"] for s in state})
assert devices == ["0000:00:1f.6", "0000:01:00.0", "0000:01:00.1"], devices
for dev in devices:
    mine = [s for s in state if s["labels"]["device"] == dev]
    assert sum(s["value"] for s in mine) == 1, mine
    assert [s["labels"]["state"] for s in mine if s["value"] == 1] == ["claimed"], mine
gpu = [s["labels"] for s in state if s["labels"]["device"] == "0000:01:00.0"][0]
assert gpu["tag"] == "gaming" and gpu["category"] == "gpu", gpu
nic = [s["labels"] for s in state if s["labels"]["device"] == "0000:00:1f.6"][0]
assert nic["tag"] == "router" and nic["category"] == "net", nic
info = {s["labels"]["device"]: s["labels"] for s in samples if s["name"] == "vfio_claim_device_info"}
assert info["0000:01:00.0"]["device_name"] == "GP104 [GeForce GTX 1080]", info
assert info["0000:01:00.0"]["iommu_group"] == "1" and info["0000:01:00.0"]["driver"] == "vfio-pci", info
' <<<"$samples" || fail "the gauges: $samples"
    # Prometheus' own linter too, where it is installed (Debian's prometheus package)
    if command -v promtool >/dev/null; then
        promtool check metrics <<<"$OUT" || fail "promtool rejects the textfile"
    fi
}

test_export_prometheus_escapes_label_values() {
    claimed_desktop
    pci_ids "10de  $NASTY_VENDOR" "	1b80  $NASTY_DEVICE"
    run export prometheus 01:00.0
    assert_rc 0
    local samples
    samples=$(printf '%s\n' "$OUT" | prom_parse) || fail "not the Prometheus text format: $samples"
    python3 -c '
import json, sys
info = [s["labels"] for s in json.load(sys.stdin) if s["name"] == "vfio_claim_device_info"][0]
assert info["vendor_name"] == "NVIDIA \"Corp\" \\ <&> -- x", info
assert info["device_name"] == "GP104 [GeForce: GTX #1080] \ufffd\ufffd end-", info
' <<<"$samples" || fail "label values: $samples"
}

test_export_prometheus_says_when_a_planned_device_lost_vfio_pci() {
    claimed_desktop
    # the GPU's audio function went back to its host driver behind our back
    local drivers="$ROOT/sys/bus/pci/drivers" link="$ROOT/sys/bus/pci/devices/0000:01:00.1/driver"
    local target
    mv "$drivers/vfio-pci/0000:01:00.1" "$drivers/snd_hda_intel/0000:01:00.1"
    target=$(readlink "$link")
    ln -sfn "${target%/*}/snd_hda_intel" "$link"
    assert_driver 0000:01:00.1 snd_hda_intel
    run export --plan prometheus "01:00.*"
    assert_rc 0
    assert_out 'vfio_claim_device_state{device="0000:01:00.1",tag="gaming",category="audio",state="lost"} 1'
    assert_out 'vfio_claim_device_state{device="0000:01:00.1",tag="gaming",category="audio",state="claimed"} 0'
    assert_out 'vfio_claim_device_state{device="0000:01:00.0",tag="gaming",category="gpu",state="claimed"} 1'
    # without --plan only what is on vfio-pci now
    run export prometheus "01:00.*"
    assert_not_out '0000:01:00.1'
}

test_export_selectors_and_tags_choose_the_devices() {
    claimed_desktop
    run export json 01:00.1
    assert_rc 0
    [ "$(json_devices)" = "0000:01:00.1" ] || fail "selector 01:00.1"
    run export json "10de:*" net
    [ "$(json_devices | tr '\n' ' ')" = "0000:00:1f.6 0000:01:00.0 0000:01:00.1 " ] || fail "two selectors"
    run export json --tag router
    assert_rc 0
    [ "$(json_devices)" = "0000:00:1f.6" ] || fail "--tag router"
    run export --tag gaming json
    [ "$(json_devices | tr '\n' ' ')" = "0000:01:00.0 0000:01:00.1 " ] || fail "--tag gaming"
    # a selector and a tag: both must hold
    run export json --tag gaming net
    assert_rc 0
    [ -z "$(json_devices)" ] || fail "net has tag router, not gaming"
    assert_err "no device is on vfio-pci that the selectors match with tag gaming"
    # a device that is not claimed is never exported, even when named
    run export json 00:14.0
    assert_rc 0
    [ -z "$(json_devices)" ] || fail "00:14.0 is not claimed"
}

test_export_plan_exports_what_the_configuration_claims() {
    fixture desktop
    conf 10-gpu.conf "claim gpu tag=gaming"
    conf 20-net.conf "claim 00:1f.6 tag=router"
    run export json
    assert_rc 0
    [ -z "$(json_devices)" ] || fail "nothing is claimed before the boot"
    assert_err "no device is on vfio-pci"
    run export --plan json
    assert_rc 0
    [ "$(json_devices | tr '\n' ' ')" = "0000:00:1f.6 0000:01:00.0 0000:01:00.1 " ] || fail "--plan"
    # the tag of the rule that selects it (the audio function goes with its GPU's rule)
    run export --plan --tag gaming prometheus
    assert_rc 0
    assert_out 'vfio_claim_device_state{device="0000:01:00.1",tag="gaming",category="audio",state="unclaimed"} 1'
    assert_not_out '0000:00:1f.6'
    # the boot VGA device is refused by the plan: not exported
    run export --plan json 00:02.0
    [ -z "$(json_devices)" ] || fail "a refused device was exported"
    # a file with an error claims nothing, and export says to look at check
    conf 30-bad.conf "claim 00:14.0 tag=usb" "claim bogus-selector"
    run export --plan json
    assert_rc 0
    assert_err "the configuration has errors"
    ! json_devices | grep -q 0000:00:14.0 || fail "a file with errors was half applied"
    # a boot with vfio_claim=off plans nothing, and says why
    cmdline "root=UUID=3f1c2a4e-8b7d-4e52-9a61-0c5d7e8f9a1b vfio_claim=off"
    run export --plan json
    assert_rc 0
    [ -z "$(json_devices)" ] || fail "vfio_claim=off: devices exported"
    assert_err "vfio_claim=off is on the kernel command line"
}

test_export_bad_format_selector_or_tag_is_a_usage_error() {
    claimed_desktop
    local before
    before=$(snapshot)
    run export yaml
    assert_rc 2
    assert_err "unknown format 'yaml'"
    [ -z "$OUT" ] || fail "output on a usage error"
    run export
    assert_rc 2
    assert_err "export needs a format"
    run export libvirt 01:00.0 10de:zz
    assert_rc 2
    assert_err "selector '10de:zz'"
    [ -z "$OUT" ] || fail "output on a bad selector"
    # an empty or malformed tag never matches "no tag"
    run export json --tag ''
    assert_rc 2
    assert_err "tag ''"
    run export json --tag 'a b'
    assert_rc 2
    assert_err "tag 'a b'"
    run --json export libvirt
    assert_rc 2
    assert_err "--json asks for the format json"
    run export --bogus json
    assert_rc 2
    [ "$before" = "$(snapshot)" ] || fail "export changed the tree"
}

test_export_with_nothing_selected_prints_empty_valid_documents() {
    fixture desktop
    run export libvirt
    assert_rc 0
    assert_err "no device is on vfio-pci"
    [ -z "$OUT" ] || fail "libvirt: output"
    validate_libvirt
    run export qemu
    assert_rc 0
    [ -z "$OUT" ] || fail "qemu: output"
    run export kdevops
    assert_rc 0
    python3 -c 'import sys, yaml; assert yaml.safe_load(sys.stdin) == {"pcipassthrough": {}}' <<<"$OUT" ||
        fail "kdevops: not an empty pcipassthrough"
    run export libvirt-provider
    assert_rc 0
    python3 -c 'import sys, yaml; assert yaml.safe_load(sys.stdin) == {"vendors": []}' <<<"$OUT" ||
        fail "libvirt-provider: not an empty vendors list"
    run export json
    assert_rc 0
    python3 -c 'import json, sys; assert json.load(sys.stdin) == {"devices": []}' <<<"$OUT" ||
        fail "json: not an empty device list"
    run --json export
    assert_rc 0
    python3 -c 'import json, sys; assert json.load(sys.stdin) == {"devices": []}' <<<"$OUT" ||
        fail "--json export"
    run export prometheus
    assert_rc 0
    local samples
    samples=$(printf '%s\n' "$OUT" | prom_parse) || fail "prometheus: $samples"
    [ "$samples" = "[]" ] || fail "prometheus: samples $samples"
}

test_export_help_lists_the_formats() {
    fixture desktop
    run export --help
    assert_rc 0
    assert_out "Usage:"
    assert_out "--tag TAG"
    assert_out "--plan"
    run --help
    assert_out "export FORMAT"
}

test_export_libvirt_provider_keeps_device_names_unique_within_a_vendor() {
    claimed_desktop
    # lspci names both functions of the card alike: libvirt-provider's validator wants two names
    pci_ids '10de  NVIDIA Corporation' '	1b80  GP104' '	10f0  GP104'
    run export libvirt-provider 01:00.0 01:00.1
    assert_rc 0
    python3 -c '
import sys, yaml
devices = yaml.safe_load(sys.stdin)["vendors"][0]["devices"]
assert [d["name"] for d in devices] == ["gp104", "gp104-040300"], devices
' <<<"$OUT" || fail "the device names of one vendor are not unique"
}
