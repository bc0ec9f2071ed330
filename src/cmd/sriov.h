/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "bind.h"
#include "cmd.h"

/*
 * SR-IOV virtual functions that never meet a host driver (SPEC §7): boot turns off
 * sriov_drivers_autoprobe of each PF whose VFs a claim selects, before any VF exists, and
 * records the value it had in the state directory (sriov-autoprobe-ADDR); the udev pass claims
 * the selected VFs and probes the others for their host driver; the release of a PF's last
 * claimed VF writes the recorded value back.
 */

/* Turns PF pf's autoprobe off (recording the old value): 1 done, 0 nothing to do, -errno. */
int sriov_autoprobe_off(struct session *s, size_t pf, const char *stage);
/* This PF's autoprobe was turned off by us this boot. */
bool sriov_autoprobe_ours(const char *pf_addr);
/*
 * A VF udev saw that the plan does not claim: when its PF's autoprobe is ours (off), its host
 * driver gets it. 1 probed, 0 nothing to do, or a negative errno with err->step set.
 */
int sriov_probe_unselected(struct session *s, size_t vf, struct bind_error *err);
/*
 * After the release of VF vf: when no VF of its PF is on vfio-pci (or a variant) any more, the
 * PF's autoprobe gets its recorded value back. 1 restored, 0 nothing to do, or -errno.
 */
int sriov_release_done(struct session *s, size_t vf);
