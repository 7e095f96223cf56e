/* enforcer/sandbox/privdrop.c — see privdrop.h. */
#include "enforcer/sandbox/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/array.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Parse a decimal id 1..4294967294; returns 0 when s is not a number. */
static int parse_id(const char *s, unsigned long *out)
{
	char *end;
	if (!s || !*s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > 4294967294UL)
		return 0;
	*out = v;
	return 1;
}

/* useradd --system for the default user only.  A concurrent creator makes
 * useradd fail with "already exists"; the caller looks the name up again,
 * so the exit status is informational. */
static int create_default_user(char *err, size_t errlen)
{
	static const char *const paths[] = { "/usr/sbin/useradd", "/sbin/useradd" };
	const char *bin = NULL;
	for (size_t i = 0; i < GB_ARRAY_LEN(paths); i++)
		if (access(paths[i], X_OK) == 0)
			bin = paths[i];
	if (!bin)
		return fail(err, errlen, -ENOENT,
		            "user '%s' does not exist and useradd is not installed", GB_SANDBOX_USER);
	pid_t pid = fork();
	if (pid < 0)
		return fail(err, errlen, -errno, "fork for useradd: %s", strerror(errno));
	if (pid == 0) {
		execl(bin, bin, "--system", "--user-group", "--no-create-home", "--home-dir",
		      "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
		      "glassbox sandbox", GB_SANDBOX_USER, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return fail(err, errlen, -errno, "waitpid useradd: %s", strerror(errno));
	return 0;
}

int gb_privdrop_resolve(const char *user, const char *group, struct gb_ident *out,
                        char *err, size_t errlen)
{
	unsigned long n;
	memset(out, 0, sizeof *out);
	if (!user || !*user)
		user = GB_SANDBOX_USER;
	if (parse_id(user, &n)) {
		if (n == 0)
			return fail(err, errlen, -EPERM, "process.run_as_user: root (0) is not allowed");
		out->uid = (uid_t)n;
		out->gid = (gid_t)n; /* numeric user without group: same number */
		snprintf(out->user, sizeof out->user, "%lu", n);
		snprintf(out->home, sizeof out->home, "/");
	} else {
		struct passwd *pw = getpwnam(user);
		if (!pw && !strcmp(user, GB_SANDBOX_USER)) {
			int rc = create_default_user(err, errlen);
			if (rc < 0)
				return rc;
			pw = getpwnam(user);
			out->created = pw != NULL;
		}
		if (!pw)
			return fail(err, errlen, -ENOENT, "process.run_as_user: no user named '%s'", user);
		if (pw->pw_uid == 0)
			return fail(err, errlen, -EPERM,
			            "process.run_as_user: '%s' is root (uid 0), not allowed", user);
		out->uid = pw->pw_uid;
		out->gid = pw->pw_gid;
		snprintf(out->user, sizeof out->user, "%s", pw->pw_name);
		snprintf(out->home, sizeof out->home, "%s", pw->pw_dir ? pw->pw_dir : "/");
		/* Supplementary groups as initgroups(3) would set them. */
		int ng = GB_PRIVDROP_MAX_GROUPS;
		if (getgrouplist(pw->pw_name, pw->pw_gid, out->groups, &ng) < 0)
			return fail(err, errlen, -E2BIG, "user '%s' is in more than %d groups", user,
			            GB_PRIVDROP_MAX_GROUPS);
		out->n_groups = (size_t)ng;
	}
	if (group && *group) {
		gid_t g;
		if (parse_id(group, &n)) {
			g = (gid_t)n;
		} else {
			struct group *gr = getgrnam(group);
			if (!gr)
				return fail(err, errlen, -ENOENT, "process.run_as_group: no group named '%s'",
				            group);
			g = gr->gr_gid;
		}
		if (g == 0)
			return fail(err, errlen, -EPERM, "process.run_as_group: root (0) is not allowed");
		out->gid = g;
	}
	/* Never keep root's group as a supplementary group. */
	size_t k = 0;
	for (size_t i = 0; i < out->n_groups; i++)
		if (out->groups[i] != 0)
			out->groups[k++] = out->groups[i];
	out->n_groups = k;
	return 0;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int v = CAP_LAST_CAP;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = CAP_LAST_CAP;
		fclose(f);
	}
	/* Ask for more than we know: a newer kernel's unknown caps too. */
	return v > 63 ? 63 : v;
}

int gb_privdrop_apply(const struct gb_ident *id, char *err, size_t errlen)
{
	if (id->uid == 0 || id->gid == 0)
		return fail(err, errlen, -EPERM, "refusing to run the sandbox as root");
	/* No way back to root through setuid fixups or keep-caps, locked. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
	                                 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
	                                 SECBIT_NO_CAP_AMBIENT_RAISE |
	                                 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
		return fail(err, errlen, -errno, "PR_SET_SECUREBITS: %s", strerror(errno));
	if (setgroups(id->n_groups, id->groups) < 0)
		return fail(err, errlen, -errno, "setgroups: %s", strerror(errno));
	if (setresgid(id->gid, id->gid, id->gid) < 0)
		return fail(err, errlen, -errno, "setresgid(%u): %s", id->gid, strerror(errno));
	/* Bounding set: must be cleared while we still hold CAP_SETPCAP. */
	int last = last_cap();
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return fail(err, errlen, -errno, "PR_CAPBSET_DROP %d: %s", c, strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return fail(err, errlen, -errno, "PR_CAP_AMBIENT_CLEAR_ALL: %s", strerror(errno));
	if (setresuid(id->uid, id->uid, id->uid) < 0)
		return fail(err, errlen, -errno, "setresuid(%u): %s", id->uid, strerror(errno));
	/* The root->non-root transition cleared permitted/effective; make the
	 * inheritable set empty too, explicitly. */
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capset, &h, d) < 0)
		return fail(err, errlen, -errno, "capset: %s", strerror(errno));
	return gb_privdrop_verify(id, err, errlen);
}

