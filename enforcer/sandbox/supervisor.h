/* enforcer/sandbox/supervisor.h — `glassbox run`: one supervisor per sandbox.
 *
 * gb_supervisor_run() claims the sandbox's state directory (cleaning stale
 * state of a dead supervisor), loads the policy, resolves the sandbox user,
 * clones the sandbox child into new mount, pid, net, ipc and uts namespaces
 * (sandbox_run.h), receives the proxy's listening socket from inside the
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

struct gb_supervisor_opts {
	const char *root;        /* --root, or NULL */
	const char *name;        /* NULL = generated "gb-XXXXXXXX" */
	const char *policy_path; /* required (the CLI supplies the default) */
	const char *workdir;     /* NULL = current directory */
	const char *hosts_file;  /* proxy resolver override; NULL = /etc/hosts */
	const char *upstream_ca; /* extra CA file for upstream TLS (inspected HTTPS), or NULL */
	char *const *argv;       /* CMD ARG..., NULL-terminated, argv[0] required */
	int quiet;               /* no informational messages on stderr */
};

int gb_supervisor_run(const struct gb_supervisor_opts *o);

#endif
