/* enforcer/sandbox/supervisor.c — see supervisor.h.  The supervisor stays in the
 * host namespaces as root; everything inside the sandbox is sandbox_run.c. */
#include "enforcer/sandbox/supervisor.h"
#include "common/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/array.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/policy.h"
#include "common/log.h"
#include "common/record.h"
#include "enforcer/sandbox/cgroup.h"
#include "enforcer/sandbox/control.h"
#include "enforcer/sandbox/env.h"
#include "enforcer/sandbox/landlock_audit.h"
#include "enforcer/sandbox/netns.h"
#include "enforcer/sandbox/sandbox_out.h"
#include "enforcer/sandbox/sandbox_proxy.h"
#include "enforcer/sandbox/policy_local.h"
#include "enforcer/sandbox/sandbox_msg.h"
#include "enforcer/sandbox/sandbox_run.h"
#include "enforcer/proxy/inference.h"
#include "enforcer/proxy/cred.h"
#include "enforcer/proxy/tls.h"
#include "enforcer/sandbox/sandbox_tls.h"
#include "enforcer/sandbox/seccomp.h"
#include "enforcer/sandbox/statedir.h"
#include "enforcer/sandbox/uidalloc.h"
#include "enforcer/sandbox/limits.h"



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
	const char **rw;      /* read_write + workdir + dev_always (Landlock) */
	size_t n_rw;
	const char **ro;      /* read_only + the extra binds' destinations */
	/* Host files bound read-only into the private root, at dst (e.g. the
	 * sandbox CA bundle for TLS termination); Landlock grants them read. */
	struct gb_bind extra_ro[8];
	size_t n_extra_ro;
	char rootdir[4200];   /* the private root's mount point (state directory) */
	struct gb_uid_claim uid; /* the sandbox's own uid/gid (default user) */
	struct gb_cgroup cg;  /* resource limits */
	int workdir_userns;   /* idmapping of the workdir, or -1 */
	int idmap_err;        /* why there is none for a user-owned workdir (-errno), or 0 */
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
	struct gb_control *control; /* live policy revisions (control.h) */
	struct gb_policy_local *pl; /* --policy-local: agent proposals (policy_local.h) */
};

/* The sandbox's minimal /dev (rootfs.h) is usable whatever the policy says:
 * Landlock grants these on top of the policy's read_write paths. */
static const char *const dev_always[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
	                                      "/dev/urandom", "/dev/tty", "/dev/pts", "/dev/ptmx" };

/* Denials printed on stderr before only the records carry them. */
#define MAX_DENIALS_SHOWN 20


static int is_default_user(const char *u)
{
	return !u || !*u || !strcmp(u, GB_SANDBOX_USER);
}

/* The default `sandbox` user: a uid/gid of its own for this sandbox
 * (uidalloc.h), named "sandbox" inside through the private root's
 * /etc/passwd.  The workdir is idmapped so that its owner's files are the
 * sandbox's inside and what it writes stays its owner's — unless the owner
 * is root (a root-owned set-id file is never made by a sandbox). */
static int claim_identity(struct run *r, char *err, size_t errlen)
{
	uid_t first = r->o->uid_first ? r->o->uid_first : GB_UID_FIRST;
	uid_t count = r->o->uid_count ? r->o->uid_count : GB_UID_COUNT;
	int rc = gb_uid_claim(r->name, first, count, &r->uid, err, errlen);
	if (rc < 0)
		return rc;
	memset(&r->ident, 0, sizeof r->ident);
	r->ident.uid = r->uid.id;
	r->ident.gid = (gid_t)r->uid.id;
	snprintf(r->ident.user, sizeof r->ident.user, "%s", GB_SANDBOX_USER);
	snprintf(r->ident.home, sizeof r->ident.home, "/nonexistent");
	struct stat st;
	if (r->policy->include_workdir && stat(r->workdir, &st) == 0 && st.st_uid != 0) {
		/* The root group is never handed out: a root-group workdir maps the
		 * owner's primary group instead (none: no idmapping). */
		gid_t g = st.st_gid;
		if (g == 0) {
			struct passwd *pw = getpwuid(st.st_uid);
			g = pw ? pw->pw_gid : 0;
		}
		int fd = g ? gb_uid_idmap_userns(st.st_uid, g, r->ident.uid, r->ident.gid) : -ENODATA;
		if (fd >= 0)
			r->workdir_userns = fd;
		else
			r->idmap_err = fd;
	}
	return 0;
}

