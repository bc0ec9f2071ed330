/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"

#define SELECT_RULES "/run/udev/rules.d/69-vfio-claim-select.rules"

/* The text of the selection rules for a configuration (none with vfio_claim=off). */
char *udev_select_rules(const struct config *cfg);
/* Writes them to SELECT_RULES under the root, atomically: 0 or a negative errno. */
int udev_select_rules_write(const struct config *cfg);
