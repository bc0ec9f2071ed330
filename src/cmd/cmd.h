/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <getopt.h>

#include "config.h"
#include "holders.h"
#include "policy.h"
#include "rootdev.h"
#include "state.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/* The global options: before or after the command (vfio-claim list --json). */
struct options {
	bool json;
	int verbose;
};

/* One command, one file (cmd-NAME.c), one entry in the table of main.c. */
struct cmd {
	const char *name;
	const char *args;	  /* operands and own options, for the usage line */
	const char *help;	  /* one line, for vfio-claim --help */
	const char *options_help; /* its own options, one " -x, --long  text\n" line each */
	int (*run)(const struct cmd *cmd, struct options *opts, int argc, char *argv[]);
};

extern const struct cmd cmd_list, cmd_check, cmd_boot, cmd_udev, cmd_claim, cmd_release, cmd_status,
    cmd_root_devices, cmd_image_config;
extern const struct cmd cmd_doctor;
extern const struct cmd cmd_export;
extern const struct cmd cmd_run;
extern const struct cmd cmd_libvirt_hook;

/*
 * getopt_long() for a command: its own options, and the global ones, which it handles.
 * Returns the command's option character, or one of these when there is none left:
 */
enum {
	CMD_OPT_END = -1,	 /* operands start at optind */
	CMD_OPT_EXIT_OK = -2,	 /* --help was printed: exit 0 */
	CMD_OPT_EXIT_USAGE = -3, /* a bad option was reported: exit 2 */
};
int cmd_getopt(const struct cmd *cmd, struct options *opts, int argc, char *argv[],
	       const char *shortopts, const struct option *longopts);
/* The exit code for CMD_OPT_EXIT_OK or CMD_OPT_EXIT_USAGE. */
int cmd_exit_code(int c);
/*
 * The whole option loop of a command without options of its own, and with operands or not:
 * -1 to go on (operands at optind), else the exit code to return.
 */
int cmd_parse_plain(const struct cmd *cmd, struct options *opts, int argc, char *argv[],
		    bool operands);
void cmd_usage(const struct cmd *cmd, FILE *f);
/*
 * The operands argv[from..argc) as selectors, in *sels (*n of them; free with
 * cmd_selectors_free()). A selector that does not parse is logged, naming it (after "WHO: " when
 * who is not NULL), and nothing is kept: -EINVAL, for the caller's usage exit.
 */
int cmd_parse_selectors(const char *who, int argc, char *argv[], int from, struct selector **sels,
			size_t *n);
void cmd_selectors_free(struct selector *sels, size_t n);

/* What most commands need: the devices, the configuration, the protected set, the plan. */
struct session {
	struct pci_list devs;
	struct config cfg;
	struct protected_list protected;
	struct strv released; /* sorted addresses released by hand this boot */
	struct plan plan;
	struct modules
	    *modules;		/* made at the first question; libkmod opened at the first lookup */
	struct holders holders; /* who holds /dev/vfio/N: /proc scanned once, when first asked */
	bool holders_scanned;
	struct holders drm; /* who holds a DRM node, scanned with holders when a claim needs it */
	int holders_err, drm_err;
	bool drm_scanned, holders_warned;
	size_t *by_group, nby_group; /* device indices by IOMMU group, then address (claims) */
	bool guests; /* session_plan(): a guest is starting, when=guest lines claim too */
};

int session_open(struct session *s);
/*
 * The session of one udev event (SPEC §9): the devices named (a device, or an IOMMU group's
 * members), their slots, groups and bridges, and the USB controllers the last-USB rule weighs,
 * read by name with the machine-wide facts from the summary (state.h); the plan decides each of
 * them as session_open()'s would. A summary that is missing, stale or untrusted makes it read
 * every device once (session_open()) and write the summary again.
 */
int session_open_event(struct session *s, const struct strv *addrs);
/* The plan for the session's inputs; manual: a claim by hand, or NULL. */
void session_plan(struct session *s, const struct rule *manual);
void session_close(struct session *s);
/* A guest stopped: what no other guest holds goes back (cmd-run.c). 0, or -errno (logged). */
int guest_give_back(const char *guest);
struct modules *session_modules(struct session *s);
const struct holders *session_holders(struct session *s);
/*
 * A storage controller the early pass did not claim (the image had no root-device record) and
 * the udev pass took from its host driver later: the rebuilt initramfs claims it in time.
 */
bool late_storage(const struct pci_dev *d, const char *stage, const char *host_driver);
#define LATE_STORAGE                                                                               \
	"storage controller claimed late, after its host driver had taken it: this boot's "        \
	"initramfs did not claim it (it had no root-device record, so every storage controller "   \
	"was refused there); run 'update-initramfs -u' (or 'dracut -f') on this system so that "   \
	"the next boot claims it before any driver"
/* Why this boot's initramfs is stale (its configuration digest differs), or NULL. */
char *session_stale_image(void);
/*
 * What this boot's initramfs held, recorded by `boot` in the state directory for `doctor`:
 * "root_record=yes|empty|no" and "missing_modules=NAME..." lines.
 */
#define BOOT_IMAGE_CONTENTS "image-contents"
#define IMAGE_RECORD	    "/etc/vfio-claim/root-devices" /* in the image */

/*
 * A refusal not said yet this boot (the early pass, the initramfs' udev and the real root's
 * coldplug replay all meet the same devices): records it in the state directory's "refusals",
 * so that the kernel log says each refusal once. When the state cannot be read, it is new.
 */
#define REFUSALS "refusals"
bool refusal_is_new(const char *addr, const char *reason);

enum claim_result { CLAIM_DONE, CLAIM_ALREADY, CLAIM_HELD, CLAIM_SKIPPED, CLAIM_FAILED };
/*
 * Claims planned device i together with the planned members of its IOMMU group, all or none
 * (SPEC §7): a failure gives back the members already moved. Records each and logs what
 * happened. A device released this boot (checked again under the lock) is skipped, unless
 * the stage is "manual". handled (one flag per device, or NULL) marks the members taken care
 * of, so that a caller going through every device does not try a failed group again.
 */
enum claim_result claim_group(struct session *s, size_t i, const char *stage, bool *handled);
/*
 * release.c: device i and the claimed members of its IOMMU group back to the host (SPEC §7).
 * state: "released" (by hand) or "returned" (its last guest stopped). Clears want[] and sets
 * touched[] for the members it handled; json: its messages stay off stdout. 0 or a negative errno.
 */
int release_group(struct session *s, size_t i, bool *want, bool *touched, bool json,
		  const char *state);
/* release.c: d is on vfio-pci or a VFIO variant driver, or its driver_override keeps it for one. */
bool held_by_vfio(const struct pci_dev *d);
/*
 * Single-GPU passthrough: the consoles t says a claim unbound, restored after the host driver
 * (console_restore()), and logged: what is bound again, what no longer exists, what failed.
 * left receives what could not be restored (to keep recorded). 0 or the first negative errno.
 */
struct console_taken;
int session_restore_console(const char *addr, const struct console_taken *t,
			    struct console_taken *left);
void print_config_errors(const struct config *cfg);
void host_driver_of(struct session *s, const struct pci_dev *d, char **driver, char **module);

/*
 * The lines of the root-device record ("path=..."; what `root-devices` prints), and the root=
 * that was not found, or NULL. *no_record: why no record can be made here (a chroot, or it
 * cannot tell), or NULL. 0, or a negative errno when the devices cannot be read (logged by
 * session_open()).
 */
int root_devices_gather(struct strv *lines, char **unresolved, char **no_record);
