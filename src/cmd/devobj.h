/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "cmd.h"
#include "json.h"
#include "names.h"

/*
 * One device as every command shows it: the device object of SPEC §3, the same keys with the
 * same types in `list`, `check`, `status`, `claim`, `release`, `root-devices` and `export json`
 * (docs/vfio-claim.schema.json, vfio-claim(8) JSON OUTPUT). Gathered from the session (the
 * device, its verdict in the plan, the protected set, the holders) and the device's state entry.
 */
struct devinfo {
	const struct pci_dev *dev;
	const char *decision;		 /* "claim", "keep", "refuse"; NULL without a plan */
	const char *reason;		 /* why; NULL without a plan */
	char *vendor_name, *device_name; /* as lspci names them, or NULL */
	struct strv names;		 /* attached: "eno1", "/dev/nvme0n1", "/dev/dri/card1" */
	struct strv protected_by;	 /* why the host needs it: "carries /home (from ...)" */
	const struct holder *holders;	 /* who holds its /dev/vfio/N open, nholders of them */
	size_t nholders;
	const char *tag;	 /* of the entry this boot, else of the selecting claim; or NULL */
	const char *rule;	 /* the claim that selected it ("FILE:LINE", "cmdline"), or NULL */
	const char *state;	 /* "claimed", "held", "failed", "released", "lost", or NULL */
	const char *stage;	 /* "initramfs", "udev", "manual", "kernel" (vfio-pci.ids=), NULL */
	const char *host_driver; /* the driver it would have without us, or NULL */
	struct kv entry;	 /* its state entry this boot (empty when it has none) */
	bool follows_guests;	 /* lifecycle-managed: a when=guest line, or claimed for a guest */
	struct strv guests;	 /* the guests that hold it now (escaped names), in order */
	char *own_reason;	 /* storage for a reason made here */
};

/*
 * Gathers device i of the session. The plan is used when session_plan() made one; the holders
 * are scanned on first use (session_holders()). db: from names_open(), once per run; NULL
 * leaves the names unknown.
 */
void devinfo_get(struct devinfo *di, struct session *s, struct names *db, size_t i);
/* The same for a device given apart from the session's list (one gone since its claim): no
 * verdict, no holders. */
void devinfo_get_dev(struct devinfo *di, struct session *s, struct names *db,
		     const struct pci_dev *d);
void devinfo_free(struct devinfo *di);

/*
 * Writes the device object: opens an object (key NULL inside an array), writes every member of
 * SPEC §3 (null for unknown, arrays for lists), and leaves the object open so that a command can
 * add its own members (check: "rule"; claim: "result") before jsonw_object_close().
 */
void devinfo_json_open(struct jsonw *w, const char *key, const struct devinfo *di);

/*
 * The whole device object of device i, closed: what `export json` and most commands need.
 * db as for devinfo_get().
 */
void devobj_json(struct jsonw *w, const char *key, struct session *s, struct names *db, size_t i);

/* The attached names of a device (net interfaces, /dev nodes of disks and GPUs), sorted. */
void devobj_attached_names(const struct pci_dev *d, struct strv *out);
