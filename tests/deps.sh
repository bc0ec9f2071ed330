#!/bin/bash
# Installs what building and testing vfio-claim needs on Debian 12, when run as root.
# Usage: tests/deps.sh [build|check|demo]   (each includes the ones before it)
# Only missing packages are installed; `apt-get update` runs once, and only when needed.
set -euo pipefail

build=(gcc make pkg-config libkmod-dev libblkid-dev libudev-dev libsmartcols-dev libc6-dev libxml2-dev)
check=(kmod python3 python3-yaml python3-jsonschema libvirt-clients bash-completion strace clang-format clang libclang-rt-14-dev shellcheck build-essential dpkg-dev debhelper lintian man-db initramfs-tools udev)
vm=(qemu-system-x86 debootstrap e2fsprogs git)

want=("${build[@]}")
case "${1:-check}" in
build) ;;
check) want+=("${check[@]}" "${vm[@]}") ;;
demo) want+=("${check[@]}" "${vm[@]}") ;;
*)
    echo "usage: $0 [build|check|demo]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
[ -n "${VFIO_CLAIM_APT_UPDATED:-}" ] || apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
