#!/bin/bash
# Devices that follow their guests (when=guest, claim/release --guest, run, the libvirt hook):
# claimed whole group while a guest that uses them runs, given back when the last one stops.
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GPU=0000:01:00.0 HDMI=0000:01:00.1

test_when_guest_lines_are_kept_by_check_boot_and_udev() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest tag=games"
    run --json check
    assert_rc 0
    plan_has "^$GPU keep follows its guests (when=guest, /etc/vfio-claim.d/10-gpu.conf:1)" ||
        fail "check does not say the GPU follows its guests"
    run boot
    assert_rc 0
    assert_driver $GPU nouveau
    assert_driver $HDMI snd_hda_intel
    [ ! -e "$ROOT/run/vfio-claim/devices/$GPU" ] || fail "boot wrote a state entry"
    ! grep -q "01:00" "$ROOT/run/udev/rules.d/69-vfio-claim-select.rules" ||
        fail "the udev select rules mark the guest's device"
    run udev /devices/pci0000:00/0000:00:01.0/0000:01:00.0
    assert_rc 0
    assert_driver $GPU nouveau
    run list
    assert_rc 0
}

test_when_takes_boot_or_guest_only() {
    fixture desktop
    conf 10.conf "claim 01:00.0 when=boot" "claim 00:1f.6 when=later" "claim 02:00.0 when=guest when=guest"
    run check
    assert_rc 2
    assert_err "/etc/vfio-claim.d/10.conf:2: 'when=later': when= takes 'boot'"
    assert_err "/etc/vfio-claim.d/10.conf:3: 'when=guest': when= given twice"
}

inject() { # inject ADDR WHAT ERRNO [COUNT]: the fake kernel fails that write (tests/test-faults.sh)
    mkdir -p "$ROOT/.fakekernel"
    echo "$3${4:+ $4}" >"$ROOT/.fakekernel/$1.fail-$2"
}

assert_gpu_on_host() {
    assert_driver $GPU nouveau
    assert_driver $HDMI snd_hda_intel
}

assert_gpu_on_vfio() {
    assert_driver $GPU vfio-pci
    assert_driver $HDMI vfio-pci
}

test_claim_for_a_guest_takes_the_gpu_with_its_audio_and_gives_both_back() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest tag=games"
    run claim --guest win10 01:00.0
    assert_rc 0
    assert_gpu_on_vfio
    assert_out "$GPU: on vfio-pci for guest 'win10'"
    [ "$(state_of $GPU guests)" = win10 ] || fail "the GPU's entry does not name its guest"
    [ "$(state_of $HDMI guests)" = win10 ] || fail "the audio's entry does not name its guest"
    [ "$(state_of $GPU lifecycle)" = yes ] || fail "not recorded as following its guest"
    [ "$(state_of $GPU stage)" = guest ] || fail "stage"
    grep -q "^guest.win10=starter=manual boot=" "$ROOT/run/vfio-claim/devices/$GPU" ||
        fail "no holder record"
    run release --guest win10
    assert_rc 0
    assert_out "$GPU: given back to 'nouveau' (no guest holds it)"
    assert_out "$HDMI: given back to 'snd_hda_intel' (no guest holds it)"
    assert_gpu_on_host
    [ "$(override_of $GPU)" = "(null)" ] || fail "override left"
    [ "$(state_of $GPU state)" = returned ] || fail "state"
    [ -z "$(state_of $GPU guests)" ] || fail "a holder is left"
    # the next start takes it again (a give-back is no release by hand)
    run claim --guest win10 01:00.0
    assert_rc 0
    assert_gpu_on_vfio
}

test_a_safety_refusal_at_claim_changes_nothing() {
    fixture desktop
    conf 10.conf "claim 00:1f.6 02:00.0 when=guest" "claim 00:02.0 when=guest"
    local before
    before=$(snapshot)
    run claim --guest vm 00:1f.6 02:00.0 00:02.0
    assert_rc 1
    assert_err "vm: 0000:00:02.0: refused: boot VGA device: the console would go dark"
    assert_err "add 'force' to its claim at /etc/vfio-claim.d/10.conf:2"
    [ "$before" = "$(snapshot)" ] || fail "the refused start changed the tree"
    assert_driver 0000:00:1f.6 e1000e
    assert_driver 0000:02:00.0 xhci_hcd
    assert_driver 0000:00:02.0 i915
    [ ! -e "$ROOT/run/vfio-claim/devices/0000:00:1f.6" ] || fail "a state entry was written"
}

