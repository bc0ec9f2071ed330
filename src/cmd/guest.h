/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

#include "cmd.h"
#include "guest-record.h"

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
