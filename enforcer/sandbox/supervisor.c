/* enforcer/sandbox/supervisor.c — see supervisor.h.  The supervisor stays in the
 * host namespaces as root; everything inside the sandbox is sandbox_run.c. */
#include "enforcer/sandbox/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/policy.h"
#include "common/log.h"
#include "common/record.h"
#include "enforcer/sandbox/env.h"
#include "enforcer/sandbox/landlock_audit.h"
#include "enforcer/sandbox/netns.h"
#include "enforcer/sandbox/sandbox_out.h"
#include "enforcer/sandbox/sandbox_proxy.h"
#include "enforcer/sandbox/sandbox_msg.h"
#include "enforcer/sandbox/sandbox_run.h"
#include "enforcer/sandbox/sandbox_tls.h"
#include "enforcer/sandbox/seccomp.h"
#include "enforcer/sandbox/statedir.h"



static const int fwd_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

/* ---- the run ---- */

struct run {
	const struct gb_supervisor_opts *o;
	char name[64];
	struct gb_statedir sd;
	struct gb_sbx_out ev;
	struct gb_policy *policy;
	struct gb_ident ident;
	char exe[PATH_MAX];
	char workdir[PATH_MAX];
	char sha256[65];
	const char **rw;      /* read_write + workdir */
	struct gb_env env;
	int ctl;              /* our end */
	int sfd;              /* signalfd */
	int listen_fd;        /* proxy socket from inside the netns */
	pid_t init_pid;
	pid_t payload_pid;    /* as seen from here */
	uint64_t started_ns;
	int32_t exit_code, exit_signal;
	int got_exit;
	int status;           /* what we return */
	char setup_error[1024];
	struct gb_sbx_msg posture;
	int have_posture;
	struct gb_ll_audit *audit; /* Landlock denials, when the kernel audits */
	uint64_t denials_shown;
	int go_sent;          /* CMD may have started */
	int cancel_sig;       /* signal that arrived before CMD started */
};

/* Denials printed on stderr before only the records carry them. */
#define MAX_DENIALS_SHOWN 20


static int load_policy(struct run *r)
{
	struct gb_diags d = { 0 };
	int rc = gb_policy_load_file(r->o->policy_path, &r->policy, &d);
	if (rc < 0) {
		if (d.n)
			gb_diags_print(&d, stderr);
		else
			gb_log_error(NULL, "%s: %s", r->o->policy_path, strerror(-rc));
	}
	gb_diags_free(&d);
	return rc;
}

static void handle_msg(struct run *r, const struct gb_sbx_msg *m, int fd, pid_t pid)
{
	switch (m->type) {
	case GB_MSG_LISTEN_FD:
		if (fd >= 0 && r->listen_fd < 0)
			r->listen_fd = fd;
		else if (fd >= 0)
			close(fd);
		return;
	case GB_MSG_FINDING:
		gb_sbx_ev_finding(&r->ev, m->a, m->b, m->subject, m->text);
		if (m->b >= GB_SEV_MEDIUM)
			gb_log_warn(NULL, "%s: %s", m->subject, m->text);
		break;
	case GB_MSG_POSTURE:
		r->posture = *m;
		r->have_posture = 1;
		break;
	case GB_MSG_ERROR:
		snprintf(r->setup_error, sizeof r->setup_error, "%s", m->text);
		break;
	case GB_MSG_PAYLOAD:
		r->payload_pid = pid;
		break;
	case GB_MSG_EXEC:
		r->started_ns = gb_now_ns(CLOCK_MONOTONIC);
		if (m->a && m->b == 1) {
			gb_log_error(NULL, "workdir %s: cannot enter it as user %s: %s", r->workdir,
			        r->ident.user, strerror(m->a));
		} else if (m->a) {
			gb_log_error(NULL, "%s: %s", r->o->argv[0], strerror(m->a));
		} else {
			gb_sbx_ev_proc_launch(&r->ev, r->payload_pid, r->ident.uid, r->ident.gid, r->exe,
			                      r->sha256, r->o->argv);
		}
		break;
	case GB_MSG_EXIT:
		r->got_exit = 1;
		r->exit_code = m->a;
		r->exit_signal = m->b;
		gb_sbx_ev_proc_exit(&r->ev, r->payload_pid, r->ident.uid, r->ident.gid, r->exe,
		                    r->sha256, m->a, m->b,
		                    r->started_ns ? gb_now_ns(CLOCK_MONOTONIC) - r->started_ns : 0);
		break;
	}
	if (fd >= 0)
		close(fd);
}