test_a_failure_on_the_second_device_gives_the_first_back() {
    fixture desktop
    conf 10.conf "claim 01:00.0 02:00.0 when=guest"
    inject 0000:02:00.0 unbind EBUSY
    run claim --guest vm 01:00.0 02:00.0
    assert_rc 1
    assert_err "0000:02:00.0: unbind from 'xhci_hcd' failed: Device or resource busy"
    assert_err "vm: 0000:02:00.0: could not be claimed"
    assert_gpu_on_host
    assert_driver 0000:02:00.0 xhci_hcd
    [ -z "$(state_of $GPU guests)" ] || fail "the GPU still names a guest"
}

test_two_guests_share_a_device_the_last_stop_gives_it_back() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest one 01:00.0
    assert_rc 0
    run claim --guest "two words" 01:00.0
    assert_rc 0
    [ "$(state_of $GPU guests)" = "one,two%20words" ] || fail "guests: $(state_of $GPU guests)"
    run release --guest one
    assert_rc 0
    assert_out "$GPU: stays on vfio-pci: still held by guest two%20words"
    assert_gpu_on_vfio
    run release --guest "two words"
    assert_rc 0
    assert_gpu_on_host
    # a guest that holds nothing: nothing to do, and no error (libvirt calls release for all)
    run release --guest three
    assert_rc 0
}

test_guest_names_never_break_the_state_file() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest $'evil\nstate=released,x=y' 01:00.0
    assert_rc 0
    [ "$(state_of $GPU state)" = claimed ] || fail "the name rewrote the state"
    [ "$(state_of $GPU guests)" = "evil%0Astate%3Dreleased%2Cx%3Dy" ] || fail "guests: $(state_of $GPU guests)"
    run claim --guest "" 01:00.0
    assert_rc 2
    run release --guest $'evil\nstate=released,x=y'
    assert_rc 0
    assert_gpu_on_host
}

# release_by_the_hint GUEST: the command status prints for a gone holder GUEST (shown as
# status shows it), run as a shell would
release_by_the_hint() {
    local line cmd
    line=$(grep -F -m1 "guest '$1' is gone" <<<"$OUT") || fail "no gone holder '$1':"$'\n'"$OUT"
    cmd=$(sed -n "s/.*: 'vfio-claim \(release --guest .*\)' gives it back\$/\1/p" <<<"$line")
    [ -n "$cmd" ] || fail "no command in: $line"
    eval "set -- $cmd"
    run "$@"
    assert_rc 0
}

test_a_guest_is_its_name_as_given_never_another_guests_escaped_name() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    hook "my vm" prepare begin "$(domain "my vm" 01:00.0)"
    assert_rc 0
    assert_gpu_on_vfio
    [ "$(state_of $GPU guests)" = "my%20vm" ] || fail "guests: $(state_of $GPU guests)"
    # a domain literally named as the first one's escaped form, with no hostdev, starts and
    # stops: libvirt runs the hook for it too; the first guest keeps its GPU
    hook "my%20vm" prepare begin
    assert_rc 0
    hook "my%20vm" release end
    assert_rc 0
    assert_gpu_on_vfio
    [ "$(state_of $GPU guests)" = "my%20vm" ] || fail "the other domain's stop dropped the holder"
    run release --guest "my%20vm"
    assert_rc 0
    assert_gpu_on_vfio
    # both hold it: each stop drops its own
    run claim --guest "my%20vm" 01:00.0
    assert_rc 0
    [ "$(state_of $GPU guests)" = "my%20vm,my%2520vm" ] || fail "guests: $(state_of $GPU guests)"
    hook "my%20vm" release end
    [ "$(state_of $GPU guests)" = "my%20vm" ] || fail "guests: $(state_of $GPU guests)"
    # the command status prints for a gone holder gives back that holder (names with blanks,
    # quotes and control bytes quoted for the shell)
    run claim --guest $'it\'s\ta "vm"' 01:00.0
    assert_rc 0
    echo 00000000-1111-2222-3333-444444444444 >"$ROOT/proc/sys/kernel/random/boot_id"
    run status
    release_by_the_hint "my vm"
    [ "$(state_of $GPU guests)" = "it%27s%09a%20%22vm%22" ] || fail "guests: $(state_of $GPU guests)"
    assert_gpu_on_vfio
    run status
    release_by_the_hint "it%27s%09a%20%22vm%22"
    assert_gpu_on_host
}

