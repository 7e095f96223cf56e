/* cli/cmd_run.c — `glassbox run [--name N] [--policy FILE] [--workdir DIR]
 * [--hosts FILE] [--env NAME[=VALUE]]... [--env-file FILE]... [--credential SPEC]...
 * [--quiet] [--serve] [--learn] [--policy-local] [--] CMD [ARG...]`.
 * All the work is in enforcer/sandbox/supervisor.c.  The daemon config
 * (exporter/config.h) gives the defaults a flag overrides — its `sandbox:`
 * section: limits, the upstream CA, internal_needs_allowed_ips — and the
 * credentials --credential adds to. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/run_policy_local.h"
#include "common/array.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/cred_spec.h"
#include "enforcer/sandbox/cgroup.h"
#include "enforcer/sandbox/limits.h"
#include "exporter/config.h"
#include "enforcer/sandbox/supervisor.h"

static void run_usage(FILE *f)
{
	fprintf(f,
	    "usage: glassbox run [--name N] [--policy FILE] [--workdir DIR] [--hosts FILE] [--quiet]\n"
	    "                    [--serve] [--learn] [--policy-local] [--config FILE]\n"
	    "                    [--env NAME[=VALUE]]... [--env-file FILE]...\n"
	    "                    [--memory SIZE] [--pids N] [--cpus N] [--files N]\n"
	    "                    [--upstream-ca FILE] [--internal-needs-allowed-ips]\n"
	    "                    [--uid-range FIRST-LAST]\n"
	    "                    [--credential NAME[:VAR]=FILE@HOST[:PORT][,...]]... [--] CMD [ARG...]\n"
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
	    "  --config FILE   daemon config whose sandbox: section gives the defaults below and\n"
	    "                  whose credentials: are used; a file that does not load stops the run\n"
	    "                  (default <root>/" GB_REL_CONFIG ", when it exists); a flag wins\n"
	    "  --upstream-ca FILE  CA file trusted for upstream HTTPS servers besides the system\n"
	    "                  store (config: sandbox.upstream_ca)\n"
	    "  --internal-needs-allowed-ips  connect to an internal address only when the\n"
	    "                  endpoint's allowed_ips covers it, also for an exactly named host\n"
	    "                  (config: sandbox.internal_needs_allowed_ips)\n"
	    "  --env NAME[=VALUE]  add NAME to CMD's environment (bare NAME: the caller's value);\n"
	    "                  the environment otherwise starts empty but for PATH, LANG, LC_*,\n"
	    "                  TERM, COLORTERM, TZ, COLUMNS, LINES, NO_COLOR (see docs/sandbox.md)\n"
	    "  --env-file FILE NAME=VALUE lines ('#' comments) added before the --env options\n"
	    "  --credential NAME[:VAR]=FILE@HOST[:PORT][,HOST[:PORT]...]\n"
	    "                  a provider credential the sandbox never holds: FILE (root-owned,\n"
	    "                  0600) holds the secret, VAR (default NAME) gets the placeholder\n"
	    "                  glassbox:credential:NAME, which the proxy replaces in HTTPS request\n"
	    "                  headers toward the HOSTs only (PORT 443, '*.domain' globs); adds to\n"
	    "                  the daemon config's credentials: (same NAME: this one wins); see\n"
	    "                  docs/credentials.md\n"
	    "  --memory SIZE   memory limit of the sandbox's cgroup, swap off (e.g. 512M; max: none;\n"
	    "                  default: config sandbox.memory, else 4G)\n"
	    "  --pids N        process limit (max: none; default: config sandbox.pids, else 1024)\n"
	    "  --cpus N        CPU limit in CPUs, e.g. 1.5 (0: none; default: config sandbox.cpus,\n"
	    "                  else none)\n"
	    "  --files N       open-file limit (RLIMIT_NOFILE) of CMD (default: config\n"
	    "                  sandbox.files, else inherited)\n"
	    "  --uid-range FIRST-LAST  uids/gids given to sandboxes (default 1879048192-1879113727)\n"
	    "  --learn         learn mode: network denials a rule could fix are let through and\n"
	    "                  recorded as audit (would deny); then `glassbox advisor N --export\n"
	    "                  FILE` writes the minimal policy (SSRF refusals still hold)\n"
	    "  --policy-local  the agent may propose rules: network_policies entries written to\n"
	    "                  <workdir>/.glassbox/policy.local.yaml become advisor proposals\n"
	    "                  (agent-authored, reviewed like any other; never applied alone)\n"
	    "  --quiet         no informational messages\n"
	    "  --serve         start the host daemon (glassbox serve) for this run when none is\n"
	    "                  running, so events reach the journal with no second terminal\n");
}

/* The daemon config under what the flags left unset: its sandbox:
 * section, its credentials (then --credential's over them).  An explicit
 * --config must exist; the default file is optional.  A bad file stops the
 * run (exit 2): its limits or credentials would otherwise be silently
 * dropped. */
