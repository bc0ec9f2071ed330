#!/bin/bash
# One udev event reads its device, slot and IOMMU group (and the summary the early pass wrote),
# never every PCI function (SPEC §9), and still decides as the whole machine does: for every
# device of every fixture, under several configurations, `vfio-claim udev` prints the decision
# and the reason that `check --json` gives it.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Configurations that reach every rule of SPEC §6: each is a list of lines, separated by '|'.
CONFIGS=(
    # everything: boot VGA, the root disk, the last USB controller, chipset groups, SR-IOV PFs
    'claim *:*'
    # a GPU and its HDMI audio (same slot and group), USB controllers without PS/2
    'claim gpu usb'
    # whole groups, and an exclude inside one
    'claim net audio|option group-policy=whole|exclude 8086:a323'
    # forced by address past the boot VGA and root-disk vetoes; keep-usb=0
    'claim 00:02.0 force|claim storage nvme|option keep-usb=0'
    # PCI paths, and a class with its mask
    'claim path=0000:00:01.0/00.0|claim class=0x0c0330/0xffffff|claim 00:1f.*'
)

# parity_of FIXTURE: every configuration, every device of the fixture.
parity_of() {
    local fixture=$1 config
    for config in "${CONFIGS[@]}"; do
        fixture "$fixture"
        IFS='|' read -r -a lines <<<"$config"
        conf parity.conf "${lines[@]}"
        parity "$config"
    done
}

# parity LABEL [CLAIMED]: udev and check agree on every device of $ROOT (CLAIMED: what udev says
# of a device check claims, where the claim itself cannot succeed; default claimed). The events that claim nothing
# come first, as they leave the tree as it is; a claim moves driver links that later decisions
# see, so after one, check is asked again about the tree as it is then.
parity() {
    local label=$1
    # the first event finds no summary: it reads every device once and writes one
    run udev /sys/bus/pci/devices/0000:00:00.0
    assert_rc 0
    [ -f "$ROOT/run/vfio-claim/summary" ] || fail "$label: no summary was written"
    python3 - "$label" "$VFIO_CLAIM" "$FAKEKERNEL" "$ROOT" "${2:-claimed}" <<'PY' || fail "$label: udev and check disagree"
import json, os, subprocess, sys

label, binary, fake, root, claimed = sys.argv[1:]
env = dict(os.environ, LD_PRELOAD=fake, FAKEKERNEL_ROOT=root,
           ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
word = {"claim": claimed, "keep": "kept", "refuse": "refused"}


def vfio_claim(*args):
    return subprocess.run([binary, "--root", root, *args], env=env, capture_output=True,
                          text=True)


def check():
    p = vfio_claim("--json", "check")
    assert p.returncode == 0, p.stderr
    return {d["device"]: "%s %s" % (word[d["decision"]], d["reason"])
            for d in json.loads(p.stdout)["devices"]}


want = check()
devices = sorted(os.listdir(root + "/sys/bus/pci/devices"))
assert sorted(want) == devices, "check does not list every device"
bad, moved = 0, False
for addr in sorted(devices, key=lambda a: (want[a].startswith(claimed), a)):
    if moved:
        want = check()
    p = vfio_claim("-v", "udev", "/sys/bus/pci/devices/" + addr)
    out = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    got = "%s %s" % (out.get("VFIO_CLAIM"), out.get("VFIO_CLAIM_REASON"))
    if p.returncode != 0 or got != want[addr]:
        print("    %s: %s: udev says '%s' (exit %d), check says '%s'"
              % (label, addr, got, p.returncode, want[addr]), file=sys.stderr)
        bad += 1
    # the summary was used: this event did not read every device
    if "reading every PCI device" in p.stderr:
        print("    %s: %s: the event read every device" % (label, addr), file=sys.stderr)
        bad += 1
    moved = moved or got.startswith(claimed)
sys.exit(1 if bad else 0)
PY
}

test_udev_decides_as_check_on_desktop() { parity_of desktop; }
test_udev_decides_as_check_on_desktop_home() { parity_of desktop-home; }
test_udev_decides_as_check_on_server() { parity_of server; }
test_udev_decides_as_check_on_chipset() { parity_of chipset; }
test_udev_decides_as_check_on_noiommu() { parity_of noiommu; }
# SR-IOV PFs and VFs, VFIO variant drivers (the scan and the read of one event set them alike)
test_udev_decides_as_check_on_cloud() { parity_of cloud; }

test_udev_decides_as_check_on_desktop_without_vfio_loaded() {
    fixture desktop-novfio
    conf parity.conf 'claim *:*'
    parity "vfio modules not loaded"
}

test_udev_decides_as_check_on_desktop_without_vfio_modules() {
    fixture desktop-novfio-ko
    conf parity.conf 'claim *:*'
    # no vfio-pci to bind: every claim fails, and says the decision it could not carry out
    parity "no vfio modules" failed
}

test_udev_decides_as_check_on_bench64() {
    fixture bench64
    conf parity.conf 'claim net usb gpu' 'exclude 8086:10fb'
    parity bench64
}

test_udev_decides_as_check_with_a_release_and_a_claim_this_boot() {
    fixture desktop
    conf parity.conf "claim net gpu usb"
    run boot
    assert_rc 0
    run release 0000:00:1f.6
    assert_rc 0
    parity "after boot and a release"
}

test_udev_decides_as_check_with_a_gpu_behind_a_root_port_in_a_group_of_its_own() {
    # ACS on the root port: 00:01.0 alone in its group, the GPU and its HDMI audio in another;
    # the audio goes with the GPU because they share a slot that is not on a root bus
    ROOT=$(mktemp -d "${TMPDIR:-/tmp}/vfio-claim-test.XXXXXX")
    CLEANUP+=("$ROOT")
    python3 - "$TESTS_DIR" "$ROOT" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import mkfixture
m = mkfixture.desktop()
for d in m["devices"]:
    if d["addr"] in ("0000:01:00.0", "0000:01:00.1"):
        d["group"] = 20
mkfixture.write_tree(m, sys.argv[2])
PY
    conf parity.conf "claim 10de:1b80"
    run --json check
    plan_has '^0000:01:00.1 claim goes with 0000:01:00.0' || fail "the audio does not go with the GPU"
    parity "GPU behind an ACS root port"
}
