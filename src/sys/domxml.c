// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvirt domain XML: the guest's name, UUID and PCI host devices (see domxml.h).
 *
 * libxml2 is opened with dlopen() at the first parse, through one table of the symbols used
 * (each pointer typed from libxml2's own declaration, so a mismatch is a compile error), the way
 * systemd's dlopen-util.c does it. The binary declares it in a .note.dlopen ELF note.
 */
#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlopen.h"
#include "domxml.h"
#include "elf-note-dlopen.h"
#include "util.h"

ELF_NOTE_DLOPEN("libvirt-hook", "Read the domain XML libvirt gives its qemu.d hook",
		ELF_NOTE_DLOPEN_PRIORITY_RECOMMENDED, "libxml2.so.16", "libxml2.so.2");

/* libxml2 2.14 and later, then 2.13 and earlier (Debian 12 and 13) */
static const char *const libxml_sonames[] = { "libxml2.so.16", "libxml2.so.2", NULL };

#define DLSYM_PROTO(f) static typeof(f) *sym_##f
DLSYM_PROTO(xmlNewParserCtxt);
DLSYM_PROTO(xmlFreeParserCtxt);
DLSYM_PROTO(xmlCtxtReadMemory);
DLSYM_PROTO(xmlCtxtGetLastError);
DLSYM_PROTO(xmlFreeDoc);
DLSYM_PROTO(xmlGetLineNo);
DLSYM_PROTO(xmlSetStructuredErrorFunc);
DLSYM_PROTO(xmlSetGenericErrorFunc);

static const struct dlsym_entry libxml_syms[] = {
	DLSYM_ENTRY(xmlNewParserCtxt),
	DLSYM_ENTRY(xmlFreeParserCtxt),
	DLSYM_ENTRY(xmlCtxtReadMemory),
	DLSYM_ENTRY(xmlCtxtGetLastError),
	DLSYM_ENTRY(xmlFreeDoc),
	DLSYM_ENTRY(xmlGetLineNo),
	DLSYM_ENTRY(xmlSetStructuredErrorFunc),
	DLSYM_ENTRY(xmlSetGenericErrorFunc),
};

static void *libxml;

static int libxml_open(char **err)
{
	int r = dlopen_symbols(&libxml, libxml_sonames, libxml_syms,
			       sizeof(libxml_syms) / sizeof(libxml_syms[0]));

	if (r == -ELIBBAD)
		*err =
		    xstrdup("cannot read the domain XML: this libxml2 lacks a function vfio-claim "
			    "uses: install the Debian package libxml2");
	else if (r < 0)
		*err = xstrdup("cannot load libxml2 to read the domain XML: install the Debian "
			       "package libxml2");
	return r < 0 ? -ELIBACC : 0;
}

/* At most max bytes of s, trailing white space dropped, control bytes as '?': one line. */
static char *printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	char *t = xstrndup(s, n > max ? max : n);

	for (size_t k = strlen(t); k > 0 && isspace((unsigned char)t[k - 1]); k--)
		t[k - 1] = '\0';

	for (char *c = t; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (n > max) {
		char *u = xasprintf("%s...", t);

		free(t);
		t = u;
	}
	return t;
}

/* The first error libxml2 reports while parsing (it may report more after a fatal one). */
struct first_error {
	char *message;
	long line;
};

/* const: libxml2 2.12 and later pass a const xmlError (same ABI as the older non-const one) */
static void on_structured_error(void *data, const xmlError *e)
{
	struct first_error *fe = data;

	if (!fe || fe->message || !e || e->level < XML_ERR_ERROR)
		return;
	fe->message = printable(e->message ? e->message : "unknown error", 200);
	fe->line = e->line;
}

static void on_generic_error(void *data, const char *fmt, ...)
{
}

static long line_of(xmlNode *n)
{
	return sym_xmlGetLineNo(n);
}

static bool is_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (is_element(c, name))
			return c;
	return NULL;
}

static int fail(char **err, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **err, long line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	*err = xasprintf("line %ld: %s", line, msg ? msg : "out of memory");
	free(msg);
	return -EINVAL;
}

/*
 * The text of an element or attribute node: its text and CDATA children, concatenated. Anything
 * else (an element, an entity reference) makes it not text: NULL.
 */
