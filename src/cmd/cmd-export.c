// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `export FORMAT`: the devices claimed now (or, with --plan, those the plan claims) in a
 * consumer's own format. One selection (select_devices()) feeds every format; each format is a
 * writer of its own that only prints. Every string that came from the machine (names, tags) is
 * escaped for its format and written as valid UTF-8 whatever bytes it held.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "devobj.h"
#include "json.h"
#include "log.h"
#include "names.h"

/* One exported device: what every format may print. */
struct export_dev {
	const struct pci_dev *d;
	/* the state entry's tag, or the selecting rule's with --plan; NULL: none */
	const char *tag;
	const char *state;		 /* one of states[] */
	char *vendor_name, *device_name; /* NULL: unknown */
	struct kv st;			 /* its state entry (empty without one) */
};

struct export_set {
	struct export_dev *v; /* sorted by address */
	size_t n;
};

/*
 * What a device is now, as the prometheus gauge and the comments say it: on vfio-pci (or a
 * variant), held (our override, but no driver: no IOMMU), released by hand, failed, lost (our
 * entry says claimed, but it is no longer on vfio-pci), or none of these.
 */
static const char *const states[] = {
	"claimed", "held", "released", "failed", "lost", "unclaimed"
};

static const char *device_state(const struct pci_dev *d, const struct kv *st)
{
	const char *s = kv_get(st, "state");

	if (pci_on_vfio(d))
		return "claimed";
	if (!s)
		return "unclaimed";
	if (streq(s, "claimed"))
		return "lost";
	for (size_t i = 1; i < ARRAY_SIZE(states); i++)
		if (streq(s, states[i]))
			return states[i];
	return "unclaimed";
}

/* What the command line asked for: devices matching any selector, and the tag if given. */
struct export_filter {
	struct selector *sels;
	size_t nsels;
	const char *tag;
	bool plan;
};

static void select_devices(struct session *s, const struct export_filter *f, struct names *db,
			   struct export_set *set)
{
	set->v = xcalloc(s->devs.n ? s->devs.n : 1, sizeof(*set->v));
	set->n = 0;
	for (size_t i = 0; i < s->devs.n; i++) {
		const struct pci_dev *d = &s->devs.v[i];
		struct export_dev *e = &set->v[set->n];
		bool match = f->nsels == 0;
		const char *tag;

		if (f->plan ? s->plan.v[i].decision != DEC_CLAIM : !pci_on_vfio(d))
			continue;
		for (size_t k = 0; k < f->nsels && !match; k++)
			match = selector_match(&f->sels[k], d);
		if (!match)
			continue;
		memset(e, 0, sizeof(*e));
		state_read(d->addr, &e->st);
		if (f->plan)
			tag = s->plan.v[i].rule ? s->plan.v[i].rule->tag : NULL;
		else
			tag = kv_get(&e->st, "tag");
		/* an empty tag= line in a state entry means none: --tag never matches "no tag" */
		e->tag = tag && *tag ? tag : NULL;
		if (f->tag && (!e->tag || !streq(e->tag, f->tag))) {
			kv_free(&e->st);
			continue;
		}
		e->d = d;
		e->state = device_state(d, &e->st);
		names_lookup(db, d->vendor, d->device, &e->vendor_name, &e->device_name);
		set->n++;
	}
}

static void export_set_free(struct export_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		kv_free(&set->v[i].st);
		free(set->v[i].vendor_name);
		free(set->v[i].device_name);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* The code point of the valid UTF-8 sequence of n bytes at p. */
static unsigned utf8_code(const unsigned char *p, size_t n)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned c = p[0] & lead_mask[n];

	for (size_t i = 1; i < n; i++)
		c = c << 6 | (p[i] & 0x3f);
	return c;
}

/*
 * A YAML double-quoted scalar: valid UTF-8 passes, except what YAML does not count as printable
 * (C0 and C1 controls, DEL, U+FEFF, U+FFFE, U+FFFF) and the line separators, which are escaped;
 * a byte that starts no valid sequence becomes \uFFFD.
 */
