#!/bin/bash
# make bench: figures on generated trees, printed, not asserted. A shared machine is noisy, so
# every figure comes with a reference measured in the same run, to be read as a ratio:
#  0. `--version` against /bin/true (time and peak RSS: what starting the program costs, its
#     libraries included), and the size of the program's text (`size`);
#  1. `check` and `boot` on 256, 1024 and 4096 devices, against the program doing nothing
#     (`--version`) and against the I/O floor of the same tree (each device's bus link, config
#     header and IOMMU group link, read by a small C loop);
#  2. one udev event (a coldplug replay of a claimed device) on 16 and on 4096 devices: time,
#     and system calls counted by strace (noise-free);
#  3. a burst of 256 SR-IOV VF add events on a 4096-function tree, `vfio-claim udev` run once per
#     VF through the fake kernel as udev runs it: wall time and CPU until all are on vfio-pci,
#     per event, and whether one such event maps libkmod (LD_DEBUG=files).
# BENCH_BEFORE=REV (e.g. `BENCH_BEFORE=main make bench`) also builds that git revision into a
# temporary folder and measures it in the same run, for before/after ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(readlink -f "${1:?usage: $0 BINARY}")
fake=$here/fakekernel.so
# trees on tmpfs when there is one: 80,000 small files per 4096-device tree
work=$(mktemp -d "$([ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/vfio-claim-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
runs=${BENCH_RUNS:-15}

launcher="$work/bench-run"
cc -O2 -o "$launcher" "$here/bench-run.c"
measure() { "$launcher" "$runs" "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

bins=("$bin")
names=(this)
if [ -n "${BENCH_BEFORE:-}" ]; then
    mkdir "$work/before"
    git -C "$here/.." archive "$BENCH_BEFORE" | tar -x -C "$work/before"
    make -s -C "$work/before" vfio-claim >/dev/null
    bins+=("$work/before/vfio-claim")
    names+=("$BENCH_BEFORE")
fi

tree() { # tree N DIR: N endpoints, claim net (but the 82599s)
    python3 "$here/mkfixture.py" --bench "$1" "$2" >/dev/null
    mkdir -p "$2/etc/vfio-claim.d"
    printf 'claim net\nexclude 8086:10fb\n' >"$2/etc/vfio-claim.d/bench.conf"
}

echo "== startup and size"
read -r true_ms true_kb < <(measure /bin/true)
printf '%-7s %-10s %10s %8s %10s %10s\n' binary cmd "ms(best)" "x true" "peak KiB" "text KiB"
printf '%-7s %-10s %10.2f %8s %10d %10s\n' true /bin/true "$true_ms" 1.0 "$true_kb" -
for k in "${!bins[@]}"; do
    read -r ms kb < <(measure "${bins[$k]}" --version)
    text=$(size "${bins[$k]}" | awk 'NR == 2 { printf "%.1f", $1 / 1024 }')
    printf '%-7s %-10s %10.2f %8s %10d %10s\n' "${names[$k]}" --version "$ms" \
        "$(ratio "$ms" "$true_ms")" "$kb" "$text"
    # where the text is: code, read-only data (strings, tables), unwind tables, the rest
    # (relocations, dynamic symbols, PLT, notes)
    size -A "${bins[$k]}" | awk -v t="$text" '
        $1 == ".text" { c = $2 }
        $1 == ".rodata" { r = $2 }
        $1 ~ /^\.eh_frame/ { e += $2 }
        END { printf "        text %s KiB: code %.1f, rodata %.1f, unwind %.1f, other %.1f\n",
                     t, c / 1024, r / 1024, e / 1024, t - (c + r + e) / 1024 }'
done
echo "goals (not asserted): --version at most 2x /bin/true and 2 MiB peak RSS; text 150 KiB"

echo
echo "== check and boot"
read -r base_ms base_kb < <(measure "$bin" --version)
printf 'baseline (vfio-claim --version): %.2f ms, %d KiB peak RSS\n' "$base_ms" "$base_kb"
printf '%-7s %-6s %-6s %10s %8s %8s %10s\n' binary devices cmd "ms(best)" "x base" "x floor" "peak KiB"
for n in 256 1024 4096; do
    tree "$n" "$work/tree$n"
    read -r floor_ms _ < <(measure "$launcher" --floor "$work/tree$n")
    printf '%-7s %-6s %-6s %10.2f\n' floor "$n" io "$floor_ms"
    # boot once through the fake kernel, then measure the idempotent second boot (a fresh copy
    # per run would measure cp)
    LD_PRELOAD="$fake" FAKEKERNEL_ROOT="$work/tree$n" "$bin" --root "$work/tree$n" boot >/dev/null 2>&1 || true
    for k in "${!bins[@]}"; do
        read -r ms kb < <(measure "${bins[$k]}" --root "$work/tree$n" check)
        printf '%-7s %-6s %-6s %10.2f %8s %8s %10d\n' "${names[$k]}" "$n" check "$ms" \
            "$(ratio "$ms" "$base_ms")" "$(ratio "$ms" "$floor_ms")" "$kb"
        read -r ms kb < <(LD_PRELOAD="$fake" FAKEKERNEL_ROOT="$work/tree$n" measure "${bins[$k]}" --root "$work/tree$n" boot)
        printf '%-7s %-6s %-6s %10.2f %8s %8s %10d\n' "${names[$k]}" "$n" boot "$ms" \
            "$(ratio "$ms" "$base_ms")" "$(ratio "$ms" "$floor_ms")" "$kb"
    done
done
echo "targets (not asserted): check of 4096 devices under 20 ms and 4 MiB peak RSS, linear growth"
if command -v strace >/dev/null; then
    # noise-free: the system calls of each on the 4096 tree (boot through the fake kernel, whose
    # own calls count too), against the floor's
    count() { # count FILE: "calls openat" of an strace -c summary
        awk '$NF == "total" { t = $4 } $NF == "openat" { o = $4 } END { print t, o }' "$1"
    }
    strace -c -f -o "$work/strace" "$launcher" --floor "$work/tree4096" >/dev/null 2>&1 || true
    read -r calls opens < <(count "$work/strace")
    printf '%-7s %-6s %12s %8s\n' binary cmd "calls(4096)" openat
    printf '%-7s %-6s %12s %8s\n' floor io "$calls" "$opens"
    for k in "${!bins[@]}"; do
        strace -c -f -o "$work/strace" "${bins[$k]}" --root "$work/tree4096" check >/dev/null 2>&1 || true
        read -r calls opens < <(count "$work/strace")
        printf '%-7s %-6s %12s %8s\n' "${names[$k]}" check "$calls" "$opens"
        LD_PRELOAD="$fake" FAKEKERNEL_ROOT="$work/tree4096" strace -c -f -o "$work/strace" \
            "${bins[$k]}" --root "$work/tree4096" boot >/dev/null 2>&1 || true
        read -r calls opens < <(count "$work/strace")
        printf '%-7s %-6s %12s %8s\n' "${names[$k]}" boot "$calls" "$opens"
    done
fi

echo
echo "== one udev event (coldplug replay of 0000:01:00.0, claimed by boot)"
tree 16 "$work/tree16"
LD_PRELOAD="$fake" FAKEKERNEL_ROOT="$work/tree16" "$bin" --root "$work/tree16" boot >/dev/null 2>&1 || true
printf '%-7s %12s %12s %7s %12s %12s %7s\n' binary "ms(16)" "ms(4096)" ratio "calls(16)" "calls(4096)" ratio
for k in "${!bins[@]}"; do
    declare -A ms=() calls=()
    for n in 16 4096; do
        ev=(--root "$work/tree$n" udev /sys/bus/pci/devices/0000:01:00.0)
        read -r ms[$n] _ < <(LD_PRELOAD="$fake" FAKEKERNEL_ROOT="$work/tree$n" measure "${bins[$k]}" "${ev[@]}")
        calls[$n]=-
        if command -v strace >/dev/null; then
            # without the fake kernel: the replay writes nothing, and strace sees the program only
            strace -c -f -o "$work/strace" "${bins[$k]}" "${ev[@]}" >/dev/null 2>&1 || true
            calls[$n]=$(awk '$NF == "total" { print $4 }' "$work/strace")
        fi
    done
    printf '%-7s %12.2f %12.2f %7s %12s %12s %7s\n' "${names[$k]}" "${ms[16]}" "${ms[4096]}" \
        "$(ratio "${ms[4096]}" "${ms[16]}")" "${calls[16]}" "${calls[4096]}" \
        "$(ratio "${calls[4096]}" "${calls[16]}")"
done
echo "goal (not asserted): 4096 devices at most 2x the cost of 16"

echo
echo "== a burst of 256 VF add events on 4096 functions (vfio-claim udev per VF, in turn;"
echo "   modules.alias the size of a Debian kernel's)"
# 3832 endpoints of the bench tree, 8 82599 PFs in a second PCI domain with 32 VFs each, every
# VF bound to ixgbevf (the kernel probed it while adding it, before udev ran)
python3 - "$here" "$work/vfs" "$work/vf-events" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import mkfixture as m

pfs, per = 8, 32
machine = m.bench(4096 - pfs - pfs * per)
devs = machine["devices"]
group = 1 + max(d["group"] for d in devs if d["group"] is not None)
devs.append(m.dev("0001:00:00.0", "8086:2020", 0x060000, group=group))
group += 1
events = []
for k in range(pfs):
    rp, bus = "0001:00:01.%d" % k, k + 1
    pf = "0001:%02x:00.0" % bus
    devs.append(m.dev(rp, "8086:2030", 0x060400, group=group))
    devs.append(m.dev(pf, "8086:10fb", 0x020000, "ixgbe", parent=rp, group=group + 1,
                      sub="15d9:0611", sriov=dict(totalvfs=63, numvfs=per, vf_device=0x10ed,
                                                  offset=128, stride=2)))
    group += 2
    for v in range(per):
        vf = "0001:%02x:%02x.%d" % (bus, 0x10 + v // 8, v % 8)
        devs.append(m.dev(vf, "8086:10ed", 0x020000, "ixgbevf", parent=rp, group=group,
                          sub="15d9:0611", physfn=pf))
        group += 1
        events.append("/devices/pci0001:00/%s/%s" % (rp, vf))
m.write_tree(machine, sys.argv[2])
with open(sys.argv[3], "w") as f:
    f.write("\n".join(events) + "\n")
# modules.alias padded to the size of a Debian kernel's (6.1: 26,184 lines, 8,968 of them PCI,
# 1.3 MB): a VF's event reads it to find the host module and a variant driver
import glob, random
rnd = random.Random(1)
for path in glob.glob(sys.argv[2] + "/lib/modules/*/modules.alias"):
    with open(path, "a") as f:
        for n in range(26000):
            mod = "pad%04d" % (n // 4)
            if n % 3 == 0:
                f.write("alias pci:v%08Xd%08Xsv*sd*bc*sc*i* %s\n"
                        % (rnd.randrange(0x1000, 0x1fff), rnd.randrange(0x10000), mod))
            else:
                f.write("alias usb:v%04Xp%04Xd*dc*dsc*dp*ic*isc*ip*in* %s\n"
                        % (rnd.randrange(0x10000), rnd.randrange(0x10000), mod))
PY
# the early pass ran before the VFs existed: it claimed nothing of theirs (and wrote the summary)
LD_PRELOAD="$fake" FAKEKERNEL_ROOT="$work/vfs" "$bin" --root "$work/vfs" boot >/dev/null 2>&1 || true
mkdir -p "$work/vfs/etc/vfio-claim.d"
echo 'claim 8086:10ed' >"$work/vfs/etc/vfio-claim.d/vfs.conf"
per_event() { awk -v w="$1" 'BEGIN { printf "%.2f", w / 256 }'; }
printf '%-7s %10s %10s %10s %8s %14s %8s\n' binary "wall ms" "CPU ms" "ms/event" failed "on vfio-pci" libkmod
# the floor of one process per event: starting the program (its libraries linked) 256 times
read -r wall cpu _ < <("$launcher" --burst "$work/vf-events" "$bin" --version)
printf '%-7s %10.1f %10.1f %10.2f %8s %14s %8s\n' startup "$wall" "$cpu" "$(per_event "$wall")" - - -
for k in "${!bins[@]}"; do
    rm -rf "$work/burst"
    cp -a "$work/vfs" "$work/burst"
    read -r wall cpu failed < <(LD_PRELOAD="$fake" FAKEKERNEL_ROOT="$work/burst" \
        "$launcher" --burst "$work/vf-events" "${bins[$k]}" --root "$work/burst" udev)
    on=$(find "$work/burst/sys/bus/pci/drivers/vfio-pci/" -name '0001:*' | wc -l)
    # libkmod: mapped by the first VF's event, claimed on a fresh copy (LD_DEBUG=files)
    rm -rf "$work/burst"
    cp -a "$work/vfs" "$work/burst"
    LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld" LD_PRELOAD="$fake" FAKEKERNEL_ROOT="$work/burst" \
        "${bins[$k]}" --root "$work/burst" udev "$(head -n 1 "$work/vf-events")" >/dev/null 2>&1 || true
    kmod=no
    ! grep -q 'file=libkmod' "$work"/ld.* || kmod=yes
    rm -f "$work"/ld.*
    printf '%-7s %10.1f %10.1f %10s %8d %10d/256 %8s\n' "${names[$k]}" "$wall" "$cpu" \
        "$(per_event "$wall")" "$failed" "$on" "$kmod"
done
echo "goal (not asserted): all 256 on vfio-pci in under 1 s (startup: 256 x 'vfio-claim --version')"
