// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `doctor`'s checks of what the user of a guest meets: claims refused for their IOMMU group,
 * devices that cannot be reset between guests, the locked-memory limit of the guest's user
 * (pam_limits' files), and guests that are gone but still hold devices.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "doctor.h"
#include "guest.h"

void check_iommu_groups(struct session *s, struct report *rp)
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

/* How a claimed device can be reset between guests: reset_method, else the reset file. */
static void reset_of(struct report *rp, const struct pci_dev *d)
{
	char *method = NULL, *reset = pci_sys_path(d, "reset");
	int r = pci_read_attr(d, "reset_method", &method);

	if (r == 0 && *strip(method))
		report_add(rp, RES_OK, xasprintf("%s: reset by %s", d->addr, method), NULL);
	else if (r == -ENOENT && access(reset, F_OK) == 0)
		report_add(rp, RES_OK,
			   xasprintf("%s: can be reset (this kernel has no reset_method)", d->addr),
			   NULL);
	else
		report_add(
		    rp, RES_WARN,
		    xasprintf("%s: no reset method: it cannot be reset between guests, and a "
			      "guest finds it as the last one left it",
			      d->addr),
		    xstrdup("claim every function of its slot (a bus reset may then work); "
			    "some GPUs need a vendor reset module; else reboot the host "
			    "between guests"));
	free(method);
	free(reset);
}

void check_reset(struct session *s, struct report *rp)
{
	size_t n = 0;

	for (size_t i = 0; i < s->devs.n; i++)
		if (doctor_claimed(s, i) && !pci_is_bridge(&s->devs.v[i])) {
			reset_of(rp, &s->devs.v[i]);
			n++;
		}
	if (!n)
		report_add(rp, RES_OK, xstrdup("no device is claimed"), NULL);
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

/* A line of /etc/passwd (cut in place): when it is user's (by name or number), *name and *gid. */
static void passwd_line(char *line, const char *user, char **name, char **gid)
{
	char *f[4] = { 0 }, *rest = line;

	for (int k = 0; k < 4; k++)
		f[k] = strsep(&rest, ":");
	if (f[3] && (streq(f[0], user) || (f[2] && streq(f[2], user)))) {
		*gid = xstrdup(f[3]);
		*name = xstrdup(f[0]);
	}
}

/* A line of /etc/group (cut in place): its name when user is in it (by gid or member), or NULL. */
static const char *group_line(char *line, const char *user, const char *gid)
{
	char *f[4] = { 0 }, *rest = line, *save = NULL;
	bool in;

	for (int k = 0; k < 4; k++)
		f[k] = strsep(&rest, ":");
	if (!f[2])
		return NULL;
	in = gid && streq(f[2], gid);
	for (char *m = strtok_r(f[3] ? f[3] : (char[]){ "" }, ",", &save); m && !in;
	     m = strtok_r(NULL, ",", &save))
		in = streq(m, user);
	return in ? f[0] : NULL;
}

/*
 * The user's name (owner= may be a number) and the groups it is in, by name, from the root's
 * /etc/passwd and /etc/group; *name: NULL when the user is not there.
 */
static void user_groups(const char *user, char **name, struct strv *groups)
{
	char *passwd = NULL, *group = NULL, *save = NULL, *gid = NULL;
	const char *g;

	*name = NULL;
	if (doctor_read("/etc/passwd", &passwd) == 0)
		for (char *l = strtok_r(passwd, "\n", &save); l && !*name;
		     l = strtok_r(NULL, "\n", &save))
			passwd_line(l, user, name, &gid);
	user = *name ? *name : user;
	save = NULL;
	if (doctor_read("/etc/group", &group) == 0)
		for (char *l = strtok_r(group, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			if ((g = group_line(l, user, gid)))
				strv_push(groups, xstrdup(g));
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

/* A memlock line of a limits file: whose, which limits it sets, and to what. */
struct limit_line {
	int src; /* 0 the user's, 1 one of its groups', 2 everyone's ('*') */
	bool soft, hard;
	rlim_t value;
};

/* The priority of a line's domain for user and its groups, or -1 when it is another's. */
static int limit_domain(const char *dom, const char *user, const struct strv *groups)
{
	if (user && streq(dom, user))
		return 0;
	if (dom[0] == '@' && strv_contains(groups, dom + 1))
		return 1;
	if (streq(dom, "*"))
		return 2;
	return -1;
}

static rlim_t limit_value(const char *value)
{
	if (streq(value, "unlimited") || streq(value, "infinity") || streq(value, "-1"))
		return RLIM_INFINITY;
	return (rlim_t)strtoull(value, NULL, 10) * 1024; /* KiB */
}

/* A line of a limits file (cut at its comment): a memlock line that applies to user? */
static bool limit_line(char *l, const char *user, const struct strv *groups, struct limit_line *ll)
{
	char dom[256], type[16], item[32], value[32];

	if (strchr(l, '#'))
		*strchr(l, '#') = '\0';
	if (sscanf(l, "%255s %15s %31s %31s", dom, type, item, value) != 4 ||
	    !streq(item, "memlock"))
		return false;
	ll->src = limit_domain(dom, user, groups);
	ll->soft = streq(type, "soft") || streq(type, "-");
	ll->hard = streq(type, "hard") || streq(type, "-");
	ll->value = limit_value(value);
	return ll->src >= 0;
}

/* pam_limits: a user's line beats a group's, which beats '*'; among equals the later wins. */
static void limits_file(const char *file, const char *user, const struct strv *groups,
			struct limit *lim)
{
	char *text = NULL, *save = NULL;
	struct limit_line ll;

	if (doctor_read(file, &text) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!limit_line(l, user, groups, &ll))
			continue;
		if (ll.soft && ll.src <= lim->src_soft) {
			lim->soft = ll.value;
			lim->src_soft = ll.src;
			free(lim->file);
			lim->file = xstrdup(file);
		}
		if (ll.hard && ll.src <= lim->src_hard) {
			lim->hard = ll.value;
			lim->src_hard = ll.src;
		}
	}
	free(text);
}

/* limits.conf, then the limits.d/ *.conf files in order, as pam_limits reads them. */
static void memlock_limits(const char *user, const struct strv *groups, struct limit *lim)
{
	struct strv files = { 0 };

	limits_file("/etc/security/limits.conf", user, groups, lim);
	doctor_list("/etc/security/limits.d", &files);
	for (size_t i = 0; i < files.n; i++) {
		size_t len = strlen(files.v[i]);
		char *f;

		if (len < 5 || !streq(files.v[i] + len - 5, ".conf"))
			continue;
		f = xasprintf("/etc/security/limits.d/%s", files.v[i]);
		limits_file(f, user, groups, lim);
		free(f);
	}
	strv_free(&files);
}

/*
 * Whose limit *value is ("vm's sessions (FILE)"): the limits files', else this process's on the
 * host itself; NULL when neither says (another root without a memlock line).
 */
static char *memlock_who(const char *owner, const struct limit *lim, rlim_t *value)
{
	struct rlimit rl;

	*value = 0;
	if (lim->src_soft < 3) {
		*value = lim->soft;
		return xasprintf("%s's sessions (%s)", owner ? owner : "every user", lim->file);
	}
	if (!root_is_host())
		return NULL;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		rl.rlim_cur = 0;
	*value = rl.rlim_cur;
	return owner ? xasprintf("this process (no memlock line for '%s' in "
				 "/etc/security/limits.conf or limits.d)",
				 owner)
		     : xstrdup("this process (no owner= is configured for /dev/vfio)");
}

static char *memlock_fix(const char *owner)
{
	return xasprintf("give the user who runs the guest at least the guest's RAM: a line "
			 "'%s - memlock unlimited' in /etc/security/limits.d/vfio.conf (then log "
			 "in again); for a systemd service, 'LimitMEMLOCK=infinity' in its unit; "
			 "libvirt raises the limit itself for guests with <hostdev> (or set "
			 "<memtune><hard_limit> in the domain)",
			 owner ? owner : "USER");
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

/* A known limit: enough for a guest of a few GiB, or a warning. */
static void memlock_verdict(struct report *rp, const char *owner, const char *who, rlim_t value)
{
	static const rlim_t enough = 1024ULL * 1024 * 1024;
	char *size = size_text(value);

	if (value != RLIM_INFINITY && value < enough)
		report_add(rp, RES_WARN,
			   xasprintf("the locked-memory limit of %s is %s: a guest must lock all "
				     "its RAM, and fails with 'vfio_dma_map ... Cannot allocate "
				     "memory' above it",
				     who, size),
			   memlock_fix(owner));
	else
		report_add(
		    rp, RES_OK,
		    xasprintf("the locked-memory limit of %s is %s%s", who, size,
			      value == RLIM_INFINITY ? "" : ": enough for guests up to that RAM"),
		    NULL);
	free(size);
}

void check_memlock(struct session *s, struct report *rp)
{
	const char *owner = configured_owner(&s->cfg);
	struct limit lim = { RLIM_INFINITY, RLIM_INFINITY, 3, 3, NULL };
	struct strv groups = { 0 };
	char *who, *name = NULL;
	rlim_t value;

	if (owner) {
		user_groups(owner, &name, &groups);
		owner = name ? name : owner; /* limits.conf names users: a number is looked up */
	}
	memlock_limits(owner, &groups, &lim);
	who = memlock_who(owner, &lim, &value);
	if (who)
		memlock_verdict(rp, owner, who, value);
	else
		report_add(rp, RES_WARN,
			   xasprintf("unknown: no memlock line for %s in /etc/security/limits.conf "
				     "or limits.d, and the limit of this process is not the "
				     "inspected system's; a guest fails with 'vfio_dma_map ... "
				     "Cannot allocate memory' when it cannot lock its RAM",
				     owner ? owner : "every user ('*')"),
			   memlock_fix(owner));
	free(who);
	free(name);
	free(lim.file);
	strv_free(&groups);
}

/* The guests recorded as holding device d that are gone: a warning each; how many. */
static size_t guests_gone(struct report *rp, const struct pci_dev *d, const struct kv *kv,
			  const struct strv *names)
{
	size_t n = 0;

	for (size_t k = 0; k < names->n; k++) {
		char *gone = guest_gone(kv, names->v[k]), *name, *word;

		if (!gone)
			continue;
		n++;
		name = guest_display(names->v[k]);
		word = guest_shell_word(names->v[k]);
		report_add(rp, RES_WARN,
			   xasprintf("%s: guest '%s' is gone (%s), and the device stays on %s",
				     d->addr, name, gone, d->driver),
			   xasprintf("'vfio-claim release --guest %s' gives it back", word));
		free(word);
		free(name);
		free(gone);
	}
	return n;
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
		n += guests_gone(rp, &s->devs.v[i], &kv, &names);
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