static void on_denial(void *ctx, const struct gb_ll_denial *d)
{
	struct run *r = ctx;
	char detail[1400];
	if (d->seccomp) {
		snprintf(detail, sizeof detail, "seccomp refused %s (%s, pid %d uid %u)",
		         d->syscall_name, d->exe[0] ? d->exe : d->comm, (int)d->pid, d->uid);
		gb_sbx_ev_finding_proc(&r->ev, GB_F_SECCOMP_DENIED, GB_SEV_MEDIUM, d->syscall_name,
		                       detail, d->pid, d->uid, d->exe);
		if (r->denials_shown++ < MAX_DENIALS_SHOWN)
			gb_log_info(NULL, "denied: %s", detail);
		else if (r->denials_shown == MAX_DENIALS_SHOWN + 1)
			gb_log_info(NULL, "further denials are only recorded");
		return;
	}
	snprintf(detail, sizeof detail, "Landlock denied %s (%s, pid %d uid %u, syscall %s)",
	         d->blockers, d->exe[0] ? d->exe : d->comm, (int)d->pid, d->uid, d->syscall);
	gb_sbx_ev_finding_proc(&r->ev, GB_F_LANDLOCK_DENIED, GB_SEV_MEDIUM, d->path, detail, d->pid,
	                       d->uid, d->exe);
	if (r->denials_shown++ < MAX_DENIALS_SHOWN)
		gb_log_info(NULL, "denied: %s: %s", d->path[0] ? d->path : "-", detail);
	else if (r->denials_shown == MAX_DENIALS_SHOWN + 1)
		gb_log_info(NULL, "further denials are only recorded");
}

/* Wait for one message of `want` type, handling the others; signals that
 * arrive meanwhile are forwarded.  1 when it came, 0 when the child went
 * away first. */
static int wait_msg(struct run *r, uint32_t want, int *child_done);

static void on_signal(struct run *r, int *child_done)
{
	struct signalfd_siginfo si;
	while (read(r->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if ((int)si.ssi_signo == SIGCHLD) {
			int st;
			pid_t w;
			while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
				if (w != r->init_pid)
					continue;
				*child_done = 1;
				if (WIFSIGNALED(st))
					r->status = 128 + WTERMSIG(st);
				else if (WIFEXITED(st))
					r->status = WEXITSTATUS(st);
			}
			continue;
		}
		/* Terminal-generated signals (SI_KERNEL) already reached the
		 * workload, which shares our process group. */
		if (si.ssi_code == SI_KERNEL && r->go_sent)
			continue;
		if (r->init_pid <= 0 || *child_done)
			continue;
		if (!r->go_sent) {
			/* Asked to stop before CMD runs: do not start it at all. */
			r->cancel_sig = (int)si.ssi_signo;
			kill(r->init_pid, SIGKILL);
			continue;
		}
		kill(r->init_pid, (int)si.ssi_signo);
	}
}

