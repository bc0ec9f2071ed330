// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `doctor`: is this machine ready for passthrough, and is the boot set up as the configuration
 * says? One line per check, ok / warn / fail, each with its fix. The checks (doctor.h) run in the
 * order of the table below; each reads the root (--root DIR): sysfs, /proc, the module folder,
 * the state directory, /etc.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd.h"
#include "doctor.h"
#include "guest.h"
#include "json.h"
#include "log.h"
#include "modload.h"

static const char *const result_names[] = { "ok", "warn", "fail" };

/* One line of the report. */
struct finding {
	const char *name;
	enum result result;
	char *message, *fix; /* fix: NULL when ok */
};

struct report {
	struct finding *v;
	size_t n;
	const char *name; /* the check that runs */
};

void report_add(struct report *rp, enum result result, char *message, char *fix)
{
	rp->v = xrealloc(rp->v, (rp->n + 1) * sizeof(*rp->v));
	rp->v[rp->n++] = (struct finding){ rp->name, result, message, fix };
}

static void report_free(struct report *rp)
{
	for (size_t i = 0; i < rp->n; i++) {
		free(rp->v[i].message);
		free(rp->v[i].fix);
	}
	free(rp->v);
}

int doctor_read(const char *path, char **text)
{
	char *p = root_path("%s", path);
	int r = read_text(p, text);

	free(p);
	return r;
}

int doctor_list(const char *path, struct strv *names)
{
	char *p = root_path("%s", path);
	struct dirent *de;
	DIR *d = opendir(p);
	int r = d ? 0 : -errno;

	free(p);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			strv_push(names, xstrdup(de->d_name));
	if (d)
		closedir(d);
	strv_sort(names);
	return r;
}

bool doctor_claimed(const struct session *s, size_t i)
{
	return s->plan.v[i].decision == DEC_CLAIM || pci_on_vfio(&s->devs.v[i]);
}

/* The configured owner of /dev/vfio/N: the default permissions', else the first claim's. */
static const char *configured_owner(const struct config *cfg)
{
	if (cfg->perms.owner)
		return cfg->perms.owner;
	for (size_t i = 0; i < cfg->claims.n; i++)
		if (cfg->claims.v[i].perms.owner)
			return cfg->claims.v[i].perms.owner;
	return NULL;
}

/*
 * The user's name (owner= may be a number) and the groups it is in, by name, from the root's
 * /etc/passwd and /etc/group; *name: NULL when the user is not there.
 */
