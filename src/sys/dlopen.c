// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Libraries that only some commands need are opened at their first use (systemd's
 * src/shared/dlopen-util.c): a run that does not need them never maps them, nor what they
 * link (libkmod brings libcrypto, liblzma and libzstd).
 */
#include <dlfcn.h>
#include <errno.h>

#include "dlopen.h"
#include "log.h"

int dlopen_symbols(void **handle, const char *const *sonames, const struct dlsym_entry *syms,
		   size_t n)
{
	void *dl = NULL;

	if (*handle)
		return 0;
	for (size_t i = 0; sonames[i] && !dl; i++) {
		dl = dlopen(sonames[i], RTLD_NOW | RTLD_NODELETE);
		if (!dl) {
			const char *e = dlerror();
			log_debug("cannot open %s: %s", sonames[i], e ? e : "not found");
		}
	}
	if (!dl)
		return -ELIBACC;
	for (size_t i = 0; i < n; i++) {
		void *p = dlsym(dl, syms[i].name);

		if (!p) {
			log_debug("%s: no symbol %s", sonames[0], syms[i].name);
			for (size_t k = 0; k < i; k++)
				*syms[k].fn = NULL;
			dlclose(dl);
			return -ELIBBAD;
		}
		*syms[i].fn = p;
	}
	*handle = dl;
	return 0;
}
