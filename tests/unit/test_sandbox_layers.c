/* tests/unit/test_sandbox_layers.c — the sandbox's layers one by one, each
 * applied in a forked child (they are irreversible) and checked from there:
 * privilege drop + verification, hardening, Landlock, both seccomp filters,
 * the state directory claim.  Needs root; skips otherwise. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/paths.h"
#include "common/record.h"
#include "enforcer/sandbox/landlock.h"
#include "enforcer/sandbox/privdrop.h"
#include "enforcer/sandbox/seccomp.h"
#include "enforcer/sandbox/statedir.h"

/* Run fn in a child; return its exit status (or 1000+signal). */
static int in_child(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0)
		_exit(fn(arg));
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

static int skip_unless_root(void)
{
	if (geteuid() != 0) {
		skip();
		return 1;
	}
	return 0;
}

/* ---- privilege drop ---- */

static void test_resolve(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	char err[256];
	struct gb_ident id;
	assert_int_equal(gb_privdrop_resolve(NULL, NULL, &id, err, sizeof err), 0);
	assert_string_equal(id.user, "sandbox");
	assert_int_not_equal(id.uid, 0);
	assert_int_not_equal(id.gid, 0);
	assert_int_equal(gb_privdrop_resolve("0", NULL, &id, err, sizeof err), -EPERM);
	assert_int_equal(gb_privdrop_resolve("root", NULL, &id, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "root"));
	assert_int_equal(gb_privdrop_resolve("no-such-user-gb", NULL, &id, err, sizeof err), -ENOENT);
	assert_int_equal(gb_privdrop_resolve("sandbox", "no-such-group-gb", &id, err, sizeof err),
	                 -ENOENT);
	assert_int_equal(gb_privdrop_resolve("sandbox", "0", &id, err, sizeof err), -EPERM);
	assert_int_equal(gb_privdrop_resolve("54321", "54322", &id, err, sizeof err), 0);
	assert_int_equal(id.uid, 54321);
	assert_int_equal(id.gid, 54322);
	assert_int_equal(id.n_groups, 0);
}

static int drop_child(void *arg)
{
	const struct gb_ident *id = arg;
	char err[256];
	if (gb_privdrop_apply(id, err, sizeof err) < 0)
		return 10;
	if (gb_privdrop_harden(err, sizeof err) < 0)
		return 11;
	struct rlimit rl;
	getrlimit(RLIMIT_CORE, &rl);
	if (rl.rlim_cur || rl.rlim_max)
		return 12;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 13;
	/* Verification must notice an identity that is not the one asked for. */
	struct gb_ident other = *id;
	other.uid++;
	if (gb_privdrop_verify(&other, err, sizeof err) != -EPERM)
		return 14;
	if (setgroups(0, NULL) == 0 || seteuid(0) == 0)
		return 15;
	return 0;
}

static void test_drop(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	struct gb_ident id;
	char err[256];
	assert_int_equal(gb_privdrop_resolve("54321", "54322", &id, err, sizeof err), 0);
	assert_int_equal(in_child(drop_child, &id), 0);
	/* root as the target is refused before anything changes */
	struct gb_ident root = id;
	root.uid = 0;
	assert_int_equal(gb_privdrop_apply(&root, err, sizeof err), -EPERM);
	assert_int_equal(geteuid(), 0);
}

/* ---- Landlock ---- */

struct ll_arg {
	char dir[64];
	int hard;
};

struct findings {
	int n, degraded;
	char last[256];
};

static void collect(void *ctx, int kind, int severity, const char *subject, const char *detail)
{
	struct findings *f = ctx;
	f->n++;
	if (kind == GB_F_LANDLOCK_DEGRADED && !strcmp(subject, "/nonexistent-gb"))
		f->degraded++;
	snprintf(f->last, sizeof f->last, "%s: %s", subject, detail);
	(void)severity;
}

static int ll_child(void *arg)
{
	struct ll_arg *a = arg;
	const char *ro[] = { "/usr", "/lib", "/lib64", "/nonexistent-gb" };
	const char *rw[] = { a->dir };
	struct gb_landlock_spec spec = { ro, 4, rw, 1, false };
	struct findings f = { 0 };
	struct gb_landlock_plan plan;
	char err[256];
	if (gb_landlock_prepare(&spec, collect, &f, &plan, err, sizeof err) < 0)
		return 20;
	if (f.degraded != 1 || plan.ruleset_fd < 0 || plan.skipped != 1)
		return 21;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (gb_landlock_enforce(&plan, err, sizeof err) < 0)
		return 22;
	char p[128];
	snprintf(p, sizeof p, "%s/inside", a->dir);
	int fd = open(p, O_WRONLY | O_CREAT, 0600);
	if (fd < 0)
		return 23;
	close(fd);
	if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EACCES)
		return 24; /* not listed */
	if (open("/usr/gb-ll-test", O_WRONLY | O_CREAT, 0600) >= 0 || errno != EACCES)
		return 25; /* read-only */
	if (open("/usr/bin/env", O_RDONLY) < 0)
		return 26;
	return 0;
}

