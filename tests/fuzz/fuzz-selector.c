// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: one selector (SPEC §4). It parses or fails with a message; a parsed one
 * re-parses from its text to the same selector, its normalized path is never a truncation of what
 * was written, and its udev match (one line, balanced quotes) accepts every device that
 * selector_match() selects, including a device built to fit the selector.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "match.h"

static struct pci_dev fixed[] = {
	{ .addr = "0000:01:00.0",
	  .bus = 1,
	  .vendor = 0x10de,
	  .device = 0x1b80,
	  .subvendor = 0x1458,
	  .subdevice = 0x3fd4,
	  .class = 0x030000,
	  .devpath = "/devices/pci0000:00/0000:00:01.0/0000:01:00.0",
	  .pcipath = "0000:00:01.0/00.0" },
	{ .addr = "0000:01:00.1",
	  .bus = 1,
	  .func = 1,
	  .vendor = 0x10de,
	  .device = 0x10f0,
	  .subvendor = 0x1458,
	  .subdevice = 0x3fd4,
	  .class = 0x040300,
	  .devpath = "/devices/pci0000:00/0000:00:01.0/0000:01:00.1",
	  .pcipath = "0000:00:01.0/00.1" },
	{ .addr = "0000:00:1f.3",
	  .slot = 0x1f,
	  .func = 3,
	  .vendor = 0x8086,
	  .device = 0xa348,
	  .subvendor = 0x8086,
	  .subdevice = 0x7270,
	  .class = 0x040300,
	  .devpath = "/devices/pci0000:00/0000:00:1f.3",
	  .pcipath = "0000:00:1f.3" },
	{ .addr = "0000:3d:00.0",
	  .bus = 0x3d,
	  .vendor = 0x144d,
	  .device = 0xa808,
	  .subvendor = 0x144d,
	  .subdevice = 0xa801,
	  .class = 0x010802,
	  .devpath = "/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0",
	  .pcipath = "0000:00:1d.0/00.0" },
};

/* A device the selector is meant to select; its strings are allocated (freed by the caller). */
static void fit_device(const struct selector *sel, struct pci_dev *d)
{
	static const uint32_t classes[] = { 0x030000, 0x020000, 0x0c0330, 0x010600,
					    0x010802, 0x040300, 0x040100 };

	memset(d, 0, sizeof(*d));
	d->vendor = 0xabcd, d->device = 0x1234, d->subvendor = 0x5678, d->subdevice = 0x9abc;
	d->class = 0x0c0330;
	switch (sel->kind) {
	case SEL_ADDR:
		d->domain = sel->u.addr.domain, d->bus = sel->u.addr.bus;
		d->slot = sel->u.addr.slot, d->func = sel->u.addr.func < 0 ? 5 : sel->u.addr.func;
		break;
	case SEL_IDS:
		if (sel->u.ids.vendor >= 0)
			d->vendor = (uint16_t)sel->u.ids.vendor;
		if (sel->u.ids.device >= 0)
			d->device = (uint16_t)sel->u.ids.device;
		if (sel->u.ids.subvendor >= 0)
			d->subvendor = (uint16_t)sel->u.ids.subvendor;
		if (sel->u.ids.subdevice >= 0)
			d->subdevice = (uint16_t)sel->u.ids.subdevice;
		break;
	case SEL_CATEGORY:
		for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
			if (pci_categories(classes[i]) & sel->u.category) {
				d->class = classes[i];
				break;
			}
		break;
	case SEL_CLASS:
		d->class = sel->u.class.value;
		break;
	case SEL_VFS_OF: /* its first VF, at the PF's routing id + 1 */
		memcpy(d->physfn, sel->u.pf, 13);
		pci_dev_set_addr(d, sel->u.pf);
		d->func = (d->func + 1) & 7;
		break;
	case SEL_PATH: {
		/* the kernel's devpath for it: the root device, then one new bus per hop */
		const char *p = sel->u.path, *hop;
		char *s = xasprintf("/devices/pci%.7s/%.12s", p, p), *t;
		unsigned bus = 0;

		d->pcipath = xstrdup(p);
		for (hop = strchr(p, '/'); hop; hop = strchr(hop + 1, '/')) {
			t = xasprintf("%s/%.4s:%02x:%.4s", s, p, ++bus & 0xff, hop + 1);
			free(s);
			s = t;
		}
		d->devpath = s;
		pci_dev_set_addr(d, s + strlen(s) - 12);
		return;
	}
	}
	snprintf(d->addr, sizeof(d->addr), "%04x:%02x:%02x.%u", d->domain & 0xffff, d->bus & 0xff,
		 d->slot & 0x1f, d->func & 7);
	d->devpath = xasprintf("/devices/pci%04x:%02x/%s", d->domain, d->bus, d->addr);
	d->pcipath = xstrdup(d->addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *m, *m2;
	struct selector sel, again;
	const char *why = NULL;
	struct pci_dev fit;

	if (selector_parse(text, &sel, &why) < 0) {
		FUZZ_ASSERT(why && *why); /* fails with a message */
		free(text);
		return 0;
	}
	FUZZ_ASSERT(sel.text && strcmp(sel.text, text) == 0);
	if (sel.kind == SEL_PATH) /* normalized case, never truncated into another selector */
		FUZZ_ASSERT(strlen(sel.u.path) == strlen(text) - 5 &&
			    strcasecmp(sel.u.path, text + 5) == 0);

	m = selector_udev_match(&sel);
	FUZZ_ASSERT(m);
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (selector_match(&sel, &fixed[i]))
			FUZZ_ASSERT(udev_match_eval(m, &fixed[i]));
		else
			(void)udev_match_eval(m, &fixed[i]); /* still well formed */
	fit_device(&sel, &fit);
	FUZZ_ASSERT(selector_match(&sel, &fit));
	FUZZ_ASSERT(udev_match_eval(m, &fit));

	/* its text means the same selector again */
	FUZZ_ASSERT(selector_parse(sel.text, &again, &why) == 0 && again.kind == sel.kind);
	m2 = selector_udev_match(&again);
	FUZZ_ASSERT(strcmp(m, m2) == 0);
	FUZZ_ASSERT(selector_match(&again, &fit));

	free(m2);
	free(m);
	free(fit.devpath);
	free(fit.pcipath);
	selector_free(&again);
	selector_free(&sel);
	free(text);
	return 0;
}