static int add_cred(struct gb_cred_spec *v, size_t *n, const struct gb_cred_spec *s);

static int apply_config(const char *file, struct gb_supervisor_opts *o, struct gb_daemon_config *cfg,
                        struct gb_cred_spec *creds, size_t *n_creds, const struct gb_cred_spec *fcreds,
                        size_t n_fcreds)
{
	char defpath[GB_PATH_MAX];
	if (!file && gb_path_config(defpath, sizeof defpath, gb_globals.root) < 0) {
		gb_log_error("run", "--root: %s", strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	/* No file, nothing to do: skip even the defaults (a large struct,
	 * every page touched, on every sandbox start). */
	struct stat st;
	if (!file && stat(defpath, &st) < 0 && errno == ENOENT)
		goto flags;
	gb_daemon_config_defaults(cfg, gb_globals.root);
	struct gb_diags d = { 0 };
	int rc = gb_daemon_config_load(cfg, file ? file : defpath, file != NULL, &d);
	gb_diags_print(&d, stderr);
	gb_diags_free(&d);
	if (rc < 0) {
		if (rc != -EINVAL)
			gb_log_error("run", "config %s: %s", file ? file : defpath, strerror(-rc));
		return rc;
	}
	const struct gb_run_defaults *r = &cfg->run;
	if (o->memory_max < 0)
		o->memory_max = r->memory_max;
	if (o->pids_max < 0)
		o->pids_max = r->pids_max;
	if (o->cpus < 0)
		o->cpus = r->cpus;
	if (o->files < 0)
		o->files = r->files;
	if (!o->upstream_ca && r->upstream_ca[0])
		o->upstream_ca = r->upstream_ca;
	if (!o->internal_needs_allowed_ips && r->internal_needs_allowed_ips > 0)
		o->internal_needs_allowed_ips = 1;
	for (size_t i = 0; i < cfg->n_creds; i++)
		if (add_cred(creds, n_creds, &cfg->creds[i]) < 0)
			return -E2BIG;
flags:
	for (size_t i = 0; i < n_fcreds; i++)
		if (add_cred(creds, n_creds, &fcreds[i]) < 0)
			return -E2BIG;
	return 0;
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
	char p[GB_PATH_MAX];
	if (gb_path_serve_lock(p, sizeof p, gb_globals.root) < 0)
		return 0;
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
	char sock[GB_PATH_MAX];
	if (gb_path_api_sock(sock, sizeof sock, gb_globals.root) < 0)
		sock[0] = 0; /* then no wait for it below */
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
	for (int i = 0; i < 200 && sock[0] && stat(sock, &sb) < 0; i++) {
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

/* Into the list of credentials: a name given again replaces the earlier
 * entry (the daemon config's first, then --credential's). */
static int add_cred(struct gb_cred_spec *v, size_t *n, const struct gb_cred_spec *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(v[i].name, s->name)) {
			v[i] = *s;
			return 0;
		}
	if (*n == GB_CRED_MAX) {
		gb_log_error("run", "at most %d credentials", GB_CRED_MAX);
		return -1;
	}
	v[(*n)++] = *s;
	return 0;
}

/* `--opt VALUE` or `--opt=VALUE`: the value, advancing *i; NULL when a
 * does not name opt. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
	const char *a = argv[*i];
	size_t l = strlen(opt);
	if (strncmp(a, opt, l))
		return NULL;
	if (a[l] == '=')
		return a + l + 1;
	if (a[l] == 0 && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int cmd_run(int argc, char **argv)
{
	int serve = 0;
	pid_t daemon = 0; /* --serve's, stopped after the run */
	struct gb_supervisor_opts o = { .root = gb_globals.root, .memory_max = -1, .pids_max = -1,
		                            .cpus = -1, .files = -1 };
	const char *config = NULL;
	/* Large (the sinks); o.upstream_ca may point into it. */
	struct gb_daemon_config *cfg = malloc(sizeof *cfg);
	/* At most argc of each list. */
	const char **env_args = calloc((size_t)argc + 1, sizeof *env_args);
	const char **env_files = calloc((size_t)argc + 1, sizeof *env_files);
	/* the final list (the config's, then --credential's) and the flags' */
	struct gb_cred_spec *creds = calloc(GB_CRED_MAX, sizeof *creds);
	struct gb_cred_spec *fcreds = calloc(GB_CRED_MAX, sizeof *fcreds);
	size_t n_creds = 0, n_fcreds = 0;
	int rc = 2;
	if (!env_args || !env_files || !creds || !fcreds || !cfg) {
		gb_log_error("run", "out of memory");
		goto out;
	}
	o.env_args = env_args;
	o.env_files = env_files;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			run_usage(stdout);
			rc = 0;
			goto out;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			o.quiet = 1;
		} else if (!strcmp(a, "--serve")) {
			serve = 1;
		} else if (!strcmp(a, "--internal-needs-allowed-ips")) {
			o.internal_needs_allowed_ips = 1;
		} else if ((v = opt_value(argc, argv, &i, "--config"))) {
			config = v;
		} else if (!strcmp(a, "--learn")) {
			o.learn = 1;
		} else if (!strcmp(a, "--policy-local")) {
			o.policy_local = 1;
			o.policy_local_decision = gb_run_pl_decision; /* http://policy.local's wait */
			o.policy_local_decision_ctx = (void *)gb_globals.root;
		} else if ((v = opt_value(argc, argv, &i, "--name"))) {
			o.name = v;
		} else if ((v = opt_value(argc, argv, &i, "--policy"))) {
			o.policy_path = v;
		} else if ((v = opt_value(argc, argv, &i, "--workdir"))) {
			o.workdir = v;
		} else if ((v = opt_value(argc, argv, &i, "--hosts"))) {
			o.hosts_file = v;
		} else if ((v = opt_value(argc, argv, &i, "--upstream-ca"))) {
			o.upstream_ca = v;
		} else if ((v = opt_value(argc, argv, &i, "--env-file"))) {
			env_files[o.n_env_files++] = v;
		} else if ((v = opt_value(argc, argv, &i, "--env"))) {
			env_args[o.n_env_args++] = v;
		} else if ((v = opt_value(argc, argv, &i, "--credential"))) {
			struct gb_cred_spec s;
			char cerr[600];
			if (gb_cred_spec_parse_arg(v, &s, cerr, sizeof cerr) < 0) {
				gb_log_error("run", "%s", cerr);
				goto out;
			}
			if (add_cred(fcreds, &n_fcreds, &s) < 0)
				goto out;
		} else if ((v = opt_value(argc, argv, &i, "--memory"))) {
			uint64_t b;
			if (gb_cgroup_parse_size(v, &b) < 0 || b > INT64_MAX) {
				gb_log_error("run", "--memory %s: expected a size (512M, 2G) or max", v);
				goto out;
			}
			o.memory_max = (int64_t)b;
		} else if ((v = opt_value(argc, argv, &i, "--pids"))) {
			char *end;
			long long n = strtoll(v, &end, 10);
			if (!strcmp(v, "max")) {
				n = 0;
			} else if (*end || end == v || n < 0) {
				gb_log_error("run", "--pids %s: expected a number or max", v);
				goto out;
			}
			o.pids_max = n;
		} else if ((v = opt_value(argc, argv, &i, "--cpus"))) {
			char *end;
			double c = strtod(v, &end);
			if (*end || end == v || !(c >= 0) || c > 4096) {
				gb_log_error("run", "--cpus %s: expected a number of CPUs (1.5)", v);
				goto out;
			}
			o.cpus = c;
		} else if ((v = opt_value(argc, argv, &i, "--files"))) {
			char *end;
			long long n = strtoll(v, &end, 10);
			if (*end || end == v || n < 16 || n > (1 << 20)) {
				gb_log_error("run", "--files %s: expected an open-file limit 16-1048576", v);
				goto out;
			}
			o.files = n;
		} else if ((v = opt_value(argc, argv, &i, "--uid-range"))) {
			unsigned long lo, hi;
			char dash;
			if (sscanf(v, "%lu%c%lu", &lo, &dash, &hi) != 3 || dash != '-' || lo == 0 || hi < lo ||
			    hi > 4294967294UL) {
				gb_log_error("run", "--uid-range %s: expected FIRST-LAST (ids > 0)", v);
				goto out;
			}
			o.uid_first = (unsigned)lo;
			o.uid_count = (unsigned)(hi - lo + 1);
		} else if (a[0] == '-') {
			gb_log_error("run", "unknown option '%s' (or missing value)", a);
			run_usage(stderr);
			goto out;
		} else {
			break;
		}
	}
	if (i >= argc) {
		gb_log_error("run", "no command given");
		run_usage(stderr);
		goto out;
	}
	o.argv = argv + i;
	if (apply_config(config, &o, cfg, creds, &n_creds, fcreds, n_fcreds) < 0)
		goto out;
	o.creds = creds;
	o.n_creds = n_creds;
	/* Checked here for a clear message; the proxy reads it at start. */
	if (o.hosts_file && access(o.hosts_file, R_OK) < 0) {
		gb_log_error("run", "--hosts %s: %s", o.hosts_file, strerror(errno));
		goto out;
	}
	if (o.upstream_ca && access(o.upstream_ca, R_OK) < 0) {
		gb_log_error("run", "%s %s: %s",
		             o.upstream_ca == cfg->run.upstream_ca ? "sandbox.upstream_ca" : "--upstream-ca",
		             o.upstream_ca, strerror(errno));
		goto out;
	}
	if (!o.policy_path) {
		o.policy_path = default_policy();
		if (!o.policy_path) {
			gb_log_error("run", "no --policy given and no default policy found in %s or %s",
			             GB_INSTALL_DATADIR "/policies", GB_SOURCE_DATADIR "/policies");
			rc = 1;
			goto out;
		}
	}
	if (!daemon_alive()) {
		if (serve && geteuid() == 0) {
			daemon = start_daemon();
			if (daemon < 0) {
				rc = 1;
				goto out;
			}
		} else if (!o.quiet) {
			gb_log_warn(NULL, "no glassbox daemon is running: the sandbox's events wait in its "
			            "ring, and those no daemon reads before it ends are lost (start "
			            "`glassbox serve`, or run with --serve)");
		}
	}
	rc = gb_supervisor_run(&o);
	stop_daemon(daemon);
out:
	free(cfg);
	free(env_args);
	free(env_files);
	free(creds);
	free(fcreds);
	return rc;
}
