/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

#include "state.h"

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
/* The same for a name as given (not escaped); a name guest_escape() refuses as it is. */
char *guest_word(const char *name);
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
 * A holder's record for a guest that who started ("starter=run pid=1 start=2 boot=ID"): the pid's
 * start time and this boot's id, so that a dead or reused pid, or another boot, is seen gone.
 */
char *guest_record_of(const struct guest_starter *who);