static void yaml_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		size_t n = utf8_len(p);
		unsigned c = n ? utf8_code(p, n) : 0xfffd;

		if (n == 0)
			n = 1;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", (char)c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else if ((c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0xfeff ||
			 c == 0xfffe || c == 0xffff || c == 0xfffd)
			fprintf(f, "\\u%04x", c);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

/*
 * Text inside an XML comment: valid UTF-8 of XML's Char set passes; anything else (invalid
 * bytes, control characters, U+FFFE, U+FFFF) becomes U+FFFD; a space keeps two dashes apart
 * ("--" may not appear in a comment).
 */
static void xml_comment_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);
		unsigned c = n ? utf8_code(p, n) : 0xfffd;

		if (n == 0)
			n = 1;
		if (c < 0x20 || c == 0xfffe || c == 0xffff || c == 0xfffd)
			fputs("\xef\xbf\xbd", f);
		else
			fwrite(p, 1, n, f);
		if (c == '-' && p[n] == '-')
			fputc(' ', f);
		p += n;
	}
}

/*
 * A label value of the Prometheus text format: backslash, double quote and line feed escaped,
 * as the format says; a byte that starts no valid UTF-8 sequence becomes U+FFFD (the format is
 * UTF-8).
 */
static void prom_label_value(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0) {
			fputs("\xef\xbf\xbd", f);
			p++;
			continue;
		}
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
}

/* "Vendor Device" as lspci shows it, or the ids when the names are unknown. */
static char *display_name(const struct export_dev *e)
{
	if (!e->vendor_name && !e->device_name)
		return xasprintf("%04x:%04x", e->d->vendor, e->d->device);
	return xasprintf("%s%s%s", e->vendor_name ? e->vendor_name : "",
			 e->vendor_name && e->device_name ? " " : "",
			 e->device_name ? e->device_name : "");
}

/* libvirt: <hostdev> elements for a domain's <devices>; vfio-claim binds, so managed='no'. */
static void write_libvirt(FILE *f, const struct export_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct export_dev *e = &set->v[i];
		const struct pci_dev *d = e->d;
		char *name = display_name(e);

		fprintf(f, "<hostdev mode='subsystem' type='pci' managed='no'>\n");
		fprintf(f, "  <!-- %s ", d->addr);
		xml_comment_text(f, name);
		fprintf(f, " -->\n");
		fprintf(f, "  <driver name='vfio'/>\n");
		fprintf(f, "  <source>\n");
		fprintf(f,
			"    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
			"function='0x%x'/>\n",
			d->domain, d->bus, d->slot, d->func);
		fprintf(f, "  </source>\n");
		fprintf(f, "</hostdev>\n");
		free(name);
	}
}

/*
 * QEMU: -device arguments, one per line, made of characters no shell splits or expands. Each
 * host slot gets a PCIe root port of its own (QEMU's recommended layout on the q35 machine,
 * libvirt's too); its functions keep their function numbers behind it, function 0 with
 * multifunction=on, so the guest sees them as one multi-function device. A slot whose function
 * 0 is not exported is numbered from 0 again: a guest looks for function 0 first.
 *
 * A root port is told apart by its chassis and slot numbers; the chassis (8 bits) count from 64,
 * clear of the ones libvirt gives its own ports (from 1), and the slot says which round.
 */
#define QEMU_FIRST_CHASSIS 64
#define QEMU_CHASSIS	   (256 - QEMU_FIRST_CHASSIS)

static void write_qemu(FILE *f, const struct export_set *set)
{
	unsigned port = 0;

	for (size_t i = 0; i < set->n; port++) {
		size_t end = i + 1;
		bool keep = set->v[i].d->func == 0;

		while (end < set->n && pci_same_slot(set->v[i].d, set->v[end].d))
			end++;
		fprintf(f, "-device pcie-root-port,id=vfio-claim-port%u,chassis=%u,slot=%u\n", port,
			QEMU_FIRST_CHASSIS + port % QEMU_CHASSIS, port / QEMU_CHASSIS);
		for (size_t k = i; k < end; k++) {
			const struct pci_dev *d = set->v[k].d;
			unsigned func = keep ? d->func : (unsigned)(k - i);

			fprintf(f,
				"-device vfio-pci,host=%s,id=hostdev-%04x-%02x-%02x-%x,"
				"bus=vfio-claim-port%u,addr=00.%x%s\n",
				d->addr, d->domain, d->bus, d->slot, d->func, port, func,
				func == 0 && end - i > 1 ? ",multifunction=on" : "");
		}
		i = end;
	}
}

