// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-run RUNS COMMAND...: runs COMMAND RUNS times and prints "BEST_MS PEAK_KIB".
 * A small C launcher, because a child forked from a big interpreter reports the interpreter's
 * resident set as its peak (ru_maxrss counts the pre-exec copy).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	double best = -1;
	long peak = 0;
	int runs;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-run RUNS COMMAND...\n");
		return 2;
	}
	runs = atoi(argv[1]);
	for (int i = 0; i < runs; i++) {
		struct timespec a, b;
		struct rusage ru;
		int status;
		pid_t pid;
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &a);
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		if (wait4(pid, &status, 0, &ru) < 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		if (best < 0 || ms < best)
			best = ms;
		if (ru.ru_maxrss > peak)
			peak = ru.ru_maxrss;
	}
	printf("%.2f %ld\n", best, peak);
	return 0;
}