static void user_groups(const char *user, char **name, struct strv *groups)
{
	char *passwd = NULL, *group = NULL, *save = NULL, *gid = NULL;

	*name = NULL;
	if (doctor_read("/etc/passwd", &passwd) == 0)
		for (char *l = strtok_r(passwd, "\n", &save); l && !*name;
		     l = strtok_r(NULL, "\n", &save)) {
			char *f[4] = { 0 }, *s2 = l;
			for (int k = 0; k < 4; k++)
				f[k] = strsep(&s2, ":");
			if (f[3] && (streq(f[0], user) || (f[2] && streq(f[2], user)))) {
				gid = xstrdup(f[3]);
				*name = xstrdup(f[0]);
			}
		}
	user = *name ? *name : user;
	save = NULL;
	if (doctor_read("/etc/group", &group) == 0)
		for (char *l = strtok_r(group, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *f[4] = { 0 }, *s2 = l, *s3 = NULL;
			bool in;
			for (int k = 0; k < 4; k++)
				f[k] = strsep(&s2, ":");
			if (!f[2])
				continue;
			in = gid && streq(f[2], gid);
			for (char *m = strtok_r(f[3] ? f[3] : (char[]){ "" }, ",", &s3); m && !in;
			     m = strtok_r(NULL, ",", &s3))
				in = streq(m, user);
			if (in)
				strv_push(groups, xstrdup(f[0]));
		}
	free(gid);
	free(passwd);
	free(group);
}

/* A memlock limit of pam_limits, in bytes; RLIM_INFINITY for unlimited. */
struct limit {
	rlim_t soft, hard;
	int src_soft, src_hard; /* priority of the line that set it: 0 user, 1 group, 2 '*' */
	char *file;		/* where the soft limit was set */
};

/* pam_limits: a user's line beats a group's, which beats '*'; among equals the later wins. */
static void limits_file(const char *file, const char *user, const struct strv *groups,
			struct limit *lim)
{
	char *text = NULL, *save = NULL;

	if (doctor_read(file, &text) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char dom[256], type[16], item[32], value[32];
		rlim_t v;
		int src;

		if (strchr(l, '#'))
			*strchr(l, '#') = '\0';
		if (sscanf(l, "%255s %15s %31s %31s", dom, type, item, value) != 4 ||
		    !streq(item, "memlock"))
			continue;
		if (user && streq(dom, user))
			src = 0;
		else if (dom[0] == '@' && strv_contains(groups, dom + 1))
			src = 1;
		else if (streq(dom, "*"))
			src = 2;
		else
			continue;
		if (streq(value, "unlimited") || streq(value, "infinity") || streq(value, "-1"))
			v = RLIM_INFINITY;
		else
			v = (rlim_t)strtoull(value, NULL, 10) * 1024; /* KiB */
		if ((streq(type, "soft") || streq(type, "-")) && src <= lim->src_soft) {
			lim->soft = v;
			lim->src_soft = src;
			free(lim->file);
			lim->file = xstrdup(file);
		}
		if ((streq(type, "hard") || streq(type, "-")) && src <= lim->src_hard) {
			lim->hard = v;
			lim->src_hard = src;
		}
	}
	free(text);
}

static char *size_text(rlim_t v)
{
	if (v == RLIM_INFINITY)
		return xstrdup("unlimited");
	if (v >= 1024ULL * 1024 * 1024)
		return xasprintf("%.1f GiB", (double)v / (1024.0 * 1024 * 1024));
	if (v >= 1024ULL * 1024)
		return xasprintf("%llu MiB", (unsigned long long)(v / (1024 * 1024)));
	return xasprintf("%llu KiB", (unsigned long long)(v / 1024));
}

void check_memlock(struct session *s, struct report *rp)
{
	static const rlim_t enough = 1024ULL * 1024 * 1024;
	const char *owner = configured_owner(&s->cfg);
	struct limit lim = { RLIM_INFINITY, RLIM_INFINITY, 3, 3, NULL };
	struct strv groups = { 0 }, files = { 0 };
	char *who, *size, *fix, *name = NULL;
	rlim_t value;

	if (owner) {
		user_groups(owner, &name, &groups);
		owner = name ? name : owner; /* limits.conf names users: a number is looked up */
	}
	limits_file("/etc/security/limits.conf", owner, &groups, &lim);
	doctor_list("/etc/security/limits.d", &files);
	for (size_t i = 0; i < files.n; i++) {
		size_t len = strlen(files.v[i]);
		char *f;

		if (len < 5 || !streq(files.v[i] + len - 5, ".conf"))
			continue;
		f = xasprintf("/etc/security/limits.d/%s", files.v[i]);
		limits_file(f, owner, &groups, &lim);
		free(f);
	}
	if (lim.src_soft < 3) {
		value = lim.soft;
		who = xasprintf("%s's sessions (%s)", owner ? owner : "every user", lim.file);
	} else if (root_is_host()) {
		struct rlimit rl;

		if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			rl.rlim_cur = 0;
		value = rl.rlim_cur;
		who = owner ? xasprintf("this process (no memlock line for '%s' in "
					"/etc/security/limits.conf or limits.d)",
					owner)
			    : xstrdup("this process (no owner= is configured for /dev/vfio)");
	} else {
		value = 0;
		who = NULL;
	}
	fix = xasprintf("give the user who runs the guest at least the guest's RAM: a line "
			"'%s - memlock unlimited' in /etc/security/limits.d/vfio.conf (then log "
			"in again); for a systemd service, 'LimitMEMLOCK=infinity' in its unit; "
			"libvirt raises the limit itself for guests with <hostdev> (or set "
			"<memtune><hard_limit> in the domain)",
			owner ? owner : "USER");
	if (!who) {
		report_add(
		    rp, RES_WARN,
		    xasprintf("unknown: no memlock line for %s in /etc/security/limits.conf or "
			      "limits.d, and the limit of this process is not the inspected "
			      "system's; a guest fails with 'vfio_dma_map ... Cannot allocate "
			      "memory' when it cannot lock its RAM",
			      owner ? owner : "every user ('*')"),
		    fix);
	} else {
		size = size_text(value);
		if (value != RLIM_INFINITY && value < enough)
			report_add(
			    rp, RES_WARN,
			    xasprintf("the locked-memory limit of %s is %s: a guest must lock all "
				      "its RAM, and fails with 'vfio_dma_map ... Cannot allocate "
				      "memory' above it",
				      who, size),
			    fix);
		else {
			report_add(rp, RES_OK,
				   xasprintf("the locked-memory limit of %s is %s%s", who, size,
					     value == RLIM_INFINITY
						 ? ""
						 : ": enough for guests up to that RAM"),
				   NULL);
			free(fix);
		}
		free(size);
	}
	free(who);
	free(name);
	free(lim.file);
	strv_free(&files);
	strv_free(&groups);
}

void check_reset(struct session *s, struct report *rp)
{
	size_t n = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		const struct pci_dev *d = &s->devs.v[i];
		char *method = NULL, *reset = pci_sys_path(d, "reset");
		int r;

		if (!doctor_claimed(s, i) || pci_is_bridge(d)) {
			free(reset);
			continue;
		}
		n++;
		r = pci_read_attr(d, "reset_method", &method);
		if (r == 0 && *strip(method))
			report_add(rp, RES_OK, xasprintf("%s: reset by %s", d->addr, method), NULL);
		else if (r == -ENOENT && access(reset, F_OK) == 0)
			report_add(rp, RES_OK,
				   xasprintf("%s: can be reset (this kernel has no reset_method)",
					     d->addr),
				   NULL);
		else
			report_add(
			    rp, RES_WARN,
			    xasprintf(
				"%s: no reset method: it cannot be reset between guests, and a "
				"guest finds it as the last one left it",
				d->addr),
			    xstrdup("claim every function of its slot (a bus reset may then work); "
				    "some GPUs need a vendor reset module; else reboot the host "
				    "between guests"));
		free(method);
		free(reset);
	}
	if (!n)
		report_add(rp, RES_OK, xstrdup("no device is claimed"), NULL);
}

