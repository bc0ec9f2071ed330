// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `run`: claims the devices of a guest, runs the guest's command (QEMU, or any manager), and
 * gives the devices back however the command ends: a clean exit, a crash, or a signal that
 * reached vfio-claim and was forwarded to it. The holder recorded is this process (pid and start
 * time), so that a `run` killed itself leaves a holder that status and doctor see gone.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "log.h"

/* Claims for the guest: 0, or the exit code. */
static int claim(const char *guest, const char *tag, char **sels, size_t nsels)
{
	const struct guest_starter who = { .kind = "run", .pid = getpid() };
	struct rule rule = { 0 };
	const char *bad = NULL, *why = NULL;
	struct session s;
	char *refusal = NULL;
	bool *want;
	int r;

	if (nsels && config_parse_rule_args(&rule, sels, nsels, false, &bad, &why) < 0) {
		log_error("'%s': %s", bad ? bad : sels[0], why);
		rule_free(&rule);
		return EXIT_USAGE;
	}
	rule.guest = true;
	rule.origin = xstrdup("the vfio-claim run command");
	if (session_open(&s) < 0) {
		rule_free(&rule);
		return EXIT_RUNTIME;
	}
	s.guests = true;
	session_plan(&s, nsels ? &rule : NULL);
	want = xcalloc(s.devs.n, sizeof(bool));
	if (!guest_pick(&s, nsels ? &rule : NULL, tag, want)) {
		if (nsels)
			log_error("no PCI device matches the selectors given");
		else
			log_error("no claim line with tag=%s selects a device", tag);
		r = -ENOENT;
	} else {
		r = guest_claim(&s, guest, &who, want, &refusal);
		if (r < 0)
			log_error("%s: %s", guest, refusal);
		else
			for (size_t i = 0; i < s.devs.n; i++)
				if (want[i])
					log_info("%s: on %s for guest '%s'", s.devs.v[i].addr,
						 s.devs.v[i].driver, guest);
	}
	free(refusal);
	free(want);
	session_close(&s);
	rule_free(&rule);
	return r < 0 ? EXIT_RUNTIME : 0;
}

/* Gives back what the guest held: 0, or -errno (logged). The end of run and of libvirt-hook. */
int guest_give_back(const char *guest)
{
	struct session s;
	size_t gave = 0;
	int r;

	if (session_open(&s) < 0)
		return -EIO;
	r = guest_release(&s, guest, true, &gave, NULL);
	if (r < 0) {
		char *word = guest_word(guest);

		log_error("%s: not every device could be given back; run 'vfio-claim release "
			  "--guest %s' once what holds them has stopped",
			  guest, word);
		free(word);
	}
	session_close(&s);
	return r;
}

/*
 * Runs the command with the signals that end a guest forwarded to it; its exit status as a
 * shell gives it (128+N for signal N).
 */
static int supervise(char **argv, const sigset_t *old)
{
	struct timespec now = { 0 };
	sigset_t set;
	pid_t pid;
	int status = 0, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* stopped while its devices were being claimed: the guest never starts */
	sig = sigtimedwait(&set, NULL, &now);
	if (sig > 0) {
		log_info("stopped by signal %d before the guest started", sig);
		return 128 + sig;
	}
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error("cannot start '%s': %s", argv[0], strerror(errno));
		return 127;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		execvp(argv[0], argv);
		log_error("cannot run '%s': %s", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		siginfo_t info;
		int got = sigwaitinfo(&set, &info);
		pid_t w;

		if (got < 0)
			continue; /* EINTR */
		if (got != SIGCHLD) {
			kill(pid, got);
			continue;
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			break;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "tag", required_argument, NULL, 't' },
		{},
	};
	const char *guest = NULL, *tag = NULL;
	sigset_t stop, old;
	int c, dash = -1, rc, r;

	for (int i = 1; i < argc && dash < 0; i++)
		if (streq(argv[i], "--"))
			dash = i;
	if (dash < 0 || dash + 1 >= argc) {
		for (int i = 1; i < argc; i++)
			if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
				cmd_usage(cmd, stdout);
				return 0;
			}
		log_error("run needs the guest's command after '--'");
		fprintf(stderr, "Try 'vfio-claim run --help' for more information.\n");
		return EXIT_USAGE;
	}
	/* the options and selectors before '--'; the command's own after it */
	while ((c = cmd_getopt(cmd, opts, dash, argv, "g:t:", longopts)) != CMD_OPT_END) {
		if (c == 'g')
			guest = optarg;
		else if (c == 't')
			tag = optarg;
		else
			return cmd_exit_code(c);
	}
	if (!tag == (optind >= dash)) {
		log_error("run takes selectors or --tag, not both");
		fprintf(stderr, "Try 'vfio-claim run --help' for more information.\n");
		return EXIT_USAGE;
	}
	if (!guest) {
		guest = strrchr(argv[dash + 1], '/');
		guest = guest ? guest + 1 : argv[dash + 1];
	}
	/* from here on, the signals that end a guest are the guest's: forwarded, or they stop
	 * the start; either way what was claimed goes back */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	rc = claim(guest, tag, argv + optind, (size_t)(dash - optind));
	if (rc) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return rc;
	}
	rc = supervise(argv + dash + 1, &old);
	r = guest_give_back(guest);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc ? rc : r < 0 ? EXIT_RUNTIME : 0;
}

const struct cmd cmd_run = {
	.name = "run",
	.args = "[--guest NAME] (--tag TAG | SELECTOR...) -- COMMAND [ARG...]",
	.help = "claim a guest's devices, run it, and give them back however it ends",
	.options_help = " -g, --guest NAME  the guest's name (default: COMMAND's file name)\n"
			" -t, --tag TAG    the devices of the claim lines with tag=TAG\n",
	.run = run,
};
