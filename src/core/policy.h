/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "device.h"
#include "match.h"

/*
 * Decisions (SPEC §6) as a pure function: the caller gathers every input (devices, the
 * configuration, the protected devices, the state), plan_build() opens nothing.
 */

enum decision { DEC_KEEP, DEC_CLAIM, DEC_REFUSE };

/* A PCI device that carries a file system the host needs. */
struct protected_dev {
	char addr[16];
	char *why;	  /* "carries the root file system ('/dev/nvme0n1p2')" */
	struct strv more; /* the other reasons found after it ("carries swap (from ...)") */
};

struct protected_list {
	struct protected_dev *v;
	size_t n;
	char *unresolved; /* root= that could not be found (before the storage driver binds) */
	bool have_record; /* /etc/vfio-claim/root-devices names a device (initramfs hooks) */
	struct strv bad_record_lines; /* record lines that are not selectors, for the caller */
};

struct plan_input {
	const struct pci_list *devs;
	const struct config *cfg;
	const struct protected_list *protected; /* NULL: none */
	const struct strv *released; /* sorted addresses released by hand this boot, or NULL */
	/*
	 * "ADDR DRIVER": devices whose driver_override names another driver (a release whose
	 * state could not be written pinned it to its host driver, or driverctl did), or NULL.
	 * Like a release, only a claim by hand overrides it.
	 */
	const struct strv *pinned;
	const struct rule *manual; /* `claim` by hand: one more claim, honoured even with
				      vfio_claim=off, and over a release this boot */
	/*
	 * A guest is starting (claim --guest, run, the libvirt hook): the when=guest lines
	 * claim too. Otherwise (boot, udev, check, list) they keep their devices on the host.
	 */
	bool guests;
};

struct verdict {
	enum decision decision;
	const char *reason;
	bool own_reason;	 /* reason was made for this verdict, else a fixed string */
	const struct rule *rule; /* the claim that selected it, or its group companion's */
	bool selected;		 /* a claim matches it */
	bool forced;		 /* named by address with 'force' */
	bool released;		 /* selected, but released by hand this boot (or pinned) */
	/* a when=guest line (or claim --guest) selects it: lifecycle-managed; or NULL */
	const struct rule *guest_rule;
	const char *driver; /* claim: the driver to claim it for, "vfio-pci" or a VFIO variant */
};

struct plan {
	struct verdict *v; /* one per device, same order as the device list */
	size_t n;
};

void plan_build(struct plan *plan, const struct plan_input *in);
void plan_free(struct plan *plan);
/*
 * An SR-IOV physical function (not claimed itself) of which the configuration selects a VF it
 * can create: its VFs are made in memory from its layout (sriov_offset, sriov_stride,
 * sriov_vf_device, its ids and class), as the kernel will number them (SPEC §7).
 */
bool plan_selects_vfs_of(const struct plan *plan, const struct plan_input *in, size_t pf);
const char *decision_name(enum decision d);
void protected_free(struct protected_list *p);
const char *protected_why(const struct protected_list *p, const char *addr);
