// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `image-config DESTDIR`: the configuration an initramfs carries, written under DESTDIR (the image
 * being built, never under --root) by the initramfs-tools hook and the dracut module, so that no
 * shell, awk or grep reads the configuration (SPEC §8):
 * - the files config_load() reads, each at the same path under DESTDIR, one line out for each line
 *   in, with the names of owner= and group= on claim and permissions lines replaced by their
 *   numbers from the root's /etc/passwd and /etc/group: the image has no user database, and its
 *   udevd does not resolve names. A masked file stays a link to /dev/null.
 * - the root-device record, /etc/vfio-claim/root-devices, what `root-devices` prints.
 * `image-config --needed` writes nothing: exit 0 when the configuration claims something.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "perms.h"

#define RECORD "/etc/vfio-claim/root-devices"

/* One file of the image: its path under the root and under DESTDIR, and its text. */
struct image_file {
	const char *path;
	char *text; /* NULL: masked, a link to /dev/null */
};

/* owner=NAME or group=NAME: the number; config errors name FILE:LINE and the word. */
static void resolve_word(struct config *errs, const char *file, unsigned lineno, const char *w,
			 size_t len, FILE *out)
{
	bool owner = strncmp(w, "owner=", 6) == 0;
	char *word = xstrndup(w, len), *name = word + 6;
	char *db = root_path(owner ? "/etc/passwd" : "/etc/group");
	unsigned long id = 0;
	int r;

	if (owner) {
		uid_t uid;
		r = perms_user_id(name, &uid);
		id = uid;
	} else {
		gid_t gid;
		r = perms_group_id(name, &gid);
		id = gid;
	}
	if (r == 0)
		fprintf(out, "%.6s%lu", word, id);
	else if (r == -ERANGE)
		config_add_error(errs, file, lineno, "'%s': not a valid %s id (the largest is %u)",
				 word, owner ? "user" : "group", (unsigned)((uid_t)-1 - 1));
	else if (r == -ENOENT)
		config_add_error(errs, file, lineno, "'%s': no %s '%s' in '%s'", word,
				 owner ? "user" : "group", name, db);
	else
		config_add_error(errs, file, lineno, "'%s': cannot read '%s': %s", word, db,
				 errstr(r));
	free(db);
	free(word);
}

/* One line (without its newline) as the image carries it. */
static void image_line(struct config *errs, const char *file, unsigned lineno, const char *line,
		       FILE *out)
{
	struct config_word *w;
	size_t n, done = 0;
	bool names;

	if (config_line_words(line, &w, &n) < 0 || n == 0) {
		fputs(line, out); /* the boot reports what is wrong with it */
		return;
	}
	names = (w[0].len == 5 && strncmp(line + w[0].start, "claim", 5) == 0) ||
		(w[0].len == 11 && strncmp(line + w[0].start, "permissions", 11) == 0);
	for (size_t i = 1; names && i < n; i++) {
		const char *s = line + w[i].start;

		if (w[i].len <= 6 || (strncmp(s, "owner=", 6) != 0 && strncmp(s, "group=", 6) != 0))
			continue;
		fwrite(line + done, 1, w[i].start - done, out);
		resolve_word(errs, file, lineno, s, w[i].len, out);
		done = w[i].start + w[i].len;
	}
	fputs(line + done, out);
	free(w);
}

/*
 * The text of one configuration file for the image; names that do not resolve go to errs.
 * 0, or a negative errno when the file cannot be read.
 */
static int image_text(struct config *errs, const char *file, char **text)
{
	char *full = root_path("%s", file), *line = NULL;
	size_t cap = 0, size = 0;
	unsigned lineno = 0;
	struct stat st;
	FILE *in = NULL, *out;
	ssize_t k;
	int fd, r = 0;

	/* O_NONBLOCK: a FIFO must not hang the image build */
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	free(full);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	in = fdopen(fd, "r");
	if (!in) {
		r = -errno;
		close(fd);
		return r;
	}
	out = open_memstream(text, &size);
	if (!out)
		abort();
	while ((k = getline(&line, &cap, in)) > 0) {
		bool nl = line[k - 1] == '\n';

		lineno++;
		if (nl)
			line[k - 1] = '\0';
		image_line(errs, file, lineno, line, out);
		if (nl)
			fputc('\n', out);
	}
	if (ferror(in))
		r = -EIO;
	free(line);
	fclose(in);
	if (fclose(out) != 0)
		abort();
	if (r < 0) {
		free(*text);
		*text = NULL;
	}
	return r;
}

/* A link to /dev/null at path, put in place by rename(): 0, or a negative errno. */
static int link_atomic(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *tmp =
	    xasprintf("%.*s/.#%s.%ld", (int)(slash - path), path, slash + 1, (long)getpid());
	int r = 0;

	unlink(tmp);
	if (symlink("/dev/null", tmp) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
	}
	free(tmp);
	return r;
}