/* A user-owned workdir that cannot be idmapped is bound as it is: the
 * sandbox's uid may write there only what the permissions grant others.
 * The usual cause is a chroot, inside which the kernel creates no user
 * namespace (EPERM), and so no idmapping either. */
static void report_no_idmap(struct run *r)
{
	char d[PATH_MAX + 400];
	const char *why = r->idmap_err == -ENODATA ? "its owner has no group but root's to map"
	                  : r->idmap_err == -EPERM ? "no user namespace: inside a chroot the kernel "
	                                             "makes none"
	                                           : strerror(-r->idmap_err);
	snprintf(d, sizeof d, "workdir %s: no idmapping (%s): the sandbox (uid %u) may write there "
	         "only what the directory's permissions grant others, and what it writes is its "
	         "uid's on the host", r->workdir, why, (unsigned)r->ident.uid);
	gb_log_warn(NULL, "%s", d);
	gb_sbx_ev_finding(&r->ev, GB_F_CONTAINMENT_DEGRADED, GB_SEV_MEDIUM, "workdir", d);
}

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

/* Why CMD ended, when a cgroup limit had a hand in it ("" otherwise). */
static void exit_reason(struct run *r, int sig, char *buf, size_t len)
{
	struct gb_cgroup_events e;
	gb_cgroup_read_events(&r->cg, &e);
	buf[0] = 0;
	if (e.oom_kills && sig == SIGKILL)
		snprintf(buf, len, "oom_kill: killed at the memory limit (%llu bytes)",
		         (unsigned long long)r->cg.lim.memory_max);
	else if (e.pids_max)
		snprintf(buf, len, "pids_max: %llu fork(s) refused at the process limit (%llu)",
		         (unsigned long long)e.pids_max, (unsigned long long)r->cg.lim.pids_max);
}

/* After the sandbox: a FINDING for every limit that stopped something. */
static void record_limits(struct run *r)
{
	struct gb_cgroup_events e;
	char d[300];
	gb_cgroup_read_events(&r->cg, &e);
	if (e.oom_kills) {
		snprintf(d, sizeof d, "memory limit reached: %llu process(es) killed by the OOM killer "
		         "(memory.max %llu bytes, swap off)", (unsigned long long)e.oom_kills,
		         (unsigned long long)r->cg.lim.memory_max);
		gb_sbx_ev_finding(&r->ev, GB_F_RESOURCE_LIMIT, GB_SEV_MEDIUM, "memory.max", d);
		gb_log_warn(NULL, "%s", d);
	}
	if (e.pids_max) {
		snprintf(d, sizeof d, "process limit reached: %llu fork(s) refused (pids.max %llu)",
		         (unsigned long long)e.pids_max, (unsigned long long)r->cg.lim.pids_max);
		gb_sbx_ev_finding(&r->ev, GB_F_RESOURCE_LIMIT, GB_SEV_MEDIUM, "pids.max", d);
		gb_log_warn(NULL, "%s", d);
	}
}

/* The cgroup, before the sandbox exists.  A limit the operator asked for
 * (or hard_requirement) must hold; the defaults degrade to a FINDING. */