/*
 * kdevops: pcipassthrough entries for a node of kdevops' nodes file. Its playbooks read domain,
 * bus, slot and function as numbers (they hex() them), so they are YAML integers in hex; the key
 * names the device by its address, so it is stable and unique.
 */
static void write_kdevops(FILE *f, const struct export_set *set)
{
	fprintf(f, "pcipassthrough:%s\n", set->n ? "" : " {}");
	for (size_t i = 0; i < set->n; i++) {
		const struct export_dev *e = &set->v[i];
		const struct pci_dev *d = e->d;
		char *name = display_name(e);

		fprintf(f, "  passthrough_%04x_%02x_%02x_%x:\n", d->domain, d->bus, d->slot,
			d->func);
		fprintf(f, "    domain: 0x%04x\n", d->domain);
		fprintf(f, "    bus: 0x%02x\n", d->bus);
		fprintf(f, "    slot: 0x%02x\n", d->slot);
		fprintf(f, "    function: 0x%x\n", d->func);
		fprintf(f, "    name: ");
		yaml_string(f, name);
		fprintf(f, "\n");
		free(name);
	}
}

/*
 * A name libvirt-provider can put into a Kubernetes resource name (TYPE.VENDOR/DEVICE): lower
 * case letters and digits, every other run of bytes one '-', at most 63 characters; fallback
 * when nothing is left.
 */
static char *slug(const char *s, const char *fallback)
{
	char *out = xcalloc(1, 64);
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && n < 63; p++) {
		unsigned char c = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p - 'A' + 'a') : *p;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[n++] = (char)c;
		else if (n && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n && out[n - 1] == '-')
		out[--n] = '\0';
	if (!n) {
		free(out);
		return xstrdup(fallback);
	}
	return out;
}

static const char *provider_type(const struct pci_dev *d)
{
	const char *c = pci_category_name(d);

	if (streq(c, "net"))
		return "network";
	if (streq(c, "nvme"))
		return "storage";
	return c;
}

/*
 * libvirt-provider: its pci_devices.yaml. libvirt-provider finds a device by its vendor and its
 * PCI class (it compares a device entry's id with the sysfs class file, "0x030000"), so an
 * entry stands for the exported devices of one vendor and class; it is named after the first
 * of them, and a comment lists them all. Vendor ids are unique, and so are the device entries'
 * ids and names within a vendor, as its validator demands.
 */
static void write_libvirt_provider(FILE *f, const struct export_set *set)
{
	bool *done = xcalloc(set->n ? set->n : 1, sizeof(bool));

	fprintf(f, "vendors:%s\n", set->n ? "" : " []");
	for (size_t i = 0; i < set->n; i++) {
		const struct export_dev *v = &set->v[i];
		struct strv names = { 0 };
		char *vname, *fallback;

		if (done[i])
			continue;
		fallback = xasprintf("vendor-%04x", v->d->vendor);
		vname = slug(v->vendor_name, fallback);
		fprintf(f, "  - id: \"0x%04x\"\n    name: ", v->d->vendor);
		yaml_string(f, vname);
		fprintf(f, "\n    devices:\n");
		for (size_t j = i; j < set->n; j++) {
			const struct export_dev *e = &set->v[j];
			char *dname;

			if (done[j] || e->d->vendor != v->d->vendor)
				continue;
			free(fallback);
			fallback = xasprintf("device-%04x", e->d->device);
			dname = slug(e->device_name, fallback);
			if (strv_contains(&names, dname)) {
				/* still at most 63 characters */
				char *unique = xasprintf("%.55s-%06x", dname, e->d->class);
				free(dname);
				dname = unique;
			}
			fprintf(f, "      - id: \"0x%06x\"\n        name: ", e->d->class);
			yaml_string(f, dname);
			fprintf(f, "\n        type: ");
			yaml_string(f, provider_type(e->d));
			fprintf(f, "\n");
			strv_push(&names, dname);
			/* the devices of this vendor and class: one entry */
			for (size_t k = j; k < set->n; k++) {
				const struct export_dev *m = &set->v[k];

				if (done[k] || m->d->vendor != e->d->vendor ||
				    m->d->class != e->d->class)
					continue;
				fprintf(f, "        # %s %04x:%04x\n", m->d->addr, m->d->vendor,
					m->d->device);
				done[k] = true;
			}
		}
		strv_free(&names);
		free(fallback);
		free(vname);
	}
	free(done);
}

