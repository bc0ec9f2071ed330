#!/bin/bash
# Guest side of tests/vm/gpu-test.sh: prints "CHECK ..." facts that the host asserts.
# The boot VGA device is QEMU's std VGA at 0000:00:01.0. The kernel command line has vga=0x317
# (vesafb: a firmware framebuffer, the platform device vesa-framebuffer.0, with fbcon on it) and
# modprobe.blacklist=bochs, so that the boot ends with the console on the firmware framebuffer
# and no DRM driver (part B). vfio-pci (Linux 6.0+) removes a VGA device's firmware framebuffer
# for good when it binds, so the release can only report it gone. Then bochs is loaded by hand,
# takes the display and fbcon draws on its DRM framebuffer (part A), and the card follows a guest
# ('desktop': claim --guest, release --guest).
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
VGA=0000:00:01.0

driver_of() {
	local link=/sys/bus/pci/devices/$1/driver
	if [[ -e "$link" ]]; then basename "$(readlink "$link")"; else echo none; fi
}
# "vtcon0=0 vtcon1=1": every virtual console driver and whether it is bound
vt_state() {
	local v out=
	for v in /sys/class/vtconsole/vtcon*; do
		out+="$(basename "$v")=$(cat "$v/bind") "
	done
	echo "${out% }"
}
# the fbcon console ("frame buffer device") and its bind, or "none"
fbcon_state() {
	local v
	for v in /sys/class/vtconsole/vtcon*; do
		if grep -q "frame buffer device" "$v/name"; then
			echo "$(basename "$v")=$(cat "$v/bind")"
			return
		fi
	done
	echo none
}
vesafb_state() {
	local l=/sys/bus/platform/devices/vesa-framebuffer.0
	if [[ ! -e $l ]]; then
		echo gone
	elif [[ -e $l/driver ]]; then
		basename "$(readlink "$l/driver")"
	else
		echo unbound
	fi
}
card0() { if [[ -e /dev/dri/card0 ]]; then echo yes; else echo no; fi; }
record() { grep -E "^($1)=" /run/vfio-claim/devices/$VGA 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
show() {
	echo "  driver $(driver_of $VGA); vtconsoles: $(vt_state); vesa-framebuffer.0: $(vesafb_state); /dev/dri/card0: $(card0)"
	for v in /sys/class/vtconsole/vtcon*; do echo "  $(basename "$v"): $(cat "$v/name")"; done
}

echo "== part B: fbcon on the firmware framebuffer (vesafb), no DRM driver"
show
before_b=$(vt_state)
echo "CHECK B before $(driver_of $VGA) $(vesafb_state) $(fbcon_state)"

echo "== vfio-claim claim $VGA (no --force)"
rc=0
vfio-claim claim $VGA >out.txt 2>&1 || rc=$?
sed 's/^/    /' out.txt
echo "CHECK B refused rc=$rc $(grep -c 'boot VGA device' out.txt) $(driver_of $VGA) $(vesafb_state) $(fbcon_state)"

echo "== vfio-claim claim --force $VGA"
rc=0
vfio-claim claim --force $VGA >out.txt 2>&1 || rc=$?
sed 's/^/    /' out.txt
show
echo "CHECK B claimed rc=$rc $(driver_of $VGA) $(vesafb_state) $(fbcon_state)"
echo "CHECK B said-unbound $(grep -c "$VGA: console unbound before its driver: vtcon1, vesa-framebuffer.0 (vesa-framebuffer)" out.txt)"
echo "CHECK B record $(record 'vtcon_unbound|fb_unbound')"

echo "== vfio-claim release $VGA"
rc=0
vfio-claim release $VGA >out.txt 2>&1 || rc=$?
sed 's/^/    /' out.txt
sleep 1
show
echo "CHECK B released rc=$rc $(driver_of $VGA) $(vesafb_state) $(fbcon_state)"
echo "CHECK B gone-reported $(grep -c "$VGA: vtcon1, vesa-framebuffer.0 (vesa-framebuffer) no longer exist" out.txt)"
echo "CHECK B vtconsoles: before '$before_b', after '$(vt_state)'"
echo "CHECK B record-cleared $(record 'vtcon_unbound|fb_unbound' | grep -c . || true)"

echo "== part A: modprobe bochs: fbcon on bochs-drm's framebuffer"
modprobe bochs
udevadm settle -t 30
sleep 2
show
before_a=$(vt_state)
echo "CHECK A before $(driver_of $VGA) $(vesafb_state) $(fbcon_state) card0=$(card0)"

echo "== a process holds /dev/dri/card0: vfio-claim claim --guest desktop --force $VGA"
# shellcheck disable=SC2217 # it only holds the node open, as a display server does
sleep 600 </dev/dri/card0 &
holder=$!
for _ in $(seq 50); do
	[[ "$(readlink /proc/$holder/fd/0)" == /dev/dri/card0 ]] && break
	sleep 0.1
done
rc=0
vfio-claim claim --guest desktop --force $VGA >out.txt 2>&1 || rc=$?
sed 's/^/    /' out.txt
echo "CHECK A held rc=$rc $(grep -c "$VGA: held by sleep (pid $holder) through /dev/dri/card0: stop the display manager first" out.txt) $(driver_of $VGA) $(fbcon_state)"
kill $holder
wait $holder 2>/dev/null

echo "== vfio-claim claim --guest desktop --force $VGA"
rc=0
vfio-claim claim --guest desktop --force $VGA >out.txt 2>&1 || rc=$?
sed 's/^/    /' out.txt
show
echo "CHECK A claimed rc=$rc $(driver_of $VGA) $(fbcon_state) card0=$(card0)"
echo "CHECK A said-unbound $(grep -c "$VGA: console unbound before its driver: vtcon1$" out.txt)"
echo "CHECK A record $(record 'vtcon_unbound|fb_unbound')"

echo "== vfio-claim release --guest desktop"
rc=0
vfio-claim release --guest desktop >out.txt 2>&1 || rc=$?
sed 's/^/    /' out.txt
udevadm settle -t 30
sleep 1
show
echo "CHECK A released rc=$rc $(driver_of $VGA) $(fbcon_state) card0=$(card0)"
echo "CHECK A said-bound-again $(grep -c "$VGA: console bound again: vtcon1$" out.txt)"
echo "CHECK A vtconsoles-as-before $([[ "$(vt_state)" == "$before_a" ]] && echo yes || echo "no: '$before_a' then '$(vt_state)'")"
echo "CHECK A record-cleared $(record 'vtcon_unbound|fb_unbound' | grep -c . || true)"
echo "CHECK bochs-still-loaded $(grep -c '^bochs ' /proc/modules)"
echo "== kernel log"
dmesg | grep -E 'vesafb|fbcon|Console|bochs|vfio' | sed 's/^/    /'
exit 0
