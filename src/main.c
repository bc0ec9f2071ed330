// SPDX-License-Identifier: GPL-2.0-or-later
/* vfio-claim: claims chosen PCI devices for vfio-pci from the first moment of boot. */
#include "cmd.h"
#include "log.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct cmd commands[] = {
	{ "list", cmd_list, "every PCI device: group, category, driver, claim state and why" },
	{ "check", cmd_check, "validate the configuration and print the plan" },
	{ "boot", cmd_boot, "the early pass: claim every selected device now" },
	{ "udev", cmd_udev, "one device, from a udev rule (KEY=value output)" },
	{ "claim", cmd_claim, "claim devices now, for this boot only" },
	{ "release", cmd_release, "give devices back to their host drivers" },
	{ "status", cmd_status, "what was claimed this boot, by which stage" },
	{ "root-devices", cmd_root_devices, "PCI paths of the devices carrying / and /usr" },
};

static void help(void)
{
	printf("Usage:\n"
	       " vfio-claim [--root DIR] [-v] [--json] COMMAND [ARGS]\n\n"
	       "Claims chosen PCI devices for vfio-pci at boot, before host drivers take them.\n\n"
	       "Commands:\n"
	       " list                      %s\n"
	       " check                     %s\n"
	       " boot                      %s\n"
	       " udev [SYSPATH]            %s\n"
	       " claim [--force] SEL...    %s\n"
	       " release SEL...|--all      %s\n"
	       " status                    %s\n"
	       " root-devices              %s\n\n"
	       "Options:\n"
	       " -r, --root DIR   read and write every path under DIR (tests, mounted systems)\n"
	       " -j, --json       one JSON document on stdout (list, check, status)\n"
	       " -v, --verbose    more messages\n"
	       " -h, --help       display this help\n"
	       " -V, --version    display version\n\n"
	       "Boot with vfio_claim=off on the kernel command line to claim nothing.\n"
	       "For more details see vfio-claim(8) and vfio-claim.conf(5).\n",
	       commands[0].help, commands[1].help, commands[2].help, commands[3].help,
	       commands[4].help, commands[5].help, commands[6].help, commands[7].help);
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },	  { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	  {},
	};
	struct options opts = { 0 };
	int c, r;

	while ((c = getopt_long(argc, argv, "+r:jvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root_set(optarg);
			break;
		case 'j':
			opts.json = true;
			break;
		case 'v':
			opts.verbose++;
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf("vfio-claim %s\n", VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'vfio-claim --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	log_set_verbose(opts.verbose);
	if (optind >= argc) {
		fprintf(stderr, "vfio-claim: no command given\n"
				"Try 'vfio-claim --help' for more information.\n");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!streq(argv[optind], commands[i].name))
			continue;
		r = commands[i].fn(&opts, argc - optind, argv + optind);
		log_close();
		root_set(NULL);
		return r;
	}
	fprintf(stderr,
		"vfio-claim: unknown command '%s'\n"
		"Try 'vfio-claim --help' for more information.\n",
		argv[optind]);
	return EXIT_USAGE;
}
