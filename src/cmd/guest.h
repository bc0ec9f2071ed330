/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

#include "cmd.h"

/*
 * Devices that follow their guests (SPEC §7 "Guest lifecycle"). A device a when=guest line (or
 * claim --guest) selects is claimed, whole IOMMU group, when a guest that uses it starts, and
 * given back when the last guest that holds it stops. Its state entry records the holders:
 *
 *   lifecycle=yes                 this start moved it: the last holder's stop gives it back
 *   guests=NAME[,NAME...]         the holding guests, escaped (guest_escape())
 *   guest.NAME=starter=run pid=1234 start=5678 boot=BOOTID
 *
 * starter is libvirt, run (pid and start time of the `vfio-claim run` process, so that one
 * SIGKILLed is seen gone) or manual (claim --guest).
 */

/*
 * A guest name as the state stores it: letters, digits and "._+@-" as they are, every other
 * byte as %XX, so that no name can put a newline, '=' or ',' into a state entry. NULL for an
 * empty name or one longer than GUEST_NAME_MAX bytes.
 */
#define GUEST_NAME_MAX 256
char *guest_escape(const char *name);

/*
 * An escaped name for a person: the name as given when it holds no control byte, quote or
 * backslash, else the escaped form (allocated). Commands take a guest's name as given, only:
 * "a%41" is the guest of that name, never the one whose escaped name it is (see
 * guest_shell_word() for a name to type).
 */
char *guest_display(const char *ename);
/*
 * The name, as a shell word that gives it back to a command (allocated): as it is when it is
 * made of safe characters, else in "...", or in $'...' with \xNN for control bytes.
 */
char *guest_shell_word(const char *ename);
/* name itself is an escaped name (safe characters and %XX only). */
bool guest_is_escaped(const char *name);

/* Who starts the guest: recorded with it, to tell later whether it is gone. */
struct guest_starter {
	const char *kind; /* "libvirt", "run", "manual" */
	pid_t pid;	  /* run: the vfio-claim run process; else 0 */
};

/* The escaped names of the guests an entry records as holders, in order. */
void guest_holders(const struct kv *entry, struct strv *names);
/*
 * Why a holding guest of an entry is gone (its `vfio-claim run` process died or its pid was
 * reused, or it was recorded on another boot), allocated; NULL while it may still run.
 */
char *guest_gone(const struct kv *entry, const char *ename);
/* The starter recorded for a holding guest ("run", "libvirt", "manual"), or NULL. */
const char *guest_starter_of(const struct kv *entry, const char *ename, long *pid);

/*
 * Marks in want[] (one flag per device of s->devs, planned) what a guest asks for: the devices
 * rule's selectors match, or, without a rule, those that claim lines with tag=TAG select;
 * never a bridge. How many it marked.
 */
size_t guest_pick(const struct session *s, const struct rule *rule, const char *tag, bool *want);

/*
 * Claims for guest NAME the devices want[] marks (indices of s->devs; the session planned with
 * s->guests set, and the claim --guest rule as manual if any): all or nothing. Every device is
 * checked first (a refusal changes nothing); a lifecycle device is claimed with its IOMMU group
 * (claim_group()) and records NAME as a holder; a device claimed at boot, or on a VFIO driver
 * already, is only checked. When one fails, the groups this call moved go back.
 * *why: one line, allocated, for the caller's single message; 0 or a negative errno.
 */
int guest_claim(struct session *s, const char *name, const struct guest_starter *who,
		const bool *want, char **why);
/*
 * Drops guest NAME from every device it holds; a lifecycle device that no guest holds any more
 * goes back to its host driver, whole group (release_group()). Logs each step; *gave: how many
 * devices went back; affected (one flag per device, or NULL): the devices NAME held.
 * 0, or a negative errno (a device could not go back: NAME stays its holder).
 */
int guest_release(struct session *s, const char *name, bool json, size_t *gave, bool *affected);

/* cmd-release.c: one device and the claimed members of its IOMMU group back to the host. */
int release_group(struct session *s, size_t i, bool *want, bool *touched, bool json,
		  const char *state);