test_a_device_claimed_at_boot_is_only_checked_never_given_back() {
    fixture desktop
    conf 10.conf "claim 00:1f.6" "claim 01:00.0 when=guest"
    run boot
    assert_driver 0000:00:1f.6 vfio-pci
    run claim --guest vm 00:1f.6 01:00.0
    assert_rc 0
    [ -z "$(state_of 0000:00:1f.6 guests)" ] || fail "the boot claim got a guest"
    run release --guest vm
    assert_rc 0
    assert_driver 0000:00:1f.6 vfio-pci
    assert_gpu_on_host
    # the boot claim gone from vfio-pci: the guest's start fails, naming the fix
    run release 00:1f.6
    run claim --guest vm 00:1f.6
    assert_rc 1
    assert_err "not on a VFIO driver now (driver 'e1000e'); 'vfio-claim claim 0000:00:1f.6' takes it"
}

test_release_of_a_guest_refuses_while_a_process_holds_the_group() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest vm 01:00.0
    mkdir -p "$ROOT/proc/4242/fd"
    echo qemu-system-x86 >"$ROOT/proc/4242/comm"
    ln -s /dev/vfio/1 "$ROOT/proc/4242/fd/12"
    run release --guest vm
    assert_rc 1
    assert_err "/dev/vfio/1 is in use by 4242"
    assert_gpu_on_vfio
    [ "$(state_of $GPU guests)" = vm ] || fail "the guest was dropped though its device stayed"
    rm -r "$ROOT/proc/4242"
    run release --guest vm
    assert_rc 0
    assert_gpu_on_host
}

test_a_release_that_fails_names_the_guest_as_a_shell_word() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest "my vm" 01:00.0
    assert_rc 0
    mkdir -p "$ROOT/proc/4242/fd"
    echo qemu-system-x86 >"$ROOT/proc/4242/comm"
    ln -s /dev/vfio/1 "$ROOT/proc/4242/fd/12"
    run release --guest "my vm"
    assert_rc 1
    # the command to run again, as typed in a shell
    assert_err "run 'vfio-claim release --guest \"my vm\"' again"
    assert_gpu_on_vfio
}

# run: the holder's start time comes from /proc/self/stat under the root; the fixture's proc
# gets the real one, and a pid's folder links to the real one to show it alive.
run_fixture() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest tag=games"
    ln -s /proc/self/stat "$ROOT/proc/self/stat"
}

# start_run ARGS...: vfio-claim run in the background; $! is its own pid (env execs it)
start_run() {
    env LD_PRELOAD="$FAKEKERNEL" FAKEKERNEL_ROOT="$ROOT" \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" "$VFIO_CLAIM" --root "$ROOT" run "$@" \
        >/dev/null 2>"$ROOT/err" &
}

# wait_holder NAME: until the GPU's entry names guest NAME (a run started in the background)
wait_holder() {
    local _
    for _ in $(seq 100); do
        [ "$(state_of $GPU guests)" = "$1" ] && return 0
        sleep 0.1
    done
    fail "guest '$1' never held the GPU"
}

test_run_gives_back_after_the_guest_exits() {
    run_fixture
    run run --tag games -- sh -c "readlink $ROOT/sys/bus/pci/devices/$HDMI/driver >$ROOT/seen"
    assert_rc 0
    [ "$(basename "$(cat "$ROOT/seen")")" = vfio-pci ] || fail "the audio was not on vfio-pci while the guest ran"
    assert_err "$GPU: on vfio-pci for guest 'sh'"
    assert_gpu_on_host
    [ "$(state_of $GPU state)" = returned ] || fail "state"
    # the exit code is the guest's
    run run --guest vm 01:00.0 -- sh -c 'exit 7'
    assert_rc 7
    assert_gpu_on_host
}

test_run_gives_back_after_the_guest_is_killed_by_a_signal() {
    run_fixture
    run run --guest crashy --tag games -- sh -c 'kill -SEGV $$'
    assert_rc 139
    assert_gpu_on_host
    [ -z "$(state_of $GPU guests)" ] || fail "a holder is left"
}

test_run_forwards_sigterm_and_gives_back() {
    run_fixture
    start_run --guest vm --tag games -- sleep 60
    local pid=$! rc=0
    wait_holder vm
    assert_gpu_on_vfio
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    [ "$rc" -eq 143 ] || fail "exit code $rc, expected 143 (the guest's SIGTERM)"
    assert_gpu_on_host
    grep -q "$GPU: given back to 'nouveau'" "$ROOT/err" || fail "no give-back message"
}

