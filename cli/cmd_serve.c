/* cli/cmd_serve.c — `glassbox serve`: the host daemon.  Today it runs the
 * exporter (rings -> OCSF -> journal -> sinks) and keeps a metrics file
 * current; it stops on SIGINT or SIGTERM after draining every ring it is
 * attached to. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "api/api.h"
#include "common/log.h"
#include "common/paths.h"
#include "exporter/config.h"
#include "exporter/serve.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: glassbox serve [--config FILE] [--journal DIR] [--runtime-dir DIR]\n"
	        "                      [--metrics FILE] [--check-config] [-q|-v]\n"
	        "  Run the host daemon until SIGINT or SIGTERM: find every sandbox's event\n"
	        "  ring, map each record to OCSF 1.8.0, append it to the journal and deliver\n"
	        "  the journal to the configured sinks.\n"
	        "  --config       daemon config (default <root>/" GB_REL_CONFIG ";\n"
	        "                 a missing default file means built-in defaults)\n"
	        "  --journal      journal directory (default <root>/" GB_REL_JOURNAL ")\n"
	        "  --runtime-dir  where sandboxes appear: always <root>/" GB_REL_SANDBOXES ",\n"
	        "                 because `glassbox run` finds the daemon from --root alone;\n"
	        "                 accepted only when it names that directory (move it with\n"
	        "                 the global --root)\n"
	        "  --metrics      counters as JSON (events, lost, per sink sent/failed/retried/\n"
	        "                 lag), rewritten every 5 s and on SIGUSR1\n"
	        "                 (default <root>/" GB_REL_RUNTIME "/" GB_METRICS_FILE ")\n"
	        "  --check-config validate the config, print every error, exit 0 or 1\n"
	        "  --api-socket   the REST API's unix socket, root only (default\n"
	        "                 <root>/run/glassbox/api.sock; 'none' = no API)\n"
	        "  --api-listen   also serve the API on HOST:PORT (TCP), bearer token required\n"
	        "  --api-token    file holding that token (mode 0600)\n"
	        "  --api-tls-cert, --api-tls-key  serve the TCP listener over TLS (PEM; key 0600)\n"
	        "  --api-client-ca  with TLS: require a client certificate signed by this CA\n"
	        "  --dashboard-dir the web dashboard's files, served at / (default: as\n"
	        "                 installed, DATADIR/" GB_REL_DASHBOARD "; glassbox dashboard)\n"
	        "  --advisor-auto approve advisor proposals that have no risk finding and a\n"
	        "                 known public address (docs/advisor.md)\n"
	        "  -q, --quiet    only errors on stderr (no start/stop lines, no retries)\n"
	        "  -v, --verbose  also debug lines (each ring attached and detached)\n");
}

/* The sandboxes directory is where supervisors put their rings and, one
 * level up, where they look for serve.lock; they know only --root.  A
 * different directory here would drain nothing and, worse, hold a lock no
 * supervisor sees, so they would stop waiting for the drain at exit.  So
 * the flag and the config key may only restate it. */
static int runtime_mismatch(const char *given, const char *what)
{
	char want[GB_PATH_MAX];
	if (!given || !*given)
		return 0;
	if (gb_path_sandboxes(want, sizeof want, gb_globals.root) == 0 && gb_path_same(given, want))
		return 0;
	gb_log_error("serve", "%s %s: sandboxes are always in %s (glassbox run finds them, and "
	             "serve.lock, from --root alone); to move them use the global --root",
	             what, given, want);
	return 1;
}