static int wait_msg(struct run *r, uint32_t want, int *child_done)
{
	while (!*child_done || r->ctl >= 0) {
		struct pollfd p[3] = { { .fd = r->sfd, .events = POLLIN },
			                   { .fd = r->audit ? gb_ll_audit_fd(r->audit) : -1, .events = POLLIN },
			                   { .fd = r->ctl, .events = POLLIN } };
		if (poll(p, r->ctl >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (p[0].revents)
			on_signal(r, child_done);
		if (p[1].revents)
			gb_ll_audit_read(r->audit, on_denial, r);
		if (r->ctl >= 0 && p[2].revents) {
			struct gb_sbx_msg m;
			int fd = -1;
			pid_t pid = 0;
			int rc = gb_sbx_recv(r->ctl, &m, &fd, &pid);
			if (rc <= 0) {
				close(r->ctl);
				r->ctl = -1;
				continue;
			}
			handle_msg(r, &m, fd, pid);
			if (m.type == want)
				return 1;
		}
		if (*child_done && r->ctl < 0)
			break;
	}
	return 0;
}

static int spawn(struct run *r)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	int one = 1;
	setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
	/* The sandbox CA's certificates are readable whatever the policy lists:
	 * the trust variables point at them (sandbox_tls.h). */
	size_t nro = r->policy->n_read_only;
	const char **ro = calloc(nro + 1, sizeof *ro);
	if (!ro) {
		close(sp[0]);
		close(sp[1]);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nro; i++)
		ro[i] = r->policy->read_only[i];
	if (r->ev.tls_dir[0])
		ro[nro++] = r->ev.tls_dir;
	struct gb_landlock_spec ll = {
		.read_only = ro,
		.n_read_only = nro,
		.read_write = r->rw,
		.n_read_write = r->policy->n_read_write + (r->policy->include_workdir ? 1 : 0),
		.hard = r->policy->landlock == GB_LL_HARD_REQUIREMENT,
	};
	struct gb_sandbox_plan plan = {
		.hostname = r->name,
		.exe = r->exe,
		.argv = r->o->argv,
		.envp = r->env.v,
		.workdir = r->workdir,
		.ident = r->ident,
		.landlock = ll,
		.ctl_fd = sp[1],
		.seccomp_log = r->audit != NULL,
	};
	fflush(NULL);
	long pid = syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
	                                  CLONE_NEWUTS | SIGCHLD,
	                   NULL, NULL, NULL, 0);
	if (pid == 0)
		gb_sandbox_child(&plan);
	free(ro); /* the child has its own copy */
	if (pid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return -e;
	}
	close(sp[1]);
	r->ctl = sp[0];
	r->init_pid = (pid_t)pid;
	return 0;
}

static int prepare(struct run *r)
{
	const struct gb_supervisor_opts *o = r->o;
	if (geteuid() != 0) {
		gb_log_error(NULL, "run must be started as root (it creates namespaces and "
		                "drops privileges to the sandbox user)");
		return -EPERM;
	}
	if (o->name) {
		if (!gb_sandbox_name_valid(o->name)) {
			gb_log_error(NULL, "invalid sandbox name '%s' (1-63 of A-Z a-z 0-9 . _ -, "
			                "not starting with . or -)", o->name);
			return -EINVAL;
		}
		snprintf(r->name, sizeof r->name, "%s", o->name);
	} else {
		uint32_t rnd = 0;
		if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
			rnd = (uint32_t)getpid() ^ (uint32_t)gb_now_ns(CLOCK_REALTIME);
		snprintf(r->name, sizeof r->name, "gb-%08x", rnd);
	}
	if (o->workdir) {
		if (!realpath(o->workdir, r->workdir)) {
			gb_log_error(NULL, "--workdir %s: %s", o->workdir, strerror(errno));
			return -errno;
		}
	} else if (!getcwd(r->workdir, sizeof r->workdir)) {
		gb_log_error(NULL, "getcwd: %s", strerror(errno));
		return -errno;
	}
	int rc = gb_env_resolve_exe(o->argv[0], r->workdir, r->exe, sizeof r->exe);
	if (rc < 0) {
		gb_log_error(NULL, "%s: command not found", o->argv[0]);
		r->status = 127;
		return rc;
	}
	gb_sha256_file(r->exe, r->sha256); /* "" when unreadable: the record says so */
	if ((rc = load_policy(r)) < 0)
		return rc;
	char err[512];
	rc = gb_privdrop_resolve(r->policy->run_as_user, r->policy->run_as_group, &r->ident, err,
	                         sizeof err);
	if (rc < 0) {
		gb_log_error(NULL, "%s", err);
		return rc;
	}
	if (r->ident.created)
		gb_log_info(NULL, "created system user '%s' (uid %u)", r->ident.user, r->ident.uid);
	size_t nrw = r->policy->n_read_write;
	r->rw = calloc(nrw + 2, sizeof *r->rw);
	if (!r->rw)
		return -ENOMEM;
	for (size_t i = 0; i < nrw; i++)
		r->rw[i] = r->policy->read_write[i];
	if (r->policy->include_workdir)
		r->rw[nrw] = r->workdir;
	if ((rc = gb_env_build(&r->env, r->name, &r->ident, r->workdir)) < 0)
		return rc;

	pid_t stale = 0;
	rc = gb_statedir_claim(o->root, r->name, &r->sd, &stale);
	if (rc == -EBUSY) {
		gb_log_error(NULL, "sandbox '%s' is already running (supervisor pid %d)",
		        r->name, (int)stale);
		return rc;
	}
	if (rc < 0) {
		gb_log_error(NULL, "state directory for '%s': %s", r->name, strerror(-rc));
		return rc;
	}
	if (stale)
		gb_log_info(NULL, "removed stale state of sandbox '%s' (supervisor pid %d is gone)", r->name,
		    (int)stale);
	rc = gb_sbx_out_open(&r->ev, o->root, &r->sd, r->name);
	if (rc < 0)
		return rc;
	/* HTTPS inspection: without a CA the sandbox still runs, and the proxy
	 * refuses the tunnels it would have had to inspect. */
	char terr[512];
	if (gb_sbx_tls_start(&r->ev, r->o->root, &r->sd, r->name, r->o->upstream_ca, &r->env, terr,
	                     sizeof terr) < 0) {
		gb_log_warn(NULL, "HTTPS inspection is off: %s", terr);
		gb_sbx_ev_finding(&r->ev, GB_F_OTHER, GB_SEV_MEDIUM, "tls", terr);
	}
	return 0;
}