void check_groups(struct session *s, struct report *rp)
{
	size_t n = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		const struct verdict *v = &s->plan.v[i];

		if (v->decision != DEC_REFUSE || strncmp(v->reason, "IOMMU group ", 12) != 0)
			continue;
		n++;
		report_add(
		    rp, RES_WARN, xasprintf("%s: refused: %s", s->devs.v[i].addr, v->reason),
		    xstrdup("claim the device it names as well, or set 'option group-policy=whole' "
			    "in /etc/vfio-claim.d; or move the card to a slot with an IOMMU group "
			    "of its own"));
	}
	if (!n)
		report_add(rp, RES_OK,
			   xstrdup("no claim is refused for an IOMMU group it cannot take whole"),
			   NULL);
}

/* A guest that holds a device and is gone (its run process died, another boot). */
void check_guests(struct session *s, struct report *rp)
{
	size_t n = 0, held = 0;

	for (size_t i = 0; i < s->devs.n; i++) {
		struct strv names;
		struct kv kv;

		if (!pci_on_vfio(&s->devs.v[i]) || state_read(s->devs.v[i].addr, &kv) < 0)
			continue;
		guest_holders(&kv, &names);
		held += names.n > 0;
		for (size_t k = 0; k < names.n; k++) {
			char *gone = guest_gone(&kv, names.v[k]), *name;

			if (!gone)
				continue;
			n++;
			name = guest_display(names.v[k]);
			report_add(
			    rp, RES_WARN,
			    xasprintf("%s: guest '%s' is gone (%s), and the device stays on %s",
				      s->devs.v[i].addr, name, gone, s->devs.v[i].driver),
			    xasprintf("'vfio-claim release --guest %s' gives it back", names.v[k]));
			free(name);
			free(gone);
		}
		strv_free(&names);
		kv_free(&kv);
	}
	if (!n)
		report_add(rp, RES_OK,
			   held ? xasprintf("%zu device%s held by running guests", held,
					    held == 1 ? "" : "s")
				: xstrdup("no device is held by a guest"),
			   NULL);
}

