/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "device.h"
#include "state.h"

/*
 * Single-GPU passthrough (SPEC §7, guest lifecycle): a display device that carries the console is
 * claimed at run time only after its frame-buffer consoles and the firmware framebuffer on it are
 * unbound, and given back with them restored exactly as recorded. The system side only: every
 * function returns 0 or a negative errno and prints nothing.
 *
 * What a claim unbound, as recorded in the device's state entry:
 *   vtcon_unbound=vtcon1               /sys/class/vtconsole/vtconN whose bind we turned 1 -> 0
 *   fb_unbound=efi-framebuffer:efi-framebuffer.0
 *                                      DRIVER:DEVICE unbound from /sys/bus/platform/drivers/DRIVER
 * (each a space-separated list).
 */
#define CONSOLE_KEY_VTCON "vtcon_unbound"
#define CONSOLE_KEY_FB	  "fb_unbound"

struct console_taken {
	struct strv vtcons; /* "vtcon1" */
	struct strv fbs;    /* "efi-framebuffer:efi-framebuffer.0" */
};

/* What failed, for the caller's message: "write 0 to /sys/class/vtconsole/vtcon1/bind". */
struct console_error {
	char step[160];
};

/*
 * A claim in this stage handles consoles: any run-time claim ("manual", a guest's). Not the
 * early pass (`boot`, stage "initramfs") nor the udev pass ("udev"): they run when a device is
 * added, before any DRM driver carries a console on it, and unbinding the firmware framebuffer
 * there would hide the boot's own prompts (a LUKS passphrase).
 */
bool console_stage_applies(const char *stage);
/* A display controller (PCI class 0x03: VGA, XGA, 3D, other). */
bool console_is_display(const struct pci_dev *d);
/*
 * The card may carry the console: it is the boot VGA device (the firmware's framebuffer and
 * the boot console are on it), or a framebuffer (/sys/class/graphics/fbN) is its own.
 */
bool console_on_card(const struct pci_dev *d);
/* The card's DRM nodes from its sysfs drm/ folder: "/dev/dri/card0", "/dev/dri/renderD128". */
int console_drm_nodes(const struct pci_dev *d, struct strv *nodes);

/*
 * Before the host driver is unbound: every frame-buffer console whose bind reads 1 gets 0, then
 * on the boot VGA device every platform device bound to efi-framebuffer, simple-framebuffer or
 * vesa-framebuffer is unbound. t receives exactly what was done. On a failure what was done is
 * restored, t is emptied, and the negative errno is returned with err->step set.
 */
int console_take(const struct pci_dev *d, struct console_taken *t, struct console_error *err);
/*
 * After the host driver is back: the framebuffers bound again, then the consoles (bind 1), as
 * t says; a console its driver bound again by itself is left as it is. left receives what could
 * not be restored; gone (may be NULL) what no longer exists: a firmware framebuffer the kernel
 * removed when a driver took the card (vfio-pci does for a VGA device, a DRM driver when it
 * takes the display), a frame-buffer console that left with the last framebuffer (it takes the
 * next one by itself). The first failure's negative errno is returned with err->step set, else 0.
 */
int console_restore(const struct console_taken *t, struct console_taken *left,
		    struct console_taken *gone, struct console_error *err);

bool console_taken_empty(const struct console_taken *t);
void console_taken_free(struct console_taken *t);
/* The record keys (set when t has entries, removed otherwise). */
void console_record(const struct console_taken *t, struct kv *kv);
/*
 * The record of a state entry: entries that are not a vtconN or a known framebuffer driver with
 * a plain device name are dropped (the state directory is no list of files to write): 0, or
 * -EBADMSG when something was dropped.
 */
int console_from_record(const struct kv *kv, struct console_taken *t);
/* "vtcon1, efi-framebuffer.0 (efi-framebuffer)" for a message; NULL when t is empty. */
char *console_describe(const struct console_taken *t);
