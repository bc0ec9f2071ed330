// SPDX-License-Identifier: GPL-2.0-or-later
/* What every command shares on its command line: the global options, --help, usage errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

static const char global_options_help[] =
    " -r, --root DIR   read and write every path under DIR (tests, mounted systems)\n"
    " -j, --json       one JSON document on stdout\n"
    " -v, --verbose    more messages\n"
    " -h, --help       display this help\n";

void cmd_usage(const struct cmd *cmd, FILE *f)
{
	fprintf(f, "Usage:\n vfio-claim [options] %s%s%s\n\n%s.\n\nOptions:\n%s%s", cmd->name,
		cmd->args ? " " : "", cmd->args ? cmd->args : "", cmd->help,
		cmd->options_help ? cmd->options_help : "", global_options_help);
	fprintf(f, "\nFor more details see vfio-claim(8).\n");
}

int cmd_getopt(const struct cmd *cmd, struct options *opts, int argc, char *argv[],
	       const char *shortopts, const struct option *longopts)
{
	static const struct option globals[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option all[32];
	char optstring[64];
	size_t n = 0;
	int c;

	for (; longopts && longopts[n].name && n < ARRAY_SIZE(all) - ARRAY_SIZE(globals) - 1; n++)
		all[n] = longopts[n];
	for (size_t i = 0; i < ARRAY_SIZE(globals); i++)
		all[n++] = globals[i];
	memset(&all[n], 0, sizeof(all[n]));
	snprintf(optstring, sizeof(optstring), ":%sr:jvh", shortopts ? shortopts : "");

	opterr = 0; /* the messages below name the command */
	c = getopt_long(argc, argv, optstring, all, NULL);
	switch (c) {
	case -1:
		return CMD_OPT_END;
	case 'r':
		root_set(optarg);
		return cmd_getopt(cmd, opts, argc, argv, shortopts, longopts);
	case 'j':
		opts->json = true;
		return cmd_getopt(cmd, opts, argc, argv, shortopts, longopts);
	case 'v':
		log_set_verbose(++opts->verbose);
		return cmd_getopt(cmd, opts, argc, argv, shortopts, longopts);
	case 'h':
		cmd_usage(cmd, stdout);
		return CMD_OPT_EXIT_OK;
	case ':':
		log_error("%s: option '%s' needs an argument", cmd->name, argv[optind - 1]);
		break;
	case '?':
		if (optopt)
			log_error("%s: unknown option '-%c'", cmd->name, optopt);
		else
			log_error("%s: unknown option '%s'", cmd->name, argv[optind - 1]);
		break;
	default:
		return c;
	}
	fprintf(stderr, "Try 'vfio-claim --help' for more information.\n");
	return CMD_OPT_EXIT_USAGE;
}

int cmd_exit_code(int c)
{
	return c == CMD_OPT_EXIT_OK ? 0 : EXIT_USAGE;
}

int cmd_parse_plain(const struct cmd *cmd, struct options *opts, int argc, char *argv[],
		    bool operands)
{
	int c = cmd_getopt(cmd, opts, argc, argv, NULL, NULL);

	if (c != CMD_OPT_END)
		return cmd_exit_code(c);
	if (!operands && optind < argc) {
		log_error("%s takes no arguments: '%s'", cmd->name, argv[optind]);
		fprintf(stderr, "Try 'vfio-claim %s --help' for more information.\n", cmd->name);
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_parse_selectors(const char *who, int argc, char *argv[], int from, struct selector **sels,
			size_t *n)
{
	*n = 0;
	*sels = xcalloc((size_t)(argc > from ? argc - from : 0) + 1, sizeof(**sels));
	for (int i = from; i < argc; i++) {
		const char *why = NULL;

		if (selector_parse(argv[i], &(*sels)[*n], &why) < 0) {
			if (who)
				log_error("%s: selector '%s': %s", who, argv[i], why);
			else
				log_error("'%s': %s", argv[i], why);
			cmd_selectors_free(*sels, *n);
			*sels = NULL;
			*n = 0;
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

void cmd_selectors_free(struct selector *sels, size_t n)
{
	for (size_t k = 0; k < n; k++)
		selector_free(&sels[k]);
	free(sels);
}