/*
 * Prometheus: a node_exporter textfile. One gauge per device and state (1 for its state, 0 for
 * the others, as node_exporter's systemd unit states), and an info gauge with its names.
 */
static void prom_labels(FILE *f, const struct export_dev *e)
{
	fprintf(f, "device=\"%s\",tag=\"", e->d->addr);
	prom_label_value(f, e->tag);
	fprintf(f, "\",category=\"%s\"", pci_category_name(e->d));
}

static void write_prometheus(FILE *f, const struct export_set *set)
{
	fprintf(f, "# HELP vfio_claim_device_state State of a PCI device exported by vfio-claim: 1 "
		   "for the state it is in, 0 for the others.\n");
	fprintf(f, "# TYPE vfio_claim_device_state gauge\n");
	for (size_t i = 0; i < set->n; i++)
		for (size_t k = 0; k < ARRAY_SIZE(states); k++) {
			fprintf(f, "vfio_claim_device_state{");
			prom_labels(f, &set->v[i]);
			fprintf(f, ",state=\"%s\"} %d\n", states[k],
				streq(states[k], set->v[i].state));
		}
	fprintf(f, "# HELP vfio_claim_device_info Identity of a PCI device exported by "
		   "vfio-claim (always 1).\n");
	fprintf(f, "# TYPE vfio_claim_device_info gauge\n");
	for (size_t i = 0; i < set->n; i++) {
		const struct export_dev *e = &set->v[i];

		fprintf(f, "vfio_claim_device_info{");
		prom_labels(f, e);
		fprintf(f, ",vendor_id=\"0x%04x\",device_id=\"0x%04x\",vendor_name=\"",
			e->d->vendor, e->d->device);
		prom_label_value(f, e->vendor_name);
		fprintf(f, "\",device_name=\"");
		prom_label_value(f, e->device_name);
		fprintf(f, "\",driver=\"");
		prom_label_value(f, e->d->driver);
		fprintf(f, "\",iommu_group=\"");
		if (e->d->iommu_group >= 0)
			fprintf(f, "%d", e->d->iommu_group);
		fprintf(f, "\"} 1\n");
	}
}

/*
 * export json: the hook for the one JSON device object of list, status and check (SPEC §3),
 * written by the shared device-object writer (devobj); until that is in, the object names its
 * device only.
 */
/* The one device object of every command's JSON (SPEC §3), for each exported device. */
static void write_json(FILE *f, const struct export_set *set, struct session *s, struct names *db)
{
	struct jsonw w;

	jsonw_init(&w, f);
	jsonw_object_open(&w, NULL);
	jsonw_array_open(&w, "devices");
	for (size_t i = 0; i < set->n; i++)
		devobj_json(&w, NULL, s, db, (size_t)(set->v[i].d - s->devs.v));
	jsonw_array_close(&w);
	jsonw_object_close(&w);
}

enum format { FMT_LIBVIRT, FMT_QEMU, FMT_KDEVOPS, FMT_LIBVIRT_PROVIDER, FMT_PROMETHEUS, FMT_JSON };

static const char *const format_names[] = {
	[FMT_LIBVIRT] = "libvirt",	 [FMT_QEMU] = "qemu",
	[FMT_KDEVOPS] = "kdevops",	 [FMT_LIBVIRT_PROVIDER] = "libvirt-provider",
	[FMT_PROMETHEUS] = "prometheus", [FMT_JSON] = "json",
};

