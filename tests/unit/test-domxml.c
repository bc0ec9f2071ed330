// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the libvirt domain XML reader (src/sys/domxml.c), with the system's libxml2. */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domxml.h"
#include "unit.h"
#include "util.h"

/* domxml_parse() of a C string: its result; *err freed and kept in last_err for CHECKs. */
static char *last_err;

static int parse(const char *xml, struct domxml *d)
{
	free(last_err);
	last_err = NULL;
	return domxml_parse(xml, strlen(xml), d, &last_err);
}

/* Parsing fails with -EINVAL and a message holding want; nothing is left in the result. */
#define CHECK_REFUSED(xml, want)                                                                   \
	do {                                                                                       \
		struct domxml d_;                                                                  \
		CHECK(parse((xml), &d_) == -EINVAL);                                               \
		CHECK_CONTAINS(last_err, (want));                                                  \
		CHECK(last_err && !strchr(last_err, '\n'));                                        \
		CHECK(d_.nhostdevs == 0 && !d_.hostdevs && !d_.name);                              \
	} while (0)

#define HOSTDEV(managed, addr)                                                                     \
	"<hostdev mode='subsystem' type='pci'" managed "><source><address " addr                   \
	"/></source></hostdev>"
#define DOMAIN(devices)                                                                            \
	"<domain type='qemu'>\n<name>guest-a</name>\n"                                             \
	"<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>\n<devices>\n" devices                   \
	"\n</devices>\n</domain>\n"

TEST(domain_with_two_pci_hostdevs)
{
	struct domxml d;

	CHECK(parse(DOMAIN(HOSTDEV(" managed='no'",
				   "domain='0x0000' bus='0x00' slot='0x03' function='0x0'")
			       HOSTDEV(" managed='yes'",
				       "domain='0x0001' bus='0xff' slot='0x1f' function='0x7'")),
		    &d) == 0);
	CHECK(last_err == NULL);
	CHECK_STR(d.name, "guest-a");
	CHECK_STR(d.uuid, "c7a5fdbd-edaf-9455-926a-d65c16db1809");
	CHECK(d.nhostdevs == 2);
	if (d.nhostdevs == 2) {
		CHECK(d.hostdevs[0].domain == 0 && d.hostdevs[0].bus == 0 &&
		      d.hostdevs[0].slot == 3 && d.hostdevs[0].function == 0);
		CHECK(!d.hostdevs[0].managed);
		CHECK(d.hostdevs[1].domain == 1 && d.hostdevs[1].bus == 0xff &&
		      d.hostdevs[1].slot == 0x1f && d.hostdevs[1].function == 7);
		CHECK(d.hostdevs[1].managed);
	}
	domxml_free(&d);
}

TEST(managed_defaults_to_no)
{
	struct domxml d;

	CHECK(parse(DOMAIN(HOSTDEV("", "domain='0' bus='1' slot='2' function='3'")), &d) == 0);
	CHECK(d.nhostdevs == 1 && !d.hostdevs[0].managed);
	domxml_free(&d);
}

TEST(numbers_as_libvirt_reads_them)
{
	struct domxml d;

	/* decimal, 0x hex, leading-zero octal (strtoul base 0, as virXMLPropUInt) */
	CHECK(parse(DOMAIN(HOSTDEV("", "domain='10' bus='0X1a' slot='010' function='07'")), &d) ==
	      0);
	CHECK(d.nhostdevs == 1 && d.hostdevs[0].domain == 10 && d.hostdevs[0].bus == 0x1a &&
	      d.hostdevs[0].slot == 8 && d.hostdevs[0].function == 7);
	domxml_free(&d);
	/* domain and function may be left out (0); a type='pci' on the address is fine */
	CHECK(parse(DOMAIN(HOSTDEV("", "type='pci' bus='0x02' slot='0x00'")), &d) == 0);
	CHECK(d.nhostdevs == 1 && d.hostdevs[0].domain == 0 && d.hostdevs[0].bus == 2 &&
	      d.hostdevs[0].function == 0);
	domxml_free(&d);
}

TEST(interface_type_hostdev)
{
	struct domxml d;

	CHECK(parse(DOMAIN("<interface type='hostdev' managed='yes'><mac address='52:54:00:6d:90:"
			   "02'/><source><address type='pci' domain='0x0000' bus='0x02' "
			   "slot='0x07' function='0x1'/></source></interface>"
			   "<interface type='network'><source network='default'/></interface>"),
		    &d) == 0);
	CHECK(d.nhostdevs == 1);
	if (d.nhostdevs == 1)
		CHECK(d.hostdevs[0].bus == 2 && d.hostdevs[0].slot == 7 &&
		      d.hostdevs[0].function == 1 && d.hostdevs[0].managed);
	domxml_free(&d);
}

