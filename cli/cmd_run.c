/* cli/cmd_run.c — `glassbox run [--name N] [--policy FILE] [--workdir DIR]
 * [--hosts FILE] [--quiet] [--] CMD [ARG...]`.  All the work is in enforcer/supervisor.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/array.h"
#include "common/paths.h"
#include "enforcer/sandbox/supervisor.h"
#include "common/log.h"

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
	    "  --upstream-ca FILE  CA file trusted for upstream HTTPS servers besides the system store\n"
	    "  --quiet         no informational messages\n");
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

int cmd_run(int argc, char **argv)
{
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
		} else if (!strcmp(a, "--upstream-ca") && i + 1 < argc) {
			o.upstream_ca = argv[++i];
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
	if (o.upstream_ca && access(o.upstream_ca, R_OK) < 0) {
		fprintf(stderr, "glassbox run: --upstream-ca %s: %s\n", o.upstream_ca, strerror(errno));
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
	return gb_supervisor_run(&o);
}