test_a_run_killed_with_sigkill_leaves_a_gone_holder_that_release_gives_back() {
    run_fixture
    start_run --guest vm --tag games -- sleep 60
    local pid=$! child
    wait_holder vm
    ln -s "/proc/$pid" "$ROOT/proc/$pid"
    grep -q "^guest.vm=starter=run pid=$pid start=[0-9][0-9]* boot=" \
        "$ROOT/run/vfio-claim/devices/$GPU" || fail "the holder record lacks pid or start time"
    run status
    assert_rc 0
    assert_not_out "gone"
    child=$(ps -o pid= --ppid "$pid" | tr -d ' ')
    kill -KILL "$pid"
    { wait "$pid"; } 2>/dev/null || true
    [ -z "$child" ] || kill "$child"
    assert_gpu_on_vfio
    run status
    assert_out "$GPU: guest 'vm' is gone (its 'vfio-claim run' process (pid $pid) is gone): 'vfio-claim release --guest vm' gives it back"
    run doctor
    assert_out "$GPU: guest 'vm' is gone"
    assert_out "vfio-claim release --guest vm"
    run release --guest vm
    assert_rc 0
    assert_gpu_on_host
}

test_a_holder_of_another_boot_is_gone() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run claim --guest vm 01:00.0
    run status
    assert_not_out "gone"
    echo 00000000-1111-2222-3333-444444444444 >"$ROOT/proc/sys/kernel/random/boot_id"
    run status
    assert_out "$GPU: guest 'vm' is gone (it was recorded on another boot)"
}

# schema_valid DEF: $OUT is valid against the schema's definition DEF
schema_valid() {
    python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
    # shellcheck disable=SC2016 # "$defs" is JSON Schema's, not the shell's
    python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
one = dict(schema)
del one["anyOf"]
one["$ref"] = "#/$defs/" + sys.argv[2]
jsonschema.Draft202012Validator(one).validate(json.loads(sys.stdin.read()))
' "$TESTS_DIR/../docs/vfio-claim.schema.json" "$1" <<<"$OUT" || fail "$1 --json does not follow the schema"
}

test_list_and_status_show_on_host_for_guests_and_claimed_by_guest() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run list
    assert_rc 0
    grep -q "^$GPU .*on host, for guests" <<<"$OUT" || fail "list does not say the GPU is on host for guests"
    grep -q "^$HDMI .*on host, for guests" <<<"$OUT" || fail "list does not say the audio goes with it"
    run --json list
    schema_valid list
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
g = d["0000:01:00.0"]
assert g["follows_guests"] is True and g["guests"] == [] and g["decision"] == "keep", g
assert d["0000:00:1f.6"]["follows_guests"] is False
' <<<"$OUT" || fail "list --json"
    run claim --guest "my vm" 01:00.0
    run list
    grep -q "^$GPU .*claimed by guest my vm" <<<"$OUT" || fail "list does not name the holding guest"
    run status
    assert_out "claimed by guest 'my vm' (manual)"
    run --json status
    schema_valid status
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
g = d["0000:01:00.1"]
assert g["stage"] == "guest" and g["state"] == "claimed" and g["holds"], g
assert g["guests"] == [{"name": "my vm", "starter": "manual", "pid": None, "gone": None}], g["guests"]
assert "claimed by guest" in g["reason"], g["reason"]
' <<<"$OUT" || fail "status --json"
    run release --guest "my vm"
    run --json status
    schema_valid status
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
assert d["0000:01:00.0"]["state"] == "returned" and d["0000:01:00.0"]["guests"] == []
' <<<"$OUT" || fail "status --json after the give-back"
}

# domain NAME HOSTDEV...: a libvirt domain XML with PCI hostdevs "BUS:SLOT.FUNCTION[:managed]"
domain() {
    local name=$1 h addr managed
    shift
    printf "<domain type='kvm'>\n  <name>%s</name>\n  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n  <memory>65536</memory>\n  <devices>\n" "$name"
    for h in "$@"; do
        addr=${h%:managed} managed=no
        [ "$addr" = "$h" ] || managed=yes
        printf "    <hostdev mode='subsystem' type='pci' managed='%s'>\n" $managed
        printf "      <source><address domain='0x0000' bus='0x%s' slot='0x%s' function='0x%s'/></source>\n" \
            "${addr%%:*}" "$(cut -d: -f2 <<<"${addr%.*}")" "${addr##*.}"
        printf "    </hostdev>\n"
    done
    printf "    <interface type='network'><source network='default'/></interface>\n  </devices>\n</domain>\n"
}

