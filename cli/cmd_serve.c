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
#include "exporter/config.h"
#include "exporter/serve.h"
#include "common/log.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: glassbox serve [--config FILE] [--journal DIR] [--runtime-dir DIR]\n"
	        "                      [--metrics FILE] [--check-config] [-q|-v]\n"
	        "  Run the host daemon until SIGINT or SIGTERM: find every sandbox's event\n"
	        "  ring, map each record to OCSF 1.8.0, append it to the journal and deliver\n"
	        "  the journal to the configured sinks.\n"
	        "  --config       daemon config (default <root>/etc/glassbox/glassbox.yaml;\n"
	        "                 a missing default file means built-in defaults)\n"
	        "  --journal      journal directory (default <root>/var/lib/glassbox/journal)\n"
	        "  --runtime-dir  where sandboxes appear (default <root>/run/glassbox/sandboxes)\n"
	        "  --metrics      counters as JSON (events, lost, per sink sent/failed/retried/\n"
	        "                 lag), rewritten every 5 s and on SIGUSR1\n"
	        "                 (default <root>/run/glassbox/metrics.json)\n"
	        "  --check-config validate the config, print every error, exit 0 or 1\n"
	        "  -q, --quiet    only errors on stderr (no start/stop lines, no retries)\n"
	        "  -v, --verbose  also debug lines (each ring attached and detached)\n");
}

int cmd_serve(int argc, char **argv)
{
	const char *config = NULL, *journal = NULL, *runtime = NULL, *metrics = NULL;
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
		else {
			gb_log_error("serve", "unknown option '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	struct gb_daemon_config cfg;
	gb_daemon_config_defaults(&cfg, gb_globals.root);
	char defpath[4096];
	snprintf(defpath, sizeof defpath, "%s/etc/glassbox/glassbox.yaml",
	         gb_globals.root ? gb_globals.root : "");
	struct gb_diags d = { 0 };
	int rc = gb_daemon_config_load(&cfg, config ? config : defpath, config != NULL, &d);
	gb_diags_print(&d, stderr);
	gb_diags_free(&d);
	if (rc < 0)
		return 1;
	if (check_only) {
		printf("%s: ok\n", config ? config : defpath);
		return 0;
	}
	if (journal)
		snprintf(cfg.journal_dir, sizeof cfg.journal_dir, "%s", journal);
	if (runtime)
		snprintf(cfg.runtime_dir, sizeof cfg.runtime_dir, "%s", runtime);

	/* Signals are taken synchronously by this thread; the workers inherit
	 * the blocked mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	char mpath[4096];
	if (metrics)
		snprintf(mpath, sizeof mpath, "%s", metrics);
	else
		snprintf(mpath, sizeof mpath, "%s/run/glassbox/metrics.json", gb_globals.root ? gb_globals.root : "");

	struct gb_serve_opts o = { .runtime_dir = cfg.runtime_dir, .journal = cfg.journal,
		                   .sinks = cfg.sinks, .n_sinks = cfg.n_sinks, .cursor_dir = cfg.cursor_dir };
	struct gb_serve *s;
	char err[512];
	if ((rc = gb_serve_start(&o, &s, err, sizeof err)) < 0) {
		gb_log_error("serve", "%s", err);
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
	gb_serve_stop(s);
	gb_log_info("serve", "stopped (%s)", strsignal(sig));
	return 0;
}
