// SPDX-License-Identifier: GPL-2.0-or-later
/* Selectors (SPEC §4): address, ids, category, class with mask, PCI path, VFs of a PF. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

static const struct {
	const char *name;
	unsigned cat;
	const char *udev[2]; /* class globs for the generated udev rule */
} categories[] = {
	{ "gpu", CAT_GPU, { "0x03*" } },     { "net", CAT_NET, { "0x02*" } },
	{ "usb", CAT_USB, { "0x0c03*" } },   { "storage", CAT_STORAGE, { "0x01*" } },
	{ "nvme", CAT_NVME, { "0x0108*" } }, { "audio", CAT_AUDIO, { "0x0401*", "0x0403*" } },
};

static bool hex_field(const char *s, size_t len, unsigned digits, unsigned long max,
		      unsigned long *out)
{
	if (len != digits)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == 'x' || s[i] == 'X')
			return false;
	return parse_hex(s, len, max, out);
}

/* [DDDD:]BB:SS.F or .* */
static int parse_addr(const char *s, struct selector *sel, const char **why)
{
	const char *colon1 = strchr(s, ':'), *colon2, *dot = strchr(s, '.');
	unsigned long dom = 0, bus, slot;
	const char *b;

	*why = "a PCI address is [DOMAIN:]BUS:SLOT.FUNCTION, e.g. '0000:01:00.0', '01:00.0' or "
	       "'01:00.*'";
	if (!colon1 || !dot)
		return -EINVAL;
	colon2 = strchr(colon1 + 1, ':');
	if (colon2) {
		if (!hex_field(s, (size_t)(colon1 - s), 4, 0xffff, &dom))
			return -EINVAL;
		b = colon1 + 1;
	} else {
		b = s;
		colon2 = colon1;
	}
	if (!hex_field(b, (size_t)(colon2 - b), 2, 0xff, &bus))
		return -EINVAL;
	if (dot < colon2 || !hex_field(colon2 + 1, (size_t)(dot - colon2 - 1), 2, 0x1f, &slot))
		return -EINVAL;
	if (streq(dot + 1, "*"))
		sel->u.addr.func = -1;
	else if (strlen(dot + 1) == 1 && dot[1] >= '0' && dot[1] <= '7')
		sel->u.addr.func = dot[1] - '0';
	else
		return -EINVAL;
	sel->kind = SEL_ADDR;
	sel->u.addr.domain = (unsigned)dom;
	sel->u.addr.bus = (unsigned)bus;
	sel->u.addr.slot = (unsigned)slot;
	return 0;
}

/* VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE], each field 4 hex digits or '*' */
static int parse_ids(const char *s, struct selector *sel, const char **why)
{
	int32_t f[4] = { -1, -1, -1, -1 };
	const char *p = s;
	int n = 0;

	*why = "ids are VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE] with 4 hex digits or '*' each, e.g. "
	       "'10de:1b80'";
	for (;;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		unsigned long v;

		if (n == 4)
			return -EINVAL;
		if (len == 1 && *p == '*')
			f[n] = -1;
		else if (hex_field(p, len, 4, 0xffff, &v))
			f[n] = (int32_t)v;
		else
			return -EINVAL;
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	if (n != 2 && n != 4)
		return -EINVAL;
	sel->kind = SEL_IDS;
	sel->u.ids.vendor = f[0];
	sel->u.ids.device = f[1];
	sel->u.ids.subvendor = f[2];
	sel->u.ids.subdevice = f[3];
	return 0;
}

static int parse_class(const char *s, struct selector *sel, const char **why)
{
	const char *slash = strchr(s, '/');
	unsigned long v, m = 0xffffff;

	size_t vlen = slash ? (size_t)(slash - s) : strlen(s);

	/* six digits: 'class=0x03' would silently mean 0x000003, not display controllers */
	*why = "a class is class=0xCCSSPP[/0xMASK] with six hex digits, e.g. "
	       "'class=0x030000/0xff0000'";
	if (vlen >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, vlen -= 2;
	if (vlen != 6 || !parse_hex(s, vlen, 0xffffff, &v))
		return -EINVAL;
	if (slash && !parse_hex(slash + 1, strlen(slash + 1), 0xffffff, &m))
		return -EINVAL;
	if (m == 0 || (v & ~m)) {
		*why = "the class has bits outside its mask, or the mask is 0";
		return -EINVAL;
	}
	sel->kind = SEL_CLASS;
	sel->u.class.value = (uint32_t)v;
	sel->u.class.mask = (uint32_t)m;
	return 0;
}

/*
 * A PCI path has at most this many hops below its root-bus device: each hop goes through a bridge
 * to a bus of its own, and a PCI domain has 256 buses.
 */
#define PATH_MAX_HOPS 255

/* path=DDDD:BB:SS.F/SS.F/...: a root-bus device, then device.function hops below it */
static int parse_path(const char *s, struct selector *sel, const char **why)
{
	char *copy = xstrdup(s), *save = NULL, *tok, *buf = NULL;
	size_t hops = 0, size = 0;
	FILE *f = NULL;
	int r = 0;

	*why = "a PCI path is path=DOMAIN:BUS:SLOT.FN/SLOT.FN/..., e.g. 'path=0000:00:1c.0/00.0'";
	/* strtok would skip empty tokens: a path starting or ending with '/', or with "//" */
	if (!*s || s[0] == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//")) {
		r = -EINVAL;
		goto out;
	}
	f = open_memstream(&buf, &size);
	if (!f)
		abort();
	for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (hops == 0) {
			char low[16];
			size_t i;
			if (strlen(tok) != 12) {
				r = -EINVAL;
				goto out;
			}
			for (i = 0; i < 12; i++)
				low[i] =
				    (char)((tok[i] >= 'A' && tok[i] <= 'F') ? tok[i] + 32 : tok[i]);
			low[12] = '\0';
			if (!pci_addr_valid(low)) {
				r = -EINVAL;
				goto out;
			}
			fputs(low, f);
		} else {
			unsigned long slot;
			if (strlen(tok) != 4 || tok[2] != '.' ||
			    !hex_field(tok, 2, 2, 0x1f, &slot) || tok[3] < '0' || tok[3] > '7') {
				r = -EINVAL;
				goto out;
			}
			if (hops > PATH_MAX_HOPS) {
				*why = "a PCI path has at most 255 hops below its root-bus device "
				       "(a PCI domain has 256 buses)";
				r = -EINVAL;
				goto out;
			}
			fprintf(f, "/%02lx.%c", slot, tok[3]);
		}
		hops++;
	}
	if (hops == 0)
		r = -EINVAL;
out:
	free(copy);
	if (f && fclose(f) != 0)
		abort();
	if (r == 0) {
		sel->kind = SEL_PATH;
		sel->u.path = buf;
	} else
		free(buf);
	return r;
}

/* vfs-of=[DDDD:]BB:SS.F: every SR-IOV virtual function of that physical function */
static int parse_vfs_of(const char *s, struct selector *sel, const char **why)
{
	struct selector a;

	if (parse_addr(s, &a, why) < 0 || a.u.addr.func < 0) {
		*why = "vfs-of= takes the address of an SR-IOV physical function, e.g. "
		       "'vfs-of=0000:18:00.0' or 'vfs-of=18:00.0'";
		return -EINVAL;
	}
	sel->kind = SEL_VFS_OF;
	{
		char buf[48]; /* the fields are in range (parse_addr): 12 characters */
		snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%d", a.u.addr.domain, a.u.addr.bus,
			 a.u.addr.slot, a.u.addr.func);
		memcpy(sel->u.pf, buf, 13);
	}
	return 0;
}

int selector_parse(const char *text, struct selector *sel, const char **why)
{
	int r;

	memset(sel, 0, sizeof(*sel));
	*why = NULL;
	if (!*text) {
		*why = "empty selector";
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(categories); i++)
		if (streq(text, categories[i].name)) {
			sel->kind = SEL_CATEGORY;
			sel->u.category = categories[i].cat;
			goto ok;
		}
	if (strncmp(text, "class=", 6) == 0)
		r = parse_class(text + 6, sel, why);
	else if (strncmp(text, "path=", 5) == 0)
		r = parse_path(text + 5, sel, why);
	else if (strncmp(text, "vfs-of=", 7) == 0)
		r = parse_vfs_of(text + 7, sel, why);
	else if (strchr(text, '.'))
		r = parse_addr(text, sel, why);
	else if (strchr(text, ':'))
		r = parse_ids(text, sel, why);
	else {
		*why = "not a selector: use an address ('01:00.0'), ids ('10de:1b80'), a category "
		       "(gpu, net, usb, storage, nvme, audio), 'class=', 'path=' or 'vfs-of='";
		r = -EINVAL;
	}
	if (r < 0)
		return r;
ok:
	sel->text = xstrdup(text);
	return 0;
}

void selector_free(struct selector *sel)
{
	free(sel->text);
	if (sel->kind == SEL_PATH)
		free(sel->u.path);
	memset(sel, 0, sizeof(*sel));
}