# hook GUEST OP SUBOP [XML]: the hook as libvirt runs it, the XML on standard input
hook() {
    local xml=${4:-$(domain "$1")}
    run libvirt-hook "$1" "$2" "$3" - < <(printf '%s\n' "$xml")
}

assert_one_line_err() { [ "$(wc -l <<<"$ERR")" -eq 1 ] || fail "stderr is not one line"; }

test_libvirt_hook_claims_at_prepare_and_gives_back_at_release() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    local xml
    xml=$(domain win10 01:00.0 00:1f.6:managed)
    hook win10 prepare begin "$xml"
    assert_rc 0
    assert_gpu_on_vfio
    # managed='yes' and named by no claim line: libvirt detaches it itself, after the hook
    assert_driver 0000:00:1f.6 e1000e
    [ "$(state_of $GPU guests)" = win10 ] || fail "the state does not name the guest"
    grep -q "^guest.win10=starter=libvirt boot=" "$ROOT/run/vfio-claim/devices/$GPU" ||
        fail "the holder is not recorded as libvirt's"
    # every other operation touches nothing
    local before op
    before=$(snapshot)
    for op in "start begin" "started begin" "stopped end" "reconnect begin" "migrate begin" "restore begin" "attach begin"; do
        # shellcheck disable=SC2086 # OP SUBOP are two words
        hook win10 $op "$xml"
        assert_rc 0
    done
    [ "$before" = "$(snapshot)" ] || fail "another operation changed the tree"
    hook win10 release end "$xml"
    assert_rc 0
    assert_gpu_on_host
    [ "$(state_of $GPU state)" = returned ] || fail "state"
}

test_libvirt_hook_refuses_a_hostdev_that_is_not_on_vfio_in_one_line() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    local before
    before=$(snapshot)
    hook vm prepare begin "$(domain vm 01:00.0 00:1f.6)"
    assert_rc 1
    assert_one_line_err
    assert_err "vfio-claim: vm: 0000:00:1f.6: not on a VFIO driver (driver 'e1000e')"
    [ "$before" = "$(snapshot)" ] || fail "the refused start changed the tree"
    assert_gpu_on_host
}

test_libvirt_hook_safety_refusal_names_the_override() {
    fixture desktop
    conf 10.conf "claim 00:02.0 when=guest"
    hook vm prepare begin "$(domain vm 00:02.0)"
    assert_rc 1
    assert_one_line_err
    assert_err "vfio-claim: vm: 0000:00:02.0: refused: boot VGA device"
    assert_err "add 'force' to its claim at /etc/vfio-claim.d/10.conf:1"
    assert_driver 0000:00:02.0 i915
}

test_libvirt_hook_failure_of_the_second_device_gives_the_first_back() {
    fixture desktop
    conf 10.conf "claim 01:00.0 02:00.0 when=guest"
    inject 0000:02:00.0 unbind EBUSY
    hook vm prepare begin "$(domain vm 01:00.0 02:00.0)"
    assert_rc 1
    assert_one_line_err
    assert_err "vfio-claim: vm: 0000:02:00.0: unbind from 'xhci_hcd' failed: Device or resource busy; nothing was claimed"
    assert_gpu_on_host
    assert_driver 0000:02:00.0 xhci_hcd
}

test_libvirt_hook_bad_domain_xml_claims_nothing() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    local before xml
    before=$(snapshot)
    hook vm prepare begin "<domain><devices><hostdev type='pci'>"
    assert_rc 1
    assert_one_line_err
    assert_err "vfio-claim: vm: domain XML: "
    hook vm prepare begin "$(domain vm 01:00.0 | sed "s/bus='0x01'/bus='0x1ff'/")"
    assert_rc 1
    assert_err "vfio-claim: vm: domain XML: "
    hook vm prepare begin "$(domain vm 07:00.0)"
    assert_rc 1
    assert_err "vfio-claim: vm: 0000:07:00.0: no such PCI device on this host"
    # deeper than libxml2's limit, an entity, not a domain
    xml="<domain><name>vm</name><devices>$(printf '<a>%.0s' $(seq 5000))$(printf '</a>%.0s' $(seq 5000))</devices></domain>"
    hook vm prepare begin "$xml"
    assert_rc 1
    assert_one_line_err
    assert_err "vfio-claim: vm: domain XML: "
    hook vm prepare begin "<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain><name>&x;</name></domain>"
    assert_rc 1
    assert_err "vfio-claim: vm: domain XML: "
    hook vm prepare begin "<network><name>default</name></network>"
    assert_rc 1
    assert_err "vfio-claim: vm: domain XML: "
    # larger than 4 MiB: read to its end, then refused
    xml="<domain><name>vm</name><!-- $(head -c 5000000 /dev/zero | tr '\0' x) --></domain>"
    hook vm prepare begin "$xml"
    assert_rc 1
    assert_err "domain XML on standard input is larger than 4194304 bytes"
    [ "$before" = "$(snapshot)" ] || fail "a bad document changed the tree"
    # no PCI hostdev: nothing to do
    hook vm prepare begin "$(domain vm)"
    assert_rc 0
}