/* Join the audit stream before the workload can be denied anything. */
static void start_audit(struct run *r)
{
	int enabled = 0;
	int rc = gb_ll_audit_open(&r->audit, &enabled);
	if (rc < 0) {
		char d[256];
		snprintf(d, sizeof d, "cannot read the kernel audit stream (%s): Landlock denials are "
		         "enforced but not recorded", strerror(-rc));
		r->audit = NULL;
		gb_sbx_ev_finding(&r->ev, GB_F_LANDLOCK_DEGRADED, GB_SEV_LOW, "audit", d);
		return;
	}
	if (!enabled) {
		gb_sbx_ev_finding(&r->ev, GB_F_LANDLOCK_DEGRADED, GB_SEV_LOW, "audit",
		                  "kernel auditing is disabled (auditctl -e 1 enables it): Landlock "
		                  "and seccomp denials are enforced but not recorded");
		gb_ll_audit_close(r->audit);
		r->audit = NULL;
	}
}

/* After the sandbox is gone: the kernel delivers audit records
 * asynchronously, so collect the stragglers — until our Landlock domain is
 * reported deallocated, or nothing came for a moment (bounded). */
static void drain_audit(struct run *r)
{
	if (!r->audit)
		return;
	uint64_t until = gb_now_ns(CLOCK_MONOTONIC) + 500000000u;
	int quiet_ms = 0;
	gb_ll_audit_read(r->audit, on_denial, r);
	while (gb_ll_audit_domain_state(r->audit) != 1 && gb_now_ns(CLOCK_MONOTONIC) < until) {
		struct pollfd p = { .fd = gb_ll_audit_fd(r->audit), .events = POLLIN };
		int n = poll(&p, 1, 10);
		if (n > 0) {
			quiet_ms = 0;
			gb_ll_audit_read(r->audit, on_denial, r);
		} else if ((quiet_ms += 10) >= 30 && gb_ll_audit_domain_state(r->audit) == -1) {
			break;
		}
	}
	gb_ll_audit_flush(r->audit, on_denial, r);
}

static void finish_posture(struct run *r)
{
	uint32_t layers = r->have_posture ? (uint32_t)r->posture.a : 0;
	gb_sbx_ev_lifecycle(&r->ev, GB_LC_STARTED, layers, (uint32_t)r->posture.b,
	                    r->ident.uid, r->ident.gid, r->posture.text, GB_SECCOMP_MODE_TEXT,
	                    r->ident.user, r->workdir);
}

