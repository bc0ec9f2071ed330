/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "util.h"

/* One state file: key=value lines a person reads with cat. */
struct kv {
	struct strv keys, values;
};

const char *kv_get(const struct kv *kv, const char *key);
void kv_set(struct kv *kv, const char *key, const char *value);
/* Removes a key (and its value), if present. */
void kv_del(struct kv *kv, const char *key);
void kv_free(struct kv *kv);
char *kv_format(const struct kv *kv);
/* "key=value" lines into kv (lines without '=' are skipped). */
void kv_parse(struct kv *kv, const char *text);

/*
 * Creates /run/vfio-claim and its devices folder (0755 whatever the umask), or checks the
 * existing ones: not links, root's, writable by nobody else (a wrong mode of ours is repaired).
 * 0, or -ELOOP (a link), -EPERM (not trusted), another negative errno.
 */
int state_prepare(void);
/* What a state error means for a person: "not trusted; remove it" for -ELOOP and -EPERM. */
const char *state_strerror(int r);
/* Serializes claims and releases between processes (parallel udev workers). */
int state_lock(void);
void state_unlock(int fd);
/*
 * Serializes a guest's start against another's stop (guest.c), around the claims and releases
 * (which take state_lock() inside): a give-back never races a new holder.
 */
int state_lock_guests(void);
/* An entry: read once per run, then from memory until the state lock is taken or let go. */
int state_read(const char *addr, struct kv *kv);
/* One value of an entry (as state_read() gives it), or NULL: a few keys of many entries. */
char *state_get(const char *addr, const char *key);
/* Forgets the entries kept: a session reads them anew; a command done with them frees them. */
void state_forget(void);
int state_write(const char *addr, const struct kv *kv);
int state_list(struct strv *addrs);
/* The devices released by hand this boot (state=released), sorted. */
int state_released(struct strv *addrs);
/* A file beside the device entries, e.g. "config-errors". */
int state_read_file(const char *name, char **text);
int state_write_file(const char *name, const char *content);
int state_remove_file(const char *name);

/*
 * /run/vfio-claim/summary: the machine-wide facts a udev event needs (SPEC §9), so that it reads
 * its device, slot and IOMMU group and not every PCI function. Written by `boot` (and by a udev
 * event that found it unusable, after reading every device once); valid for the boot it was
 * written in (the kernel's boot id).
 */
#define SUMMARY_FILE "summary"
struct summary {
	char *boot_id;	 /* /proc/sys/kernel/random/boot_id when written */
	bool have_iommu; /* some PCI device has an IOMMU group */
	struct strv usb; /* every USB controller (the last-USB rule), sorted */
	size_t ndevices; /* PCI functions when written: for a person, nothing reads it */
};
struct pci_list;
/* This boot's id: 0, or a negative errno (-ENOENT without /proc). */
int summary_boot_id(char **id);
/* The summary of a whole machine's device list (pci_scan()), for this boot. */
void summary_from(struct summary *sum, const struct pci_list *devs);
/* Atomically, beside the device entries; -ENOENT when this boot's id is unknown. */
int summary_write(const struct summary *sum);
/*
 * 0; -ENOENT (none), -ESTALE (another boot's, or the boot id cannot be read), -EBADMSG (not
 * what we write), -ELOOP or -EPERM (a link, someone else's, writable by others: not trusted),
 * or the folder's error (state_prepare()).
 */
int summary_read(struct summary *sum);
void summary_free(struct summary *sum);
/* The devices of devs released by hand this boot (state=released), sorted: their entries only. */
int state_released_of(const struct pci_list *devs, struct strv *addrs);
