/* enforcer/sandbox/sandbox_run.c — see sandbox_run.h. */
#include "enforcer/sandbox/sandbox_run.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/array.h"
#include "common/log.h"
#include "common/record.h"
#include "enforcer/sandbox/netns.h"
#include "enforcer/sandbox/rootfs.h"
#include "enforcer/sandbox/sandbox_msg.h"
#include "enforcer/sandbox/seccomp.h"

static int ctl = -1;

_Noreturn static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn static void die(const char *fmt, ...)
{
	struct gb_sbx_msg m = { .type = GB_MSG_ERROR };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof m.text, fmt, ap);
	va_end(ap);
	if (gb_sbx_send(ctl, &m, -1) < 0)
		gb_log_error(NULL, "sandbox setup: %s", m.text);
	_exit(GB_EXIT_SETUP);
}

static void report(void *ctx, int kind, int severity, const char *subject, const char *detail)
{
	(void)ctx;
	struct gb_sbx_msg m = { .type = GB_MSG_FINDING, .a = kind, .b = severity };
	snprintf(m.subject, sizeof m.subject, "%s", subject ? subject : "");
	snprintf(m.text, sizeof m.text, "%s", detail ? detail : "");
	gb_sbx_send(ctl, &m, -1);
}

static void keep_only(int a, int b)
{
	/* Lock file, ring, terminal-less leftovers: nothing of the supervisor's
	 * but stdio, the control socket and the workdir's idmapping (closed
	 * once the root is built) crosses into the sandbox. */
	if (b >= 0 && b < a) {
		int t = a;
		a = b;
		b = t;
	}
	if (a > 3)
		syscall(SYS_close_range, 3, a - 1, 0);
	if (b > a + 1)
		syscall(SYS_close_range, a + 1, b - 1, 0);
	syscall(SYS_close_range, (b > a ? b : a) + 1, ~0U, 0);
}

static void die_with_supervisor(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die("PR_SET_PDEATHSIG: %s", strerror(errno));
	/* The supervisor may have died before the prctl: then our end of the
	 * control socket reports a hang-up. */
	struct pollfd p = { .fd = ctl, .events = 0 };
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
		_exit(GB_EXIT_SETUP);
}

/* 1 when the sandbox has its private root, 0 on the host's tree. */
static int setup_mounts(const struct gb_sandbox_plan *p)
{
	char err[600];
	int rc = p->rootfs.dir ? gb_rootfs_setup(&p->rootfs, report, NULL, err, sizeof err)
	                       : gb_rootfs_host_tree(err, sizeof err);
	if (p->rootfs.workdir_userns >= 0)
		close(p->rootfs.workdir_userns);
	if (rc < 0)
		die("%s", err);
	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
		die("sethostname: %s", strerror(errno));
	return rc == 1;
}

static void setup_network(void)
{
	int rc = gb_netns_lo_up();
	if (rc < 0)
		die("bringing up lo: %s", strerror(-rc));
	int fd = gb_netns_listen(GB_PROXY_ADDR, GB_PROXY_PORT);
	if (fd < 0)
		die("proxy socket %s:%d: %s", GB_PROXY_ADDR, GB_PROXY_PORT, strerror(-fd));
	struct gb_sbx_msg m = { .type = GB_MSG_LISTEN_FD };
	rc = gb_sbx_send(ctl, &m, fd);
	close(fd); /* the workload must never hold the proxy's socket */
	if (rc < 0)
		die("passing the proxy socket: %s", strerror(-rc));
}

static void wait_go(void)
{
	struct gb_sbx_msg m;
	for (;;) {
		int rc = gb_sbx_recv(ctl, &m, NULL, NULL);
		if (rc <= 0)
			_exit(GB_EXIT_SETUP); /* supervisor gone */
		if (m.type == GB_MSG_GO)
			return;
	}
}

_Noreturn static void exec_workload(const struct gb_sandbox_plan *p, int exec_pipe)
{
	struct gb_sbx_msg m = { .type = GB_MSG_PAYLOAD };
	gb_sbx_send(ctl, &m, -1); /* the supervisor learns our pid from SO_PASSCRED */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	/* The workload starts with no signal blocked (we inherited the
	 * supervisor's blocked set). */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int e[2] = { 0, 0 }; /* stage (1 chdir, 2 execve), errno */
	if (p->workdir && chdir(p->workdir) < 0) {
		e[0] = 1;
		e[1] = errno;
	} else {
		execve(p->exe, p->argv, p->envp);
		e[0] = 2;
		e[1] = errno;
	}
	ssize_t w = write(exec_pipe, e, sizeof e);
	(void)w;
	_exit(e[0] == 2 && e[1] == ENOENT ? 127 : 126);
}

/* Init's life after the workload started: reap everything, forward the
 * supervisor's signals, report the workload's end. */
