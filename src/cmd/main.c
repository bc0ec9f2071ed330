// SPDX-License-Identifier: GPL-2.0-or-later
/* vfio-claim: claims chosen PCI devices for vfio-pci from the first moment of boot. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

static const struct cmd *const commands[] = {
	&cmd_list,    &cmd_check,  &cmd_boot,	      &cmd_udev,	 &cmd_claim,
	&cmd_release, &cmd_status, &cmd_root_devices, &cmd_image_config, &cmd_doctor,
	&cmd_export,  &cmd_run,	   &cmd_libvirt_hook,
};

static void help(void)
{
	printf("Usage:\n"
	       " vfio-claim [--root DIR] [-v] [--json] COMMAND [ARGS]\n\n"
	       "Claims chosen PCI devices for vfio-pci at boot, before host drivers take them.\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct cmd *c = commands[i];
		char *use =
		    xasprintf("%s%s%s", c->name, c->args ? " " : "", c->args ? c->args : "");
		printf(" %-32s %s\n", use, c->help);
		free(use);
	}
	printf("\nOptions (before or after the command):\n"
	       " -r, --root DIR   read and write every path under DIR (tests, mounted systems)\n"
	       " -j, --json       one JSON document on stdout\n"
	       " -v, --verbose    more messages\n"
	       " -h, --help       display this help; COMMAND --help: that command's\n"
	       " -V, --version    display version\n\n"
	       "Boot with vfio_claim=off on the kernel command line to claim nothing.\n"
	       "For more details see vfio-claim(8) and vfio-claim.conf(5).\n");
}

/* A write error on stdout (a full disk, a closed pipe) is a failure, as util-linux says. */
static int close_stdout(int r)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno == EPIPE)
			return r;
		log_error("write error on standard output: %s", strerror(errno ? errno : EIO));
		return r ? r : EXIT_RUNTIME;
	}
	return r;
}

static int run(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },	  { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	  {},
	};
	struct options opts = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "+r:jvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root_set(optarg);
			break;
		case 'j':
			opts.json = true;
			break;
		case 'v':
			log_set_verbose(++opts.verbose);
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
	if (optind >= argc) {
		log_error("no command given");
		fprintf(stderr, "Try 'vfio-claim --help' for more information.\n");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct cmd *cmd = commands[i];
		int sub = argc - optind;
		char **subv = argv + optind;

		if (!streq(subv[0], cmd->name))
			continue;
		optind = 0; /* a new argument vector: getopt starts afresh */
		return cmd->run(cmd, &opts, sub, subv);
	}
	log_error("unknown command '%s'", argv[optind]);
	fprintf(stderr, "Try 'vfio-claim --help' for more information.\n");
	return EXIT_USAGE;
}

/*
 * Run as libvirt's hook: a link in a folder named qemu.d (/etc/libvirt/hooks/qemu.d/vfio-claim),
 * as kmod's insmod and rmmod are links to kmod. libvirt gives "GUEST OPERATION SUBOPERATION
 * EXTRA": the libvirt-hook command's operands.
 */
static bool as_libvirt_hook(const char *argv0)
{
	const char *slash = strrchr(argv0, '/'), *dir;

	if (!slash)
		return false;
	for (dir = slash; dir > argv0 && dir[-1] != '/'; dir--)
		;
	return slash - dir == 6 && strncmp(dir, "qemu.d", 6) == 0;
}

int main(int argc, char *argv[])
{
	int r;

	if (argc > 0 && as_libvirt_hook(argv[0])) {
		struct options opts = { 0 };
		char **args = xcalloc((size_t)argc + 2, sizeof(char *));

		/* "--": a guest named "-x" is a name, not an option */
		args[0] = (char *)"libvirt-hook";
		args[1] = (char *)"--";
		memcpy(args + 2, argv + 1, (size_t)(argc - 1) * sizeof(char *));
		optind = 0;
		r = cmd_libvirt_hook.run(&cmd_libvirt_hook, &opts, argc + 1, args);
		free(args);
	} else {
		r = run(argc, argv);
	}

	log_close();
	root_set(NULL);
	return close_stdout(r);
}
