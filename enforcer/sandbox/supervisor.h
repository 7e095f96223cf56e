/* enforcer/sandbox/supervisor.h — `glassbox run`: one supervisor per sandbox.
 *
 * gb_supervisor_run() claims the sandbox's state directory (cleaning stale
 * state of a dead supervisor), loads the policy, resolves the sandbox user,
 * claims the sandbox's own uid (uidalloc.h), creates its cgroup (cgroup.h),
 * clones the sandbox child into new mount, pid, net, ipc and uts namespaces
 * (sandbox_run.h) and moves it into the cgroup, receives the proxy's listening socket from inside the
 * namespace, installs its own prelude seccomp filter, lets the workload
 * start, forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to it,
 * and returns once the sandbox is gone with the status to exit with:
 * CMD's exit code, 128+N when CMD was killed by signal N, 125 when the
 * sandbox could not be set up, 126/127 when CMD could not be executed /
 * found.  The state directory is removed before returning.
 *
 * Must run as root (namespaces, privilege drop).  Not thread-safe; call
 * once per process: it changes the signal mask and seccomp state of the
 * calling process.
 */
#ifndef GB_ENFORCER_SUPERVISOR_H
#define GB_ENFORCER_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/cred_spec.h"

struct gb_supervisor_opts {
	const char *root;        /* --root, or NULL */
	const char *name;        /* NULL = generated "gb-XXXXXXXX" */
	const char *policy_path; /* required (the CLI supplies the default) */
	const char *workdir;     /* NULL = current directory */
	const char *hosts_file;  /* proxy resolver override; NULL = /etc/hosts */
	const char *upstream_ca; /* extra CA file for upstream TLS (inspected HTTPS), or NULL */
	char *const *argv;       /* CMD ARG..., NULL-terminated, argv[0] required */
	int quiet;               /* no informational messages on stderr */
	const char *const *env_args;  /* --env NAME[=VALUE], in order (env.h) */
	size_t n_env_args;
	const char *const *env_files; /* --env-file FILE, in order */
	size_t n_env_files;
	unsigned uid_first, uid_count; /* --uid-range; 0 = limits.h defaults */
	/* --memory / --pids / --cpus (or the daemon config's sandbox: section):
	 * -1 = the default of limits.h, 0 = no limit.  An explicit limit that
	 * cannot be applied fails the start. */
	int64_t memory_max;      /* bytes */
	int64_t pids_max;
	double cpus;
	int64_t files;           /* RLIMIT_NOFILE of CMD (soft = hard); -1 = inherited */
	int internal_needs_allowed_ips; /* proxy.h: internal addresses need allowed_ips */
	/* Provider credentials (common/cred_spec.h): the daemon config's and
	 * --credential's; the secrets are read at start, the workload's
	 * environment gets placeholders (enforcer/proxy/cred.h). */
	const struct gb_cred_spec *creds;
	size_t n_creds;
	int policy_local;        /* --policy-local: the agent may propose rules in
	                          * <workdir>/.glassbox/policy.local.yaml (policy_local.h)
	                          * and at http://policy.local */
	/* --policy-local: how the proxy learns the daemon's decision on an
	 * agent proposal (the CLI asks the API; NULL = only "in force" is known) */
	int (*policy_local_decision)(void *ctx, const char *sandbox, const char *key,
	                             const char *yaml, char *status, size_t sn, char *reason,
	                             size_t rn, long long *id);
	void *policy_local_decision_ctx;
	int learn;               /* --learn: network denials a rule could fix are let through,
	                          * recorded as audit (would deny), for the advisor's export */
};

int gb_supervisor_run(const struct gb_supervisor_opts *o);

#endif
