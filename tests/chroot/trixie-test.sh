#!/bin/bash
# The build, unit, fixture and packaging tests inside a fresh Debian 13 (trixie) root file system
# (a chroot), with trixie's compiler, libraries, kmod, debhelper and lintian; `make check-trixie`.
#
# usage: tests/chroot/trixie-test.sh            (as root)
#
# 1. The root file system: debootstrap --variant=minbase trixie, then the tree's own
#    `tests/deps.sh tests` run inside it (no clang, clang-format or QEMU: no fuzzing, format check or
#    boots here). It is built once and cached in CACHE/chroot-trixie/root,
#    keyed by the sha256 of this script and tests/deps.sh (CACHE/chroot-trixie/stamp); a run
#    only rebuilds it when one of them changed.
# 2. The tree, as git sees it (tracked and untracked files, no ignored build outputs; a plain copy
#    and `make clean` outside git), copied to /build/src in the chroot (a fresh copy every run).
# 3. Inside: the build (warnings of trixie's gcc), the C unit tests, the fake-kernel self-test,
#    tests/run-tests.sh on ./vfio-claim (with tests/test-packaging.sh: dpkg-buildpackage -us -uc -b
#    and lintian; on the sanitized build too when asked, below), then the package once more
#    with lintian's full output, left in CACHE/debs-out/trixie/ for the QEMU tests, and
#    `apt install ./vfio-claim_*.deb` (then purged, so the cached root stays as built).
# Prints "ok - STEP" or "not ok - STEP" per step, "N passed, N failed" at the end; exits 1 when a
# step failed. The mounts (/proc, /sys, /dev) live in a private mount namespace: nothing is left
# mounted when it ends, however it ends.
#
# Environment:
#   VFIO_CLAIM_CACHE   cache folder (default /var/cache/vfio-claim-tests)
#   VFIO_CLAIM_MIRROR  Debian mirror (default: the first bookworm or trixie source in /etc/apt)
#   VFIO_CLAIM_CHROOT_SANITIZED=1  also build with -fsanitize=address,undefined and run the fixture
#                      tests on that build (as check-unit does on the host; about as long again)
# shellcheck disable=SC2016 # sh -c '...': expanded by the shell inside the chroot, on purpose
set -euo pipefail

SUITE=trixie
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${VFIO_CLAIM_CACHE:-/var/cache/vfio-claim-tests}
dir=$cache/chroot-$SUITE
root=$dir/root
out=$cache/debs-out/$SUITE