static bool id_ok(int32_t want, uint16_t have)
{
	return want < 0 || (uint16_t)want == have;
}

bool selector_match(const struct selector *sel, const struct pci_dev *d)
{
	switch (sel->kind) {
	case SEL_ADDR:
		return sel->u.addr.domain == d->domain && sel->u.addr.bus == d->bus &&
		       sel->u.addr.slot == d->slot &&
		       (sel->u.addr.func < 0 || (unsigned)sel->u.addr.func == d->func);
	case SEL_IDS:
		return id_ok(sel->u.ids.vendor, d->vendor) && id_ok(sel->u.ids.device, d->device) &&
		       id_ok(sel->u.ids.subvendor, d->subvendor) &&
		       id_ok(sel->u.ids.subdevice, d->subdevice);
	case SEL_CATEGORY:
		return (pci_categories(d->class) & sel->u.category) != 0;
	case SEL_CLASS:
		return (d->class & sel->u.class.mask) == sel->u.class.value;
	case SEL_PATH:
		return streq(sel->u.path, d->pcipath);
	case SEL_VFS_OF:
		return streq(sel->u.pf, d->physfn);
	}
	return false;
}

char *selector_udev_match(const struct selector *sel)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	switch (sel->kind) {
	case SEL_ADDR:
		if (sel->u.addr.func < 0)
			return xasprintf("KERNEL==\"%04x:%02x:%02x.*\"", sel->u.addr.domain,
					 sel->u.addr.bus, sel->u.addr.slot);
		return xasprintf("KERNEL==\"%04x:%02x:%02x.%d\"", sel->u.addr.domain,
				 sel->u.addr.bus, sel->u.addr.slot, sel->u.addr.func);
	case SEL_IDS: {
		static const char *const attr[] = { "vendor", "device", "subsystem_vendor",
						    "subsystem_device" };
		const int32_t v[] = { sel->u.ids.vendor, sel->u.ids.device, sel->u.ids.subvendor,
				      sel->u.ids.subdevice };
		bool any = false;

		f = open_memstream(&text, &size);
		if (!f)
			abort();
		for (size_t i = 0; i < 4; i++)
			if (v[i] >= 0) {
				fprintf(f, "%sATTR{%s}==\"0x%04x\"", any ? ", " : "", attr[i],
					(unsigned)v[i]);
				any = true;
			}
		if (!any)
			fputs("KERNEL==\"*\"", f);
		break;
	}
	case SEL_CATEGORY:
		for (size_t i = 0; i < ARRAY_SIZE(categories); i++)
			if (categories[i].cat == sel->u.category)
				return categories[i].udev[1]
					   ? xasprintf("ATTR{class}==\"%s|%s\"",
						       categories[i].udev[0], categories[i].udev[1])
					   : xasprintf("ATTR{class}==\"%s\"",
						       categories[i].udev[0]);
		return xstrdup("KERNEL==\"*\"");
	case SEL_CLASS:
		if (sel->u.class.mask == 0xffffff)
			return xasprintf("ATTR{class}==\"0x%06x\"", sel->u.class.value);
		if (sel->u.class.mask == 0xffff00)
			return xasprintf("ATTR{class}==\"0x%04x*\"", sel->u.class.value >> 8);
		if (sel->u.class.mask == 0xff0000)
			return xasprintf("ATTR{class}==\"0x%02x*\"", sel->u.class.value >> 16);
		return xstrdup("KERNEL==\"*\""); /* no precise match: every PCI device */
	case SEL_PATH: {
		/* devpath: .../0000:00:1c.0/0000:BB:00.0: buses may be renumbered, so glob them */
		const char *p = sel->u.path;

		f = open_memstream(&text, &size);
		if (!f)
			abort();
		fprintf(f, "DEVPATH==\"*/%.12s", p);
		for (p = strchr(p, '/'); p; p = strchr(p + 1, '/'))
			fprintf(f, "/%.4s:??:%.4s", sel->u.path, p + 1);
		fputc('"', f);
		break;
	}
	case SEL_VFS_OF:
		/*
		 * A VF names its PF only through its physfn link, which udev cannot compare; boot
		 * turns the PF's sriov_drivers_autoprobe off, so this marks its VFs (a superset:
		 * the VFs of every PF whose autoprobe is off)
		 */
		return xstrdup(UDEV_MATCH_AUTOPROBE_OFF);
	default:
		return xstrdup("KERNEL==\"*\"");
	}
	if (fclose(f) != 0)
		abort();
	return text;
}