/* Writes one file under destdir: 0, or a negative errno. */
static int image_write(const char *destdir, const struct image_file *f)
{
	char *dest = xasprintf("%s%s", destdir, f->path);
	char *dir = xstrndup(dest, (size_t)(strrchr(dest, '/') - dest));
	int r;

	r = mkdir_p(dir, 0755);
	if (r == 0)
		r = f->text ? write_atomic(dest, f->text, 0644) : link_atomic(dest);
	free(dir);
	free(dest);
	return r;
}

/* The root-device record: problems are warnings, as an image without a record still boots. */
static void image_record(const char *destdir)
{
	static const char header[] = "# The PCI devices that carried the file systems the boot "
				     "needs when this initramfs was built\n";
	struct strv lines = { 0 };
	struct image_file f = { .path = RECORD };
	char *unresolved = NULL, *no_record = NULL;
	FILE *mem;
	size_t size;
	int r;

	r = root_devices_gather(&lines, &unresolved, &no_record);
	if (r == 0 && no_record) {
		log_warn("%s", no_record);
		goto out;
	}
	if (r < 0) {
		log_warn("could not record the devices that carry / and /usr; the initramfs cannot "
			 "protect them from claims");
		goto out;
	}
	mem = open_memstream(&f.text, &size);
	if (!mem)
		abort();
	fputs(header, mem);
	for (size_t i = 0; i < lines.n; i++)
		fprintf(mem, "%s\n", lines.v[i]);
	if (fclose(mem) != 0)
		abort();
	if (unresolved)
		log_warn("root device '%s' not found", unresolved);
	r = image_write(destdir, &f);
	if (r < 0)
		log_warn(
		    "could not write '%s%s': %s; the initramfs cannot protect the devices that "
		    "carry / and /usr from claims",
		    destdir, RECORD, errstr(r));
out:
	free(f.text);
	free(unresolved);
	free(no_record);
	strv_free(&lines);
}

/* --needed: the configuration files claim something, or have errors that the boot must report. */
static int needed(void)
{
	struct config cfg;
	bool yes;

	config_load_files(&cfg);
	yes = cfg.claims.n > 0 || cfg.broken_files.n > 0;
	config_free(&cfg);
	return yes ? 0 : 1;
}

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "needed", no_argument, NULL, 'N' },
		{},
	};
	struct config errs = { 0 };
	struct image_file *files = NULL;
	struct strv paths;
	const char *destdir;
	bool only_needed = false;
	int c, r = 0;

	while ((c = cmd_getopt(cmd, opts, argc, argv, NULL, longopts)) != CMD_OPT_END) {
		if (c != 'N')
			return cmd_exit_code(c);
		only_needed = true;
	}
	if (only_needed) {
		if (optind < argc) {
			log_error("%s --needed takes no DESTDIR: '%s'", cmd->name, argv[optind]);
			return EXIT_USAGE;
		}
		return needed();
	}
	if (argc - optind != 1 || !*argv[optind]) {
		log_error("%s takes one DESTDIR, the image being built", cmd->name);
		fprintf(stderr, "Try 'vfio-claim %s --help' for more information.\n", cmd->name);
		return EXIT_USAGE;
	}
	destdir = argv[optind];

	/* everything is resolved before anything is written: no half-written image */
	config_files(&paths);
	files = xcalloc(paths.n ? paths.n : 1, sizeof(*files));
	for (size_t i = 0; i < paths.n; i++) {
		int k;

		files[i].path = paths.v[i];
		if (config_file_masked(paths.v[i]))
			continue;
		k = image_text(&errs, paths.v[i], &files[i].text);
		if (k < 0) {
			log_error("%s: cannot read it: %s", paths.v[i],
				  k == -EINVAL ? "not a regular file" : errstr(k));
			r = EXIT_RUNTIME;
		}
	}
	if (errs.nerrors) {
		print_config_errors(&errs);
		r = EXIT_USAGE;
	}
	if (r) {
		log_error("nothing written to '%s'", destdir);
		goto out;
	}
	for (size_t i = 0; i < paths.n; i++) {
		int k = image_write(destdir, &files[i]);
		if (k < 0) {
			log_error("cannot write '%s%s': %s", destdir, files[i].path, errstr(k));
			r = EXIT_RUNTIME;
			goto out;
		}
	}
	image_record(destdir);
	{
		char *digest = config_digest();
		struct image_file d = { .path = IMAGE_DIGEST, .text = xasprintf("%s\n", digest) };
		int k = image_write(destdir, &d);

		if (k < 0)
			log_warn("cannot write '%s%s': %s; the running system cannot tell whether "
				 "its configuration changed since",
				 destdir, IMAGE_DIGEST, errstr(k));
		free(d.text);
		free(digest);
	}
out:
	for (size_t i = 0; i < paths.n; i++)
		free(files[i].text);
	free(files);
	strv_free(&paths);
	config_free(&errs);
	return r;
}

const struct cmd cmd_image_config = {
	.name = "image-config",
	.args = "DESTDIR|--needed",
	.help = "write the configuration and the root-device record into an initramfs being built",
	.options_help =
	    "     --needed     write nothing; exit 0 if the configuration claims devices, "
	    "1 if not\n",
	.run = run,
};
