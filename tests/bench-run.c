// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The benchmark launcher (tests/bench.sh):
 *   bench-run RUNS COMMAND...        runs COMMAND RUNS times: "BEST_MS PEAK_KIB"
 *   bench-run --burst FILE COMMAND... runs COMMAND LINE for each line of FILE, one after the
 *                                    other (as udev runs a program per event): "WALL_MS CPU_MS
 *                                    FAILED" over all of them
 *   bench-run --floor ROOT           the I/O floor of `check` on the tree ROOT: each PCI device's
 *                                    bus link, config header and IOMMU group link, nothing else
 * A small C launcher, because a child forked from a big interpreter reports the interpreter's
 * resident set as its peak (ru_maxrss counts the pre-exec copy).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Runs argv with stdout and stderr to /dev/null; its exit status, its rusage in *ru. */
static int spawn(char *argv[], struct rusage *ru)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, ru) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static double cpu_ms(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e3 +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e3;
}

static int burst(const char *file, int argc, char *argv[])
{
	char **args = calloc((size_t)argc + 2, sizeof(char *)), line[PATH_MAX];
	FILE *f = fopen(file, "r");
	double start = now_ms(), cpu = 0;
	int failed = 0;

	if (!f || !args)
		return 1;
	memcpy(args, argv, (size_t)argc * sizeof(char *));
	while (fgets(line, sizeof(line), f)) {
		struct rusage ru;

		line[strcspn(line, "\n")] = '\0';
		args[argc] = line;
		failed += spawn(args, &ru) != 0;
		cpu += cpu_ms(&ru);
	}
	fclose(f);
	printf("%.1f %.1f %d\n", now_ms() - start, cpu, failed);
	free(args);
	return 0;
}

static int floor_io(const char *root)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	long n = 0;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", root);
	dir = opendir(path);
	if (!dir)
		return 1;
	while ((de = readdir(dir))) {
		unsigned char config[64];
		int fd;

		if (de->d_name[0] == '.')
			continue;
		readlinkat(dirfd(dir), de->d_name, target, sizeof(target));
		snprintf(path, sizeof(path), "%s/config", de->d_name);
		fd = openat(dirfd(dir), path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n += read(fd, config, sizeof(config)) > 0;
			close(fd);
		}
		snprintf(path, sizeof(path), "%s/iommu_group", de->d_name);
		readlinkat(dirfd(dir), path, target, sizeof(target));
	}
	closedir(dir);
	return n > 0 ? 0 : 1;
}

int main(int argc, char *argv[])
{
	double best = -1;
	long peak = 0;
	int runs;

	if (argc == 3 && strcmp(argv[1], "--floor") == 0)
		return floor_io(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "--burst") == 0)
		return burst(argv[2], argc - 3, argv + 3);
	if (argc < 3) {
		fprintf(stderr, "usage: bench-run RUNS COMMAND... | --burst FILE COMMAND... | "
				"--floor ROOT\n");
		return 2;
	}
	runs = atoi(argv[1]);
	for (int i = 0; i < runs; i++) {
		struct rusage ru;
		double a = now_ms(), ms;

		if (spawn(argv + 2, &ru) < 0)
			return 1;
		ms = now_ms() - a;
		if (best < 0 || ms < best)
			best = ms;
		if (ru.ru_maxrss > peak)
			peak = ru.ru_maxrss;
	}
	printf("%.2f %ld\n", best, peak);
	return 0;
}