log() { echo "trixie-test: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot)"
for tool in debootstrap unshare chroot flock sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is missing (tests/deps.sh check installs it)"
done

# The mirror: VFIO_CLAIM_MIRROR, else the first URI of an apt source for bookworm or trixie
# (one-line *.list files and deb822 *.sources files, in apt's order).
find_mirror() {
    local f
    if [ -n "${VFIO_CLAIM_MIRROR:-}" ]; then
        echo "$VFIO_CLAIM_MIRROR"
        return 0
    fi
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '
            /^[[:space:]]*#/ { next }
            /^deb[[:space:]]/ {
                for (i = 2; i < NF; i++)
                    if ($i ~ /^(https?|ftp|file):\/\// && ($(i + 1) == "bookworm" || $(i + 1) == "trixie")) {
                        print $i; exit
                    }
            }
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm" || $i == "trixie") ok = 1 }
            /^[[:space:]]*$/ { if (ok && uri) { print uri; exit } uri = ""; ok = 0 }
            END { if (ok && uri) print uri }
        ' "$f" | head -n1 | grep . && return 0
    done
    die "no bookworm or trixie source in /etc/apt: set VFIO_CLAIM_MIRROR to a Debian mirror"
}

# in_chroot ROOT COMMAND...: COMMAND in ROOT with /proc, /sys and /dev mounted in a private mount
# namespace (gone with the command), a clean environment and /build as the working folder.
in_chroot() {
    local r=$1
    shift
    unshare --mount --propagation private -- /bin/sh -c '
        r=$1
        shift
        mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
            mount --rbind /dev "$r/dev" || exit 1
        exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
            LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
            /bin/sh -c "cd /build 2>/dev/null || cd /; exec \"\$@\"" sh "$@"' sh "$r" "$@"
}

# --- the root file system, built once per key ---------------------------------------------------
mkdir -p "$cache" "$out"
exec 9>"$cache/.chroot-$SUITE.lock"
flock 9
key=$(cat "$0" "$top/tests/deps.sh" | sha256sum | cut -d' ' -f1)
if [ ! -d "$root" ] || [ "$(cat "$dir/stamp" 2>/dev/null)" != "$key" ]; then
    mirror=$(find_mirror)
    start=$(date +%s)
    rm -rf --one-file-system "$dir"
    mkdir -p "$dir"
    log "debootstrap $SUITE from $mirror (log: $dir/debootstrap.log)"
    debootstrap --variant=minbase "$SUITE" "$root.new" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
        {
            tail -n 20 "$dir/debootstrap.log" >&2
            die "debootstrap failed (log: $dir/debootstrap.log)"
        }
    cp /etc/resolv.conf "$root.new/etc/resolv.conf" 2>/dev/null || true
    mkdir -p "$root.new/build"
    cp "$top/tests/deps.sh" "$root.new/build/deps.sh"
    log "tests/deps.sh tests inside the chroot (log: $dir/deps.log)"
    in_chroot "$root.new" /bin/bash /build/deps.sh tests >"$dir/deps.log" 2>&1 ||
        {
            tail -n 20 "$dir/deps.log" >&2
            die "tests/deps.sh tests failed in the chroot (log: $dir/deps.log)"
        }
    in_chroot "$root.new" /bin/bash /build/deps.sh tests >/dev/null ||
        die "tests/deps.sh tests still misses packages after installing them"
    in_chroot "$root.new" apt-get clean
    rm -rf "$root.new/build"
    mv "$root.new" "$root"
    echo "$key" >"$dir/stamp"
    log "root file system built in $(($(date +%s) - start)) s"
fi

# --- the tree -------------------------------------------------------------------------------------
rm -rf --one-file-system "$root/build"
mkdir -p "$root/build/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$top" && xargs -0 sh -c 'for f; do
            if [ -e "$f" ] || [ -L "$f" ]; then printf "%s\n" "$f"; fi
        done' sh) |
        tar -C "$top" -cf - -T - | tar -C "$root/build/src" -xf -
else
    cp -a "$top/." "$root/build/src/"
    in_chroot "$root" make -C /build/src clean >/dev/null
fi
cp -a "$root/build/src" "$root/build/pkg-src"

# --- the steps ------------------------------------------------------------------------------------
passed=0 failed=0
step() { # NAME COMMAND...: runs COMMAND in the chroot, output indented; ok or not ok
    local name=$1 t0 rc=0
    shift
    t0=$(date +%s)
    echo "# --- $name"
    in_chroot "$root" "$@" 2>&1 | sed 's/^/#   /' || rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "ok - $name ($(($(date +%s) - t0)) s)"
        passed=$((passed + 1))
    else
        echo "not ok - $name ($(($(date +%s) - t0)) s)"
        failed=$((failed + 1))
    fi
}

echo "# $(in_chroot "$root" sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), gcc $(in_chroot "$root" gcc -dumpversion), kmod $(in_chroot "$root" sh -c "dpkg-query -W -f='\${Version}' kmod"), lintian $(in_chroot "$root" sh -c "dpkg-query -W -f='\${Version}' lintian")"
asan=
[ "${VFIO_CLAIM_CHROOT_SANITIZED:-0}" = 0 ] || asan=build-asan/vfio-claim
step "build (trixie's gcc, -Werror)" sh -c 'cd src && make -s -j2 CFLAGS="-O2 -g -Werror" vfio-claim tests/fakekernel.so $1 $(ls tests/unit/test-*.c | sed "s/\.c\$//")' sh "$asan"
step "C unit tests" bash -o pipefail -c 'cd src && tests/run-unit.sh $(ls tests/unit/test-*.c | sed "s/\.c\$//") | grep -v "^ok "'
step "fake-kernel self-test" sh -c 'cd src && FAKEKERNEL_SO=tests/fakekernel.so tests/fakekernel-selftest.sh'
step "fixture tests (tests/run-tests.sh ./vfio-claim, with tests/test-packaging.sh)" \
    sh -c 'cd src && tests/run-tests.sh ./vfio-claim'
if [ -n "$asan" ]; then
    step "fixture tests on the sanitized build" \
        sh -c 'cd src && VFIO_CLAIM_SANITIZED=1 tests/run-tests.sh build-asan/vfio-claim'
fi
step "dpkg-buildpackage -us -uc -b" sh -c 'cd pkg-src && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -n 40 ../build.log; exit 1; }'
step "lintian (trixie's) reports no error or warning" sh -c 'lintian --tag-display-limit 0 vfio-claim_*.changes >lintian.out 2>&1; cat lintian.out; ! grep -q "^[EW]: " lintian.out'
rm -f "$out"/vfio-claim_*.deb
cp "$root"/build/vfio-claim_*.deb "$out/" 2>/dev/null && log "the package: $(ls "$out"/vfio-claim_*.deb)"
step "apt install ./vfio-claim_*.deb, the trigger, the files where trixie looks, then purge" sh -c '
    set -e
    apt-get install -y --no-install-recommends ./vfio-claim_*.deb >apt.log 2>&1 || { tail -n 30 apt.log; exit 1; }
    grep -E "vfio-claim|initramfs" apt.log
    for f in /usr/sbin/vfio-claim "$(pkg-config --variable=udevdir udev)/rules.d/70-vfio-claim.rules" \
        /usr/share/initramfs-tools/hooks/vfio-claim \
        /usr/share/initramfs-tools/scripts/init-top/00-vfio-claim \
        /usr/lib/dracut/modules.d/90vfio-claim/module-setup.sh \
        /usr/share/bash-completion/completions/vfio-claim; do
        dpkg -S "$f" >/dev/null || { echo "not in the package: $f"; exit 1; }
        [ -e "$f" ] || { echo "not installed: $f"; exit 1; }
    done
    grep -q "Processing triggers for initramfs-tools" apt.log ||
        { echo "the update-initramfs trigger did not run"; exit 1; }
    /usr/sbin/vfio-claim --version
    apt-get purge -y vfio-claim >/dev/null 2>&1'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
