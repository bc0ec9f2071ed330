/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `doctor`'s checks: one function per check, in the table of cmd-doctor.c, grouped by subject in
 * doctor-kernel.c (the kernel and its modules), doctor-boot.c (the configuration and the boot's
 * image) and doctor-user.c (what a guest's user meets). A check reads the root (--root DIR) and
 * adds its findings to the report, under its name: one line or more, or none when it does not
 * apply.
 */
#pragma once

#include "cmd.h"

enum result { RES_OK, RES_WARN, RES_FAIL };

/* One line of the report. */
struct finding {
	const char *name;
	enum result result;
	char *message, *fix; /* fix: NULL when ok */
};

struct report {
	struct finding *v;
	size_t n;
	const char *name; /* the check that runs */
};

/* Adds a finding of the running check; takes message and fix (either may be NULL). */
void report_add(struct report *rp, enum result result, char *message, char *fix);

/* What the checks share. The root's file, whole: 0 or a negative errno. */
int doctor_read(const char *path, char **text);
/* Entries of a folder under the root (not "." ones), sorted; 0 or a negative errno. */
int doctor_list(const char *path, struct strv *names);
/* A device the plan claims, or one on vfio-pci already. */
bool doctor_claimed(const struct session *s, size_t i);

/* The checks, check_NAME for the check NAME; the table of cmd-doctor.c orders them. */
/* doctor-kernel.c */
void check_iommu(struct session *s, struct report *rp);
void check_interrupt_remapping(struct session *s, struct report *rp);
void check_vfio_modules(struct session *s, struct report *rp);
void check_iommufd(struct session *s, struct report *rp);
void check_vfio_pci_ids(struct session *s, struct report *rp);
void check_builtin_driver(struct session *s, struct report *rp);
/* doctor-boot.c */
void check_configuration(struct session *s, struct report *rp);
void check_initramfs(struct session *s, struct report *rp);
void check_initramfs_modules(struct session *s, struct report *rp);
void check_initramfs_record(struct session *s, struct report *rp);
void check_framebuffer(struct session *s, struct report *rp);
/* doctor-user.c */
void check_iommu_groups(struct session *s, struct report *rp);
void check_reset(struct session *s, struct report *rp);
void check_memlock(struct session *s, struct report *rp);
void check_guests(struct session *s, struct report *rp);