test_libvirt_hook_runs_as_a_link_in_qemu_d() {
    fixture desktop
    local d="$ROOT/hooks/qemu.d" rc=0 err
    mkdir -p "$d"
    ln -s "$VFIO_CLAIM" "$d/vfio-claim"
    # only what touches nothing: no --root here, this is the real machine
    domain vm 01:00.0 | "$d/vfio-claim" vm started begin - || rc=$?
    [ "$rc" -eq 0 ] || fail "'started begin' exit code $rc"
    err=$("$d/vfio-claim" -x prepare begin - 2>&1 <<<"<domain><devices>") && fail "bad XML accepted"
    grep -qF "vfio-claim: -x: domain XML: " <<<"$err" || fail "no one-line refusal: $err"
}

test_libvirt_hook_checks_boot_claims_and_copes_with_libvirt_reattaching() {
    fixture desktop
    conf 10.conf "claim 00:1f.6" "claim 01:00.0 when=guest"
    run boot
    assert_driver 0000:00:1f.6 vfio-pci
    local xml
    xml=$(domain vm 00:1f.6 01:00.0:managed)
    hook vm prepare begin "$xml"
    assert_rc 0
    assert_gpu_on_vfio
    [ -z "$(state_of 0000:00:1f.6 guests)" ] || fail "the boot claim got a guest"
    # managed='yes': libvirt gives it back to the host itself before 'release end'
    run release 01:00.0
    assert_gpu_on_host
    hook vm release end "$xml"
    assert_rc 0
    assert_driver 0000:00:1f.6 vfio-pci
    assert_gpu_on_host
    [ -z "$(state_of $GPU guests)" ] || fail "the guest still holds the GPU"
    # the next start takes it again
    hook vm prepare begin "$xml"
    assert_rc 0
    assert_gpu_on_vfio
}

test_claim_and_release_for_a_guest_follow_the_schema() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    run --json claim --guest vm 01:00.0
    assert_rc 0
    schema_valid claim
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
assert d["0000:01:00.0"]["guests"][0]["name"] == "vm", d
' <<<"$OUT" || fail "claim --json does not name the guest"
    run --json release --guest vm
    assert_rc 0
    schema_valid release
    python3 -c '
import json, sys
d = {x["device"]: x for x in json.load(sys.stdin)["devices"]}
assert sorted(d) == ["0000:01:00.0", "0000:01:00.1"], sorted(d)
assert d["0000:01:00.0"]["state"] == "returned" and d["0000:01:00.0"]["driver"] == "nouveau", d
' <<<"$OUT" || fail "release --guest --json does not show what went back"
}

test_guests_starting_and_stopping_at_once_never_lose_a_holder() {
    fixture desktop
    conf 10-gpu.conf "claim 01:00.0 when=guest"
    local k
    for k in 1 2 3 4 5; do
        vfio_claim claim --guest a 01:00.0 >/dev/null 2>&1 &
        vfio_claim claim --guest b 01:00.0 >/dev/null 2>&1 &
        wait
        assert_gpu_on_vfio
        [ "$(state_of $GPU guests | tr , '\n' | sort | tr '\n' ' ')" = "a b " ] ||
            fail "round $k: holders '$(state_of $GPU guests)', expected a and b"
        vfio_claim release --guest a >/dev/null 2>&1 &
        vfio_claim claim --guest c 01:00.0 >/dev/null 2>&1 &
        vfio_claim release --guest b >/dev/null 2>&1 &
        wait
        # c started while a and b stopped: it still has the device
        assert_gpu_on_vfio
        [ "$(state_of $GPU guests)" = c ] || fail "round $k: holders '$(state_of $GPU guests)', expected c"
        run release --guest c
        assert_gpu_on_host
    done
}