int cmd_serve(int argc, char **argv)
{
	const char *config = NULL, *journal = NULL, *runtime = NULL, *metrics = NULL;
	const char *api_socket = NULL, *api_listen = NULL, *api_token = NULL, *dash_dir = NULL;
	const char *api_cert = NULL, *api_key = NULL, *api_ca = NULL;
	int advisor_auto = 0;
	int check_only = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--check-config")) {
			check_only = 1;
			continue;
		}
		/* the global -q/-v, also after the command: a unit file reads
		 * better as `glassbox serve -v` */
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			gb_log_set_level(GB_LOG_ERROR);
			continue;
		}
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			gb_log_set_level(GB_LOG_DEBUG);
			continue;
		}
		if (!strcmp(a, "--advisor-auto")) {
			advisor_auto = 1;
			continue;
		}
		if (!v || a[0] != '-') {
			gb_log_error("serve", "%s: %s", a, v ? "unexpected argument" : "needs a value");
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(a, "--config"))
			config = v;
		else if (!strcmp(a, "--journal"))
			journal = v;
		else if (!strcmp(a, "--runtime-dir"))
			runtime = v;
		else if (!strcmp(a, "--metrics"))
			metrics = v;
		else if (!strcmp(a, "--api-socket"))
			api_socket = v;
		else if (!strcmp(a, "--api-listen"))
			api_listen = v;
		else if (!strcmp(a, "--api-token"))
			api_token = v;
		else if (!strcmp(a, "--api-tls-cert"))
			api_cert = v;
		else if (!strcmp(a, "--api-tls-key"))
			api_key = v;
		else if (!strcmp(a, "--api-client-ca"))
			api_ca = v;
		else if (!strcmp(a, "--dashboard-dir"))
			dash_dir = v;
		else {
			gb_log_error("serve", "unknown option '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	struct gb_daemon_config cfg;
	gb_daemon_config_defaults(&cfg, gb_globals.root);
	char defpath[GB_PATH_MAX];
	if (gb_path_config(defpath, sizeof defpath, gb_globals.root) < 0) {
		gb_log_error("serve", "--root %s: %s", gb_globals.root ? gb_globals.root : "/",
		             strerror(ENAMETOOLONG));
		return 2;
	}
	struct gb_diags d = { 0 };
	cfg.probe_sinks = check_only; /* a sink down now is retried at runtime */
	int rc = gb_daemon_config_load(&cfg, config ? config : defpath, config != NULL, &d);
	gb_diags_print(&d, stderr);
	gb_diags_free(&d);
	if (rc < 0)
		return 1;
	if (runtime_mismatch(runtime, "--runtime-dir") ||
	    runtime_mismatch(cfg.runtime_dir, "runtime_dir (config)"))
		return 2;
	if (check_only) {
		printf("%s: ok\n", config ? config : defpath);
		return 0;
	}
	if (journal)
		snprintf(cfg.journal_dir, sizeof cfg.journal_dir, "%s", journal);
	gb_path_sandboxes(cfg.runtime_dir, sizeof cfg.runtime_dir, gb_globals.root);

	/* Signals are taken synchronously by this thread; the workers inherit
	 * the blocked mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	char mpath[GB_PATH_MAX];
	if (metrics)
		snprintf(mpath, sizeof mpath, "%s", metrics);
	else
		gb_path_metrics(mpath, sizeof mpath, gb_globals.root);

	struct gb_serve_opts o = { .root = gb_globals.root, .journal = cfg.journal,
		                   .sinks = cfg.sinks, .n_sinks = cfg.n_sinks, .cursor_dir = cfg.cursor_dir,
		                   .checkpoint_interval_s = cfg.checkpoint_interval_s };
	struct gb_serve *s;
	char err[512];
	if ((rc = gb_serve_start(&o, &s, err, sizeof err)) < 0) {
		gb_log_error("serve", "%s", err);
		return 1;
	}
	struct gb_api_opts ao = { .root = gb_globals.root, .journal_dir = cfg.journal_dir,
		                  .runtime_dir = cfg.runtime_dir, .tcp_listen = api_listen,
		                  .token_file = api_token, .tls_cert_file = api_cert,
		                  .tls_key_file = api_key, .client_ca_file = api_ca, .serve = s,
		                  .advisor_auto = advisor_auto, .dashboard_dir = dash_dir,
		                  .unix_path = api_socket && !strcmp(api_socket, "none") ? "" : api_socket };
	struct gb_api *api = NULL;
	if ((rc = gb_api_start(&ao, &api, err, sizeof err)) < 0) {
		gb_log_error("serve", "%s", err);
		gb_serve_stop(s);
		return 1;
	}
	gb_log_info("serve", "watching %s, journal %s", cfg.runtime_dir, cfg.journal_dir);
	int sig = 0, mrc = 0;
	for (;;) {
		int wrc = gb_serve_metrics_write(s, mpath);
		if (wrc < 0 && wrc != mrc) /* said once per kind of failure */
			gb_log_warn("serve", "writing %s: %s", mpath, strerror(-wrc));
		mrc = wrc;
		struct timespec every = { 5, 0 };
		sig = sigtimedwait(&set, NULL, &every);
		if (sig == SIGINT || sig == SIGTERM)
			break;
	}
	struct gb_sink_metrics m[GB_MAX_SINKS];
	size_t nm = gb_serve_sink_metrics(s, m, GB_MAX_SINKS);
	for (size_t i = 0; i < nm; i++)
		gb_log_info("serve", "sink %s: sent %llu, failed %llu, retried %llu, %llu segments (%llu bytes) behind",
		            m[i].name, (unsigned long long)m[i].sent, (unsigned long long)m[i].failed,
		            (unsigned long long)m[i].retried, (unsigned long long)m[i].lag_segments,
		            (unsigned long long)m[i].lag_bytes);
	gb_api_stop(api);
	gb_serve_stop(s);
	gb_log_info("serve", "stopped (%s)", strsignal(sig));
	return 0;
}