static int make_cgroup(struct run *r)
{
	const struct gb_supervisor_opts *o = r->o;
	struct gb_cgroup_limits l = {
		.memory_max = o->memory_max < 0 ? GB_DEFAULT_MEMORY_MAX : (uint64_t)o->memory_max,
		.pids_max = o->pids_max < 0 ? GB_DEFAULT_PIDS_MAX : (uint64_t)o->pids_max,
		.cpus = o->cpus < 0 ? GB_DEFAULT_CPUS : o->cpus,
	};
	char err[700];
	int rc = gb_cgroup_create(r->name, &l, &r->cg, err, sizeof err);
	if (rc == 0)
		return 0;
	int explicit = o->memory_max >= 0 || o->pids_max >= 0 || o->cpus >= 0 ||
	               r->policy->landlock == GB_LL_HARD_REQUIREMENT;
	if (explicit) {
		gb_log_error(NULL, "resource limits: %s", err);
		return rc;
	}
	char d[800];
	snprintf(d, sizeof d, "no cgroup (%s): processes, memory and CPU are not bounded", err);
	gb_sbx_ev_finding(&r->ev, GB_F_CONTAINMENT_DEGRADED, GB_SEV_HIGH, "cgroup", d);
	gb_log_warn(NULL, "%s", d);
	return 0;
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
			gb_sbx_ev_proc_launch(&r->ev, r->payload_pid, r->init_pid, r->ident.uid, r->ident.gid,
			                      r->exe, r->sha256, r->o->argv);
		}
		break;
	case GB_MSG_EXIT: {
		r->got_exit = 1;
		r->exit_code = m->a;
		r->exit_signal = m->b;
		char reason[200];
		exit_reason(r, m->b, reason, sizeof reason);
		gb_sbx_ev_proc_exit(&r->ev, r->payload_pid, r->init_pid, r->ident.uid, r->ident.gid, r->exe,
		                    r->sha256, r->o->argv, m->a, m->b,
		                    r->started_ns ? gb_now_ns(CLOCK_MONOTONIC) - r->started_ns : 0, reason);
		break;
	}
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

/* The first connection waits in the backlog of the proxy's socket: start
 * the proxy (sandbox_proxy.h), which accepts it.  If it cannot start, the
 * sandbox has no way out at all: stop it, as at a failed start. */
static void start_proxy(struct run *r)
{
	int rc = gb_sbx_proxy_start(&r->ev);
	if (rc == 0)
		return;
	char d[200];
	snprintf(d, sizeof d, "starting the proxy at the first connection: %s", strerror(-rc));
	gb_log_error(NULL, "%s", d);
	gb_sbx_ev_finding(&r->ev, GB_F_OTHER, GB_SEV_HIGH, "proxy", d);
	if (r->init_pid > 0)
		kill(r->init_pid, SIGKILL);
}

