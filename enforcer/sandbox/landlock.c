/* enforcer/sandbox/landlock.c — see landlock.h.  The system header may predate the
 * running kernel, so the newer constants are defined here from the kernel's
 * UAPI values and the ruleset attribute is our own struct (the kernel takes
 * its size, so an older kernel simply sees the prefix it knows). */
#include "enforcer/sandbox/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/array.h"
#include "common/record.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define FS_V1 ((1ULL << 13) - 1) /* execute .. make_sym */
#define R_EXEC LANDLOCK_ACCESS_FS_EXECUTE
#define R_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* Rights that make sense on a non-directory. */
#define FILE_RIGHTS                                                                          \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                            \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

static const char *const right_names[] = {
	"execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
	"make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block",
	"make_sym", "refer", "truncate", "ioctl_dev",
};

int gb_landlock_abi(void)
{
	long r = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return r < 0 ? -errno : (int)r;
}

static uint64_t fs_for_abi(int abi)
{
	uint64_t m = FS_V1;
	if (abi >= 2)
		m |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		m |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		m |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return m;
}

void gb_landlock_rights_text(uint64_t fs, uint64_t scoped, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < GB_ARRAY_LEN(right_names); i++)
		if (fs & (1ULL << i) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", right_names[i]);
	if (scoped & LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%sscope_abstract_unix", o ? "," : "");
	if (scoped & LANDLOCK_SCOPE_SIGNAL && o < len)
		snprintf(buf + o, len - o, "%sscope_signal", o ? "," : "");
}

static const char *abi_errtext(int rc)
{
	switch (rc) {
	case -ENOSYS: return "not built into this kernel";
	case -EOPNOTSUPP: return "disabled at boot (lsm= does not list landlock)";
	case -EPERM: return "blocked (seccomp of an outer container?)";
	default: return strerror(-rc);
	}
}

/* One missing optional feature: a finding in both modes. */
static void missing(gb_landlock_report_fn report, void *ctx, const char *what, int need, int abi)
{
	char d[200];
	snprintf(d, sizeof d, "kernel Landlock ABI %d lacks %s (needs ABI %d)", abi, what, need);
	if (report)
		report(ctx, GB_F_LANDLOCK_DEGRADED, GB_SEV_LOW, what, d);
}

static int add_path(int rfd, const char *path, uint64_t want, uint64_t handled, char *why,
                    size_t whylen)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(why, whylen, "%s", strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		snprintf(why, whylen, "fstat: %s", strerror(e));
		return -e;
	}
	struct landlock_path_beneath_attr pb = { .allowed_access = want & handled, .parent_fd = fd };
	if (!S_ISDIR(st.st_mode))
		pb.allowed_access &= FILE_RIGHTS;
	long r = syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	int e = errno;
	close(fd);
	if (r < 0) {
		snprintf(why, whylen, "landlock_add_rule: %s", strerror(e));
		return -e;
	}
	return 0;
}

int gb_landlock_prepare(const struct gb_landlock_spec *spec, gb_landlock_report_fn report,
                        void *ctx, struct gb_landlock_plan *plan, char *err, size_t errlen)
{
	memset(plan, 0, sizeof *plan);
	plan->ruleset_fd = -1;
	int abi = gb_landlock_abi();
	if (abi < 0) {
		snprintf(err, errlen, "Landlock unavailable: %s", abi_errtext(abi));
		if (spec->hard)
			return abi;
		if (report)
			report(ctx, GB_F_LANDLOCK_UNAVAILABLE, GB_SEV_HIGH, "landlock", err);
		return 0;
	}
	plan->abi = abi;
	if (spec->hard && abi < 3) {
		snprintf(err, errlen,
		         "hard_requirement: kernel Landlock ABI %d cannot stop truncate (needs ABI 3)",
		         abi);
		return -EOPNOTSUPP;
	}
	if (abi < 3)
		missing(report, ctx, "truncate", 3, abi);
	if (abi < 5)
		missing(report, ctx, "ioctl_dev", 5, abi);
	if (abi < 6)
		missing(report, ctx, "scopes (abstract unix sockets, signals)", 6, abi);
	if (abi < 7)
		missing(report, ctx, "audit logging of denials", 7, abi);

	plan->handled_fs = fs_for_abi(abi);
	if (abi >= 6)
		plan->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
	if (abi >= 7)
		plan->restrict_flags = LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
	struct ruleset_attr attr = { .handled_access_fs = plan->handled_fs, .scoped = plan->scoped };
	size_t attr_size = abi >= 6 ? sizeof attr : offsetof(struct ruleset_attr, handled_access_net);
	long rfd = syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (rfd < 0) {
		int e = errno;
		snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(e));
		if (spec->hard)
			return -e;
		if (report)
			report(ctx, GB_F_LANDLOCK_UNAVAILABLE, GB_SEV_HIGH, "landlock", err);
		plan->abi = abi;
		return 0;
	}
	plan->ruleset_fd = (int)rfd;

	for (int pass = 0; pass < 2; pass++) {
		const char *const *list = pass ? spec->read_write : spec->read_only;
		size_t n = pass ? spec->n_read_write : spec->n_read_only;
		uint64_t want = pass ? plan->handled_fs : (R_EXEC | R_READ);
		for (size_t i = 0; i < n; i++) {
			char why[160];
			int rc = add_path(plan->ruleset_fd, list[i], want, plan->handled_fs, why,
			                  sizeof why);
			if (rc == 0) {
				plan->rules++;
				continue;
			}
			plan->skipped++;
			if (spec->hard) {
				snprintf(err, errlen, "hard_requirement: %s path %s: %s",
				         pass ? "read_write" : "read_only", list[i], why);
				gb_landlock_plan_close(plan);
				return rc;
			}
			if (report) {
				char d[400];
				snprintf(d, sizeof d, "%s path skipped: %s", pass ? "read_write" : "read_only",
				         why);
				report(ctx, GB_F_LANDLOCK_DEGRADED, rc == -ENOENT ? GB_SEV_LOW : GB_SEV_MEDIUM,
				       list[i], d);
			}
		}
	}
	if (plan->rules == 0) {
		/* An empty ruleset would deny everything, exec of CMD included. */
		snprintf(err, errlen, "no filesystem_policy path could be opened");
		gb_landlock_plan_close(plan);
		if (spec->hard)
			return -ENOENT;
		if (report)
			report(ctx, GB_F_LANDLOCK_UNAVAILABLE, GB_SEV_HIGH, "landlock", err);
	}
	return 0;
}

int gb_landlock_enforce(struct gb_landlock_plan *plan, char *err, size_t errlen)
{
	if (plan->ruleset_fd < 0)
		return 0;
	long r = syscall(SYS_landlock_restrict_self, plan->ruleset_fd, plan->restrict_flags);
	int e = errno;
	gb_landlock_plan_close(plan);
	if (r < 0) {
		snprintf(err, errlen, "landlock_restrict_self: %s", strerror(e));
		return -e;
	}
	return 0;
}

void gb_landlock_plan_close(struct gb_landlock_plan *plan)
{
	if (plan->ruleset_fd >= 0)
		close(plan->ruleset_fd);
	plan->ruleset_fd = -1;
}