static void write_format(enum format fmt, FILE *f, const struct export_set *set, struct session *s,
			 struct names *db)
{
	switch (fmt) {
	case FMT_LIBVIRT:
		write_libvirt(f, set);
		break;
	case FMT_QEMU:
		write_qemu(f, set);
		break;
	case FMT_KDEVOPS:
		write_kdevops(f, set);
		break;
	case FMT_LIBVIRT_PROVIDER:
		write_libvirt_provider(f, set);
		break;
	case FMT_PROMETHEUS:
		write_prometheus(f, set);
		break;
	case FMT_JSON:
		write_json(f, set, s, db);
		break;
	}
}

static int usage_error(const struct cmd *cmd)
{
	fprintf(stderr, "Try 'vfio-claim %s --help' for more information.\n", cmd->name);
	return EXIT_USAGE;
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "plan", no_argument, NULL, 'p' },
		{},
	};
	struct export_filter filter = { 0 };
	struct export_set set = { 0 };
	struct names *db;
	struct session s;
	enum format fmt = FMT_JSON;
	bool known = false;
	int c, r = 0;

	while ((c = cmd_getopt(cmd, opts, argc, argv, "t:p", longopts)) != CMD_OPT_END) {
		if (c == 't')
			filter.tag = optarg;
		else if (c == 'p')
			filter.plan = true;
		else
			return cmd_exit_code(c);
	}
	if (optind >= argc && !opts->json) {
		log_error("export needs a format: libvirt, qemu, kdevops, libvirt-provider, "
			  "prometheus or json");
		return usage_error(cmd);
	}
	if (optind < argc) {
		for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
			if (streq(argv[optind], format_names[i])) {
				fmt = (enum format)i;
				known = true;
			}
		if (!known) {
			log_error("export: unknown format '%s' (libvirt, qemu, kdevops, "
				  "libvirt-provider, prometheus or json)",
				  argv[optind]);
			return usage_error(cmd);
		}
		if (opts->json && fmt != FMT_JSON) {
			log_error("export: --json asks for the format json, not '%s'",
				  argv[optind]);
			return usage_error(cmd);
		}
		optind++;
	}
	if (filter.tag && !config_valid_name(filter.tag)) {
		log_error("export: tag '%s': a tag is letters, digits, '_', '-' and '.'",
			  filter.tag);
		return usage_error(cmd);
	}
	if (cmd_parse_selectors("export", argc, argv, optind, &filter.sels, &filter.nsels) < 0)
		return usage_error(cmd);

	if (session_open(&s) < 0) {
		r = EXIT_RUNTIME;
		goto out;
	}
	/* --plan selects by it; json says each device's decision and reason */
	if (filter.plan || fmt == FMT_JSON)
		session_plan(&s, NULL);
	if (filter.plan) {
		if (s.cfg.off)
			log_info("export: vfio_claim=off is on the kernel command line: the plan "
				 "claims nothing this boot");
		if (s.cfg.nerrors)
			log_warn(
			    "export: the configuration has errors, and a file with errors claims "
			    "nothing: see 'vfio-claim check'");
	}
	db = names_open();
	select_devices(&s, &filter, db, &set);
	if (!set.n)
		log_info("export: no device %s%s%s%s",
			 filter.plan ? "is claimed by the plan" : "is on vfio-pci",
			 filter.nsels ? " that the selectors match" : "",
			 filter.tag ? " with tag " : "", filter.tag ? filter.tag : "");
	write_format(fmt, stdout, &set, &s, db);
	export_set_free(&set);
	names_close(db);
	session_close(&s);
out:
	cmd_selectors_free(filter.sels, filter.nsels);
	return r;
}

const struct cmd cmd_export = {
	.name = "export",
	.args = "FORMAT [SELECTOR...] [--tag TAG] [--plan]",
	.help = "claimed devices in a consumer's format: libvirt, qemu, kdevops, "
		"libvirt-provider, prometheus, json",
	.options_help = " -t, --tag TAG    only devices with this tag\n"
			" -p, --plan       the devices the configuration claims, not those on "
			"vfio-pci now\n",
	.run = run,
};