_Noreturn static void init_loop(pid_t child, const sigset_t *set)
{
	int32_t code = -1, sig = 0;
	for (;;) {
		siginfo_t si;
		int s = sigwaitinfo(set, &si);
		if (s < 0)
			continue;
		if (s != SIGCHLD) {
			/* Only signals from outside the namespace (the supervisor; the
			 * kernel shows their sender as pid 0) are forwarded.  Terminal
			 * signals (SI_KERNEL) reached the workload directly already. */
			if (si.si_code == SI_USER && si.si_pid == 0)
				kill(child, s);
			continue;
		}
		int st;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
			if (w != child)
				continue;
			if (WIFEXITED(st))
				code = WEXITSTATUS(st);
			else if (WIFSIGNALED(st))
				sig = WTERMSIG(st);
			struct gb_sbx_msg m = { .type = GB_MSG_EXIT, .a = code, .b = sig };
			gb_sbx_send(ctl, &m, -1);
			_exit(0);
		}
	}
}

_Noreturn void gb_sandbox_child(const struct gb_sandbox_plan *p)
{
	char err[512];
	ctl = p->ctl_fd;
	keep_only(ctl, p->rootfs.workdir_userns);
	die_with_supervisor();
	/* Into the cgroup before anything can fork (and while /sys is visible). */
	if (p->cgroup && gb_cgroup_join_self(p->cgroup, err, sizeof err) < 0)
		die("%s", err);

	/* 1. privileged setup */
	int private_root = setup_mounts(p);
	setup_network();
	struct gb_landlock_plan ll;
	if (gb_landlock_prepare(&p->landlock, report, NULL, &ll, err, sizeof err) < 0)
		die("%s", err);

	/* 2. prelude seccomp: no more mounts, bpf, modules ... from here on */
	if (gb_seccomp_prelude(0, err, sizeof err) < 0)
		die("%s", err);

	/* 3. privilege drop, verified */
	if (gb_privdrop_apply(&p->ident, err, sizeof err) < 0)
		die("privilege drop: %s", err);
	die_with_supervisor(); /* a credential change cleared the death signal */

	/* 4. core hardening */
	if (gb_privdrop_harden(err, sizeof err) < 0)
		die("hardening: %s", err);
	/* Both soft and hard: without CAP_SYS_RESOURCE the workload cannot
	 * raise the hard limit again. */
	struct rlimit nofile = { p->nofile, p->nofile };
	if (p->nofile && setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		die("RLIMIT_NOFILE %lu: %s", p->nofile, strerror(errno));

	/* 5. Landlock */
	uint32_t layers = GB_LAYER_NETNS | GB_LAYER_PRIVDROP | (private_root ? GB_LAYER_ROOTFS : 0);
	int ll_abi = ll.abi;
	uint64_t ll_fs = ll.handled_fs, ll_scoped = ll.scoped;
	size_t ll_rules = ll.rules;
	int ll_active = ll.ruleset_fd >= 0;
	if (gb_landlock_enforce(&ll, err, sizeof err) < 0) {
		if (p->landlock.hard)
			die("%s", err);
		report(NULL, GB_F_LANDLOCK_UNAVAILABLE, GB_SEV_HIGH, "landlock", err);
		ll_active = 0;
	}
	if (ll_active)
		layers |= GB_LAYER_LANDLOCK;

	/* 6. runtime seccomp */
	if (gb_seccomp_runtime(p->seccomp_log, err, sizeof err) < 0)
		die("%s", err);
	layers |= GB_LAYER_SECCOMP;

	struct gb_sbx_msg m = { .type = GB_MSG_POSTURE, .a = (int32_t)layers, .b = ll_abi,
	                        .c = (int32_t)ll_rules, .u1 = ll_active ? ll_fs : 0,
	                        .u2 = ll_active ? ll_scoped : 0 };
	gb_landlock_rights_text(m.u1, m.u2, m.text, sizeof m.text);
	gb_sbx_send(ctl, &m, -1);
	struct gb_sbx_msg ready = { .type = GB_MSG_READY };
	gb_sbx_send(ctl, &ready, -1);
	wait_go();

	/* 7. the workload */
	sigset_t set;
	sigemptyset(&set);
	int fwd[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	for (size_t i = 0; i < GB_ARRAY_LEN(fwd); i++)
		sigaddset(&set, fwd[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	/* vfork, not fork: the child only resets its signals, enters the
	 * workdir and execs, so init's address space need not be copied for it
	 * (the page-table copy and the copy-on-write faults after it were ~0.3 ms
	 * of each start, bench_run).  As in posix_spawn: the child has its own
	 * signal dispositions and working directory (no CLONE_SIGHAND, CLONE_FS),
	 * writes nothing of init's but the exec pipe, and init resumes at its
	 * execve or _exit; the forwarded signals stay blocked until the child
	 * has reset every handler. */
	pid_t child = vfork();
	if (child < 0)
		die("vfork: %s", strerror(errno));
	if (child == 0) {
		close(pp[0]);
		exec_workload(p, pp[1]);
	}
	close(pp[1]);
	int e[2] = { 0, 0 };
	ssize_t n;
	do
		n = read(pp[0], e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(pp[0]);
	int ok = n != (ssize_t)sizeof e;
	struct gb_sbx_msg em = { .type = GB_MSG_EXEC, .a = ok ? 0 : e[1], .b = ok ? 0 : e[0] };
	gb_sbx_send(ctl, &em, -1);
	init_loop(child, &set);
}