static int wait_msg(struct run *r, uint32_t want, int *child_done)
{
	while (!*child_done || r->ctl >= 0) {
		struct pollfd p[6] = { { .fd = r->sfd, .events = POLLIN },
			                   { .fd = r->audit ? gb_ll_audit_fd(r->audit) : -1, .events = POLLIN },
			                   { .fd = gb_control_fd(r->control), .events = POLLIN },
			                   { .fd = gb_sbx_proxy_pending_fd(&r->ev), .events = POLLIN },
			                   { .fd = r->ctl, .events = POLLIN },
			                   { .fd = gb_policy_local_fd(r->pl), .events = POLLIN } };
		if (poll(p, 6, -1) < 0) { /* a negative fd (ctl closed, no pl, proxy started) is skipped */
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (p[0].revents)
			on_signal(r, child_done);
		if (p[1].revents)
			gb_ll_audit_read(r->audit, on_denial, r);
		if (p[2].revents)
			gb_control_serve(r->control);
		if (p[3].revents && !*child_done)
			start_proxy(r);
		if (p[5].revents)
			gb_policy_local_check(r->pl);
		if (r->ctl >= 0 && p[4].revents) {
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
	size_t nro = r->policy->n_read_only;
	for (size_t i = 0; i < r->n_extra_ro; i++)
		r->ro[nro + i] = r->extra_ro[i].dst;
	struct gb_landlock_spec ll = {
		.read_only = r->ro,
		.n_read_only = nro + r->n_extra_ro,
		.read_write = r->rw,
		.n_read_write = r->n_rw,
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
		.rootfs = {
			.dir = r->rootdir[0] ? r->rootdir : NULL,
			.read_only = (const char *const *)r->policy->read_only,
			.n_read_only = r->policy->n_read_only,
			.read_write = r->rw,
			.n_read_write = r->policy->n_read_write,
			.bind_workdir = r->policy->include_workdir,
			.workdir_userns = r->workdir_userns,
			.extra_ro = r->extra_ro,
			.n_extra_ro = r->n_extra_ro,
			.workdir = r->workdir,
			.uid = r->ident.uid,
			.gid = r->ident.gid,
			.user = r->ident.user,
			.hard = ll.hard,
		},
		.cgroup = &r->cg,
		.ctl_fd = sp[1],
		.seccomp_log = r->audit != NULL,
		.nofile = r->o->files > 0 ? (unsigned long)r->o->files : GB_DEFAULT_FILES,
	};
	fflush(NULL);
	long pid = syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
	                                  CLONE_NEWUTS | SIGCHLD,
	                   NULL, NULL, NULL, 0);
	if (pid == 0)
		gb_sandbox_child(&plan);
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

static void tls_off(struct run *r, const char *why)
{
	gb_log_warn(NULL, "HTTPS inspection is off: %s", why);
	gb_sbx_ev_finding(&r->ev, GB_F_OTHER, GB_SEV_MEDIUM, "tls", why);
}

static int load_creds(struct run *r);

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
	if ((rc = load_policy(r)) < 0)
		return rc;
	char err[512];
	if (is_default_user(r->policy->run_as_user) && is_default_user(r->policy->run_as_group)) {
		rc = claim_identity(r, err, sizeof err);
	} else {
		rc = gb_privdrop_resolve(r->policy->run_as_user, r->policy->run_as_group, &r->ident, err,
		                         sizeof err);
	}
	if (rc < 0) {
		gb_log_error(NULL, "%s", err);
		return rc;
	}
	if (r->ident.created)
		gb_log_info(NULL, "created system user '%s' (uid %u)", r->ident.user, r->ident.uid);
	size_t nrw = r->policy->n_read_write;
	r->rw = calloc(nrw + 2 + sizeof dev_always / sizeof dev_always[0], sizeof *r->rw);
	if (!r->rw)
		return -ENOMEM;
	for (size_t i = 0; i < nrw; i++)
		r->rw[i] = r->policy->read_write[i];
	if (r->policy->include_workdir)
		r->rw[nrw++] = r->workdir;
	for (size_t i = 0; i < sizeof dev_always / sizeof dev_always[0]; i++)
		r->rw[nrw++] = dev_always[i];
	r->n_rw = nrw;
	r->ro = calloc(r->policy->n_read_only + sizeof r->extra_ro / sizeof r->extra_ro[0] + 1,
	               sizeof *r->ro);
	if (!r->ro)
		return -ENOMEM;
	for (size_t i = 0; i < r->policy->n_read_only; i++)
		r->ro[i] = r->policy->read_only[i];
	struct gb_env_opts eo = { .args = o->env_args, .n_args = o->n_env_args,
		                      .files = o->env_files, .n_files = o->n_env_files };
	if ((rc = gb_env_build(&r->env, r->name, &r->ident, r->workdir, &eo, err, sizeof err)) < 0) {
		gb_log_error(NULL, "%s", err);
		return rc;
	}

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
	/* The private root is mounted here, in the sandbox's mount namespace
	 * only: on the host it stays an empty directory (removed with the rest). */
	if (gb_statedir_file(&r->sd, "root", r->rootdir, sizeof r->rootdir) < 0 ||
	    (mkdir(r->rootdir, 0700) < 0 && errno != EEXIST)) {
		gb_log_error(NULL, "state directory for '%s': root: %s", r->name, strerror(errno));
		return -errno;
	}
	rc = gb_sbx_out_open(&r->ev, o->root, &r->sd, r->name);
	if (rc < 0)
		return rc;
	if (r->idmap_err)
		report_no_idmap(r);
	/* HTTPS inspection: the CA's directory now, the CA itself while the
	 * sandbox sets itself up (overlap_setup).  Without a CA the sandbox still
	 * runs, and the proxy refuses the tunnels it would have had to inspect. */
	char terr[512];
	if (gb_sbx_tls_prepare(&r->ev, r->o->root, r->name, &r->env, terr, sizeof terr) < 0)
		tls_off(r, terr);
	else /* read-only at the same path inside; the key (state directory) is not there */
		r->extra_ro[r->n_extra_ro++] = (struct gb_bind){ .src = r->ev.tls_dir, .dst = r->ev.tls_dir };
	return load_creds(r);
}

/* Provider credentials: the secrets stay here (the proxy rewrites
 * placeholders), the workload's variables get placeholders. */
static int load_creds(struct run *r)
{
	char err[600];
	int rc = gb_creds_load(r->o->creds, r->o->n_creds, &r->ev.creds, err, sizeof err);
	for (size_t i = 0; rc == 0 && i < gb_creds_count(r->ev.creds); i++) {
		char ph[GB_CRED_NAME_MAX + 32];
		gb_creds_placeholder(r->ev.creds, i, ph, sizeof ph);
		rc = gb_env_set_placeholder(&r->env, gb_creds_spec(r->ev.creds, i)->env, ph, err, sizeof err);
	}
	if (rc < 0)
		gb_log_error(NULL, "%s", err);
	else if (r->o->n_creds)
		gb_log_info(NULL, "%zu credential(s) held by the proxy; the sandbox sees placeholders",
		            r->o->n_creds);
	return rc;
}

/* Work that needs no answer from the sandbox, done while its init builds
 * the private root on another CPU: the executable's hash (for the PROC
 * launch record) and the CA (certificates written into the directory
 * already bound inside).  Both are done before the workload may start. */
static void overlap_setup(struct run *r)
{
	gb_sha256_file(r->exe, r->sha256); /* "" when unreadable: the record says so */
	char terr[512];
	if (r->ev.tls_dir[0] && gb_sbx_tls_start(&r->ev, &r->sd, r->o->upstream_ca, terr, sizeof terr) < 0)
		tls_off(r, terr);
}

/* Join the audit stream before the workload can be denied anything. */
static void start_audit(struct run *r)
{
	int enabled = 0;
	int rc = gb_ll_audit_open(&r->audit, &enabled);
	if (rc == -EXDEV) {
		/* Said plainly, on stderr too: this is a deployment choice (the
		 * supervisor's own namespace) that costs the denial records. */
		const char *d = "the supervisor runs outside the initial network namespace and cannot "
		                "enter it; the kernel delivers audit records only there: Landlock and "
		                "seccomp denials are enforced but not recorded";
		gb_log_warn(NULL, "%s", d);
		r->audit = NULL;
		gb_sbx_ev_finding(&r->ev, GB_F_LANDLOCK_DEGRADED, GB_SEV_MEDIUM, "audit", d);
		return;
	}
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
 * reported deallocated, or (no denial named a domain) our end mark came
 * back behind them (landlock_audit.h); without a mark, until nothing came
 * for a moment.  Bounded either way.  The mark saves the quiet wait (30 ms
 * of every run: most of a sandbox's start-to-end cost). */
static void drain_audit(struct run *r)
{
	if (!r->audit)
		return;
	uint64_t until = gb_now_ns(CLOCK_MONOTONIC) + 500000000u;
	int quiet_ms = 0;
	int marked = gb_ll_audit_mark(r->audit, r->name) == 0;
	gb_ll_audit_read(r->audit, on_denial, r);
	while (gb_ll_audit_domain_state(r->audit) != 1 && gb_now_ns(CLOCK_MONOTONIC) < until) {
		if (marked && gb_ll_audit_mark_seen(r->audit) && gb_ll_audit_domain_state(r->audit) == -1)
			break;
		struct pollfd p = { .fd = gb_ll_audit_fd(r->audit), .events = POLLIN };
		int n = poll(&p, 1, 10);
		if (n > 0) {
			quiet_ms = 0;
			gb_ll_audit_read(r->audit, on_denial, r);
		} else if ((quiet_ms += 10) >= 30 && !marked && gb_ll_audit_domain_state(r->audit) == -1) {
			break;
		}
	}
	gb_ll_audit_flush(r->audit, on_denial, r);
}

/* The layers the sandbox reported, plus those the supervisor set up. */
static uint32_t layers_of(const struct run *r)
{
	if (!r->have_posture)
		return 0;
	return (uint32_t)r->posture.a | (r->cg.version ? GB_LAYER_CGROUP : 0) |
	       (r->uid.lock_fd >= 0 ? GB_LAYER_OWN_UID : 0);
}

static void finish_posture(struct run *r)
{
	uint32_t layers = layers_of(r);
	if (r->cg.version) {
		r->ev.limits.memory_max = r->cg.lim.memory_max;
		r->ev.limits.pids_max = r->cg.lim.pids_max;
		r->ev.limits.cpu_milli = (uint32_t)(r->cg.lim.cpus * 1000.0 + 0.5);
	}
	r->ev.limits.nofile = r->o->files > 0 ? (uint64_t)r->o->files : 0;
	gb_sbx_ev_lifecycle(&r->ev, GB_LC_STARTED, layers, (uint32_t)r->posture.b,
	                    r->ident.uid, r->ident.gid, r->posture.text, GB_SECCOMP_MODE_TEXT,
	                    r->ident.user, r->workdir);
}

/* stdin/stdout/stderr must be open: otherwise the control socket could
 * land on fd 0-2 and be taken for the workload's stdio. */
/* The proxy holds 2 descriptors per connection (two sockets; its relay
 * pipes are lent only while bytes are in flight) and sizes its connection
 * limit from this one: take the whole hard limit the operator granted, as
 * `glassbox proxy` does.  With the soft limit shells and services hand out (1024)
 * tunnel ~170 was refused "out of pipes" (integration.fault_tunnels).
 * Called after the clone: the sandbox keeps the limits it inherited (or
 * --files). */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			gb_log_warn(NULL, "raising the open-file limit to %llu: %s", (unsigned long long)rl.rlim_max,
			            strerror(errno));
	}
}

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
	struct run r = { .o = o, .ctl = -1, .sfd = -1, .listen_fd = -1, .status = GB_EXIT_SETUP,
		             .workdir_userns = -1, .uid = { .lock_fd = -1 } };
	sigset_t set, old;
	int child_done = 0;
	char err[512];
	r.sd.lock_fd = -1;
	sigemptyset(&old);
	ensure_stdio();
	/* OpenSSL (the policy hash, the CA, the proxy's TLS) without its atexit
	 * cleanup (freeing every table at exit cost ~0.6 ms of each run, for a
	 * process that is about to end anyway) and with openssl.cnf applied at
	 * the proxy's first TLS context, not here (tls.h: ~0.7 ms a start). */
	gb_tls_init_deferred_config();
	/* Random bytes (the CA's key and serial, later the proxy's TLS) from
	 * SP 800-90A's Hash_DRBG over SHA-256 instead of the default CTR_DRBG:
	 * the digest is loaded already (the policy hash), while CTR_DRBG's
	 * first use builds OpenSSL's whole cipher table to find AES-256-CTR
	 * (~0.5 ms of CPU at every start).  Before any random byte is drawn;
	 * should it fail, the default stays. */
	if (RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL, "SHA256") != 1)
		ERR_clear_error();
	if (o->quiet)
		gb_log_set_level(GB_LOG_ERROR);
	/* First thing, so that a signal during the (uid, cgroup, policy)
	 * preparation stays pending and cancels the start instead of being
	 * lost.  An ignored signal is discarded even while blocked, and shells
	 * start background jobs with SIGINT/SIGQUIT ignored: take them back. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (size_t i = 0; i < GB_ARRAY_LEN(fwd_signals); i++) {
		sigaddset(&set, fwd_signals[i]);
		sigaction(fwd_signals[i], &dfl, NULL);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	int rc = prepare(&r);
	if (rc < 0)
		goto out_mask;
	gb_sbx_ev_lifecycle(&r.ev, GB_LC_CREATED, 0, 0, r.ident.uid, r.ident.gid, "", "",
	                    r.ident.user, r.workdir);
	gb_sbx_ev_config_loaded(&r.ev, o->policy_path, r.policy->sha256);
	if ((rc = make_cgroup(&r)) < 0)
		goto out_mask;

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
	raise_nofile();
	/* Init is in the cgroup before it can fork (v2: moved here; v1: it
	 * joins itself first thing): CMD and all its descendants are inside,
	 * the supervisor never is. */
	if (gb_cgroup_add(&r.cg, r.init_pid, err, sizeof err) < 0) {
		gb_log_error(NULL, "%s", err);
		kill(r.init_pid, SIGKILL);
		while (!child_done)
			wait_msg(&r, 0, &child_done);
		r.status = GB_EXIT_SETUP;
		goto out_mask;
	}
	if (r.audit) {
		gb_ll_audit_watch(r.audit, r.init_pid);
		if (r.uid.lock_fd >= 0)
			gb_ll_audit_own_uid(r.audit, r.ident.uid);
	}
	/* Everything that needs no answer from the sandbox is done while its
	 * init builds the private root (on the other CPU when there is one):
	 * the supervisor's own prelude (it mounts nothing and loads no kernel
	 * code from here on: the sandbox is a process of its own already), the
	 * exe hash and the CA, the inference routes.  When they came after
	 * READY, the sandbox's init waited idle for them (bench_run). */
	if (gb_seccomp_prelude(1, err, sizeof err) < 0) {
		gb_log_error(NULL, "%s", err);
		kill(r.init_pid, SIGKILL);
		goto out_wait;
	}
	overlap_setup(&r);
	char ierr[700];
	if (gb_inference_new(&r.ev.inference) == 0 &&
	    gb_inference_load_default(r.ev.inference, o->root, ierr, sizeof ierr) < 0)
		gb_log_warn("inference", "the host default route is not used: %s", ierr);
	r.ev.learn = o->learn;
	char pl_path[PATH_MAX + 64];
	snprintf(pl_path, sizeof pl_path, "%s/%s/%s", r.workdir, GB_POLICY_LOCAL_DIR,
	         GB_POLICY_LOCAL_FILE); /* the workdir is at the same path inside */
	r.ev.policy_local_path = o->policy_local ? pl_path : NULL;
	if (o->learn) {
		gb_log_warn(NULL, "learn mode: network denials a rule could fix are let through and "
		            "recorded as audit (would deny); `glassbox advisor %s --export FILE` writes "
		            "the policy they need", r.name);
		gb_sbx_ev_finding(&r.ev, GB_F_CONTAINMENT_DEGRADED, GB_SEV_MEDIUM, "learn mode",
		                  "network policy not enforced: denials a rule could fix are let through "
		                  "and recorded as audit (would deny); SSRF refusals still hold");
	}
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
	/* The proxy itself starts with the first connection (wait_msg). */
	rc = gb_sbx_proxy_prepare(&r.ev, r.listen_fd, r.init_pid, r.policy, o->hosts_file,
	                          o->internal_needs_allowed_ips);
	r.listen_fd = -1; /* owned by sandbox_proxy.h now (closed on failure) */
	if (rc < 0) {
		gb_log_error(NULL, "starting the proxy: %s", strerror(-rc));
		kill(r.init_pid, SIGKILL);
		goto out_wait;
	}
	if (r.cancel_sig)
		goto out_wait;
	if ((rc = gb_control_open(&r.control, &r.sd, &r.ev, r.policy, o->policy_path)) < 0)
		gb_log_warn(NULL, "control socket: %s: the policy cannot change while this sandbox "
		            "runs", strerror(-rc));
	if (o->policy_local && (rc = gb_policy_local_open(&r.pl, &r.ev, r.workdir)) < 0)
		gb_log_warn(NULL, "--policy-local: %s: agent proposals are off", strerror(-rc));
	if (r.pl) { /* http://policy.local: the proxy starts with the first connection */
		gb_policy_local_set_decider(r.pl, o->policy_local_decision,
		                            o->policy_local_decision_ctx, r.name);
		r.ev.policy_local = gb_policy_local_hooks(r.pl);
	}
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
	record_limits(&r);
	gb_control_close(r.control);
	r.control = NULL;
	gb_sbx_proxy_stop(&r.ev);
	gb_policy_local_close(r.pl); /* after the proxy: it borrowed the hooks */
	r.pl = NULL;
	gb_sbx_tls_stop(&r.ev); /* after the proxy: it borrowed the CA */
	gb_sbx_ev_lifecycle(&r.ev, GB_LC_STOPPED, layers_of(&r),
	                    (uint32_t)r.posture.b, r.ident.uid, r.ident.gid, r.posture.text,
	                    GB_SECCOMP_MODE_TEXT, r.ident.user, r.workdir);
out_mask:
	if (r.sfd >= 0)
		close(r.sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r.ctl >= 0)
		close(r.ctl);
	if (r.listen_fd >= 0)
		close(r.listen_fd);
	gb_ll_audit_close(r.audit);
	gb_sbx_tls_stop(&r.ev); /* idempotent: also on the early exits */
	gb_creds_free(r.ev.creds); /* after the proxy, which borrowed them; wipes the secrets */
	r.ev.creds = NULL;
	gb_sbx_out_close(&r.ev);
	gb_statedir_release(&r.sd);
	gb_policy_free(r.policy);
	free(r.rw);
	free(r.ro);
	if (r.workdir_userns >= 0)
		close(r.workdir_userns);
	gb_uid_release(&r.uid);
	gb_cgroup_destroy(&r.cg);
	gb_env_free(&r.env);
	return r.status;
}
