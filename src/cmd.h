/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "policy.h"
#include "state.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

struct options {
	bool json;
	int verbose;
};

struct cmd {
	const char *name;
	int (*fn)(const struct options *opts, int argc, char *argv[]);
	const char *help;
};

/* What most commands need: the devices, the configuration and the plan. */
struct session {
	struct pci_list devs;
	struct config cfg;
	struct plan plan;
	struct kmod_ctx *kmod;
};

int session_open(struct session *s);
void session_plan(struct session *s);
void session_close(struct session *s);
struct kmod_ctx *session_kmod(struct session *s);

enum claim_result { CLAIM_DONE, CLAIM_ALREADY, CLAIM_HELD, CLAIM_SKIPPED, CLAIM_FAILED };
/* Claims one planned device and records it; logs what happened. */
enum claim_result claim_device(struct session *s, size_t i, const char *stage);
void print_config_errors(const struct config *cfg);
/* For commands without arguments: logs the first one given, and fails. */
int no_arguments(int argc, char *argv[]);
void host_driver_of(struct session *s, const struct pci_dev *d, char **driver, char **module);

int cmd_list(const struct options *opts, int argc, char *argv[]);
int cmd_check(const struct options *opts, int argc, char *argv[]);
int cmd_boot(const struct options *opts, int argc, char *argv[]);
int cmd_udev(const struct options *opts, int argc, char *argv[]);
int cmd_claim(const struct options *opts, int argc, char *argv[]);
int cmd_release(const struct options *opts, int argc, char *argv[]);
int cmd_status(const struct options *opts, int argc, char *argv[]);
int cmd_root_devices(const struct options *opts, int argc, char *argv[]);