int gb_privdrop_verify(const struct gb_ident *id, char *err, size_t errlen)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || r != id->uid || e != id->uid || s != id->uid)
		return fail(err, errlen, -EPERM, "verify: uid is %u/%u/%u, expected %u", r, e, s,
		            id->uid);
	if (getresgid(&rg, &eg, &sg) < 0 || rg != id->gid || eg != id->gid || sg != id->gid)
		return fail(err, errlen, -EPERM, "verify: gid is %u/%u/%u, expected %u", rg, eg, sg,
		            id->gid);
	gid_t g[GB_PRIVDROP_MAX_GROUPS + 1];
	int ng = getgroups(GB_PRIVDROP_MAX_GROUPS + 1, g);
	if (ng < 0 || (size_t)ng != id->n_groups)
		return fail(err, errlen, -EPERM, "verify: %d supplementary groups, expected %zu", ng,
		            id->n_groups);
	for (int i = 0; i < ng; i++) {
		int found = 0;
		for (size_t j = 0; j < id->n_groups; j++)
			found |= g[i] == id->groups[j];
		if (!found || g[i] == 0)
			return fail(err, errlen, -EPERM, "verify: unexpected supplementary group %u", g[i]);
	}
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return fail(err, errlen, -errno, "verify: capget: %s", strerror(errno));
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return fail(err, errlen, -EPERM,
			            "verify: capabilities left (eff %#x prm %#x inh %#x, word %d)",
			            d[i].effective, d[i].permitted, d[i].inheritable, i);
	int last = last_cap();
	for (int c = 0; c <= last; c++) {
		int b = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		if (b > 0)
			return fail(err, errlen, -EPERM, "verify: capability %d still in the bounding set", c);
		int a = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0);
		if (a > 0)
			return fail(err, errlen, -EPERM, "verify: capability %d still ambient", c);
	}
	if (setuid(0) == 0)
		return fail(err, errlen, -EPERM, "verify: setuid(0) succeeded after the drop");
	return 0;
}

int gb_privdrop_harden(char *err, size_t errlen)
{
	struct rlimit rl = { 0, 0 };
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return fail(err, errlen, -errno, "RLIMIT_CORE: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(err, errlen, -errno, "PR_SET_DUMPABLE: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, -errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return fail(err, errlen, -EPERM, "no_new_privs did not stick");
	return 0;
}
