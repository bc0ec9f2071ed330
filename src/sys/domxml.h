/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The parts of a libvirt domain XML document that vfio-claim's libvirt hook needs: the guest's
 * name and UUID and the PCI devices it is given. libvirt hands the document to a hook on standard
 * input. libxml2 parses it; the library is opened with dlopen() at the first call, so the program
 * runs without it until a hook needs it (declared in the binary's .note.dlopen).
 *
 * Collected: <devices><hostdev mode='subsystem' type='pci'> and <devices><interface
 * type='hostdev'>, each with <source><address domain= bus= slot= function=/>; numbers as libvirt
 * reads them (0x hex, 0 octal, else decimal), domain and function 0 when absent, bus and slot
 * required. USB, SCSI and mdev host devices are ignored. managed is false unless 'yes'.
 * The root element is <domain>, or libvirt's status document <domstatus> around one <domain>.
 *
 * Hostile input is refused: no DTD (so no entity and no external resource), no network, UTF-8
 * only (what libvirt writes; so no DTD hides in UTF-16), at most
 * DOMXML_MAX_SIZE bytes and libxml2's element depth limit (256) without XML_PARSE_HUGE.
 */

#define DOMXML_MAX_SIZE (4u << 20)

struct domxml_hostdev {
	unsigned domain, bus, slot, function;
	bool managed;
};

struct domxml {
	char *name; /* <name>, or NULL if absent */
	char *uuid; /* <uuid>, or NULL if absent */
	struct domxml_hostdev *hostdevs;
	size_t nhostdevs;
};

/*
 * 0, or a negative errno with *err an allocated one-line message ("line 12: <hostdev> address:
 * slot '0x20' is out of range (at most 0x1f)"): -EINVAL for a document that is not well-formed or
 * not a domain, -EFBIG for one over DOMXML_MAX_SIZE, -ELIBACC when libxml2 cannot be loaded (the
 * message names the Debian package libxml2), -ENOMEM. out is zeroed first; free it with
 * domxml_free() after success (after a failure it holds nothing).
 */
int domxml_parse(const char *buf, size_t len, struct domxml *out, char **err);
void domxml_free(struct domxml *d);
