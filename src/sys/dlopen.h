/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/* One symbol to resolve: where its address goes, and its name. */
struct dlsym_entry {
	void **fn;
	const char *name;
};
#define DLSYM_ENTRY(sym)                                                                           \
	{                                                                                          \
		(void **)&sym_##sym, #sym                                                          \
	}

/*
 * Opens the first of sonames (NULL-terminated) that loads and resolves every symbol of the
 * table, the way systemd's dlopen_many_sym_or_warn() does. Once it succeeded, later calls
 * return 0 at once. 0; -ELIBACC: no soname loads (the library is not installed); -ELIBBAD: a
 * symbol is missing (another version). On failure no pointer of the table is set and *handle
 * stays NULL, so that a later call tries again.
 */
int dlopen_symbols(void **handle, const char *const *sonames, const struct dlsym_entry *syms,
		   size_t n);
