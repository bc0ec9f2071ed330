// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: libvirt domain XML (src/sys/domxml.c), as the libvirt hook reads it on stdin.
 * Any bytes: domxml_parse() returns 0 with every address in range, or a negative errno with a
 * one-line message that names a line ("line N: ...") unless the input is over the size cap;
 * nothing leaks either way (ASan), and libxml2 never expands an entity (a DTD is refused).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domxml.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct domxml d;
	char *err = NULL;
	int r = domxml_parse((const char *)data, size, &d, &err);

	if (r == 0) {
		FUZZ_ASSERT(!err);
		FUZZ_ASSERT(d.nhostdevs == 0 || d.hostdevs);
		for (size_t i = 0; i < d.nhostdevs; i++)
			FUZZ_ASSERT(d.hostdevs[i].domain <= 0xffff && d.hostdevs[i].bus <= 0xff &&
				    d.hostdevs[i].slot <= 0x1f && d.hostdevs[i].function <= 7);
		/* the document is under the cap, so the name is too */
		FUZZ_ASSERT(!d.name || strlen(d.name) <= size);
		domxml_free(&d);
		return 0;
	}
	FUZZ_ASSERT(r == -EINVAL || r == -EFBIG || r == -ENOMEM);
	FUZZ_ASSERT(err && *err && !strchr(err, '\n') && strlen(err) < 512);
	FUZZ_ASSERT(r != -EINVAL || strncmp(err, "line ", 5) == 0);
	FUZZ_ASSERT(d.nhostdevs == 0 && !d.hostdevs && !d.name && !d.uuid);
	free(err);
	return 0;
}