static void print(const struct report *rp, bool json)
{
	size_t count[3] = { 0 };
	struct jsonw w;

	for (size_t i = 0; i < rp->n; i++)
		count[rp->v[i].result]++;
	if (json) {
		jsonw_init(&w, stdout);
		jsonw_object_open(&w, NULL);
		jsonw_array_open(&w, "checks");
		for (size_t i = 0; i < rp->n; i++) {
			jsonw_object_open(&w, NULL);
			jsonw_string(&w, "name", rp->v[i].name);
			jsonw_string(&w, "result", result_names[rp->v[i].result]);
			jsonw_string(&w, "message", rp->v[i].message);
			jsonw_string(&w, "fix", rp->v[i].fix);
			jsonw_object_close(&w);
		}
		jsonw_array_close(&w);
		jsonw_object_open(&w, "summary");
		for (size_t k = 0; k < ARRAY_SIZE(count); k++)
			jsonw_uint(&w, result_names[k], count[k]);
		jsonw_object_close(&w);
		jsonw_object_close(&w);
		return;
	}
	for (size_t i = 0; i < rp->n; i++) {
		const struct finding *c = &rp->v[i];

		printf("%-4s %-19s %s", result_names[c->result], c->name, c->message);
		if (c->fix)
			printf("; fix: %s", c->fix);
		putchar('\n');
	}
	printf("%zu ok, %zu warn, %zu fail\n", count[RES_OK], count[RES_WARN], count[RES_FAIL]);
}

/* The checks, in the order of the report; a check adds its lines under its name. */
static const struct doctor_check {
	const char *name;
	void (*run)(struct session *s, struct report *rp);
} checks[] = {
	{ "iommu", check_iommu },
	{ "interrupt-remapping", check_interrupt_remapping },
	{ "vfio-modules", check_modules },
	{ "iommufd", check_iommufd },
	{ "configuration", check_config },
	{ "initramfs", check_initramfs },
	{ "initramfs-modules", check_initramfs_modules },
	{ "initramfs-record", check_initramfs_record },
	{ "vfio-pci-ids", check_vfio_ids },
	{ "builtin-driver", check_builtin_drivers },
	{ "framebuffer", check_framebuffer },
	{ "iommu-groups", check_groups },
	{ "reset", check_reset },
	{ "memlock", check_memlock },
	{ "guests", check_guests },
};

static int run(const struct cmd *cmd, struct options *opts, int argc, char *argv[])
{
	struct report rp = { 0 };
	struct session s;
	bool failed = false;
	int r;

	r = cmd_parse_plain(cmd, opts, argc, argv, false);
	if (r >= 0)
		return r;
	if (session_open(&s) < 0)
		return EXIT_RUNTIME;
	session_plan(&s, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		rp.name = checks[i].name;
		checks[i].run(&s, &rp);
	}
	for (size_t i = 0; i < rp.n; i++)
		failed |= rp.v[i].result == RES_FAIL;
	print(&rp, opts->json);
	report_free(&rp);
	session_close(&s);
	return failed ? EXIT_RUNTIME : 0;
}

const struct cmd cmd_doctor = {
	.name = "doctor",
	.help = "is this machine ready for passthrough, and is the boot set up as configured: "
		"one line per check, ok / warn / fail, each with its fix",
	.run = run,
};