static void test_landlock(void **state)
{
	(void)state;
	int abi = gb_landlock_abi();
	if (abi < 3) {
		skip();
		return;
	}
	struct ll_arg a = { .hard = 0 };
	snprintf(a.dir, sizeof a.dir, "/tmp/gb-ll-unit.XXXXXX");
	assert_non_null(mkdtemp(a.dir));
	assert_int_equal(in_child(ll_child, &a), 0);
	char p[128];
	snprintf(p, sizeof p, "%s/inside", a.dir);
	unlink(p);
	rmdir(a.dir);

	/* hard_requirement: a missing path is an error naming it */
	const char *ro[] = { "/usr", "/nonexistent-gb" };
	struct gb_landlock_spec spec = { ro, 2, NULL, 0, true };
	struct gb_landlock_plan plan;
	char err[256];
	assert_int_equal(gb_landlock_prepare(&spec, NULL, NULL, &plan, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-gb"));
	assert_int_equal(plan.ruleset_fd, -1);

	char text[512];
	gb_landlock_rights_text(0x7fff, 0, text, sizeof text);
	assert_non_null(strstr(text, "truncate"));
	assert_null(strstr(text, "ioctl_dev"));
}

/* ---- seccomp ---- */

static int runtime_child(void *arg)
{
	(void)arg;
	char err[256];
	if (gb_seccomp_runtime(0, err, sizeof err) < 0)
		return 30;
	if (syscall(SYS_memfd_create, "x", 0) >= 0 || errno != EPERM)
		return 31;
	if (socket(AF_NETLINK, SOCK_RAW, 0) >= 0 || errno != EPERM)
		return 32;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return 33;
	close(s);
	if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM)
		return 34;
	if (syscall(SYS_clone3, NULL, 0) >= 0 || errno != ENOSYS)
		return 35;
	/* No second filter. */
	if (gb_seccomp_prelude(0, err, sizeof err) == 0)
		return 36;
	return 0;
}

static int prelude_child(void *arg)
{
	(void)arg;
	char err[256];
	if (gb_seccomp_prelude(1, err, sizeof err) < 0)
		return 40;
	if (mount("none", "/mnt", "tmpfs", 0, NULL) == 0 || errno != EPERM)
		return 41;
	if (syscall(SYS_memfd_create, "x", 0) < 0)
		return 42; /* the prelude leaves the supervisor what it still needs */
	return 0;
}

static void test_seccomp(void **state)
{
	(void)state;
	assert_int_equal(in_child(runtime_child, NULL), 0);
	if (geteuid() == 0)
		assert_int_equal(in_child(prelude_child, NULL), 0);
}

/* ---- state directory ---- */

struct sd_arg {
	const char *root;
};

static int claim_and_die(void *arg)
{
	struct sd_arg *a = arg;
	struct gb_statedir sd;
	pid_t stale;
	return gb_statedir_claim(a->root, "unit", &sd, &stale) == 0 ? 0 : 50; /* no release */
}

static int claim_busy(void *arg)
{
	struct sd_arg *a = arg;
	struct gb_statedir sd;
	pid_t stale;
	return gb_statedir_claim(a->root, "unit", &sd, &stale) == -EBUSY && stale == getppid() ? 0
	                                                                                        : 51;
}

static void test_statedir(void **state)
{
	(void)state;
	char root[] = "/tmp/gb-sd-unit.XXXXXX";
	assert_non_null(mkdtemp(root));
	struct sd_arg a = { root };
	struct gb_statedir sd;
	pid_t stale = 0;
	assert_int_equal(gb_statedir_claim(root, "../x", &sd, &stale), -EINVAL);

	/* a dead owner leaves stale state, which the next claim cleans */
	pid_t dead = fork();
	if (dead == 0)
		_exit(claim_and_die(&a));
	int st;
	waitpid(dead, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	char junk[256];
	snprintf(junk, sizeof junk, "%s/run/glassbox/sandboxes/unit/events.ring", root);
	close(open(junk, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(gb_statedir_claim(root, "unit", &sd, &stale), 0);
	assert_int_equal(stale, dead);
	assert_int_equal(access(junk, F_OK), -1);
	/* ... but its ring is kept for glassbox serve (issue 20, defect 1) */
	char lo[256];
	snprintf(lo, sizeof lo, "%s/run/glassbox/leftover", root);
	DIR *ld = opendir(lo);
	assert_non_null(ld);
	int kept = 0;
	struct dirent *de;
	while ((de = readdir(ld)))
		if (!strncmp(de->d_name, "unit@", 5)) {
			kept++;
			assert_int_equal(unlinkat(dirfd(ld), de->d_name, 0), 0);
		}
	closedir(ld);
	assert_int_equal(kept, 1);
	assert_int_equal(rmdir(lo), 0);

	/* a live owner keeps the name */
	assert_int_equal(in_child(claim_busy, &a), 0);

	gb_statedir_release(&sd);
	assert_int_equal(access(sd.path, F_OK), -1);
	char p[256];
	snprintf(p, sizeof p, "%s/run/glassbox/sandboxes", root);
	rmdir(p);
	snprintf(p, sizeof p, "%s/run/glassbox", root);
	rmdir(p);
	snprintf(p, sizeof p, "%s/run", root);
	rmdir(p);
	assert_int_equal(rmdir(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_landlock),
		cmocka_unit_test(test_seccomp),
		cmocka_unit_test(test_statedir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
