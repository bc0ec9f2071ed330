#!/bin/bash
# Installs what building and testing vfio-claim needs on Debian 13 or Debian 12, when run as root.
# Usage: tests/deps.sh [--root DIR] [--print] [build|tests|unit|check|demo]   (each includes the ones
# before it; tests: what the unit, fixture and packaging tests need (make check-trixie's chroot);
# unit: all of `make check-unit`, with clang for the fuzzers and clang-format; check: QEMU too)
# Only missing packages are installed; `apt-get update` runs once, and only when needed.
# The release is read from DIR/etc/os-release (VERSION_CODENAME, else VERSION_ID; DIR is / unless
# given): package names that differ between releases come from the table below. --print only
# prints the names this release needs, one a line (installed or not), and installs nothing.
set -euo pipefail

root=/
print=
while [ $# -gt 0 ]; do
    case $1 in
    --root)
        root=${2:?--root needs a folder}
        shift 2
        ;;
    --print)
        print=1
        shift
        ;;
    *) break ;;
    esac
done
level=${1:-check}

# VERSION_CODENAME of DIR/etc/os-release (falling back to /usr/lib/os-release), else its VERSION_ID
release=
for f in "$root/etc/os-release" "$root/usr/lib/os-release"; do
    [ -r "$f" ] || continue
    release=$(sed -n 's/^VERSION_CODENAME=["'\'']\{0,1\}\([^"'\'']*\).*/\1/p' "$f")
    [ -n "$release" ] || release=$(sed -n 's/^VERSION_ID=["'\'']\{0,1\}\([^"'\'']*\).*/\1/p' "$f")
    break
done

# The names that differ: the clang runtime (libFuzzer, sanitizers) of the release's default clang,
# and the package that ships udev.pc (udevdir, where the package puts its udev rule).
case $release in
bookworm | 12*)
    clang_rt=libclang-rt-14-dev
    udev_pc=udev
    ;;
trixie | 13*)
    clang_rt=libclang-rt-19-dev
    udev_pc=systemd-dev
    ;;
*)
    echo "deps: unknown release '${release:-?}' in $root/etc/os-release (Debian 13 and 12 are supported)" >&2
    exit 1
    ;;
esac

build=(gcc make pkg-config libkmod-dev libblkid-dev libudev-dev libsmartcols-dev libc6-dev libxml2-dev "$udev_pc")
tests=(kmod python3 python3-yaml python3-jsonschema libvirt-clients bash-completion strace shellcheck build-essential dpkg-dev debhelper lintian man-db initramfs-tools udev)
unit=(clang-format clang "$clang_rt")
vm=(qemu-system-x86 debootstrap e2fsprogs git)

want=("${build[@]}")
case $level in
build) ;;
tests) want+=("${tests[@]}") ;;
unit) want+=("${tests[@]}" "${unit[@]}") ;;
check) want+=("${tests[@]}" "${unit[@]}" "${vm[@]}") ;;
demo) want+=("${tests[@]}" "${unit[@]}" "${vm[@]}") ;;
*)
    echo "usage: $0 [--root DIR] [--print] [build|tests|unit|check|demo]" >&2
    exit 2
    ;;
esac

if [ -n "$print" ]; then
    printf '%s\n' "${want[@]}" | awk '!seen[$0]++'
    exit 0
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query --root="$root" -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$root" != / ]; then
    echo "deps: missing in $root: ${missing[*]} (run tests/deps.sh inside it to install them)" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
[ -n "${VFIO_CLAIM_APT_UPDATED:-}" ] || apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
