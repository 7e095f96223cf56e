/* enforcer/sandbox/seccomp.c — see seccomp.h. */
#include "enforcer/sandbox/seccomp.h"

#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "common/array.h"

#ifndef CLONE_NEWUSER
#define CLONE_NEWUSER 0x10000000
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* Calls refused by both filters. */
static const char *const prelude_calls[] = {
	"mount", "umount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
	"open_tree", "open_tree_attr", "mount_setattr", "pivot_root", "bpf", "perf_event_open",
	"userfaultfd", "init_module", "finit_module", "delete_module", "kexec_load",
	"kexec_file_load",
};

/* Calls refused to the workload on top of the prelude. */
static const char *const runtime_calls[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd",
	"pidfd_send_signal", "io_uring_setup", "io_uring_enter", "io_uring_register",
	"memfd_create", "memfd_secret", "setns", "keyctl", "add_key", "request_key",
	"open_by_handle_at", "name_to_handle_at", "acct", "swapon", "swapoff", "reboot",
	"syslog", "iopl", "ioperm", "quotactl", "lookup_dcookie", "uselib", "vhangup",
};

static int deny_names(scmp_filter_ctx ctx, const char *const *names, size_t n, char *err,
                      size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture (e.g. umount on x86_64) */
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (rc < 0) {
			snprintf(err, errlen, "seccomp rule %s: %s", names[i], strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static scmp_filter_ctx new_ctx(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return NULL;
	}
	/* Only the native arch is in the filter; anything else is killed. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0) {
		snprintf(err, errlen, "seccomp_attr_set failed");
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

static int load(scmp_filter_ctx ctx, const char *what, char *err, size_t errlen)
{
	int rc = seccomp_load(ctx);
	if (rc < 0)
		snprintf(err, errlen, "loading the %s seccomp filter: %s", what, strerror(-rc));
	seccomp_release(ctx);
	return rc;
}

int gb_seccomp_prelude(int tsync, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = new_ctx(err, errlen);
	if (!ctx)
		return -ENOMEM;
	if (tsync && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0) {
		snprintf(err, errlen, "seccomp TSYNC unsupported");
		seccomp_release(ctx);
		return -ENOTSUP;
	}
	int rc = deny_names(ctx, prelude_calls, GB_ARRAY_LEN(prelude_calls), err,
	                    errlen);
	if (rc < 0) {
		seccomp_release(ctx);
		return rc;
	}
	return load(ctx, "prelude", err, errlen);
}

/* A full comparison (the SCMP_Ax macros leave datum_b to the compiler). */
static struct scmp_arg_cmp cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a,
                               scmp_datum_t b)
{
	struct scmp_arg_cmp c = { .arg = arg, .op = op, .datum_a = a, .datum_b = b };
	return c;
}

#define RULE(action, name, ...)                                                              \
	do {                                                                                     \
		int rc_ = seccomp_rule_add(ctx, action, SCMP_SYS(name), __VA_ARGS__);                \
		if (rc_ < 0) {                                                                       \
			snprintf(err, errlen, "seccomp rule %s: %s", #name, strerror(-rc_));             \
			seccomp_release(ctx);                                                            \
			return rc_;                                                                      \
		}                                                                                    \
	} while (0)

/* clone3 passes flags behind a pointer seccomp cannot read: ENOSYS makes
 * glibc fall back to clone(), which the main filter inspects.  Its own
 * filter, never logged, and loaded first (the main one forbids more). */
static int clone3_filter(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = new_ctx(err, errlen);
	if (!ctx)
		return -ENOMEM;
	RULE(SCMP_ACT_ERRNO(ENOSYS), clone3, 0);
	return load(ctx, "clone3", err, errlen);
}

int gb_seccomp_runtime(int log, char *err, size_t errlen)
{
	int rc = clone3_filter(err, errlen);
	if (rc < 0)
		return rc;
	scmp_filter_ctx ctx = new_ctx(err, errlen);
	if (!ctx)
		return -ENOMEM;
	if (log && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1) < 0) {
		snprintf(err, errlen, "seccomp: logging filter unsupported");
		seccomp_release(ctx);
		return -ENOTSUP;
	}
	rc = deny_names(ctx, prelude_calls, GB_ARRAY_LEN(prelude_calls), err,
	                    errlen);
	if (rc == 0)
		rc = deny_names(ctx, runtime_calls, GB_ARRAY_LEN(runtime_calls), err,
		                errlen);
	if (rc < 0) {
		seccomp_release(ctx);
		return rc;
	}
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);

	/* socket(): AF_UNIX (1), AF_INET (2), AF_INET6 (10) only.  The kernel
	 * reads the low 32 bits; any value with high bits set compares >= 11
	 * here and is refused too. */
	static const int low_refused[] = { 0, 3, 4, 5, 6, 7, 8, 9 };
	for (size_t i = 0; i < GB_ARRAY_LEN(low_refused); i++)
		RULE(eperm, socket, 1, cmp(0, SCMP_CMP_EQ, (scmp_datum_t)low_refused[i], 0));
	RULE(eperm, socket, 1, cmp(0, SCMP_CMP_GE, 11, 0));
	/* Raw and packet sockets (need CAP_NET_RAW anyway). */
	RULE(eperm, socket, 1, cmp(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW));
	RULE(eperm, socket, 1, cmp(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_PACKET));

	/* No user namespaces: the way to regain capabilities unprivileged. */
	RULE(eperm, unshare, 1, cmp(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	RULE(eperm, clone, 1, cmp(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));

	/* execveat(fd, "", ..., AT_EMPTY_PATH): exec of an fd (fileless exec). */
	RULE(eperm, execveat, 1, cmp(4, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));

	/* No further filters (a workload filter could hide or fake behaviour). */
	RULE(eperm, seccomp, 1, cmp(0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0));
	RULE(eperm, prctl, 1, cmp(0, SCMP_CMP_EQ, PR_SET_SECCOMP, 0));

	/* No setuid/setgid bits: files in an idmapped workdir belong to its
	 * owner on the host, so a set-id file made here would run as that
	 * owner there.  chmod family (the mode argument) and file creation
	 * with a set-id mode; openat2 hides its mode behind a pointer, so it
	 * reports ENOSYS and callers fall back to openat. */
	for (scmp_datum_t bit = S_ISGID; bit <= S_ISUID; bit <<= 1) {
		RULE(eperm, chmod, 1, cmp(1, SCMP_CMP_MASKED_EQ, bit, bit));
		RULE(eperm, fchmod, 1, cmp(1, SCMP_CMP_MASKED_EQ, bit, bit));
		RULE(eperm, fchmodat, 1, cmp(2, SCMP_CMP_MASKED_EQ, bit, bit));
		RULE(eperm, creat, 1, cmp(1, SCMP_CMP_MASKED_EQ, bit, bit));
		RULE(eperm, mknod, 1, cmp(1, SCMP_CMP_MASKED_EQ, bit, bit));
		RULE(eperm, mknodat, 1, cmp(2, SCMP_CMP_MASKED_EQ, bit, bit));
		RULE(eperm, open, 2, cmp(1, SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT),
		     cmp(2, SCMP_CMP_MASKED_EQ, bit, bit));
		RULE(eperm, openat, 2, cmp(2, SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT),
		     cmp(3, SCMP_CMP_MASKED_EQ, bit, bit));
	}
	{
		int rc_ = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0);
		if (rc_ < 0) {
			snprintf(err, errlen, "seccomp rule openat2: %s", strerror(-rc_));
			seccomp_release(ctx);
			return rc_;
		}
		/* fchmodat2 (6.6) has the mode in arg 2 like fchmodat; libseccomp
		 * may not know it yet, so it is looked up by name. */
		int nr = seccomp_syscall_resolve_name("fchmodat2");
		for (scmp_datum_t bit = S_ISGID; nr >= 0 && bit <= S_ISUID; bit <<= 1)
			if ((rc_ = seccomp_rule_add(ctx, eperm, nr, 1, cmp(2, SCMP_CMP_MASKED_EQ, bit, bit))) < 0) {
				snprintf(err, errlen, "seccomp rule fchmodat2: %s", strerror(-rc_));
				seccomp_release(ctx);
				return rc_;
			}
	}

	/* Terminal input injection into the user's shell. */
	RULE(eperm, ioctl, 1, cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	RULE(eperm, ioctl, 1, cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));

	return load(ctx, "runtime", err, errlen);
}