static char *text_of(xmlNode *n)
{
	size_t len = 0;
	char *s;

	for (xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return NULL;
		len += c->content ? strlen((const char *)c->content) : 0;
	}
	s = xmalloc(len + 1);
	len = 0;
	for (xmlNode *c = n->children; c; c = c->next) {
		size_t k = c->content ? strlen((const char *)c->content) : 0;

		memcpy(s + len, c->content, k);
		len += k;
	}
	s[len] = '\0';
	return s;
}

/* 0 with *value the attribute's text (NULL if absent, free it), or -EINVAL (*err set). */
static int attr(xmlNode *n, const char *name, const char *what, char **value, char **err)
{
	*value = NULL;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		if (a->ns || strcmp((const char *)a->name, name) != 0)
			continue;
		*value = text_of((xmlNode *)a);
		if (!*value)
			return fail(err, line_of(n), "%s: attribute '%s' is not plain text", what,
				    name);
		return 0;
	}
	return 0;
}

/* A number as libvirt reads it (strtoul base 0: 0x hex, 0 octal, decimal), at most max. */
static int address_number(xmlNode *addr, const char *what, const char *name, unsigned long max,
			  bool required, unsigned *out, char **err)
{
	char *v, *end, *shown;
	unsigned long n;
	int r;

	*out = 0;
	r = attr(addr, name, what, &v, err);
	if (r < 0)
		return r;
	if (!v)
		return required
			   ? fail(err, line_of(addr), "%s address: '%s' is missing", what, name)
			   : 0;
	errno = 0;
	n = isdigit((unsigned char)v[0]) ? strtoul(v, &end, 0) : 0;
	if (!isdigit((unsigned char)v[0]) || errno || *end) {
		shown = printable(v, 40);
		r = fail(err, line_of(addr), "%s address: %s '%s' is not a number", what, name,
			 shown);
	} else if (n > max) {
		shown = printable(v, 40);
		r = fail(err, line_of(addr), "%s address: %s '%s' is out of range (at most 0x%lx)",
			 what, name, shown, max);
	} else {
		shown = NULL;
		*out = (unsigned)n;
	}
	free(shown);
	free(v);
	return r;
}

/* <hostdev> or <interface type='hostdev'>: its managed= and <source><address .../>. */
static int add_hostdev(struct domxml *d, xmlNode *n, const char *what, char **err)
{
	struct domxml_hostdev h = { 0 };
	xmlNode *source, *addr;
	char *v;
	int r;

	r = attr(n, "managed", what, &v, err);
	if (r < 0)
		return r;
	if (v && strcmp(v, "yes") == 0)
		h.managed = true;
	else if (v && strcmp(v, "no") != 0) {
		char *shown = printable(v, 40);

		r = fail(err, line_of(n), "%s: managed='%s' is neither 'yes' nor 'no'", what,
			 shown);
		free(shown);
		free(v);
		return r;
	}
	free(v);
	source = child(n, "source");
	addr = source ? child(source, "address") : NULL;
	if (!addr)
		return fail(err, line_of(source ? source : n), "%s has no <source><address>", what);
	r = attr(addr, "type", what, &v, err);
	if (r < 0)
		return r;
	if (v && strcmp(v, "pci") != 0) {
		char *shown = printable(v, 40);

		r = fail(err, line_of(addr), "%s address: type '%s' is not 'pci'", what, shown);
		free(shown);
		free(v);
		return r;
	}
	free(v);
	r = address_number(addr, what, "domain", 0xffff, false, &h.domain, err);
	if (r >= 0)
		r = address_number(addr, what, "bus", 0xff, true, &h.bus, err);
	if (r >= 0)
		r = address_number(addr, what, "slot", 0x1f, true, &h.slot, err);
	if (r >= 0)
		r = address_number(addr, what, "function", 7, false, &h.function, err);
	if (r < 0)
		return r;
	d->hostdevs = xrealloc(d->hostdevs, (d->nhostdevs + 1) * sizeof(*d->hostdevs));
	d->hostdevs[d->nhostdevs++] = h;
	return 0;
}

