/* cli/cmd_run.c — `glassbox run [--name N] [--policy FILE] [--workdir DIR]
 * [--hosts FILE] [--quiet] [--] CMD [ARG...]`.  All the work is in enforcer/supervisor.c. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#include "cli/commands.h"
#include "common/array.h"
#include "common/paths.h"
#include "enforcer/sandbox/supervisor.h"

static void run_usage(FILE *f)
{
	fprintf(f,
	    "usage: glassbox run [--name N] [--policy FILE] [--workdir DIR] [--hosts FILE] [--quiet]\n"
	    "                    [--] CMD [ARG...]\n"
	    "\n"
	    "Run CMD in a new sandbox (mount, pid, net, ipc, uts namespaces; unprivileged user;\n"
	    "Landlock; seccomp) whose only way out is the policy proxy at 127.0.0.1:3128.\n"
	    "Exits with CMD's status, 128+N when CMD was killed by signal N, 125 when the\n"
	    "sandbox could not be set up, 126/127 when CMD could not be run / was not found.\n"
	    "\n"
	    "  --name N        sandbox name (default: generated); state in <root>/" GB_REL_SANDBOXES "/N\n"
	    "  --policy FILE   policy (default: policies/default.yaml of the installation)\n"
	    "  --workdir DIR   working directory of CMD, writable when include_workdir (default: .)\n"
	    "  --hosts FILE    hosts file the proxy consults before DNS (default: /etc/hosts)\n"
	    "  --quiet         no informational messages\n"
	    "  --serve         start the host daemon (glassbox serve) for this run when none is\n"
	    "                  running, so events reach the journal with no second terminal\n");
}

/* The default policy: the installed data dir first, else the source tree
 * this binary was built from. */
static const char *default_policy(void)
{
	static const char *const cands[] = {
		GB_INSTALL_DATADIR "/policies/default.yaml",
		GB_SOURCE_DATADIR "/policies/default.yaml",
	};
	for (size_t i = 0; i < GB_ARRAY_LEN(cands); i++)
		if (access(cands[i], R_OK) == 0)
			return cands[i];
	return NULL;
}

/* Is glassbox serve running for this root?  It holds serve.lock. */
static int daemon_alive(void)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/run/glassbox/serve.lock", gb_globals.root ? gb_globals.root : "");
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

/* `--serve`: the daemon as our child, in its own process group (a ^C is
 * for the workload; the daemon is stopped after the sandbox, once it has
 * drained the ring).  Its pid, or -1. */
static pid_t start_daemon(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			if (!gb_log_enabled(GB_LOG_DEBUG)) { /* -v shows the daemon's messages */
				dup2(null, 1);
				dup2(null, 2);
			}
			if (null > 2)
				close(null);
		}
		char *args[6];
		int n = 0;
		args[n++] = "glassbox";
		if (gb_globals.root) {
			args[n++] = "--root";
			args[n++] = (char *)gb_globals.root;
		}
		args[n++] = "serve";
		args[n] = NULL;
		execv("/proc/self/exe", args);
		_exit(127);
	}
	char sock[4200];
	snprintf(sock, sizeof sock, "%s/run/glassbox/api.sock", gb_globals.root ? gb_globals.root : "");
	for (int i = 0; i < 500 && !daemon_alive(); i++) { /* at most 5 s */
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			gb_log_error(NULL, "--serve: the daemon exited at start (glassbox serve says why)");
			return -1;
		}
		struct timespec d = { 0, 10000000 };
		nanosleep(&d, NULL);
	}
	struct stat sb;
	for (int i = 0; i < 200 && stat(sock, &sb) < 0; i++) {
		struct timespec d = { 0, 10000000 };
		nanosleep(&d, NULL);
	}
	return pid;
}

static void stop_daemon(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

int cmd_run(int argc, char **argv)
{
	int serve = 0;
	struct gb_supervisor_opts o = { .root = gb_globals.root };
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			run_usage(stdout);
			return 0;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			o.quiet = 1;
		} else if (!strcmp(a, "--serve")) {
			serve = 1;
		} else if ((!strcmp(a, "--name") || !strcmp(a, "--policy") || !strcmp(a, "--workdir") ||
		            !strcmp(a, "--hosts")) && i + 1 < argc) {
			const char *v = argv[++i];
			if (a[2] == 'n')
				o.name = v;
			else if (a[2] == 'p')
				o.policy_path = v;
			else if (a[2] == 'h')
				o.hosts_file = v;
			else
				o.workdir = v;
		} else if (!strncmp(a, "--name=", 7)) {
			o.name = a + 7;
		} else if (!strncmp(a, "--policy=", 9)) {
			o.policy_path = a + 9;
		} else if (!strncmp(a, "--workdir=", 10)) {
			o.workdir = a + 10;
		} else if (!strncmp(a, "--hosts=", 8)) {
			o.hosts_file = a + 8;
		} else if (a[0] == '-') {
			gb_log_error("run", "unknown option '%s' (or missing value)", a);
			run_usage(stderr);
			return 2;
		} else {
			break;
		}
	}
	if (i >= argc) {
		gb_log_error("run", "no command given");
		run_usage(stderr);
		return 2;
	}
	o.argv = argv + i;
	/* Checked here for a clear message; the proxy reads it at start. */
	if (o.hosts_file && access(o.hosts_file, R_OK) < 0) {
		gb_log_error("run", "--hosts %s: %s", o.hosts_file, strerror(errno));
		return 2;
	}
	if (!o.policy_path) {
		o.policy_path = default_policy();
		if (!o.policy_path) {
			gb_log_error("run", "no --policy given and no default policy found in %s or %s",
			             GB_INSTALL_DATADIR "/policies", GB_SOURCE_DATADIR "/policies");
			return 1;
		}
	}
	pid_t daemon = 0;
	if (!daemon_alive()) {
		if (serve && geteuid() == 0) {
			daemon = start_daemon();
			if (daemon < 0)
				return 1;
		} else if (!o.quiet) {
			gb_log_warn(NULL, "no glassbox daemon is running: the sandbox's events wait in its "
			            "ring, and those no daemon reads before it ends are lost (start "
			            "`glassbox serve`, or run with --serve)");
		}
	}
	int rc = gb_supervisor_run(&o);
	stop_daemon(daemon);
	return rc;
}