TEST(other_hostdevs_are_ignored)
{
	struct domxml d;

	CHECK(parse(DOMAIN(
			"<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
			"<product id='0xbeef'/></source></hostdev>"
			"<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
			"<address bus='0' target='0' unit='0'/></source></hostdev>"
			"<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address "
			"uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>"
			"<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1"
			"</block></source></hostdev>"
			"<hostdev mode='subsystem' type='pci'><source><address bus='0' slot='4'/>"
			"</source><address type='pci' domain='0' bus='0' slot='9' function='0'/>"
			"</hostdev>"),
		    &d) == 0);
	/* only the PCI one, and its <source> address, not the guest-side <address> */
	CHECK(d.nhostdevs == 1 && d.hostdevs[0].slot == 4);
	domxml_free(&d);
}

TEST(no_hostdev_no_devices)
{
	struct domxml d;

	CHECK(parse("<domain type='kvm'><name>empty</name></domain>", &d) == 0);
	CHECK_STR(d.name, "empty");
	CHECK(d.uuid == NULL && d.nhostdevs == 0 && d.hostdevs == NULL);
	domxml_free(&d);
}

TEST(domstatus_wraps_the_domain)
{
	struct domxml d;

	CHECK(
	    parse("<domstatus state='running' reason='booted' pid='1234'>\n<taint flag='high-"
		  "privileges'/>\n<domain type='qemu' id='1'>\n<name>st</name>\n<devices>" HOSTDEV(
		      "", "bus='0x00' slot='0x03'") "</devices></domain></domstatus>",
		  &d) == 0);
	CHECK_STR(d.name, "st");
	CHECK(d.nhostdevs == 1 && d.hostdevs[0].slot == 3);
	domxml_free(&d);
}

TEST(name_with_character_references)
{
	struct domxml d;

	CHECK(parse("<domain><name>a&amp;b&#x41;<![CDATA[<c>]]></name></domain>", &d) == 0);
	CHECK_STR(d.name, "a&bA<c>");
	domxml_free(&d);
}

TEST(out_of_range_addresses)
{
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "domain='0x10000' bus='0' slot='0'")),
		      "line 5: <hostdev type='pci'> address: domain '0x10000' is out of range "
		      "(at most 0xffff)");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='256' slot='0'")), "bus '256' is out of range");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='0' slot='0x20'")), "slot '0x20' is out of range");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='0' slot='0' function='8'")),
		      "function '8' is out of range (at most 0x7)");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='0' slot='99999999999999999999999'")),
		      "is not a number");
}

TEST(bad_numbers)
{
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='-1' slot='0'")), "bus '-1' is not a number");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus=' 1' slot='0'")), "is not a number");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='0x' slot='0'")), "bus '0x' is not a number");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='' slot='0'")), "bus '' is not a number");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='1g' slot='0'")), "bus '1g' is not a number");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='09' slot='0'")), "bus '09' is not a number");
	/* a control character in the value is shown as '?' and the message stays one line */
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='1&#10;2' slot='0'")), "bus '1?2' is not a number");
}

TEST(missing_address)
{
	CHECK_REFUSED(DOMAIN("<hostdev mode='subsystem' type='pci' managed='yes'/>"),
		      "line 5: <hostdev type='pci'> has no <source><address>");
	CHECK_REFUSED(DOMAIN("<hostdev type='pci'><source/></hostdev>"),
		      "<hostdev type='pci'> has no <source><address>");
	CHECK_REFUSED(DOMAIN("<interface type='hostdev'><source>\n</source></interface>"),
		      "<interface type='hostdev'> has no <source><address>");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "domain='0' slot='1'")),
		      "<hostdev type='pci'> address: 'bus' is missing");
	CHECK_REFUSED(DOMAIN(HOSTDEV("", "bus='0'")), "'slot' is missing");
	CHECK_REFUSED(DOMAIN("<interface type='hostdev'><source><address type='usb' bus='1' "
			     "slot='2'/></source></interface>"),
		      "<interface type='hostdev'> address: type 'usb' is not 'pci'");
}

TEST(bad_managed)
{
	CHECK_REFUSED(DOMAIN(HOSTDEV(" managed='maybe'", "bus='0' slot='1'")),
		      "managed='maybe' is neither 'yes' nor 'no'");
}