static int read_devices(struct domxml *d, xmlNode *devices, char **err)
{
	for (xmlNode *n = devices->children; n; n = n->next) {
		char *mode = NULL, *type = NULL;
		int r = 0;

		if (is_element(n, "hostdev")) {
			r = attr(n, "mode", "<hostdev>", &mode, err);
			if (r >= 0)
				r = attr(n, "type", "<hostdev>", &type, err);
			/* mode defaults to subsystem; usb, scsi, scsi_host, mdev are not ours */
			if (r >= 0 && (!mode || strcmp(mode, "subsystem") == 0) && type &&
			    strcmp(type, "pci") == 0)
				r = add_hostdev(d, n, "<hostdev type='pci'>", err);
		} else if (is_element(n, "interface")) {
			r = attr(n, "type", "<interface>", &type, err);
			if (r >= 0 && type && strcmp(type, "hostdev") == 0)
				r = add_hostdev(d, n, "<interface type='hostdev'>", err);
		}
		free(mode);
		free(type);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_domain(struct domxml *d, xmlDoc *doc, char **err)
{
	xmlNode *root = NULL, *n;

	for (n = doc->children; n && !root; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			root = n;
	if (!root)
		return fail(err, 1, "no root element");
	if (is_element(root, "domstatus")) {
		n = child(root, "domain");
		if (!n)
			return fail(err, line_of(root), "<domstatus> holds no <domain>");
		root = n;
	}
	if (!is_element(root, "domain")) {
		char *shown = printable((const char *)root->name, 40);
		int r = fail(err, line_of(root), "the root element is <%s>, not <domain>", shown);

		free(shown);
		return r;
	}
	for (n = root->children; n; n = n->next) {
		char **field = is_element(n, "name")   ? &d->name
			       : is_element(n, "uuid") ? &d->uuid
						       : NULL;

		if (field && !*field) {
			*field = text_of(n);
			if (!*field)
				return fail(err, line_of(n), "<%s> is not plain text",
					    (const char *)n->name);
		} else if (is_element(n, "devices")) {
			int r = read_devices(d, n, err);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Domain XML never has a document type declaration; refusing one refuses every entity. */
static int refuse_doctype(const char *buf, size_t len, char **err)
{
	const char *p = memmem(buf, len, "<!DOCTYPE", 9);
	long line = 1;

	if (!p)
		return 0;
	for (const char *c = buf; c < p; c++)
		line += *c == '\n';
	return fail(err, line,
		    "a document type declaration (<!DOCTYPE>) is not accepted in "
		    "domain XML");
}

int domxml_parse(const char *buf, size_t len, struct domxml *out, char **err)
{
	/* never NOENT, DTDLOAD, DTDATTR, HUGE or XINCLUDE: no entity expansion, no fetching */
	const int options = XML_PARSE_NONET | XML_PARSE_BIG_LINES;
	struct first_error fe = { 0 };
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	int r;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (len > DOMXML_MAX_SIZE) {
		*err = xasprintf("the domain XML is larger than %u MiB", DOMXML_MAX_SIZE >> 20);
		return -EFBIG;
	}
	r = refuse_doctype(buf, len, err);
	if (r < 0)
		return r;
	r = libxml_open(err);
	if (r < 0)
		return r;
	/* libxml2 prints its errors on stderr unless told otherwise; we keep the first one */
	sym_xmlSetGenericErrorFunc(NULL, on_generic_error);
	sym_xmlSetStructuredErrorFunc(&fe, (xmlStructuredErrorFunc)on_structured_error);
	ctxt = sym_xmlNewParserCtxt();
	if (!ctxt) {
		r = -ENOMEM;
		*err = xstrdup("out of memory");
		goto out;
	}
	/* libvirt writes UTF-8; forcing it keeps a UTF-16 <!DOCTYPE> from passing the scan above */
	doc = sym_xmlCtxtReadMemory(ctxt, buf, (int)len, "domain.xml", "UTF-8", options);
	if (!doc || !ctxt->wellFormed) {
		const xmlError *last = sym_xmlCtxtGetLastError(ctxt);

		if (!fe.message && last && last->message) {
			fe.message = printable(last->message, 200);
			fe.line = last->line;
		}
		r = fail(err, fe.line > 0 ? fe.line : 1, "%s",
			 fe.message ? fe.message : "not well-formed XML");
	} else if (doc->intSubset || doc->extSubset) {
		r = fail(err, 1, "a document type declaration is not accepted in domain XML");
	} else
		r = read_domain(out, doc, err);
	if (doc)
		sym_xmlFreeDoc(doc);
	sym_xmlFreeParserCtxt(ctxt);
out:
	sym_xmlSetStructuredErrorFunc(NULL, NULL);
	sym_xmlSetGenericErrorFunc(NULL, NULL);
	free(fe.message);
	if (r < 0)
		domxml_free(out);
	return r;
}

void domxml_free(struct domxml *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->uuid);
	free(d->hostdevs);
	memset(d, 0, sizeof(*d));
}