/* stdin/stdout/stderr must be open: otherwise the control socket could
 * land on fd 0-2 and be taken for the workload's stdio. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

int gb_supervisor_run(const struct gb_supervisor_opts *o)
{
	struct run r = { .o = o, .ctl = -1, .sfd = -1, .listen_fd = -1, .status = GB_EXIT_SETUP };
	sigset_t set, old;
	int child_done = 0;
	char err[512];
	r.sd.lock_fd = -1;
	sigemptyset(&old);
	ensure_stdio();
	if (o->quiet)
		gb_log_set_level(GB_LOG_ERROR);
	int rc = prepare(&r);
	if (rc < 0)
		goto out;
	gb_sbx_ev_lifecycle(&r.ev, GB_LC_CREATED, 0, 0, r.ident.uid, r.ident.gid, "", "",
	                    r.ident.user, r.workdir);
	gb_sbx_ev_config_loaded(&r.ev, o->policy_path, r.policy->sha256);

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	/* An ignored signal is discarded even while blocked, and shells start
	 * background jobs with SIGINT/SIGQUIT ignored: take them back. */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (size_t i = 0; i < GB_ARRAY_LEN(fwd_signals); i++) {
		sigaddset(&set, fwd_signals[i]);
		sigaction(fwd_signals[i], &dfl, NULL);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	r.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r.sfd < 0) {
		gb_log_error(NULL, "signalfd: %s", strerror(errno));
		goto out_mask;
	}
	start_audit(&r);
	if ((rc = spawn(&r)) < 0) {
		gb_log_error(NULL, "creating the sandbox namespaces: %s", strerror(-rc));
		goto out_mask;
	}
	if (r.audit)
		gb_ll_audit_watch(r.audit, r.init_pid);
	int ready = wait_msg(&r, GB_MSG_READY, &child_done);
	if (r.cancel_sig)
		goto out_wait;
	if (!ready) {
		gb_log_error(NULL, "sandbox setup failed: %s",
		        r.setup_error[0] ? r.setup_error : "the sandbox exited during setup");
		gb_sbx_ev_finding(&r.ev, GB_F_OTHER, GB_SEV_HIGH, "setup",
		                  r.setup_error[0] ? r.setup_error : "sandbox exited during setup");
		if (r.status == 0)
			r.status = GB_EXIT_SETUP;
		goto out_wait;
	}
	/* The supervisor's own prelude: privileged setup is over. */
	if (gb_seccomp_prelude(1, err, sizeof err) < 0) {
		gb_log_error(NULL, "%s", err);
		kill(r.init_pid, SIGKILL);
		goto out_wait;
	}
	rc = gb_sbx_proxy_start(&r.ev, r.listen_fd, r.init_pid, r.policy, o->hosts_file);
	r.listen_fd = -1; /* owned by the proxy now (closed on failure) */
	if (rc < 0) {
		gb_log_error(NULL, "starting the proxy: %s", strerror(-rc));
		kill(r.init_pid, SIGKILL);
		goto out_wait;
	}
	if (r.cancel_sig)
		goto out_wait;
	finish_posture(&r);
	struct gb_sbx_msg go = { .type = GB_MSG_GO };
	r.go_sent = 1;
	gb_sbx_send(r.ctl, &go, -1);
	wait_msg(&r, GB_MSG_EXIT, &child_done);
out_wait:
	while (!child_done)
		wait_msg(&r, 0, &child_done);
	if (r.got_exit)
		r.status = r.exit_signal ? 128 + r.exit_signal : r.exit_code;
	else if (r.cancel_sig)
		r.status = 128 + r.cancel_sig;
	drain_audit(&r);
	gb_sbx_proxy_stop(&r.ev);
	gb_sbx_tls_stop(&r.ev); /* after the proxy: it borrowed the CA */
	gb_sbx_ev_lifecycle(&r.ev, GB_LC_STOPPED, r.have_posture ? (uint32_t)r.posture.a : 0,
	                    (uint32_t)r.posture.b, r.ident.uid, r.ident.gid, r.posture.text,
	                    GB_SECCOMP_MODE_TEXT, r.ident.user, r.workdir);
out_mask:
	if (r.sfd >= 0)
		close(r.sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	if (r.ctl >= 0)
		close(r.ctl);
	if (r.listen_fd >= 0)
		close(r.listen_fd);
	gb_ll_audit_close(r.audit);
	gb_sbx_tls_stop(&r.ev); /* idempotent: also on the early exits */
	gb_sbx_out_close(&r.ev);
	gb_statedir_release(&r.sd);
	gb_policy_free(r.policy);
	free(r.rw);
	gb_env_free(&r.env);
	return r.status;
}