TEST(not_a_domain)
{
	struct domxml d;

	CHECK_REFUSED("<network><name>x</name></network>",
		      "line 1: the root element is <network>, not <domain>");
	CHECK_REFUSED("<domstatus state='running'/>", "<domstatus> holds no <domain>");
	CHECK(parse("", &d) == -EINVAL);
	CHECK_CONTAINS(last_err, "line 1: ");
	CHECK_REFUSED("not xml at all", "line 1: ");
}

TEST(malformed_xml_names_the_line)
{
	CHECK_REFUSED("<domain>\n<name>x</name>\n<devices>\n</domain>\n", "line 4: ");
	CHECK_REFUSED("<domain>\n<name>x</nam>\n</domain>", "line 2: ");
	CHECK_REFUSED("<domain><name>&undefined;</name></domain>", "line 1: ");
	CHECK_REFUSED("<domain a='1' a='2'/>", "line 1: ");
}

TEST(entities_are_refused)
{
	static const char laughs[] =
	    "<?xml version='1.0'?>\n"
	    "<!DOCTYPE domain [\n"
	    " <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
	    " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	    " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
	    " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
	    " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
	    " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
	    "]>\n<domain><name>&f;</name></domain>\n";

	CHECK_REFUSED(laughs, "line 2: a document type declaration (<!DOCTYPE>) is not accepted");
	CHECK_REFUSED("<!DOCTYPE domain SYSTEM \"http://example.invalid/x.dtd\"><domain/>",
		      "document type declaration");
	CHECK_REFUSED("<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x SYSTEM "
		      "\"file:///etc/passwd\">]><domain><name>&x;</name></domain>",
		      "document type declaration");
}

TEST(deep_nesting_is_refused)
{
	size_t depth = 5000;
	char *xml = xmalloc(depth * 7 + 64), *p = xml;

	p += sprintf(p, "<domain>");
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "<a>");
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "</domain>");
	CHECK_REFUSED(xml, "line 1: ");
	free(xml);
}

TEST(size_cap)
{
	size_t n = DOMXML_MAX_SIZE + 1;
	char *xml = xmalloc(n), *err = NULL;
	struct domxml d;

	memset(xml, ' ', n);
	memcpy(xml, "<domain>", 8);
	memcpy(xml + n - 9, "</domain>", 9);
	CHECK(domxml_parse(xml, n, &d, &err) == -EFBIG);
	CHECK_CONTAINS(err, "larger than 4 MiB");
	free(err);
	/* just under the cap: a huge attribute is fine, and its error message stays short */
	n = DOMXML_MAX_SIZE;
	memset(xml, 'A', n);
	memcpy(xml, DOMAIN(HOSTDEV("", "slot='1' bus='")),
	       strlen(DOMAIN(HOSTDEV("", "slot='1' bus='"))));
	free(last_err);
	last_err = NULL;
	CHECK(domxml_parse(xml, n, &d, &last_err) == -EINVAL);
	CHECK(last_err && strlen(last_err) < 300);
	free(xml);
}

TEST(embedded_nul_is_refused)
{
	static const char xml[] = "<domain><name>a\0b</name></domain>";
	struct domxml d;
	char *err = NULL;

	CHECK(domxml_parse(xml, sizeof(xml) - 1, &d, &err) == -EINVAL);
	CHECK(err != NULL);
	free(err);
}

TEST(libxml2_prints_nothing)
{
	/* run in a child with stderr on a pipe: a malformed document leaves stderr empty */
	int fds[2];
	char buf[256];
	ssize_t n;
	pid_t pid;
	int status = 0;

	CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		struct domxml d;
		char *err = NULL;

		dup2(fds[1], 2);
		domxml_parse("<domain><x></domain>", 20, &d, &err);
		_exit(err ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf));
	close(fds[0]);
	CHECK(n == 0);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

UNIT_MAIN(UNIT_T(domain_with_two_pci_hostdevs), UNIT_T(managed_defaults_to_no),
	  UNIT_T(numbers_as_libvirt_reads_them), UNIT_T(interface_type_hostdev),
	  UNIT_T(other_hostdevs_are_ignored), UNIT_T(no_hostdev_no_devices),
	  UNIT_T(domstatus_wraps_the_domain), UNIT_T(name_with_character_references),
	  UNIT_T(out_of_range_addresses), UNIT_T(bad_numbers), UNIT_T(missing_address),
	  UNIT_T(bad_managed), UNIT_T(not_a_domain), UNIT_T(malformed_xml_names_the_line),
	  UNIT_T(entities_are_refused), UNIT_T(deep_nesting_is_refused), UNIT_T(size_cap),
	  UNIT_T(embedded_nul_is_refused), UNIT_T(libxml2_prints_nothing))
